package vmdk_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
	"github.com/imagecustom/go-imagecustom/vmdk"
)

// convertTypes are the types Convert reads and writes.
func convertTypes() []string {
	return append([]string{vmdk.Raw}, testimg.VMDKSubformats()...)
}

// makeSource writes the raw disk want as an image of type typ in dir,
// with qemu-img (a raw one punched with holes where it is zero).
func makeSource(t *testing.T, dir, raw, typ string) string {
	t.Helper()
	dst := filepath.Join(dir, "src-"+typ+".vmdk")
	if typ == vmdk.Raw {
		dst = filepath.Join(dir, "src.img")
		testimg.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "raw", "-S", "64k", raw, dst)
		return dst
	}
	testimg.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat="+typ, raw, dst)
	return dst
}

// TestConvertPairs converts a disk of random data, zero runs and holes,
// its size not a multiple of the grain, between every pair of types, and
// checks that qemu-img reads the result as the source, that qemu-img check
// and libvmdk accept it, and that Progress reaches the total.
func TestConvertPairs(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	testimg.Oracle(t, "vmdkinfo")
	dir := t.TempDir()
	const size = 3<<20 + 7*512
	raw, want := makeRaw(t, dir, size, 21)
	wantSum := sha256.Sum256(want)
	for _, from := range convertTypes() {
		src := makeSource(t, dir, raw, from)
		for _, to := range convertTypes() {
			t.Run(from+"/"+to, func(t *testing.T) {
				t.Parallel()
				dst := filepath.Join(t.TempDir(), "dst.vmdk")
				var last, calls atomic.Int64
				opts := &vmdk.ConvertOptions{Type: to, Workers: 3, Sync: from == vmdk.Raw, Progress: func(done, total int64) {
					if done < last.Load() || total != size {
						t.Errorf("Progress(%d, %d) after %d", done, total, last.Load())
					}
					last.Store(done)
					calls.Add(1)
				}}
				if err := vmdk.Convert(context.Background(), src, dst, opts); err != nil {
					t.Fatal(err)
				}
				if last.Load() != size {
					t.Errorf("Progress ended at %d of %d", last.Load(), size)
				}
				got := qemuRaw(t, dst)
				if sha256.Sum256(got) != wantSum {
					t.Fatalf("qemu-img reads the result differently at byte %d (%d bytes, want %d)", firstDiff(got, want), len(got), len(want))
				}
				if to == vmdk.Raw {
					return
				}
				info := testimg.QemuInfo(t, dst)
				if info.FormatSpecific.Data.CreateType != to {
					t.Errorf("qemu-img info says %q, want %q", info.FormatSpecific.Data.CreateType, to)
				}
				testimg.Run(t, "qemu-img", "check", dst)
				testimg.Run(t, "vmdkinfo", dst)
				d, err := vmdk.Open(dst, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				if i := firstDiff(readAll(t, d), want); i >= 0 {
					t.Fatalf("reads back differently at byte %d", i)
				}
			})
		}
	}
}

// TestConvertStreamRoundTrip converts a raw disk to streamOptimized and
// back, by us and by qemu-img, and checks the four raw results are the
// source; the stream's layout is VMware's: header with the directory at
// the end, grains, tables, directory, footer, end-of-stream marker.
func TestConvertStreamRoundTrip(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	dir := t.TempDir()
	raw, want := spreadRaw(t, dir, 100<<20+512, 8) // four grain tables, the third empty
	stream := filepath.Join(dir, "s.vmdk")
	if err := vmdk.Convert(context.Background(), raw, stream, &vmdk.ConvertOptions{Type: vmdk.StreamOptimized}); err != nil {
		t.Fatal(err)
	}
	ours := filepath.Join(dir, "ours.raw")
	if err := vmdk.Convert(context.Background(), stream, ours, &vmdk.ConvertOptions{Type: vmdk.Raw}); err != nil {
		t.Fatal(err)
	}
	qemuStream := filepath.Join(dir, "q.vmdk")
	testimg.Run(t, "qemu-img", "convert", "-O", "vmdk", "-o", "subformat=streamOptimized", raw, qemuStream)
	oursFromQemu := filepath.Join(dir, "ours-q.raw")
	if err := vmdk.Convert(context.Background(), qemuStream, oursFromQemu, &vmdk.ConvertOptions{Type: vmdk.Raw}); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"ours": read(t, ours), "qemu": qemuRaw(t, stream), "ours of qemu's": read(t, oursFromQemu)} {
		if i := firstDiff(b, want); i >= 0 {
			t.Errorf("%s: stream to raw differs from the source at byte %d", name, i)
		}
	}
	testimg.Run(t, "qemu-img", "check", stream)
	if gts := checkStreamLayout(t, stream); gts != 3 {
		t.Errorf("%d grain tables in the stream, want 3 (the empty one omitted)", gts)
	}
	d, err := vmdk.Open(stream, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	desc := d.Descriptor()
	if desc.CreateType != "streamOptimized" || len(desc.Extents) != 1 || desc.Extents[0].File != "s.vmdk" || desc.Extents[0].Type != "SPARSE" {
		t.Errorf("descriptor: createType %q, extents %+v", desc.CreateType, desc.Extents)
	}
	for _, key := range []string{"ddb.adapterType", "ddb.geometry.cylinders", "ddb.geometry.heads", "ddb.geometry.sectors", "ddb.longContentID", "ddb.uuid", "ddb.virtualHWVersion"} {
		if desc.DDBValue(key) == "" {
			t.Errorf("descriptor without %s", key)
		}
	}
}

// spreadRaw writes a raw disk of size bytes holding makeRaw's mix of
// data in 2 MiB pieces at its start, middle and end, holes between.
func spreadRaw(t *testing.T, dir string, size int64, seed uint64) (string, []byte) {
	t.Helper()
	_, piece := makeRaw(t, dir, 2<<20, seed)
	want := make([]byte, size)
	for _, off := range []int64{0, size/2 - 1000, size - int64(len(piece))} {
		copy(want[off:], piece)
	}
	path := filepath.Join(dir, "spread.raw")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, off := range []int64{0, size/2 - 1000, size - int64(len(piece))} {
		if _, err := f.WriteAt(piece, off); err != nil {
			t.Fatal(err)
		}
	}
	return path, want
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkStreamLayout walks a stream written by Convert from its first
// grain to its end, checking each record is where the canonical layout
// puts it, and returns the number of grain tables.
func checkStreamLayout(t *testing.T, path string) int {
	t.Helper()
	b := read(t, path)
	le := func(off, n int) uint64 {
		var v uint64
		for i := n - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[off+i])
		}
		return v
	}
	if string(b[:4]) != "KDMV" || le(4, 4) != 3 || le(8, 4) != 0x30001 || le(56, 8) != 1<<64-1 || le(77, 2) != 1 {
		t.Fatalf("header: version %d flags %#x gdOffset %#x compression %d", le(4, 4), le(8, 4), le(56, 8), le(77, 2))
	}
	if len(b)%512 != 0 || len(b) < 3*512 {
		t.Fatalf("stream of %d bytes", len(b))
	}
	off := int(le(64, 8)) * 512
	var lastLBA int64 = -1
	var types []uint64
	for off < len(b) {
		n, size := le(off, 8), le(off+8, 4)
		if size != 0 {
			if int64(n) <= lastLBA || n%128 != 0 {
				t.Fatalf("grain record at %d for LBA %d after %d", off, n, lastLBA)
			}
			lastLBA = int64(n)
			off += (12 + int(size) + 511) / 512 * 512
			continue
		}
		typ := le(off+12, 4)
		types = append(types, typ)
		off += 512 * (1 + int(n))
	}
	if off != len(b) {
		t.Fatalf("records end at %d, the file at %d", off, len(b))
	}
	k := len(types)
	if k < 4 || types[k-1] != 0 || types[k-2] != 3 || types[k-3] != 2 || types[k-4] != 1 {
		t.Fatalf("marker types %v, want …GT, GD, footer, EOS", types)
	}
	footer := b[len(b)-1024 : len(b)-512]
	if string(footer[:4]) != "KDMV" {
		t.Fatal("no footer before the end-of-stream marker")
	}
	gts := 0
	for _, typ := range types {
		if typ == 1 {
			gts++
		}
	}
	return gts
}

