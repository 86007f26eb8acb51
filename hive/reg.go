package hive

// Regedit (.reg) text: export and import.
//
// The format is documented only informally (Microsoft KB310516, "How to
// add, modify, or delete registry subkeys and values by using a .reg
// file"). The details below follow what Windows' regedit and reg.exe
// write and accept, as pinned down by Wine's conformance tests of both
// programs (programs/reg/tests/export.c and programs/regedit/tests, whose
// expectations are checked against Windows), and what hivexregedit
// (libwin-hivex-perl) writes and reads; where we choose differently the
// comment says so and why.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The header lines of the two .reg formats. Windows compares them exactly
// (case included) after leading blanks.
const (
	regHeader5 = "Windows Registry Editor Version 5.00"
	regHeader4 = "REGEDIT4"
)

// regWrapColumn is where regedit wraps hex data: after writing "xx," it
// breaks the line ("\" CRLF, then two spaces) once the line holds this
// many characters or more, the "\" making the 78th. A continuation line
// thus carries 25 bytes and the first line what is left after the value
// name and "hex(N):". (Wine's regedit and reg.exe use the same count;
// their tests compare it with Windows' output byte for byte.)
const regWrapColumn = 77

// regDigits are the hex digits regedit writes: lower case.
const regDigits = "0123456789abcdef"

// Limits Windows sets ("Registry element size limits"): key names of 255
// characters, value names of 16383, keys nested 512 deep.
const (
	regMaxKeyName   = 255
	regMaxValueName = 16383
	regMaxDepth     = 512
)

// regFlushSize is how much output Export buffers before writing.
const regFlushSize = 64 << 10

// ExportOptions tunes [Export]. The zero value (or nil) writes what
// regedit writes: UTF-16LE with a byte-order mark, CRLF line ends.
type ExportOptions struct {
	// Prefix is written before every key path, e.g.
	// `HKEY_LOCAL_MACHINE\SYSTEM`. Without one, key paths start with a
	// backslash (`[\ControlSet001]`), as hivexregedit writes them, and
	// [Import] reads them back relative to the root.
	Prefix string
	// UTF8 writes UTF-8 without a byte-order mark instead of UTF-16LE.
	UTF8 bool
}

