package imagecustom_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
	"github.com/imagecustom/go-imagecustom/vmdk"
)

// knownFile is a file of each fixture's system volume, as the manifest
// names it.
var knownFile = map[string]string{
	"winxp.raw": `WINDOWS\system32\config\software`,
	"win10.raw": `Windows\System32\config\SOFTWARE`,
}

// manifestSum returns the SHA-256 a fixture's manifest gives a file,
// compared without regard to case.
func manifestSum(t *testing.T, d testimg.Disk, path string) string {
	t.Helper()
	for _, e := range testimg.Manifest(t, d.Manifest) {
		if strings.EqualFold(e.Path, path) {
			return e.SHA256
		}
	}
	t.Fatalf("%s not in %s", path, d.Manifest)
	return ""
}

// TestOpenVMDK opens each Windows fixture in every VMDK subformat qemu-img
// writes: the same partitions, system volume and file bytes as the raw
// fixture.
func TestOpenVMDK(t *testing.T) {
	t.Parallel()
	for _, d := range testimg.Disks() {
		raw, err := imagecustom.Open(testimg.Path(t, d.Name))
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		rawVol, _, err := raw.OpenNTFS(0)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.ReplaceAll(knownFile[d.Name], `\`, "/")
		want, err := rawVol.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(want); hex.EncodeToString(sum[:]) != manifestSum(t, d, knownFile[d.Name]) {
			t.Fatalf("%s of the raw fixture does not match the manifest", name)
		}
		for _, sub := range testimg.VMDKSubformats() {
			t.Run(d.Name+"/"+sub, func(t *testing.T) {
				img, err := imagecustom.Open(testimg.VMDK(t, d, sub))
				if err != nil {
					t.Fatal(err)
				}
				defer img.Close()
				if img.Format() != "vmdk/"+sub || img.Scheme() != raw.Scheme() || img.Size() != raw.Size() {
					t.Errorf("format %s scheme %s size %d; raw: %s %d", img.Format(), img.Scheme(), img.Size(), raw.Scheme(), raw.Size())
				}
				if diff := cmp.Diff(raw.Partitions(), img.Partitions()); diff != "" {
					t.Errorf("partitions (-raw +vmdk):\n%s", diff)
				}
				sys, err := img.SystemPartition()
				if err != nil || sys.Offset != d.System.Offset {
					t.Errorf("SystemPartition = %+v, %v", sys, err)
				}
				v, _, err := img.OpenNTFS(0)
				if err != nil {
					t.Fatal(err)
				}
				got, err := v.ReadFile(name)
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s: %d bytes, %v; the raw fixture has %d", name, len(got), err, len(want))
				}
			})
		}
	}
}

func TestOpenVMDKRealFiles(t *testing.T) {
	// VMware-made and libvmdk's sample disks: no Windows volume, but the
	// format is detected from content and the disk opens.
	dir := testimg.CopyAll(t, "real/vmdk/twoGbMaxExtentSparse.vmdk", "real/vmdk/twoGbMaxExtentSparse-s001.vmdk",
		"real/vmdk/monolithicSparse.vmdk")
	for name, format := range map[string]string{
		"twoGbMaxExtentSparse.vmdk": "vmdk/twoGbMaxExtentSparse",
		"monolithicSparse.vmdk":     "vmdk/monolithicSparse",
	} {
		img, err := imagecustom.Open(filepath.Join(dir, name))
		if errors.Is(err, imagecustom.ErrNoVolume) {
			continue // detected and opened; no partition table inside
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if img.Format() != format {
			t.Errorf("%s: format %s", name, img.Format())
		}
		img.Close()
	}
	// A vmfsSparse (COWD) extent is named and refused.
	cowd := filepath.Join(t.TempDir(), "redo-delta.vmdk")
	os.WriteFile(cowd, append([]byte("COWD\x01\x00\x00\x00"), make([]byte, 4096)...), 0o644)
	if _, err := imagecustom.Open(cowd); !errors.Is(err, imagecustom.ErrUnsupported) || !strings.Contains(err.Error(), "COWD") {
		t.Errorf("COWD: %v", err)
	}
	if _, err := imagecustom.OpenRW(cowd, nil); !errors.Is(err, imagecustom.ErrUnsupported) {
		t.Errorf("OpenRW of COWD: %v", err)
	}
}

// putFile writes a new file into the image's Windows volume and commits.
func putFile(t *testing.T, path, name string, data []byte) []imagecustom.Change {
	t.Helper()
	img, err := imagecustom.OpenRW(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	v, _, err := img.OpenNTFSRW(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.MkdirAll(filepath.ToSlash(filepath.Dir(name)), nil); err != nil {
		t.Fatal(err)
	}
	if err := v.WriteFile(name, data, nil); err != nil {
		t.Fatal(err)
	}
	if err := img.Commit(); err != nil {
		t.Fatal(err)
	}
	ch, err := img.Changes()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// TestCommitVMDK writes a file into winxp as a VMDK of each writable
// subformat, then checks with tools no one here wrote: qemu-img check and
// convert to raw, ntfs-3g's ntfscat and ntfsfix, sleuthkit's fls and icat;
// and with this project's own reader and NTFS check.
func TestCommitVMDK(t *testing.T) {
	t.Parallel()
	d := testimg.WinXP()
	data := make([]byte, 200_000)
	for i := range data {
		data[i] = byte(i*7 + i/251)
	}
	const name = "WINDOWS/vmware_imc/setnet.bin"
	for _, sub := range []string{"monolithicSparse", "twoGbMaxExtentFlat", "twoGbMaxExtentSparse", "monolithicFlat"} {
		t.Run(sub, func(t *testing.T) {
			path := testimg.VMDK(t, d, sub)
			dir := filepath.Dir(path)
			files, _ := os.ReadDir(dir)
			cid := vmdkCID(t, path)
			ch := putFile(t, path, name, data)
			if len(ch) == 0 {
				t.Error("no changes reported")
			}
			if _, err := os.Stat(imagecustom.JournalPath(path)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("journal left after Commit: %v", err)
			}
			if after, _ := os.ReadDir(dir); len(after) != len(files) {
				t.Errorf("files before %d, after %d", len(files), len(after))
			}
			// The disk was closed cleanly with a new content ID, as
			// VMware does after a write.
			if c := vmdkCID(t, path); c == cid {
				t.Errorf("CID %08x unchanged", c)
			}
			if strings.Contains(sub, "Sparse") {
				testimg.Run(t, "qemu-img", "check", "-f", "vmdk", path)
			}
			raw := filepath.Join(t.TempDir(), "disk.raw")
			testimg.Run(t, "qemu-img", "convert", "-f", "vmdk", "-O", "raw", path, raw)
			vol := testimg.Section(t, raw, d.System)
			if got := testimg.Run(t, "ntfscat", vol, "/"+name); !bytes.Equal(got, data) {
				t.Errorf("ntfscat read %d bytes", len(got))
			}
			testimg.Run(t, "ntfsfix", "-n", vol)
			sector := fmt.Sprint(d.System.Offset / 512)
			var inode string
			for _, line := range strings.Split(string(testimg.Run(t, "fls", "-r", "-p", "-o", sector, raw)), "\n") {
				if strings.HasSuffix(line, "\t"+name) || strings.HasSuffix(line, " "+name) {
					f := strings.Fields(line)
					inode = strings.TrimSuffix(f[len(f)-2], ":")
				}
			}
			if inode == "" {
				t.Fatalf("fls does not list %s", name)
			}
			if got := testimg.Run(t, "icat", "-o", sector, raw, inode); !bytes.Equal(got, data) {
				t.Errorf("icat %s read %d bytes", inode, len(got))
			}
			// Our reader and check agree.
			img, err := imagecustom.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			v, _, err := img.OpenNTFS(0)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := v.ReadFile(name); err != nil || !bytes.Equal(got, data) {
				t.Errorf("read back: %d bytes, %v", len(got), err)
			}
			problems, err := ntfs.Check(t.Context(), v, nil)
			if err != nil || len(problems) != 0 {
				t.Errorf("ntfs.Check: %v, %v", problems, err)
			}
		})
	}
}

// vmdkCID returns a disk's content ID, opening it for writing to prove
// it was left clean.
func vmdkCID(t *testing.T, path string) uint32 {
	t.Helper()
	disk, err := vmdk.Open(path, &vmdk.Options{Write: true})
	if err != nil {
		t.Fatalf("open for writing: %v", err)
	}
	defer disk.Close()
	return disk.Descriptor().CID
}

func TestVMDKRefusals(t *testing.T) {
	d := testimg.WinXP()
	t.Run("streamOptimized", func(t *testing.T) {
		path := testimg.VMDK(t, d, "streamOptimized")
		before, _ := os.ReadFile(path)
		for _, dry := range []bool{false, true} {
			_, err := imagecustom.OpenRW(path, &imagecustom.WriteOptions{DryRun: dry})
			if !errors.Is(err, imagecustom.ErrUnsafe) || !errors.Is(err, vmdk.ErrReadOnly) ||
				!strings.Contains(err.Error(), "child disk") || !strings.Contains(err.Error(), "convert") {
				t.Errorf("dry run %v: %v, want ErrUnsafe naming a child disk and conversion", dry, err)
			}
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
			t.Error("the refused disk changed")
		}
		// Reading it is fine.
		img, err := imagecustom.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		img.Close()
	})
	t.Run("unclean", func(t *testing.T) {
		path := testimg.VMDK(t, d, "monolithicSparse")
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteAt([]byte{1}, 72) // uncleanShutdown
		f.Close()
		_, err = imagecustom.OpenRW(path, nil)
		if !errors.Is(err, imagecustom.ErrUnsafe) || !errors.Is(err, vmdk.ErrUnclean) {
			t.Errorf("OpenRW of an unclean VMDK: %v", err)
		}
		if img, err := imagecustom.Open(path); err != nil {
			t.Errorf("Open (reading) an unclean VMDK: %v", err)
		} else {
			img.Close()
		}
	})
	t.Run("locked", func(t *testing.T) {
		path := testimg.VMDK(t, d, "twoGbMaxExtentSparse")
		img, err := imagecustom.OpenRW(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := imagecustom.OpenRW(path, nil); !errors.Is(err, imagecustom.ErrLocked) {
			t.Errorf("second writer: %v, want ErrLocked", err)
		}
		if _, err := imagecustom.OpenRW(path, &imagecustom.WriteOptions{DryRun: true}); !errors.Is(err, imagecustom.ErrLocked) {
			t.Errorf("dry run during a write: %v, want ErrLocked", err)
		}
		img.Close()
		// A dry run shares the files with another dry run.
		a, err := imagecustom.OpenRW(path, &imagecustom.WriteOptions{DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := imagecustom.OpenRW(path, &imagecustom.WriteOptions{DryRun: true})
		if err != nil {
			t.Fatalf("second dry run: %v", err)
		}
		b.Close()
	})
	t.Run("pending journal", func(t *testing.T) {
		path := testimg.VMDK(t, d, "monolithicFlat")
		os.WriteFile(imagecustom.JournalPath(path), []byte("IMAGECUSTOM-UNDO\x00\x02"), 0o600)
		if _, err := imagecustom.OpenRW(path, nil); !errors.Is(err, imagecustom.ErrUnsafe) {
			t.Errorf("OpenRW with a pending journal: %v", err)
		}
	})
}

// TestDryRunVMDK runs a customization against a split sparse VMDK in
// memory: it reads back, and no file changes.
func TestDryRunVMDK(t *testing.T) {
	d := testimg.WinXP()
	path := testimg.VMDK(t, d, "twoGbMaxExtentSparse")
	before := testimg.DirSums(t, filepath.Dir(path))
	img, err := imagecustom.OpenRW(path, &imagecustom.WriteOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := img.OpenNTFSRW(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("sysprep "), 10000)
	if err := v.WriteFile("sysprep.inf", data, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := v.ReadFile("sysprep.inf"); err != nil || !bytes.Equal(got, data) {
		t.Errorf("read back in the dry run: %d bytes, %v", len(got), err)
	}
	if ch, err := img.Changes(); err != nil || len(ch) == 0 {
		t.Errorf("Changes: %v, %v", ch, err)
	}
	if err := img.Commit(); err != nil {
		t.Fatal(err)
	}
	img.Close()
	if diff := cmp.Diff(before, testimg.DirSums(t, filepath.Dir(path))); diff != "" {
		t.Errorf("a dry run changed files (-before +after):\n%s", diff)
	}
}

// TestCommitDeltaVMDK writes into a child disk qemu-img made on top of
// winxp: the parent's files stay as they were (and are locked against a
// writer meanwhile), the child holds the change.
func TestCommitDeltaVMDK(t *testing.T) {
	t.Parallel()
	d := testimg.WinXP()
	base := testimg.VMDK(t, d, "monolithicSparse")
	dir := filepath.Dir(base)
	parentSums := testimg.DirSums(t, dir)
	child := filepath.Join(dir, "child.vmdk")
	testimg.Run(t, "qemu-img", "create", "-f", "vmdk", "-b", filepath.Base(base), "-F", "vmdk", child)
	img, err := imagecustom.OpenRW(child, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := imagecustom.OpenRW(base, nil); !errors.Is(err, imagecustom.ErrLocked) {
		t.Errorf("writer of the parent while its child is written: %v, want ErrLocked", err)
	}
	img.Close()
	data := bytes.Repeat([]byte("delta "), 5000)
	putFile(t, child, "Sysprep/sysprep.inf", data)
	for name, sum := range testimg.DirSums(t, dir) {
		if name != "child.vmdk" && sum != parentSums[name] {
			t.Errorf("%s changed", name)
		}
	}
	testimg.Run(t, "qemu-img", "check", "-f", "vmdk", child)
	raw := filepath.Join(t.TempDir(), "disk.raw")
	testimg.Run(t, "qemu-img", "convert", "-f", "vmdk", "-O", "raw", child, raw)
	vol := testimg.Section(t, raw, d.System)
	if got := testimg.Run(t, "ntfscat", vol, "/Sysprep/sysprep.inf"); !bytes.Equal(got, data) {
		t.Errorf("ntfscat read %d bytes", len(got))
	}
	testimg.Run(t, "ntfsfix", "-n", vol)
}