// TestConvertSparseSource converts a nearly empty 1 TiB sparse disk: the
// work must follow the data, not the capacity (reading 1 TiB of zeros
// would time the test out).
func TestConvertSparseSource(t *testing.T) {
	dir := t.TempDir()
	const size = 1 << 40
	src := filepath.Join(dir, "big.vmdk")
	d, err := vmdk.Create(src, vmdk.MonolithicSparse, size)
	if err != nil {
		t.Fatal(err)
	}
	marks := map[int64]string{0: "first", 5<<30 + 12345: "middle", size - 10: "the end"}
	for off, s := range marks {
		if _, err := d.WriteAt([]byte(s), off); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{vmdk.Raw, vmdk.MonolithicSparse, vmdk.MonolithicFlat, vmdk.StreamOptimized} {
		dst := filepath.Join(dir, "out-"+to)
		if err := vmdk.Convert(context.Background(), src, dst, &vmdk.ConvertOptions{Type: to}); err != nil {
			t.Fatalf("%s: %v", to, err)
		}
		out, err := vmdk.Open(dst, nil)
		if to == vmdk.Raw {
			var f *os.File
			f, err = os.Open(dst)
			if err == nil {
				defer f.Close()
				for off, s := range marks {
					b := make([]byte, len(s))
					f.ReadAt(b, off)
					if string(b) != s {
						t.Errorf("raw: %q at %d, want %q", b, off, s)
					}
				}
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", to, err)
		}
		for off, s := range marks {
			b := make([]byte, len(s))
			out.ReadAt(b, off)
			if string(b) != s {
				t.Errorf("%s: %q at %d, want %q", to, b, off, s)
			}
		}
		out.Close()
	}
}

// TestConvertCancel cancels conversions, before and during the work:
// nothing is left at the destination.
func TestConvertCancel(t *testing.T) {
	dir := t.TempDir()
	raw, _ := makeRaw(t, dir, 8<<20, 3)
	for _, to := range convertTypes() {
		t.Run(to, func(t *testing.T) {
			out := t.TempDir()
			dst := filepath.Join(out, "dst.vmdk")
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := vmdk.Convert(ctx, raw, dst, &vmdk.ConvertOptions{Type: to}); !errors.Is(err, context.Canceled) {
				t.Errorf("canceled before: %v, want context.Canceled", err)
			}
			ctx, cancel = context.WithCancel(context.Background())
			defer cancel()
			opts := &vmdk.ConvertOptions{Type: to, Progress: func(done, total int64) {
				if done > 2<<20 {
					cancel()
				}
			}}
			if err := vmdk.Convert(ctx, raw, dst, opts); !errors.Is(err, context.Canceled) {
				t.Errorf("canceled during: %v, want context.Canceled", err)
			}
			if ents, _ := os.ReadDir(out); len(ents) != 0 {
				t.Errorf("%d files left after cancellation", len(ents))
			}
		})
	}
}

// TestConvertRefusals: an existing destination is never touched, an
// unknown type is refused, a missing source is an error.
func TestConvertRefusals(t *testing.T) {
	dir := t.TempDir()
	raw, _ := makeRaw(t, dir, 1<<20, 1)
	dst := filepath.Join(dir, "there.vmdk")
	os.WriteFile(dst, []byte("mine"), 0o644)
	if err := vmdk.Convert(context.Background(), raw, dst, nil); !errors.Is(err, fs.ErrExist) {
		t.Errorf("existing destination: %v, want fs.ErrExist", err)
	}
	if b := read(t, dst); string(b) != "mine" {
		t.Errorf("existing destination overwritten: %q", b)
	}
	if err := vmdk.Convert(context.Background(), raw, filepath.Join(dir, "x"), &vmdk.ConvertOptions{Type: "vhd"}); !errors.Is(err, vmdk.ErrUnsupported) {
		t.Errorf("type vhd: %v, want ErrUnsupported", err)
	}
	if err := vmdk.Convert(context.Background(), filepath.Join(dir, "none"), filepath.Join(dir, "y"), nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing source: %v, want fs.ErrNotExist", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("%d files in the folder, want the 2 that were there", len(ents))
	}
}

// TestConvertChain flattens a delta disk chain.
func TestConvertChain(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	dir := t.TempDir()
	const size = 2<<20 + 512
	base := filepath.Join(dir, "base.vmdk")
	d, err := vmdk.Create(base, vmdk.MonolithicSparse, size)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := os.Create(filepath.Join(dir, "ref.raw"))
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	ref.Truncate(size)
	writeRandom(t, d, ref, size, 30, 1)
	d.Close()
	parent := base
	for i := range 3 {
		child := filepath.Join(dir, "c"+string(rune('0'+i))+".vmdk")
		c, err := vmdk.Snapshot(parent, child)
		if err != nil {
			t.Fatal(err)
		}
		writeRandom(t, c, ref, size, 20, uint64(i+5))
		c.Close()
		parent = child
	}
	want := read(t, ref.Name())
	for _, to := range []string{vmdk.Raw, vmdk.StreamOptimized, vmdk.MonolithicSparse} {
		dst := filepath.Join(dir, "flat-"+to)
		if err := vmdk.Convert(context.Background(), parent, dst, &vmdk.ConvertOptions{Type: to}); err != nil {
			t.Fatal(err)
		}
		if i := firstDiff(qemuRaw(t, dst), want); i >= 0 {
			t.Errorf("%s: flattened chain differs at byte %d", to, i)
		}
	}
}

// TestConvertOddSize converts a raw image whose size is not a multiple of
// 512: a VMDK of it is rounded up to a whole sector, zeros at the end,
// and a raw copy keeps the exact size.
func TestConvertOddSize(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "odd.img")
	want := []byte("an odd-sized raw image, 1000 bytes long")
	want = append(want, make([]byte, 1000-len(want))...)
	want[999] = 'z'
	if err := os.WriteFile(raw, want, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{vmdk.MonolithicSparse, vmdk.StreamOptimized, vmdk.Raw} {
		dst := filepath.Join(dir, "out-"+to)
		if err := vmdk.Convert(context.Background(), raw, dst, &vmdk.ConvertOptions{Type: to}); err != nil {
			t.Fatalf("%s: %v", to, err)
		}
		var got []byte
		if to == vmdk.Raw {
			got = read(t, dst)
		} else {
			d, err := vmdk.Open(dst, nil)
			if err != nil {
				t.Fatal(err)
			}
			got = make([]byte, d.Size())
			d.ReadAt(got, 0)
			d.Close()
		}
		wantTo := want
		if to != vmdk.Raw {
			wantTo = append(append([]byte(nil), want...), make([]byte, 24)...)
		}
		if string(got) != string(wantTo) {
			t.Errorf("%s: %d bytes, differ at %d", to, len(got), firstDiff(got, wantTo))
		}
	}
}
