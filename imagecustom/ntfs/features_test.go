package ntfs_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// featureEntry is a line of testdata/ntfs/features.manifest.
type featureEntry struct {
	kind   byte // d dir, f file, s stream, h hard link, l symlink, j junction, x deleted
	path   string
	size   int64
	sha    string
	links  int
	target string
	flags  map[string]bool // flags that hold on the volume in question
}

// readFeatures parses the manifest, keeping the flags that hold for the
// volume variant (c512, c4096 or c65536).
func readFeatures(t *testing.T, variant string) []featureEntry {
	t.Helper()
	f, err := os.Open(filepath.Join(testimg.Dir(t), "ntfs", "features.manifest"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []featureEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 8 {
			t.Fatalf("manifest line %q", line)
		}
		size, _ := strconv.ParseInt(c[2], 10, 64)
		links, _ := strconv.Atoi(c[4])
		e := featureEntry{kind: c[0][0], path: strings.ReplaceAll(c[1], `\`, "/"), size: size, sha: c[3], links: links,
			target: c[6], flags: map[string]bool{}}
		for _, tok := range strings.Split(c[7], ",") {
			name, vols, scoped := strings.Cut(tok, "@")
			if !scoped || strings.Contains("+"+vols+"+", "+"+variant+"+") {
				e.flags[name] = true
			}
		}
		out = append(out, e)
	}
	return out
}

func openVolumeFile(t *testing.T, name string) *ntfs.Volume {
	t.Helper()
	f, err := os.Open(testimg.Path(t, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, _ := f.Stat()
	v, err := ntfs.Open(f, fi.Size())
	if err != nil {
		t.Fatalf("Open %s: %v", name, err)
	}
	return v
}

func TestFeatureVolumes(t *testing.T) {
	for _, variant := range []string{"c512", "c4096", "c65536"} {
		t.Run(variant, func(t *testing.T) {
			v := openVolumeFile(t, "ntfs/features-"+variant+".raw")
			checked := map[byte]int{}
			for _, e := range readFeatures(t, variant) {
				switch e.kind {
				case 'x':
					if _, err := v.Stat(e.path); !errors.Is(err, fs.ErrNotExist) {
						t.Errorf("deleted %s: Stat = %v, want not found", e.path, err)
					}
					checked['x']++
					continue
				case 'l', 'j':
					target, err := v.ReadLink(e.path)
					if err != nil || target != e.target {
						t.Errorf("%s: ReadLink = %q, %v; want %q", e.path, target, err, e.target)
					}
					checked[e.kind]++
					continue
				case 'd':
					fi, err := v.Stat(e.path)
					if err != nil || !fi.IsDir() {
						t.Errorf("%s: %v, %v", e.path, fi, err)
					}
					checked['d']++
					continue
				}
				fl, err := v.Open(e.path)
				if err != nil {
					t.Errorf("%v", err)
					continue
				}
				h := sha256.New()
				n, err := io.Copy(h, fl)
				fl.Close()
				if err != nil || n != e.size || hex.EncodeToString(h.Sum(nil)) != e.sha {
					t.Errorf("%s: read %d bytes (%v), sha256 %x; want %d %s", e.path, n, err, h.Sum(nil), e.size, e.sha)
				}
				checked[e.kind]++
				fi, err := v.Stat(e.path)
				if err != nil {
					t.Fatal(err)
				}
				st := fi.Sys().(*ntfs.FileStat)
				if e.kind == 'f' || e.kind == 'h' {
					if e.links > 0 && st.Links != e.links {
						t.Errorf("%s: %d links, want %d", e.path, st.Links, e.links)
					}
					s := st.Streams[0]
					for flag, got := range map[string]bool{"compressed": s.Compressed, "sparse": s.Sparse, "resident": s.Resident} {
						if e.flags[flag] != got {
							t.Errorf("%s: %s = %v, manifest says %v", e.path, flag, got, e.flags[flag])
						}
					}
					if e.flags["attrlist"] {
						checked['A']++
					}
				}
			}
			// Every kind was met, the attribute-list files among them.
			for _, k := range []byte{'f', 'd', 's', 'h', 'l', 'j', 'x', 'A'} {
				if checked[k] == 0 {
					t.Errorf("no entry of kind %c checked", k)
				}
			}
		})
	}
}
