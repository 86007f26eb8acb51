package sam

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/imagecustom/go-imagecustom/hive"
)

// SAM is the local account database of a Windows install: the SAM hive,
// and the SYSTEM hive whose boot key encrypts its password hashes. Edits
// go to the hives in memory; the caller saves them.
type SAM struct {
	sam    *hive.Hive
	system *hive.Hive
	rev    Revision // of the domain's key data

	key    *passwordKey // decrypted on first use
	keyErr error

	now  func() time.Time
	rand io.Reader
}

// Flags are an account's control flags (USER_ACCOUNT codes, [MS-SAMR]
// 2.2.1.12), as the user F record stores them.
type Flags uint32

// The flags this package reads or writes; the others are kept as they are.
const (
	Disabled            Flags = 0x0001  // USER_ACCOUNT_DISABLED
	PasswordNotRequired Flags = 0x0004  // USER_PASSWORD_NOT_REQUIRED
	NormalAccount       Flags = 0x0010  // USER_NORMAL_ACCOUNT
	DontExpirePassword  Flags = 0x0200  // USER_DONT_EXPIRE_PASSWORD
	AutoLocked          Flags = 0x0400  // USER_ACCOUNT_AUTO_LOCKED
	PasswordExpired     Flags = 0x20000 // USER_PASSWORD_EXPIRED
)

var flagNames = []struct {
	f    Flags
	name string
}{
	{Disabled, "disabled"}, {0x0002, "homedir-required"}, {PasswordNotRequired, "password-not-required"},
	{0x0008, "temp-duplicate"}, {NormalAccount, "normal"}, {0x0020, "mns-logon"}, {0x0040, "interdomain-trust"},
	{0x0080, "workstation-trust"}, {0x0100, "server-trust"}, {DontExpirePassword, "dont-expire-password"},
	{AutoLocked, "locked"}, {0x0800, "encrypted-text-password"}, {0x1000, "smartcard-required"},
	{0x2000, "trusted-for-delegation"}, {0x4000, "not-delegated"}, {0x8000, "des-key-only"},
	{0x10000, "dont-require-preauth"}, {PasswordExpired, "password-expired"},
}

// String lists the set flags by name, separated by "|" ("normal|dont-
// expire-password"); unnamed bits are shown in hex.
func (f Flags) String() string {
	var parts []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			parts = append(parts, n.name)
			f &^= n.f
		}
	}
	if f != 0 {
		parts = append(parts, fmt.Sprintf("0x%x", uint32(f)))
	}
	return strings.Join(parts, "|")
}

// PasswordState says whether an account has a password.
type PasswordState int

const (
	// PasswordUnknown: a hash is stored but could not be decrypted (no
	// usable boot key).
	PasswordUnknown PasswordState = iota
	// PasswordBlank: no NT hash is stored, or the one stored is the empty
	// password's.
	PasswordBlank
	// PasswordSet: a non-empty password.
	PasswordSet
)

// String returns "unknown", "blank" or "set".
func (p PasswordState) String() string {
	switch p {
	case PasswordBlank:
		return "blank"
	case PasswordSet:
		return "set"
	}
	return "unknown"
}

// User is a local account as the SAM stores it.
type User struct {
	Name     string
	RID      uint32
	FullName string
	Comment  string
	Flags    Flags
	Password PasswordState
	// HasLMHash reports an LM hash stored beside the NT hash.
	HasLMHash       bool
	LastLogon       time.Time // zero: never
	PasswordLastSet time.Time // zero: never, or must change at next logon
	AccountExpires  time.Time // zero: never
	BadPasswords    int       // failed logons since the last good one
	Logons          int       // successful logons
	// Groups are the local groups (aliases) of the Builtin and Account
	// domains that list the account as a member, by name, sorted.
	Groups []string
}

// Disabled reports whether the account is disabled.
func (u User) Disabled() bool { return u.Flags&Disabled != 0 }

// Locked reports whether the account is locked out.
func (u User) Locked() bool { return u.Flags&AutoLocked != 0 }

