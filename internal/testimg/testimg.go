// Package testimg gives tests access to the project's fixtures and to the
// third-party oracle tools that check our output.
//
// Fixtures live in the repository's testdata folder, many of them
// compressed. [Copy] hands a test its own writable copy, decompressed, in the
// test's temporary directory, so no test can damage a committed fixture;
// [Path] gives the shared read-only decompressed file for tests that only
// read. Decompressed fixtures are cached across runs (see [CacheDir]), and
// copies keep zero blocks as holes, so a 256 MiB mostly empty disk costs
// little.
//
// [Oracle] finds a tool such as ntfsls or qemu-img. A missing tool skips the
// test, unless the environment variable IMAGECUSTOM_ORACLES is "require"
// (as in CI), where it fails the test; "off" skips every oracle test.
package testimg

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"
)

// OraclesEnv is the environment variable that says how to treat missing
// oracle tools: "require" fails the test, "off" skips every oracle test,
// anything else skips only when the tool is missing.
const OraclesEnv = "IMAGECUSTOM_ORACLES"

// CacheEnv overrides the folder where decompressed fixtures are cached.
const CacheEnv = "IMAGECUSTOM_FIXTURE_CACHE"

// Dir returns the absolute path of the repository's testdata folder, found
// by walking up from the current directory to the folder holding go.mod.
func Dir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("testimg: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("testimg: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Path returns the path of a decompressed fixture, read-only and shared by
// every test: name is relative to testdata, without the .xz or .gz suffix
// the committed file may have. A test must not write to it; use [Copy].
func Path(t testing.TB, name string) string {
	t.Helper()
	src, codec := find(t, name)
	if codec == "" {
		return src
	}
	p, err := decompressed(src, codec)
	if err != nil {
		t.Fatalf("testimg: %s: %v", name, err)
	}
	return p
}

// Copy returns the path of a private, writable copy of a fixture in the
// test's temporary directory, decompressed if the committed file is
// compressed. The copy keeps the fixture's base name (minus the compression
// suffix) and is removed when the test ends.
func Copy(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(CopyAll(t, name), filepath.Base(name))
}

// Bytes returns the whole content of a (decompressed) fixture.
func Bytes(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(Path(t, name))
	if err != nil {
		t.Fatalf("testimg: %v", err)
	}
	return b
}

// find locates the committed file for name: name itself, or name.xz or
// name.gz. It returns the path and the codec ("" when uncompressed).
func find(t testing.TB, name string) (path, codec string) {
	t.Helper()
	path, codec = locate(Dir(t), name)
	if codec == "missing" {
		t.Fatalf("testimg: no fixture %s (nor %[1]s.xz, %[1]s.gz) under %s", name, Dir(t))
	}
	return path, codec
}

// locate is find without the test: codec is "missing" when there is no
// such fixture.
func locate(dir, name string) (path, codec string) {
	base := filepath.Join(dir, filepath.FromSlash(name))
	for _, c := range []string{"", "xz", "gz"} {
		p := base
		if c != "" {
			p += "." + c
		}
		if _, err := os.Stat(p); err == nil {
			return p, c
		}
	}
	return "", "missing"
}

// CacheDir returns the folder holding decompressed fixtures: $IMAGECUSTOM_FIXTURE_CACHE,
// else go-imagecustom/fixtures in the user's cache folder, else in the
// system's temporary folder.
func CacheDir() string {
	if d := os.Getenv(CacheEnv); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "go-imagecustom", "fixtures")
	}
	return filepath.Join(os.TempDir(), "go-imagecustom-fixtures")
}

// decompressed returns the cached decompressed form of src, creating it if
// needed. The cache key is the compressed file's SHA-256, so an updated
// fixture never meets a stale copy; concurrent test processes race safely
// because the file is renamed into place whole.
func decompressed(src, codec string) (string, error) {
	sum, err := fileSHA256(src)
	if err != nil {
		return "", err
	}
	dir := CacheDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	name := strings.TrimSuffix(filepath.Base(src), "."+codec)
	dst := filepath.Join(dir, sum[:16]+"-"+name)
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	tmp, err := os.CreateTemp(dir, name+".tmp*")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name()) // no-op once renamed
	if err := Unpack(src, tmp.Name()); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp.Name(), 0o444); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", err
	}
	return dst, nil
}

