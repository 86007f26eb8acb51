package vmdk_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
	"github.com/imagecustom/go-imagecustom/vmdk"
)

// writeRandom applies n random writes (1 byte to 3 grains long, some all
// zero, some overlapping the last) to both w and the raw file ref.
func writeRandom(t testing.TB, w interface {
	WriteAt([]byte, int64) (int, error)
}, ref *os.File, size int64, n int, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	const grain = 64 << 10
	var last int64
	for i := 0; i < n; i++ {
		length := int64(1 + r.IntN(3*grain))
		var off int64
		switch r.IntN(4) {
		case 0: // overlap the previous write
			off = max(0, last-int64(r.IntN(grain)))
		case 1: // straddle a grain boundary
			off = int64(r.IntN(int(size/grain)))*grain - int64(r.IntN(513))
		default:
			off = r.Int64N(size)
		}
		off = max(0, min(off, size-1))
		length = min(length, size-off)
		p := make([]byte, length)
		if r.IntN(5) != 0 {
			for j := range p {
				p[j] = byte(r.Uint32())
			}
		}
		if _, err := w.WriteAt(p, off); err != nil {
			t.Fatalf("write %d: WriteAt(%d bytes at %d): %v", i, length, off, err)
		}
		if _, err := ref.WriteAt(p, off); err != nil {
			t.Fatal(err)
		}
		last = off
	}
}

// TestWriteRandom applies random writes to each writable subformat qemu-img
// makes and to a raw copy, then asks qemu-img whether the two hold the
// same disk and whether the VMDK is consistent.
func TestWriteRandom(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	dir := t.TempDir()
	const size = 5<<20 + 512
	src, _ := makeRaw(t, dir, size, 9)
	for _, sub := range []string{"monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse", "twoGbMaxExtentFlat"} {
		for _, start := range []string{"empty", "full"} {
			t.Run(sub+"/"+start, func(t *testing.T) {
				tmp := t.TempDir()
				ref := filepath.Join(tmp, "ref.raw")
				dst := filepath.Join(tmp, sub+".vmdk")
				if start == "empty" {
					testimg.Run(t, "qemu-img", "create", "-f", "vmdk", "-o", "subformat="+sub, dst, "5243392")
					testimg.Run(t, "qemu-img", "create", "-f", "raw", ref, "5243392")
				} else {
					testimg.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat="+sub, src, dst)
					testimg.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "raw", src, ref)
				}
				rf, err := os.OpenFile(ref, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer rf.Close()
				d, err := vmdk.Open(dst, &vmdk.Options{Write: true})
				if err != nil {
					t.Fatal(err)
				}
				cid := d.Descriptor().CID
				writeRandom(t, d, rf, size, 300, 11)
				if err := d.Close(); err != nil {
					t.Fatal(err)
				}
				testimg.Run(t, "qemu-img", "compare", "-f", "vmdk", "-F", "raw", dst, ref)
				if strings.HasSuffix(sub, "Sparse") {
					testimg.Run(t, "qemu-img", "check", dst)
				}
				// Our own reading agrees, and the session changed the CID once.
				d, err = vmdk.Open(dst, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				want, _ := os.ReadFile(ref)
				if i := firstDiff(readAll(t, d), want); i >= 0 {
					t.Fatalf("reads back different at byte %d", i)
				}
				if d.Descriptor().CID == cid {
					t.Errorf("CID still %08x after writes", cid)
				}
			})
		}
	}
}

// TestWriteKeepsDescriptor checks that writing changes only the CID of
// the descriptor and keeps keys we do not know.
func TestWriteKeepsDescriptor(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	dir := t.TempDir()
	dst := filepath.Join(dir, "d.vmdk")
	testimg.Run(t, "qemu-img", "create", "-f", "vmdk", "-o", "subformat=monolithicFlat", dst, "1M")
	b, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, "ddb.toolsInstallType = \"4\"\nddb.uuid.image = \"60 00 c2 9b\"\n"...)
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := vmdk.Open(dst, &vmdk.Options{Write: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.WriteAt([]byte("hello"), 1000); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`ddb.toolsInstallType = "4"`, `ddb.uuid.image = "60 00 c2 9b"`, "ddb.adapterType"} {
		if !bytes.Contains(after, []byte(key)) {
			t.Errorf("descriptor lost %s:\n%s", key, after)
		}
	}
	testimg.Run(t, "qemu-img", "info", dst)
}

// TestWriteRefusals checks the typed errors of writes that cannot be done.
func TestWriteRefusals(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	dir := t.TempDir()
	stream := filepath.Join(dir, "s.vmdk")
	testimg.Run(t, "qemu-img", "create", "-f", "vmdk", "-o", "subformat=streamOptimized", stream, "1M")
	if _, err := vmdk.Open(stream, &vmdk.Options{Write: true}); !errors.Is(err, vmdk.ErrReadOnly) || !strings.Contains(err.Error(), "convert") {
		t.Errorf("open streamOptimized for writing: %v, want ErrReadOnly saying to convert", err)
	}
	sparse := filepath.Join(dir, "m.vmdk")
	testimg.Run(t, "qemu-img", "create", "-f", "vmdk", sparse, "1M")
	d, err := vmdk.Open(sparse, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.WriteAt([]byte{1}, 0); !errors.Is(err, vmdk.ErrReadOnly) {
		t.Errorf("write to a read-only disk: %v", err)
	}
	d.Close()
	d, err = vmdk.Open(sparse, &vmdk.Options{Write: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.WriteAt([]byte{1, 2}, 1<<20-1); err == nil {
		t.Error("write past the end succeeded")
	}
}

// TestUncleanShutdown checks that a disk left open by a writer (its flag
// set) is refused for writing unless the caller allows it, and still reads.
func TestUncleanShutdown(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	dst := filepath.Join(t.TempDir(), "m.vmdk")
	testimg.Run(t, "qemu-img", "create", "-f", "vmdk", dst, "1M")
	d, err := vmdk.Open(dst, &vmdk.Options{Write: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.WriteAt([]byte("data"), 0); err != nil {
		t.Fatal(err)
	}
	// A crash: the file is left as it is, unclean, without Close.
	if _, err := vmdk.Open(dst, &vmdk.Options{Write: true}); !errors.Is(err, vmdk.ErrUnclean) {
		t.Fatalf("reopen after a crash: %v, want ErrUnclean", err)
	}
	r, err := vmdk.Open(dst, nil)
	if err != nil {
		t.Fatalf("read-only open of an unclean disk: %v", err)
	}
	r.Close()
	w, err := vmdk.Open(dst, &vmdk.Options{Write: true, AllowUnclean: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	d.Close()
	testimg.Run(t, "qemu-img", "check", dst)
	if _, err := vmdk.Open(dst, &vmdk.Options{Write: true}); err != nil {
		t.Fatalf("after a clean close: %v", err)
	}
}