// PasswordNeverExpires reports the "password never expires" flag.
func (u User) PasswordNeverExpires() bool { return u.Flags&DontExpirePassword != 0 }

// Open returns the accounts of a SAM hive. system is the SYSTEM hive of
// the same install, whose boot key decrypts the password hashes; it may
// be nil, and then only what needs no key works (listing without telling
// set from blank passwords, Blank, Enable, Disable, Unlock).
func Open(samHive, systemHive *hive.Hive) (*SAM, error) {
	s := &SAM{sam: samHive, system: systemHive, now: time.Now, rand: rand.Reader}
	f, err := s.value(accountKey, "F")
	if err != nil {
		return nil, err
	}
	if s.rev, err = keyRevision(f); err != nil {
		return nil, err
	}
	if _, err := samHive.Key(accountKey + `\Users`); err != nil {
		return nil, fmt.Errorf("%w: SAM\\%s\\Users: %w", ErrNotFound, accountKey, err)
	}
	return s, nil
}

// Revision returns the revision of the SAM's password encryption key.
func (s *SAM) Revision() Revision { return s.rev }

func (s *SAM) value(key, name string) ([]byte, error) {
	k, err := s.sam.Key(key)
	if err != nil {
		return nil, fmt.Errorf("%w: SAM key %s: %w", ErrNotFound, key, err)
	}
	v, err := k.Value(name)
	if err != nil {
		return nil, fmt.Errorf("%w: value %s of SAM key %s: %w", ErrNotFound, name, key, err)
	}
	return v.Data()
}

func (s *SAM) setValue(key, name string, data []byte) error {
	k, err := s.sam.Key(key)
	if err != nil {
		return err
	}
	return k.SetValue(name, hive.Binary, data)
}

// passwordKey returns the decrypted password encryption key.
func (s *SAM) passwordKey() (passwordKey, error) {
	if s.key == nil && s.keyErr == nil {
		boot, err := BootKey(s.system)
		if err == nil {
			var f []byte
			if f, err = s.value(accountKey, "F"); err == nil {
				var pk passwordKey
				if pk, err = decryptKey(f, boot); err == nil {
					s.key = &pk
				}
			}
		}
		s.keyErr = err
	}
	if s.keyErr != nil {
		return passwordKey{}, s.keyErr
	}
	return *s.key, nil
}

// account is one user's records.
type account struct {
	key string // SAM\Domains\Account\Users\000001F4
	rid uint32
	f   userF
	v   userV
}

// maxUsers bounds the accounts read from one SAM.
const maxUsers = 100000