// Export writes key k and every key under it as .reg text in the regedit 5
// format ("Windows Registry Editor Version 5.00"), parents before
// children, subkeys in the hive's (sorted) order and values in the order
// of each key's value list, as regedit does. path is k's path in the
// hive, written after opts.Prefix (for the root key: "").
//
// Values are written the way regedit writes them, with one exception
// chosen so that [Import] gives back exactly the same bytes:
//
//   - REG_SZ as "text" (with \\ and \" escaped) only when its data is
//     well-formed UTF-16 that ends in one NUL and holds no other NUL, CR or
//     LF. Anything else — no terminator, an embedded NUL, an odd length,
//     an unpaired surrogate, no data at all, line breaks — is written as
//     hex(1): with the raw bytes. (regedit writes "" for empty data and
//     cuts a string at its first NUL, losing the rest.)
//   - REG_DWORD of exactly 4 bytes as dword:xxxxxxxx, any other size as
//     hex(4):.
//   - REG_BINARY as hex:, every other type (REG_EXPAND_SZ, REG_MULTI_SZ,
//     REG_QWORD, REG_NONE, and numbers above 11 such as SAM's 0x1f4) as
//     hex(N): with N in lower-case hexadecimal.
//
// Hex data wraps as regedit wraps it (see regWrapColumn). Value names
// escape \ and " as regedit does, and CR and LF as \r and \n as Wine's
// regedit does (Windows documents no escape for them). A key name that a .reg
// file cannot carry — one holding a backslash, a line break or nothing —
// and a value name holding a NUL fail the export with an error matching
// [ErrUnsupported]; a read error of the hive fails it too. The output up
// to the failing key may have been written.
func Export(w io.Writer, k Key, path string, opts *ExportOptions) error {
	var o ExportOptions
	if opts != nil {
		o = *opts
	}
	out := &regWriter{w: w, utf8: o.UTF8}
	if !o.UTF8 {
		out.buf = append(out.buf, 0xFF, 0xFE)
	}
	out.text(regHeader5 + "\r\n")
	base := regExportBase(o.Prefix, path)
	err := k.Walk(func(rel string, key Key) error {
		name := base
		if rel != "" {
			if kn := key.Name(); kn == "" || strings.ContainsAny(kn, "\\\r\n") {
				return fmt.Errorf("%w: export: key name %q at %s: a .reg file cannot carry a key name that is empty or holds a backslash or a line break",
					ErrUnsupported, kn, regExportJoin(base, rel))
			}
			name = regExportJoin(base, rel)
		}
		out.text("\r\n[")
		out.text(name)
		out.text("]\r\n")
		vals, err := key.Values()
		if err != nil {
			return fmt.Errorf("hive: export %s: %w", name, err)
		}
		for _, v := range vals {
			data, err := v.Data()
			if err != nil {
				return fmt.Errorf("hive: export %s: %w", name, err)
			}
			vname := v.Name()
			if strings.IndexByte(vname, 0) >= 0 {
				return fmt.Errorf("%w: export %s: value name %q holds a NUL, which a .reg file cannot carry", ErrUnsupported, name, vname)
			}
			out.value(vname, v.Type(), data)
		}
		if len(out.buf) >= regFlushSize {
			return out.flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	out.text("\r\n")
	return out.flush()
}

// regExportBase returns the name Export writes for its starting key.
func regExportBase(prefix, path string) string {
	prefix = strings.TrimRight(prefix, `\`)
	path = strings.Trim(path, `\`)
	switch {
	case prefix == "":
		return `\` + path
	case path == "":
		return prefix
	}
	return prefix + `\` + path
}

// regExportJoin appends a relative key path to Export's base name.
func regExportJoin(base, rel string) string {
	if strings.HasSuffix(base, `\`) {
		return base + rel
	}
	return base + `\` + rel
}

// regWriter buffers .reg output, encoded as UTF-8 or UTF-16LE.
type regWriter struct {
	w    io.Writer
	utf8 bool
	buf  []byte
}

func (o *regWriter) flush() error {
	if len(o.buf) == 0 {
		return nil
	}
	_, err := o.w.Write(o.buf)
	o.buf = o.buf[:0]
	return err
}

// text appends s, encoded.
func (o *regWriter) text(s string) {
	if o.utf8 {
		o.buf = append(o.buf, s...)
		return
	}
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			o.buf = append(o.buf, c, 0)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			o.buf = binary.LittleEndian.AppendUint16(o.buf, uint16(r1))
			o.buf = binary.LittleEndian.AppendUint16(o.buf, uint16(r2))
			continue
		}
		o.buf = binary.LittleEndian.AppendUint16(o.buf, uint16(r))
	}
}

// ascii appends one ASCII character, encoded.
func (o *regWriter) ascii(c byte) {
	if o.utf8 {
		o.buf = append(o.buf, c)
	} else {
		o.buf = append(o.buf, c, 0)
	}
}

// value appends one value line (with its continuation lines) and its CRLF.
func (o *regWriter) value(name string, typ ValueType, data []byte) {
	width := 2 // "@="
	if name == "" {
		o.text("@=")
	} else {
		esc, n := regEscape(name)
		o.ascii('"')
		o.text(esc)
		o.text(`"=`)
		width = n + 3
	}
	switch {
	case typ == String && regQuotable(data):
		o.ascii('"')
		o.quoted(data[:len(data)-2])
		o.text("\"\r\n")
		return
	case typ == DWord && len(data) == 4:
		o.text("dword:")
		v := binary.LittleEndian.Uint32(data)
		for shift := 28; shift >= 0; shift -= 4 {
			o.ascii(regDigits[v>>shift&15])
		}
		o.text("\r\n")
		return
	}
	prefix := "hex:"
	if typ != Binary {
		prefix = "hex(" + strconv.FormatUint(uint64(typ), 16) + "):"
	}
	o.text(prefix)
	width += len(prefix)
	o.buf = slices.Grow(o.buf, 6*len(data)+10*(len(data)/25)+8)
	for i, b := range data {
		hi, lo := regDigits[b>>4], regDigits[b&15]
		last := i == len(data)-1
		switch {
		case o.utf8 && last:
			o.buf = append(o.buf, hi, lo)
		case o.utf8:
			o.buf = append(o.buf, hi, lo, ',')
		case last:
			o.buf = append(o.buf, hi, 0, lo, 0)
		default:
			o.buf = append(o.buf, hi, 0, lo, 0, ',', 0)
		}
		if last {
			break
		}
		width += 3
		if width >= regWrapColumn {
			o.text("\\\r\n  ")
			width = 2
		}
	}
	o.text("\r\n")
}

// quoted appends UTF-16LE text that regQuotable accepted, escaping
// backslashes and double quotes.
func (o *regWriter) quoted(u []byte) {
	for i := 0; i < len(u); i += 2 {
		c := rune(binary.LittleEndian.Uint16(u[i:]))
		if c == '\\' || c == '"' {
			o.ascii('\\')
		}
		switch {
		case !o.utf8:
			o.buf = append(o.buf, u[i], u[i+1])
		case c < utf8.RuneSelf:
			o.buf = append(o.buf, byte(c))
		case utf16.IsSurrogate(c):
			c = utf16.DecodeRune(c, rune(binary.LittleEndian.Uint16(u[i+2:])))
			o.buf = utf8.AppendRune(o.buf, c)
			i += 2
		default:
			o.buf = utf8.AppendRune(o.buf, c)
		}
	}
}

// regEscape escapes a value name for a quoted .reg string and returns it
// with its length in UTF-16 units, the unit regedit counts columns in.
// Backslash and double quote are escaped as regedit does, CR and LF as
// Wine's regedit does.
func regEscape(s string) (string, int) {
	n := 0
	plain := true
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
		if r == '\\' || r == '"' || r == '\r' || r == '\n' {
			plain = false
		}
	}
	if plain {
		return s, n
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch r {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteRune(r)
			n++
		case '\r':
			b.WriteString(`\r`)
			n++
		case '\n':
			b.WriteString(`\n`)
			n++
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), n
}

// regQuotable reports whether REG_SZ data written as "text" reads back as
// the same bytes: UTF-16LE without unpaired surrogates, ending in exactly
// one NUL, without CR or LF.
func regQuotable(data []byte) bool {
	n := len(data)
	if n < 2 || n%2 != 0 || data[n-2] != 0 || data[n-1] != 0 {
		return false
	}
	for i := 0; i < n-2; i += 2 {
		switch c := binary.LittleEndian.Uint16(data[i:]); {
		case c == 0 || c == '\r' || c == '\n':
			return false
		case c >= 0xD800 && c < 0xDC00:
			if i+2 >= n-2 {
				return false
			}
			if d := binary.LittleEndian.Uint16(data[i+2:]); d < 0xDC00 || d >= 0xE000 {
				return false
			}
			i += 2
		case c >= 0xDC00 && c < 0xE000:
			return false
		}
	}
	return true
}

// SyntaxError reports .reg text that [Import] cannot read, or a key path
// it cannot map onto the hive, and the line (1-based) where it is.
type SyntaxError struct {
	Line int    // 1-based line number
	Msg  string // what is wrong
}

// Error returns "hive: .reg line N: " and the message.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("hive: .reg line %d: %s", e.Line, e.Msg)
}

// ImportOptions tunes [Import].
type ImportOptions struct {
	// Prefix is removed from the start of every key path (compared
	// without regard to case; HKLM, HKCU and HKU match their long forms);
	// a key not under it is an error. Without one, the prefix is the
	// leading root of the first key's path: HKEY_LOCAL_MACHINE\<hive>,
	// HKEY_USERS\<name>, HKEY_CURRENT_USER or their short forms HKLM, HKU,
	// HKCU — or nothing, when that path starts with a backslash, as
	// hivexregedit writes paths without --prefix. Every later key must
	// then be under the same prefix.
	Prefix string
	// Route, when set, decides where each key goes, for .reg text that
	// spans several hives (a Windows install's SYSTEM and SOFTWARE). It
	// gets each key path whole, as the file spells it without its leading
	// "-" but with a short root key in its long form (HKLM\SYSTEM\Setup
	// is "HKEY_LOCAL_MACHINE\SYSTEM\Setup"), and returns the keys it
	// stands for: one, or several when the key must change in each
	// (CurrentControlSet in both the current and the default control
	// set). Prefix and Import's hive are then not used. Route is called
	// for every key line in a first pass that changes nothing, so an
	// error it returns stops the import before any change.
	Route func(key string) ([]Target, error)
}

// Target is a key that a routed .reg key stands for: a hive and the
// key's path from its root.
type Target struct {
	Hive *Hive
	Path string
}

// ImportStats counts what [Import] changed.
type ImportStats struct {
	KeysCreated   int // keys created, missing parents included
	KeysDeleted   int // keys removed by [-KEY] lines, subkeys included
	ValuesSet     int // values created or replaced
	ValuesDeleted int // values removed by "name"=- lines
}

// Import merges .reg text into h as regedit does: a [KEY] line creates the
// key and any missing parents, a value line creates or replaces the value,
// "name"=- and @=- delete a value and [-KEY] deletes a key with everything
// under it; deleting what does not exist is not an error, as with regedit.
//
// The text may be UTF-16LE with a byte-order mark (what regedit writes) or
// UTF-8 with or without one; a line that is not valid UTF-8 is read as
// Windows-1252, the "ANSI" code page of REGEDIT4 files. Lines end in CRLF,
// LF or CR. The first line must be "Windows Registry Editor Version 5.00"
// or "REGEDIT4". Then come blank lines, comment lines (";"), key lines
// (a path ends at the line's last "]", so that key names may hold "]")
// and value lines, as regedit reads them: "name"= or @= (blanks allowed
// around "="), then "text" (escapes \\ and \", and \r and \n as Wine
// reads them), dword: with 1 to 8 hex digits, hex: (REG_BINARY) or
// hex(N): (any type up to ffffffff) with comma-separated bytes that may go
// on over lines ending in a backslash, and an optional ";" comment. The
// hex bytes of every type are kept exactly, in both formats, with one
// exception: as regedit does, in a REGEDIT4 file the bytes of hex(1),
// hex(2) and hex(7) are ANSI (Windows-1252) text, NUL-terminated if they
// are not, and are stored as UTF-16LE. (regedit also adds a missing
// terminator to such data in version 5 files; Import does not, so that
// what [Export] writes comes back byte for byte, and hivexregedit does
// not either.)
//
// Where regedit silently skips a line it cannot read, Import rejects the
// whole file: a malformed line, a value line outside a key, an unknown
// escape, a key path not under the prefix, a key name longer than 255
// characters, keys nested deeper than 512 levels or a value name longer
// than 16383 characters is a [*SyntaxError] with its line number, found
// before h is changed. An error of h itself (read-only, corrupt) stops the
// import where it happened, with the changes so far made.
func Import(h *Hive, r io.Reader, opts *ImportOptions) (ImportStats, error) {
	var st ImportStats
	if h == nil && (opts == nil || opts.Route == nil) {
		return st, errors.New("hive: Import into a nil hive")
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return st, fmt.Errorf("hive: read .reg text: %w", err)
	}
	var o ImportOptions
	if opts != nil {
		o = *opts
	}
	text, err := regDecode(b)
	if err != nil {
		return st, err
	}
	prefix := o.Prefix
	if o.Route != nil {
		prefix = regWhole
	}
	// The first pass only checks, so that a syntax error changes nothing.
	check := func(op *regOp) error {
		if o.Route == nil || op.kind == regOpSetValue || op.kind == regOpDeleteValue {
			return nil
		}
		_, err := routeOp(o.Route, op)
		return err
	}
	if err := regParse(text, prefix, check); err != nil {
		return st, err
	}
	a := &regApplier{route: o.Route}
	if o.Route == nil {
		a.route = func(key string) ([]Target, error) { return []Target{{Hive: h, Path: key}}, nil }
	}
	err = regParse(text, prefix, a.apply)
	return a.st, err
}

// regWhole is the prefix that keeps key paths whole, for routed imports.
const regWhole = "\x00whole"

// routeOp asks route where op's key goes.
func routeOp(route func(string) ([]Target, error), op *regOp) ([]Target, error) {
	parts := op.path
	if len(parts) > 0 { // empty: unrouted, the prefix's own key
		if r, ok := regRoots[strings.ToUpper(parts[0])]; ok && r.long != parts[0] {
			parts = append([]string{r.long}, parts[1:]...)
		}
	}
	key := strings.Join(parts, `\`)
	ts, err := route(key)
	if err == nil && len(ts) == 0 {
		err = errors.New("no hive holds it")
	}
	if err != nil {
		return nil, &SyntaxError{Line: op.line, Msg: fmt.Sprintf("key %q: %v", regClip(key), err)}
	}
	return ts, nil
}

// regDecode turns .reg file bytes into text: UTF-16LE after its
// byte-order mark, else UTF-8 (its byte-order mark dropped) with the lines
// that are not valid UTF-8 decoded later, as Windows-1252.
func regDecode(b []byte) (string, error) {
	switch {
	case len(b) >= 2 && b[0] == 0xFF && b[1] == 0xFE:
		b = b[2:]
		if len(b)%2 != 0 {
			line := 1
			for i := 0; i+1 < len(b); i += 2 {
				if b[i] == '\n' && b[i+1] == 0 {
					line++
				}
			}
			return "", &SyntaxError{Line: line, Msg: "UTF-16 text of an odd number of bytes"}
		}
		out := make([]byte, 0, len(b)+len(b)/2)
		for i := 0; i < len(b); i += 2 {
			c := rune(binary.LittleEndian.Uint16(b[i:]))
			if c < utf8.RuneSelf {
				out = append(out, byte(c))
				continue
			}
			if utf16.IsSurrogate(c) && i+3 < len(b) {
				if r := utf16.DecodeRune(c, rune(binary.LittleEndian.Uint16(b[i+2:]))); r != utf8.RuneError {
					out = utf8.AppendRune(out, r)
					i += 2
					continue
				}
			}
			out = utf8.AppendRune(out, c) // an unpaired surrogate becomes U+FFFD
		}
		return string(out), nil
	case len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF:
		b = b[3:]
	case len(b) >= 2 && b[0] == 0xFE && b[1] == 0xFF:
		return "", &SyntaxError{Line: 1, Msg: "UTF-16BE text: not supported (regedit writes UTF-16LE)"}
	}
	return string(b), nil
}

// regCP1252 maps the bytes 0x80-0x9F of Windows-1252 to Unicode; the
// others are Latin-1 (and the five unassigned ones map to themselves, as
// Windows maps them).
var regCP1252 = [32]rune{
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
}

func regANSIRune(c byte) rune {
	if c >= 0x80 && c < 0xA0 {
		return regCP1252[c-0x80]
	}
	return rune(c)
}

// regFromANSI decodes Windows-1252 text.
func regFromANSI(s string) string {
	b := make([]byte, 0, len(s)*2)
	for i := 0; i < len(s); i++ {
		b = utf8.AppendRune(b, regANSIRune(s[i]))
	}
	return string(b)
}

// regANSIToUTF16 converts the hex data of a string type in a REGEDIT4
// file, ANSI text, to UTF-16LE, adding a NUL terminator if it lacks one
// as regedit does.
func regANSIToUTF16(b []byte) []byte {
	if len(b) == 0 {
		return b
	}
	n := len(b)
	if b[n-1] != 0 {
		n++
	}
	out := make([]byte, 0, 2*n)
	for _, c := range b {
		r := regANSIRune(c)
		out = binary.LittleEndian.AppendUint16(out, uint16(r))
	}
	if n > len(b) {
		out = append(out, 0, 0)
	}
	return out
}

// regLines splits text into lines at CRLF, LF or a lone CR.
type regLines struct {
	text    string
	pos     int
	n       int  // number of the line last returned
	lf      int  // index of the next LF at or after pos, -1 if none
	lfKnown bool // lf is valid
}

func (l *regLines) next() (string, bool) {
	if l.pos >= len(l.text) {
		return "", false
	}
	// The next LF is remembered, so that text whose lines end in CR
	// alone is not searched to its end for every line.
	if !l.lfKnown || (l.lf >= 0 && l.lf < l.pos) {
		l.lf = strings.IndexByte(l.text[l.pos:], '\n')
		if l.lf >= 0 {
			l.lf += l.pos
		}
		l.lfKnown = true
	}
	end, next := len(l.text), len(l.text)
	if l.lf >= 0 {
		end, next = l.lf, l.lf+1
	}
	line := l.text[l.pos:end]
	if j := strings.IndexByte(line, '\r'); j >= 0 {
		if j != len(line)-1 || l.lf < 0 {
			next = l.pos + j + 1 // a lone CR ends the line
		}
		line = line[:j]
	}
	l.pos = next
	l.n++
	if !utf8.ValidString(line) {
		line = regFromANSI(line)
	}
	return line, true
}

// regOpKind is what one .reg line asks for.
type regOpKind int

const (
	regOpKey         regOpKind = iota // [KEY]: create or open
	regOpDeleteKey                    // [-KEY]
	regOpSetValue                     // "name"=data
	regOpDeleteValue                  // "name"=-
)

// regOp is one change read from .reg text.
type regOp struct {
	kind regOpKind
	line int
	path []string // key path below the prefix (regOpKey, regOpDeleteKey)
	name string   // value name, "" for the default value
	typ  ValueType
	data []byte
}

// regParser reads .reg text, calling emit with each change.
type regParser struct {
	lines     regLines
	v4        bool     // REGEDIT4: string-typed hex data is ANSI
	prefix    []string // leading path components removed from key paths
	rooted    bool     // key paths start with a backslash (no root)
	prefixSet bool
	whole     bool // keep key paths whole: a routed import
	haveKey   bool // a [KEY] line is open for values
	emit      func(*regOp) error
	op        regOp // the change being read; emit must not keep its slices
}

// regParse reads .reg text; prefix is ImportOptions.Prefix. The *regOp
// passed to emit and its data are reused for the next change.
func regParse(text, prefix string, emit func(*regOp) error) error {
	p := &regParser{lines: regLines{text: text}, emit: emit}
	if prefix == regWhole {
		p.whole, p.prefixSet = true, true
	} else if prefix != "" {
		p.rooted = strings.HasPrefix(prefix, `\`)
		p.prefix = splitPath(prefix)
		p.prefixSet = true
	}
	hdr, _ := p.lines.next()
	p.lines.n = 1
	switch regTrim(hdr) {
	case regHeader5:
	case regHeader4:
		p.v4 = true
	case "REGEDIT":
		return p.errorf("a Windows 3.1 REGEDIT file: not supported")
	default:
		return p.errorf("want the header %q or %q, found %q", regHeader5, regHeader4, regClip(hdr))
	}
	for {
		line, ok := p.lines.next()
		if !ok {
			return nil
		}
		s := regTrim(line)
		var err error
		switch {
		case s == "" || s[0] == ';':
			continue
		case s[0] == '[':
			err = p.key(s)
		case s[0] == '@':
			err = p.value("", s[1:])
		case s[0] == '"':
			name, rest, qerr := p.quoted(s[1:], "value name")
			if qerr != nil {
				return qerr
			}
			if n := regUnits(name); n > regMaxValueName {
				return p.errorf("value name of %d characters: the most is %d", n, regMaxValueName)
			}
			err = p.value(name, rest)
		default:
			return p.errorf("want a [key], a value, a comment or a blank line, found %q", regClip(s))
		}
		if err != nil {
			return err
		}
	}
}

func (p *regParser) errorf(format string, args ...any) error {
	return &SyntaxError{Line: p.lines.n, Msg: fmt.Sprintf(format, args...)}
}

// regClip shortens text quoted in an error message.
func regClip(s string) string {
	if len(s) > 60 {
		i := 57
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		return s[:i] + "..."
	}
	return s
}

// regUnits returns the length of s in UTF-16 code units.
func regUnits(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// key reads a [KEY] or [-KEY] line (trimmed). The path ends at the line's
// last "]", as regedit reads it, so that key names may hold "]".
func (p *regParser) key(s string) error {
	end := strings.LastIndexByte(s, ']')
	if end < 0 {
		return p.errorf("key line without a closing ]: %q", regClip(s))
	}
	if rest := regTrimLeft(s[end+1:]); rest != "" && rest[0] != ';' {
		return p.errorf("text after the key's closing ]: %q", regClip(rest))
	}
	path := s[1:end]
	del := strings.HasPrefix(path, "-")
	if del {
		path = path[1:]
	}
	if path == "" {
		return p.errorf("empty key path")
	}
	if path[0] == ' ' || path[0] == '\t' {
		return p.errorf("key path starting with a blank: %q", regClip(path))
	}
	parts, err := p.resolve(path)
	if err != nil {
		return err
	}
	op := &p.op
	*op = regOp{kind: regOpKey, line: p.lines.n, path: parts, data: op.data[:0]}
	p.haveKey = !del
	if del {
		if len(parts) == 0 {
			return p.errorf("[-%s] would delete the hive's root key", regClip(path))
		}
		op.kind = regOpDeleteKey
	}
	return p.emit(op)
}

// regRoots maps the names of the predefined keys that lead .reg paths to
// the number of components that name a hive (HKLM\SOFTWARE: 2) and to
// their long form.
var regRoots = map[string]struct {
	depth int
	long  string
}{
	"HKEY_LOCAL_MACHINE": {2, "HKEY_LOCAL_MACHINE"},
	"HKLM":               {2, "HKEY_LOCAL_MACHINE"},
	"HKEY_USERS":         {2, "HKEY_USERS"},
	"HKU":                {2, "HKEY_USERS"},
	"HKEY_CURRENT_USER":  {1, "HKEY_CURRENT_USER"},
	"HKCU":               {1, "HKEY_CURRENT_USER"},
}

// regSameComponent compares path components as the prefix rule does:
// without regard to case, the short forms of roots equal to their long.
func regSameComponent(a, b string, first bool) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	if !first {
		return false
	}
	ra, oka := regRoots[strings.ToUpper(a)]
	rb, okb := regRoots[strings.ToUpper(b)]
	return oka && okb && ra.long == rb.long
}

// resolve maps a key path to its components below the prefix, setting
// the prefix from the first path when ImportOptions gave none.
func (p *regParser) resolve(path string) ([]string, error) {
	rooted := path[0] == '\\'
	parts := strings.Split(path, `\`)
	if rooted {
		parts = parts[1:]
	}
	if n := len(parts); n > 0 && parts[n-1] == "" {
		parts = parts[:n-1] // hivexregedit writes the root as [PREFIX\]
	}
	for _, c := range parts {
		if c == "" {
			return nil, p.errorf("empty key name in %q", regClip(path))
		}
	}
	if p.whole {
		if rooted || len(parts) == 0 {
			return nil, p.errorf(`key path %q does not start with a root key such as HKEY_LOCAL_MACHINE`, regClip(path))
		}
	} else if !p.prefixSet {
		if !rooted {
			root, ok := regRoots[strings.ToUpper(parts[0])]
			if !ok {
				return nil, p.errorf(`key path %q does not start with HKEY_LOCAL_MACHINE\<hive>, HKEY_USERS\<name>, HKEY_CURRENT_USER or a short form of them: give the prefix to remove`, regClip(path))
			}
			if len(parts) < root.depth {
				return nil, p.errorf("key path %q names a root of the registry, not a key of a hive", regClip(path))
			}
			p.prefix = append([]string(nil), parts[:root.depth]...)
		}
		p.rooted = rooted
		p.prefixSet = true
	}
	under := p.whole || rooted == p.rooted && len(parts) >= len(p.prefix)
	for i := 0; under && i < len(p.prefix); i++ {
		under = regSameComponent(parts[i], p.prefix[i], i == 0)
	}
	if !under {
		want := strings.Join(p.prefix, `\`)
		if p.rooted {
			want = `\` + want
		}
		return nil, p.errorf("key %q is not under the prefix %q", regClip(path), want)
	}
	rest := parts[len(p.prefix):]
	if len(rest) > regMaxDepth {
		return nil, p.errorf("key path %d levels deep: the most is %d", len(rest), regMaxDepth)
	}
	for _, c := range rest {
		if n := regUnits(c); n > regMaxKeyName {
			return nil, p.errorf("key name of %d characters: the most is %d", n, regMaxKeyName)
		}
	}
	return rest, nil
}

// quoted reads a quoted string whose opening quote is already consumed
// and returns it unescaped with the text after its closing quote.
func (p *regParser) quoted(s, what string) (string, string, error) {
	i := 0
	for i < len(s) && s[i] != '"' && s[i] != '\\' {
		i++
	}
	if i < len(s) && s[i] == '"' {
		return s[:i], s[i+1:], nil
	}
	var b strings.Builder
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			if i+1 == len(s) {
				return "", "", p.errorf("unterminated %s (it ends in a backslash; strings do not go on over lines)", what)
			}
			i++
			switch e := s[i]; e {
			case '\\', '"':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			default:
				r, _ := utf8.DecodeRuneInString(s[i:])
				return "", "", p.errorf(`unknown escape \%c in %s (a backslash is written \\)`, r, what)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", p.errorf("unterminated %s: no closing quote", what)
}

// regTrimLeft removes leading blanks (spaces and tabs).
func regTrimLeft(s string) string {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return s[i:]
}

// regTrim removes leading and trailing blanks.
func regTrim(s string) string {
	s = regTrimLeft(s)
	i := len(s)
	for i > 0 && (s[i-1] == ' ' || s[i-1] == '\t') {
		i--
	}
	return s[:i]
}

// regHexValue returns the value of up to 8 hex digits.
func regHexValue(s string) uint32 {
	var v uint32
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= '9':
			c -= '0'
		case c >= 'a':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		v = v<<4 | uint32(c)
	}
	return v
}

// regAppendUTF16 appends s as NUL-terminated UTF-16LE: REG_SZ data.
func regAppendUTF16(b []byte, s string) []byte {
	b = slices.Grow(b, 2*len(s)+2)
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			b = binary.LittleEndian.AppendUint16(b, uint16(r1))
			r = r2
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(r))
	}
	return append(b, 0, 0)
}

// regEndOK reports whether what follows data on a line is nothing or a
// comment.
func regEndOK(s string) bool {
	s = regTrimLeft(s)
	return s == "" || s[0] == ';'
}

func regIsHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// regHexDigits returns how many hex digits s starts with.
func regHexDigits(s string) int {
	i := 0
	for i < len(s) && regIsHex(s[i]) {
		i++
	}
	return i
}

// value reads a value line after its name: "=" and the data.
func (p *regParser) value(name, s string) error {
	if !p.haveKey {
		return p.errorf("value line outside a key: a [KEY] line must come first")
	}
	s = regTrimLeft(s)
	if s == "" || s[0] != '=' {
		return p.errorf("want = after the value name, found %q", regClip(s))
	}
	s = regTrimLeft(s[1:])
	op := &p.op
	*op = regOp{kind: regOpSetValue, line: p.lines.n, name: name, data: op.data[:0]}
	switch {
	case s == "":
		return p.errorf("no data after =")
	case s[0] == '-':
		if !regEndOK(s[1:]) {
			return p.errorf("text after =-: %q", regClip(s))
		}
		op.kind = regOpDeleteValue
	case s[0] == '"':
		text, rest, err := p.quoted(s[1:], "string")
		if err != nil {
			return err
		}
		if !regEndOK(rest) {
			return p.errorf("text after the closing quote: %q", regClip(rest))
		}
		op.typ, op.data = String, regAppendUTF16(op.data, text)
	case strings.HasPrefix(s, "dword:"):
		t := regTrimLeft(s[len("dword:"):])
		n := regHexDigits(t)
		if n == 0 || n > 8 || !regEndOK(t[n:]) {
			return p.errorf("dword: wants 1 to 8 hex digits, found %q", regClip(t))
		}
		op.typ, op.data = DWord, binary.LittleEndian.AppendUint32(op.data, uint32(regHexValue(t[:n])))
	case strings.HasPrefix(s, "hex:"):
		op.typ = Binary
		data, err := p.hex(s[len("hex:"):], op.data)
		if err != nil {
			return err
		}
		op.data = data
	case strings.HasPrefix(s, "hex("):
		t := s[len("hex("):]
		n := regHexDigits(t)
		if n == 0 || n > 8 || !strings.HasPrefix(t[n:], "):") {
			return p.errorf("hex(N): wants N of 1 to 8 hex digits, found %q", regClip(s))
		}
		op.typ = ValueType(regHexValue(t[:n]))
		data, err := p.hex(t[n+2:], op.data)
		if err != nil {
			return err
		}
		op.data = data
		if p.v4 && (op.typ == String || op.typ == ExpandString || op.typ == MultiString) {
			op.data = regANSIToUTF16(op.data)
		}
	default:
		return p.errorf(`unknown data %q: want "text", dword:, hex:, hex(N): or -`, regClip(s))
	}
	return p.emit(op)
}

// hex reads comma-separated hex bytes and the continuation lines that
// follow a line ending in a backslash. As with regedit, blank and comment
// lines between them are skipped, a continuation line must start with a
// hex digit, and the end of the text ends the data.
func (p *regParser) hex(s string, data []byte) ([]byte, error) {
	for {
		cont, err := p.hexLine(s, &data)
		if err != nil || !cont {
			return data, err
		}
		for {
			line, ok := p.lines.next()
			if !ok {
				return data, nil
			}
			s = regTrimLeft(line)
			if s == "" || s[0] == ';' {
				continue
			}
			if !regIsHex(s[0]) {
				return nil, p.errorf("continuation line must start with a hex byte, found %q", regClip(s))
			}
			break
		}
	}
}

// hexLine appends the bytes of one line of hex data and reports whether
// it ends in a continuation backslash.
func (p *regParser) hexLine(s string, data *[]byte) (bool, error) {
	afterComma := true // at the start as after a comma: a byte may come
	for i := 0; ; {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i == len(s) || s[i] == ';' {
			return false, nil
		}
		switch c := s[i]; {
		case c == '\\':
			if !afterComma {
				return false, p.errorf("a backslash must follow a comma, found %q", regClip(s[i:]))
			}
			if !regEndOK(s[i+1:]) {
				return false, p.errorf("text after the continuation backslash: %q", regClip(s[i+1:]))
			}
			return true, nil
		case c == ',':
			if afterComma {
				return false, p.errorf("empty hex byte at %q", regClip(s[i:]))
			}
			afterComma = true
			i++
		case regIsHex(c):
			if !afterComma {
				return false, p.errorf("missing comma before %q", regClip(s[i:]))
			}
			n := regHexDigits(s[i:])
			if n > 2 {
				return false, p.errorf("bad hex byte %q", regClip(s[i:i+n]))
			}
			*data = append(*data, byte(regHexValue(s[i:i+n])))
			i += n
			afterComma = false
		default:
			return false, p.errorf("bad hex byte at %q", regClip(s[i:]))
		}
	}
}

// regApplier makes the changes read from .reg text in a hive.
type regApplier struct {
	route func(key string) ([]Target, error)
	cur   []Key // the open key in each of its targets
	st    ImportStats
}

func (a *regApplier) apply(op *regOp) error {
	var err error
	switch op.kind {
	case regOpKey, regOpDeleteKey:
		var ts []Target
		if ts, err = routeOp(a.route, op); err != nil {
			return err
		}
		a.cur = a.cur[:0]
		for _, t := range ts {
			if op.kind == regOpKey {
				var k Key
				if k, err = a.openKey(t); err != nil {
					break
				}
				a.cur = append(a.cur, k)
			} else if err = a.deleteKey(t); err != nil {
				break
			}
		}
	case regOpSetValue:
		for _, k := range a.cur {
			if err = k.SetValue(op.name, op.typ, op.data); err != nil {
				break
			}
			a.st.ValuesSet++
		}
	case regOpDeleteValue:
		for _, k := range a.cur {
			err = k.DeleteValue(op.name)
			if errors.Is(err, ErrNotFound) {
				err = nil
				continue
			}
			if err != nil {
				break
			}
			a.st.ValuesDeleted++
		}
	}
	if err != nil {
		return fmt.Errorf("hive: .reg line %d: %w", op.line, err)
	}
	return nil
}

// openKey opens the key t, creating it and its missing parents.
func (a *regApplier) openKey(t Target) (Key, error) {
	parts := splitPath(t.Path)
	k := t.Hive.Root()
	i := 0
	for ; i < len(parts); i++ {
		sub, err := k.Subkey(parts[i])
		if errors.Is(err, ErrNotFound) {
			break
		}
		if err != nil {
			return Key{}, err
		}
		k = sub
	}
	if i == len(parts) {
		return k, nil
	}
	k, err := t.Hive.CreateKey(strings.Join(parts, `\`))
	if err == nil {
		a.st.KeysCreated += len(parts) - i
	}
	return k, err
}

// deleteKey deletes the key t with everything under it; a missing key is
// not an error.
func (a *regApplier) deleteKey(t Target) error {
	path := strings.Join(splitPath(t.Path), `\`)
	if path == "" {
		return errors.New("deleting a hive's root key")
	}
	k, err := t.Hive.Key(path)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	n := 0
	if err := k.Walk(func(string, Key) error { n++; return nil }); err != nil {
		return err
	}
	if err := t.Hive.DeleteKey(path); err != nil {
		return err
	}
	a.st.KeysDeleted += n
	return nil
}
