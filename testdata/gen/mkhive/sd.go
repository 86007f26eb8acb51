package main

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Security descriptor control bits (MS-DTYP 2.4.6).
const (
	seDACLPresent      = 0x0004
	seSACLPresent      = 0x0010
	seDACLAutoInherit  = 0x0400
	seSACLAutoInherit  = 0x0800
	seDACLProtected    = 0x1000
	seSelfRelative     = 0x8000
	machineHiveControl = seSelfRelative | seDACLProtected | seDACLAutoInherit | seDACLPresent // 0x9404
)

// ACE flags and access masks.
const (
	objectInherit    = 0x01
	containerInherit = 0x02
	inheritOnly      = 0x08

	keyRead     = 0x00020019 // KEY_READ
	keyAllAcces = 0x000F003F // KEY_ALL_ACCESS
	readControl = 0x00020000
	writeDAC    = 0x00040000
	genericRead = 0x80000000
	genericAll  = 0x10000000
)

// Well-known SIDs.
const (
	sidUsers      = "S-1-5-32-545"
	sidPowerUsers = "S-1-5-32-547"
	sidAdmins     = "S-1-5-32-544"
	sidSystem     = "S-1-5-18"
	sidCreatorOwn = "S-1-3-0"
	sidRestricted = "S-1-5-12"
	sidAllAppPkgs = "S-1-15-2-1"
	sidCapability = "S-1-15-3-1024-1065365936-1281604716-3511738428-1654721687-432734479-3232135806-4053264122-3456934681"
)

type ace struct {
	flags byte
	mask  uint32
	sid   string
}

