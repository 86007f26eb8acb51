package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

func TestReadCommandsVMDK(t *testing.T) {
	d := testimg.WinXP()
	for _, sub := range []string{"monolithicSparse", "twoGbMaxExtentFlat", "streamOptimized"} {
		t.Run(sub, func(t *testing.T) {
			image := testimg.VMDK(t, d, sub)
			code, out, errOut := runCLI(t, "ls", image, `C:\WINDOWS\system32\config`)
			if code != 0 || !strings.Contains(out, "SYSTEM\n") || !strings.Contains(out, "default.LOG\n") {
				t.Errorf("ls: %d %q %q", code, out, errOut)
			}
			boot := manifestEntry(t, d, "boot.ini")
			code, out, _ = runCLI(t, "cat", image, "/BOOT.INI")
			if sum := sha256.Sum256([]byte(out)); code != 0 || hex.EncodeToString(sum[:]) != boot.SHA256 {
				t.Errorf("cat boot.ini: %d, content %q", code, out)
			}
		})
	}
}

func TestWriteCommandsVMDK(t *testing.T) {
	d := testimg.WinXP()
	local := filepath.Join(t.TempDir(), "sysprep.inf")
	content := []byte("[Unattended]\r\nOemSkipEula=Yes\r\n" + strings.Repeat("; padding\r\n", 2000))
	os.WriteFile(local, content, 0o644)
	for _, sub := range []string{"twoGbMaxExtentSparse", "monolithicSparse", "monolithicFlat"} {
		t.Run(sub, func(t *testing.T) {
			image := testimg.VMDK(t, d, sub)
			dir := filepath.Dir(image)
			// A dry run changes no file.
			before := testimg.DirSums(t, dir)
			if code, out, stderr := runCLI(t, "put", "--dry-run", "-p", image, local, `\Sysprep\sysprep.inf`); code != 0 || !strings.Contains(out, "nothing written") {
				t.Fatalf("put --dry-run: exit %d %q %q", code, out, stderr)
			}
			if after := testimg.DirSums(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("a dry run changed files:\n%v\n%v", before, after)
			}
			if code, _, stderr := runCLI(t, "put", "-p", image, local, `\Sysprep\sysprep.inf`); code != 0 {
				t.Fatalf("put: exit %d %s", code, stderr)
			}
			if code, _, stderr := runCLI(t, "mv", image, `\boot.ini`, `\boot.old`); code != 0 {
				t.Fatalf("mv: exit %d %s", code, stderr)
			}
			if _, err := os.Stat(imagecustom.JournalPath(image)); !os.IsNotExist(err) {
				t.Errorf("journal left behind: %v", err)
			}
			if code, out, _ := runCLI(t, "cat", image, `C:\Sysprep\sysprep.inf`); code != 0 || out != string(content) {
				t.Errorf("cat after put: exit %d, %d bytes", code, len(out))
			}
			if code, out, _ := runCLI(t, "fsck", image); code != 0 {
				t.Errorf("fsck after the writes: exit %d\n%s", code, out)
			}
			// ntfs-3g reads qemu-img's raw conversion.
			raw := filepath.Join(t.TempDir(), "disk.raw")
			testimg.Run(t, "qemu-img", "convert", "-f", "vmdk", "-O", "raw", image, raw)
			vol := testimg.Section(t, raw, d.System)
			if got := testimg.Run(t, "ntfscat", vol, "/Sysprep/sysprep.inf"); !bytes.Equal(got, content) {
				t.Errorf("ntfscat read %d bytes", len(got))
			}
			if _, err := testimg.RunErr(t, "ntfscat", vol, "/boot.old"); err != nil {
				t.Errorf("ntfscat of the moved file: %v", err)
			}
			if code, out, _ := runCLI(t, "recover", image); code != 0 || !strings.Contains(out, "nothing to recover") {
				t.Errorf("recover: %d %q", code, out)
			}
		})
	}
}

func TestWriteRefusalsVMDK(t *testing.T) {
	d := testimg.WinXP()
	image := testimg.VMDK(t, d, "streamOptimized")
	before := testimg.DirSums(t, filepath.Dir(image))
	local := filepath.Join(t.TempDir(), "x.txt")
	os.WriteFile(local, []byte("x"), 0o644)
	for _, args := range [][]string{
		{"put", image, local, `\x.txt`},
		{"put", "--dry-run", image, local, `\x.txt`},
		{"mkdir", image, `\new`},
	} {
		code, _, stderr := runCLI(t, args...)
		if code != exitRefused || !strings.Contains(stderr, "child disk") || !strings.Contains(stderr, "convert") {
			t.Errorf("%q on streamOptimized: exit %d %q", args[0], code, stderr)
		}
	}
	if after := testimg.DirSums(t, filepath.Dir(image)); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Error("a refused write changed the disk")
	}
	// An unclean sparse disk: refused, still readable.
	image = testimg.VMDK(t, d, "monolithicSparse")
	f, err := os.OpenFile(image, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{1}, 72)
	f.Close()
	if code, _, stderr := runCLI(t, "put", image, local, `\x.txt`); code != exitRefused || !strings.Contains(stderr, "not closed cleanly") {
		t.Errorf("put on an unclean VMDK: exit %d %q", code, stderr)
	}
	if code, _, _ := runCLI(t, "ls", image, `\`); code != 0 {
		t.Errorf("ls of an unclean VMDK: exit %d", code)
	}
}
