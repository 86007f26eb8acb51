package sam

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// fixtureValues returns the F and V values of every account of the
// fixture and real SAMs, and their domain F values: the fuzz seeds.
func fixtureValues(t testing.TB) (fs, vs, dfs [][]byte) {
	for _, name := range []string{"hives/winxp/SAM", "hives/win10/SAM", "real/hives/SAM", "real/hives/ez_SAM_hasBigEndianDWord"} {
		b := testimg.Bytes(t, name)
		h, err := hive.Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		s, err := Open(h, nil)
		if err != nil {
			t.Fatal(err)
		}
		accts, err := s.accounts()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range accts {
			fs, vs = append(fs, a.f.raw), append(vs, a.v.raw)
		}
		df, err := s.value(accountKey, "F")
		if err != nil {
			t.Fatal(err)
		}
		dfs = append(dfs, df)
	}
	return fs, vs, dfs
}

// TestReplaceKeepsItems replaces each item of real V records with data of
// several sizes: the record parses, the item reads back, every other
// item is unchanged and stays 4-byte aligned where it was.
func TestReplaceKeepsItems(t *testing.T) {
	_, vs, _ := fixtureValues(t)
	for n, raw := range vs {
		v, err := parseUserV(raw, "k")
		if err != nil {
			t.Fatal(err)
		}
		for i := range vDescriptors {
			for _, size := range []int{0, 1, 4, 20, 56, 333} {
				data := bytes.Repeat([]byte{0xA5}, size)
				out, err := v.replace(i, data, "k")
				if err != nil {
					t.Fatalf("record %d item %d size %d: %v", n, i, size, err)
				}
				w, err := parseUserV(out, "k")
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(w.item(i), data) {
					t.Fatalf("record %d item %d: reads back %x", n, i, w.item(i))
				}
				for k := range vDescriptors {
					if k == i {
						continue
					}
					if d := cmp.Diff(v.item(k), w.item(k)); d != "" {
						t.Fatalf("record %d: replacing item %d changed item %d:\n%s", n, i, k, d)
					}
					if v.off[k]%4 == 0 && w.off[k]%4 != 0 {
						t.Fatalf("record %d: replacing item %d misaligned item %d at 0x%x", n, i, k, w.off[k])
					}
				}
			}
		}
	}
}

// TestCorruptRecords mangles sizes and offsets: the parsers report
// ErrCorrupt with the offset of the field at fault.
func TestCorruptRecords(t *testing.T) {
	fs, vs, dfs := fixtureValues(t)
	v := append([]byte(nil), vs[0]...)
	binary.LittleEndian.PutUint32(v[12*vNTHash+4:], 0xFFFFFFF0)
	for _, tc := range []struct {
		name   string
		err    error
		offset int
	}{
		{"V with an item past its end", func() error { _, err := parseUserV(v, "k"); return err }(), 12 * vNTHash},
		{"short V", func() error { _, err := parseUserV(vs[0][:100], "k"); return err }(), -1},
		{"short F", func() error { _, err := parseUserF(fs[0][:0x40], "k"); return err }(), -1},
		{"short domain F", func() error { _, err := keyRevision(dfs[0][:0x60]); return err }(), -1},
	} {
		var ce *CorruptError
		if !errors.Is(tc.err, ErrCorrupt) || !errors.As(tc.err, &ce) || ce.Offset != tc.offset {
			t.Errorf("%s: %v, want ErrCorrupt at %d", tc.name, tc.err, tc.offset)
		}
	}
	df := append([]byte(nil), dfs[0]...)
	binary.LittleEndian.PutUint32(df[dfKey:], 7)
	if _, err := keyRevision(df); !errors.Is(err, ErrUnsupported) {
		t.Errorf("key revision 7: %v, want ErrUnsupported", err)
	}
	binary.LittleEndian.PutUint32(df[dfKey:], 2)
	binary.LittleEndian.PutUint32(df[dfKey+kaDataLen:], 0x7FFFFFFF)
	if _, err := decryptKey(df, [16]byte{}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("AES key data past the end: %v, want ErrCorrupt", err)
	}
}

// TestHashRoundTrip encrypts and decrypts hashes under both revisions
// and several RIDs (the DES keys derived from each).
func TestHashRoundTrip(t *testing.T) {
	for _, rev := range []Revision{RC4, AES} {
		pk := passwordKey{rev: rev, key: [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}}
		for _, rid := range []uint32{500, 501, 1000, 0x12345678, 0xFFFFFFFF} {
			want := NTHash("pw")
			e := encryptHash(pk, rid, want, ntPassword, 3, bytes.Repeat([]byte{7}, 16))
			got, ok, err := decryptHash(pk, rid, e, ntPassword)
			if err != nil || !ok || got != want {
				t.Errorf("%v rid %d: %x %v %v", rev, rid, got, ok, err)
			}
			if _, ok, _ := decryptHash(pk, rid, emptyHash(rev, 3), ntPassword); ok || hasHash(emptyHash(rev, 3)) {
				t.Errorf("%v: the empty entry holds a hash", rev)
			}
		}
		boot := [16]byte{9, 9, 9}
		f := encryptKey(make([]byte, 0xf0), pk, boot, bytes.Repeat([]byte{5}, 16))
		got, err := decryptKey(f, boot)
		if err != nil || got != pk {
			t.Errorf("%v: key round trip %v %v", rev, got, err)
		}
		boot[0]++
		if _, err := decryptKey(f, boot); !errors.Is(err, ErrKey) {
			t.Errorf("%v: wrong boot key: %v, want ErrKey", rev, err)
		}
	}
}

