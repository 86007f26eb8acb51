package boothook

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The data file (System32\vmprep.dat), little-endian throughout:
//
//	offset size  field
//	0      4     magic "ICBH"
//	4      2     version, 1
//	6      2     flags, 0
//	8      4     size of the whole file, 24..MaxFileSize
//	12     4     CRC-32 (IEEE) of the bytes from offset 16 to the end
//	16     4     number of actions, at most MaxActions
//	20     2     length in bytes of the backup name (even, 2..510)
//	22     2     run timeout: seconds a run action may take, 0 for 600
//	24     n     backup name, UTF-16LE: the original autochk.exe's name
//	             in System32 (autochk method)
//	then each action:
//	       1     op (Op)
//	       1     value type (reg-set), else 0
//	       2     number of fields, at most MaxFields
//	       then each field: 4-byte length, then that many bytes
//
// Text fields are UTF-16LE without a terminator: whole surrogate pairs, no
// code unit below 0x20, at most MaxString units. The data of REG_DWORD and
// REG_QWORD is 4 and 8 bytes, of REG_BINARY at most MaxBinary bytes. The
// hook's C decoder (csrc/decode.c) applies exactly these rules.
const (
	magic      = "ICBH"
	version    = 1
	headerSize = 24
)

// Data is the whole content of a data file.
type Data struct {
	// Backup is the name in System32 the installer gave the original
	// autochk.exe; empty means [DefaultBackup].
	Backup string
	// RunTimeout is how many seconds the hook waits for each run action's
	// program before it ends it; 0 means [DefaultRunTimeout].
	RunTimeout uint16
	Actions    []Action
}

// DefaultRunTimeout is the seconds a run action may take when
// [Data.RunTimeout] is 0. The original autochk, chained at the end, gets an
// hour and is never ended.
const DefaultRunTimeout = 600

// Encode returns the data file for actions, with the default backup name.
func Encode(actions []Action) ([]byte, error) {
	return EncodeData(Data{Actions: actions})
}

// EncodeData returns the data file for d. Each action must be in the
// canonical form [Parse] returns; anything else is refused with
// [ErrSyntax], and a file over the bounds with [ErrTooLarge].
func EncodeData(d Data) ([]byte, error) {
	backup := d.Backup
	if backup == "" {
		backup = DefaultBackup
	}
	if !utf8.ValidString(backup) || !validBackup(utf16.Encode([]rune(backup))) {
		return nil, fmt.Errorf("%w: backup name %q is not a plain file name", ErrSyntax, backup)
	}
	if len(d.Actions) > MaxActions {
		return nil, fmt.Errorf("%w: %d actions, more than %d", ErrTooLarge, len(d.Actions), MaxActions)
	}
	b := make([]byte, headerSize, 4096)
	copy(b, magic)
	binary.LittleEndian.PutUint16(b[4:], version)
	binary.LittleEndian.PutUint32(b[16:], uint32(len(d.Actions)))
	bu := appendUTF16(nil, backup)
	binary.LittleEndian.PutUint16(b[20:], uint16(len(bu)))
	binary.LittleEndian.PutUint16(b[22:], d.RunTimeout)
	b = append(b, bu...)
	for i, a := range d.Actions {
		if err := checkCanonical(a); err != nil {
			return nil, fmt.Errorf("action %d: %w", i+1, err)
		}
		b = appendAction(b, a)
		if len(b) > MaxFileSize {
			return nil, fmt.Errorf("%w: data file over %d bytes at action %d", ErrTooLarge, MaxFileSize, i+1)
		}
	}
	binary.LittleEndian.PutUint32(b[8:], uint32(len(b)))
	binary.LittleEndian.PutUint32(b[12:], crc32.ChecksumIEEE(b[16:]))
	return b, nil
}

// checkCanonical reports whether a is what Parse makes of a.String().
func checkCanonical(a Action) error {
	got, err := Parse(strings.NewReader(a.String()))
	if err != nil {
		var se *SyntaxError
		if asSyntax(err, &se) {
			return &SyntaxError{Line: 1, Msg: se.Msg, Err: se.Err}
		}
		return err
	}
	if len(got) != 1 || !equalAction(got[0], a) {
		return fmt.Errorf("%w: %q is not in canonical form", ErrSyntax, a.String())
	}
	return nil
}

func asSyntax(err error, se **SyntaxError) bool {
	e, ok := err.(*SyntaxError)
	if ok {
		*se = e
	}
	return ok
}

func equalAction(x, y Action) bool {
	if x.Op != y.Op || x.Key != y.Key || x.Type != y.Type || len(x.Args) != len(y.Args) {
		return false
	}
	for i := range x.Args {
		if x.Args[i] != y.Args[i] {
			return false
		}
	}
	return true
}

func appendUTF16(b []byte, s string) []byte {
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

func appendField(b, f []byte) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(f)))
	return append(b, f...)
}

