package ntfs

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// openCopy opens a private copy of a fixture volume for writing.
func openCopy(t *testing.T, name string, opts *Options) (*Volume, *os.File) {
	t.Helper()
	f, err := os.OpenFile(testimg.Copy(t, name), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, _ := f.Stat()
	v, err := OpenRW(f, fi.Size(), opts)
	if err != nil {
		t.Fatalf("OpenRW %s: %v", name, err)
	}
	return v, f
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestSetDirty(t *testing.T) {
	v, f := openCopy(t, "ntfs/tiny.raw", nil)
	if v.Info().Dirty() {
		t.Fatal("fresh volume is dirty")
	}
	if err := v.SetDirty(true); err != nil {
		t.Fatal(err)
	}
	f.Sync()
	// ntfs-3g's ntfsinfo refuses a volume scheduled for check unless
	// forced, and then reads the flag.
	if _, err := testimg.RunErr(t, "ntfsinfo", "-m", f.Name()); err == nil || !strings.Contains(err.Error(), "scheduled for check") {
		t.Errorf("ntfsinfo of a dirty volume: %v", err)
	}
	if out := string(testimg.Run(t, "ntfsinfo", "-f", "-m", f.Name())); !strings.Contains(out, "Volume Flags: 0x0001") {
		t.Errorf("ntfsinfo after SetDirty(true):\n%s", out)
	}
	if _, err := OpenRW(f, v.size, nil); !errors.Is(err, ErrUnsafe) {
		t.Errorf("OpenRW of a dirty volume: %v, want ErrUnsafe", err)
	}
	v2, err := OpenRW(f, v.size, &Options{AllowDirty: true})
	if err != nil {
		t.Fatalf("OpenRW with AllowDirty: %v", err)
	}
	if !v2.Info().Dirty() {
		t.Error("reopened volume is not dirty")
	}
	// ntfsfix clears it; we read that back.
	testimg.Run(t, "ntfsfix", "-d", f.Name())
	v3, err := Open(f, v.size)
	if err != nil || v3.Info().Dirty() {
		t.Errorf("after ntfsfix -d: dirty=%v, %v", v3 != nil && v3.Info().Dirty(), err)
	}
	// And back: set then clear leaves the flag as ntfsinfo reads it.
	v4, err := OpenRW(f, v.size, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := v4.SetDirty(true); err != nil {
		t.Fatal(err)
	}
	if err := v4.SetDirty(false); err != nil {
		t.Fatal(err)
	}
	if out := string(testimg.Run(t, "ntfsinfo", "-m", f.Name())); !strings.Contains(out, "Volume Flags: 0x0000") {
		t.Errorf("ntfsinfo after SetDirty(false):\n%s", out)
	}
	testimg.Run(t, "ntfsfix", "-n", f.Name())
}

func TestSetDirtyOnReadOnlyVolume(t *testing.T) {
	b := testimg.Bytes(t, "ntfs/tiny.raw")
	v, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.SetDirty(true); !errors.Is(err, errReadOnly) {
		t.Errorf("SetDirty on a read-only volume: %v", err)
	}
}

// logFileOffset returns the byte offset of $LogFile's first cluster.
func logFileOffset(t *testing.T, v *Volume) int64 {
	t.Helper()
	f, err := v.loadFile(recLogFile)
	if err != nil {
		t.Fatal(err)
	}
	s, err := v.stream(f, attrData, "")
	if err != nil {
		t.Fatal(err)
	}
	return s.volumeOffset(0)
}

func TestOpenRWRefuses(t *testing.T) {
	page0, _ := rstrReal(t)
	unclean := rstrEdit(page0, rstrUnclean)
	fastStartup := rstrEdit(page0, rstrVersion(2, 0))
	for _, tt := range []struct {
		name    string
		prepare func(t *testing.T, v *Volume, path string)
		want    error
	}{
		{"unclean $LogFile", func(t *testing.T, v *Volume, path string) {
			patch(t, path, logFileOffset(t, v), rstrLog(8192, unclean))
		}, ErrUnsafe},
		{"fast startup $LogFile", func(t *testing.T, v *Volume, path string) {
			patch(t, path, logFileOffset(t, v), rstrLog(8192, fastStartup))
		}, ErrUnsafe},
		{"hibernated", func(t *testing.T, v *Volume, path string) {
			hib := filepath.Join(t.TempDir(), "hiberfil.sys")
			os.WriteFile(hib, append([]byte("HIBR"), make([]byte, 8188)...), 0o644)
			testimg.Run(t, "ntfscp", path, hib, "hiberfil.sys")
		}, ErrUnsafe},
		{"$MFTMirr differs", func(t *testing.T, v *Volume, path string) {
			m, err := v.mirror()
			if err != nil {
				t.Fatal(err)
			}
			patch(t, path, m.volumeOffset(0)+0x100, []byte{0x5A})
		}, ErrCorrupt},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := testimg.Copy(t, "ntfs/tiny.raw")
			b, _ := os.ReadFile(path)
			v, err := Open(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			tt.prepare(t, v, path)
			before := fileSum(t, path)
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := OpenRW(f, int64(len(b)), nil); !errors.Is(err, tt.want) {
				t.Fatalf("OpenRW: %v, want %v", err, tt.want)
			}
			if fileSum(t, path) != before {
				t.Error("a refused OpenRW changed the image")
			}
			// Reading is still possible.
			if _, err := Open(f, int64(len(b))); err != nil && tt.want == ErrUnsafe {
				t.Errorf("Open for reading: %v", err)
			}
		})
	}
	// A zeroed hiberfil.sys (hibernation off) is fine.
	path := testimg.Copy(t, "ntfs/tiny.raw")
	hib := filepath.Join(t.TempDir(), "hiberfil.sys")
	os.WriteFile(hib, make([]byte, 8192), 0o644)
	testimg.Run(t, "ntfscp", path, hib, "hiberfil.sys")
	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	defer f.Close()
	fi, _ := f.Stat()
	if _, err := OpenRW(f, fi.Size(), nil); err != nil {
		t.Errorf("OpenRW with a zeroed hiberfil.sys: %v", err)
	}
}

// patch writes b at off of the file at path.
func patch(t *testing.T, path string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}
