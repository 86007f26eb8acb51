package ntfs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// featureClusters returns the cluster sizes of the feature volumes the
// attribute list tests write: 4 KiB only with -short.
func featureClusters() []int {
	if testing.Short() {
		return []int{4096}
	}
	return []int{512, 4096}
}

// openFeatures opens a private copy of an ntfs-3g-made feature volume
// for writing and returns it with its path.
func openFeatures(t *testing.T, c int) (*Volume, string) {
	t.Helper()
	p := testimg.Copy(t, fmt.Sprintf("ntfs/features-c%d.raw", c))
	v, _ := openRWPath(t, p)
	return v, p
}

// longLink is the name of link i of hardlinks/many/target.txt.
func longLink(i int) string {
	return fmt.Sprintf("hardlinks/many/link-%03d-with-a-long-name-so-that-the-names-overflow-the-record.txt", i)
}

// checkClean runs Check and fails the test on any problem.
func checkClean(t *testing.T, v *Volume) {
	t.Helper()
	probs, err := Check(context.Background(), v, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Errorf("Check: %v", p)
	}
}

// fuseWalk mounts the volume file read-only with ntfs-3g (FUSE, needs
// root) and returns the SHA-256 of every regular file by slash path,
// directories with a zero sum and a trailing slash. Names Linux cannot
// take (over 255 UTF-8 bytes) are left out. It skips when FUSE is not
// available.
func fuseWalk(t *testing.T, vol string) map[string][32]byte {
	t.Helper()
	bin := testimg.Oracle(t, "ntfs-3g")
	if os.Geteuid() != 0 {
		t.Skip("ntfs-3g FUSE mount needs root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skip("no /dev/fuse")
	}
	mnt := t.TempDir()
	cmd := exec.Command(bin, "-o", "ro,no_detach", vol, mnt)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	mounted := false
	for range 100 {
		if out, _ := exec.Command("mountpoint", "-q", mnt).CombinedOutput(); len(out) == 0 {
			if exec.Command("mountpoint", "-q", mnt).Run() == nil {
				mounted = true
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !mounted {
		cmd.Process.Kill()
		<-done
		t.Fatalf("ntfs-3g did not mount %s: %s", vol, stderr.Bytes())
	}
	defer func() {
		exec.Command("fusermount", "-u", mnt).Run()
		<-done
	}()
	sums := map[string][32]byte{}
	err := filepath.WalkDir(mnt, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a name Linux cannot take
		}
		rel, _ := filepath.Rel(mnt, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			sums[rel+"/"] = [32]byte{}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("ntfs-3g reads %s: %v", rel, err)
			return nil
		}
		sums[rel] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

// agree checks a volume written by us with outside tools: the ntfs-3g
// FUSE walk gives the sums of want (taken the same way before the write,
// with the changes applied), sleuthkit's fls and ntfs-3g's ntfsls list
// the same names, ntfsfix, ntfsresize and ntfsclone accept it, and Check
// finds nothing.
func agree(t *testing.T, v *Volume, vol string, want map[string][32]byte) {
	t.Helper()
	checkClean(t, v)
	got := fuseWalk(t, vol)
	for k, s := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("ntfs-3g does not find %s", k)
		} else if g != s {
			t.Errorf("ntfs-3g reads other content in %s", k)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("ntfs-3g finds %s, which should not be there", k)
		}
	}
	// Our reading of every file ntfs-3g read agrees too.
	for k, s := range got {
		if strings.HasSuffix(k, "/") {
			continue
		}
		if b, err := v.ReadFile(k); err != nil || sha256.Sum256(b) != s {
			t.Errorf("we read %s differently from ntfs-3g: %v", k, err)
		}
	}
	out := string(testimg.Run(t, "fls", "-r", "-p", "-u", vol))
	for k := range got {
		if !strings.Contains(out, ":\t"+strings.TrimSuffix(k, "/")+"\n") {
			t.Errorf("fls does not list %s", k)
		}
	}
	testimg.Run(t, "ntfsfix", "-n", vol)
	testimg.Run(t, "ntfsresize", "-i", "-f", vol)
	testimg.Run(t, "ntfsclone", "--save-image", "-O", "/dev/null", vol)
}

// TestAttrListRemove removes names and files whose records have an
// $ATTRIBUTE_LIST on ntfs-3g-made volumes: names in the base and in
// extension records of a file of 100 links, all of them, and files of
// hundreds of fragments; ntfs-3g (wimlib's walk through libntfs-3g, with
// every file's checksum), sleuthkit, ntfsresize, ntfsclone and Check agree
// afterwards.
func TestAttrListRemove(t *testing.T) {
	for _, c := range featureClusters() {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			v, p := openFeatures(t, c)
			want := fuseWalk(t, p)
			target, err := v.ReadFile("hardlinks/many/target.txt")
			if err != nil {
				t.Fatal(err)
			}
			// Some names, from the base record and from extension records.
			for _, i := range []int{1, 2, 50, 99} {
				if err := v.Remove(longLink(i)); err != nil {
					t.Fatalf("remove %s: %v", longLink(i), err)
				}
				delete(want, longLink(i))
			}
			fi, err := v.Stat("hardlinks/many/target.txt")
			if err != nil {
				t.Fatal(err)
			}
			if st := fi.Sys().(*FileStat); st.Links != 96 || len(st.Names) != 96 {
				t.Errorf("after 4 removals: %d links, %d names, want 96", st.Links, len(st.Names))
			}
			checkClean(t, v)
			if got, err := v.ReadFile(longLink(3)); err != nil || sha256.Sum256(got) != sha256.Sum256(target) {
				t.Errorf("link 3 reads %d bytes, %v", len(got), err)
			}
			// A fragmented file, whose $DATA extents fill extension records.
			for _, n := range []string{"fragmented/interleaved-a.txt", "fragmented/many-holes.bin"} {
				if err := v.Remove(n); err != nil {
					t.Fatalf("remove %s: %v", n, err)
				}
				delete(want, n)
			}
			checkClean(t, v)
			// Every remaining name of the 100-link file, then the file.
			for i := 3; i <= 98; i++ {
				if i == 50 {
					continue
				}
				if err := v.Remove(longLink(i)); err != nil {
					t.Fatalf("remove %s: %v", longLink(i), err)
				}
				delete(want, longLink(i))
			}
			if err := v.Remove("hardlinks/many/target.txt"); err != nil {
				t.Fatal(err)
			}
			delete(want, "hardlinks/many/target.txt")
			agree(t, v, p, want)
		})
	}
}

// TestAttrListRename renames names of files with an attribute list: a
// name of the 100-link file within its folder, to another folder, a
// change of case only, and the only name of a fragmented file (which
// ntfs-3g moved to an extension record); the outside tools agree.
func TestAttrListRename(t *testing.T) {
	for _, c := range featureClusters() {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			v, p := openFeatures(t, c)
			want := fuseWalk(t, p)
			long2 := "hardlinks/many/renamed-010-with-another-long-name-so-that-it-needs-as-much-room-again.txt"
			for _, mv := range [][2]string{
				{longLink(10), long2},
				{longLink(20), "hardlinks/a/moved-020.txt"},
				{longLink(30), "hardlinks/many/LINK-030" + longLink(30)[len("hardlinks/many/link-030"):]},
				{"fragmented/interleaved-b.txt", "fragmented/renamed-interleaved-b.txt"},
				{"fragmented/renamed-interleaved-b.txt", "hardlinks/b/interleaved-b, now elsewhere.txt"},
			} {
				if err := v.Rename(mv[0], mv[1], false); err != nil {
					t.Fatalf("rename %s: %v", mv[0], err)
				}
				want[mv[1]] = want[mv[0]]
				delete(want, mv[0])
				if _, err := v.Stat(mv[1]); err != nil {
					t.Fatal(err)
				}
			}
			fi, err := v.Stat("hardlinks/many/target.txt")
			if err != nil {
				t.Fatal(err)
			}
			if st := fi.Sys().(*FileStat); st.Links != 100 || len(st.Names) != 100 {
				t.Errorf("after the renames: %d links, %d names, want 100", st.Links, len(st.Names))
			}
			agree(t, v, p, want)
		})
	}
}

