package ntfs_test

import (
	"errors"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

func TestLookup(t *testing.T) {
	v := openFixture(t, testimg.WinXP())
	tests := []struct {
		path string
		name string // Name() of the result
		err  error
	}{
		{"WINDOWS/system32/config/SYSTEM", "SYSTEM", nil},
		{"windows/SYSTEM32/CONFIG/system", "SYSTEM", nil},                                   // case-insensitive
		{"PROGRA~1/INTERN~1/iexplore.exe", "iexplore.exe", nil},                             // through 8.3 aliases
		{"Documents and Settings/Administrator/My Documents/RÉSUMÉ.TXT", "Résumé.txt", nil}, // $UpCase beyond ASCII
		{"Documents and Settings/Administrator/My Documents/ОТЧЁТ ЗА 2008 ГОД.DOC", "Отчёт за 2008 год.doc", nil},
		{"WINDOWS/system32/nosuchfile.dll", "", fs.ErrNotExist},
		{"boot.ini/x", "", fs.ErrNotExist},
		{"/WINDOWS", "", fs.ErrInvalid},
		{"WINDOWS/", "", fs.ErrInvalid},
		{"$MFT", "$MFT", nil}, // hidden from listings, but can be opened
	}
	for _, tt := range tests {
		fi, err := v.Stat(tt.path)
		if !errors.Is(err, tt.err) {
			t.Errorf("Stat(%q) error %v, want %v", tt.path, err, tt.err)
			continue
		}
		if err == nil && fi.Name() != tt.name {
			t.Errorf("Stat(%q).Name() = %q, want %q", tt.path, fi.Name(), tt.name)
		}
	}
}

func TestReparsePointsNotFollowed(t *testing.T) {
	v := openFixture(t, testimg.Win10())
	fi, err := v.Stat("Documents and Settings")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("junction mode %v", fi.Mode())
	}
	rp := fi.Sys().(*ntfs.FileStat).Reparse
	if rp == nil || rp.Tag != 0xA0000003 || rp.Target != `C:\Users` || rp.Substitute != `\??\C:\Users` {
		t.Errorf("junction reparse point %+v", rp)
	}
	_, err = v.Stat("Documents and Settings/Admin")
	if !errors.Is(err, ntfs.ErrReparsePoint) {
		t.Errorf("path through a junction: %v, want ErrReparsePoint", err)
	}
	if _, err := v.ReadDir("Users/All Users"); !errors.Is(err, ntfs.ErrReparsePoint) {
		t.Errorf("ReadDir of a symbolic link: %v", err)
	}
	if _, err := v.ReadLink("Users"); err == nil {
		t.Errorf("ReadLink of a plain directory succeeded")
	}
}

func TestFSConformanceTrees(t *testing.T) {
	// fstest.TestFS reads every file many ways, a byte at a time among
	// them, so it runs on the trees with the interesting names and links
	// rather than on all of system32 (whose content the manifest test reads).
	for _, tt := range []struct {
		disk testimg.Disk
		dir  string
		want []string
	}{
		{testimg.WinXP(), "Documents and Settings", []string{"Administrator/My Documents/Résumé.txt", "Administrator/NTUSER.DAT"}},
		{testimg.Win10(), "Users", []string{"Admin/Documents/emoji 😀 smile.txt", "All Users", "Default User"}},
		{testimg.Win10(), "Windows/System32/config", []string{"SYSTEM", "SOFTWARE.LOG1"}},
	} {
		t.Run(tt.disk.Name+"/"+tt.dir, func(t *testing.T) {
			sub, err := fs.Sub(openFixture(t, tt.disk), tt.dir)
			if err != nil {
				t.Fatal(err)
			}
			if err := fstest.TestFS(sub, tt.want...); err != nil {
				t.Fatal(err)
			}
		})
	}
}
