package boothook

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want []Action
	}{
		{"", nil},
		{"# only a comment\n\n   \t\n", nil},
		{"\xef\xbb\xbfsay hi\r\n", []Action{{Op: OpSay, Args: []string{"hi"}}}},
		{"say hello   world # c", []Action{{Op: OpSay, Args: []string{"hello world"}}}},
		{`say "a # b"`, []Action{{Op: OpSay, Args: []string{"a # b"}}}},
		{`say "C:\x \"q\" \\"`, []Action{{Op: OpSay, Args: []string{`C:\x "q" \`}}}},
		{"REBOOT", []Action{{Op: OpReboot}}},
		{`reg-set HKEY_LOCAL_MACHINE\System\Select Current reg_dword 0x10`,
			[]Action{{Op: OpRegSet, Key: `Select`, Type: RegDWord, Args: []string{"Current", "0x00000010"}}}},
		{`reg-set HKLM\SYSTEM\A\B x REG_QWORD 18446744073709551615`,
			[]Action{{Op: OpRegSet, Key: `A\B`, Type: RegQWord, Args: []string{"x", "0xffffffffffffffff"}}}},
		{`reg-set HKLM\SYSTEM\A "" REG_BINARY ""`,
			[]Action{{Op: OpRegSet, Key: `A`, Type: RegBinary, Args: []string{"", ""}}}},
		{`reg-set HKLM\SYSTEM\A m REG_MULTI_SZ`,
			[]Action{{Op: OpRegSet, Key: `A`, Type: RegMultiSZ, Args: []string{"m"}}}},
		{`reg-delete HKLM\SYSTEM\A ""`, []Action{{Op: OpRegDelete, Key: `A`, Args: []string{""}}}},
		{`copy c:/a/b d:\c`, []Action{{Op: OpCopy, Args: []string{`\a\b`, `\c`}}}},
		{`write \x`, []Action{{Op: OpWrite, Args: []string{`\x`}}}},
		{`run \x.exe "" a`, []Action{{Op: OpRun, Args: []string{`\x.exe`, "", "a"}}}},
	}
	for _, tt := range tests {
		got, err := Parse(strings.NewReader(tt.in))
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", tt.in, diff)
		}
		// Canonical text reads back the same.
		var text []string
		for _, a := range got {
			text = append(text, a.String())
		}
		again, err := Parse(strings.NewReader(strings.Join(text, "\n")))
		if err != nil {
			t.Errorf("Parse(String()) of %q: %v", tt.in, err)
		} else if diff := cmp.Diff(got, again); diff != "" {
			t.Errorf("Parse(String()) of %q (-first +again):\n%s", tt.in, diff)
		}
	}
}

func TestParseErrors(t *testing.T) {
	long := strings.Repeat("x", MaxString+1)
	tests := []struct {
		in   string
		line int
		err  error
	}{
		{"say hi\nfrobnicate x", 2, ErrSyntax},
		{`reg-set HKLM\SOFTWARE\x a REG_SZ b`, 1, ErrSyntax},
		{`reg-set HKCU\SYSTEM\x a REG_SZ b`, 1, ErrSyntax},
		{`reg-set HKLM\SYSTEM a REG_SZ b`, 1, ErrSyntax},
		{`reg-set HKLM\SYSTEM\ a REG_SZ b`, 1, ErrSyntax},
		{`reg-set HKLM\SYSTEM\a\\b a REG_SZ b`, 1, ErrSyntax},
		{`reg-set HKLM\SYSTEM\a a REG_NONE b`, 1, ErrSyntax},
		{`reg-set HKLM\SYSTEM\a a REG_SZ`, 1, ErrSyntax},
		{`reg-set HKLM\SYSTEM\a a REG_SZ b c`, 1, ErrSyntax},
		{`reg-set HKLM\SYSTEM\a a REG_DWORD 0x100000000`, 1, ErrSyntax},
		{`reg-set HKLM\SYSTEM\a a REG_DWORD -1`, 1, ErrSyntax},
		{`reg-set HKLM\SYSTEM\a a REG_BINARY 0g`, 1, ErrSyntax},
		{`reg-set HKLM\SYSTEM\a a REG_BINARY 012`, 1, ErrSyntax},
		{`reg-set HKLM\SYSTEM\a a REG_MULTI_SZ x ""`, 1, ErrSyntax},
		{"\n\nreg-delete", 3, ErrSyntax},
		{`reg-delete HKLM\SYSTEM\a b c`, 1, ErrSyntax},
		{`copy \a`, 1, ErrSyntax},
		{`copy a \b`, 1, ErrSyntax},
		{`delete \a\..\b`, 1, ErrSyntax},
		{`delete \a\`, 1, ErrSyntax},
		{`delete \a:b`, 1, ErrSyntax},
		{`delete \`, 1, ErrSyntax},
		{`write`, 1, ErrSyntax},
		{`say`, 1, ErrSyntax},
		{`reboot now`, 1, ErrSyntax},
		{`say "open`, 1, ErrSyntax},
		{`say "a"b`, 1, ErrSyntax},
		{`say a"b`, 1, ErrSyntax},
		{"say \"a\tb\"", 1, ErrSyntax},
		{"say a\x01", 1, ErrSyntax},
		{"say \xff", 1, ErrSyntax},
		{"say " + long, 1, ErrTooLarge},
		{"run \\x" + strings.Repeat(" a", MaxFields), 1, ErrTooLarge},
		{"say " + strings.Repeat("x", MaxLine), 1, ErrTooLarge},
		{strings.Repeat("reboot\n", MaxActions+1), MaxActions + 1, ErrTooLarge},
		{strings.Repeat("say "+strings.Repeat("y", MaxString)+"\n", 200), 128, ErrTooLarge},
	}
	for _, tt := range tests {
		_, err := Parse(strings.NewReader(tt.in))
		var se *SyntaxError
		if !errors.As(err, &se) || !errors.Is(err, tt.err) {
			t.Errorf("Parse(%.60q) = %v, want a SyntaxError wrapping %v", tt.in, err, tt.err)
			continue
		}
		if se.Line != tt.line {
			t.Errorf("Parse(%.60q): line %d, want %d (%v)", tt.in, se.Line, tt.line, err)
		}
	}
}

// TestGolden parses testdata/example.actions and compares its canonical text
// and its data file with the golden files (go test -update rewrites them).
func TestGolden(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "example.actions"))
	if err != nil {
		t.Fatal(err)
	}
	actions, err := Parse(strings.NewReader(string(src)))
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, a := range actions {
		text.WriteString(a.String() + "\n")
	}
	dat, err := Encode(actions)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"example.canonical": []byte(text.String()), "example.dat": dat} {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(want), string(got)); diff != "" {
			t.Errorf("%s differs from the golden file (-want +got):\n%s", name, diff)
		}
	}
	back, err := Decode(dat)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(actions, back); diff != "" {
		t.Errorf("Decode(Encode()) (-want +got):\n%s", diff)
	}
}