// securityDescriptor returns the self-relative descriptor for a hive's root
// key. Each profile copies the shape of a real Windows hive root seen in
// ../shared/data/hives (owner Administrators, group SYSTEM throughout):
//
//	xp          XP-era SYSTEM root ($$$PROTO.HIV): Users and Power Users read,
//	            Administrators and SYSTEM full, CREATOR OWNER full on subkeys;
//	            each grant split into an effective ACE and an inherit-only one.
//	vista       Windows 7 SYSTEM and SAM roots: xp without Power Users.
//	win10       Windows 10 SYSTEM root ("ROOT"): container-inherit ACEs for
//	            Users (read), Administrators, SYSTEM, CREATOR OWNER (full),
//	            ALL APPLICATION PACKAGES and the capability SID
//	            S-1-15-3-1024-1065365936-… (read); empty SACL.
//	security    Windows 10 SECURITY root: SYSTEM full, Administrators only
//	            READ_CONTROL|WRITE_DAC (container inherit).
//	user-xp     XP NTUSER.DAT root: the user, SYSTEM, Administrators full,
//	            RESTRICTED read, plus inherit-only copies.
//	user-win10  Windows 10 NTUSER.DAT root: the user, SYSTEM, Administrators
//	            full and RESTRICTED read (object+container inherit), ALL
//	            APPLICATION PACKAGES and that capability SID read.
func securityDescriptor(profile, user string) ([]byte, error) {
	var (
		control uint16
		sacl    bool
		aces    []ace
	)
	const ciio = containerInherit | inheritOnly
	const oicii = objectInherit | containerInherit | inheritOnly
	switch profile {
	case "xp", "vista":
		control = machineHiveControl
		aces = []ace{
			{0, keyRead, sidUsers}, {ciio, genericRead, sidUsers},
		}
		if profile == "xp" {
			aces = append(aces, ace{0, keyRead, sidPowerUsers}, ace{ciio, genericRead, sidPowerUsers})
		}
		aces = append(aces,
			ace{0, keyAllAcces, sidAdmins}, ace{ciio, genericAll, sidAdmins},
			ace{0, keyAllAcces, sidSystem}, ace{ciio, genericAll, sidSystem},
			ace{0, keyAllAcces, sidAdmins}, ace{ciio, genericAll, sidCreatorOwn},
		)
	case "win10":
		control = machineHiveControl | seSACLAutoInherit | seSACLPresent // 0x9c14
		sacl = true
		aces = []ace{
			{containerInherit, keyRead, sidUsers},
			{containerInherit, keyAllAcces, sidAdmins},
			{containerInherit, keyAllAcces, sidSystem},
			{containerInherit, keyAllAcces, sidCreatorOwn},
			{containerInherit, keyRead, sidAllAppPkgs},
			{containerInherit, keyRead, sidCapability},
		}
	case "security":
		// SACL present but null (offset 0), as in the sample; the sample's DACL also
		// carries 16 bytes of slack after its ACEs, which is not reproduced.
		control = seSelfRelative | seSACLAutoInherit | seSACLPresent | seDACLPresent // 0x8814
		aces = []ace{
			{containerInherit, keyAllAcces, sidSystem},
			{containerInherit, readControl | writeDAC, sidAdmins},
		}
	case "user-xp":
		if user == "" {
			return nil, fmt.Errorf("-sd %s needs -user", profile)
		}
		control = seSelfRelative | seDACLPresent // 0x8004
		aces = []ace{
			{0, keyAllAcces, user}, {0, keyAllAcces, sidSystem},
			{0, keyAllAcces, sidAdmins}, {0, keyRead, sidRestricted},
			{oicii, genericAll, user}, {oicii, genericAll, sidSystem},
			{oicii, genericAll, sidAdmins}, {oicii, genericRead, sidRestricted},
		}
	case "user-win10":
		if user == "" {
			return nil, fmt.Errorf("-sd %s needs -user", profile)
		}
		control = seSelfRelative | seDACLProtected | seSACLAutoInherit | seSACLPresent | seDACLPresent // 0x9814
		sacl = true
		const oici = objectInherit | containerInherit
		aces = []ace{
			{oici, keyAllAcces, user}, {oici, keyAllAcces, sidSystem},
			{oici, keyAllAcces, sidAdmins}, {oici, keyRead, sidRestricted},
			{0, keyRead, sidAllAppPkgs}, {0, keyRead, sidCapability},
		}
	default:
		return nil, fmt.Errorf("unknown -sd profile %q", profile)
	}

	le := binary.LittleEndian
	// Self-relative layout as Windows writes it: header, SACL, DACL, owner, group.
	b := make([]byte, 20)
	b[0] = 1 // revision
	le.PutUint16(b[2:], control)
	if sacl {
		le.PutUint32(b[12:], uint32(len(b)))
		b = append(b, 2, 0, 8, 0, 0, 0, 0, 0) // empty ACL: revision 2, size 8, count 0
	}
	daclOff := len(b)
	le.PutUint32(b[16:], uint32(daclOff))
	b = append(b, make([]byte, 8)...) // ACL header, filled below
	for _, a := range aces {
		s, err := encodeSID(a.sid)
		if err != nil {
			return nil, err
		}
		e := make([]byte, 8, 8+len(s))
		e[0] = 0 // ACCESS_ALLOWED_ACE_TYPE
		e[1] = a.flags
		le.PutUint16(e[2:], uint16(8+len(s)))
		le.PutUint32(e[4:], a.mask)
		b = append(b, append(e, s...)...)
	}
	b[daclOff] = 2 // ACL_REVISION
	le.PutUint16(b[daclOff+2:], uint16(len(b)-daclOff))
	le.PutUint16(b[daclOff+4:], uint16(len(aces)))

	for i, sid := range []string{sidAdmins, sidSystem} { // owner, group
		s, _ := encodeSID(sid)
		le.PutUint32(b[4+4*i:], uint32(len(b)))
		b = append(b, s...)
	}
	return b, nil
}

// encodeSID converts "S-1-5-21-…" to its binary form: revision, sub-authority
// count, 48-bit big-endian authority, little-endian sub-authorities.
func encodeSID(s string) ([]byte, error) {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || parts[0] != "S" || parts[1] != "1" || len(parts)-3 > 15 {
		return nil, fmt.Errorf("bad SID %q", s)
	}
	auth, err := strconv.ParseUint(parts[2], 10, 48)
	if err != nil {
		return nil, fmt.Errorf("bad SID %q: %w", s, err)
	}
	b := []byte{1, byte(len(parts) - 3), 0, 0, 0, 0, 0, 0}
	for i := 0; i < 6; i++ {
		b[2+i] = byte(auth >> (8 * (5 - i)))
	}
	for _, p := range parts[3:] {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("bad SID %q: %w", s, err)
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return b, nil
}
