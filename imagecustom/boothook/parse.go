package boothook

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Parse reads an action list: one action per line, fields separated by
// spaces or tabs, `#` outside double quotes starts a comment, a field holding
// spaces or `#` in double quotes with `\"` and `\\` inside. It returns the
// actions in canonical form (see [Action]), or a [*SyntaxError] naming the
// first bad line. Keys must lie below HKLM\SYSTEM (CurrentControlSet
// included); every field, the number of actions and the size of the data
// file they make are bounded, so whatever Parse accepts, [Encode] encodes.
func Parse(r io.Reader) ([]Action, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var actions []Action
	size := headerSize + 2*len(DefaultBackup)
	for n := 1; ; n++ {
		line, err := readLine(br)
		if err == errLongLine {
			return nil, &SyntaxError{Line: n, Msg: fmt.Sprintf("longer than %d bytes", MaxLine), Err: ErrTooLarge}
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("boothook: action list line %d: %w", n, err)
		}
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		if len(line) > 0 || err == nil {
			a, ok, perr := parseLine(line)
			if perr != nil {
				perr.Line = n
				return nil, perr
			}
			if ok {
				if len(actions) == MaxActions {
					return nil, &SyntaxError{Line: n, Msg: fmt.Sprintf("more than %d actions", MaxActions), Err: ErrTooLarge}
				}
				size += encodedSize(a)
				if size > MaxFileSize {
					return nil, &SyntaxError{Line: n, Msg: fmt.Sprintf("the data file would exceed %d bytes", MaxFileSize), Err: ErrTooLarge}
				}
				actions = append(actions, a)
			}
		}
		if err == io.EOF {
			return actions, nil
		}
	}
}

var errLongLine = fmt.Errorf("long line")

// readLine returns the next line without its "\n" or "\r\n"; io.EOF comes
// with the last line when the input does not end in a newline.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > MaxLine+2 {
			return nil, errLongLine
		}
		line = append(line, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return line, err
		}
		line = bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
		if len(line) > MaxLine {
			return nil, errLongLine
		}
		return line, nil
	}
}

func syntaxf(format string, args ...any) *SyntaxError {
	return &SyntaxError{Msg: fmt.Sprintf(format, args...), Err: ErrSyntax}
}

// fields splits a line into its fields, dropping the comment.
func fields(line []byte) ([]string, *SyntaxError) {
	if !utf8.Valid(line) {
		return nil, syntaxf("not valid UTF-8")
	}
	s := string(line)
	var out []string
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i == len(s) || s[i] == '#' {
			return out, nil
		}
		var b strings.Builder
		if s[i] == '"' {
			i++
			for {
				if i == len(s) {
					return nil, syntaxf("field %d: unterminated quote", len(out)+1)
				}
				c := s[i]
				if c == '"' {
					i++
					break
				}
				if c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					c = s[i+1]
					i++
				}
				if c < 0x20 || c == 0x7f {
					return nil, syntaxf("field %d: control character 0x%02x", len(out)+1, c)
				}
				b.WriteByte(c)
				i++
			}
			if i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '#' {
				return nil, syntaxf("field %d: text right after the closing quote", len(out)+1)
			}
		} else {
			for i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '#' {
				c := s[i]
				if c == '"' {
					return nil, syntaxf("field %d: a quote inside an unquoted field", len(out)+1)
				}
				if c < 0x20 || c == 0x7f {
					return nil, syntaxf("field %d: control character 0x%02x", len(out)+1, c)
				}
				b.WriteByte(c)
				i++
			}
		}
		out = append(out, b.String())
	}
}

// parseLine parses one line; ok is false for a blank or comment line.
func parseLine(line []byte) (a Action, ok bool, err *SyntaxError) {
	f, err := fields(line)
	if err != nil || len(f) == 0 {
		return Action{}, false, err
	}
	op := strings.ToLower(f[0])
	args := f[1:]
	switch op {
	case "reg-set":
		if len(args) < 3 {
			return a, false, syntaxf("reg-set needs KEY NAME TYPE DATA...")
		}
		a = Action{Op: OpRegSet}
		if a.Key, err = checkKey(args[0]); err != nil {
			return a, false, err
		}
		if err = checkString("value name", args[1]); err != nil {
			return a, false, err
		}
		t, data, err := parseData(args[2], args[3:])
		if err != nil {
			return a, false, err
		}
		a.Type = t
		a.Args = append([]string{args[1]}, data...)
	case "reg-delete":
		if len(args) < 1 || len(args) > 2 {
			return a, false, syntaxf("reg-delete needs KEY [NAME]")
		}
		a = Action{Op: OpRegDelete}
		if a.Key, err = checkKey(args[0]); err != nil {
			return a, false, err
		}
		if len(args) == 2 {
			if err = checkString("value name", args[1]); err != nil {
				return a, false, err
			}
			a.Args = []string{args[1]}
		}
	case "copy", "rename":
		if len(args) != 2 {
			return a, false, syntaxf("%s needs SRC DST", op)
		}
		a = Action{Op: OpCopy}
		if op == "rename" {
			a.Op = OpRename
		}
		src, err := checkPath(args[0])
		if err != nil {
			return a, false, err
		}
		dst, err := checkPath(args[1])
		if err != nil {
			return a, false, err
		}
		a.Args = []string{src, dst}
	case "delete":
		if len(args) != 1 {
			return a, false, syntaxf("delete needs PATH")
		}
		p, err := checkPath(args[0])
		if err != nil {
			return a, false, err
		}
		a = Action{Op: OpDelete, Args: []string{p}}
	case "write", "run":
		if len(args) < 1 {
			return a, false, syntaxf("%s needs PATH", op)
		}
		if len(args) > MaxFields-1 {
			return a, false, &SyntaxError{Msg: fmt.Sprintf("more than %d fields after %s PATH", MaxFields-1, op), Err: ErrTooLarge}
		}
		a = Action{Op: OpWrite}
		if op == "run" {
			a.Op = OpRun
		}
		p, err := checkPath(args[0])
		if err != nil {
			return a, false, err
		}
		a.Args = []string{p}
		for _, t := range args[1:] {
			if err := checkString("text", t); err != nil {
				return a, false, err
			}
			a.Args = append(a.Args, t)
		}
	case "say":
		if len(args) < 1 {
			return a, false, syntaxf("say needs TEXT")
		}
		t := strings.Join(args, " ")
		if err := checkString("text", t); err != nil {
			return a, false, err
		}
		a = Action{Op: OpSay, Args: []string{t}}
	case "reboot":
		if len(args) != 0 {
			return a, false, syntaxf("reboot takes no fields")
		}
		a = Action{Op: OpReboot}
	default:
		return a, false, syntaxf("unknown action %q", f[0])
	}
	return a, true, nil
}

