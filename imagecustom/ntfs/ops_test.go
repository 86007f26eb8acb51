package ntfs

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"testing"
)

// checkAgainstOracles compares the volume file with want through
// third-party tools and through a fresh Open of our own.
func checkAgainstOracles(t *testing.T, v *Volume, path string, want map[string][32]byte) {
	t.Helper()
	got := oracleTree(t, path)
	var diff []string
	for k, s := range want {
		if g, ok := got[k]; !ok || g != s {
			diff = append(diff, "-"+k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diff = append(diff, "+"+k)
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Errorf("third-party view differs at %d paths: %q", len(diff), diff[:min(12, len(diff))])
	}
	v2, err := Open(v.dev, v.size)
	if err != nil {
		t.Fatal(err)
	}
	problems, err := Check(context.Background(), v2, nil)
	if err != nil || len(problems) > 0 {
		t.Errorf("Check: %v, %d problems: %v", err, len(problems), problems[:min(5, len(problems))])
	}
	for k, s := range want {
		if strings.HasSuffix(k, "/") {
			continue
		}
		if fi, err := v2.Lstat(k); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			continue
		}
		b, err := v2.ReadFile(k)
		if err != nil || sha256.Sum256(b) != s {
			t.Errorf("our reader: %s: %v", k, err)
		}
	}
}

func TestRemoveRenameReplace(t *testing.T) {
	v, f := openCopy(t, "ntfs/tiny.raw", nil)
	want := oracleTree(t, f.Name())
	put := func(name string, n int) {
		t.Helper()
		data := content(name, n)
		if err := v.WriteFile(name, data, nil); err != nil {
			t.Fatalf("WriteFile(%s): %v", name, err)
		}
		want[name] = sha256.Sum256(data)
	}
	mkdir := func(name string) {
		t.Helper()
		if err := v.Mkdir(name, nil); err != nil {
			t.Fatal(err)
		}
		want[name+"/"] = [32]byte{}
	}
	remove := func(name string) {
		t.Helper()
		if err := v.Remove(name); err != nil {
			t.Fatalf("Remove(%s): %v", name, err)
		}
		delete(want, name)
		delete(want, name+"/")
	}
	rename := func(from, to string, replace bool) {
		t.Helper()
		if err := v.Rename(from, to, replace); err != nil {
			t.Fatalf("Rename(%s, %s): %v", from, to, err)
		}
		for k, s := range want {
			if k == from || k == from+"/" || strings.HasPrefix(k, from+"/") {
				delete(want, k)
				want[to+strings.TrimPrefix(k, from)] = s
			}
		}
	}

	// Many names, then every other one removed: index entries leave leaves,
	// internal entries are replaced by successors, blocks empty out.
	mkdir("many")
	var names []string
	for i := 0; i < 300; i++ {
		n := fmt.Sprintf("many/file %03d with a longish name.txt", (i*37)%300)
		names = append(names, n)
		put(n, 40)
	}
	for i, n := range names {
		if i%2 == 0 {
			remove(n)
		}
	}
	checkAgainstOracles(t, v, f.Name(), want)

	// Content replaced: resident to non-resident and back, and in size.
	put("dir/b.txt", 200_000)
	put("a.txt", 3)
	put("dir/b.txt", 150)
	put("grow.bin", 10)
	put("grow.bin", 300_000)
	put("grow.bin", 5000)

	// Renames: in place, across directories, case only, over a file.
	rename("a.txt", "renamed a.txt", false)
	rename("renamed a.txt", "short.txt", false) // same directory, long name to a legal 8.3 one
	rename("dir/b.txt", "many/b moved.txt", false)
	rename("many/b moved.txt", "many/B MOVED.TXT", false)
	put("target.txt", 10)
	if err := v.Rename("grow.bin", "target.txt", false); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Rename over an existing file without replace: %v", err)
	}
	rename("grow.bin", "target.txt", true)
	mkdir("tree")
	mkdir("tree/sub")
	put("tree/sub/leaf.txt", 100)
	rename("tree", "many/tree moved", false)
	if err := v.Rename("many", "many/tree moved/inside", false); err == nil {
		t.Error("moving a directory under itself succeeded")
	}
	checkAgainstOracles(t, v, f.Name(), want)

	// Everything left in many goes, then many itself.
	if err := v.Remove("many"); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("Remove of a non-empty directory: %v", err)
	}
	if err := v.RemoveAll("many"); err != nil {
		t.Fatal(err)
	}
	for k := range want {
		if strings.HasPrefix(k, "many/") {
			delete(want, k)
		}
	}
	if _, err := v.Stat("many"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat after RemoveAll: %v", err)
	}
	if err := v.Remove("$MFT"); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Remove($MFT): %v", err)
	}
	checkAgainstOracles(t, v, f.Name(), want)
}
