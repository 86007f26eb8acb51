package ntfs_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// openFixture opens the system volume of a disk fixture, read-only.
func openFixture(t testing.TB, d testimg.Disk) *ntfs.Volume {
	t.Helper()
	f, err := os.Open(testimg.Path(t, d.Name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	v, err := ntfs.Open(io.NewSectionReader(f, d.System.Offset, d.System.Size), d.System.Size)
	if err != nil {
		t.Fatalf("Open %s: %v", d.Name, err)
	}
	return v
}

func slash(p string) string { return strings.ReplaceAll(p, `\`, "/") }

func TestReadFixtureTreeMatchesManifest(t *testing.T) {
	for _, d := range testimg.Disks() {
		t.Run(d.Name, func(t *testing.T) {
			v := openFixture(t, d)
			manifest := testimg.Manifest(t, d.Manifest)
			want := map[string]testimg.Entry{}
			for _, e := range manifest {
				want[slash(e.Path)] = e
			}
			// Walk everything the volume lists; it must be exactly the manifest.
			seen := map[string]bool{}
			err := fs.WalkDir(v, ".", func(p string, de fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if p == "." {
					return nil
				}
				seen[p] = true
				e, ok := want[p]
				if !ok {
					t.Errorf("unexpected %s", p)
					return nil
				}
				wantType := fs.FileMode(0)
				switch e.Kind {
				case 'd':
					wantType = fs.ModeDir
				case 'j', 'l':
					wantType = fs.ModeSymlink
				}
				if de.Type() != wantType {
					t.Errorf("%s: type %v, want %v", p, de.Type(), wantType)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for p := range want {
				if !seen[p] {
					t.Errorf("missing %s", p)
				}
			}
			// Every file's content and every alias.
			for _, e := range manifest {
				p := slash(e.Path)
				fi, err := v.Stat(p)
				if err != nil {
					t.Errorf("%v", err)
					continue
				}
				st := fi.Sys().(*ntfs.FileStat)
				if st.ShortName != e.DOSName {
					t.Errorf("%s: 8.3 name %q, want %q", p, st.ShortName, e.DOSName)
				}
				if e.Target != "" {
					target, err := v.ReadLink(p)
					if err != nil || target != e.Target {
						t.Errorf("%s: ReadLink = %q, %v; want %q", p, target, err, e.Target)
					}
				}
				if e.Kind != 'f' {
					continue
				}
				b, err := v.ReadFile(p)
				if err != nil {
					t.Errorf("%v", err)
					continue
				}
				if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != e.SHA256 || fi.Size() != e.Size {
					t.Errorf("%s: size %d content sha256 %x, want %d %s", p, fi.Size(), sum, e.Size, e.SHA256)
				}
			}
		})
	}
}
