package boothook

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func exampleData(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "example.dat"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixCRC recomputes the checksum so a test reaches the check behind it.
func fixCRC(b []byte) []byte {
	binary.LittleEndian.PutUint32(b[12:], crc32.ChecksumIEEE(b[16:]))
	return b
}

func TestEncodeData(t *testing.T) {
	acts := []Action{{Op: OpSay, Args: []string{"hi"}}, {Op: OpReboot}}
	b, err := EncodeData(Data{Backup: "autochk.orig", RunTimeout: 5, Actions: acts})
	if err != nil {
		t.Fatal(err)
	}
	d, err := DecodeData(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Data{Backup: "autochk.orig", RunTimeout: 5, Actions: acts}, d); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	empty, err := Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := DecodeData(empty); err != nil || d.Backup != DefaultBackup || len(d.Actions) != 0 {
		t.Errorf("empty list: %+v, %v", d, err)
	}
}

func TestEncodeRefuses(t *testing.T) {
	tests := []struct {
		d   Data
		err error
	}{
		{Data{Backup: `a\b`}, ErrSyntax},
		{Data{Backup: ".."}, ErrSyntax},
		{Data{Backup: "\xff"}, ErrSyntax},
		{Data{Actions: []Action{{Op: 42}}}, ErrSyntax},
		{Data{Actions: []Action{{Op: OpSay}}}, ErrSyntax},
		{Data{Actions: []Action{{Op: OpSay, Args: []string{"a\nb"}}}}, ErrSyntax},
		{Data{Actions: []Action{{Op: OpCopy, Args: []string{`\a`, `b`}}}}, ErrSyntax},
		{Data{Actions: []Action{{Op: OpCopy, Args: []string{`C:\a`, `\b`}}}}, ErrSyntax}, // not canonical
		{Data{Actions: []Action{{Op: OpRegSet, Key: `A`, Type: RegDWord, Args: []string{"x", "4"}}}}, ErrSyntax},
		{Data{Actions: []Action{{Op: OpRegSet, Key: `A`, Type: RegBinary, Args: []string{"x", "AB"}}}}, ErrSyntax},
		{Data{Actions: []Action{{Op: OpRegSet, Key: `A`, Type: 5, Args: []string{"x", "AB"}}}}, ErrSyntax},
		{Data{Actions: make([]Action, MaxActions+1)}, ErrTooLarge},
	}
	for _, tt := range tests {
		if _, err := EncodeData(tt.d); !errors.Is(err, tt.err) {
			t.Errorf("EncodeData(%+v) = %v, want %v", tt.d, err, tt.err)
		}
	}
}

// TestDecodeCorrupt mangles the golden data file and expects ErrCorrupt at
// the offset of the damage.
func TestDecodeCorrupt(t *testing.T) {
	good := exampleData(t)
	first := headerSize + 2*len(DefaultBackup) // the first action (say)
	tests := []struct {
		name   string
		mangle func(b []byte) []byte
		offset int64
	}{
		{"short", func(b []byte) []byte { return b[:10] }, 0},
		{"magic", func(b []byte) []byte { b[0] = 'X'; return b }, 0},
		{"version", func(b []byte) []byte { b[4] = 2; return fixCRC(b) }, 4},
		{"flags", func(b []byte) []byte { b[6] = 1; return fixCRC(b) }, 6},
		{"size", func(b []byte) []byte { return b[:len(b)-1] }, 8},
		{"crc", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, 12},
		{"count", func(b []byte) []byte { b[16]++; return fixCRC(b) }, int64(len(good))},
		{"count too big", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[16:], MaxActions+1); return fixCRC(b) }, 16},
		{"backup odd", func(b []byte) []byte { b[20] = 3; return fixCRC(b) }, 20},
		{"backup slash", func(b []byte) []byte { b[headerSize] = '\\'; return fixCRC(b) }, headerSize},
		{"op", func(b []byte) []byte { b[first] = 0; return fixCRC(b) }, int64(first)},
		{"op 10", func(b []byte) []byte { b[first] = 10; return fixCRC(b) }, int64(first)},
		{"type", func(b []byte) []byte { b[first+1] = 1; return fixCRC(b) }, int64(first + 1)},
		{"nfields", func(b []byte) []byte { b[first+2] = 2; return fixCRC(b) }, int64(first + 2)},
		{"nfields 0", func(b []byte) []byte { b[first+2] = 0; return fixCRC(b) }, int64(first + 2)},
		{"field length", func(b []byte) []byte { b[first+7] = 0x7f; return fixCRC(b) }, int64(first + 4)},
		{"field odd", func(b []byte) []byte { b[first+4]--; return fixCRC(b) }, int64(first + 4)},
		{"control char", func(b []byte) []byte { b[first+8] = '\n'; return fixCRC(b) }, int64(first + 4)},
		{"lone surrogate", func(b []byte) []byte { b[first+8], b[first+9] = 0, 0xd8; return fixCRC(b) }, int64(first + 4)},
		{"trailing", func(b []byte) []byte {
			b = append(b, 0)
			binary.LittleEndian.PutUint32(b[8:], uint32(len(b)))
			return fixCRC(b)
		}, int64(len(good))},
	}
	for _, tt := range tests {
		b := tt.mangle(bytes.Clone(good))
		_, err := Decode(b)
		var ce *CorruptError
		if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Decode = %v, want a CorruptError", tt.name, err)
			continue
		}
		if ce.Offset != tt.offset {
			t.Errorf("%s: offset 0x%x, want 0x%x (%v)", tt.name, ce.Offset, tt.offset, err)
		}
	}
	if _, err := Decode(make([]byte, MaxFileSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("huge file: %v, want ErrTooLarge", err)
	}
}

