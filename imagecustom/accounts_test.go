package imagecustom_test

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/imagecustom/go-imagecustom/imagecustom/sam"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// TestAccounts sets a password in the SAM inside a copy of each fixture
// through the journal (after giving its key-less SAM keys, RC4 on XP and
// AES on Windows 10): a dry run first changes nothing; then the hash
// reads back from the committed image, and the hives and the volume are
// clean.
func TestAccounts(t *testing.T) {
	for _, d := range testimg.Disks() {
		t.Run(d.Name, func(t *testing.T) {
			rev := sam.RC4
			if d.Name == testimg.Win10().Name {
				rev = sam.AES
			}
			path := testimg.Copy(t, d.Name)
			edit := func(dry bool) *imagecustom.Image {
				img, err := imagecustom.OpenRW(path, &imagecustom.WriteOptions{DryRun: dry})
				if err != nil {
					t.Fatal(err)
				}
				v, _, err := img.OpenNTFSRW(0, nil)
				if err != nil {
					t.Fatal(err)
				}
				r, err := imagecustom.OpenRegistry(v, "")
				if err != nil {
					t.Fatal(err)
				}
				samHive, _, _, err := r.Hive(`HKLM\SAM`)
				if err != nil {
					t.Fatal(err)
				}
				system, _, _, err := r.Hive(`HKLM\SYSTEM`)
				if err != nil {
					t.Fatal(err)
				}
				if err := sam.CreateKeys(samHive, system, rev, rand.NewChaCha8([32]byte{7})); err != nil {
					t.Fatal(err)
				}
				s, err := r.Accounts()
				if err != nil {
					t.Fatal(err)
				}
				if err := s.SetPassword("Administrator", "image password"); err != nil {
					t.Fatal(err)
				}
				if err := s.Enable("Administrator"); err != nil {
					t.Fatal(err)
				}
				if _, err := r.Save(); err != nil {
					t.Fatal(err)
				}
				if err := img.Commit(); err != nil {
					t.Fatal(err)
				}
				return img
			}
			before := sha256File(t, path)
			img := edit(true)
			if ch, err := img.Changes(); err != nil || len(ch) == 0 {
				t.Errorf("dry run: changes %v %v", ch, err)
			}
			img.Close()
			if sha256File(t, path) != before {
				t.Fatal("the dry run changed the image")
			}
			edit(false).Close()

			img2, err := imagecustom.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer img2.Close()
			v, _, err := img2.OpenNTFS(0)
			if err != nil {
				t.Fatal(err)
			}
			r, err := imagecustom.OpenRegistry(v, "")
			if err != nil {
				t.Fatal(err)
			}
			s, err := r.Accounts()
			if err != nil {
				t.Fatal(err)
			}
			if s.Revision() != rev {
				t.Errorf("revision %v, want %v", s.Revision(), rev)
			}
			if h, ok, err := s.NTHashOf("administrator"); err != nil || !ok || h != sam.NTHash("image password") {
				t.Errorf("NTHashOf: %x %v %v", h, ok, err)
			}
			if probs, err := ntfs.Check(t.Context(), v, nil); err != nil || len(probs) != 0 {
				t.Errorf("ntfs.Check: %v %v", probs, err)
			}
			for _, key := range []string{`HKLM\SAM`, `HKLM\SYSTEM`} {
				h, _, _, err := r.Hive(key)
				if err != nil {
					t.Fatal(err)
				}
				if probs, err := hive.Check(h); err != nil || len(probs) != 0 {
					t.Errorf("hive.Check(%s): %v %v", key, probs, err)
				}
			}
		})
	}
}

func sha256File(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// ExampleRegistry_Accounts lists the local accounts of the bundled
// Windows XP disk.
func ExampleRegistry_Accounts() {
	img, err := imagecustom.Open("../testdata/vmdk/winxp-streamOptimized.vmdk")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer img.Close()
	vol, _, err := img.OpenNTFS(0)
	if err != nil {
		fmt.Println(err)
		return
	}
	reg, err := imagecustom.OpenRegistry(vol, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	accounts, err := reg.Accounts()
	if err != nil {
		fmt.Println(err)
		return
	}
	users, err := accounts.Users()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, u := range users {
		fmt.Printf("%s (RID %d): disabled %v, password %s, groups %v\n", u.Name, u.RID, u.Disabled(), u.Password, u.Groups)
	}
	// Output:
	// Administrator (RID 500): disabled false, password blank, groups [Administrators]
	// Guest (RID 501): disabled true, password blank, groups [Guests]
	// HelpAssistant (RID 1000): disabled true, password blank, groups []
	// SUPPORT_388945a0 (RID 1002): disabled true, password blank, groups []
}