// TestAttrListReplace replaces and grows the content of files with an
// attribute list: fragmented files whose $DATA extents fill extension
// records (with small resident content, and with 3 MB), and the 100-link
// file (300 resident bytes grown to 200 KB); every name sees the new size
// and the outside tools agree.
func TestAttrListReplace(t *testing.T) {
	for _, c := range featureClusters() {
		t.Run(fmt.Sprint(c), func(t *testing.T) {
			v, p := openFeatures(t, c)
			want := fuseWalk(t, p)
			for _, w := range []struct {
				name string
				size int
			}{
				{"fragmented/interleaved-a.txt", 100},
				{"fragmented/interleaved-b.txt", 3 << 20},
				{"fragmented/many-holes.bin", 5000},
				{"hardlinks/many/target.txt", 200 << 10},
			} {
				data := content(w.name, w.size)
				if err := v.WriteFile(w.name, data, nil); err != nil {
					t.Fatalf("write %s: %v", w.name, err)
				}
				got, err := v.ReadFile(w.name)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("%s reads back %d bytes, %v", w.name, len(got), err)
				}
				want[w.name] = sha256.Sum256(data)
			}
			for i := 1; i <= 99; i++ {
				want[longLink(i)] = want["hardlinks/many/target.txt"]
				fi, err := v.Stat(longLink(i))
				if err != nil {
					t.Fatal(err)
				}
				if fi.Size() != 200<<10 {
					t.Errorf("%s: size %d", longLink(i), fi.Size())
				}
			}
			agree(t, v, p, want)
		})
	}
}

