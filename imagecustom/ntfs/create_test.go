package ntfs

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// content returns n bytes unique to name.
func content(name string, n int) []byte {
	var b bytes.Buffer
	for b.Len() < n {
		fmt.Fprintf(&b, "%s %d\n", name, b.Len())
	}
	return b.Bytes()[:n]
}

// oracleTree reads a volume file with third-party tools and returns every
// file's content hash by path: wimlib (libntfs-3g) for the tree and the
// bytes, and sleuthkit's fls for the names, which must agree; ntfsfix,
// ntfsresize and ntfsclone must find nothing wrong (the last two catch
// $Bitmap errors, see ORACLES.md).
func oracleTree(t *testing.T, vol string) map[string][32]byte {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "empty.ini")
	os.WriteFile(cfg, nil, 0o644)
	testimg.Run(t, "wimcapture", vol, filepath.Join(dir, "v.wim"), "--compress=none", "--config="+cfg)
	testimg.Run(t, "wimapply", filepath.Join(dir, "v.wim"), "1", filepath.Join(dir, "tree"))
	got := map[string][32]byte{}
	root := filepath.Join(dir, "tree")
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == root {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(p, root+"/"))
		if fi.IsDir() {
			got[rel+"/"] = [32]byte{}
			return nil
		}
		b, _ := os.ReadFile(p)
		got[rel] = sha256.Sum256(b)
		return nil
	})
	// fls sees the same names.
	out := string(testimg.Run(t, "fls", "-r", "-p", "-u", vol))
	flsNames := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		_, name, _ := strings.Cut(line, ":\t")
		switch first, _, _ := strings.Cut(name, "/"); strings.SplitN(first, ":", 2)[0] {
		case "$AttrDef", "$BadClus", "$Bitmap", "$Boot", "$Extend", "$LogFile", "$MFT",
			"$MFTMirr", "$Secure", "$UpCase", "$Volume", "$OrphanFiles":
		default:
			flsNames[name] = true
		}
	}
	for p := range got {
		if !flsNames[strings.TrimSuffix(p, "/")] {
			t.Errorf("fls does not list %s", p)
		}
	}
	if len(flsNames) != len(got) {
		t.Errorf("fls lists %d names, wimlib %d", len(flsNames), len(got))
	}
	// ntfs-3g's ntfsls walks the indexes by path: the same names.
	lsNames := map[string]bool{}
	dirName := ""
	for _, line := range strings.Split(string(testimg.Run(t, "ntfsls", "-R", "-a", vol)), "\n") {
		switch {
		case line == "" || line == "." || line == "..":
		case strings.HasPrefix(line, "/") && strings.HasSuffix(line, ":"):
			dirName = strings.TrimPrefix(strings.TrimSuffix(line, ":"), "/")
		default:
			if dirName != "" {
				line = dirName + "/" + line
			}
			lsNames[line] = true
		}
	}
	for p := range got {
		if !lsNames[strings.TrimSuffix(p, "/")] {
			t.Errorf("ntfsls -R does not list %s", p)
		}
	}
	// libfsntfs: every name it lists must be real (it is known to miss
	// entries of some multi-block indexes, so missing ones prove nothing;
	// and libfsntfs 20200921 decodes surrogate pairs wrongly — 😀 comes
	// out as 🈁 — so names outside the BMP are left out).
	for _, line := range strings.Split(string(testimg.Run(t, "fsntfsinfo", "-H", vol)), "\n") {
		p, ok := strings.CutPrefix(line, `\`)
		if !ok || strings.HasPrefix(p, "$") || strings.Contains(p, ":") ||
			strings.ContainsFunc(p, func(r rune) bool { return r > 0xFFFF }) {
			continue
		}
		p = strings.ReplaceAll(p, `\`, "/")
		if _, file := got[p]; !file {
			if _, dir := got[p+"/"]; !dir {
				t.Errorf("fsntfsinfo lists %q, which is not there", p)
			}
		}
	}
	testimg.Run(t, "fsstat", vol)
	testimg.Run(t, "ntfsfix", "-n", vol)
	// Cluster accounting: both walk every run list against $Bitmap.
	testimg.Run(t, "ntfsresize", "-i", "-f", vol)
	testimg.Run(t, "ntfsclone", "--save-image", "-O", "/dev/null", vol)
	return got
}

func TestCreateFiles(t *testing.T) {
	v, f := openCopy(t, "ntfs/tiny.raw", nil)
	want := map[string][32]byte{}
	before := oracleTree(t, f.Name())
	for k, s := range before {
		want[k] = s
	}
	put := func(name string, n int) {
		t.Helper()
		data := content(name, n)
		if err := v.WriteFile(name, data, nil); err != nil {
			t.Fatalf("WriteFile(%s): %v", name, err)
		}
		want[name] = sha256.Sum256(data)
	}
	put("new.txt", 100)          // resident
	put("big.bin", 100_000)      // non-resident
	put("zero.bin", 0)           // nothing at all
	put("Ünïcödé ☃ 😀.txt", 1000) // non-ASCII, a surrogate pair
	if err := v.Mkdir("newdir", nil); err != nil {
		t.Fatal(err)
	}
	want["newdir/"] = [32]byte{}
	put("newdir/inside.txt", 5000)
	put("dir/sub/another in an existing index.txt", 10) // the 40-file directory with an index block
	// Enough names in one new directory to split blocks and grow the tree.
	if err := v.Mkdir("many", nil); err != nil {
		t.Fatal(err)
	}
	want["many/"] = [32]byte{}
	for i := 0; i < 300; i++ { // $MFT grows on the way: the volume has 110 records
		put(fmt.Sprintf("many/file %03d with a longish name.txt", (i*37)%300), 50)
	}
	f.Sync()
	got := oracleTree(t, f.Name())
	var diff []string
	for k, s := range want {
		if got[k] != s {
			diff = append(diff, k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			diff = append(diff, "+"+k)
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Errorf("third-party view differs for %d paths: %q", len(diff), diff[:min(10, len(diff))])
	}
	// Our own reader agrees too, through a fresh Open.
	v2, err := Open(f, v.size)
	if err != nil {
		t.Fatal(err)
	}
	for k, s := range want {
		if strings.HasSuffix(k, "/") {
			continue
		}
		b, err := v2.ReadFile(k)
		if err != nil || sha256.Sum256(b) != s {
			t.Errorf("ReadFile(%s): %v", k, err)
		}
	}
}
