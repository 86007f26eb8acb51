package boothook

import (
	"bytes"
	"debug/pe"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

func TestPEFormat(t *testing.T) {
	for _, tt := range []struct {
		arch    string
		machine uint16
	}{{"x86", pe.IMAGE_FILE_MACHINE_I386}, {"amd64", pe.IMAGE_FILE_MACHINE_AMD64}} {
		b, err := PE(tt.arch)
		if err != nil {
			t.Fatal(err)
		}
		f, err := pe.NewFile(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", tt.arch, err)
		}
		if f.Machine != tt.machine {
			t.Errorf("%s: machine 0x%x, want 0x%x", tt.arch, f.Machine, tt.machine)
		}
		var subsystem uint16
		switch h := f.OptionalHeader.(type) {
		case *pe.OptionalHeader32:
			subsystem = h.Subsystem
		case *pe.OptionalHeader64:
			subsystem = h.Subsystem
		}
		if subsystem != pe.IMAGE_SUBSYSTEM_NATIVE {
			t.Errorf("%s: subsystem %d, want native (1)", tt.arch, subsystem)
		}
		// debug/pe's ImportedLibraries is a stub; the symbols name their DLL.
		syms, err := f.ImportedSymbols()
		if err != nil || len(syms) == 0 {
			t.Fatalf("%s: imported symbols %v, %v", tt.arch, syms, err)
		}
		for _, s := range syms {
			if !strings.HasSuffix(strings.ToLower(s), ":ntdll.dll") {
				t.Errorf("%s: import %s is not from ntdll.dll", tt.arch, s)
			}
		}
		if arch, ok := IsHook(b); !ok || arch != tt.arch {
			t.Errorf("IsHook(PE(%s)) = %q, %v", tt.arch, arch, ok)
		}
		f.Close()
	}
	if _, ok := IsHook([]byte("MZ")); ok {
		t.Error("IsHook(MZ) = true")
	}
	for _, arch := range []string{"arm64", "ia64", ""} {
		if _, err := PE(arch); !errors.Is(err, ErrUnsupported) {
			t.Errorf("PE(%q) = %v, want ErrUnsupported", arch, err)
		}
	}
}

// TestPERebuild runs build.sh into a temporary folder and compares the
// bytes with the committed PEs: the build is reproducible, and the
// committed files are what the source makes.
func TestPERebuild(t *testing.T) {
	testimg.Oracle(t, "x86_64-w64-mingw32-gcc")
	testimg.Oracle(t, "i686-w64-mingw32-gcc")
	dir := t.TempDir()
	cmd := exec.Command("sh", "build.sh", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	for _, name := range []string{"hook-i386.exe", "hook-amd64.exe"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s rebuilt differs from the committed file (%d vs %d bytes): run ./build.sh and commit", name, len(got), len(want))
		}
	}
}

// TestCDecoderParity builds the hook's own decoder (csrc/decode.c) for the
// host with gcc and feeds it the fuzz corpus, the seeds and random
// mutations of the golden file: it must accept exactly the files the Go
// decoder accepts.
func TestCDecoderParity(t *testing.T) {
	gcc := testimg.Oracle(t, "gcc")
	dir := t.TempDir()
	bin := filepath.Join(dir, "checkdat")
	cmd := exec.Command(gcc, "-std=c11", "-O2", "-Wall", "-Werror", "-o", bin, "csrc/decode.c", "csrc/checkdat.c")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	inputs := corpus(t)
	good := exampleData(t)
	rnd := rand.New(rand.NewSource(1))
	for i := 0; i < 3000; i++ {
		b := bytes.Clone(good)
		for k := rnd.Intn(3) + 1; k > 0; k-- {
			b[rnd.Intn(len(b))] = byte(rnd.Intn(256))
		}
		if rnd.Intn(4) > 0 {
			fixCRC(b)
		}
		inputs = append(inputs, b)
	}
	// The fuzzers' corpus: committed, and what local fuzzing found.
	dirs := []string{filepath.Join("testdata", "fuzz", "FuzzDecode")}
	if out, err := exec.Command("go", "env", "GOCACHE").Output(); err == nil {
		dirs = append(dirs, filepath.Join(strings.TrimSpace(string(out)), "fuzz",
			"github.com/imagecustom/go-imagecustom/imagecustom/boothook", "FuzzDecode"))
	}
	fuzzed := 0
	for _, d := range dirs {
		names, _ := filepath.Glob(filepath.Join(d, "*"))
		for _, n := range names {
			if b, err := readFuzzFile(n); err == nil && fuzzed < 5000 {
				inputs = append(inputs, b)
				fuzzed++
			}
		}
	}
	var args []string
	for i, b := range inputs {
		p := filepath.Join(dir, fmt.Sprintf("%05d.dat", i))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, p)
	}
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("checkdat: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(inputs) {
		t.Fatalf("checkdat printed %d lines for %d files", len(lines), len(inputs))
	}
	accepted := 0
	for i, b := range inputs {
		acts, err := Decode(b)
		want := "bad"
		if err == nil {
			want = fmt.Sprintf("ok %d", len(acts))
			accepted++
		}
		if got := lines[i]; !strings.HasPrefix(got, want) {
			t.Errorf("input %d: C decoder says %q, Go decoder %q (%v)", i, got, want, err)
		}
	}
	t.Logf("%d inputs (%d from the fuzz corpus), %d valid, same verdicts", len(inputs), fuzzed, accepted)
	if accepted < 10 {
		t.Errorf("only %d valid inputs: the corpus tests little", accepted)
	}
}

// readFuzzFile reads a "go test fuzz v1" file holding one []byte.
func readFuzzFile(name string) ([]byte, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	s := strings.TrimSpace(string(b))
	const head = "go test fuzz v1\n[]byte("
	if !strings.HasPrefix(s, head) || !strings.HasSuffix(s, ")") {
		return nil, fmt.Errorf("%s: not a []byte fuzz file", name)
	}
	var out string
	if _, err := fmt.Sscanf(s[len(head):len(s)-1], "%q", &out); err != nil {
		return nil, err
	}
	return []byte(out), nil
}
