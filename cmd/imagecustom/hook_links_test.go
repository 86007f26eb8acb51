package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// TestHookCommandsHardLinked: on the disk whose autochk.exe is hard
// linked into WinSxS, hook install reports the rename design (--json
// "design", and in the text status), the WinSxS name keeps the original
// (ntfscat), and hook remove takes the hook out with fsck clean.
func TestHookCommandsHardLinked(t *testing.T) {
	disk := testimg.Win10()
	disk.Name = "win10real.raw"
	image := testimg.Copy(t, disk.Name)
	pe := filepath.Join(testimg.Dir(t), "pe")
	orig := testimg.Bytes(t, "pe/autochk-amd64.exe")
	code, out, stderr := runCLI(t, "--json", "hook", "install", image, "--exe", filepath.Join(pe, "hook-amd64.exe"))
	var rep hookReport
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || rep.Hook == nil || rep.Hook.Design != imagecustom.HookDesignRename {
		t.Fatalf("install: exit %d %v %s %s", code, err, out, stderr)
	}
	if st := hookStatusJSON(t, image); st.Design != imagecustom.HookDesignRename || !st.HookIntact {
		t.Errorf("status --json: %+v", st)
	}
	if code, out, _ := runCLI(t, "hook", "status", image); code != 0 || !strings.Contains(out, "design:      rename") {
		t.Errorf("hook status: exit %d\n%s", code, out)
	}
	vol := testimg.Section(t, image, disk.System)
	var sxs string
	for _, l := range strings.Split(string(testimg.Run(t, "ntfsls", "-f", "-p", "/Windows/WinSxS", vol)), "\n") {
		if strings.HasPrefix(l, "amd64_microsoft-windows-autochk_") {
			sxs = "/Windows/WinSxS/" + l + "/autochk.exe"
		}
	}
	if sxs == "" {
		t.Fatal("ntfsls: no WinSxS folder of autochk.exe")
	}
	if got := testimg.Run(t, "ntfscat", "-f", vol, sxs); !bytes.Equal(got, orig) {
		t.Errorf("after install: ntfscat %s: %d bytes, not the original autochk.exe", sxs, len(got))
	}
	if code, out, stderr := runCLI(t, "--json", "hook", "remove", image); code != 0 {
		t.Fatalf("remove: exit %d %s %s", code, out, stderr)
	}
	if code, out, _ := runCLI(t, "fsck", image); code != 0 {
		t.Errorf("fsck after remove: exit %d\n%s", code, out)
	}
	vol = testimg.Section(t, image, disk.System)
	for _, p := range []string{sxs, "/Windows/System32/autochk.exe"} {
		if got := testimg.Run(t, "ntfscat", vol, p); !bytes.Equal(got, orig) {
			t.Errorf("after remove: ntfscat %s: not the original", p)
		}
	}
}
