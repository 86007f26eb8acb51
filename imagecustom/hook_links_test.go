package imagecustom_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// linksDisk is testdata/win10real.raw, the Windows 10 fixture whose
// System32\autochk.exe is hard linked into WinSxS (win10.raw's layout).
func linksDisk() testimg.Disk {
	d := testimg.Win10()
	d.Name = "win10real.raw"
	return d
}

// hardLinks counts the names of a file but its 8.3 aliases.
func hardLinks(names []ntfs.Name) int {
	n := 0
	for _, name := range names {
		if name.Namespace != 2 {
			n++
		}
	}
	return n
}

// checkRenamed checks the rename design after an install: hook is the
// state of the new System32\autochk.exe, backup that of vmprep.cfg.
func checkRenamed(t *testing.T, before, hook autochkState, backup *ntfs.FileStat) {
	t.Helper()
	if backup.Record != before.Record {
		t.Errorf("backup in record %d, the original was %d", backup.Record, before.Record)
	}
	if hook.Record == before.Record {
		t.Errorf("the hook is in the original's record %d", hook.Record)
	}
	if len(hook.Names) != 1 || !strings.EqualFold(hook.Names[0].Name, "autochk.exe") {
		t.Errorf("hook's names %+v, want one autochk.exe", hook.Names)
	}
	if backup.SecurityID != before.SecurityID || backup.Attributes != before.Attributes ||
		fmt.Sprint(backup.Created, backup.Modified, backup.Changed, backup.Accessed) != before.Times {
		t.Errorf("backup: security id %d, attributes 0x%x, times %v; original %+v", backup.SecurityID, backup.Attributes,
			[]any{backup.Created, backup.Modified, backup.Changed, backup.Accessed}, before)
	}
	if hook.SecurityID != before.SecurityID || hook.Attributes&^0x80 != before.Attributes || hook.Times != before.Times {
		t.Errorf("hook: security id %d, attributes 0x%x, times %s; original %+v", hook.SecurityID, hook.Attributes, hook.Times, before)
	}
	// Every name of the original but System32's is still the backup's.
	var sys32 uint64
	if len(hook.Names) > 0 {
		sys32 = hook.Names[0].Parent
	}
	var kept, want []string
	for _, n := range backup.Names {
		if n.Parent != sys32 {
			kept = append(kept, fmt.Sprint(n))
		} else if !strings.EqualFold(n.Name, "vmprep.cfg") {
			t.Errorf("backup's System32 name %+v", n)
		}
	}
	for _, n := range before.Names {
		if n.Parent != sys32 {
			want = append(want, fmt.Sprint(n))
		}
	}
	if diff := cmp.Diff(want, kept); diff != "" {
		t.Errorf("the backup's names in other folders (-original +backup):\n%s", diff)
	}
}

// restoredState is what RemoveHook gives back of autochk.exe in state
// before: itself, except that in the rename design a POSIX name, which
// ntfs-3g writes, comes back as Windows writes a legal 8.3 name, in the
// Win32-and-DOS namespace (3).
func restoredState(before autochkState, method string, sys32 uint64) autochkState {
	if method != imagecustom.HookMethodAutochk || hardLinks(before.Names) < 2 {
		return before
	}
	names := append([]ntfs.Name(nil), before.Names...)
	for i, n := range names {
		if n.Parent == sys32 && n.Namespace == 0 && strings.EqualFold(n.Name, "autochk.exe") {
			names[i].Namespace = 3
		}
	}
	before.Names = names
	return before
}

// sxsAutochk returns the WinSxS path of autochk.exe on v, "" if none.
func sxsAutochk(t testing.TB, v *ntfs.Volume) string {
	t.Helper()
	ents, err := v.ReadDir("Windows/WinSxS")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "amd64_microsoft-windows-autochk_") {
			return "Windows/WinSxS/" + e.Name() + "/autochk.exe"
		}
	}
	return ""
}