// Unpack decompresses src (.xz or .gz, by its name) into dst, replacing
// it, keeping runs of zeros as holes.
func Unpack(src, dst string) error {
	codec := strings.TrimPrefix(filepath.Ext(src), ".")
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader
	switch codec {
	case "xz":
		r, err = xz.NewReader(bufio.NewReaderSize(f, 1<<20))
	case "gz":
		r, err = gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	default:
		err = fmt.Errorf("unknown compression %q", codec)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if err := writeSparse(out, r); err != nil {
		out.Close()
		return fmt.Errorf("%s: %w", src, err)
	}
	return out.Close()
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// copySparse copies src to a new file dst with the given permissions,
// leaving holes where src has blocks of zeros.
func copySparse(dst, src string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if err := writeSparse(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// sparseBlock is the unit in which zero runs are skipped rather than written.
const sparseBlock = 64 << 10

// writeSparse copies r to the empty file f, seeking over blocks that are
// all zero so the file system can leave them unallocated. Only io.EOF ends
// the copy: any other error, io.ErrUnexpectedEOF from a truncated
// compressed stream included, is returned.
func writeSparse(f *os.File, r io.Reader) error {
	buf := make([]byte, sparseBlock)
	var size int64
	for eof := false; !eof; {
		n := 0
		for n < len(buf) && !eof {
			m, err := r.Read(buf[n:])
			n += m
			switch {
			case errors.Is(err, io.EOF):
				eof = true
			case err != nil:
				return err
			}
		}
		if n == 0 {
			break
		}
		if isZero(buf[:n]) {
			if _, err := f.Seek(int64(n), io.SeekCurrent); err != nil {
				return err
			}
		} else if _, err := f.Write(buf[:n]); err != nil {
			return err
		}
		size += int64(n)
	}
	return f.Truncate(size)
}

func isZero(b []byte) bool {
	for len(b) >= 8 {
		if b[0]|b[1]|b[2]|b[3]|b[4]|b[5]|b[6]|b[7] != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// packages names the Debian package that provides each oracle tool, for
// the message of a test that cannot find one.
var packages = map[string]string{
	"qemu-img":      "qemu-utils",
	"vmdkinfo":      "libvmdk-utils",
	"vmdkmount":     "libvmdk-utils",
	"mkntfs":        "ntfs-3g",
	"ntfsls":        "ntfs-3g",
	"ntfscat":       "ntfs-3g",
	"ntfsinfo":      "ntfs-3g",
	"ntfsfix":       "ntfs-3g",
	"ntfsresize":    "ntfs-3g",
	"ntfsclone":     "ntfs-3g",
	"ntfscp":        "ntfs-3g",
	"ntfs-3g.probe": "ntfs-3g",
	"ntfssecaudit":  "ntfs-3g",
	"fls":           "sleuthkit",
	"icat":          "sleuthkit",
	"istat":         "sleuthkit",
	"fsstat":        "sleuthkit",
	"mmls":          "sleuthkit",
	"sfdisk":        "fdisk",
	"fsntfsinfo":    "libfsntfs-utils",
	"wimcapture":    "wimtools",
	"wimapply":      "wimtools",
	"hivexget":      "libhivex-bin",
	"hivexsh":       "libhivex-bin",
	"hivexml":       "libhivex-bin",
	"hivexregedit":  "libwin-hivex-perl",
	"regfinfo":      "libregf-utils",
	"regfexport":    "libregf-utils",
	"reglookup":     "reglookup",
	"xz":            "xz-utils",
}

// Oracle returns the path of the named third-party tool. When the tool is
// not installed the test is skipped, or failed if $IMAGECUSTOM_ORACLES is
// "require". With $IMAGECUSTOM_ORACLES set to "off" every oracle test skips.
func Oracle(t testing.TB, tool string) string {
	t.Helper()
	mode := os.Getenv(OraclesEnv)
	if mode == "off" {
		t.Skipf("oracle %s: %s=off", tool, OraclesEnv)
	}
	p, err := exec.LookPath(tool)
	if err == nil {
		return p
	}
	hint := ""
	if pkg, ok := packages[tool]; ok {
		hint = " (Debian package " + pkg + ")"
	}
	if mode == "require" {
		t.Fatalf("oracle %s%s is required (%s=require) but not found: %v", tool, hint, OraclesEnv, err)
	}
	t.Skipf("oracle %s%s not installed", tool, hint)
	return ""
}

// Run runs an oracle tool with args and returns its standard output. The
// tool is found with [Oracle] (so the test may skip); a non-zero exit fails
// the test with the tool's standard error.
func Run(t testing.TB, tool string, args ...string) []byte {
	t.Helper()
	out, err := RunErr(t, tool, args...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return out
}

// RunErr is like [Run] but returns a failed run's error (with the tool's
// standard error in its text) instead of failing the test.
func RunErr(t testing.TB, tool string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(Oracle(t, tool), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s: %w\n%s", tool, strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

// CopyAll copies several fixtures into one new private folder and returns
// it: for files that refer to each other by name, such as a VMDK
// descriptor and its extents. Each keeps its base name, decompressed.
func CopyAll(t testing.TB, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range names {
		dst := filepath.Join(dir, filepath.Base(name))
		if err := copySparse(dst, Path(t, name), 0o644); err != nil {
			t.Fatalf("testimg: copy %s: %v", name, err)
		}
	}
	return dir
}

// DirSums returns the size and SHA-256 of every file in dir, by name: two
// calls compare equal when no file was added, removed or changed.
func DirSums(t testing.TB, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		n, err := io.Copy(h, f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = fmt.Sprintf("%d bytes, sha256 %x", n, h.Sum(nil))
	}
	return m
}
