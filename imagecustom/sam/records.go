package sam

import (
	"encoding/binary"
	"fmt"
	"time"
	"unicode/utf16"
)

// The user F record (SAM\Domains\Account\Users\<RID>\F): fixed fields,
// 80 bytes. Offsets from libyal's winreg-kb, "Security Accounts Manager
// keys", and the fixtures' and real SAMs' bytes.
const (
	ufLastLogon       = 0x08 // FILETIME lastLogon
	ufPasswordLastSet = 0x18 // FILETIME pwdLastSet; 0 means "must change at next logon"
	ufAccountExpires  = 0x20 // FILETIME accountExpires; 0 or 0x7fffffffffffffff: never
	ufBadPasswordTime = 0x28 // FILETIME badPasswordTime
	ufRID             = 0x30 // uint32 UserId
	ufPrimaryGroup    = 0x34 // uint32 PrimaryGroupId
	ufFlags           = 0x38 // uint32 UserAccountControl (USER_* / ACB_* bits)
	ufCountryCode     = 0x3c // uint16
	ufCodePage        = 0x3e // uint16
	ufBadPasswordCnt  = 0x40 // uint16 badPwdCount
	ufLogonCount      = 0x42 // uint16 logonCount
	ufMinSize         = 0x44 // the fields above; Windows writes 0x50 bytes
)

// The user V record: 17 descriptors of 12 bytes (offset from the end of
// the descriptors, size, unknown), then the data they point to, each item
// 4-byte aligned.
const (
	vDescriptors = 17
	vHeaderSize  = vDescriptors * 12 // 0xcc

	vName     = 1  // user name, UTF-16LE
	vFullName = 2  // full name
	vComment  = 3  // admin comment
	vLMHash   = 13 // LM hash entry (SAM_HASH or SAM_HASH_AES)
	vNTHash   = 14 // NT hash entry
)

// The domain F record (SAM\Domains\Account\F): fixed fields, then the
// password encryption key data at 0x68 (Impacket's DOMAIN_ACCOUNT_F,
// mimikatz's kuhl_m_lsadump.h).
const (
	dfRevision = 0x00 // uint16: 2 with an RC4 key, 3 with an AES key
	dfKey      = 0x68 // SAM_KEY_DATA (revision 1) or SAM_KEY_DATA_AES (revision 2)

	// SAM_KEY_DATA, revision 1, relative to dfKey.
	kdRevision = 0x00 // uint32 1
	kdLength   = 0x04 // uint32 0x38: the bytes after this field
	kdSalt     = 0x08 // 16 bytes
	kdKey      = 0x18 // 16 bytes, the RC4-encrypted key
	kdChecksum = 0x28 // 16 bytes, the RC4-encrypted MD5 check
	kdSize     = 0x40 // with 8 reserved bytes

	// SAM_KEY_DATA_AES, revision 2, relative to dfKey.
	kaCheckLen = 0x08 // uint32: bytes of the encrypted check after the data
	kaDataLen  = 0x0c // uint32: bytes of the encrypted key
	kaSalt     = 0x10 // 16 bytes, the CBC IV
	kaData     = 0x20 // DataLen bytes, then CheckLen bytes
)

// userF is a parsed user F record.
type userF struct {
	raw []byte // the record as read; edits write into a copy
}

func parseUserF(b []byte, key string) (userF, error) {
	if len(b) < ufMinSize {
		return userF{}, &CorruptError{Key: key, Value: "F", Offset: -1, What: fmt.Sprintf("%d bytes, under the %d of its fixed fields", len(b), ufMinSize)}
	}
	return userF{raw: b}, nil
}

func (f userF) u16(off int) uint16 { return binary.LittleEndian.Uint16(f.raw[off:]) }
func (f userF) u32(off int) uint32 { return binary.LittleEndian.Uint32(f.raw[off:]) }
func (f userF) time(off int) time.Time {
	return filetime(binary.LittleEndian.Uint64(f.raw[off:]))
}

// with returns a copy of the record with fn applied.
func (f userF) with(fn func(b []byte)) []byte {
	b := append([]byte(nil), f.raw...)
	fn(b)
	return b
}

// filetime converts a FILETIME; 0 and the "never" value are the zero time.
func filetime(ft uint64) time.Time {
	if ft == 0 || ft >= 0x7fffffffffffffff {
		return time.Time{}
	}
	const epochDiff = 116444736000000000 // 1601-01-01 to 1970-01-01 in 100 ns
	if ft < epochDiff {
		return time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(ft/10000) * time.Millisecond)
	}
	d := ft - epochDiff
	return time.Unix(int64(d/1e7), int64(d%1e7)*100).UTC()
}

func toFiletime(t time.Time) uint64 {
	return uint64(t.UnixNano()/100) + 116444736000000000
}

// userV is a parsed user V record: its descriptors checked against its
// size.
type userV struct {
	raw []byte
	off [vDescriptors]uint32 // data offsets, from vHeaderSize
	n   [vDescriptors]uint32 // data sizes
}

func parseUserV(b []byte, key string) (userV, error) {
	v := userV{raw: b}
	if len(b) < vHeaderSize {
		return v, &CorruptError{Key: key, Value: "V", Offset: -1, What: fmt.Sprintf("%d bytes, under the %d of its descriptors", len(b), vHeaderSize)}
	}
	room := uint64(len(b) - vHeaderSize)
	for i := range vDescriptors {
		o := binary.LittleEndian.Uint32(b[12*i:])
		n := binary.LittleEndian.Uint32(b[12*i+4:])
		if uint64(o)+uint64(n) > room {
			return v, &CorruptError{Key: key, Value: "V", Offset: 12 * i,
				What: fmt.Sprintf("item %d of %d bytes at 0x%x runs past the %d bytes of data", i, n, o, room)}
		}
		v.off[i], v.n[i] = o, n
	}
	return v, nil
}

// item returns the data of descriptor i.
func (v userV) item(i int) []byte {
	s := vHeaderSize + int(v.off[i])
	return v.raw[s : s+int(v.n[i])]
}

// text returns descriptor i as a UTF-16LE string.
func (v userV) text(i int) string { return decodeUTF16(v.item(i)) }

// replace returns a new V record with item i's data replaced by data: the
// bytes after it move by the change in size, rounded up to keep the items
// after it 4-byte aligned, and their offsets with them. Nothing else in
// the record changes.
func (v userV) replace(i int, data []byte, key string) ([]byte, error) {
	start := vHeaderSize + int(v.off[i])
	oldEnd := start + int(v.n[i])
	shift := len(data) - int(v.n[i])
	pad := (4 - (shift%4+4)%4) % 4
	shift += pad
	out := make([]byte, 0, len(v.raw)+shift)
	out = append(out, v.raw[:start]...)
	out = append(out, data...)
	out = append(out, make([]byte, pad)...)
	out = append(out, v.raw[oldEnd:]...)
	for k := range vDescriptors {
		o := v.off[k]
		switch {
		case k == i:
			binary.LittleEndian.PutUint32(out[12*k+4:], uint32(len(data)))
		case o >= v.off[i]+v.n[i] && !(o == v.off[i] && k < i && v.n[k] == 0):
			binary.LittleEndian.PutUint32(out[12*k:], uint32(int(o)+shift))
		}
	}
	// Items that overlap the one replaced (never in a record Windows
	// wrote) may now run past the end: refuse rather than write that.
	if _, err := parseUserV(out, key); err != nil {
		return nil, err
	}
	return out, nil
}

func decodeUTF16(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	for len(u) > 0 && u[len(u)-1] == 0 {
		u = u[:len(u)-1]
	}
	return string(utf16.Decode(u))
}
