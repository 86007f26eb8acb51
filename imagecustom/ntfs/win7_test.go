package ntfs

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// TestWindows7Volume writes to the volume Windows 7 formatted (dfvfs test
// data, a qcow2 image converted to raw with qemu-img) and has the result
// checked by third-party tools and Check.
func TestWindows7Volume(t *testing.T) {
	raw := filepath.Join(t.TempDir(), "win7.raw")
	testimg.Run(t, "qemu-img", "convert", "-O", "raw", testimg.Path(t, "real/ntfs/windows_volume.qcow2"), raw)
	want := oracleTree(t, raw)
	f, err := os.OpenFile(raw, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	v, err := OpenRW(f, fi.Size(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if p, err := Check(ctx, v, nil); err != nil || len(p) > 0 {
		t.Fatalf("Check before writing: %v %v", p, err)
	}
	put := func(name string, n int) {
		data := content(name, n)
		if err := v.WriteFile(name, data, nil); err != nil {
			t.Fatalf("WriteFile(%s): %v", name, err)
		}
		want[name] = sha256.Sum256(data)
	}
	if err := v.MkdirAll("Windows/Setup/Scripts", nil); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"Windows/", "Windows/Setup/", "Windows/Setup/Scripts/"} {
		want[d] = [32]byte{}
	}
	put("Windows/Setup/Scripts/SetupComplete.cmd", 300)
	put("Windows/System32/config/syslog", 5000) // replaces the file Windows wrote
	for i := 0; i < 50; i++ {
		put("Windows/Setup/Scripts/"+string(rune('a'+i%26))+string(rune('a'+i/26))+" script.cmd", 2000)
	}
	checkAgainstOracles(t, v, raw, want)
}
