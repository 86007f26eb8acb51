package vmdk_test

import (
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
	"github.com/imagecustom/go-imagecustom/vmdk"
)

// TestCreate creates an empty disk of each type, asks qemu-img and
// libvmdk what they make of it, then writes random data to it and to a
// raw reference and has qemu-img compare the two.
func TestCreate(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	testimg.Oracle(t, "vmdkinfo")
	const size = 5<<20 + 512 // not a multiple of the grain
	for _, typ := range testimg.VMDKSubformats() {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "new.vmdk")
			d, err := vmdk.Create(path, typ, size)
			if err != nil {
				t.Fatal(err)
			}
			if d.Size() != size {
				t.Errorf("Size = %d, want %d", d.Size(), size)
			}
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			info := testimg.QemuInfo(t, path)
			if info.Format != "vmdk" || info.VirtualSize != size || info.FormatSpecific.Data.CreateType != typ {
				t.Errorf("qemu-img info: %+v, want vmdk of %d bytes, %s", info, size, typ)
			}
			testimg.Run(t, "qemu-img", "check", path)
			out := testimg.Run(t, "vmdkinfo", path)
			if !strings.Contains(string(out), "Media size") {
				t.Errorf("vmdkinfo output without the media size:\n%s", out)
			}
			if zero := make([]byte, size); string(qemuRaw(t, path)) != string(zero) {
				t.Error("a new disk does not read as zeros in qemu-img")
			}
			if _, err := vmdk.Create(path, typ, size); !errors.Is(err, fs.ErrExist) {
				t.Errorf("Create over an existing disk: %v, want fs.ErrExist", err)
			}
			if typ == vmdk.StreamOptimized {
				return // written by Convert only
			}
			d, err = vmdk.Open(path, &vmdk.Options{Write: true})
			if err != nil {
				t.Fatal(err)
			}
			ref, err := os.OpenFile(filepath.Join(dir, "ref.raw"), os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer ref.Close()
			if err := ref.Truncate(size); err != nil {
				t.Fatal(err)
			}
			writeRandom(t, d, ref, size, 200, 3)
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			testimg.Run(t, "qemu-img", "compare", "-f", "vmdk", "-F", "raw", path, ref.Name())
			testimg.Run(t, "qemu-img", "check", path)
		})
	}
}

// TestCreateRefusals checks sizes and types Create must refuse.
func TestCreateRefusals(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		typ  string
		size int64
	}{
		{vmdk.MonolithicSparse, 1000},
		{vmdk.MonolithicSparse, 0},
		{vmdk.MonolithicFlat, -512},
		{"vmfsSparse", 1 << 20},
		{vmdk.Raw, 1 << 20},
	} {
		path := filepath.Join(dir, "x.vmdk")
		if d, err := vmdk.Create(path, c.typ, c.size); err == nil {
			d.Close()
			t.Errorf("Create(%s, %d) succeeded", c.typ, c.size)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("Create(%s, %d) left %d files behind", c.typ, c.size, len(ents))
		}
	}
	// One extent file of a split disk in the way: nothing else is left.
	if err := os.WriteFile(filepath.Join(dir, "y-s002.vmdk"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := vmdk.Create(filepath.Join(dir, "y.vmdk"), vmdk.TwoGbMaxExtentSparse, 3<<30); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create over an extent file: %v, want fs.ErrExist", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files after a failed Create, want the 1 that was there", len(ents))
	}
}

// hashDir returns the SHA-256 of every file in dir.
func hashDir(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	m := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		m[path] = sha256.Sum256(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSnapshot builds a chain of three delta disks over a base, writing
// to each: the files below never change, qemu-img reads each child as we
// do, and each child reads the writes of the disks under it.
func TestSnapshot(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	const size = 3<<20 + 512
	for _, baseType := range []string{vmdk.MonolithicSparse, vmdk.TwoGbMaxExtentFlat} {
		t.Run(baseType, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			ref, err := os.OpenFile(filepath.Join(t.TempDir(), "ref.raw"), os.O_RDWR|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer ref.Close()
			ref.Truncate(size)
			base := filepath.Join(dir, "base.vmdk")
			d, err := vmdk.Create(base, baseType, size)
			if err != nil {
				t.Fatal(err)
			}
			writeRandom(t, d, ref, size, 50, 1)
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			parent := base
			for depth := 1; depth <= 3; depth++ {
				before := hashDir(t, dir)
				// Children in a subfolder: the hint must be relative.
				child := filepath.Join(dir, "snap", "c"+string(rune('0'+depth))+".vmdk")
				os.MkdirAll(filepath.Dir(child), 0o755)
				c, err := vmdk.Snapshot(parent, child)
				if err != nil {
					t.Fatal(err)
				}
				desc := c.Descriptor()
				if filepath.IsAbs(desc.ParentFileNameHint) {
					t.Errorf("parentFileNameHint %q is absolute", desc.ParentFileNameHint)
				}
				p, err := vmdk.Open(parent, nil)
				if err != nil {
					t.Fatal(err)
				}
				if desc.ParentCID != p.Descriptor().CID || c.Size() != size {
					t.Errorf("child parentCID %08x size %d, parent CID %08x size %d", desc.ParentCID, c.Size(), p.Descriptor().CID, size)
				}
				p.Close()
				writeRandom(t, c, ref, size, 40, uint64(10+depth))
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
				after := hashDir(t, dir)
				for name, h := range before {
					if after[name] != h {
						t.Errorf("depth %d: %s changed under a write to the child", depth, name)
					}
				}
				want, _ := os.ReadFile(ref.Name())
				c, err = vmdk.Open(child, nil)
				if err != nil {
					t.Fatal(err)
				}
				ours := readAll(t, c)
				c.Close()
				if i := firstDiff(ours, want); i >= 0 {
					t.Fatalf("depth %d: child reads differently from the reference at byte %d", depth, i)
				}
				if i := firstDiff(qemuRaw(t, child), ours); i >= 0 {
					t.Fatalf("depth %d: qemu-img reads the child differently at byte %d", depth, i)
				}
				testimg.Run(t, "qemu-img", "check", child)
				parent = child
			}
		})
	}
}

// TestSnapshotOfStream snapshots a read-only streamOptimized disk: the
// child takes the writes.
func TestSnapshotOfStream(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	dir := t.TempDir()
	src, want := makeRaw(t, dir, 1<<20, 4)
	stream := filepath.Join(dir, "s.vmdk")
	testimg.Run(t, "qemu-img", "convert", "-O", "vmdk", "-o", "subformat=streamOptimized", src, stream)
	c, err := vmdk.Snapshot(stream, filepath.Join(dir, "c.vmdk"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := vmdk.Snapshot(stream, filepath.Join(dir, "c.vmdk")); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Snapshot over an existing child: %v, want fs.ErrExist", err)
	}
	if _, err := vmdk.Snapshot(src, filepath.Join(dir, "d.vmdk")); err == nil {
		t.Error("Snapshot of a raw image succeeded")
	}
	copy(want[1000:], "written to the child")
	if _, err := c.WriteAt([]byte("written to the child"), 1000); err != nil {
		t.Fatal(err)
	}
	if i := firstDiff(readAll(t, c), want); i >= 0 {
		t.Fatalf("child differs at byte %d", i)
	}
}