func (s *SAM) accounts() ([]account, error) {
	users, err := s.sam.Key(accountKey + `\Users`)
	if err != nil {
		return nil, err
	}
	subs, err := users.Subkeys()
	if err != nil {
		return nil, err
	}
	if len(subs) > maxUsers {
		return nil, fmt.Errorf("%w: %d user keys, over %d", ErrUnsupported, len(subs), maxUsers)
	}
	var out []account
	for _, k := range subs {
		rid, err := strconv.ParseUint(k.Name(), 16, 32)
		if err != nil || len(k.Name()) != 8 {
			continue // "Names", and anything else that is not a RID
		}
		a, err := s.account(k, uint32(rid))
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

func (s *SAM) account(k hive.Key, rid uint32) (account, error) {
	path := accountKey + `\Users\` + k.Name()
	a := account{key: path, rid: rid}
	fv, err := k.Value("F")
	if err != nil {
		return a, &CorruptError{Key: path, Value: "F", Offset: -1, What: err.Error()}
	}
	fb, err := fv.Data()
	if err != nil {
		return a, err
	}
	vv, err := k.Value("V")
	if err != nil {
		return a, &CorruptError{Key: path, Value: "V", Offset: -1, What: err.Error()}
	}
	vb, err := vv.Data()
	if err != nil {
		return a, err
	}
	if a.f, err = parseUserF(fb, path); err != nil {
		return a, err
	}
	if a.v, err = parseUserV(vb, path); err != nil {
		return a, err
	}
	return a, nil
}

// Users returns the accounts, by RID.
func (s *SAM) Users() ([]User, error) {
	accts, err := s.accounts()
	if err != nil {
		return nil, err
	}
	groups := s.memberships()
	pk, keyErr := s.passwordKey()
	out := make([]User, 0, len(accts))
	for _, a := range accts {
		u := User{
			Name:            a.v.text(vName),
			RID:             a.rid,
			FullName:        a.v.text(vFullName),
			Comment:         a.v.text(vComment),
			Flags:           Flags(a.f.u32(ufFlags)),
			LastLogon:       a.f.time(ufLastLogon),
			PasswordLastSet: a.f.time(ufPasswordLastSet),
			AccountExpires:  a.f.time(ufAccountExpires),
			BadPasswords:    int(a.f.u16(ufBadPasswordCnt)),
			Logons:          int(a.f.u16(ufLogonCount)),
			Groups:          groups[a.rid],
		}
		u.HasLMHash = hasHash(a.v.item(vLMHash))
		switch {
		case !hasHash(a.v.item(vNTHash)):
			u.Password = PasswordBlank
		case keyErr == nil:
			h, ok, err := decryptHash(pk, a.rid, a.v.item(vNTHash), ntPassword)
			switch {
			case err != nil:
				u.Password = PasswordUnknown
			case !ok || h == NTHash(""):
				u.Password = PasswordBlank
			default:
				u.Password = PasswordSet
			}
		}
		out = append(out, u)
	}
	sort.Slice(out, func(i, k int) bool { return out[i].RID < out[k].RID })
	return out, nil
}

// hasHash reports whether a V hash entry holds a hash, not just a header.
func hasHash(e []byte) bool {
	if len(e) < 4 {
		return false
	}
	if binary.LittleEndian.Uint16(e[2:]) == heAES {
		return len(e) > heAESData && binary.LittleEndian.Uint32(e[4:]) != 0
	}
	return len(e) >= 20
}

// NTHashOf returns the NT hash stored for the account name, decrypted;
// ok is false when none is stored (a blank password).
func (s *SAM) NTHashOf(name string) (hash [16]byte, ok bool, err error) {
	a, err := s.find(name)
	if err != nil {
		return hash, false, err
	}
	if !hasHash(a.v.item(vNTHash)) {
		return hash, false, nil
	}
	pk, err := s.passwordKey()
	if err != nil {
		return hash, false, err
	}
	h, ok, err := decryptHash(pk, a.rid, a.v.item(vNTHash), ntPassword)
	if err != nil {
		return hash, false, fmt.Errorf("%s (%s): %w", a.v.text(vName), a.key, err)
	}
	return h, ok, nil
}

// find returns the account whose name is name, compared without case.
func (s *SAM) find(name string) (account, error) {
	accts, err := s.accounts()
	if err != nil {
		return account{}, err
	}
	var names []string
	for _, a := range accts {
		n := a.v.text(vName)
		if strings.EqualFold(n, name) {
			return a, nil
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return account{}, fmt.Errorf("%w: no account %q (the SAM has %s)", ErrNotFound, name, strings.Join(names, ", "))
}

// pekOf returns the PekID the account's hash entries carry.
func pekOf(a account) uint16 {
	for _, i := range []int{vNTHash, vLMHash} {
		if e := a.v.item(i); len(e) >= 4 {
			return binary.LittleEndian.Uint16(e)
		}
	}
	return 2
}

// setHashes writes the account's NT entry nt and an LM entry holding no
// hash, and stamps the password as set now.
func (s *SAM) setHashes(a account, nt []byte) error {
	v, err := a.v.replace(vNTHash, nt, a.key)
	if err != nil {
		return err
	}
	pv, err := parseUserV(v, a.key)
	if err != nil {
		return err
	}
	if v, err = pv.replace(vLMHash, emptyHash(s.rev, pekOf(a)), a.key); err != nil {
		return err
	}
	f := a.f.with(func(b []byte) {
		binary.LittleEndian.PutUint64(b[ufPasswordLastSet:], toFiletime(s.now()))
	})
	if err := s.setValue(a.key, "V", v); err != nil {
		return err
	}
	return s.setValue(a.key, "F", f)
}

// SetPassword gives the account name a new password: its NT hash
// (MD4 of the UTF-16LE password), encrypted as the SAM's key revision
// requires, and no LM hash, as Windows stores it when NoLMHash is on
// (the default since Vista). The password-last-set time becomes now,
// which also ends a "must change at next logon". Password history is
// left as it is. An empty password is [SAM.Blank].
func (s *SAM) SetPassword(name, password string) error {
	if password == "" {
		return s.Blank(name)
	}
	a, err := s.find(name)
	if err != nil {
		return err
	}
	pk, err := s.passwordKey()
	if err != nil {
		return err
	}
	salt := make([]byte, 16)
	if pk.rev == AES {
		if _, err := io.ReadFull(s.rand, salt); err != nil {
			return err
		}
	}
	nt := encryptHash(pk, a.rid, NTHash(password), ntPassword, pekOf(a), salt)
	return s.setHashes(a, nt)
}

// Blank removes the password of the account name: no NT and no LM hash,
// which Windows reads as the empty password. It needs no boot key. Unless
// policy allows it (LimitBlankPasswordUse, on by default), Windows
// accepts a blank password only at the console.
func (s *SAM) Blank(name string) error {
	a, err := s.find(name)
	if err != nil {
		return err
	}
	return s.setHashes(a, emptyHash(s.rev, pekOf(a)))
}

func (s *SAM) editF(name string, fn func(b []byte)) error {
	a, err := s.find(name)
	if err != nil {
		return err
	}
	return s.setValue(a.key, "F", a.f.with(fn))
}

func setFlags(b []byte, set, clear Flags) {
	f := Flags(binary.LittleEndian.Uint32(b[ufFlags:]))
	binary.LittleEndian.PutUint32(b[ufFlags:], uint32(f&^clear|set))
}

// Enable clears the account's disabled flag.
func (s *SAM) Enable(name string) error {
	return s.editF(name, func(b []byte) { setFlags(b, 0, Disabled) })
}

// Disable sets the account's disabled flag.
func (s *SAM) Disable(name string) error {
	return s.editF(name, func(b []byte) { setFlags(b, Disabled, 0) })
}

// Unlock ends a lockout: the locked flag cleared and the count of bad
// passwords reset to zero.
func (s *SAM) Unlock(name string) error {
	return s.editF(name, func(b []byte) {
		setFlags(b, 0, AutoLocked)
		binary.LittleEndian.PutUint16(b[ufBadPasswordCnt:], 0)
	})
}

// CreateKeys gives a SAM that has no usable password encryption key (as
// a SAM made by a tool that writes none, like this project's fixtures) a
// new one of revision rev, random from rnd (nil: crypto/rand), and the
// SYSTEM hive a new boot key under it, in every ControlSetNNN. It refuses
// a SAM any of whose accounts holds a hash, which the new key would make
// unreadable.
func CreateKeys(samHive, systemHive *hive.Hive, rev Revision, rnd io.Reader) error {
	if rnd == nil {
		rnd = rand.Reader
	}
	if rev != RC4 && rev != AES {
		return fmt.Errorf("%w: key revision %d", ErrUnsupported, int(rev))
	}
	s, err := Open(samHive, systemHive)
	if err != nil {
		return err
	}
	accts, err := s.accounts()
	if err != nil {
		return err
	}
	for _, a := range accts {
		if hasHash(a.v.item(vNTHash)) || hasHash(a.v.item(vLMHash)) {
			return fmt.Errorf("%w: account %s holds a password hash a new key would make unreadable", ErrUnsupported, a.v.text(vName))
		}
	}
	buf := make([]byte, 16+16+16)
	if _, err := io.ReadFull(rnd, buf); err != nil {
		return err
	}
	var boot [16]byte
	copy(boot[:], buf)
	pk := passwordKey{rev: rev}
	copy(pk.key[:], buf[16:])
	f, err := s.value(accountKey, "F")
	if err != nil {
		return err
	}
	if err := setBootKey(systemHive, boot); err != nil {
		return err
	}
	if err := s.setValue(accountKey, "F", encryptKey(f, pk, boot, buf[32:])); err != nil {
		return err
	}
	// The accounts' empty entries in the new revision's form.
	for _, a := range accts {
		if err := s.setRevision(a, rev); err != nil {
			return err
		}
	}
	return nil
}

func (s *SAM) setRevision(a account, rev Revision) error {
	v := a.v
	for _, i := range []int{vNTHash, vLMHash} {
		b, err := v.replace(i, emptyHash(rev, pekOf(a)), a.key)
		if err != nil {
			return err
		}
		if v, err = parseUserV(b, a.key); err != nil {
			return err
		}
	}
	return s.setValue(a.key, "V", v.raw)
}

// memberships maps RIDs of the Account domain to the names of the local
// groups (aliases) that list them: SAM\Domains\{Builtin,Account}\Aliases\
// Members\<domain SID>\<RID> holds the RIDs of the aliases the account
// belongs to, and Aliases\Names\<name> has the alias's RID as the type of
// its default value. Best effort: a part that does not parse adds nothing.
func (s *SAM) memberships() map[uint32][]string {
	out := map[uint32][]string{}
	av, err := s.value(accountKey, "V")
	if err != nil {
		return out
	}
	sid, ok := trailingSID(av)
	if !ok {
		return out
	}
	for _, domain := range []string{`SAM\Domains\Builtin`, accountKey} {
		names := s.aliasNames(domain)
		members, err := s.sam.Key(domain + `\Aliases\Members\` + sid)
		if err != nil {
			continue
		}
		subs, err := members.Subkeys()
		if err != nil || len(subs) > maxUsers {
			continue
		}
		for _, m := range subs {
			rid, err := strconv.ParseUint(m.Name(), 16, 32)
			if err != nil {
				continue
			}
			v, err := m.Value("")
			if err != nil {
				continue
			}
			d, err := v.Data()
			if err != nil {
				continue
			}
			for i := 0; i+4 <= len(d) && i < 4*maxUsers; i += 4 {
				if name := names[binary.LittleEndian.Uint32(d[i:])]; name != "" {
					out[uint32(rid)] = append(out[uint32(rid)], name)
				}
			}
		}
	}
	for rid := range out {
		sort.Strings(out[rid])
	}
	return out
}

// aliasNames maps the RIDs of a domain's aliases to their names, from
// its Aliases\Names index.
func (s *SAM) aliasNames(domain string) map[uint32]string {
	out := map[uint32]string{}
	k, err := s.sam.Key(domain + `\Aliases\Names`)
	if err != nil {
		return out
	}
	subs, err := k.Subkeys()
	if err != nil || len(subs) > maxUsers {
		return out
	}
	for _, n := range subs {
		if v, err := n.Value(""); err == nil {
			out[uint32(v.Type())] = n.Name()
		}
	}
	return out
}

// trailingSID returns the domain SID at the end of the Account domain's V
// record (after its security descriptor): S-1-5-21-a-b-c.
func trailingSID(v []byte) (string, bool) {
	const n = 24
	if len(v) < n {
		return "", false
	}
	b := v[len(v)-n:]
	if b[0] != 1 || b[1] != 4 || binary.BigEndian.Uint16(b[2:]) != 0 || binary.BigEndian.Uint32(b[4:]) != 5 ||
		binary.LittleEndian.Uint32(b[8:]) != 21 {
		return "", false
	}
	return fmt.Sprintf("S-1-5-21-%d-%d-%d", binary.LittleEndian.Uint32(b[12:]), binary.LittleEndian.Uint32(b[16:]), binary.LittleEndian.Uint32(b[20:])), true
}
