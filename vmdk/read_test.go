package vmdk_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
	"github.com/imagecustom/go-imagecustom/vmdk"
)

// makeRaw writes a raw disk of size bytes to dir with random data, zero
// runs and holes at seeded places, and returns its path and contents.
func makeRaw(t testing.TB, dir string, size int64, seed uint64) (string, []byte) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 0x766d646b))
	b := make([]byte, size)
	for off := int64(0); off < size; {
		n := int64(1 + r.IntN(200<<10))
		if off+n > size {
			n = size - off
		}
		switch r.IntN(4) {
		case 0, 1: // random data
			for i := off; i < off+n; i++ {
				b[i] = byte(r.Uint32())
			}
		case 2: // a written zero run: stays zero
		case 3: // a short pattern, compressible
			for i := off; i < off+n; i++ {
				b[i] = byte(i / 512)
			}
		}
		off += n
	}
	path := filepath.Join(dir, fmt.Sprintf("src-%d.raw", seed))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, b
}

// readAll reads the whole of d with reads of varying sizes, as a caller
// walking the disk would.
func readAll(t testing.TB, d *vmdk.Disk) []byte {
	t.Helper()
	out := make([]byte, d.Size())
	r := rand.New(rand.NewPCG(1, 2))
	for off := int64(0); off < d.Size(); {
		n := int64(1 + r.IntN(300<<10))
		if off+n > d.Size() {
			n = d.Size() - off
		}
		if _, err := d.ReadAt(out[off:off+n], off); err != nil {
			t.Fatalf("ReadAt(%d bytes at %d): %v", n, off, err)
		}
		off += n
	}
	return out
}

// TestReadQemuMade reads disks qemu-img made from random raw data in each
// subformat it writes, sizes included that are not a multiple of the
// grain, and compares every byte with the source.
func TestReadQemuMade(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	dir := t.TempDir()
	sizes := []int64{64 << 10, 3<<20 + 512, 5 << 20}
	for i, size := range sizes {
		src, want := makeRaw(t, dir, size, uint64(i))
		for _, sub := range testimg.VMDKSubformats() {
			t.Run(fmt.Sprintf("%s/%d", sub, size), func(t *testing.T) {
				dst := filepath.Join(t.TempDir(), sub+".vmdk")
				testimg.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat="+sub, src, dst)
				d, err := vmdk.Open(dst, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				if d.Size() != size {
					t.Fatalf("Size = %d, want %d", d.Size(), size)
				}
				got := readAll(t, d)
				if sha256.Sum256(got) != sha256.Sum256(want) {
					t.Fatalf("contents differ from the raw source at byte %d", firstDiff(got, want))
				}
				// Reads past the end: io.EOF with the bytes that were there.
				buf := make([]byte, 1024)
				n, err := d.ReadAt(buf, size-100)
				if n != 100 || !errors.Is(err, io.EOF) {
					t.Fatalf("ReadAt across the end = %d, %v; want 100, EOF", n, err)
				}
			})
		}
	}
}

// TestReadMultiExtent reads split disks of more than one 2 GB extent,
// comparing them with their source a chunk at a time.
func TestReadMultiExtent(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 2 GiB")
	}
	testimg.Oracle(t, "qemu-img")
	dir := t.TempDir()
	src := filepath.Join(dir, "big.raw")
	const size = 2<<30 + 3<<20 + 512
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	marks := []int64{0, 1 << 20, 2<<30 - 64<<10 - 100, 2<<30 - 512, 2<<30 - 100, 2 << 30, size - 4096}
	for i, off := range marks {
		if _, err := f.WriteAt(bytes.Repeat([]byte{byte(i + 1)}, 4096), off); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"twoGbMaxExtentSparse", "twoGbMaxExtentFlat"} {
		t.Run(sub, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), sub+".vmdk")
			testimg.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat="+sub, src, dst)
			d, err := vmdk.Open(dst, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			if n := len(d.Descriptor().Extents); n < 2 {
				t.Fatalf("%d extents, want 2 or more", n)
			}
			if d.Size() != size {
				t.Fatalf("Size = %d, want %d", d.Size(), size)
			}
			got, want := make([]byte, 8<<20), make([]byte, 8<<20)
			for off := int64(0); off < size; off += int64(len(got)) {
				n := min(int64(len(got)), size-off)
				if _, err := d.ReadAt(got[:n], off); err != nil {
					t.Fatalf("ReadAt %d: %v", off, err)
				}
				if _, err := f.ReadAt(want[:n], off); err != nil {
					t.Fatal(err)
				}
				if i := firstDiff(got[:n], want[:n]); i >= 0 {
					t.Fatalf("contents differ from the raw source at byte %d", off+int64(i))
				}
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// qemuRaw converts the image at path to raw with qemu-img and returns
// its bytes: what qemu-img reads.
func qemuRaw(t testing.TB, path string) []byte {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "qemu.raw")
	testimg.Run(t, "qemu-img", "convert", "-O", "raw", path, dst)
	b, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReadRealVMDKs reads the VMware-made files in testdata/real/vmdk as
// qemu-img reads them.
func TestReadRealVMDKs(t *testing.T) {
	cases := []struct {
		name  string
		files []string
	}{
		{"monolithicSparse.vmdk", nil},
		{"streamOptimized.vmdk", nil},
		{"streamOptimizedWithMarkers.vmdk", nil},
		{"plaso_image.vmdk", nil},
		{"twoGbMaxExtentSparse.vmdk", []string{"twoGbMaxExtentSparse-s001.vmdk"}},
		{"vmfs_thick.vmdk", []string{"vmfs_thick-flat.vmdk"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			names := []string{"real/vmdk/" + c.name}
			for _, f := range c.files {
				names = append(names, "real/vmdk/"+f)
			}
			dir := testimg.CopyAll(t, names...)
			path := filepath.Join(dir, c.name)
			d, err := vmdk.Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			got := readAll(t, d)
			want := qemuRaw(t, path)
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("differs from qemu-img's reading at byte %d (sizes %d, %d)", i, len(got), len(want))
			}
		})
	}
}