// fieldBytes returns the encoded form of field i of a.
func fieldBytes(a Action, i int) []byte {
	s := a.Args[i]
	if a.Op == OpRegSet && i == 1 {
		switch a.Type {
		case RegDWord:
			v, _ := strconv.ParseUint(s, 0, 32)
			return binary.LittleEndian.AppendUint32(nil, uint32(v))
		case RegQWord:
			v, _ := strconv.ParseUint(s, 0, 64)
			return binary.LittleEndian.AppendUint64(nil, v)
		case RegBinary:
			h, _ := hex.DecodeString(s)
			return h
		}
	}
	return appendUTF16(nil, s)
}

func appendAction(b []byte, a Action) []byte {
	n := len(a.Args)
	if a.Op == OpRegSet || a.Op == OpRegDelete {
		n++
	}
	b = append(b, byte(a.Op), byte(a.Type))
	b = binary.LittleEndian.AppendUint16(b, uint16(n))
	if a.Op == OpRegSet || a.Op == OpRegDelete {
		b = appendField(b, appendUTF16(nil, a.Key))
	}
	for i := range a.Args {
		b = appendField(b, fieldBytes(a, i))
	}
	return b
}

// encodedSize is len(appendAction(nil, a)).
func encodedSize(a Action) int {
	n := 4
	if a.Op == OpRegSet || a.Op == OpRegDelete {
		n += 4 + 2*units(a.Key)
	}
	for i := range a.Args {
		n += 4 + len(fieldBytes(a, i))
	}
	return n
}

// Decode returns the actions of a data file; see [DecodeData].
func Decode(b []byte) ([]Action, error) {
	d, err := DecodeData(b)
	if err != nil {
		return nil, err
	}
	return d.Actions, nil
}

// DecodeData checks a data file whole (magic, version, size, checksum,
// every count, length and field) and returns its content. A file that
// fails any check is refused with a [*CorruptError]: the hook performs no
// action from such a file.
func DecodeData(b []byte) (Data, error) {
	bad := func(off int, format string, args ...any) (Data, error) {
		return Data{}, &CorruptError{Offset: int64(off), What: fmt.Sprintf(format, args...), Err: ErrCorrupt}
	}
	if len(b) > MaxFileSize {
		return Data{}, &CorruptError{Offset: 0, What: fmt.Sprintf("%d bytes, more than %d", len(b), MaxFileSize), Err: ErrTooLarge}
	}
	if len(b) < headerSize {
		return bad(0, "%d bytes, shorter than the %d-byte header", len(b), headerSize)
	}
	if string(b[:4]) != magic {
		return bad(0, "magic %q, not %q", b[:4], magic)
	}
	if v := binary.LittleEndian.Uint16(b[4:]); v != version {
		return bad(4, "version %d, not %d", v, version)
	}
	if f := binary.LittleEndian.Uint16(b[6:]); f != 0 {
		return bad(6, "flags 0x%x, not 0", f)
	}
	if n := binary.LittleEndian.Uint32(b[8:]); n != uint32(len(b)) {
		return bad(8, "size %d, but the file has %d bytes", n, len(b))
	}
	if c, want := binary.LittleEndian.Uint32(b[12:]), crc32.ChecksumIEEE(b[16:]); c != want {
		return bad(12, "CRC-32 0x%08x, content has 0x%08x", c, want)
	}
	count := binary.LittleEndian.Uint32(b[16:])
	if count > MaxActions {
		return bad(16, "%d actions, more than %d", count, MaxActions)
	}
	bl := int(binary.LittleEndian.Uint16(b[20:]))
	if bl%2 != 0 || bl > 510 || headerSize+bl > len(b) {
		return bad(20, "backup name length %d", bl)
	}
	bu := toUnits(b[headerSize : headerSize+bl])
	if !validBackup(bu) {
		return bad(headerSize, "backup name is not a plain file name")
	}
	d := Data{Backup: string(utf16.Decode(bu)), RunTimeout: binary.LittleEndian.Uint16(b[22:])}
	off := headerSize + bl
	for i := uint32(0); i < count; i++ {
		a, next, err := decodeAction(b, off)
		if err != nil {
			return Data{}, err
		}
		d.Actions = append(d.Actions, a)
		off = next
	}
	if off != len(b) {
		return bad(off, "%d bytes after the last action", len(b)-off)
	}
	return d, nil
}

func toUnits(b []byte) []uint16 {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return u
}

// validText: whole surrogate pairs, no unit below 0x20, bounded.
func validText(u []uint16) bool {
	if len(u) > MaxString {
		return false
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case c < 0x20:
			return false
		case c >= 0xD800 && c < 0xDC00:
			if i+1 == len(u) || u[i+1] < 0xDC00 || u[i+1] >= 0xE000 {
				return false
			}
			i++
		case c >= 0xDC00 && c < 0xE000:
			return false
		}
	}
	return true
}

func validBackup(u []uint16) bool {
	if len(u) == 0 || len(u) > 255 || !validText(u) || (len(u) == 1 && u[0] == '.') || (len(u) == 2 && u[0] == '.' && u[1] == '.') {
		return false
	}
	for _, c := range u {
		if c < 0x80 && strings.ContainsRune(`\/:*?"<>|`, rune(c)) {
			return false
		}
	}
	return true
}

