package ntfs

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// win10RealVolume returns a private copy of the system volume of
// testdata/win10real.raw (testdata/gen/mkwin10real.sh: WinSxS hard links,
// a SOFTWARE hive with an attribute list, an LZX system-compressed file).
func win10RealVolume(t *testing.T) string {
	t.Helper()
	d := testimg.Win10()
	d.Name = "win10real.raw"
	return testimg.Volume(t, d)
}

// TestWin10Real does on the realistic Windows 10 volume what the hook
// installer and a registry edit do, and checks the result with ntfs-3g
// (FUSE walk with checksums), sleuthkit, ntfsresize, ntfsclone and Check:
// the system-compressed file reads as the file it was made from, SOFTWARE
// (an attribute list) is rewritten, autochk.exe is renamed to vmprep.cfg
// and replaced, and the WinSxS link of autochk.exe keeps the original.
func TestWin10Real(t *testing.T) {
	if testing.Short() {
		t.Skip("walks a 394 MiB volume through FUSE")
	}
	p := win10RealVolume(t)
	v, _ := openRWPath(t, p)
	const sys32 = "Windows/System32/"
	compact, err := v.ReadFile(sys32 + "compact.dll")
	if err != nil {
		t.Fatal(err)
	}
	kernel32, err := v.ReadFile(sys32 + "admres.dll") // the largest DLL, which compact.dll is a copy of
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(compact, kernel32) {
		t.Fatal("compact.dll does not read as admres.dll, whose LZX-compressed copy it is")
	}
	if !hasAttrList(t, v, sys32+"config/SOFTWARE") {
		t.Fatal("the fixture's SOFTWARE has no attribute list")
	}
	var sxs string
	entries, err := v.ReadDir("Windows/WinSxS")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "amd64_microsoft-windows-autochk_") {
			sxs = "Windows/WinSxS/" + e.Name() + "/autochk.exe"
		}
	}
	if sxs == "" {
		t.Fatal("no WinSxS folder of autochk.exe")
	}
	want := fuseWalk(t, p)
	orig, err := v.ReadFile(sys32 + "autochk.exe")
	if err != nil {
		t.Fatal(err)
	}
	// The registry edit: SOFTWARE written again, one byte of its last
	// page changed (past the hive's data, so hivex still reads it).
	software, err := v.ReadFile(sys32 + "config/SOFTWARE")
	if err != nil {
		t.Fatal(err)
	}
	software = append(software, make([]byte, 4096)...)
	if err := v.WriteFile(sys32+"config/SOFTWARE", software, nil); err != nil {
		t.Fatal(err)
	}
	want[sys32+"config/SOFTWARE"] = sha256.Sum256(software)
	// The hook: autochk.exe becomes vmprep.cfg, a new autochk.exe comes.
	if err := v.Rename(sys32+"autochk.exe", sys32+"vmprep.cfg", false); err != nil {
		t.Fatal(err)
	}
	hook := testimg.Bytes(t, "pe/hook-amd64.exe")
	if err := v.WriteFile(sys32+"autochk.exe", hook, nil); err != nil {
		t.Fatal(err)
	}
	want[sys32+"vmprep.cfg"] = want[sys32+"autochk.exe"]
	want[sys32+"autochk.exe"] = sha256.Sum256(hook)
	// And writing over the system-compressed file leaves a plain one,
	// which its WinSxS link shows too.
	if err := v.WriteFile(sys32+"compact.dll", kernel32[:len(kernel32)/2], nil); err != nil {
		t.Fatal(err)
	}
	half := sha256.Sum256(kernel32[:len(kernel32)/2])
	// ntfs-3g (without its system compression plugin) could not read it
	// before; now it can, by both names.
	want[sys32+"compact.dll"] = half
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "amd64_microsoft-windows-compact_") {
			want["Windows/WinSxS/"+e.Name()+"/compact.dll"] = half
		}
	}
	agree(t, v, p, want)
	if got, err := v.ReadFile(sxs); err != nil || !bytes.Equal(got, orig) {
		t.Errorf("the WinSxS link of autochk.exe reads %d bytes, %v; want the original", len(got), err)
	}
	fi, err := v.Stat(sxs)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*FileStat); st.Links < 2 {
		t.Errorf("%s: %d links, want vmprep.cfg and the WinSxS name", sxs, st.Links)
	}
	if got := testimg.Run(t, "ntfscat", p, "/"+sxs); !bytes.Equal(got, orig) {
		t.Error("ntfscat reads the WinSxS autochk.exe differently")
	}
}