// hasAttrList reports whether the named file's base record has an
// $ATTRIBUTE_LIST.
func hasAttrList(t *testing.T, v *Volume, name string) bool {
	t.Helper()
	n, err := v.resolve("stat", name)
	if err != nil {
		t.Fatal(err)
	}
	return n.f.rec.find(attrAttributeList, "") != nil
}

// TestAttrListCreate gives files an attribute list when an attribute no
// longer fits the base record: content replaced on a volume whose free
// space is in 1-cluster holes (the run list cut into extents in new
// extension records), and a rename to a long name of a file whose record
// is full of resident data. The outside tools agree, and the files can be
// written, renamed and removed again.
func TestAttrListCreate(t *testing.T) {
	p := freshVolume(t, 16<<20)
	v, _ := openRWPath(t, p)
	if err := v.Mkdir("f", nil); err != nil {
		t.Fatal(err)
	}
	const holes = 600
	for i := range 2 * holes {
		if err := v.WriteFile(fmt.Sprintf("f/%04d", i), content(fmt.Sprint(i), 4096), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.WriteFile("big.bin", []byte("small at first"), nil); err != nil {
		t.Fatal(err)
	}
	// Fill what is left but holes clusters.
	bm, err := v.clusterBitmap()
	if err != nil {
		t.Fatal(err)
	}
	var free int64
	if err := v.freeExtents(bm, 0, func(e extent) bool { free += e.length; return true }); err != nil {
		t.Fatal(err)
	}
	if err := v.WriteFile("fill.bin", make([]byte, (free-holes)*v.boot.clusterSize), nil); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2*holes; i += 2 {
		if err := v.Remove(fmt.Sprintf("f/%04d", i)); err != nil {
			t.Fatal(err)
		}
	}
	big := content("big", int((2*holes-50)*v.boot.clusterSize)-100)
	if err := v.WriteFile("big.bin", big, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := v.ReadFile("big.bin"); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("big.bin reads back %d bytes, %v", len(got), err)
	}
	fi, _ := v.Stat("big.bin")
	t.Logf("big.bin: %d runs", len(fi.Sys().(*FileStat).Streams[0].Runs))
	if !hasAttrList(t, v, "big.bin") {
		t.Error("big.bin has no attribute list")
	}
	checkClean(t, v)
	// A record full of resident data, renamed to a 250-character name.
	if err := v.WriteFile("resident.bin", content("r", 400), nil); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("long name ", 24) + "end.bin"
	if err := v.Rename("resident.bin", long, false); err != nil {
		t.Fatal(err)
	}
	if !hasAttrList(t, v, long) {
		t.Errorf("%s has no attribute list: the rename fitted", long)
	}
	want := map[string][32]byte{"big.bin": sha256.Sum256(big), long: sha256.Sum256(content("r", 400)),
		"fill.bin": sha256.Sum256(make([]byte, (free-holes)*v.boot.clusterSize)), "f/": {}}
	for i := 1; i < 2*holes; i += 2 {
		want[fmt.Sprintf("f/%04d", i)] = sha256.Sum256(content(fmt.Sprint(i), 4096))
	}
	agree(t, v, p, want)
	// And on again: rename, replace, remove.
	if err := v.Rename("big.bin", "f/big, renamed.bin", false); err != nil {
		t.Fatal(err)
	}
	if err := v.WriteFile("f/big, renamed.bin", []byte("small again"), nil); err != nil {
		t.Fatal(err)
	}
	if err := v.Remove(long); err != nil {
		t.Fatal(err)
	}
	delete(want, "big.bin")
	delete(want, long)
	want["f/big, renamed.bin"] = sha256.Sum256([]byte("small again"))
	agree(t, v, p, want)
	// A new file in the holes big.bin left: created with a list.
	if err := v.WriteFile("new.bin", big, nil); err != nil {
		t.Fatal(err)
	}
	if !hasAttrList(t, v, "new.bin") {
		t.Error("new.bin has no attribute list")
	}
	want["new.bin"] = sha256.Sum256(big)
	agree(t, v, p, want)
}

// FuzzAttrList decodes arbitrary $ATTRIBUTE_LIST values; what decodes
// encodes to a value that decodes the same.
func FuzzAttrList(f *testing.F) {
	f.Add(encodeAttrList([]listEntry{
		{typ: attrStandardInformation, ref: 5 | 1<<48},
		{typ: attrFileName, ref: 30 | 1<<48, instance: 3},
		{typ: attrData, name: "WofCompressedData", lowVCN: 17, ref: 31 | 2<<48, instance: 1},
	}))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := parseAttrList(b, 1, 0)
		if err != nil {
			return
		}
		again, err := parseAttrList(encodeAttrList(entries), 1, 0)
		if err != nil {
			t.Fatalf("re-encoded list does not parse: %v", err)
		}
		if len(again) != len(entries) {
			t.Fatalf("%d entries, %d after re-encoding", len(entries), len(again))
		}
	})
}
