package vmdk_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
	"github.com/imagecustom/go-imagecustom/vmdk"
)

// undoFile records the old bytes of every range written and the old size
// before any truncation, as an undo journal would.
type undoFile struct {
	*os.File
	log *undoLog
}

type undoRec struct {
	name string
	off  int64
	old  []byte
	size int64 // file size before the write
}

type undoLog struct{ recs []undoRec }

func (u undoFile) record(off, n int64) {
	fi, err := u.File.Stat()
	if err != nil {
		panic(err)
	}
	old := make([]byte, max(0, min(n, fi.Size()-off)))
	u.File.ReadAt(old, off)
	u.log.recs = append(u.log.recs, undoRec{name: u.File.Name(), off: off, old: old, size: fi.Size()})
}

func (u undoFile) WriteAt(p []byte, off int64) (int, error) {
	u.record(off, int64(len(p)))
	return u.File.WriteAt(p, off)
}

func (u undoFile) Truncate(size int64) error {
	u.record(size, 1<<40)
	return u.File.Truncate(size)
}

// snapshotDir returns the content of every file in dir.
func snapshotDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = b
	}
	return m
}

// TestOpenFileHook writes through Options.OpenFile and then undoes every
// recorded host-file write: each file must come back byte-identical, which
// proves no byte reached the disk around the hook (the property the image
// layer's undo journal relies on).
func TestOpenFileHook(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	dir := t.TempDir()
	const size = 3<<20 + 512
	src, _ := makeRaw(t, dir, size, 5)
	for _, sub := range []string{"monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse", "twoGbMaxExtentFlat"} {
		t.Run(sub, func(t *testing.T) {
			work := t.TempDir()
			dst := filepath.Join(work, "disk.vmdk")
			testimg.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat="+sub, src, dst)
			before := snapshotDir(t, work)
			log := &undoLog{}
			opened := map[string]int{}
			opts := &vmdk.Options{Write: true, OpenFile: func(name string, flag int) (vmdk.File, error) {
				opened[filepath.Base(name)]++
				f, err := os.OpenFile(name, flag, 0)
				if err != nil {
					return nil, err
				}
				return undoFile{f, log}, nil
			}}
			d, err := vmdk.Open(dst, opts)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := os.OpenFile(filepath.Join(dir, "ref-"+sub), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer ref.Close()
			raw, _ := os.ReadFile(src)
			ref.Write(raw)
			writeRandom(t, d, ref, size, 60, 11)
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			out := testimg.Run(t, "qemu-img", "compare", "-f", "vmdk", "-F", "raw", dst, ref.Name())
			if !bytes.Contains(out, []byte("identical")) {
				t.Fatalf("qemu-img compare: %s", out)
			}
			if len(opened) != len(before) {
				t.Errorf("hook opened %v; the disk has files %v", keys(opened), keys(before))
			}
			// Undo, newest first.
			for i := len(log.recs) - 1; i >= 0; i-- {
				r := log.recs[i]
				f, err := os.OpenFile(r.name, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteAt(r.old, r.off)
				f.Truncate(r.size)
				f.Close()
			}
			after := snapshotDir(t, work)
			if len(after) != len(before) {
				t.Fatalf("files before %v, after %v", keys(before), keys(after))
			}
			for name, b := range before {
				if !bytes.Equal(after[name], b) {
					t.Errorf("%s differs after undoing the hooked writes: something was written around the hook", name)
				}
			}
		})
	}
}

func keys[V any](m map[string]V) []string {
	var s []string
	for k := range m {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}
