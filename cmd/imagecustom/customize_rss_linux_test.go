//go:build linux && !race

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// TestCustomizePeakRSS runs customize --out in a child process on a 4 GiB
// and a 64 GiB sparse VMDK holding the XP install and reads the child's
// peak resident set size: under 64 MiB on both.
func TestCustomizePeakRSS(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, gib := range []int64{4, 64} {
		disk := sparseXP(t, gib)
		cmd := exec.Command(exe, "customize", "--quiet", disk, "--spec", demoSpec(t), "--out", filepath.Join(t.TempDir(), "c.vmdk"))
		cmd.Env = append(os.Environ(), "IMAGECUSTOM_TEST_MAIN=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%d GiB: %v\n%s", gib, err, out)
		}
		ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		if !ok {
			t.Skip("no rusage on this system")
		}
		rss := ru.Maxrss * 1024 // ru_maxrss is in KiB on Linux
		t.Logf("%d GiB disk: peak RSS %.1f MiB", gib, float64(rss)/(1<<20))
		if rss > 64<<20 {
			t.Errorf("%d GiB disk: peak RSS %d bytes, over 64 MiB", gib, rss)
		}
	}
}