func units(s string) int { return len(utf16.Encode([]rune(s))) }

func checkString(what, s string) *SyntaxError {
	if n := units(s); n > MaxString {
		return &SyntaxError{Msg: fmt.Sprintf("%s of %d UTF-16 units, more than %d", what, n, MaxString), Err: ErrTooLarge}
	}
	return nil
}

// checkKey returns the path of key below HKLM\SYSTEM.
func checkKey(key string) (string, *SyntaxError) {
	rest, ok := "", false
	for _, p := range []string{`HKLM\SYSTEM\`, `HKEY_LOCAL_MACHINE\SYSTEM\`} {
		if len(key) > len(p) && strings.EqualFold(key[:len(p)], p) {
			rest, ok = key[len(p):], true
		}
	}
	if !ok {
		return "", syntaxf(`key %q is not below HKLM\SYSTEM`, key)
	}
	if err := checkString("key", rest); err != nil {
		return "", err
	}
	for _, c := range strings.Split(rest, `\`) {
		if c == "" {
			return "", syntaxf(`key %q has an empty component`, key)
		}
		if units(c) > 255 {
			return "", syntaxf(`key %q has a component longer than 255 characters`, key)
		}
	}
	return rest, nil
}

// checkPath returns the canonical form of a path on the Windows volume.
func checkPath(p string) (string, *SyntaxError) {
	orig := p
	p = strings.ReplaceAll(p, "/", `\`)
	if len(p) >= 2 && p[1] == ':' && ('a' <= p[0]|0x20 && p[0]|0x20 <= 'z') {
		p = p[2:]
	}
	if !strings.HasPrefix(p, `\`) || len(p) < 2 {
		return "", syntaxf("path %q does not start at the volume's root (\\Windows\\...)", orig)
	}
	if err := checkString("path", p); err != nil {
		return "", err
	}
	for _, c := range strings.Split(p[1:], `\`) {
		if c == "" || c == "." || c == ".." {
			return "", syntaxf("path %q has an empty, . or .. component", orig)
		}
		if strings.ContainsAny(c, `<>:"|?*`) {
			return "", syntaxf("path %q has one of <>:\"|?*", orig)
		}
	}
	return p, nil
}

// parseData checks and canonicalizes the data fields of reg-set.
func parseData(typ string, data []string) (ValueType, []string, *SyntaxError) {
	var t ValueType
	for k, v := range typeNames {
		if strings.EqualFold(v, typ) {
			t = k
		}
	}
	if t == 0 {
		return 0, nil, syntaxf("unknown value type %q", typ)
	}
	if t != RegMultiSZ && len(data) != 1 {
		return 0, nil, syntaxf("%s takes one DATA field, not %d", t, len(data))
	}
	switch t {
	case RegSZ, RegExpandSZ:
		if err := checkString("data", data[0]); err != nil {
			return 0, nil, err
		}
		return t, data, nil
	case RegMultiSZ:
		if len(data) > MaxFields-2 {
			return 0, nil, &SyntaxError{Msg: fmt.Sprintf("more than %d strings", MaxFields-2), Err: ErrTooLarge}
		}
		for _, s := range data {
			if s == "" {
				return 0, nil, syntaxf("REG_MULTI_SZ strings cannot be empty")
			}
			if err := checkString("data", s); err != nil {
				return 0, nil, err
			}
		}
		return t, append([]string(nil), data...), nil
	case RegDWord, RegQWord:
		bits := 32
		if t == RegQWord {
			bits = 64
		}
		v, err := strconv.ParseUint(data[0], 0, bits)
		if err != nil || strings.HasPrefix(data[0], "+") {
			return 0, nil, syntaxf("%s data %q is not a %d-bit unsigned number", t, data[0], bits)
		}
		if t == RegDWord {
			return t, []string{fmt.Sprintf("0x%08x", v)}, nil
		}
		return t, []string{fmt.Sprintf("0x%016x", v)}, nil
	default: // RegBinary
		h := strings.ReplaceAll(data[0], ",", "")
		if len(h) > 2*MaxBinary {
			return 0, nil, &SyntaxError{Msg: fmt.Sprintf("REG_BINARY longer than %d bytes", MaxBinary), Err: ErrTooLarge}
		}
		b, err := hex.DecodeString(h)
		if err != nil {
			return 0, nil, syntaxf("REG_BINARY data is not hex: %v", err)
		}
		return t, []string{hex.EncodeToString(b)}, nil
	}
}
