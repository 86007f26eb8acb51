package imagecustom_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// peFile reads a PE stand-in of testdata/pe.
func peFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testimg.Dir(t), "pe", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hookFixture is a disk fixture with what the hook tests need of it.
type hookFixture struct {
	disk    testimg.Disk
	root    string // system root as the volume spells it
	hook    string // the matching hook stand-in
	autochk string // the stand-in the fixture holds as autochk.exe
	wrong   string // a hook of the other machine
	sys32   string // System32 as the volume spells it, for ntfs-3g
}

func hookFixtures() []hookFixture {
	return []hookFixture{
		{testimg.WinXP(), "WINDOWS", "hook-i386.exe", "autochk-i386.exe", "hook-amd64.exe", "/WINDOWS/system32/"},
		{testimg.Win10(), "Windows", "hook-amd64.exe", "autochk-amd64.exe", "hook-i386.exe", "/Windows/System32/"},
	}
}

// withHookVolume opens image for writing with the options a hook
// operation takes, runs fn on its system volume, registry and install,
// saves the registry and commits.
func withHookVolume(t testing.TB, image string, fn func(v *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows) error) error {
	t.Helper()
	img, err := imagecustom.OpenRW(image, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	return runHook(img, fn)
}

func runHook(img *imagecustom.Image, fn func(v *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows) error) error {
	ws, err := img.Windows()
	if err != nil {
		return err
	}
	opts, err := imagecustom.HookVolumeOptions(img, 0)
	if err != nil {
		return err
	}
	v, _, err := img.OpenNTFSRW(0, opts)
	if err != nil {
		return err
	}
	reg, err := imagecustom.OpenRegistry(v, "")
	if err != nil {
		return err
	}
	if err := fn(v, reg, &ws[0]); err != nil {
		return err
	}
	if _, err := reg.Save(); err != nil {
		return err
	}
	return img.Commit()
}

// openSystem opens image read-only and returns its system volume.
func openSystem(t testing.TB, image string) *ntfs.Volume {
	t.Helper()
	img, err := imagecustom.Open(image)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	v, _, err := img.OpenNTFS(0)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// volumeSums returns the size and SHA-256 of every file of the system
// volume, read through our reader.
func volumeSums(t testing.TB, image string) map[string]string {
	t.Helper()
	v := openSystem(t, image)
	sums := map[string]string{}
	err := fs.WalkDir(v, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 || d.IsDir() {
			sums[p] = "dir"
			return nil
		}
		b, err := v.ReadFile(p)
		if err != nil {
			return err
		}
		sums[p] = fmt.Sprintf("%d %x", len(b), sha256.Sum256(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

// hookCheckClean fails the test unless our fsck finds the volume clean.
func hookCheckClean(t testing.TB, image, when string) {
	t.Helper()
	problems, err := ntfs.Check(context.Background(), openSystem(t, image), nil)
	if err != nil || len(problems) > 0 {
		t.Errorf("%s: ntfs.Check: %v %v", when, err, problems)
	}
}

// ntfsFlags returns what "ntfsinfo -f -m" says of the volume's flags.
func ntfsFlags(t testing.TB, vol string) string {
	t.Helper()
	out := testimg.Run(t, "ntfsinfo", "-f", "-m", vol)
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "Volume Flags:") {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "Volume Flags:"))
		}
	}
	t.Fatalf("ntfsinfo -m printed no volume flags:\n%s", out)
	return ""
}

// exportSystem extracts the SYSTEM hive with ntfscat and exports it with
// hivexregedit.
func exportSystem(t testing.TB, vol, sys32 string) []byte {
	t.Helper()
	hivePath := filepath.Join(t.TempDir(), "SYSTEM")
	if err := os.WriteFile(hivePath, testimg.Run(t, "ntfscat", "-f", vol, sys32+"config/SYSTEM"), 0o644); err != nil {
		t.Fatal(err)
	}
	return testimg.Run(t, "hivexregedit", "--export", hivePath, `\`)
}

// flsNames lists the volume's files with their MFT records as sleuthkit's
// fls sees them, sorted (fls lists a directory in its index blocks'
// order, which a B-tree reshaped by an insert and a delete changes).
func flsNames(t testing.TB, vol string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(string(testimg.Run(t, "fls", "-r", "-p", "-u", vol))), "\n")
	sort.Strings(lines)
	return lines
}

func fileStat(t testing.TB, v *ntfs.Volume, p string) *ntfs.FileStat {
	t.Helper()
	st, err := v.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Sys().(*ntfs.FileStat)
}

// autochkState is what remove must give back of autochk.exe.
type autochkState struct {
	Record     uint64
	Attributes uint32
	SecurityID uint32
	Times      string
	Names      []ntfs.Name
	ShortName  string
}

func autochkOf(t testing.TB, image, root string) autochkState {
	t.Helper()
	st := fileStat(t, openSystem(t, image), root+"/System32/autochk.exe")
	return autochkState{st.Record, st.Attributes, st.SecurityID,
		fmt.Sprint(st.Created, st.Modified, st.Changed, st.Accessed), st.Names, st.ShortName}
}

func TestHookInstallStatusRemove(t *testing.T) {
	data := []byte("reset-nics dhcp\r\nregedit minisetup.inf\r\nreboot\r\n")
	for _, fx := range hookFixtures() {
		for _, method := range []string{imagecustom.HookMethodAutochk, imagecustom.HookMethodBootExecute} {
			t.Run(fx.disk.Name+"/"+method, func(t *testing.T) {
				testHookRoundTrip(t, fx, method, data)
			})
		}
	}
}

func testHookRoundTrip(t *testing.T, fx hookFixture, method string, data []byte) {
	image := testimg.Copy(t, fx.disk.Name)
	hook := peFile(t, fx.hook)
	orig := peFile(t, fx.autochk)
	sys32 := fx.sys32

	vol := testimg.Section(t, image, fx.disk.System)
	sumsBefore := volumeSums(t, image)
	regBefore := exportSystem(t, vol, fx.sys32)
	flagsBefore := ntfsFlags(t, vol)
	autochkBefore := autochkOf(t, image, fx.root)
	flsBefore := flsNames(t, vol)

	// Install.
	var installed *imagecustom.HookStatus
	err := withHookVolume(t, image, func(v *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows) error {
		var err error
		installed, err = imagecustom.InstallHook(v, reg, w, hook, &imagecustom.HookOptions{Method: method, Data: data})
		return err
	})
	if err != nil {
		t.Fatalf("InstallHook: %v", err)
	}
	hookCheckClean(t, image, "after install")
	vol = testimg.Section(t, image, fx.disk.System)
	hookPath := sys32 + "autochk.exe"
	if method == imagecustom.HookMethodBootExecute {
		hookPath = sys32 + "imchook.exe"
	}
	if got := testimg.Run(t, "ntfscat", "-f", vol, hookPath); !bytes.Equal(got, hook) {
		t.Errorf("ntfscat %s: %d bytes, not the hook", hookPath, len(got))
	}
	if got := testimg.Run(t, "ntfscat", "-f", vol, sys32+"vmprep.dat"); !bytes.Equal(got, data) {
		t.Errorf("ntfscat vmprep.dat = %q", got)
	}
	flags := ntfsFlags(t, vol)
	v := openSystem(t, image)
	switch method {
	case imagecustom.HookMethodAutochk:
		if got := testimg.Run(t, "ntfscat", "-f", vol, sys32+"vmprep.cfg"); !bytes.Equal(got, orig) {
			t.Errorf("ntfscat vmprep.cfg: %d bytes, not the original autochk.exe", len(got))
		}
		if !strings.Contains(flags, "DIRTY") || !v.Dirty() {
			t.Errorf("after install: ntfsinfo flags %q, Dirty %v; want the dirty flag", flags, v.Dirty())
		}
		hst := autochkOf(t, image, fx.root)
		bst := fileStat(t, v, fx.root+"/System32/vmprep.cfg")
		if hardLinks(autochkBefore.Names) > 1 {
			// Rename design: the original's record, all its names but
			// System32's kept, is the backup; the hook a new record with
			// the original's security id, attributes and times.
			checkRenamed(t, autochkBefore, hst, bst)
			break
		}
		// The hook takes the original's record: its names, security id,
		// attributes and times; the backup gets the same.
		if diff := cmp.Diff(autochkBefore, hst); diff != "" {
			t.Errorf("hook's autochk.exe record (-original +hook):\n%s", diff)
		}
		if bst.SecurityID != autochkBefore.SecurityID || bst.Attributes&^0x80 != autochkBefore.Attributes ||
			fmt.Sprint(bst.Created, bst.Modified, bst.Changed, bst.Accessed) != autochkBefore.Times {
			t.Errorf("backup: security id %d, attributes 0x%x, times %v; original %+v", bst.SecurityID, bst.Attributes,
				[]any{bst.Created, bst.Modified, bst.Changed, bst.Accessed}, autochkBefore)
		}
	case imagecustom.HookMethodBootExecute:
		if flags != flagsBefore {
			t.Errorf("bootexecute changed the volume flags: %q, was %q", flags, flagsBefore)
		}
		hivePath := filepath.Join(t.TempDir(), "SYSTEM")
		os.WriteFile(hivePath, testimg.Run(t, "ntfscat", "-f", vol, sys32+"config/SYSTEM"), 0o644)
		for _, cs := range []string{"ControlSet001", "ControlSet002"} {
			out, err := testimg.RunErr(t, "hivexget", hivePath, cs+`\Control\Session Manager`, "BootExecute")
			if err != nil {
				continue // the fixture may have one control set
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) < 2 || !strings.EqualFold(strings.TrimSpace(lines[0]), "autocheck autochk *") || strings.TrimSpace(lines[len(lines)-1]) != "imchook" {
				t.Errorf("hivexget %s BootExecute = %q", cs, out)
			}
		}
	}

	// Status.
	st, err := imagecustom.ReadHookStatus(v, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(installed, st, cmpIgnoreBootExecute); diff != "" {
		t.Errorf("status differs from what InstallHook returned (-install +status):\n%s", diff)
	}
	want := &imagecustom.HookStatus{Installed: true, Method: method, Hook: winPath(hookPath), HookSHA256: hexSum(hook),
		HookSize: int64(len(hook)), HookIntact: true, Data: winPath(sys32 + "vmprep.dat"), DataSHA256: hexSum(data),
		DataSize: int64(len(data)), Dirty: method == imagecustom.HookMethodAutochk, Manifest: winPath("/" + fx.root + "/imagecustom/hook.json")}
	if method == imagecustom.HookMethodAutochk {
		want.Backup, want.BackupSHA256, want.DirtyOurs = winPath(sys32+"vmprep.cfg"), hexSum(orig), true
		want.Design = imagecustom.HookDesignInRecord
		if hardLinks(autochkBefore.Names) > 1 {
			want.Design = imagecustom.HookDesignRename
		}
	} else {
		want.Line = "imchook"
	}
	if diff := cmp.Diff(want, st, cmpIgnoreBootExecute, cmpFold); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}

	// A second install with the same method replaces the hook and data,
	// keeping the first record; another method is refused.
	other := imagecustom.HookMethodBootExecute
	if method == other {
		other = imagecustom.HookMethodAutochk
	}
	sumInstalled := fileSHA(t, image)
	err = withHookVolume(t, image, func(v *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows) error {
		_, err := imagecustom.InstallHook(v, reg, w, hook, &imagecustom.HookOptions{Method: other})
		return err
	})
	if !errors.Is(err, imagecustom.ErrUnsafe) || fileSHA(t, image) != sumInstalled {
		t.Errorf("second install with method %s: %v, want ErrUnsafe and the image untouched", other, err)
	}
	err = withHookVolume(t, image, func(v *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows) error {
		st, err := imagecustom.InstallHook(v, reg, w, hook, &imagecustom.HookOptions{Method: method, Data: []byte("reboot\r\n"), DataName: "vmprep2.dat"})
		if err == nil && (!strings.EqualFold(st.Data, winPath(sys32+"vmprep2.dat")) || !st.HookIntact) {
			err = fmt.Errorf("status after the second install: %+v", st)
		}
		return err
	})
	if err != nil {
		t.Fatalf("second install: %v", err)
	}
	hookCheckClean(t, image, "after the second install")

	// Remove.
	var removed *imagecustom.HookStatus
	err = withHookVolume(t, image, func(v *ntfs.Volume, reg *imagecustom.Registry, _ *imagecustom.Windows) error {
		var err error
		removed, err = imagecustom.RemoveHook(v, reg)
		return err
	})
	if err != nil {
		t.Fatalf("RemoveHook: %v", err)
	}
	if !removed.Installed || removed.Method != method || !strings.EqualFold(removed.Data, winPath(sys32+"vmprep2.dat")) {
		t.Errorf("RemoveHook returned %+v", removed)
	}
	hookCheckClean(t, image, "after remove")
	vol = testimg.Section(t, image, fx.disk.System)
	if got := ntfsFlags(t, vol); got != flagsBefore {
		t.Errorf("volume flags after remove %q, before %q", got, flagsBefore)
	}
	if got := exportSystem(t, vol, fx.sys32); !bytes.Equal(got, regBefore) {
		t.Errorf("hivexregedit --export of SYSTEM differs after remove:\n%s", cmp.Diff(string(regBefore), string(got)))
	}
	sumsAfter := volumeSums(t, image)
	if method == imagecustom.HookMethodBootExecute {
		// The hive file is rewritten (its sequence numbers and the key's
		// time change): compared above by its export.
		for k := range sumsAfter {
			if strings.EqualFold(k, fx.root+"/system32/config/SYSTEM") {
				delete(sumsAfter, k)
				delete(sumsBefore, k)
			}
		}
	}
	if diff := cmp.Diff(sumsBefore, sumsAfter); diff != "" {
		t.Errorf("files after remove (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(flsBefore, flsNames(t, vol)); diff != "" {
		t.Errorf("fls -r -p -u after remove (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(restoredState(autochkBefore, method, fileStat(t, openSystem(t, image), fx.root+"/System32").Record), autochkOf(t, image, fx.root)); diff != "" {
		t.Errorf("autochk.exe after remove (-before +after):\n%s", diff)
	}
	if got := testimg.Run(t, "ntfscat", vol, sys32+"autochk.exe"); !bytes.Equal(got, orig) {
		t.Error("ntfscat autochk.exe after remove: not the original")
	}
	if st, err := imagecustom.ReadHookStatus(openSystem(t, image), nil); err != nil || st.Installed || st.Dirty {
		t.Errorf("status after remove: %+v, %v", st, err)
	}
	err = withHookVolume(t, image, func(v *ntfs.Volume, reg *imagecustom.Registry, _ *imagecustom.Windows) error {
		_, err := imagecustom.RemoveHook(v, reg)
		return err
	})
	if !errors.Is(err, imagecustom.ErrNoHook) {
		t.Errorf("second remove: %v, want ErrNoHook", err)
	}
}

var (
	cmpIgnoreBootExecute = cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "BootExecute" }, cmp.Ignore())
	// cmpFold compares the paths of a status ignoring case, as NTFS does.
	cmpFold = cmp.FilterValues(func(a, b string) bool { return strings.HasPrefix(a, `\`) && strings.HasPrefix(b, `\`) },
		cmp.Comparer(strings.EqualFold))
)

func winPath(p string) string { return strings.ReplaceAll(p, "/", `\`) }

func hexSum(b []byte) string { return fmt.Sprintf("%x", sha256.Sum256(b)) }

func fileSHA(t testing.TB, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestHookRefusals(t *testing.T) {
	for _, fx := range hookFixtures() {
		hook := peFile(t, fx.hook)
		tests := []struct {
			name string
			exe  []byte
		}{
			{"console", peFile(t, "console-amd64.exe")},
			{"wrong machine", peFile(t, fx.wrong)},
			{"truncated", hook[:len(hook)-700]},
			{"headers only", hook[:300]},
			{"not a PE", []byte("@echo off\r\nnetsh interface ip set address\r\n")},
			{"empty", nil},
		}
		// One copy per fixture: every refusal leaves it as it was.
		image := testimg.Copy(t, fx.disk.Name)
		before := fileSHA(t, image)
		for _, tt := range tests {
			for _, method := range []string{imagecustom.HookMethodAutochk, imagecustom.HookMethodBootExecute} {
				err := withHookVolume(t, image, func(v *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows) error {
					_, err := imagecustom.InstallHook(v, reg, w, tt.exe, &imagecustom.HookOptions{Method: method, Data: []byte("x")})
					return err
				})
				if !errors.Is(err, imagecustom.ErrBadHook) || !errors.Is(err, imagecustom.ErrUnsafe) {
					t.Errorf("%s: %s, %s: InstallHook: %v, want ErrBadHook", fx.disk.Name, tt.name, method, err)
				}
			}
		}
		if fileSHA(t, image) != before {
			t.Errorf("%s: the image changed", fx.disk.Name)
		}
	}
}

func TestHookRefusesTakenNames(t *testing.T) {
	fx := hookFixtures()[0]
	image := testimg.Copy(t, fx.disk.Name)
	before := fileSHA(t, image)
	hook := peFile(t, fx.hook)
	for _, opts := range []imagecustom.HookOptions{
		{BackupName: "cmd.exe"},                         // taken
		{Data: []byte("x"), DataName: "cmd.exe"},        // taken
		{Method: "bootexecute", ExeName: "cmd.exe"},     // taken
		{BackupName: `..\boot.ini`},                     // not a name
		{Method: "bootexecute", ExeName: "my hook.exe"}, // space
		{Method: "bootexecute", ExeName: "hook.com"},    // not .exe
		{Method: "bootexecute", ExeName: "AUTOCHK.EXE"}, // autochk itself
		{Data: []byte("x"), DataName: "vmprep.cfg"},     // the backup's name
		{Method: "later"},                               // unknown
	} {
		err := withHookVolume(t, image, func(v *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows) error {
			_, err := imagecustom.InstallHook(v, reg, w, hook, &opts)
			return err
		})
		if err == nil {
			t.Errorf("InstallHook(%+v) succeeded", opts)
		}
	}
	if fileSHA(t, image) != before {
		t.Error("the image changed")
	}
}

// A volume dirty before the install is refused by OpenNTFSRW as ever:
// HookVolumeOptions allows only the flag the install set.
func TestHookVolumeOptionsOnlyOurDirtyFlag(t *testing.T) {
	fx := hookFixtures()[0]
	image := testimg.Copy(t, fx.disk.Name)
	img, err := imagecustom.OpenRW(image, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := img.OpenNTFSRW(0, nil)
	if err == nil {
		err = v.SetDirty(true)
	}
	if err == nil {
		err = img.Commit()
	}
	img.Close()
	if err != nil {
		t.Fatal(err)
	}
	err = withHookVolume(t, image, func(v *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows) error {
		_, err := imagecustom.InstallHook(v, reg, w, peFile(t, fx.hook), nil)
		return err
	})
	if !errors.Is(err, ntfs.ErrUnsafe) {
		t.Errorf("install on a volume dirty before: %v, want ntfs.ErrUnsafe", err)
	}
}

func TestHookDryRunAndChild(t *testing.T) {
	fx := hookFixtures()[1]
	image := testimg.Copy(t, fx.disk.Name)
	before := fileSHA(t, image)
	for _, opts := range []*imagecustom.WriteOptions{{DryRun: true}, {Child: filepath.Join(t.TempDir(), "child.vmdk")}} {
		img, err := imagecustom.OpenRW(image, opts)
		if err != nil {
			t.Fatal(err)
		}
		err = runHook(img, func(v *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows) error {
			_, err := imagecustom.InstallHook(v, reg, w, peFile(t, fx.hook), nil)
			return err
		})
		img.Close()
		if err != nil {
			t.Fatal(err)
		}
		if fileSHA(t, image) != before {
			t.Errorf("%+v: the image changed", opts)
		}
		if opts.Child != "" {
			if st, err := imagecustom.ReadHookStatus(openSystem(t, opts.Child), nil); err != nil || !st.Installed || !st.Dirty {
				t.Errorf("child: status %+v, %v", st, err)
			}
		}
	}
}

func TestCheckHookPE(t *testing.T) {
	tests := []struct {
		file, arch string
		ok         bool
	}{
		{"hook-amd64.exe", "amd64", true},
		{"hook-i386.exe", "x86", true},
		{"autochk-amd64.exe", "amd64", true},
		{"autochk-i386.exe", "x86", true},
		{"hook-amd64.exe", "x86", false},
		{"hook-i386.exe", "amd64", false},
		{"hook-amd64.exe", "arm64", false},
		{"hook-amd64.exe", "", false},
		{"hook-amd64.exe", "mips", false},
		{"console-amd64.exe", "amd64", false},
	}
	for _, tt := range tests {
		err := imagecustom.CheckHookPE(peFile(t, tt.file), tt.arch)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, imagecustom.ErrBadHook) {
			t.Errorf("CheckHookPE(%s, %q) = %v, want ok %v", tt.file, tt.arch, err, tt.ok)
		}
	}
	// Every truncation of a good hook is refused, none panics.
	hook := peFile(t, "hook-amd64.exe")
	for n := 0; n < len(hook); n += 37 {
		if err := imagecustom.CheckHookPE(hook[:n], "amd64"); !errors.Is(err, imagecustom.ErrBadHook) {
			t.Errorf("hook cut to %d bytes: %v", n, err)
		}
	}
}

func FuzzCheckHookPE(f *testing.F) {
	for _, name := range []string{"hook-amd64.exe", "hook-i386.exe", "autochk-amd64.exe", "autochk-i386.exe", "console-amd64.exe"} {
		f.Add(peFile(f, name), "amd64")
		f.Add(peFile(f, name), "x86")
	}
	f.Fuzz(func(t *testing.T, exe []byte, arch string) {
		err := imagecustom.CheckHookPE(exe, arch)
		if err != nil && !errors.Is(err, imagecustom.ErrBadHook) {
			t.Fatalf("error not matching ErrBadHook: %v", err)
		}
	})
}

func BenchmarkInstallHook(b *testing.B) {
	fx := hookFixtures()[0]
	image := testimg.Copy(b, fx.disk.Name)
	hook := peFile(b, fx.hook)
	data := []byte("reboot\r\n")
	for b.Loop() {
		img, err := imagecustom.OpenRW(image, &imagecustom.WriteOptions{DryRun: true})
		if err != nil {
			b.Fatal(err)
		}
		err = runHook(img, func(v *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows) error {
			_, err := imagecustom.InstallHook(v, reg, w, hook, &imagecustom.HookOptions{Data: data})
			return err
		})
		img.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
}

// RemoveHook cleans up after a hook that restored the original itself (as
// the seed's did at boot), and refuses a volume changed otherwise.
func TestHookRemoveStates(t *testing.T) {
	fx := hookFixtures()[0]
	sys := fx.root + "/System32/"
	install := func(t *testing.T) string {
		image := testimg.Copy(t, fx.disk.Name)
		err := withHookVolume(t, image, func(v *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows) error {
			_, err := imagecustom.InstallHook(v, reg, w, peFile(t, fx.hook), &imagecustom.HookOptions{Data: []byte("x")})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return image
	}
	remove := func(image string) error {
		return withHookVolume(t, image, func(v *ntfs.Volume, reg *imagecustom.Registry, _ *imagecustom.Windows) error {
			_, err := imagecustom.RemoveHook(v, reg)
			return err
		})
	}
	t.Run("restored by the hook", func(t *testing.T) {
		image := install(t)
		err := withHookVolume(t, image, func(v *ntfs.Volume, _ *imagecustom.Registry, _ *imagecustom.Windows) error {
			if err := v.Rename(sys+"vmprep.cfg", sys+"autochk.exe", true); err != nil {
				return err
			}
			return v.SetDirty(false) // chkdsk ran
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := remove(image); err != nil {
			t.Fatalf("RemoveHook: %v", err)
		}
		v := openSystem(t, image)
		for _, p := range []string{sys + "vmprep.dat", fx.root + "/imagecustom"} {
			if _, err := v.Stat(p); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s left: %v", p, err)
			}
		}
		if b, _ := v.ReadFile(sys + "autochk.exe"); !bytes.Equal(b, peFile(t, fx.autochk)) {
			t.Error("autochk.exe is not the original")
		}
	})
	t.Run("backup changed", func(t *testing.T) {
		image := install(t)
		err := withHookVolume(t, image, func(v *ntfs.Volume, _ *imagecustom.Registry, _ *imagecustom.Windows) error {
			return v.WriteFile(sys+"vmprep.cfg", []byte("not autochk"), nil)
		})
		if err != nil {
			t.Fatal(err)
		}
		// The backup no longer matches the record, so the dirty flag is not
		// known to be ours: the volume is refused as any dirty one.
		if err := remove(image); !errors.Is(err, ntfs.ErrUnsafe) {
			t.Errorf("RemoveHook with the backup changed: %v, want ntfs.ErrUnsafe", err)
		}
		// Forced open, RemoveHook itself refuses.
		img, err := imagecustom.OpenRW(image, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer img.Close()
		v, _, err := img.OpenNTFSRW(0, &ntfs.Options{AllowDirty: true})
		if err != nil {
			t.Fatal(err)
		}
		reg, err := imagecustom.OpenRegistry(v, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := imagecustom.RemoveHook(v, reg); !errors.Is(err, imagecustom.ErrUnsafe) {
			t.Errorf("RemoveHook with the backup changed: %v, want ErrUnsafe", err)
		}
	})
}

// ExampleInstallHook installs a boot hook on the bundled Windows XP disk,
// writing the changes to a child disk, and reads its status back.
func ExampleInstallHook() {
	dir, err := os.MkdirTemp("", "hook")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	child := filepath.Join(dir, "child.vmdk")
	img, err := imagecustom.OpenRW("../testdata/vmdk/winxp-streamOptimized.vmdk", &imagecustom.WriteOptions{Child: child})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer img.Close()
	hook, err := os.ReadFile("../testdata/pe/hook-i386.exe")
	if err != nil {
		fmt.Println(err)
		return
	}
	err = func() error {
		wins, err := img.Windows()
		if err != nil {
			return err
		}
		opts, err := imagecustom.HookVolumeOptions(img, wins[0].Partition)
		if err != nil {
			return err
		}
		v, _, err := img.OpenNTFSRW(wins[0].Partition, opts)
		if err != nil {
			return err
		}
		reg, err := imagecustom.OpenRegistry(v, wins[0].SystemRoot)
		if err != nil {
			return err
		}
		st, err := imagecustom.InstallHook(v, reg, &wins[0], hook, &imagecustom.HookOptions{Data: []byte("reboot\r\n")})
		if err != nil {
			return err
		}
		fmt.Println(st.Method, st.Hook, "original at", st.Backup, "dirty", st.Dirty)
		if _, err := reg.Save(); err != nil { // nothing to save for autochk
			return err
		}
		return img.Commit()
	}()
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := imagecustom.Open(child)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Close()
	v, _, err := res.OpenNTFS(0)
	if err != nil {
		fmt.Println(err)
		return
	}
	st, err := imagecustom.ReadHookStatus(v, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.Installed, st.Data, st.DataSize, "bytes")
	// Output:
	// autochk \WINDOWS\system32\autochk.exe original at \WINDOWS\system32\vmprep.cfg dirty true
	// true \WINDOWS\system32\vmprep.dat 8 bytes
}
