package main

import (
	"bytes"
	"testing"
)

func TestShortNames(t *testing.T) {
	taken := map[string]bool{}
	for _, tt := range []struct{ name, want string }{
		{"Program Files", "PROGRA~1"},
		{"Program Files (x86)", "PROGRA~2"},
		{"ProgramData", "PROGRA~3"},
		{"Ole DB", "OLEDB~1"},
		{"ntuser.dat.LOG", "NTUSER~1.LOG"},
		{"notes.v1.2.final.txt", "NOTESV~1.TXT"},
		{"plus+comma,semi;eq=brackets[1].txt", "PLUS_C~1.TXT"},
		{".hidden-dotfile", "HIDDEN~1"},
		{"Résumé.txt", "R_SUM_~1.TXT"},
		{"a.b", ""}, // legal 8.3: no alias
		{"kernel32.dll", ""},
		{"Desktop", ""},
		{"NTDETECT.COM", ""},
		{"abcdefghi", "ABCDEF~1"},
		{"x.html", "X~1.HTM"},
	} {
		got := ""
		if !legal83(tt.name) {
			got = shortName(tt.name, taken)
			taken[got] = true
		}
		if got != tt.want {
			t.Errorf("alias of %q = %q, want %q", tt.name, got, tt.want)
		}
	}
	// The fifth name of one stem gets the hashed form.
	taken = map[string]bool{}
	var last string
	for _, n := range []string{"Budget a.xls", "Budget b.xls", "Budget c.xls", "Budget d.xls", "Budget e.xls"} {
		last = shortName(n, taken)
		taken[last] = true
	}
	if len(last) != 12 || last[:2] != "BU" || last[6:] != "~1.XLS" {
		t.Errorf("fifth alias %q, want BUxxxx~1.XLS", last)
	}
}

func TestReparseData(t *testing.T) {
	// A junction to C:\U: tag, length, substitute "\??\C:\U" then print "C:\U".
	got := reparseData('j', `C:\U`)
	want := []byte{
		0x03, 0x00, 0x00, 0xA0, // IO_REPARSE_TAG_MOUNT_POINT
		36, 0, 0, 0, // ReparseDataLength, Reserved
		0, 0, 16, 0, 18, 0, 8, 0, // substitute off/len, print off/len
		'\\', 0, '?', 0, '?', 0, '\\', 0, 'C', 0, ':', 0, '\\', 0, 'U', 0, 0, 0,
		'C', 0, ':', 0, '\\', 0, 'U', 0, 0, 0,
	}
	if !bytes.Equal(got, want) {
		t.Errorf("junction reparse data\n got % x\nwant % x", got, want)
	}
	if l := reparseData('l', `C:\U`); len(l) != len(want)+4 || l[3] != 0xA0 || l[0] != 0x0C {
		t.Errorf("symlink reparse data % x", l)
	}
}

func TestSyntheticContent(t *testing.T) {
	a, b := synthetic(`A\x`, 5000), synthetic(`A\y`, 5000)
	if len(a) != 5000 || bytes.Equal(a, b) {
		t.Fatal("synthetic content not sized or not unique per path")
	}
	if bytes.Equal(a[:512], a[512:1024]) {
		t.Error("two blocks of one file are equal")
	}
}
