package main

import (
	"encoding/binary"
	"strconv"
	"strings"
)

// Well-known SIDs used by the fixtures' security descriptors.
const (
	sidSystem          = "S-1-5-18"
	sidAdministrators  = "S-1-5-32-544"
	sidUsers           = "S-1-5-32-545"
	sidPowerUsers      = "S-1-5-32-547"
	sidEveryone        = "S-1-1-0"
	sidCreatorOwner    = "S-1-3-0"
	sidAuthUsers       = "S-1-5-11"
	sidTrustedInstall  = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
	sidAppPackages     = "S-1-15-2-1"
	sidRestrictedPkgs  = "S-1-15-2-2"
	sidXPAdministrator = "S-1-5-21-2183741645-3219871934-1567301829-500"
	sidW10Admin        = "S-1-5-21-1847522761-2946178233-4058326117-1001"
)

// Access masks and ACE flags.
const (
	fullControl = 0x001F01FF
	modify      = 0x001301BF
	readExecute = 0x001200A9
	genericAll  = 0x10000000
	genericRX   = 0xA0000000

	objectInherit    = 0x01
	containerInherit = 0x02
	inheritOnly      = 0x08
	inherited        = 0x10
)

// ace is one access-allowed entry.
type ace struct {
	flags byte
	mask  uint32
	sid   string
}

// descriptor builds a self-relative security descriptor with owner, group
// and a DACL of access-allowed entries, as Windows stores it in $Secure.
func descriptor(owner, group string, aces ...ace) []byte {
	var acl []byte
	for _, a := range aces {
		s := encodeSID(a.sid)
		acl = append(acl, 0, a.flags) // ACCESS_ALLOWED_ACE_TYPE, flags
		acl = binary.LittleEndian.AppendUint16(acl, uint16(8+len(s)))
		acl = binary.LittleEndian.AppendUint32(acl, a.mask)
		acl = append(acl, s...)
	}
	hdr := []byte{2, 0} // ACL_REVISION, Sbz1
	hdr = binary.LittleEndian.AppendUint16(hdr, uint16(8+len(acl)))
	hdr = binary.LittleEndian.AppendUint16(hdr, uint16(len(aces)))
	hdr = binary.LittleEndian.AppendUint16(hdr, 0)
	acl = append(hdr, acl...)

	o, g := encodeSID(owner), encodeSID(group)
	const control = 0x8000 | 0x0400 | 0x0004 // SELF_RELATIVE | DACL_AUTO_INHERITED | DACL_PRESENT
	sd := []byte{1, 0}                       // revision, Sbz1
	sd = binary.LittleEndian.AppendUint16(sd, control)
	sd = binary.LittleEndian.AppendUint32(sd, 20)                       // owner
	sd = binary.LittleEndian.AppendUint32(sd, uint32(20+len(o)))        // group
	sd = binary.LittleEndian.AppendUint32(sd, 0)                        // no SACL
	sd = binary.LittleEndian.AppendUint32(sd, uint32(20+len(o)+len(g))) // DACL
	sd = append(sd, o...)
	sd = append(sd, g...)
	return append(sd, acl...)
}

