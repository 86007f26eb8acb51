package ntfs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// TestNamesAsWindows creates and renames files and checks the namespaces
// of their names as ntfs-3g (ntfsls -x, ntfsinfo) and we read them: a legal
// 8.3 name once in the Win32 and DOS namespace, on every volume; another
// name a Win32 name plus a DOS alias on a volume that makes aliases, a
// Win32 name alone on one that does not.
func TestNamesAsWindows(t *testing.T) {
	type name struct {
		Name string
		NS   uint8
	}
	for _, tt := range []struct {
		aliases bool
		want    map[string][]name
	}{
		{true, map[string][]name{
			"README.TXT":          {{"README.TXT", 3}},
			"lower.txt":           {{"lower.txt", 3}},
			"Long file name.doc":  {{"LONGFI~1.DOC", 2}, {"Long file name.doc", 1}},
			"RENAMED.TXT":         {{"RENAMED.TXT", 3}},
			"now a long name.txt": {{"NOWALO~1.TXT", 2}, {"now a long name.txt", 1}},
		}},
		{false, map[string][]name{
			"README.TXT":          {{"README.TXT", 3}},
			"lower.txt":           {{"lower.txt", 3}},
			"Long file name.doc":  {{"Long file name.doc", 1}},
			"RENAMED.TXT":         {{"RENAMED.TXT", 3}},
			"now a long name.txt": {{"now a long name.txt", 1}},
		}},
	} {
		t.Run(map[bool]string{true: "aliases", false: "no aliases"}[tt.aliases], func(t *testing.T) {
			p := freshVolume(t, 16<<20)
			v, f := openRWPath(t, p)
			if tt.aliases {
				// A root with an alias makes the volume one that makes them.
				if err := v.WriteFile("Program Files.txt", []byte("x"), &FileOptions{ShortNames: ShortNamesAlways}); err != nil {
					t.Fatal(err)
				}
				fi, _ := f.Stat()
				var err error
				if v, err = OpenRW(f, fi.Size(), nil); err != nil {
					t.Fatal(err)
				}
			}
			if err := v.Mkdir("d", nil); err != nil {
				t.Fatal(err)
			}
			for _, n := range []string{"README.TXT", "lower.txt", "Long file name.doc", "to-rename.txt!", "Short1.txt"} {
				if err := v.WriteFile("d/"+n, []byte(n), nil); err != nil {
					t.Fatal(err)
				}
			}
			// A long name renamed to a legal 8.3 name, and the other way.
			if err := v.Rename("d/to-rename.txt!", "d/RENAMED.TXT", false); err != nil {
				t.Fatal(err)
			}
			if err := v.Rename("d/Short1.txt", "d/now a long name.txt", false); err != nil {
				t.Fatal(err)
			}
			got := map[string][]name{}
			for n := range tt.want {
				fi, err := v.Stat("d/" + n)
				if err != nil {
					t.Fatal(err)
				}
				for _, fn := range fi.Sys().(*FileStat).Names {
					got[n] = append(got[n], name{fn.Name, fn.Namespace})
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
			// ntfs-3g: ntfsls -x lists the DOS names (namespaces 2 and 3),
			// and without -x the Win32 ones (1 and 3).
			dos := lines(testimg.Run(t, "ntfsls", "-x", "-p", "/d", p))
			win := lines(testimg.Run(t, "ntfsls", "-p", "/d", p))
			var wantDOS, wantWin []string
			for _, ns := range tt.want {
				for _, n := range ns {
					if n.NS&2 != 0 {
						wantDOS = append(wantDOS, n.Name)
					}
					if n.NS&1 != 0 {
						wantWin = append(wantWin, n.Name)
					}
				}
			}
			if diff := cmp.Diff(sorted(wantDOS), sorted(dos)); diff != "" {
				t.Errorf("ntfsls -x (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(sorted(wantWin), sorted(win)); diff != "" {
				t.Errorf("ntfsls (-want +got):\n%s", diff)
			}
			// sleuthkit: fls lists the long names of the folder.
			fi, err := v.Stat("d")
			if err != nil {
				t.Fatal(err)
			}
			var fls []string
			for _, l := range lines(testimg.Run(t, "fls", p, fmt.Sprint(fi.Sys().(*FileStat).Record))) {
				if _, n, ok := strings.Cut(l, ":\t"); ok {
					fls = append(fls, n)
				}
			}
			if diff := cmp.Diff(sorted(wantWin), sorted(fls)); diff != "" {
				t.Errorf("fls (-want +got):\n%s", diff)
			}
			testimg.Run(t, "ntfsfix", "-n", p)
			probs, err := Check(context.Background(), v, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, pr := range probs {
				t.Errorf("Check: %v", pr)
			}
		})
	}
}

func lines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l = strings.TrimSpace(l); l != "" && l != "." && l != ".." {
			out = append(out, l)
		}
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
