package testimg

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ulikunitz/xz"
)

// sparseContent is 1 MiB with data only in a few places.
func sparseContent() []byte {
	b := make([]byte, 1<<20)
	copy(b[10:], "head")
	copy(b[300000:], "middle")
	b[len(b)-1] = 0xff
	return b
}

func TestWriteSparseKeepsContentAndHoles(t *testing.T) {
	want := sparseContent()
	for _, tail := range []int{0, 1, 5000} { // sizes not a multiple of the block
		src := append(append([]byte(nil), want...), make([]byte, tail)...)
		dst := filepath.Join(t.TempDir(), "out")
		f, err := os.Create(dst)
		if err != nil {
			t.Fatal(err)
		}
		if err := writeSparse(f, bytes.NewReader(src)); err != nil {
			t.Fatal(err)
		}
		f.Close()
		got, err := os.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, src) {
			t.Fatalf("tail %d: content differs (len %d, want %d)", tail, len(got), len(src))
		}
		// Three 64 KiB blocks hold data; the rest must be holes on any
		// file system that supports them.
		if a := allocated(t, dst); a > 4*sparseBlock {
			t.Errorf("tail %d: %d bytes allocated for a mostly empty file", tail, a)
		}
	}
}

func TestDecompressedCache(t *testing.T) {
	t.Setenv(CacheEnv, t.TempDir())
	want := sparseContent()
	dir := t.TempDir()

	var xzBuf, gzBuf bytes.Buffer
	xw, err := xz.NewWriter(&xzBuf)
	if err != nil {
		t.Fatal(err)
	}
	xw.Write(want)
	xw.Close()
	gw := gzip.NewWriter(&gzBuf)
	gw.Write(want)
	gw.Close()

	for codec, data := range map[string][]byte{"xz": xzBuf.Bytes(), "gz": gzBuf.Bytes()} {
		src := filepath.Join(dir, "disk.raw."+codec)
		if err := os.WriteFile(src, data, 0o644); err != nil {
			t.Fatal(err)
		}
		p1, err := decompressed(src, codec)
		if err != nil {
			t.Fatalf("%s: %v", codec, err)
		}
		got, err := os.ReadFile(p1)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: decompressed content differs", codec)
		}
		if !strings.HasSuffix(p1, "-disk.raw") {
			t.Errorf("%s: cache name %s does not keep the base name", codec, p1)
		}
		fi, _ := os.Stat(p1)
		if fi.Mode().Perm()&0o222 != 0 {
			t.Errorf("%s: cached file is writable: %v", codec, fi.Mode())
		}
		// The second call reuses the cache.
		p2, err := decompressed(src, codec)
		if err != nil || p2 != p1 {
			t.Errorf("%s: second call gave %s, %v; want %s", codec, p2, err, p1)
		}
		// A changed fixture gets a new cache entry.
		if err := os.WriteFile(src, append(data, 0), 0o644); err != nil {
			t.Fatal(err)
		}
		if p3, _ := decompressed(src, codec); p3 == p1 {
			t.Errorf("%s: changed fixture reused the stale cache entry", codec)
		}
	}
	// Corrupt input is an error, not a truncated fixture.
	bad := filepath.Join(dir, "bad.raw.xz")
	os.WriteFile(bad, xzBuf.Bytes()[:xzBuf.Len()/2], 0o644)
	if p, err := decompressed(bad, "xz"); err == nil {
		t.Errorf("truncated xz decompressed without error to %s", p)
	}
}

func TestParseManifest(t *testing.T) {
	in := "# kind\tpath\tsize\tsha256\tdosname\tattributes\ttarget\tsecurity\n" +
		"d\tProgram Files\t0\t-\tPROGRA~1\t0x00000000\t-\ttree-dir\n" +
		"f\tboot.ini\t12\tabcd\t-\t0x00000006\t-\ttree-file\n" +
		"j\tDocuments and Settings\t0\t-\tDOCUME~1\t0x00002416\tC:\\Users\ttree-dir\n"
	got, err := parseManifest(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Kind: 'd', Path: "Program Files", DOSName: "PROGRA~1", Security: "tree-dir"},
		{Kind: 'f', Path: "boot.ini", Size: 12, SHA256: "abcd", Attrs: 6, Security: "tree-file"},
		{Kind: 'j', Path: "Documents and Settings", DOSName: "DOCUME~1", Attrs: 0x2416, Target: `C:\Users`, Security: "tree-dir"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("manifest (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"f\tx\n", "f\tx\tten\t-\t-\t0\t-\ts\n", "f\tx\t1\t-\t-\tzz\t-\ts\n", "ff\tx\t1\t-\t-\t0\t-\ts\n"} {
		if _, err := parseManifest(strings.NewReader(bad)); err == nil {
			t.Errorf("parseManifest(%q) accepted a bad line", bad)
		}
	}
}

// recorder is a testing.TB that records Skip and Fatal, which end the
// calling goroutine as the real ones do, without ending the test.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = true
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = true
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// call runs f with r the way a test body runs: Skipf and Fatalf stop it.
func (r *recorder) call(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

func TestOracleModes(t *testing.T) {
	// A tool that exists: a script in a folder put first on $PATH.
	bin := t.TempDir()
	script := "imagecustom-fake-tool"
	if runtime.GOOS == "windows" {
		script += ".bat"
	}
	if err := os.WriteFile(filepath.Join(bin, script), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	const (
		missing = "imagecustom-no-such-tool"
		present = "imagecustom-fake-tool"
	)
	for _, tt := range []struct {
		mode, tool      string
		skipped, failed bool
	}{
		{"", missing, true, false},
		{"require", missing, false, true},
		{"off", missing, true, false},
		{"off", present, true, false},
		{"", present, false, false},
		{"require", present, false, false},
	} {
		t.Setenv(OraclesEnv, tt.mode)
		r := &recorder{TB: t}
		var p string
		r.call(func() { p = Oracle(r, tt.tool) })
		if r.skipped != tt.skipped || r.failed != tt.failed {
			t.Errorf("mode %q tool %s: skipped=%v failed=%v, want %v %v (%s)",
				tt.mode, tt.tool, r.skipped, r.failed, tt.skipped, tt.failed, r.msg)
		}
		if !tt.skipped && !tt.failed && p == "" {
			t.Errorf("mode %q tool %s: no path", tt.mode, tt.tool)
		}
		if tt.failed && !strings.Contains(r.msg, "IMAGECUSTOM_ORACLES=require") {
			t.Errorf("failure message does not say why: %s", r.msg)
		}
	}
}
