package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/imagecustom/boothook"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

const testActions = `# first boot of a test image
say "imagecustom e2e"
reg-set HKLM\SYSTEM\CurrentControlSet\Services\ImagecustomE2E Start REG_DWORD 3
write \Windows\imagecustom\hello.txt "hello from the hook"
copy \Windows\imagecustom\hello.txt \Windows\imagecustom\copy.txt
`

func writeActions(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "actions.txt")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// builtinStatusJSON runs hook status --json and returns its builtin member.
func builtinStatusJSON(t *testing.T, image string) *builtinInfo {
	t.Helper()
	code, out, stderr := runCLI(t, "--json", "hook", "status", image)
	var st struct {
		Installed bool         `json:"installed"`
		Builtin   *builtinInfo `json:"builtin"`
	}
	if err := json.Unmarshal([]byte(out), &st); code != 0 || err != nil || !st.Installed {
		t.Fatalf("hook status: exit %d, %v\n%s%s", code, err, out, stderr)
	}
	return st.Builtin
}

func TestHookBuiltin(t *testing.T) {
	acts, err := boothook.Parse(strings.NewReader(testActions))
	if err != nil {
		t.Fatal(err)
	}
	var canonical []string
	for _, a := range acts {
		canonical = append(canonical, a.String())
	}
	for _, tc := range []struct {
		disk   testimg.Disk
		arch   string
		method string
	}{
		{testimg.WinXP(), "x86", "autochk"},
		{testimg.Win10(), "amd64", "bootexecute"},
	} {
		t.Run(tc.disk.Name, func(t *testing.T) {
			image := testimg.Copy(t, tc.disk.Name)
			list := writeActions(t, testActions)
			before := testimg.DirSums(t, filepath.Dir(image))

			// Refused before anything is written.
			bad := writeActions(t, "say ok\nreg-set HKLM\\SOFTWARE\\X v REG_SZ x\n")
			for _, args := range [][]string{
				{"hook", "install", image, "--builtin", "--actions", bad},
				{"hook", "install", image, "--actions", list},
				{"hook", "install", image, "--builtin", "--exe", list},
				{"hook", "install", image, "--builtin", "--method", "other"},
				{"hook", "install", image, "--run-timeout", "5"},
				{"hook", "install", image, "--builtin", "--run-timeout", "70000"},
			} {
				code, _, stderr := runCLI(t, args...)
				if code == 0 {
					t.Errorf("%v: exit 0", args)
				}
				if args[3] == "--builtin" && args[4] == "--actions" && !strings.Contains(stderr, "line 2") {
					t.Errorf("bad list: the error does not name line 2: %s", stderr)
				}
			}
			code, out, stderr := runCLI(t, "hook", "install", image, "--builtin", "--actions", list, "--method", tc.method, "--dry-run")
			if code != 0 || !strings.Contains(out, "dry run") {
				t.Fatalf("dry run: exit %d\n%s%s", code, out, stderr)
			}
			if diff := cmp.Diff(before, testimg.DirSums(t, filepath.Dir(image))); diff != "" {
				t.Fatalf("refused or dry-run installs changed the image's folder:\n%s", diff)
			}

			code, out, stderr = runCLI(t, "hook", "install", image, "--builtin", "--actions", list, "--method", tc.method, "--run-timeout", "30")
			if code != 0 {
				t.Fatalf("install: exit %d\n%s%s", code, out, stderr)
			}
			b := builtinStatusJSON(t, image)
			if b == nil || b.Arch != tc.arch || b.Error != "" || b.RunTimeout != 30 {
				t.Fatalf("status builtin = %+v, want arch %s", b, tc.arch)
			}
			if diff := cmp.Diff(canonical, b.Actions); diff != "" {
				t.Errorf("status actions (-want +got):\n%s", diff)
			}
			code, out, _ = runCLI(t, "hook", "status", image)
			if code != 0 || !strings.Contains(out, "built-in:    imagecustom boot hook ("+tc.arch+"), 4 actions, run timeout 30 s") ||
				!strings.Contains(out, `  2  reg-set HKLM\SYSTEM\CurrentControlSet\Services\ImagecustomE2E Start REG_DWORD 0x00000003`) {
				t.Errorf("status text:\n%s", out)
			}
			if code, _, stderr := runCLI(t, "hook", "log", image); code != 1 || !strings.Contains(stderr, "has not run") {
				t.Errorf("hook log before any boot: exit %d, %s", code, stderr)
			}
			if code, out, stderr := runCLI(t, "hook", "remove", image); code != 0 {
				t.Errorf("remove: exit %d\n%s%s", code, out, stderr)
			}
		})
	}
}

