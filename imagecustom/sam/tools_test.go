package sam_test

import (
	"encoding/binary"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/imagecustom/sam"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// TestChntpwSamdump2 edits accounts of both fixtures (a password, a
// disable, an enable, a lockout undone) and compares what chntpw -l
// (names, RIDs, admin and dis/lock flags) and, for the RC4 revision,
// samdump2 (names, RIDs, hashes, disabled) read with what Users says.
func TestChntpwSamdump2(t *testing.T) {
	chntpw := testimg.Oracle(t, "chntpw")
	for _, dir := range []string{"winxp", "win10"} {
		for _, rev := range []sam.Revision{sam.RC4, sam.AES} {
			t.Run(dir+"/"+rev.String(), func(t *testing.T) {
				samHive, system := openHive(t, "hives/"+dir+"/SAM"), openHive(t, "hives/"+dir+"/SYSTEM")
				if err := sam.CreateKeys(samHive, system, rev, seeded(3)); err != nil {
					t.Fatal(err)
				}
				windowsDomainV(t, samHive)
				s := must(sam.Open(samHive, system))
				for _, step := range []func() error{
					func() error { return s.SetPassword("Administrator", "chntpw test") },
					func() error { return s.Enable("Administrator") },
					func() error { return s.Disable("Guest") },
					func() error { return s.Enable("Guest") },
				} {
					if err := step(); err != nil {
						t.Fatal(err)
					}
				}
				tmp := t.TempDir()
				samPath, sysPath := saveHive(t, tmp, "SAM", samHive), saveHive(t, tmp, "SYSTEM", system)
				out, _ := exec.Command(chntpw, "-l", samPath).CombinedOutput()
				// | 01f4 | Administrator                  | ADMIN  | *BLANK*  |
				re := regexp.MustCompile(`(?m)^\| ([0-9a-f]{4}) \| (.+?)\s*\| (ADMIN)?\s*\| (.*?)\s*\|$`)
				// Its Admin? column reads the member SIDs of the alias C
				// records, which the fixtures do not lay out as Windows
				// does: not compared.
				type row struct {
					RID   uint32
					Name  string
					Flags string
				}
				var got, want []row
				for _, m := range re.FindAllStringSubmatch(string(out), -1) {
					rid, _ := strconv.ParseUint(m[1], 16, 32)
					got = append(got, row{uint32(rid), m[2], m[4]})
				}
				for _, u := range must(s.Users()) {
					r := row{RID: u.RID, Name: u.Name}
					switch {
					case u.Disabled() || u.Locked():
						r.Flags = "dis/lock"
					case u.Password == sam.PasswordBlank && rev == sam.RC4:
						// chntpw 1.00 tells blank only in RC4-era entries.
						r.Flags = "*BLANK*"
					}
					want = append(want, r)
				}
				sort.Slice(got, func(i, k int) bool { return got[i].RID < got[k].RID })
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("chntpw -l (-ours +chntpw):\n%s\n%s", d, out)
				}
				if rev != sam.RC4 {
					return
				}
				samdump2 := testimg.Oracle(t, "samdump2")
				out, err := exec.Command(samdump2, sysPath, samPath).CombinedOutput()
				if err != nil {
					t.Fatalf("samdump2: %v\n%s", err, out)
				}
				// Administrator:500:aad3…:0461…::: and "*disabled* " before disabled ones.
				re = regexp.MustCompile(`(?m)^(\*disabled\* )?([^:\s]+):(\d+):([0-9a-f]{32}):([0-9a-f]{32}):::$`)
				type drow struct {
					Name     string
					RID      uint32
					Disabled bool
					Hashes   string
				}
				var gotD, wantD []drow
				for _, m := range re.FindAllStringSubmatch(string(out), -1) {
					rid, _ := strconv.ParseUint(m[3], 10, 32)
					gotD = append(gotD, drow{m[2], uint32(rid), m[1] != "", m[4] + ":" + m[5]})
				}
				for _, u := range must(s.Users()) {
					nt := blankNT
					if h, ok, err := s.NTHashOf(u.Name); err != nil {
						t.Fatal(err)
					} else if ok {
						nt = hexHash(h)
					}
					wantD = append(wantD, drow{u.Name, u.RID, u.Disabled(), noLM + ":" + nt})
				}
				sort.Slice(gotD, func(i, k int) bool { return gotD[i].RID < gotD[k].RID })
				if d := cmp.Diff(wantD, gotD); d != "" {
					t.Errorf("samdump2 (-ours +samdump2):\n%s\n%s", d, out)
				}
				if wantD[0].Hashes != noLM+":"+hexHash(sam.NTHash("chntpw test")) {
					t.Errorf("Administrator's hashes %s", wantD[0].Hashes)
				}
			})
		}
	}
}

// windowsDomainV rewrites the fixture SAM's SAM\Domains\Account\V, a
// bare security descriptor and domain SID, in the layout a real SAM has
// it (testdata/real/hives/SAM): four 12-byte descriptors (offset from
// their end, size, unknown) for the security descriptor, the SID and two
// empty items, then the data. chntpw reads the SID through them.
func windowsDomainV(t *testing.T, h *hive.Hive) {
	t.Helper()
	k, err := h.Key(`SAM\Domains\Account`)
	if err != nil {
		t.Fatal(err)
	}
	v := must(must(k.Value("V")).Data())
	sd, sid := v[:len(v)-24], v[len(v)-24:]
	hdr := make([]byte, 48)
	put := func(i int, off, n, unk uint32) {
		binary.LittleEndian.PutUint32(hdr[12*i:], off)
		binary.LittleEndian.PutUint32(hdr[12*i+4:], n)
		binary.LittleEndian.PutUint32(hdr[12*i+8:], unk)
	}
	end := uint32(len(v))
	put(0, 0, uint32(len(sd)), 0x10002)
	put(1, uint32(len(sd)), 24, 0)
	put(2, end, 0, 0)
	put(3, end, 0, 0)
	if err := k.SetValue("V", hive.Binary, append(append(hdr, sd...), sid...)); err != nil {
		t.Fatal(err)
	}
}
