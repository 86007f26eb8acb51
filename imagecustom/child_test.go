package imagecustom_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// fixedCustomize writes files with fixed times, so that two runs on equal
// disks write equal bytes.
func fixedCustomize(t *testing.T, img *imagecustom.Image) {
	t.Helper()
	v, _, err := img.OpenNTFSRW(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := &ntfs.FileOptions{Time: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	if err := v.Mkdir("imagecustom", opts); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		data := bytes.Repeat([]byte(fmt.Sprintf("file %d ", i)), 4000*(i+1))
		if err := v.WriteFile(fmt.Sprintf("imagecustom/f%d.txt", i), data, opts); err != nil {
			t.Fatal(err)
		}
	}
}

// TestChildDisk writes a customization to a child disk of a raw image and
// of a VMDK, and the same in place on copies: the bases' files stay
// byte-identical, and qemu-img finds each child's chain identical to the
// image written in place.
func TestChildDisk(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	d := testimg.WinXP()
	for _, base := range []string{"raw", "monolithicSparse", "streamOptimized"} {
		t.Run(base, func(t *testing.T) {
			dir := t.TempDir()
			var image string
			if base == "raw" {
				image = testimg.Copy(t, d.Name)
			} else {
				image = filepath.Join(dir, "base.vmdk")
				testimg.Run(t, "qemu-img", "convert", "-O", "vmdk", "-o", "subformat="+base, testimg.Path(t, d.Name), image)
			}
			before := testimg.DirSums(t, filepath.Dir(image))
			child := filepath.Join(dir, "child.vmdk")
			img, err := imagecustom.OpenRW(image, &imagecustom.WriteOptions{Child: child})
			if err != nil {
				t.Fatal(err)
			}
			fixedCustomize(t, img)
			if err := img.Commit(); err != nil {
				t.Fatal(err)
			}
			img.Close()
			after := testimg.DirSums(t, filepath.Dir(image))
			for name, sum := range before {
				if after[name] != sum {
					t.Errorf("%s changed", name)
				}
			}
			// The same in place on a raw copy.
			inPlace := testimg.Copy(t, d.Name)
			img, err = imagecustom.OpenRW(inPlace, nil)
			if err != nil {
				t.Fatal(err)
			}
			fixedCustomize(t, img)
			if err := img.Commit(); err != nil {
				t.Fatal(err)
			}
			img.Close()
			out := testimg.Run(t, "qemu-img", "compare", "-f", "vmdk", "-F", "raw", child, inPlace)
			if !bytes.Contains(out, []byte("identical")) {
				t.Errorf("qemu-img compare child vs in place: %s", out)
			}
			testimg.Run(t, "qemu-img", "check", child)
			if base == "raw" {
				if _, err := os.Stat(filepath.Join(dir, "child-base.vmdk")); err != nil {
					t.Errorf("the raw base's wrapper: %v", err)
				}
			}
			// A second child with the same name is refused.
			if _, err := imagecustom.OpenRW(image, &imagecustom.WriteOptions{Child: child}); !errors.Is(err, fs.ErrExist) {
				t.Errorf("OpenRW onto an existing child: %v", err)
			}
		})
	}
}

// TestChildDiskAbandoned closes a child disk's image without committing:
// the child (and a raw base's wrapper) are gone, the base untouched.
func TestChildDiskAbandoned(t *testing.T) {
	d := testimg.WinXP()
	image := testimg.Copy(t, d.Name)
	dir := t.TempDir()
	child := filepath.Join(dir, "c.vmdk")
	img, err := imagecustom.OpenRW(image, &imagecustom.WriteOptions{Child: child})
	if err != nil {
		t.Fatal(err)
	}
	fixedCustomize(t, img)
	img.Close()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
	if _, err := imagecustom.OpenRW(image, &imagecustom.WriteOptions{Child: child, DryRun: true}); err == nil {
		t.Error("Child with DryRun accepted")
	}
}
