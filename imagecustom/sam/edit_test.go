package sam_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/imagecustom/sam"
)

// TestFlagEdits disables, enables and unlocks accounts (a lockout made
// by hand: flag and bad password count in the F record), and checks the
// other bits of the flags and the rest of the record stay as they were.
func TestFlagEdits(t *testing.T) {
	samHive := openHive(t, "hives/winxp/SAM")
	s := must(sam.Open(samHive, nil))
	userF := func(rid uint32) hive.Key {
		return must(samHive.Key(fmt.Sprintf(`SAM\Domains\Account\Users\%08X`, rid)))
	}
	fOf := func(rid uint32) []byte { return must(must(userF(rid).Value("F")).Data()) }
	// Lock Administrator out: flag 0x400 and three bad passwords.
	f := fOf(500)
	binary.LittleEndian.PutUint32(f[0x38:], binary.LittleEndian.Uint32(f[0x38:])|0x400)
	binary.LittleEndian.PutUint16(f[0x40:], 3)
	if err := userF(500).SetValue("F", hive.Binary, f); err != nil {
		t.Fatal(err)
	}
	byName := func() map[string]sam.User {
		m := map[string]sam.User{}
		for _, u := range must(s.Users()) {
			m[u.Name] = u
		}
		return m
	}
	if u := byName()["Administrator"]; !u.Locked() || u.BadPasswords != 3 || u.Disabled() {
		t.Fatalf("locked Administrator reads as %+v", u)
	}
	before := fOf(500)
	if err := s.Unlock("administrator"); err != nil {
		t.Fatal(err)
	}
	if u := byName()["Administrator"]; u.Locked() || u.BadPasswords != 0 || u.Flags != sam.NormalAccount|sam.DontExpirePassword {
		t.Errorf("after Unlock: %+v", u)
	}
	after := fOf(500)
	for i := range before {
		if before[i] != after[i] && !(i >= 0x38 && i < 0x3c) && !(i >= 0x40 && i < 0x42) {
			t.Errorf("Unlock changed F byte 0x%x", i)
		}
	}
	if err := s.Disable("Administrator"); err != nil {
		t.Fatal(err)
	}
	if err := s.Enable("Guest"); err != nil {
		t.Fatal(err)
	}
	m := byName()
	if !m["Administrator"].Disabled() || m["Guest"].Disabled() || m["Guest"].Flags&sam.PasswordNotRequired == 0 {
		t.Errorf("after Disable/Enable: %v / %v", m["Administrator"].Flags, m["Guest"].Flags)
	}
	if err := s.Enable("nobody"); !errors.Is(err, sam.ErrNotFound) {
		t.Errorf("Enable(nobody): %v, want ErrNotFound", err)
	}
	// Blank needs no SYSTEM hive.
	if err := s.Blank("Guest"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPassword("Guest", "x"); !errors.Is(err, sam.ErrKey) {
		t.Errorf("SetPassword without SYSTEM: %v, want ErrKey", err)
	}
	checkHive(t, "SAM", samHive)
}

// TestRealSAMs lists the accounts of real SAMs (Windows 7 era, each
// without its SYSTEM hive): names and flags read, and accounts with a
// stored hash show an unknown password.
func TestRealSAMs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		users string
	}{
		{"real/hives/SAM", "Administrator:disabled|normal|dont-expire-password:unknown Guest:disabled|password-not-required|normal|dont-expire-password:blank Preston:normal:unknown"},
	} {
		s := must(sam.Open(openHive(t, tc.name), nil))
		var got []byte
		for _, u := range must(s.Users()) {
			got = fmt.Appendf(got, "%s:%s:%s ", u.Name, u.Flags, u.Password)
		}
		if string(bytes.TrimSpace(got)) != tc.users {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.users)
		}
	}
}