// encodeSID encodes a SID in its string form ("S-1-5-32-544").
func encodeSID(s string) []byte {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || parts[0] != "S" {
		panic("bad SID " + s)
	}
	rev, _ := strconv.Atoi(parts[1])
	auth, _ := strconv.ParseUint(parts[2], 10, 48)
	b := []byte{byte(rev), byte(len(parts) - 3)}
	for i := 5; i >= 0; i-- {
		b = append(b, byte(auth>>(8*i)))
	}
	for _, p := range parts[3:] {
		v, err := strconv.ParseUint(p, 10, 32)
		if err != nil {
			panic("bad SID " + s)
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return b
}

// inherit returns the ACEs a child receives from a folder's inheritable
// ones: for a folder (dir true) those with container inheritance (and
// object-inherit ones as inherit-only), for a file those with object
// inheritance; all marked inherited.
func inherit(parent []ace, dir bool) []ace {
	var out []ace
	for _, a := range parent {
		switch {
		case dir && a.flags&containerInherit != 0:
			f := a.flags&(objectInherit|containerInherit) | inherited
			if a.flags&inheritOnly != 0 || a.mask&0xF0000000 != 0 {
				f |= inheritOnly
			}
			out = append(out, ace{f, a.mask, a.sid})
			if a.flags&inheritOnly == 0 && a.mask&0xF0000000 != 0 {
				out = append(out, ace{inherited, specific(a.mask), a.sid})
			}
		case dir && a.flags&objectInherit != 0:
			out = append(out, ace{objectInherit | inheritOnly | inherited, a.mask, a.sid})
		case !dir && a.flags&objectInherit != 0 && a.sid != sidCreatorOwner:
			out = append(out, ace{inherited, specific(a.mask), a.sid})
		}
	}
	return out
}

// specific maps generic rights to the file-specific ones they stand for.
func specific(mask uint32) uint32 {
	switch mask {
	case genericAll:
		return fullControl
	case genericRX:
		return readExecute
	}
	return mask
}

// securityTemplates returns the named security descriptors of a fixture
// and a function choosing one for each entry. A handful of descriptors
// shared by thousands of files, as in a real install, so that $Secure
// holds few entries and most files share a security_id.
func securityTemplates(osName string) (map[string][]byte, func(e *entry) string) {
	adminUser := sidXPAdministrator
	if osName == "win10" {
		adminUser = sidW10Admin
	}
	// Explicit ACEs of the volume root and of the tree roots.
	root := []ace{
		{objectInherit | containerInherit, fullControl, sidAdministrators},
		{objectInherit | containerInherit, fullControl, sidSystem},
		{objectInherit | containerInherit | inheritOnly, genericAll, sidCreatorOwner},
		{objectInherit | containerInherit, readExecute, sidUsers},
		{0, readExecute, sidEveryone},
	}
	windows := []ace{
		{objectInherit | containerInherit, fullControl, sidAdministrators},
		{objectInherit | containerInherit, fullControl, sidSystem},
		{objectInherit | containerInherit | inheritOnly, genericAll, sidCreatorOwner},
		{objectInherit | containerInherit, modify, sidPowerUsers},
		{objectInherit | containerInherit, readExecute, sidUsers},
	}
	profile := []ace{
		{objectInherit | containerInherit, fullControl, sidSystem},
		{objectInherit | containerInherit, fullControl, sidAdministrators},
		{objectInherit | containerInherit, fullControl, adminUser},
	}
	config := []ace{
		{objectInherit | containerInherit, fullControl, sidAdministrators},
		{objectInherit | containerInherit, fullControl, sidSystem},
	}
	owner, group := sidAdministrators, sidSystem
	tpl := map[string][]byte{
		"root":         descriptor(owner, group, root...),
		"windows":      descriptor(owner, group, windows...),
		"windows-dir":  descriptor(owner, group, inherit(windows, true)...),
		"windows-file": descriptor(owner, group, inherit(windows, false)...),
		"config-dir":   descriptor(owner, group, config...),
		"config-file":  descriptor(owner, group, inherit(config, false)...),
		"profile":      descriptor(adminUser, group, profile...),
		"profile-dir":  descriptor(adminUser, group, inherit(profile, true)...),
		"profile-file": descriptor(adminUser, group, inherit(profile, false)...),
		"tree-dir":     descriptor(owner, group, inherit(root, true)...),
		"tree-file":    descriptor(owner, group, inherit(root, false)...),
	}
	if osName == "win10" {
		// Windows 10 system files belong to TrustedInstaller, who alone
		// may change them.
		ti := []ace{
			{0, fullControl, sidTrustedInstall},
			{0, readExecute, sidAdministrators},
			{0, readExecute, sidSystem},
			{0, readExecute, sidUsers},
			{0, readExecute, sidAppPackages},
			{0, readExecute, sidRestrictedPkgs},
		}
		tpl["trustedinstaller"] = descriptor(sidTrustedInstall, sidTrustedInstall, ti...)
	}
	pick := func(e *entry) string {
		p := strings.ToUpper(e.path)
		dir := e.kind != 'f'
		sub := func(dirName, fileName string) string {
			if dir {
				return dirName
			}
			return fileName
		}
		switch {
		case p == "WINDOWS":
			return "windows"
		case p == `WINDOWS\SYSTEM32\CONFIG`:
			return "config-dir"
		case strings.HasPrefix(p, `WINDOWS\SYSTEM32\CONFIG\`):
			return sub("config-dir", "config-file")
		case osName == "win10" && !dir && (strings.HasPrefix(p, `WINDOWS\SYSTEM32\`) && strings.Count(p, `\`) == 2 ||
			strings.HasPrefix(p, `WINDOWS\SYSWOW64\`) && strings.Count(p, `\`) == 2):
			return "trustedinstaller"
		case strings.HasPrefix(p, `WINDOWS\`):
			return sub("windows-dir", "windows-file")
		case p == `DOCUMENTS AND SETTINGS\ADMINISTRATOR` || p == `USERS\ADMIN`:
			return "profile"
		case strings.HasPrefix(p, `DOCUMENTS AND SETTINGS\ADMINISTRATOR\`) || strings.HasPrefix(p, `USERS\ADMIN\`):
			return sub("profile-dir", "profile-file")
		default:
			return sub("tree-dir", "tree-file")
		}
	}
	return tpl, pick
}