// istatLinks returns the link count sleuthkit's istat gives record rec.
func istatLinks(t testing.TB, vol string, rec uint64) string {
	t.Helper()
	out := testimg.Run(t, "istat", vol, fmt.Sprint(rec))
	m := regexp.MustCompile(`(?m)^Links: (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("istat %d printed no link count:\n%s", rec, out)
	}
	return string(m[1])
}

// ntfs3gAccepts runs ntfs-3g's cluster walks on vol.
func ntfs3gAccepts(t testing.TB, vol string) {
	t.Helper()
	testimg.Run(t, "ntfsresize", "-i", "-f", vol)
	testimg.Run(t, "ntfsclone", "--save-image", "--force", "-O", "/dev/null", vol)
}

// TestHookHardLinkedAutochk installs the autochk hook where autochk.exe
// is hard linked into WinSxS (issue 14): the rename design keeps the
// original in its record, which the WinSxS name shares; remove gives the
// record its System32 name back. Checked by our reader, ntfscat, istat,
// fls, ntfsresize, ntfsclone and ntfs.Check.
func TestHookHardLinkedAutochk(t *testing.T) {
	disk := linksDisk()
	image := testimg.Copy(t, disk.Name)
	hook, orig := peFile(t, "hook-amd64.exe"), peFile(t, "autochk-amd64.exe")
	const sys = "Windows/System32/"
	v := openSystem(t, image)
	sxs := sxsAutochk(t, v)
	if sxs == "" {
		t.Fatal("no WinSxS autochk.exe in the fixture")
	}
	before := fileStat(t, v, sys+"autochk.exe")
	if sx := fileStat(t, v, sxs); sx.Record != before.Record || hardLinks(before.Names) != 2 {
		t.Fatalf("fixture: WinSxS autochk.exe in record %d, System32's in %d with names %+v", sx.Record, before.Record, before.Names)
	}
	sys32Rec := fileStat(t, v, "Windows/System32").Record
	vol := testimg.Section(t, image, disk.System)
	linksBefore := istatLinks(t, vol, before.Record)
	sumsBefore := volumeSums(t, image)
	flsBefore := flsNames(t, vol)
	stateBefore := autochkOf(t, image, "Windows")

	err := withHookVolume(t, image, func(v *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows) error {
		st, err := imagecustom.InstallHook(v, reg, w, hook, &imagecustom.HookOptions{Data: []byte("reboot\r\n")})
		if err == nil && st.Design != imagecustom.HookDesignRename {
			err = fmt.Errorf("design %q, want %q", st.Design, imagecustom.HookDesignRename)
		}
		return err
	})
	if err != nil {
		t.Fatalf("InstallHook: %v", err)
	}
	hookCheckClean(t, image, "after install")
	vol = testimg.Section(t, image, disk.System)
	ntfs3gAccepts(t, vol)
	v = openSystem(t, image)
	for _, c := range []struct {
		path string
		want []byte
	}{{sxs, orig}, {sys + "vmprep.cfg", orig}, {sys + "autochk.exe", hook}} {
		if got := testimg.Run(t, "ntfscat", "-f", vol, "/"+c.path); !bytes.Equal(got, c.want) {
			t.Errorf("after install: ntfscat %s: %d bytes, not the %s", c.path, len(got), map[bool]string{true: "original", false: "hook"}[bytes.Equal(c.want, orig)])
		}
		if got, err := v.ReadFile(c.path); err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("after install: ReadFile %s: %d bytes, %v", c.path, len(got), err)
		}
	}
	sx := fileStat(t, v, sxs)
	if sx.Record != before.Record || hardLinks(sx.Names) != 2 {
		t.Errorf("after install: WinSxS autochk.exe in record %d with names %+v; before record %d", sx.Record, sx.Names, before.Record)
	}
	if got := istatLinks(t, vol, before.Record); got != linksBefore {
		t.Errorf("after install: istat %d: %s links, before %s", before.Record, got, linksBefore)
	}
	checkRenamed(t, stateBefore, autochkOf(t, image, "Windows"), fileStat(t, v, sys+"vmprep.cfg"))

	err = withHookVolume(t, image, func(v *ntfs.Volume, reg *imagecustom.Registry, _ *imagecustom.Windows) error {
		_, err := imagecustom.RemoveHook(v, reg)
		return err
	})
	if err != nil {
		t.Fatalf("RemoveHook: %v", err)
	}
	hookCheckClean(t, image, "after remove")
	vol = testimg.Section(t, image, disk.System)
	ntfs3gAccepts(t, vol)
	if diff := cmp.Diff(restoredState(stateBefore, imagecustom.HookMethodAutochk, sys32Rec), autochkOf(t, image, "Windows")); diff != "" {
		t.Errorf("autochk.exe after remove (-before +after):\n%s", diff)
	}
	if got := istatLinks(t, vol, before.Record); got != linksBefore {
		t.Errorf("after remove: istat %d: %s links, before %s", before.Record, got, linksBefore)
	}
	for _, p := range []string{sxs, sys + "autochk.exe"} {
		if got := testimg.Run(t, "ntfscat", vol, "/"+p); !bytes.Equal(got, orig) {
			t.Errorf("after remove: ntfscat %s: not the original", p)
		}
	}
	if diff := cmp.Diff(sumsBefore, volumeSums(t, image)); diff != "" {
		t.Errorf("files after remove (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(flsBefore, flsNames(t, vol)); diff != "" {
		t.Errorf("fls -r -p -u after remove (-before +after):\n%s", diff)
	}
}

// TestHookHardLinkedBootUndo does offline, after an install on the
// hard-linked autochk.exe, what the native hook does at boot to take
// itself out (boothook's hook.c, undo): rename itself away, rename the
// backup back to autochk.exe, delete itself. The WinSxS name and
// System32's are then one record again, holding the original; RemoveHook
// afterwards just cleans up.
func TestHookHardLinkedBootUndo(t *testing.T) {
	disk := linksDisk()
	image := testimg.Copy(t, disk.Name)
	const sys = "Windows/System32/"
	v := openSystem(t, image)
	sxs := sxsAutochk(t, v)
	before := fileStat(t, v, sys+"autochk.exe")
	if err := withHookVolume(t, image, func(v *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows) error {
		_, err := imagecustom.InstallHook(v, reg, w, peFile(t, "hook-amd64.exe"), &imagecustom.HookOptions{Data: []byte("reboot\r\n")})
		return err
	}); err != nil {
		t.Fatalf("InstallHook: %v", err)
	}
	if err := withHookVolume(t, image, func(v *ntfs.Volume, _ *imagecustom.Registry, _ *imagecustom.Windows) error {
		if err := v.Rename(sys+"autochk.exe", sys+"imagecustom-hook.del", true); err != nil {
			return err
		}
		if err := v.Rename(sys+"vmprep.cfg", sys+"autochk.exe", false); err != nil {
			return err
		}
		if err := v.Remove(sys + "imagecustom-hook.del"); err != nil {
			return err
		}
		return v.SetDirty(false) // autochk ran
	}); err != nil {
		t.Fatalf("the boot undo: %v", err)
	}
	v = openSystem(t, image)
	orig := peFile(t, "autochk-amd64.exe")
	for _, p := range []string{sxs, sys + "autochk.exe"} {
		st := fileStat(t, v, p)
		if b, err := v.ReadFile(p); err != nil || !bytes.Equal(b, orig) || st.Record != before.Record || hardLinks(st.Names) != 2 {
			t.Errorf("after the boot undo: %s in record %d (was %d), names %+v, the original: %v %v", p, st.Record, before.Record, st.Names, bytes.Equal(b, orig), err)
		}
	}
	if err := withHookVolume(t, image, func(v *ntfs.Volume, reg *imagecustom.Registry, _ *imagecustom.Windows) error {
		_, err := imagecustom.RemoveHook(v, reg)
		return err
	}); err != nil {
		t.Fatalf("RemoveHook after the boot undo: %v", err)
	}
	v = openSystem(t, image)
	if _, err := v.Stat("Windows/imagecustom"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the manifest's folder is left: %v", err)
	}
	hookCheckClean(t, image, "after the boot undo and remove")
}

// With the rename design the backup must be the original's own record:
// a copy of its bytes put there instead (the WinSxS name no longer
// shares it) is not as installed, so the dirty flag is not known to be
// ours and RemoveHook itself refuses, writing nothing.
func TestHookHardLinkedBackupReplaced(t *testing.T) {
	disk := linksDisk()
	image := testimg.Copy(t, disk.Name)
	const sys = "Windows/System32/"
	if err := withHookVolume(t, image, func(v *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows) error {
		_, err := imagecustom.InstallHook(v, reg, w, peFile(t, "hook-amd64.exe"), nil)
		return err
	}); err != nil {
		t.Fatalf("InstallHook: %v", err)
	}
	if err := withHookVolume(t, image, func(v *ntfs.Volume, _ *imagecustom.Registry, _ *imagecustom.Windows) error {
		if err := v.Remove(sys + "vmprep.cfg"); err != nil { // the WinSxS name keeps the record
			return err
		}
		return v.WriteFile(sys+"vmprep.cfg", peFile(t, "autochk-amd64.exe"), nil)
	}); err != nil {
		t.Fatal(err)
	}
	remove := func(v *ntfs.Volume, reg *imagecustom.Registry, _ *imagecustom.Windows) error {
		_, err := imagecustom.RemoveHook(v, reg)
		return err
	}
	if err := withHookVolume(t, image, remove); !errors.Is(err, ntfs.ErrUnsafe) {
		t.Errorf("RemoveHook with the backup a copy: %v, want ntfs.ErrUnsafe (the dirty volume refused)", err)
	}
	before := fileSHA(t, image)
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
	if err := remove(v, reg, nil); !errors.Is(err, imagecustom.ErrUnsafe) {
		t.Errorf("RemoveHook, forced open, with the backup a copy: %v, want ErrUnsafe", err)
	}
	if err := img.Commit(); err != nil {
		t.Fatal(err)
	}
	if fileSHA(t, image) != before {
		t.Error("the refused RemoveHook changed the image")
	}
}

func BenchmarkInstallHookHardLinked(b *testing.B) {
	image := testimg.Copy(b, linksDisk().Name)
	hook := peFile(b, "hook-amd64.exe")
	for b.Loop() {
		img, err := imagecustom.OpenRW(image, &imagecustom.WriteOptions{DryRun: true})
		if err != nil {
			b.Fatal(err)
		}
		err = runHook(img, func(v *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows) error {
			_, err := imagecustom.InstallHook(v, reg, w, hook, &imagecustom.HookOptions{Data: []byte("reboot\r\n")})
			return err
		})
		img.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
}

// A system-compressed (WOF) autochk.exe, as Compact OS leaves it, cannot
// take the hook's bytes in its record, but the rename design moves it
// whole: linked into WinSxS or not, it comes back with its reparse point,
// its compressed stream and its names. The fixture's compact.dll (WOF,
// LZX, linked into WinSxS) is made autochk.exe for the test.
func TestHookWOFAutochk(t *testing.T) {
	const sys = "Windows/System32/"
	for _, linked := range []bool{true, false} {
		t.Run(fmt.Sprint("linked=", linked), func(t *testing.T) {
			disk := linksDisk()
			image := testimg.Copy(t, disk.Name)
			err := withHookVolume(t, image, func(v *ntfs.Volume, _ *imagecustom.Registry, _ *imagecustom.Windows) error {
				if err := v.Remove(sys + "autochk.exe"); err != nil { // WinSxS keeps the record
					return err
				}
				if !linked { // and the WinSxS name of compact.dll goes too
					ents, err := v.ReadDir("Windows/WinSxS")
					if err != nil {
						return err
					}
					for _, e := range ents {
						if strings.HasPrefix(e.Name(), "amd64_microsoft-windows-compact_") {
							if err := v.Remove("Windows/WinSxS/" + e.Name() + "/compact.dll"); err != nil {
								return err
							}
						}
					}
				}
				return v.Rename(sys+"compact.dll", sys+"autochk.exe", false)
			})
			if err != nil {
				t.Fatal(err)
			}
			v := openSystem(t, image)
			before := fileStat(t, v, sys+"autochk.exe")
			if before.System == nil || (hardLinks(before.Names) > 1) != linked {
				t.Fatalf("setup: autochk.exe %+v, want system-compressed, linked %v", before, linked)
			}
			orig, err := v.ReadFile(sys + "autochk.exe")
			if err != nil {
				t.Fatal(err)
			}
			stateBefore := autochkOf(t, image, "Windows")
			sumsBefore := volumeSums(t, image)
			hook := peFile(t, "hook-amd64.exe")
			err = withHookVolume(t, image, func(v *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows) error {
				st, err := imagecustom.InstallHook(v, reg, w, hook, nil)
				if err == nil && st.Design != imagecustom.HookDesignRename {
					err = fmt.Errorf("design %q, want %q", st.Design, imagecustom.HookDesignRename)
				}
				return err
			})
			if err != nil {
				t.Fatalf("InstallHook: %v", err)
			}
			hookCheckClean(t, image, "after install")
			vol := testimg.Section(t, image, disk.System)
			testimg.Run(t, "ntfsresize", "-i", "-f", vol)
			v = openSystem(t, image)
			bst, hst := fileStat(t, v, sys+"vmprep.cfg"), fileStat(t, v, sys+"autochk.exe")
			if bst.Record != before.Record || bst.System == nil || hst.System != nil || hst.Reparse != nil || hst.SecurityID != before.SecurityID {
				t.Errorf("after install: backup %+v, hook %+v", bst, hst)
			}
			if got := testimg.Run(t, "ntfscat", "-f", vol, "/"+sys+"autochk.exe"); !bytes.Equal(got, hook) {
				t.Errorf("ntfscat autochk.exe: %d bytes, not the hook", len(got))
			}
			if got, err := v.ReadFile(sys + "vmprep.cfg"); err != nil || !bytes.Equal(got, orig) {
				t.Errorf("backup: %d bytes, %v; not the original", len(got), err)
			}
			err = withHookVolume(t, image, func(v *ntfs.Volume, reg *imagecustom.Registry, _ *imagecustom.Windows) error {
				_, err := imagecustom.RemoveHook(v, reg)
				return err
			})
			if err != nil {
				t.Fatalf("RemoveHook: %v", err)
			}
			hookCheckClean(t, image, "after remove")
			vol = testimg.Section(t, image, disk.System)
			testimg.Run(t, "ntfsresize", "-i", "-f", vol)
			v = openSystem(t, image)
			after := fileStat(t, v, sys+"autochk.exe")
			if after.System == nil || after.Reparse == nil || after.Reparse.Tag != before.Reparse.Tag {
				t.Errorf("after remove: autochk.exe not system-compressed: %+v", after)
			}
			if diff := cmp.Diff(restoredState(stateBefore, imagecustom.HookMethodAutochk, fileStat(t, v, "Windows/System32").Record), autochkOf(t, image, "Windows")); diff != "" {
				t.Errorf("autochk.exe after remove (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(sumsBefore, volumeSums(t, image)); diff != "" {
				t.Errorf("files after remove (-before +after):\n%s", diff)
			}
		})
	}
}

// hookRestoredLinks is what RemoveHook gives back of the linkState
// before (win10real_customize_test.go) of a hard-linked autochk.exe:
// itself, but for System32's name, which the rename design renames back
// and so comes back in the Win32-and-DOS namespace (3) where ntfs-3g had
// written it in the POSIX one (0) — see RemoveHook.
func hookRestoredLinks(t *testing.T, v *ntfs.Volume, before linkState) linkState {
	t.Helper()
	from := fmt.Sprintf("%d/autochk.exe ns0", fileStat(t, v, "Windows/System32").Record)
	names := append([]string(nil), before.Names...)
	for i, n := range names {
		if strings.EqualFold(n, from) {
			names[i] = n[:len(n)-1] + "3"
		}
	}
	sort.Strings(names)
	before.Names = names
	return before
}