// FuzzUserV parses mutated V records, reads every item and replaces the
// hash entries: no panic, and a replaced record parses again.
func FuzzUserV(f *testing.F) {
	_, vs, _ := fixtureValues(f)
	for _, v := range vs {
		f.Add(v, uint8(vNTHash), []byte{2, 0, 1, 0})
	}
	f.Fuzz(func(t *testing.T, b []byte, idx uint8, data []byte) {
		if len(b) > 1<<16 || len(data) > 1<<10 {
			return
		}
		v, err := parseUserV(b, "k")
		if err != nil {
			return
		}
		for i := range vDescriptors {
			v.text(i)
			hasHash(v.item(i))
			decryptHash(passwordKey{rev: RC4}, 500, v.item(i), ntPassword)
			decryptHash(passwordKey{rev: AES}, 500, v.item(i), ntPassword)
		}
		out, err := v.replace(int(idx)%vDescriptors, data, "k")
		if err != nil {
			return
		}
		if _, err := parseUserV(out, "k"); err != nil {
			t.Fatalf("replaced record does not parse: %v", err)
		}
	})
}

// FuzzUserF parses mutated F records and edits their flags.
func FuzzUserF(f *testing.F) {
	fs, _, _ := fixtureValues(f)
	for _, b := range fs {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		uf, err := parseUserF(b, "k")
		if err != nil {
			return
		}
		uf.time(ufLastLogon)
		uf.time(ufPasswordLastSet)
		uf.time(ufAccountExpires)
		out := uf.with(func(b []byte) { setFlags(b, Disabled, AutoLocked) })
		if len(out) != len(b) {
			t.Fatal("an edit changed the record's size")
		}
	})
}

// FuzzDomainF decrypts the key of mutated domain F records under a fixed
// boot key: errors, never a panic.
func FuzzDomainF(f *testing.F) {
	_, _, dfs := fixtureValues(f)
	for _, b := range dfs {
		f.Add(b)
	}
	pk := passwordKey{rev: AES, key: [16]byte{1}}
	f.Add(encryptKey(dfs[0], pk, [16]byte{2}, make([]byte, 16)))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		decryptKey(b, [16]byte{2})
	})
}

// FuzzSAM opens mutated SAM hives (seeds: the fixtures' SAMs given keys,
// with a password set) with the matching SYSTEM hive, lists the
// accounts and edits the first: errors, never a panic, and an edit that
// succeeds leaves a hive that reads back.
func FuzzSAM(f *testing.F) {
	sysBytes := testimg.Bytes(f, "hives/win10/SYSTEM")
	open := func(b []byte) *hive.Hive {
		h, err := hive.Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			f.Fatal(err)
		}
		return h
	}
	for _, rev := range []Revision{RC4, AES} {
		samHive, system := open(testimg.Bytes(f, "hives/win10/SAM")), open(sysBytes)
		if err := CreateKeys(samHive, system, rev, bytes.NewReader(make([]byte, 64))); err != nil {
			f.Fatal(err)
		}
		s, err := Open(samHive, system)
		if err != nil {
			f.Fatal(err)
		}
		if err := s.SetPassword("Admin", "fuzz"); err != nil {
			f.Fatal(err)
		}
		b, err := samHive.Bytes()
		if err != nil {
			f.Fatal(err)
		}
		sb, err := system.Bytes()
		if err != nil {
			f.Fatal(err)
		}
		sysBytes = sb // the last revision's boot key; both SAMs seed
		f.Add(b, "Admin")
	}
	f.Add(testimg.Bytes(f, "hives/winxp/SAM"), "Guest")
	f.Fuzz(func(t *testing.T, b []byte, name string) {
		if len(b) > 1<<18 {
			return
		}
		h, err := hive.Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		system, err := hive.Open(bytes.NewReader(sysBytes), int64(len(sysBytes)))
		if err != nil {
			t.Fatal(err)
		}
		s, err := Open(h, system)
		if err != nil {
			return
		}
		s.Users()
		s.NTHashOf(name)
		for _, edit := range []func(string) error{s.Unlock, s.Disable, s.Blank, func(n string) error { return s.SetPassword(n, "x") }} {
			if edit(name) == nil {
				if _, err := h.Bytes(); err != nil {
					t.Fatalf("an edit left a hive that does not save: %v", err)
				}
			}
		}
	})
}
