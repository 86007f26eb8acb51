package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/sam"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// runCLIIn is runCLI with standard input.
func runCLIIn(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// keyImage gives the key-less SAM of a fixture image keys of revision rev
// (sam.CreateKeys), as every real install has: what secretsdump needs.
func keyImage(t *testing.T, image string, rev sam.Revision) {
	t.Helper()
	img, err := imagecustom.OpenRW(image, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
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
	if err := sam.CreateKeys(samHive, system, rev, rand.NewChaCha8([32]byte{byte(rev)})); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Save(); err != nil {
		t.Fatal(err)
	}
	if err := img.Commit(); err != nil {
		t.Fatal(err)
	}
}

// configDir is where a fixture keeps its hives.
func configDir(d testimg.Disk) string {
	if d.Name == testimg.WinXP().Name {
		return "/WINDOWS/system32/config/"
	}
	return "/Windows/System32/config/"
}

// getHives copies SAM and SYSTEM out of the image with "get" and checks
// both with hive.Check.
func getHives(t *testing.T, image string, d testimg.Disk) (samPath, sysPath string) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"SAM", "SYSTEM"} {
		local := filepath.Join(dir, name)
		if code, _, stderr := runCLI(t, "get", image, configDir(d)+name, local); code != 0 {
			t.Fatalf("get %s: %s", name, stderr)
		}
		h, err := hive.OpenFile(local, nil)
		if err != nil {
			t.Fatal(err)
		}
		if probs, err := hive.Check(h); err != nil || len(probs) > 0 {
			t.Errorf("hive.Check %s: %v %v", name, probs, err)
		}
	}
	return filepath.Join(dir, "SAM"), filepath.Join(dir, "SYSTEM")
}

// getHives2 adapts getHives' results to secretsdumpHashes' arguments.
func getHives2(t *testing.T, image string, d testimg.Disk) (*testing.T, string, string) {
	s, y := getHives(t, image, d)
	return t, s, y
}