// TestDecodeShapes builds files action by action to check every op's field
// rules, the same table the C decoder follows.
func TestDecodeShapes(t *testing.T) {
	text := func(s string) []byte { return appendUTF16(nil, s) }
	tests := []struct {
		op     Op
		typ    ValueType
		fields [][]byte
		ok     bool
	}{
		{OpReboot, 0, nil, true},
		{OpReboot, 0, [][]byte{text("x")}, false},
		{OpSay, 0, [][]byte{text("")}, true},
		{OpSay, 0, nil, false},
		{OpRegSet, RegSZ, [][]byte{text("A"), text(""), text("v")}, true},
		{OpRegSet, RegSZ, [][]byte{text("A"), text("")}, false},
		{OpRegSet, RegSZ, [][]byte{text(`\A`), text(""), text("v")}, false},
		{OpRegSet, RegSZ, [][]byte{text(`A\\B`), text(""), text("v")}, false},
		{OpRegSet, RegSZ, [][]byte{text(``), text(""), text("v")}, false},
		{OpRegSet, RegDWord, [][]byte{text("A"), text("n"), {1, 2, 3, 4}}, true},
		{OpRegSet, RegDWord, [][]byte{text("A"), text("n"), {1, 2, 3}}, false},
		{OpRegSet, RegQWord, [][]byte{text("A"), text("n"), make([]byte, 8)}, true},
		{OpRegSet, RegQWord, [][]byte{text("A"), text("n"), make([]byte, 4)}, false},
		{OpRegSet, RegBinary, [][]byte{text("A"), text("n"), {1}}, true},
		{OpRegSet, RegBinary, [][]byte{text("A"), text("n"), make([]byte, MaxBinary+1)}, false},
		{OpRegSet, RegMultiSZ, [][]byte{text("A"), text("n")}, true},
		{OpRegSet, RegMultiSZ, [][]byte{text("A"), text("n"), text("a"), text("b")}, true},
		{OpRegSet, RegMultiSZ, [][]byte{text("A"), text("n"), text("")}, false},
		{OpRegSet, 5, [][]byte{text("A"), text("n"), {1, 2, 3, 4}}, false},
		{OpRegSet, 0, [][]byte{text("A"), text("n"), {1, 2, 3, 4}}, false},
		{OpRegDelete, 0, [][]byte{text("A")}, true},
		{OpRegDelete, 0, [][]byte{text("A"), text("")}, true},
		{OpRegDelete, 0, [][]byte{text("A"), text(""), text("")}, false},
		{OpRegDelete, RegSZ, [][]byte{text("A")}, false},
		{OpCopy, 0, [][]byte{text(`\a`), text(`\b`)}, true},
		{OpCopy, 0, [][]byte{text(`\a`), text(`b`)}, false},
		{OpCopy, 0, [][]byte{text(`\a`)}, false},
		{OpRename, 0, [][]byte{text(`\a\..`), text(`\b`)}, false},
		{OpDelete, 0, [][]byte{text(`\a\.\b`)}, false},
		{OpDelete, 0, [][]byte{text(`\a\`)}, false},
		{OpDelete, 0, [][]byte{text(`\`)}, false},
		{OpDelete, 0, [][]byte{text(`\..x`)}, true},
		{OpWrite, 0, [][]byte{text(`\a`)}, true},
		{OpWrite, 0, [][]byte{text(`\a`), text("x"), text("")}, true},
		{OpRun, 0, [][]byte{text(`\a`), text("\U0001F600")}, true},
		{OpRun, 0, [][]byte{text(`\a`), {0x3d, 0xdc}}, false},
		{OpRun, 0, nil, false},
		{OpSay, 0, [][]byte{text(strings.Repeat("x", MaxString))}, true},
		{OpSay, 0, [][]byte{text(strings.Repeat("x", MaxString+1))}, false},
		{OpWrite, 0, append([][]byte{text(`\a`)}, make([][]byte, MaxFields)...), false},
	}
	for i, tt := range tests {
		b := rawFile(tt.op, tt.typ, tt.fields)
		_, err := Decode(b)
		if (err == nil) != tt.ok {
			t.Errorf("%d: %s %s %d fields: Decode = %v, want ok %v", i, tt.op, tt.typ, len(tt.fields), err, tt.ok)
		}
	}
}

// rawFile makes a data file of one action with the given fields, bypassing
// Encode's checks.
func rawFile(op Op, typ ValueType, fields [][]byte) []byte {
	b := make([]byte, headerSize)
	copy(b, magic)
	binary.LittleEndian.PutUint16(b[4:], version)
	binary.LittleEndian.PutUint32(b[16:], 1)
	binary.LittleEndian.PutUint16(b[20:], 2)
	b = append(b, 'x', 0, byte(op), byte(typ))
	b = binary.LittleEndian.AppendUint16(b, uint16(len(fields)))
	for _, f := range fields {
		b = appendField(b, f)
	}
	binary.LittleEndian.PutUint32(b[8:], uint32(len(b)))
	return fixCRC(b)
}

func BenchmarkDecode(b *testing.B) {
	dat := exampleData(b)
	b.SetBytes(int64(len(dat)))
	for b.Loop() {
		if _, err := Decode(dat); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseEncode(b *testing.B) {
	src, err := os.ReadFile(filepath.Join("testdata", "example.actions"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		acts, err := Parse(bytes.NewReader(src))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Encode(acts); err != nil {
			b.Fatal(err)
		}
	}
}