// copyRange copies n bytes at off of src into dst at dstOff, skipping
// blocks of zeros when dst is new (sparse).
func copyRange(t *testing.T, dst, src string, srcOff, dstOff, n int64, sparse bool) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	buf := make([]byte, 1<<20)
	zero := make([]byte, len(buf))
	for done := int64(0); done < n; {
		k := min(int64(len(buf)), n-done)
		if _, err := in.ReadAt(buf[:k], srcOff+done); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if !sparse || !bytes.Equal(buf[:k], zero[:k]) {
			if _, err := out.WriteAt(buf[:k], dstOff+done); err != nil {
				t.Fatal(err)
			}
		}
		done += k
	}
	if sparse {
		if err := out.Truncate(n); err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestHookBuiltinWine is the whole story: our installer puts the built-in
// hook into a copy of the Windows 10 fixture, the system volume is mounted
// with ntfs-3g (dirty flag kept: -o force) as Wine's drive D:, the hook runs
// as smss would run autochk, the volume goes back into the image, and our
// reader (hook log, cat) and ntfscat check the result.
func TestHookBuiltinWine(t *testing.T) {
	for _, tc := range []struct {
		disk testimg.Disk
		arch string
		pe   string // the fixture's autochk.exe
		root string // the system root as the volume spells it
	}{
		{testimg.Win10(), "amd64", "pe/autochk-amd64.exe", "Windows"},
		{testimg.WinXP(), "x86", "pe/autochk-i386.exe", "WINDOWS"},
	} {
		t.Run(tc.disk.Name, func(t *testing.T) { hookBuiltinWine(t, tc.disk, tc.arch, tc.pe, tc.root) })
	}
}

func hookBuiltinWine(t *testing.T, d testimg.Disk, arch, autochk, root string) {
	wine := testimg.NewWine(t, arch)
	ntfs3g := testimg.Oracle(t, "ntfs-3g")
	fusermount := testimg.Oracle(t, "fusermount")
	if _, err := os.Stat("/dev/fuse"); err != nil {
		if os.Getenv(testimg.OraclesEnv) == "require" {
			t.Fatalf("/dev/fuse: %v", err)
		}
		t.Skipf("no FUSE: %v", err)
	}
	image := testimg.Copy(t, d.Name)
	orig := testimg.Bytes(t, autochk)
	sysdir := map[string]string{"Windows": "System32", "WINDOWS": "system32"}[root]
	winSys := `\` + root + `\` + sysdir
	code, out, stderr := runCLI(t, "hook", "install", image, "--builtin", "--actions", writeActions(t, testActions))
	if code != 0 {
		t.Fatalf("install: exit %d\n%s%s", code, out, stderr)
	}

	dir := t.TempDir()
	vol, mnt := filepath.Join(dir, "vol.raw"), filepath.Join(dir, "mnt")
	copyRange(t, vol, image, d.System.Offset, 0, d.System.Size, true)
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(ntfs3g, "-o", "force", vol, mnt).CombinedOutput(); err != nil {
		t.Fatalf("ntfs-3g: %v\n%s", err, out)
	}
	mounted := true
	unmount := func() {
		if mounted {
			if out, err := exec.Command(fusermount, "-u", mnt).CombinedOutput(); err != nil {
				t.Errorf("fusermount -u: %v\n%s", err, out)
			}
			mounted = false
		}
	}
	defer unmount()
	// Wine loads kernel32 and kernelbase into every process, native ones
	// too (Windows does not), looking first in the program's folder: the
	// fixture's stand-ins there are not PEs, so they step aside while Wine
	// runs (the volume is a scratch copy until it is written back).
	sys32 := filepath.Join(mnt, root, sysdir)
	var aside []string
	for _, n := range []string{"kernel32.dll", "KernelBase.dll", "ntdll.dll"} {
		if _, err := os.Stat(filepath.Join(sys32, n)); err != nil {
			continue
		}
		aside = append(aside, n)
		if err := os.Rename(filepath.Join(sys32, n), filepath.Join(sys32, n+".aside")); err != nil {
			t.Fatal(err)
		}
	}
	wineErr := wine.Run(t, mnt, `D:`+winSys+`\autochk.exe`, "*")
	for _, n := range aside {
		if err := os.Rename(filepath.Join(sys32, n+".aside"), filepath.Join(sys32, n)); err != nil {
			t.Fatal(err)
		}
	}
	unmount()
	if !strings.Contains(wineErr, `NtDisplayString L"imagecustom e2e\n"`) {
		t.Errorf("no say line on Wine's stderr:\n%s", wineErr)
	}
	copyRange(t, image, vol, 0, d.System.Offset, d.System.Size, false)

	// Our reader: the log, the restored autochk, the files.
	code, out, stderr = runCLI(t, "--json", "hook", "log", image)
	var log hookLog
	if err := json.Unmarshal([]byte(out), &log); code != 0 || err != nil {
		t.Fatalf("hook log: exit %d, %v\n%s%s", code, err, out, stderr)
	}
	var steps []string
	for _, e := range log.Entries {
		if !e.OK {
			t.Errorf("log line not ok: %s", e.Line)
		}
		steps = append(steps, e.Kind+" "+e.Step)
	}
	want := []string{"start ", "action say", "action reg-set", "action write", "action copy",
		"undo rename-self", "undo restore", "undo chain", "undo pending-delete", "undo forget", "end "}
	if diff := cmp.Diff(want, steps); diff != "" {
		t.Errorf("log steps (-want +got):\n%s\n%s", diff, out)
	}
	if log.Log != `\`+root+`\imagecustom\boot.log` {
		t.Errorf("log path %q", log.Log)
	}
	code, out, _ = runCLI(t, "cat", image, winSys+`\autochk.exe`)
	if code != 0 || out != string(orig) {
		t.Errorf("autochk.exe is not the original after the boot (exit %d, %d bytes)", code, len(out))
	}
	code, out, _ = runCLI(t, "cat", image, `\Windows\imagecustom\copy.txt`) // action paths are the volume's
	if code != 0 || out != "hello from the hook\r\n" {
		t.Errorf("copy.txt: exit %d, %q", code, out)
	}
	code, out, _ = runCLI(t, "hook", "log", image)
	if code != 0 || !strings.HasPrefix(out, `boothook 1 start image=\??\D:`+winSys+`\autochk.exe actions=4`+"\n") {
		t.Errorf("hook log text: exit %d\n%s", code, out)
	}
	// The hook deleted the installer's record and its data file: no hook.
	code, out, _ = runCLI(t, "--json", "hook", "status", image)
	if code != 0 || !strings.Contains(out, `"installed": false`) {
		t.Errorf("hook status after the boot: exit %d\n%s", code, out)
	}
	// ntfscat, on the volume as written back (-f: the dirty flag is set).
	got := testimg.Run(t, "ntfscat", "-f", vol, "/"+root+"/imagecustom/hello.txt")
	if string(got) != "hello from the hook\r\n" {
		t.Errorf("ntfscat hello.txt = %q", got)
	}
	if got := testimg.Run(t, "ntfscat", "-f", vol, "/"+root+"/"+sysdir+"/autochk.exe"); !bytes.Equal(got, orig) {
		t.Error("ntfscat: autochk.exe is not the original")
	}
	// Wine's registry got the reg-set.
	if got := strings.Join(wine.RegKey(t, `System\CurrentControlSet\Services\ImagecustomE2E`), "\n"); !strings.Contains(got, `"Start"=dword:00000003`) {
		t.Errorf("Wine registry: %q", got)
	}
}
