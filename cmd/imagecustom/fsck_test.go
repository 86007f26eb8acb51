package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

func TestFsckClean(t *testing.T) {
	image := testimg.Path(t, testimg.WinXP().Name)
	code, out, errOut := runCLI(t, "fsck", image)
	if code != exitOK || out != "" || !strings.Contains(errOut, "no problems") {
		t.Errorf("fsck: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, _ = runCLI(t, "--json", "fsck", image)
	var doc fsckJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitOK || !doc.Clean || doc.Problems == nil || len(doc.Problems) != 0 {
		t.Errorf("fsck --json: exit %d, %v, %q", code, err, out)
	}
	if !strings.Contains(out, `"problems": []`) {
		t.Errorf("fsck --json of a clean volume: %q, want an empty problems array", out)
	}
}

func TestFsckFindsProblem(t *testing.T) {
	d := testimg.WinXP()
	image := testimg.Copy(t, d.Name)
	f, err := os.OpenFile(image, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Change one byte of MFT record 2 in $MFTMirr, which the boot sector
	// locates.
	boot := make([]byte, 512)
	if _, err := f.ReadAt(boot, d.System.Offset); err != nil {
		t.Fatal(err)
	}
	cluster := int64(binary.LittleEndian.Uint16(boot[0x0B:])) * int64(boot[0x0D])
	off := d.System.Offset + int64(binary.LittleEndian.Uint64(boot[0x38:]))*cluster + 2*1024 + 0x100
	b := make([]byte, 1)
	f.ReadAt(b, off)
	b[0] ^= 0x55
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	f.Close()

	code, out, errOut := runCLI(t, "fsck", image)
	if code != exitProblems || !strings.HasPrefix(out, "mirror-mismatch record 2 at 0x") || strings.Count(out, "\n") != 1 ||
		!strings.Contains(errOut, "fsck: 1 problem found") {
		t.Errorf("fsck: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, _ = runCLI(t, "--json", "fsck", "--partition", "1", image)
	var doc fsckJSON
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitProblems || doc.Clean || len(doc.Problems) != 1 {
		t.Fatalf("fsck --json: exit %d, %v, %q", code, err, out)
	}
	if p := doc.Problems[0]; p.Kind != "mirror-mismatch" || p.Record != 2 || p.Offset != off-d.System.Offset || p.Detail == "" {
		t.Errorf("fsck --json: %+v, want mirror-mismatch of record 2 at 0x%x", p, off-d.System.Offset)
	}
}

func TestFsckUsage(t *testing.T) {
	if code, _, errOut := runCLI(t, "fsck"); code != exitUsage || !strings.Contains(errOut, "IMAGE") {
		t.Errorf("fsck without IMAGE: exit %d, %q", code, errOut)
	}
}
