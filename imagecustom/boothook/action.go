package boothook

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors returned by the package; every error wraps one of them.
var (
	// ErrSyntax marks an action list that does not parse or names something
	// the hook may not touch. The error is a [*SyntaxError] with the line.
	ErrSyntax = errors.New("boothook: bad action list")
	// ErrCorrupt marks a data file that is not a valid one of ours: bad
	// magic, size, checksum, count or field.
	ErrCorrupt = errors.New("boothook: corrupt data file")
	// ErrTooLarge marks a list or data file over one of the bounds
	// ([MaxFileSize], [MaxActions], [MaxFields], [MaxString], [MaxBinary]).
	ErrTooLarge = errors.New("boothook: too large")
	// ErrUnsupported marks an architecture we ship no hook for.
	ErrUnsupported = errors.New("boothook: unsupported")
)

// Bounds shared by the parser, the codec and the hook's own C decoder.
const (
	// MaxFileSize is the largest data file, in bytes.
	MaxFileSize = 1 << 20
	// MaxActions is the largest number of actions in one list.
	MaxActions = 4096
	// MaxFields is the largest number of fields of one encoded action
	// (for run: the program and its arguments; for write: the path and
	// the lines).
	MaxFields = 256
	// MaxString is the longest text field, in UTF-16 code units.
	MaxString = 4096
	// MaxBinary is the longest REG_BINARY value, in bytes.
	MaxBinary = 65536
	// MaxLine is the longest line of an action list, in bytes.
	MaxLine = 2*MaxBinary + 2*MaxString + 1024
)

// DefaultBackup is the name under System32 that the autochk method gives the
// original autochk.exe, unless [Data.Backup] says otherwise.
const DefaultBackup = "vmprep.cfg"

// Op is what an action does.
type Op uint8

// The operations of an action list; the numbers are those of the data file.
const (
	OpRegSet    Op = 1 // reg-set KEY NAME TYPE DATA...
	OpRegDelete Op = 2 // reg-delete KEY [NAME]
	OpCopy      Op = 3 // copy SRC DST
	OpRename    Op = 4 // rename SRC DST
	OpDelete    Op = 5 // delete PATH
	OpWrite     Op = 6 // write PATH TEXT...
	OpRun       Op = 7 // run PATH [ARG...]
	OpSay       Op = 8 // say TEXT
	OpReboot    Op = 9 // reboot
)

var opNames = [...]string{
	OpRegSet: "reg-set", OpRegDelete: "reg-delete", OpCopy: "copy", OpRename: "rename",
	OpDelete: "delete", OpWrite: "write", OpRun: "run", OpSay: "say", OpReboot: "reboot",
}

// String returns the keyword of the operation in an action list.
func (o Op) String() string {
	if o >= OpRegSet && o <= OpReboot {
		return opNames[o]
	}
	return "Op(" + strconv.Itoa(int(o)) + ")"
}

// ValueType is the type of a registry value written by reg-set; the numbers
// are Windows' REG_* constants.
type ValueType uint8

// The value types reg-set writes.
const (
	RegSZ       ValueType = 1  // REG_SZ: one string
	RegExpandSZ ValueType = 2  // REG_EXPAND_SZ: one string
	RegBinary   ValueType = 3  // REG_BINARY: bytes, written as hex
	RegDWord    ValueType = 4  // REG_DWORD: 32-bit little-endian number
	RegMultiSZ  ValueType = 7  // REG_MULTI_SZ: non-empty strings, one field each
	RegQWord    ValueType = 11 // REG_QWORD: 64-bit little-endian number
)

var typeNames = map[ValueType]string{
	RegSZ: "REG_SZ", RegExpandSZ: "REG_EXPAND_SZ", RegBinary: "REG_BINARY",
	RegDWord: "REG_DWORD", RegMultiSZ: "REG_MULTI_SZ", RegQWord: "REG_QWORD",
}

// String returns the REG_* name of the type.
func (t ValueType) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return "ValueType(" + strconv.Itoa(int(t)) + ")"
}

// An Action is one line of an action list, in canonical form.
//
// Key, for reg-set and reg-delete, is the key's path below HKLM\SYSTEM
// without that prefix, e.g. `CurrentControlSet\Services\Tcpip`. Type is the
// value type of reg-set and zero otherwise. Args holds the remaining fields:
//
//   - reg-set: the value name (empty for the default value), then the data:
//     one string for REG_SZ and REG_EXPAND_SZ, one per string for
//     REG_MULTI_SZ, a number as 0x%08x (REG_DWORD) or 0x%016x (REG_QWORD),
//     lowercase hex digits for REG_BINARY;
//   - reg-delete: nothing (delete the key and its subkeys) or the value name;
//   - copy, rename: source and destination path;
//   - delete: the path;
//   - write: the path, then the lines of text (each written with "\r\n");
//   - run: the program's path, then its arguments;
//   - say: the text;
//   - reboot: nothing.
//
// Paths are on the Windows volume, from its root, with backslashes:
// `\Windows\System32\x.exe`.
type Action struct {
	Op   Op
	Key  string
	Type ValueType
	Args []string
}

// String returns the action as one line of canonical action-list text,
// which [Parse] reads back to an equal Action.
func (a Action) String() string {
	var b strings.Builder
	b.WriteString(a.Op.String())
	if a.Op == OpRegSet || a.Op == OpRegDelete {
		b.WriteByte(' ')
		b.WriteString(quote(`HKLM\SYSTEM\` + a.Key))
	}
	for i, f := range a.Args {
		if a.Op == OpRegSet && i == 1 {
			b.WriteByte(' ')
			b.WriteString(a.Type.String())
		}
		b.WriteByte(' ')
		b.WriteString(quote(f))
	}
	if a.Op == OpRegSet && len(a.Args) == 1 {
		// REG_MULTI_SZ with no strings.
		b.WriteByte(' ')
		b.WriteString(a.Type.String())
	}
	return b.String()
}

// quote returns f as one field: bare when that reads back the same, else in
// double quotes with `"` and `\` escaped.
func quote(f string) string {
	if f != "" && !strings.ContainsAny(f, " \t\"#") {
		return f
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range f {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// SyntaxError reports a line of an action list that [Parse] refused.
type SyntaxError struct {
	Line int    // 1-based line number
	Msg  string // what is wrong
	Err  error  // ErrSyntax or ErrTooLarge
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("boothook: action list line %d: %s", e.Line, e.Msg)
}

// Unwrap returns [ErrSyntax] or [ErrTooLarge].
func (e *SyntaxError) Unwrap() error { return e.Err }

// CorruptError reports where a data file is malformed.
type CorruptError struct {
	Offset int64  // byte offset in the data file
	What   string // what is wrong there
	Err    error  // ErrCorrupt or ErrTooLarge
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("boothook: data file at 0x%x: %s", e.Offset, e.What)
}

// Unwrap returns [ErrCorrupt] or [ErrTooLarge].
func (e *CorruptError) Unwrap() error { return e.Err }
