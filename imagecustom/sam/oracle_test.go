package sam_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/imagecustom/sam"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// secretsdump is Impacket's example script, run with Debian's python.
const secretsdump = "/usr/share/doc/python3-impacket/examples/secretsdump.py"

// dumpHashes writes both hives to dir and returns what Impacket's
// secretsdump decrypts from them: name → "lmhash:nthash".
func dumpHashes(t *testing.T, dir string, samHive, system *hive.Hive) map[string]string {
	t.Helper()
	samPath, sysPath := saveHive(t, dir, "SAM", samHive), saveHive(t, dir, "SYSTEM", system)
	py := testimg.Oracle(t, "/usr/bin/python3")
	if _, err := os.Stat(secretsdump); err != nil {
		if os.Getenv(testimg.OraclesEnv) == "require" {
			t.Fatalf("python3-impacket is not installed: %v", err)
		}
		t.Skipf("python3-impacket is not installed: %v", err)
	}
	out, err := exec.Command(py, secretsdump, "-sam", samPath, "-system", sysPath, "LOCAL").CombinedOutput()
	if err != nil {
		t.Fatalf("secretsdump: %v\n%s", err, out)
	}
	got := map[string]string{}
	re := regexp.MustCompile(`(?m)^([^:\s]+):(\d+):([0-9a-f]{32}):([0-9a-f]{32}):::$`)
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		got[m[1]] = m[3] + ":" + m[4]
	}
	if len(got) == 0 {
		t.Fatalf("secretsdump printed no hashes:\n%s", out)
	}
	return got
}