// secretsdumpHashes runs Impacket's secretsdump on a SAM and SYSTEM pair:
// name → "lmhash:nthash".
func secretsdumpHashes(t *testing.T, samPath, sysPath string) map[string]string {
	t.Helper()
	py := testimg.Oracle(t, "/usr/bin/python3")
	script := "/usr/share/doc/python3-impacket/examples/secretsdump.py"
	if _, err := os.Stat(script); err != nil {
		if os.Getenv(testimg.OraclesEnv) == "require" {
			t.Fatalf("python3-impacket: %v", err)
		}
		t.Skipf("python3-impacket: %v", err)
	}
	out, err := exec.Command(py, script, "-sam", samPath, "-system", sysPath, "LOCAL").CombinedOutput()
	if err != nil {
		t.Fatalf("secretsdump: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^([^:\s]+):\d+:([0-9a-f]{32}):([0-9a-f]{32}):::$`).FindAllStringSubmatch(string(out), -1) {
		got[m[1]] = m[2] + ":" + m[3]
	}
	return got
}

const (
	noLMHash    = "aad3b435b51404eeaad3b435b51404ee"
	blankNTHash = "31d6cfe0d16ae931b73c59d7e0c089c0"
)

func ntHex(pw string) string { h := sam.NTHash(pw); return hex.EncodeToString(h[:]) }

// TestUserPasswd sets passwords with "user passwd" (from a file and from
// standard input) on both fixtures, after giving their SAMs keys (RC4 on
// XP, AES on Windows 10), and lets Impacket's secretsdump decrypt the
// extracted SAM and SYSTEM: each NT hash is MD4 of the UTF-16LE password,
// no LM hash, the other accounts unchanged. The password appears nowhere
// in the output; the hives pass hive.Check and the volume fsck.
func TestUserPasswd(t *testing.T) {
	for _, tc := range []struct {
		d   testimg.Disk
		rev sam.Revision
	}{{testimg.WinXP(), sam.RC4}, {testimg.Win10(), sam.AES}} {
		t.Run(tc.d.Name, func(t *testing.T) {
			image := testimg.Copy(t, tc.d.Name)
			keyImage(t, image, tc.rev)
			want := secretsdumpHashes(getHives2(t, image, tc.d))
			if want["Administrator"] != noLMHash+":"+blankNTHash {
				t.Fatalf("before: %v", want)
			}
			guestPw := "guest: from a file"
			pwFile := filepath.Join(t.TempDir(), "pw")
			os.WriteFile(pwFile, []byte(guestPw+"\r\n"), 0o600)
			code, out, stderr := runCLI(t, "user", "passwd", image, "guest", "--password-file", pwFile)
			if code != 0 {
				t.Fatalf("passwd from a file: %d %s", code, stderr)
			}
			want["Guest"] = noLMHash + ":" + ntHex(guestPw)
			adminPw := "Admin from stdin, ünïcode ✓"
			code, out2, stderr2 := runCLIIn(t, adminPw+"\n", "--json", "user", "passwd", image, "Administrator", "--password-file", "-")
			var rep writeReport
			if err := json.Unmarshal([]byte(out2), &rep); code != 0 || err != nil || rep.DryRun || rep.Bytes == 0 {
				t.Fatalf("passwd from stdin: %d %v %s %s", code, err, out2, stderr2)
			}
			want["Administrator"] = noLMHash + ":" + ntHex(adminPw)
			for _, s := range []string{out, stderr, out2, stderr2} {
				if strings.Contains(s, "guest: from") || strings.Contains(s, "stdin, ü") {
					t.Errorf("the password is in the output: %q", s)
				}
			}
			samPath, sysPath := getHives(t, image, tc.d)
			if d := cmp.Diff(want, secretsdumpHashes(t, samPath, sysPath)); d != "" {
				t.Errorf("secretsdump (-want +got):\n%s", d)
			}
			if tc.rev == sam.RC4 {
				dump := string(testimg.Run(t, "samdump2", sysPath, samPath))
				for _, line := range []string{"Administrator:500:" + want["Administrator"] + ":::", "Guest:501:" + want["Guest"] + ":::"} {
					if !strings.Contains(dump, line) {
						t.Errorf("samdump2 lacks %s:\n%s", line, dump)
					}
				}
			}
			if code, out, _ := runCLI(t, "fsck", image); code != 0 {
				t.Errorf("fsck: %d %s", code, out)
			}
			// list shows them set; --blank makes Guest blank again.
			if code, _, stderr := runCLI(t, "user", "passwd", image, "Guest", "--blank"); code != 0 {
				t.Fatal(stderr)
			}
			code, out, _ = runCLI(t, "--json", "user", "list", image)
			var doc usersJSON
			if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil {
				t.Fatalf("list: %d %v %s", code, err, out)
			}
			got := map[string]string{}
			for _, u := range doc.Users {
				got[u.Name] = u.Password
			}
			if got["Administrator"] != "set" || got["Guest"] != "blank" || doc.KeyRevision != tc.rev.String() {
				t.Errorf("list after passwd: %v %s", got, doc.KeyRevision)
			}
		})
	}
}

// TestUserList lists the Windows 10 fixture's accounts, as JSON and text.
func TestUserList(t *testing.T) {
	image := testimg.Path(t, testimg.Win10().Name)
	code, out, stderr := runCLI(t, "--json", "user", "list", image)
	var doc usersJSON
	if err := json.Unmarshal([]byte(out), &doc); code != 0 || err != nil {
		t.Fatalf("%d %v %s", code, err, stderr)
	}
	var names []string
	for _, u := range doc.Users {
		names = append(names, u.Name)
		if u.Name == "Admin" && (u.Disabled || u.RID != 1001 || strings.Join(u.Groups, ",") != "Administrators,Users" || !u.PasswordNeverExpires || u.Password != "blank") {
			t.Errorf("Admin: %+v", u)
		}
		if u.Name == "Guest" && !u.Disabled {
			t.Errorf("Guest: %+v", u)
		}
	}
	if strings.Join(names, " ") != "Administrator Guest DefaultAccount WDAGUtilityAccount Admin" {
		t.Errorf("names %v", names)
	}
	code, out, _ = runCLI(t, "user", "list", image)
	if code != 0 || !strings.Contains(out, "NAME") || !regexp.MustCompile(`(?m)^Admin\s+1001\s+no\s+no\s+blank\s+yes\s+2024-01-15T09:30:00Z\s+Administrators, Users$`).MatchString(out) {
		t.Errorf("text list: %d\n%s", code, out)
	}
}

// TestUserWriteCommands runs every writing user command: --dry-run
// leaves the image byte-identical (sha256) and reports the changes; the
// real run changes what it should, the hives pass hive.Check and the
// volume fsck; --out leaves the image untouched and the child holds the
// change. Bad usage exits 2, an unknown user 1.
func TestUserWriteCommands(t *testing.T) {
	d := testimg.WinXP()
	image := testimg.Copy(t, d.Name)
	keyImage(t, image, sam.RC4)
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("pw"), 0o600)
	flags := func(name string) (disabled, locked bool, password string) {
		t.Helper()
		_, out, _ := runCLI(t, "--json", "user", "list", image)
		var doc usersJSON
		json.Unmarshal([]byte(out), &doc)
		for _, u := range doc.Users {
			if u.Name == name {
				return u.Disabled, u.Locked, u.Password
			}
		}
		t.Fatalf("no user %s in %s", name, out)
		return
	}
	for _, tc := range []struct {
		args  []string
		check func() bool
	}{
		{[]string{"passwd", "--password-file", pwFile}, func() bool { _, _, p := flags("Administrator"); return p == "set" }},
		{[]string{"disable"}, func() bool { d, _, _ := flags("Administrator"); return d }},
		{[]string{"enable"}, func() bool { d, _, _ := flags("Administrator"); return !d }},
		{[]string{"unlock"}, func() bool { _, l, _ := flags("Administrator"); return !l }},
		{[]string{"passwd", "--blank"}, func() bool { _, _, p := flags("Administrator"); return p == "blank" }},
	} {
		name := tc.args[0]
		args := append([]string{"user", name, image, "Administrator"}, tc.args[1:]...)
		before := imageSum(t, image)
		code, out, stderr := runCLI(t, append([]string{"--json"}, append(args, "--dry-run")...)...)
		var rep writeReport
		if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || !rep.DryRun || rep.Bytes == 0 {
			t.Errorf("%s --dry-run: %d %v %s %s", name, code, err, out, stderr)
		}
		if imageSum(t, image) != before {
			t.Fatalf("%s --dry-run changed the image", name)
		}
		child := filepath.Join(t.TempDir(), "child.vmdk")
		if code, _, stderr := runCLI(t, append(args, "--out", child)...); code != 0 {
			t.Fatalf("%s --out: %d %s", name, code, stderr)
		}
		if imageSum(t, image) != before {
			t.Fatalf("%s --out changed the image", name)
		}
		if code, _, stderr := runCLI(t, args...); code != 0 {
			t.Fatalf("%s: %d %s", name, code, stderr)
		}
		if !tc.check() {
			t.Errorf("%s did not take effect", name)
		}
		getHives(t, image, d)
		if code, out, _ := runCLI(t, "fsck", image); code != 0 {
			t.Errorf("fsck after %s: %d %s", name, code, out)
		}
		// The child reads as the image after the edit.
		// (password_last_set aside: the two runs set it a moment apart).
		listed := func(p string) string {
			_, out, _ := runCLI(t, "--json", "user", "list", p)
			return regexp.MustCompile(`"password_last_set": "[^"]*"`).ReplaceAllString(out, "")
		}
		if a, b := listed(child), listed(image); a != b {
			t.Errorf("%s: the child lists\n%s\nthe image\n%s", name, a, b)
		}
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"user", "passwd", image, "Administrator"}, exitUsage},
		{[]string{"user", "passwd", image, "Administrator", "--blank", "--password-file", pwFile}, exitUsage},
		{[]string{"user", "passwd", image, "Administrator", "--password-file", os.DevNull}, exitUsage},
		{[]string{"user", "enable", image, "nobody"}, exitError},
		{[]string{"user", "disable", image}, exitUsage},
	} {
		before := imageSum(t, image)
		if code, _, stderr := runCLI(t, tc.args...); code != tc.code {
			t.Errorf("%q: exit %d, want %d: %s", tc.args, code, tc.code, stderr)
		}
		if imageSum(t, image) != before {
			t.Errorf("%q changed the image", tc.args)
		}
	}
}

// TestUserPasswdWithoutKey: the fixtures' own SAMs have no key and their
// SYSTEM no boot key, so a password cannot be encrypted: exit 1 naming
// the missing Lsa key, image unchanged; --blank needs no key and works.
func TestUserPasswdWithoutKey(t *testing.T) {
	image := testimg.Copy(t, testimg.WinXP().Name)
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("pw"), 0o600)
	before := imageSum(t, image)
	code, _, stderr := runCLI(t, "user", "passwd", image, "Administrator", "--password-file", pwFile)
	if code != exitError || !strings.Contains(stderr, `Control\Lsa\JD`) {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if imageSum(t, image) != before {
		t.Error("a failed passwd changed the image")
	}
	if code, _, stderr := runCLI(t, "user", "passwd", image, "Administrator", "--blank"); code != 0 {
		t.Errorf("--blank without a key: %d %s", code, stderr)
	}
}
