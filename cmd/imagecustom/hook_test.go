package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// hookStatusJSON runs hook status --json on image.
func hookStatusJSON(t *testing.T, image string) imagecustom.HookStatus {
	t.Helper()
	code, out, stderr := runCLI(t, "--json", "hook", "status", image)
	var st imagecustom.HookStatus
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); code != 0 || err != nil {
		t.Fatalf("hook status: exit %d, %v\n%s%s", code, err, out, stderr)
	}
	return st
}

func TestHookCommands(t *testing.T) {
	for _, tc := range []struct {
		disk         testimg.Disk
		hook, wrong  string
		method, file string
	}{
		{testimg.WinXP(), "hook-i386.exe", "hook-amd64.exe", "autochk", `\WINDOWS\system32\autochk.exe`},
		{testimg.Win10(), "hook-amd64.exe", "hook-i386.exe", "bootexecute", `\Windows\System32\imchook.exe`},
	} {
		t.Run(tc.disk.Name, func(t *testing.T) {
			pe := filepath.Join(testimg.Dir(t), "pe")
			image := testimg.Copy(t, tc.disk.Name)
			data := filepath.Join(t.TempDir(), "actions.txt")
			os.WriteFile(data, []byte("reboot\r\n"), 0o644)
			install := []string{"hook", "install", image, "--exe", filepath.Join(pe, tc.hook), "--data", data, "--method", tc.method}
			before := imageSum(t, image)

			if st := hookStatusJSON(t, image); st.Installed || st.Dirty || len(st.BootExecute) == 0 {
				t.Errorf("status before: %+v", st)
			}
			// Refusals: exit 3, an error document, the image untouched.
			for _, bad := range []string{"console-amd64.exe", tc.wrong} {
				args := append([]string{"--json"}, install...)
				args[5] = filepath.Join(pe, bad)
				code, out, _ := runCLI(t, args...)
				var doc errorDoc
				if err := json.Unmarshal([]byte(out), &doc); code != exitRefused || err != nil || doc.Error.Kind != "refused" {
					t.Errorf("install %s: exit %d, %s", bad, code, out)
				}
			}
			// Usage errors: exit 2.
			for _, args := range [][]string{
				{"hook", "install", image},
				append(append([]string{}, install...), "--method", "later"),
				append(append([]string{}, install...), "--dry-run", "--out", filepath.Join(t.TempDir(), "c.vmdk")),
				{"hook", "status"},
			} {
				if code, _, _ := runCLI(t, args...); code != exitUsage {
					t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
				}
			}
			if code, _, _ := runCLI(t, "hook", "remove", image); code != exitError {
				t.Errorf("remove with no hook: exit %d, want %d", code, exitError)
			}
			// --dry-run writes nothing; --out leaves the base untouched.
			code, out, stderr := runCLI(t, append([]string{"--json"}, append(install, "--dry-run")...)...)
			var rep hookReport
			if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || !rep.DryRun || rep.Bytes == 0 || rep.Hook == nil || !rep.Hook.Installed {
				t.Errorf("dry run: exit %d %v %s %s", code, err, out, stderr)
			}
			child := filepath.Join(t.TempDir(), "child.vmdk")
			if code, _, stderr := runCLI(t, append(install, "--out", child)...); code != 0 {
				t.Fatalf("install --out: exit %d %s", code, stderr)
			}
			if imageSum(t, image) != before {
				t.Fatal("--dry-run, --out or a refusal changed the image")
			}
			if st := hookStatusJSON(t, child); !st.Installed || st.Method != tc.method || !strings.EqualFold(st.Hook, tc.file) {
				t.Errorf("status of the child: %+v", st)
			}

			// Install, status, fsck, remove.
			code, out, stderr = runCLI(t, append([]string{"--json"}, install...)...)
			rep = hookReport{}
			if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || rep.DryRun || rep.Hook == nil || rep.Hook.Hook != tc.file {
				t.Fatalf("install: exit %d %v %s %s", code, err, out, stderr)
			}
			st := hookStatusJSON(t, image)
			if !st.Installed || !st.HookIntact || st.Dirty != (tc.method == "autochk") || st.DirtyOurs != st.Dirty {
				t.Errorf("status after install: %+v", st)
			}
			if tc.method == "bootexecute" {
				for _, be := range st.BootExecute {
					if len(be.Lines) == 0 || be.Lines[len(be.Lines)-1] != "imchook" {
						t.Errorf("%s BootExecute %q", be.ControlSet, be.Lines)
					}
				}
			}
			if code, out, _ := runCLI(t, "hook", "status", image); code != 0 || !strings.Contains(out, "method:      "+tc.method) {
				t.Errorf("hook status: exit %d\n%s", code, out)
			}
			if code, out, _ := runCLI(t, "fsck", image); code != 0 {
				t.Errorf("fsck after install: exit %d\n%s", code, out)
			}
			if tc.method == "autochk" {
				// The volume is dirty now: other writers refuse it.
				if code, _, _ := runCLI(t, "put", image, data, `\later.txt`); code != exitRefused {
					t.Errorf("put on the hooked volume: exit %d, want %d", code, exitRefused)
				}
			}
			code, out, stderr = runCLI(t, "--json", "hook", "remove", image)
			rep = hookReport{}
			if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || rep.Hook == nil || rep.Hook.Method != tc.method {
				t.Fatalf("remove: exit %d %v %s %s", code, err, out, stderr)
			}
			if st := hookStatusJSON(t, image); st.Installed || st.Dirty {
				t.Errorf("status after remove: %+v", st)
			}
			if code, out, _ := runCLI(t, "fsck", image); code != 0 {
				t.Errorf("fsck after remove: exit %d\n%s", code, out)
			}
		})
	}
}
