package sam_test

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/imagecustom/sam"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// openHive opens a fixture hive (a private copy in memory).
func openHive(t testing.TB, name string) *hive.Hive {
	t.Helper()
	b := testimg.Bytes(t, name)
	h, err := hive.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// seeded is a deterministic random source for keys and salts.
func seeded(seed byte) *rand.ChaCha8 { return rand.NewChaCha8([32]byte{seed}) }

type userRow struct {
	Name     string
	RID      uint32
	Flags    string
	Password string
	LM       bool
	Groups   string
}

func rows(t *testing.T, s *sam.SAM) []userRow {
	t.Helper()
	us, err := s.Users()
	if err != nil {
		t.Fatal(err)
	}
	var out []userRow
	for _, u := range us {
		out = append(out, userRow{u.Name, u.RID, u.Flags.String(), u.Password.String(), u.HasLMHash, strings.Join(u.Groups, ",")})
	}
	return out
}

// TestFixtureUsers lists the accounts of the fixtures' SAMs: names,
// RIDs, flags and groups as their .reg sources (testdata/gen/reg) have
// them. Their SAMs hold no key, so passwords are all blank (no hash).
func TestFixtureUsers(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		want []userRow
	}{
		{"winxp", []userRow{
			{"Administrator", 500, "normal|dont-expire-password", "blank", false, "Administrators"},
			{"Guest", 501, "disabled|password-not-required|normal|dont-expire-password", "blank", false, "Guests"},
			{"HelpAssistant", 1000, "disabled|normal|dont-expire-password", "blank", false, ""},
			{"SUPPORT_388945a0", 1002, "disabled|normal|dont-expire-password", "blank", false, ""},
		}},
		{"win10", []userRow{
			{"Administrator", 500, "disabled|normal|dont-expire-password", "blank", false, "Administrators"},
			{"Guest", 501, "disabled|password-not-required|normal|dont-expire-password", "blank", false, "Guests"},
			{"DefaultAccount", 503, "disabled|password-not-required|normal|dont-expire-password", "blank", false, "System Managed Accounts Group"},
			{"WDAGUtilityAccount", 504, "disabled|normal|dont-expire-password", "blank", false, ""},
			{"Admin", 1001, "normal|dont-expire-password", "blank", false, "Administrators,Users"},
		}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			s, err := sam.Open(openHive(t, "hives/"+tc.dir+"/SAM"), openHive(t, "hives/"+tc.dir+"/SYSTEM"))
			if err != nil {
				t.Fatal(err)
			}
			got := rows(t, s)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("users (-want +got):\n%s", d)
			}
		})
	}
}
