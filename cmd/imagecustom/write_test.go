package main

import (
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

func imageSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestWriteCommands(t *testing.T) {
	d := testimg.WinXP()
	image := testimg.Copy(t, d.Name)
	local := filepath.Join(t.TempDir(), "setnet.cmd")
	os.WriteFile(local, []byte("netsh interface ip set address \"LAN\" static 10.0.0.5 255.255.255.0 10.0.0.1\r\n"), 0o644)

	steps := [][]string{
		{"mkdir", "-p", image, `C:\WINDOWS\vmware_imc\scripts`},
		{"put", image, local, `\WINDOWS\vmware_imc\scripts`},
		{"put", "-p", image, local, `\Sysprep\i386\$OEM$\cmdlines-source.cmd`},
		{"mv", image, `\Sysprep\i386\$OEM$\cmdlines-source.cmd`, `\Sysprep\i386\$OEM$\cmdlines.txt`},
		{"mkdir", image, `\scratch`},
		{"put", image, local, `\scratch\gone.cmd`},
		{"rm", "-r", image, `\scratch`},
	}
	for _, args := range steps {
		if code, _, stderr := runCLI(t, args...); code != 0 {
			t.Fatalf("%q: exit %d: %s", args, code, stderr)
		}
	}
	if _, err := os.Stat(imagecustom.JournalPath(image)); !os.IsNotExist(err) {
		t.Errorf("journal left behind: %v", err)
	}
	// ntfs-3g sees the result; our fsck too.
	vol := testimg.Section(t, image, d.System)
	want, _ := os.ReadFile(local)
	for _, p := range []string{"/WINDOWS/vmware_imc/scripts/setnet.cmd", "/Sysprep/i386/$OEM$/cmdlines.txt"} {
		if got := testimg.Run(t, "ntfscat", vol, p); string(got) != string(want) {
			t.Errorf("ntfscat %s = %q", p, got)
		}
	}
	if _, err := testimg.RunErr(t, "ntfscat", vol, "/scratch/gone.cmd"); err == nil {
		t.Error("rm -r left /scratch/gone.cmd")
	}
	if code, out, _ := runCLI(t, "fsck", image); code != 0 {
		t.Errorf("fsck after the writes: exit %d\n%s", code, out)
	}

	// A dry run reports and writes nothing.
	before := imageSum(t, image)
	code, out, stderr := runCLI(t, "--json", "put", "--dry-run", image, local, `\WINDOWS\new.cmd`)
	var rep writeReport
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || !rep.DryRun || rep.Bytes == 0 || len(rep.Changes) == 0 {
		t.Errorf("dry run: exit %d %v %+v %s", code, err, rep, stderr)
	}
	if code, out, _ := runCLI(t, "rm", "--dry-run", image, `\boot.ini`); code != 0 || !strings.Contains(out, "nothing written") {
		t.Errorf("rm --dry-run: %d %q", code, out)
	}
	if imageSum(t, image) != before {
		t.Error("a dry run changed the image")
	}
}

func TestWriteRefusals(t *testing.T) {
	d := testimg.WinXP()
	image := testimg.Copy(t, d.Name)
	local := filepath.Join(t.TempDir(), "x.txt")
	os.WriteFile(local, []byte("x"), 0o644)

	// Locked by another writer.
	img, err := imagecustom.OpenRW(image, nil)
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "put", image, local, `\x.txt`)
	img.Close()
	if code != exitRefused || !strings.Contains(stderr, "another process") {
		t.Errorf("locked image: exit %d %q", code, stderr)
	}

	// A pending journal: refused until recover.
	os.WriteFile(imagecustom.JournalPath(image), []byte("IMAGECUSTOM-UNDO\x00\x01\x00\x00\x00\x10\x00\x00\x00\x00"), 0o600)
	code, _, stderr = runCLI(t, "mkdir", image, `\new`)
	if code != exitRefused || !strings.Contains(stderr, "imagecustom recover") {
		t.Errorf("pending journal: exit %d %q", code, stderr)
	}
	if code, out, _ := runCLI(t, "recover", image); code != 0 || !strings.Contains(out, "restored") {
		t.Errorf("recover: %d %q", code, out)
	}

	// --out writes a child disk and leaves the image as it was.
	sum := fileSum(t, image)
	child := filepath.Join(t.TempDir(), "c.vmdk")
	if code, _, stderr := runCLI(t, "put", "--out", child, image, local, `\x.txt`); code != exitOK || !strings.Contains(stderr, "child disk of") {
		t.Errorf("--out: exit %d %q", code, stderr)
	}
	if fileSum(t, image) != sum {
		t.Error("put --out changed the image")
	}
	if code, out, _ := runCLI(t, "cat", child, `\x.txt`); code != exitOK || out == "" {
		t.Errorf("cat from the child: exit %d %q", code, out)
	}
	if code, _, _ := runCLI(t, "cat", image, `\x.txt`); code == exitOK {
		t.Error("the file written to the child is in the image")
	}
	if code, _, _ := runCLI(t, "put", "--out", child+"2", "--dry-run", image, local, `\x.txt`); code != exitUsage {
		t.Errorf("--out with --dry-run: exit %d", code)
	}
	// Usage.
	if code, _, _ := runCLI(t, "rm", image, `\`); code != exitUsage {
		t.Errorf("rm of the root: exit %d", code)
	}
	if code, _, stderr := runCLI(t, "rm", image, `\WINDOWS`); code != exitError || !strings.Contains(stderr, "rm -r") {
		t.Errorf("rm of a directory: exit %d %q", code, stderr)
	}
	// A volume marked dirty (chkdsk pending).
	img, _ = imagecustom.OpenRW(image, nil)
	v, _, err := img.OpenNTFSRW(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	v.SetDirty(true)
	img.Commit()
	img.Close()
	dirty := imageSum(t, image)
	code, _, stderr = runCLI(t, "put", image, local, `\x.txt`)
	if code != exitRefused || !strings.Contains(stderr, "dirty") {
		t.Errorf("dirty volume: exit %d %q", code, stderr)
	}
	if imageSum(t, image) != dirty {
		t.Error("a refused write changed the image")
	}
	if code, _, _ := runCLI(t, "ls", image, `\`); code != 0 {
		t.Errorf("reading a dirty volume: exit %d", code)
	}

}