func saveHive(t *testing.T, dir, name string, h *hive.Hive) string {
	t.Helper()
	b, err := h.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func checkHive(t *testing.T, name string, h *hive.Hive) {
	t.Helper()
	b, err := h.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	h2, err := hive.Open(strings.NewReader(string(b)), int64(len(b)))
	if err != nil {
		t.Fatalf("%s does not reopen: %v", name, err)
	}
	probs, err := hive.Check(h2)
	if err != nil || len(probs) > 0 {
		t.Errorf("hive.Check %s: %v %v", name, err, probs)
	}
}

const (
	noLM    = "aad3b435b51404eeaad3b435b51404ee"
	blankNT = "31d6cfe0d16ae931b73c59d7e0c089c0"
)

func hexHash(h [16]byte) string { return hex.EncodeToString(h[:]) }

// TestSecretsdump gives the fixtures' SAMs (which hold no key) a boot
// key and a password encryption key of each revision with CreateKeys,
// then sets passwords, and lets Impacket's secretsdump, which we did not
// write, decrypt the pair: the NT hash of each account set is MD4 of its
// UTF-16LE password, with no LM hash; the others stay blank; a second
// password change leaves the first account's hash as it was; Blank makes
// an account blank again. Both hives pass hive.Check throughout.
func TestSecretsdump(t *testing.T) {
	for _, dir := range []string{"winxp", "win10"} {
		for _, rev := range []sam.Revision{sam.RC4, sam.AES} {
			t.Run(dir+"/"+rev.String(), func(t *testing.T) {
				samHive, system := openHive(t, "hives/"+dir+"/SAM"), openHive(t, "hives/"+dir+"/SYSTEM")
				if err := sam.CreateKeys(samHive, system, rev, seeded(byte(rev))); err != nil {
					t.Fatal(err)
				}
				s, err := sam.Open(samHive, system)
				if err != nil {
					t.Fatal(err)
				}
				if s.Revision() != rev {
					t.Fatalf("revision %v after CreateKeys(%v)", s.Revision(), rev)
				}
				tmp := t.TempDir()
				want := map[string]string{}
				for _, u := range must(s.Users()) {
					want[u.Name] = noLM + ":" + blankNT
				}
				if d := cmp.Diff(want, dumpHashes(t, tmp, samHive, system)); d != "" {
					t.Fatalf("after CreateKeys (-want +got):\n%s", d)
				}
				guestPw, adminPw := "guest pass 1", "Pässwörd with ünïcode ☃ and 32+ characters, long"
				if err := s.SetPassword("guest", guestPw); err != nil {
					t.Fatal(err)
				}
				want["Guest"] = noLM + ":" + hexHash(sam.NTHash(guestPw))
				if d := cmp.Diff(want, dumpHashes(t, tmp, samHive, system)); d != "" {
					t.Fatalf("after Guest's password (-want +got):\n%s", d)
				}
				if err := s.SetPassword("Administrator", adminPw); err != nil {
					t.Fatal(err)
				}
				want["Administrator"] = noLM + ":" + hexHash(sam.NTHash(adminPw))
				if d := cmp.Diff(want, dumpHashes(t, tmp, samHive, system)); d != "" {
					t.Fatalf("after Administrator's password (-want +got):\n%s", d)
				}
				// Our own reading agrees.
				if h, ok, err := s.NTHashOf("Administrator"); err != nil || !ok || h != sam.NTHash(adminPw) {
					t.Errorf("NTHashOf(Administrator) = %x %v %v", h, ok, err)
				}
				pw := map[string]string{}
				for _, u := range must(s.Users()) {
					pw[u.Name] = u.Password.String()
				}
				if pw["Administrator"] != "set" || pw["Guest"] != "set" {
					t.Errorf("password states %v", pw)
				}
				if err := s.Blank("Guest"); err != nil {
					t.Fatal(err)
				}
				want["Guest"] = noLM + ":" + blankNT
				if d := cmp.Diff(want, dumpHashes(t, tmp, samHive, system)); d != "" {
					t.Fatalf("after blanking Guest (-want +got):\n%s", d)
				}
				checkHive(t, "SAM", samHive)
				checkHive(t, "SYSTEM", system)
			})
		}
	}
}

// TestWrongSystem: a SAM with the SYSTEM of another machine (another boot
// key) gives ErrKey for what needs the key, and lists with unknown
// passwords.
func TestWrongSystem(t *testing.T) {
	for _, rev := range []sam.Revision{sam.RC4, sam.AES} {
		samHive, system := openHive(t, "hives/winxp/SAM"), openHive(t, "hives/winxp/SYSTEM")
		if err := sam.CreateKeys(samHive, system, rev, seeded(1)); err != nil {
			t.Fatal(err)
		}
		s := must(sam.Open(samHive, system))
		if err := s.SetPassword("Administrator", "x"); err != nil {
			t.Fatal(err)
		}
		other := openHive(t, "hives/winxp/SYSTEM")
		if err := sam.CreateKeys(openHive(t, "hives/winxp/SAM"), other, rev, seeded(2)); err != nil {
			t.Fatal(err)
		}
		s = must(sam.Open(samHive, other))
		if err := s.SetPassword("Guest", "y"); !errors.Is(err, sam.ErrKey) {
			t.Errorf("%v: SetPassword with another SYSTEM: %v, want ErrKey", rev, err)
		}
		for _, u := range must(s.Users()) {
			if u.Name == "Administrator" && u.Password != sam.PasswordUnknown {
				t.Errorf("%v: Administrator's password %v, want unknown", rev, u.Password)
			}
		}
		// The fixtures' own SYSTEM has no boot key at all.
		s = must(sam.Open(openHive(t, "hives/winxp/SAM"), openHive(t, "hives/winxp/SYSTEM")))
		if err := s.SetPassword("Guest", "y"); !errors.Is(err, sam.ErrKey) {
			t.Errorf("SetPassword without a boot key: %v, want ErrKey", err)
		}
		// A second CreateKeys on a SAM with a hash is refused.
		if err := sam.CreateKeys(samHive, system, rev, nil); !errors.Is(err, sam.ErrUnsupported) {
			t.Errorf("CreateKeys over a hash: %v, want ErrUnsupported", err)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("unexpected error: %v", err))
	}
	return v
}
