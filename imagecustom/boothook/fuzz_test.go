package boothook

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// seeds returns the testdata files with the given suffix.
func seeds(f *testing.F, suffix string) [][]byte {
	f.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "*"+suffix))
	if err != nil || len(names) == 0 {
		f.Fatalf("no testdata/*%s seeds: %v", suffix, err)
	}
	var out [][]byte
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzParse(f *testing.F) {
	for _, s := range seeds(f, ".actions") {
		f.Add(s)
	}
	f.Add([]byte(`reg-set HKLM\SYSTEM\A "x y" REG_MULTI_SZ a "b \"c\""`))
	f.Fuzz(func(t *testing.T, in []byte) {
		acts, err := Parse(bytes.NewReader(in))
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 {
				t.Fatalf("error without a line: %v", err)
			}
			return
		}
		var text strings.Builder
		for _, a := range acts {
			text.WriteString(a.String() + "\n")
		}
		again, err := Parse(strings.NewReader(text.String()))
		if err != nil {
			t.Fatalf("canonical text does not parse: %v\n%s", err, text.String())
		}
		if diff := cmp.Diff(acts, again); diff != "" {
			t.Fatalf("canonical text parses differently (-first +again):\n%s", diff)
		}
		dat, err := Encode(acts)
		if err != nil {
			t.Fatalf("Encode of parsed actions: %v", err)
		}
		back, err := Decode(dat)
		if err != nil {
			t.Fatalf("Decode(Encode()): %v", err)
		}
		if diff := cmp.Diff(acts, back); diff != "" {
			t.Fatalf("Decode(Encode()) (-want +got):\n%s", diff)
		}
	})
}

func FuzzDecode(f *testing.F) {
	for _, s := range seeds(f, ".dat") {
		f.Add(s)
	}
	for _, s := range corpus(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		d, err := DecodeData(in)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error wraps neither ErrCorrupt nor ErrTooLarge: %v", err)
			}
			return
		}
		out, err := EncodeData(d)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("re-encode: %v", err)
			}
			return // valid file, but an action Parse would not write
		}
		if !bytes.Equal(in, out) {
			t.Fatalf("re-encoded file differs")
		}
	})
}

// corpus returns valid and nearly valid data files for the fuzzers and the
// C decoder's parity test: each shape of TestDecodeShapes, and the golden
// file with each single byte of its header and first actions changed.
func corpus(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	text := func(s string) []byte { return appendUTF16(nil, s) }
	shapes := []struct {
		op  Op
		typ ValueType
		f   [][]byte
	}{
		{OpReboot, 0, nil},
		{OpSay, 0, [][]byte{text("hi")}},
		{OpRegSet, RegSZ, [][]byte{text("A"), text(""), text("v")}},
		{OpRegSet, RegDWord, [][]byte{text("A"), text("n"), {1, 2, 3, 4}}},
		{OpRegSet, RegQWord, [][]byte{text("A"), text("n"), make([]byte, 8)}},
		{OpRegSet, RegMultiSZ, [][]byte{text("A"), text("n"), text("a"), text("")}},
		{OpRegDelete, 0, [][]byte{text(`A\\B`)}},
		{OpCopy, 0, [][]byte{text(`\a`), text(`\b\..`)}},
		{OpRun, 0, [][]byte{text(`\a`), {0x3d, 0xd8, 0x00, 0xde}}},
		{OpRun, 0, [][]byte{text(`\a`), {0x3d, 0xd8, 0x41, 0x00}}},
		{OpWrite, 0, [][]byte{text(`\a`), text("x\ty")}},
	}
	for _, s := range shapes {
		out = append(out, rawFile(s.op, s.typ, s.f))
	}
	good, err := os.ReadFile(filepath.Join("testdata", "example.dat"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 160 && i < len(good); i++ {
		for _, delta := range []byte{1, 0x80} {
			b := bytes.Clone(good)
			b[i] += delta
			if i >= 16 {
				fixCRC(b)
			}
			out = append(out, b)
		}
	}
	out = append(out, good[:len(good)-1], nil, []byte("ICBH"))
	return out
}
