package imagecustom_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// win10Real is testdata/win10real.raw: win10.raw as a long-lived install
// leaves it (WinSxS hard links of autochk.exe and others, a SOFTWARE hive
// with an attribute list, a system-compressed DLL), same layout.
func win10Real() testimg.Disk {
	d := testimg.Win10()
	d.Name = "win10real.raw"
	return d
}

// TestHookWin10Real installs and removes the hook on the realistic
// Windows 10 disk, and checks that the WinSxS link of autochk.exe still
// holds the original autochk.exe after each step.
func TestHookWin10Real(t *testing.T) {
	fx := hookFixture{win10Real(), "Windows", "hook-amd64.exe", "autochk-amd64.exe", "hook-i386.exe", "/Windows/System32/"}
	testHookRoundTrip(t, fx, imagecustom.HookMethodAutochk, []byte("reset-nics dhcp\r\nreboot\r\n"))
}

// TestWinSxSLinkAfterHook: after InstallHook on the realistic disk, the
// WinSxS name of autochk.exe still reads the original: a hard-linked
// autochk.exe takes the rename design (its record becomes vmprep.cfg, the
// hook a new file), so the component store is never the hook's.
func TestWinSxSLinkAfterHook(t *testing.T) {
	image := testimg.Copy(t, "win10real.raw")
	orig := peFile(t, "autochk-amd64.exe")
	err := withHookVolume(t, image, func(v *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows) error {
		_, err := imagecustom.InstallHook(v, reg, w, peFile(t, "hook-amd64.exe"), &imagecustom.HookOptions{Method: imagecustom.HookMethodAutochk, Data: []byte("reboot\r\n")})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	vol := testimg.Section(t, image, win10Real().System)
	out := testimg.Run(t, "ntfsls", "-f", "-p", "/Windows/WinSxS", vol)
	var dir string
	for _, l := range bytes.Split(out, []byte("\n")) {
		if bytes.HasPrefix(l, []byte("amd64_microsoft-windows-autochk_")) {
			dir = string(l)
		}
	}
	if dir == "" {
		t.Fatal("no WinSxS folder of autochk.exe")
	}
	if got := testimg.Run(t, "ntfscat", "-f", vol, "/Windows/WinSxS/"+dir+"/autochk.exe"); !bytes.Equal(got, orig) {
		t.Errorf("after InstallHook the WinSxS autochk.exe holds %d bytes, not the original autochk.exe", len(got))
	}
}

// TestCustomizeWin10Real customizes the realistic Windows 10 disk (static
// IP, domain join, boot hook) and then removes the hook: each step leaves
// a volume Check, ntfsfix and ntfs-3g's cluster walk (ntfsresize) accept,
// the customized SOFTWARE hive (an attribute list) readable by hivexget.
func TestCustomizeWin10Real(t *testing.T) {
	image := testimg.Copy(t, win10Real().Name)
	generalize(t, image)
	spec, dir := customizeSpec(t, "amd64")
	res, err := imagecustom.Customize(context.Background(), image, spec, &imagecustom.CustomizeOptions{SpecDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.Final == nil || !res.Final.Hook {
		t.Fatalf("Customize: final state %+v, want the hook installed", res.Final)
	}
	check := func(when string) {
		t.Helper()
		hookCheckClean(t, image, when)
		vol := testimg.Section(t, image, win10Real().System)
		testimg.Run(t, "ntfsresize", "-i", "-f", vol)
		hive := filepath.Join(t.TempDir(), "SOFTWARE")
		os.WriteFile(hive, testimg.Run(t, "ntfscat", "-f", vol, "/Windows/System32/config/SOFTWARE"), 0o644)
		testimg.Run(t, "hivexget", hive, `Filler\Key0399`, "Data")
	}
	check("after Customize")
	err = withHookVolume(t, image, func(v *ntfs.Volume, reg *imagecustom.Registry, _ *imagecustom.Windows) error {
		_, err := imagecustom.RemoveHook(v, reg)
		return err
	})
	if err != nil {
		t.Fatalf("RemoveHook: %v", err)
	}
	check("after RemoveHook")
}