// validKey: a text, non-empty, no leading or trailing backslash, no empty
// component.
func validKey(u []uint16) bool {
	if len(u) == 0 || !validText(u) || u[0] == '\\' || u[len(u)-1] == '\\' {
		return false
	}
	for i := 1; i < len(u); i++ {
		if u[i] == '\\' && u[i-1] == '\\' {
			return false
		}
	}
	return true
}

// validPath: a text starting with a backslash, no trailing backslash, no
// empty, "." or ".." component.
func validPath(u []uint16) bool {
	if len(u) < 2 || !validText(u) || u[0] != '\\' || u[len(u)-1] == '\\' {
		return false
	}
	start := 1
	for i := 1; i <= len(u); i++ {
		if i == len(u) || u[i] == '\\' {
			c := u[start:i]
			if len(c) == 0 || (len(c) == 1 && c[0] == '.') || (len(c) == 2 && c[0] == '.' && c[1] == '.') {
				return false
			}
			start = i + 1
		}
	}
	return true
}

type fieldKind uint8

const (
	kText fieldKind = iota
	kKey
	kPath
	kNonEmpty
	kDWord
	kQWord
	kBinary
)

// shapeOK reports whether an action with op, value type t and n fields is
// well formed; the C decoder's bh_shape_ok is the same table.
func shapeOK(op Op, t ValueType, n int) bool {
	if n > MaxFields || (op == OpRegSet) != (t != 0) {
		return false
	}
	switch op {
	case OpRegSet:
		switch t {
		case RegSZ, RegExpandSZ, RegDWord, RegQWord, RegBinary:
			return n == 3
		case RegMultiSZ:
			return n >= 2
		}
		return false
	case OpRegDelete:
		return n == 1 || n == 2
	case OpCopy, OpRename:
		return n == 2
	case OpDelete, OpSay:
		return n == 1
	case OpWrite, OpRun:
		return n >= 1
	case OpReboot:
		return n == 0
	}
	return false
}

// kind returns the kind of field i of a well-formed action; the C
// decoder's bh_field_kind is the same table.
func kind(op Op, t ValueType, i int) fieldKind {
	switch op {
	case OpRegSet:
		switch {
		case i == 0:
			return kKey
		case i == 1:
			return kText
		}
		switch t {
		case RegDWord:
			return kDWord
		case RegQWord:
			return kQWord
		case RegBinary:
			return kBinary
		case RegMultiSZ:
			return kNonEmpty
		}
		return kText
	case OpRegDelete:
		if i == 0 {
			return kKey
		}
	case OpCopy, OpRename, OpDelete:
		return kPath
	case OpWrite, OpRun:
		if i == 0 {
			return kPath
		}
	}
	return kText
}

func decodeAction(b []byte, off int) (Action, int, error) {
	bad := func(o int, format string, args ...any) (Action, int, error) {
		return Action{}, 0, &CorruptError{Offset: int64(o), What: fmt.Sprintf(format, args...), Err: ErrCorrupt}
	}
	start := off
	if len(b)-off < 4 {
		return bad(off, "action truncated")
	}
	op, t, n := Op(b[off]), ValueType(b[off+1]), int(binary.LittleEndian.Uint16(b[off+2:]))
	off += 4
	if op < OpRegSet || op > OpReboot {
		return bad(start, "unknown op %d", op)
	}
	if (op == OpRegSet) != (t != 0) {
		return bad(start+1, "value type %d with op %s", t, op)
	}
	if !shapeOK(op, t, n) {
		return bad(start+2, "%d fields for %s %s", n, op, t)
	}
	a := Action{Op: op, Type: t}
	for i := 0; i < n; i++ {
		k := kind(op, t, i)
		if len(b)-off < 4 {
			return bad(off, "field truncated")
		}
		l := binary.LittleEndian.Uint32(b[off:])
		if uint64(l) > uint64(len(b)-off-4) {
			return bad(off, "field length %d past the end", l)
		}
		f := b[off+4 : off+4+int(l)]
		fo := off
		off += 4 + int(l)
		var s string
		switch k {
		case kDWord:
			if l != 4 {
				return bad(fo, "REG_DWORD of %d bytes", l)
			}
			s = fmt.Sprintf("0x%08x", binary.LittleEndian.Uint32(f))
		case kQWord:
			if l != 8 {
				return bad(fo, "REG_QWORD of %d bytes", l)
			}
			s = fmt.Sprintf("0x%016x", binary.LittleEndian.Uint64(f))
		case kBinary:
			if l > MaxBinary {
				return bad(fo, "REG_BINARY of %d bytes", l)
			}
			s = hex.EncodeToString(f)
		default:
			if l%2 != 0 {
				return bad(fo, "text field of odd length %d", l)
			}
			u := toUnits(f)
			ok := validText(u)
			switch k {
			case kKey:
				ok = validKey(u)
			case kPath:
				ok = validPath(u)
			case kNonEmpty:
				ok = ok && len(u) > 0
			}
			if !ok {
				return bad(fo, "invalid text field %d of %s", i+1, op)
			}
			s = string(utf16.Decode(u))
		}
		if k == kKey {
			a.Key = s
		} else {
			a.Args = append(a.Args, s)
		}
	}
	return a, off, nil
}
