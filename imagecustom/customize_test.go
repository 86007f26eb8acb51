package imagecustom_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/boothook"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
	"github.com/imagecustom/go-imagecustom/sysprep"
)

// Passwords of the test spec: none may appear in a plan or a result.
const (
	adminPassword  = "Adm1n-S3cret"
	domainPassword = "J0in-S3cret"
)

// customizeSpec is a static-IP + domain spec with a file, a .reg file and
// the boot hook for arch ("i386" or "amd64"). Its local paths are
// relative to the folder it returns, the spec's folder.
func customizeSpec(t testing.TB, arch string) (*sysprep.Spec, string) {
	t.Helper()
	dir := t.TempDir()
	hook, err := os.ReadFile(filepath.Join(testimg.Dir(t), "pe", "hook-"+arch+".exe"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hook.exe"), hook, 0o644); err != nil {
		t.Fatal(err)
	}
	reg := "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Example\\Agent]\r\n\"Server\"=\"agent.corp.example.com\"\r\n\"Port\"=dword:00001f90\r\n"
	if err := os.WriteFile(filepath.Join(dir, "agent.reg"), []byte(reg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "motd.txt"), []byte("welcome\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	yaml := fmt.Sprintf(`identity:
  computerName: WEB01
  fullName: Example Admin
  orgName: Example Corp
  timeZone: W. Europe Standard Time
  adminPassword: {plain: %q}
  autoLogonCount: 1
membership:
  domain: corp.example.com
  domainUser: CORP\joiner
  domainPassword: {plain: %q}
network:
  adapters:
    - mac: 00:50:56:9a:0b:0c
      ipv4: 192.0.2.10/24
      gateways: [192.0.2.1]
      dnsServers: [192.0.2.53]
  dnsSuffixes: [corp.example.com]
files:
  - path: \imagecustom-test\motd.txt
    source: motd.txt
regFiles: [agent.reg]
bootHook: {exe: hook.exe}
`, adminPassword, domainPassword)
	spec, err := sysprep.Decode([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return spec, dir
}

// generalize sets a Windows 10 copy's ImageState as sysprep /generalize
// /oobe leaves it.
func generalize(t testing.TB, path string) {
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
	reg, err := imagecustom.OpenRegistry(v, "")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := reg.Targets(`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State`)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ts[0].Hive.Key(ts[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.SetValue("ImageState", 1, encodeSZ("IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE")); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Save(); err != nil {
		t.Fatal(err)
	}
	if err := img.Commit(); err != nil {
		t.Fatal(err)
	}
}

func encodeSZ(s string) []byte {
	var b []byte
	for _, r := range s + "\x00" {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}

// rawVolume returns the Windows volume of the image at path (raw or
// VMDK, a child included) as a bare volume file, for ntfs-3g's tools.
func rawVolume(t *testing.T, path string, d testimg.Disk) string {
	t.Helper()
	raw := path
	if testimg.QemuInfo(t, path).Format != "raw" {
		raw = filepath.Join(t.TempDir(), "flat.raw")
		testimg.Run(t, "qemu-img", "convert", "-O", "raw", path, raw)
	}
	return testimg.Section(t, raw, d.System)
}

// onDisk returns the path of name on v with each component spelled as
// the volume has it (ntfs-3g looks names up case-sensitively).
func onDisk(t *testing.T, v *ntfs.Volume, name string) string {
	t.Helper()
	dir := ""
	for _, c := range strings.Split(strings.Trim(strings.ReplaceAll(name, `\`, "/"), "/"), "/") {
		ents, err := v.ReadDir(strings.TrimPrefix(dir, "/") + map[bool]string{true: ".", false: ""}[dir == ""])
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		found := c
		for _, e := range ents {
			if strings.EqualFold(e.Name(), c) {
				found = e.Name()
			}
		}
		dir += "/" + found
	}
	return dir
}

// hivexValue is what hivexget prints for a planned value.
func hivexValue(pv imagecustom.PlanValue) string {
	switch d := pv.Data.(type) {
	case uint32:
		return strconv.FormatUint(uint64(d), 10)
	case []string:
		return strings.Join(d, "\n")
	default:
		return fmt.Sprint(d)
	}
}

// TestCustomizeEndToEnd customizes the XP fixture in place as raw and as
// monolithicSparse, into a child of the streamOptimized VMDK, and a
// generalized Windows 10 in place, with a static-IP + domain spec, a
// spec file, a .reg file and the boot hook; then tools no one here wrote
// check the result: ntfscat reads every artifact byte-identical to the
// renderer's output, hivexget reads every planned value, ntfsinfo and our
// Check see the dirty flag and a consistent volume, qemu-img check finds
// the VMDKs clean, the hook is autochk.exe and the original the backup.
func TestCustomizeEndToEnd(t *testing.T) {
	xp, w10 := testimg.WinXP(), testimg.Win10()
	cases := []struct {
		name  string
		disk  testimg.Disk
		arch  string
		image func(t *testing.T) string
		child bool
	}{
		{"winxp raw", xp, "i386", func(t *testing.T) string { return testimg.Copy(t, xp.Name) }, false},
		{"winxp monolithicSparse", xp, "i386", func(t *testing.T) string { return testimg.VMDK(t, xp, "monolithicSparse") }, false},
		{"winxp streamOptimized child", xp, "i386", func(t *testing.T) string { return testimg.Copy(t, "vmdk/winxp-streamOptimized.vmdk") }, true},
		{"win10 raw generalized", w10, "amd64", func(t *testing.T) string {
			p := testimg.Copy(t, w10.Name)
			generalize(t, p)
			return p
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			image := tc.image(t)
			spec, dir := customizeSpec(t, tc.arch)
			opts := &imagecustom.CustomizeOptions{SpecDir: dir}
			target := image
			if tc.child {
				opts.Child = filepath.Join(t.TempDir(), "child.vmdk")
				target = opts.Child
			}
			before := fileSum(t, image)
			res, err := imagecustom.Customize(context.Background(), image, spec, opts)
			if err != nil {
				t.Fatal(err)
			}
			if tc.child && fileSum(t, image) != before {
				t.Error("the base of the child disk changed")
			}
			if res.Final == nil || !res.Final.Hook || !res.Final.Dirty || res.Final.Files != len(res.Plan.Files) ||
				res.Final.Values != len(res.Plan.Registry) {
				t.Errorf("final verification %+v of a plan of %d files and %d values", res.Final, len(res.Plan.Files), len(res.Plan.Registry))
			}
			checkNoSecrets(t, res)

			// Our own reading: the install, the volume's consistency.
			img, err := imagecustom.Open(target)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			ws, err := img.Windows()
			if err != nil {
				t.Fatal(err)
			}
			v, _, err := img.OpenNTFS(0)
			if err != nil {
				t.Fatal(err)
			}
			if !v.Info().Dirty() {
				t.Error("our reading: the volume is not marked dirty")
			}
			if problems, err := ntfs.Check(context.Background(), v, nil); err != nil || len(problems) > 0 {
				t.Errorf("Check: %v %v", err, problems)
			}

			// ntfscat: each artifact as the renderer made it.
			family, _ := sysprep.ParseFamily(ws[0].Family)
			arch, _ := sysprep.ParseArch(ws[0].Arch)
			want, err := sysprep.Render(spec, sysprep.Options{Family: family, Arch: arch, SystemRoot: ws[0].SystemRoot})
			if err != nil {
				t.Fatal(err)
			}
			vol := rawVolume(t, target, tc.disk)
			for _, f := range want.Files {
				data := []byte(f.Content)
				if f.Source != "" {
					data, _ = os.ReadFile(filepath.Join(dir, f.Source))
				}
				got := testimg.Run(t, "ntfscat", "-f", vol, onDisk(t, v, f.Path))
				if !bytes.Equal(got, data) {
					t.Errorf("ntfscat %s: %d bytes, not the renderer's %d", f.Path, len(got), len(data))
				}
			}
			// hivexget: every planned value, and the .reg file's.
			hives := map[string]string{}
			hiveFile := func(root string) string {
				if hives[root] == "" {
					name := strings.TrimPrefix(root, `HKEY_LOCAL_MACHINE\`)
					p := filepath.Join(t.TempDir(), name)
					os.WriteFile(p, testimg.Run(t, "ntfscat", "-f", vol, onDisk(t, v, ws[0].SystemRoot+`\System32\config\`+name)), 0o644)
					hives[root] = p
				}
				return hives[root]
			}
			for _, pv := range res.Plan.Registry {
				parts := strings.SplitN(pv.Key, `\`, 3)
				got := strings.TrimRight(string(testimg.Run(t, "hivexget", hiveFile(parts[0]+`\`+parts[1]), `\`+parts[2], pv.Name)), "\n")
				if got != hivexValue(pv) {
					t.Errorf("hivexget %s %s = %q, want %q", pv.Key, pv.Name, got, hivexValue(pv))
				}
			}
			sw := hiveFile(`HKEY_LOCAL_MACHINE\SOFTWARE`)
			if got := strings.TrimSpace(string(testimg.Run(t, "hivexget", sw, `\Example\Agent`, "Server"))); got != "agent.corp.example.com" {
				t.Errorf("hivexget of the .reg file's value: %q", got)
			}
			// ntfsinfo: the dirty flag the hook needs.
			if info := testimg.Run(t, "ntfsinfo", "-f", "-m", vol); !bytes.Contains(info, []byte("DIRTY")) {
				t.Errorf("ntfsinfo -m does not show the dirty flag:\n%s", info)
			}
			// The hook and the original autochk.exe.
			hook, _ := os.ReadFile(filepath.Join(dir, "hook.exe"))
			orig, _ := os.ReadFile(filepath.Join(testimg.Dir(t), "pe", "autochk-"+tc.arch+".exe"))
			sys := ws[0].SystemRoot + `\System32\`
			if got := testimg.Run(t, "ntfscat", "-f", vol, onDisk(t, v, sys+"autochk.exe")); !bytes.Equal(got, hook) {
				t.Error("System32\\autochk.exe is not the hook")
			}
			if got := testimg.Run(t, "ntfscat", "-f", vol, onDisk(t, v, sys+"vmprep.cfg")); !bytes.Equal(got, orig) {
				t.Error("System32\\vmprep.cfg is not the original autochk.exe")
			}
			if testimg.QemuInfo(t, target).Format == "vmdk" {
				testimg.Run(t, "qemu-img", "check", target)
			}
		})
	}
}

// checkNoSecrets fails if a password shows anywhere in the result.
func checkNoSecrets(t *testing.T, res *imagecustom.CustomizeResult) {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{adminPassword, domainPassword, sysprep.EncodePassword(adminPassword, "AdministratorPassword"),
		sysprep.EncodePassword(adminPassword, "Password")} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("the result shows a password (%q…)", s[:3])
		}
	}
}

// TestCustomizeDryRunThenReal: a dry run plans what the real run then
// does, and changes no byte of any host file.
func TestCustomizeDryRunThenReal(t *testing.T) {
	image := testimg.VMDK(t, testimg.WinXP(), "monolithicSparse")
	spec, dir := customizeSpec(t, "i386")
	before := testimg.DirSums(t, filepath.Dir(image))
	dry, err := imagecustom.Customize(context.Background(), image, spec, &imagecustom.CustomizeOptions{SpecDir: dir, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, testimg.DirSums(t, filepath.Dir(image))); diff != "" {
		t.Fatalf("the dry run changed host files (-before +after):\n%s", diff)
	}
	if dry.Final != nil || len(dry.Changes) == 0 || dry.Probe.Files != len(dry.Plan.Files) {
		t.Errorf("dry run: final %v, %d changes, probe %+v", dry.Final, len(dry.Changes), dry.Probe)
	}
	real, err := imagecustom.Customize(context.Background(), image, spec, &imagecustom.CustomizeOptions{SpecDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(dry.Plan, real.Plan, cmpopts.IgnoreUnexported(imagecustom.Plan{}, imagecustom.PlanFile{},
		imagecustom.PlanValue{}, imagecustom.PlanHook{})); diff != "" {
		t.Errorf("plans differ (-dry +real):\n%s", diff)
	}
	if cmp.Equal(before, testimg.DirSums(t, filepath.Dir(image))) {
		t.Error("the real run changed nothing")
	}
}

// TestCustomizeRefusesWhatItCannotDo: a Windows 10 image that is not
// generalized is refused (ErrUnsafe) and left untouched unless the
// opt-in is given; a hook for the wrong machine is refused; an image with
// the hook installed (dirty) is refused on a second run.
func TestCustomizeRefusesWhatItCannotDo(t *testing.T) {
	w10 := testimg.Copy(t, testimg.Win10().Name)
	sum := fileSum(t, w10)
	spec, dir := customizeSpec(t, "amd64")
	_, err := imagecustom.Customize(context.Background(), w10, spec, &imagecustom.CustomizeOptions{SpecDir: dir})
	if !errors.Is(err, imagecustom.ErrUnsafe) || !strings.Contains(err.Error(), "IMAGE_STATE_COMPLETE") {
		t.Errorf("not generalized: %v, want ErrUnsafe naming the state", err)
	}
	xpSpec, xpDir := customizeSpec(t, "i386")
	if _, err := imagecustom.Customize(context.Background(), w10, xpSpec, &imagecustom.CustomizeOptions{SpecDir: xpDir, Generalize: true}); !errors.Is(err, imagecustom.ErrUnsafe) {
		t.Errorf("an i386 hook on amd64: %v, want ErrUnsafe", err)
	}
	if fileSum(t, w10) != sum {
		t.Fatal("a refused customize changed the image")
	}
	res, err := imagecustom.Customize(context.Background(), w10, spec, &imagecustom.CustomizeOptions{SpecDir: dir, Generalize: true})
	if err != nil {
		t.Fatal(err)
	}
	var cmdLine string
	for _, v := range res.Plan.Registry {
		if v.Name == "CmdLine" {
			cmdLine = fmt.Sprint(v.Data)
		}
	}
	if !strings.Contains(cmdLine, `sysprep.exe /generalize /oobe`) || len(res.Plan.Warnings) == 0 {
		t.Errorf("opt-in: CmdLine %q, warnings %q", cmdLine, res.Plan.Warnings)
	}
	if _, err := imagecustom.Customize(context.Background(), w10, spec, &imagecustom.CustomizeOptions{SpecDir: dir, Generalize: true}); !errors.Is(err, ntfs.ErrUnsafe) {
		t.Errorf("second run on the dirty volume: %v, want ntfs.ErrUnsafe", err)
	}
}

// TestCustomizeSysprepTools: with sysprepTools, sysprep.exe and
// setupcl.exe go to \Sysprep, setupcl.exe to System32 and into
// BootExecute after autochk; without, the plan warns that the SID stays.
func TestCustomizeSysprepTools(t *testing.T) {
	image := testimg.Copy(t, testimg.WinXP().Name)
	spec, dir := customizeSpec(t, "i386")
	spec.BootHook = nil
	tools := filepath.Join(dir, "deploy")
	os.Mkdir(tools, 0o755)
	// Stand-ins: an i386 native PE for setupcl.exe, an i386 console PE
	// for sysprep.exe (never Microsoft's binaries).
	native, _ := os.ReadFile(filepath.Join(testimg.Dir(t), "pe", "hook-i386.exe"))
	os.WriteFile(filepath.Join(tools, "SETUPCL.EXE"), native, 0o644)
	os.WriteFile(filepath.Join(tools, "sysprep.exe"), native, 0o644)
	spec.SysprepTools = "deploy"
	res, err := imagecustom.Customize(context.Background(), image, spec, &imagecustom.CustomizeOptions{SpecDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var boot []string
	for _, v := range res.Plan.Registry {
		if v.Name == "BootExecute" {
			boot = v.Data.([]string)
		}
	}
	if diff := cmp.Diff([]string{"autocheck autochk *", "setupcl.exe"}, boot); diff != "" {
		t.Errorf("BootExecute (-want +got):\n%s", diff)
	}
	for _, w := range res.Plan.Warnings {
		if strings.Contains(w, "SID stays") {
			t.Errorf("warning %q with sysprepTools given", w)
		}
	}
	img, err := imagecustom.Open(image)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	v, _, _ := img.OpenNTFS(0)
	for _, p := range []string{"Sysprep/sysprep.exe", "Sysprep/setupcl.exe", "WINDOWS/system32/setupcl.exe"} {
		if b, err := v.ReadFile(p); err != nil || !bytes.Equal(b, native) {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// TestCustomizeSetupCompleteMerged: an image's own SetupComplete.cmd is
// kept after the rendered one, and a stale Panther\Unattend\Unattend.xml
// is removed.
func TestCustomizeSetupCompleteMerged(t *testing.T) {
	image := testimg.Copy(t, testimg.Win10().Name)
	generalize(t, image)
	img, err := imagecustom.OpenRW(image, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, _, _ := img.OpenNTFSRW(0, nil)
	own := []byte("@echo off\r\nrem the image's own\r\n")
	for name, data := range map[string][]byte{"Windows/Setup/Scripts/SetupComplete.cmd": own, "Windows/Panther/Unattend/Unattend.xml": []byte("<unattend/>")} {
		if err := v.MkdirAll(name[:strings.LastIndex(name, "/")], nil); err != nil {
			t.Fatal(err)
		}
		if err := v.WriteFile(name, data, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := img.Commit(); err != nil {
		t.Fatal(err)
	}
	img.Close()
	spec, dir := customizeSpec(t, "amd64")
	res, err := imagecustom.Customize(context.Background(), image, spec, &imagecustom.CustomizeOptions{SpecDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{`\Windows\Panther\Unattend\Unattend.xml`}, res.Plan.Removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	rimg, err := imagecustom.Open(image)
	if err != nil {
		t.Fatal(err)
	}
	defer rimg.Close()
	rv, _, _ := rimg.OpenNTFS(0)
	sc, err := rv.ReadFile("Windows/Setup/Scripts/SetupComplete.cmd")
	if err != nil || !bytes.HasSuffix(sc, own) || !bytes.Contains(sc, []byte("final.cmd")) {
		t.Errorf("SetupComplete.cmd not merged: %v\n%s", err, sc)
	}
	if _, err := rv.Stat("Windows/Panther/Unattend/Unattend.xml"); err == nil {
		t.Error("the stale cached answer file is still there")
	}
}

// fileSum returns the SHA-256 of a file's content.
func fileSum(t testing.TB, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestCustomizeBootExecuteHook: the bootexecute method with a data file,
// on the XP fixture: the hook in System32 under its name, its line after
// autochk's in every control set (hivexget), the data file, no dirty
// flag; with sysprepTools too, setupcl.exe's line comes before the hook's.
func TestCustomizeBootExecuteHook(t *testing.T) {
	image := testimg.Copy(t, testimg.WinXP().Name)
	spec, dir := customizeSpec(t, "i386")
	if err := os.WriteFile(filepath.Join(dir, "actions.dat"), []byte("reboot\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec.BootHook.Method, spec.BootHook.Data = "bootexecute", "actions.dat"
	tools := filepath.Join(dir, "deploy")
	os.Mkdir(tools, 0o755)
	native, _ := os.ReadFile(filepath.Join(testimg.Dir(t), "pe", "hook-i386.exe"))
	os.WriteFile(filepath.Join(tools, "setupcl.exe"), native, 0o644)
	os.WriteFile(filepath.Join(tools, "sysprep.exe"), native, 0o644)
	spec.SysprepTools = "deploy"
	res, err := imagecustom.Customize(context.Background(), image, spec, &imagecustom.CustomizeOptions{SpecDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.Final.Dirty || !res.Final.Hook || res.Plan.Hook.ExeName != imagecustom.DefaultHookExeName {
		t.Errorf("final %+v, hook %+v", res.Final, res.Plan.Hook)
	}
	img, err := imagecustom.Open(image)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	v, _, _ := img.OpenNTFS(0)
	vol := rawVolume(t, image, testimg.WinXP())
	hive := filepath.Join(t.TempDir(), "SYSTEM")
	os.WriteFile(hive, testimg.Run(t, "ntfscat", vol, onDisk(t, v, `\WINDOWS\System32\config\SYSTEM`)), 0o644)
	for _, cs := range []string{"ControlSet001", "ControlSet002"} {
		got := strings.TrimSpace(string(testimg.Run(t, "hivexget", hive, `\`+cs+`\Control\Session Manager`, "BootExecute")))
		want := "autocheck autochk *\nsetupcl.exe\n" + strings.TrimSuffix(imagecustom.DefaultHookExeName, ".exe")
		if cs == "ControlSet002" && !strings.Contains(got, "setupcl.exe") {
			// setupcl.exe goes where CurrentControlSet writes go (Current
			// and Default); the hook into every control set.
			want = "autocheck autochk *\n" + strings.TrimSuffix(imagecustom.DefaultHookExeName, ".exe")
		}
		if got != want {
			t.Errorf("%s BootExecute:\n%s\nwant\n%s", cs, got, want)
		}
	}
	if got := testimg.Run(t, "ntfscat", vol, onDisk(t, v, `\WINDOWS\System32\`+imagecustom.DefaultHookDataName)); string(got) != "reboot\r\n" {
		t.Errorf("data file %q", got)
	}
}

// TestCustomizeBuiltinHook: bootHook.actions installs the project's own
// hook with the action list encoded as its data file.
func TestCustomizeBuiltinHook(t *testing.T) {
	for _, d := range []testimg.Disk{testimg.WinXP(), testimg.Win10()} {
		image := testimg.Copy(t, d.Name)
		if d.GPT {
			generalize(t, image)
		}
		spec, dir := customizeSpec(t, "i386")
		spec.BootHook = &sysprep.BootHook{Actions: "say \"hello\"\nreboot\n"}
		res, err := imagecustom.Customize(context.Background(), image, spec, &imagecustom.CustomizeOptions{SpecDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		img, err := imagecustom.Open(image)
		if err != nil {
			t.Fatal(err)
		}
		v, _, _ := img.OpenNTFS(0)
		root := strings.TrimPrefix(res.Plan.Windows.SystemRoot, `\`)
		exe, _ := v.ReadFile(root + "/System32/autochk.exe")
		want, _ := boothook.PE(res.Plan.Windows.Arch)
		if !res.Plan.Hook.Builtin || !bytes.Equal(exe, want) {
			t.Errorf("%s: autochk.exe is not the built-in hook for %s", d.Name, res.Plan.Windows.Arch)
		}
		dat, _ := v.ReadFile(root + "/System32/" + imagecustom.DefaultHookDataName)
		acts, err := boothook.Decode(dat)
		if err != nil || len(acts) != 2 {
			t.Errorf("%s: data file decodes to %v, %v", d.Name, acts, err)
		}
		img.Close()
	}
	// An action list that does not parse is a spec problem.
	image := testimg.Copy(t, testimg.WinXP().Name)
	spec, dir := customizeSpec(t, "i386")
	spec.BootHook = &sysprep.BootHook{Actions: "explode now\n"}
	if _, err := imagecustom.Customize(context.Background(), image, spec, &imagecustom.CustomizeOptions{SpecDir: dir, DryRun: true}); !errors.Is(err, sysprep.ErrInvalid) {
		t.Errorf("a bad action list: %v, want sysprep.ErrInvalid", err)
	}
}

// TestCustomizeVCenterSpecs: specs exported from vCenter customize the XP
// and Windows 10 fixtures (dry runs), what the family ignores or does
// differently shown as warnings with the plan.
func TestCustomizeVCenterSpecs(t *testing.T) {
	xp := testimg.Copy(t, testimg.WinXP().Name)
	w10 := testimg.Copy(t, testimg.Win10().Name)
	generalize(t, w10)
	for _, name := range []string{"sysprep-static-domain.xml", "sysprep-text.xml"} {
		data, err := os.ReadFile(filepath.Join(filepath.Dir(testimg.Dir(t)), "sysprep", "testdata", "vcenter", name))
		if err != nil {
			t.Fatal(err)
		}
		spec, err := sysprep.Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, image := range []string{xp, w10} {
			res, err := imagecustom.Customize(context.Background(), image, spec, &imagecustom.CustomizeOptions{DryRun: true})
			if err != nil {
				t.Errorf("%s on %s: %v", name, filepath.Base(image), err)
				continue
			}
			t.Logf("%s on %s: %d files, warnings %q", name, res.Plan.Family, len(res.Plan.Files), res.Plan.Warnings)
			if res.Plan.Family == "winxp" && name == "sysprep-static-domain.xml" {
				found := false
				for _, w := range res.Plan.Warnings {
					found = found || strings.Contains(w, "ipv6")
				}
				if !found {
					t.Errorf("%s on XP: no warning for its IPv6 settings: %q", name, res.Plan.Warnings)
				}
			}
		}
	}
}

// TestCustomizeImageStateFromStateIni: without ImageState in the
// registry, Windows\Setup\State\State.ini (UTF-16LE, as Windows writes
// it) says whether the image is generalized.
func TestCustomizeImageStateFromStateIni(t *testing.T) {
	image := testimg.Copy(t, testimg.Win10().Name)
	img, err := imagecustom.OpenRW(image, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, _, _ := img.OpenNTFSRW(0, nil)
	reg, err := imagecustom.OpenRegistry(v, "")
	if err != nil {
		t.Fatal(err)
	}
	k, err := reg.Key(`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State`)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.DeleteValue("ImageState"); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Save(); err != nil {
		t.Fatal(err)
	}
	ini := append([]byte{0xff, 0xfe}, encodeSZ("[State]\r\nImageState=IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE\r\n")...)
	if err := v.MkdirAll("Windows/Setup/State", nil); err != nil {
		t.Fatal(err)
	}
	if err := v.WriteFile("Windows/Setup/State/State.ini", ini[:len(ini)-2], nil); err != nil {
		t.Fatal(err)
	}
	if err := img.Commit(); err != nil {
		t.Fatal(err)
	}
	img.Close()
	spec, dir := customizeSpec(t, "amd64")
	res, err := imagecustom.Customize(context.Background(), image, spec, &imagecustom.CustomizeOptions{SpecDir: dir, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Plan.ImageState != "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE" {
		t.Errorf("image state %q", res.Plan.ImageState)
	}
}
