package sysprep

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Validate checks spec for family f and returns every problem found, each
// with the path of its field, in field order; none but warnings (see
// [Problem.Warning], [Errors]) means the spec renders.
// It checks names (NetBIOS rules), conflicts (domain and workgroup),
// missing values (domain credentials), addresses (syntax, duplicate MACs,
// gateways outside their subnet), time zones, what the family supports,
// and characters that could break out of the files the value is written
// to: control characters and line breaks anywhere, and in names also
// double quotes, '%', '&', '<', '>', '|' and '^'.
func Validate(spec *Spec, f Family) []Problem {
	v := validator{family: f}
	if _, ok := familyNames[f]; !ok {
		v.add("", "unknown OS family %v", f)
		return v.problems
	}
	v.identity(&spec.Identity)
	v.membership(&spec.Membership)
	v.network(&spec.Network)
	for i, c := range spec.RunOnce {
		p := fmt.Sprintf("runOnce[%d]", i)
		if strings.TrimSpace(c) == "" {
			v.add(p, "empty command")
		}
		v.noLineBreak(p, c)
	}
	if len(spec.RunOnce) > 0 && f.legacy() && spec.Identity.AutoLogonCount == 0 {
		// vCenter accepts this: GuiRunOnce then runs at the first
		// interactive logon, whoever makes it.
		v.warn("runOnce", "on %v run-once commands run at the first interactive logon; with no automatic logon (identity.autoLogonCount) they wait for someone to log on", f)
	}
	paths := map[string]int{}
	for i, file := range spec.Files {
		v.file(fmt.Sprintf("files[%d]", i), &file)
		if p, err := imagePath(file.Path); err == nil {
			if j, dup := paths[strings.ToLower(p)]; dup {
				v.add(fmt.Sprintf("files[%d].path", i), "%s is also files[%d]'s", p, j)
			} else {
				paths[strings.ToLower(p)] = i
			}
		}
	}
	for i, r := range spec.RegFiles {
		p := fmt.Sprintf("regFiles[%d]", i)
		if r == "" {
			v.add(p, "empty path")
		}
		v.noLineBreak(p, r)
	}
	if spec.SysprepTools != "" {
		if v.noLineBreak("sysprepTools", spec.SysprepTools) && !f.legacy() {
			v.warn("sysprepTools", "ignored on %v: its own sysprep generalizes the image", f)
		}
	}
	if h := spec.BootHook; h != nil {
		switch {
		case h.Exe == "" && h.Actions == "":
			v.add("bootHook.exe", "missing: the native program to install (or bootHook.actions for the built-in hook)")
		case h.Exe != "" && h.Actions != "":
			v.add("bootHook.actions", "set together with bootHook.exe: give one of them")
		case h.Actions != "" && h.Data != "":
			v.add("bootHook.data", "set with bootHook.actions: the built-in hook's data file is made from the actions")
		}
		if h.Method != "" && h.Method != "autochk" && h.Method != "bootexecute" {
			v.add("bootHook.method", "%q is not autochk or bootexecute", h.Method)
		}
	}
	return v.problems
}

type validator struct {
	family   Family
	problems []Problem
	// ansi requires Windows-1252 text even on Vista, for values written
	// into the ANSI scripts (the domain join's).
	ansi bool
}

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// warn adds a warning: the spec still renders.
func (v *validator) warn(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...), Warning: true})
}

// unsafeChars are the characters refused in names and other plain values:
// each could end a quoted INI or VBScript value, start an INF string
// substitution or cmd.exe variable, separate or redirect cmd.exe
// commands, or start XML markup. (A single quote is harmless in all the
// generated files, and common in names: O'Brien.)
const unsafeChars = "\"%&<>|^"

// text checks a plain value: valid UTF-8, no control characters, none of
// unsafeChars.
func (v *validator) text(path, s string) bool {
	if !utf8.ValidString(s) {
		v.add(path, "not valid UTF-8")
		return false
	}
	for _, r := range s {
		if isBreak(r) {
			v.add(path, "%q contains a control character or line break", s)
			return false
		}
		if !v.ansiOK(path, r) {
			return false
		}
		if strings.ContainsRune(unsafeChars, r) {
			v.add(path, "%q contains %q, which is not allowed here (double quotes, %%, &, <, >, | and ^ could break out of the generated files)", s, r)
			return false
		}
	}
	return true
}

// ownerText checks the owner and organisation names, which go only into
// a quoted sysprep.inf value and an escaped unattend.xml element, never
// into a script: "&", "<", ">", "|" and "^" are data there (vCenter
// accepts "Lab & Co"), but a double quote would end the INF string and
// '%' start an INF substitution.
func (v *validator) ownerText(path, s string) bool {
	if !v.noLineBreak(path, s) {
		return false
	}
	if strings.ContainsAny(s, "\"%") {
		v.add(path, "%q contains a double quote or %%, which could break out of sysprep.inf", s)
		return false
	}
	return true
}

// isBreak reports a control character, or a Unicode line or paragraph
// separator, or a format character that could hide text.
func isBreak(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r)
}

// noLineBreak checks a free-form value (a command, a password): valid
// UTF-8 without control characters. The renderers escape everything else.
func (v *validator) noLineBreak(path, s string) bool {
	if !utf8.ValidString(s) {
		v.add(path, "not valid UTF-8")
		return false
	}
	for _, r := range s {
		if isBreak(r) {
			v.add(path, "contains a control character or line break")
			return false
		}
		if !v.ansiOK(path, r) {
			return false
		}
	}
	return true
}

// ansiOK checks that r can be written to the ANSI (Windows-1252) files
// of Windows 2000–2003.
func (v *validator) ansiOK(path string, r rune) bool {
	if _, ok := ansiRune(r); ok || !(v.family.legacy() || v.ansi) {
		return true
	}
	v.add(path, "contains %q, which %v's ANSI (Windows-1252) files cannot hold", r, v.family)
	return false
}

// netbiosName checks a computer name: at most max characters, letters,
// digits and hyphens, not only digits, no leading or trailing hyphen.
func (v *validator) netbiosName(path, s string, max int) {
	if !v.text(path, s) {
		return
	}
	if len(s) > max {
		v.add(path, "%q is %d characters long, more than %d", s, len(s), max)
	}
	digits := true
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '-':
			digits = false
		default:
			v.add(path, "%q contains %q: a computer name has only letters, digits and hyphens", s, r)
			return
		}
	}
	if digits {
		v.add(path, "%q has only digits", s)
	} else if strings.HasPrefix(s, "-") || strings.HasSuffix(s, "-") {
		v.add(path, "%q starts or ends with a hyphen", s)
	}
}

// dnsName checks a DNS name or suffix.
func (v *validator) dnsName(path, s string) {
	if !v.text(path, s) {
		return
	}
	if len(s) > 253 {
		v.add(path, "%q is longer than 253 characters", s)
		return
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		ok := label != "" && len(label) <= 63 && label[0] != '-' && label[len(label)-1] != '-'
		for _, r := range label {
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_') {
				ok = false
			}
		}
		if !ok {
			v.add(path, "%q is not a DNS name", s)
			return
		}
	}
}

func (v *validator) password(path string, p *Password) {
	if p == nil {
		return
	}
	switch {
	case p.Plain == "" && p.Encoded == "":
		v.add(path, "empty: give plain or encoded (leave the field out to keep the password)")
	case p.Plain != "" && p.Encoded != "":
		v.add(path, "give plain or encoded, not both")
	case p.Plain != "":
		if !v.noLineBreak(path+".plain", p.Plain) {
			return
		}
		if v.family.legacy() {
			// sysprep.inf quotes the value and knows no escape for a
			// quote; '%' starts an INF substitution.
			if strings.ContainsAny(p.Plain, "\"%") {
				v.add(path+".plain", "on %v a password cannot contain a double quote or %%", v.family)
			}
			if len(p.Plain) > 127 {
				v.add(path+".plain", "longer than 127 characters")
			}
		}
	case p.Encoded != "":
		switch v.family {
		case Vista:
			if _, ok := decodePassword(p.Encoded, "AdministratorPassword"); !ok {
				v.add(path+".encoded", "not an encoded unattend.xml AdministratorPassword (base64 of UTF-16LE password + \"AdministratorPassword\")")
			}
		case Win2000:
			v.add(path+".encoded", "Windows 2000's sysprep.inf takes the password only in plain text")
		default:
			v.text(path+".encoded", p.Encoded)
		}
	}
}

func (v *validator) identity(id *Identity) {
	switch {
	case id.ComputerName != "" && id.ComputerNamePrefix != "":
		v.add("identity.computerNamePrefix", "conflicts with identity.computerName: give one")
	case id.ComputerName != "":
		v.netbiosName("identity.computerName", id.ComputerName, 15)
	case id.ComputerNamePrefix != "":
		v.netbiosName("identity.computerNamePrefix", id.ComputerNamePrefix, 11)
	}
	if v.ownerText("identity.fullName", id.FullName) && id.FullName == "" && v.family.legacy() {
		v.add("identity.fullName", "missing: mini-setup stops to ask for it")
	}
	v.ownerText("identity.orgName", id.OrgName)
	if id.ProductKey != "" && v.text("identity.productKey", id.ProductKey) {
		groups := strings.Split(id.ProductKey, "-")
		ok := len(groups) == 5
		for _, g := range groups {
			ok = ok && len(g) == 5 && strings.IndexFunc(g, func(r rune) bool {
				return !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
			}) < 0
		}
		if !ok {
			v.add("identity.productKey", "%q is not five groups of five letters and digits", id.ProductKey)
		}
	}
	if id.TimeZone != "" && v.text("identity.timeZone", id.TimeZone) {
		if _, ok := knownZone(id.TimeZone); !ok {
			v.add("identity.timeZone", "unknown Windows time zone %q (use the registry name, such as \"Pacific Standard Time\")", id.TimeZone)
		} else if _, ok := TimeZoneIndex(id.TimeZone); !ok && v.family.legacy() {
			v.add("identity.timeZone", "%q does not exist on %v", id.TimeZone, v.family)
		}
	}
	v.password("identity.adminPassword", id.AdminPassword)
	if id.AutoLogonCount < 0 {
		v.add("identity.autoLogonCount", "negative")
	}
	if id.AutoLogonCount > 0 && id.AdminPassword == nil {
		// vCenter allows it (a blank or unchanged password).
		v.warn("identity.autoLogonCount", "automatic logon without identity.adminPassword: it logs on with the image's Administrator password, which may fail")
	}
	switch id.LicenseMode {
	case "":
		if id.LicenseUsers != 0 {
			v.add("identity.licenseUsers", "needs identity.licenseMode perServer")
		}
	case "perServer", "perSeat":
		if v.family != Win2000 && v.family != Win2003 {
			// vCenter specs always carry licenseFilePrintData.
			v.warn("identity.licenseMode", "only Windows 2000 and 2003 servers have a licence mode: ignored on %v", v.family)
			break
		}
		if id.LicenseMode == "perServer" && id.LicenseUsers < 5 {
			v.add("identity.licenseUsers", "perServer needs 5 or more users, got %d", id.LicenseUsers)
		}
		if id.LicenseMode == "perSeat" && id.LicenseUsers != 0 {
			v.add("identity.licenseUsers", "only for perServer")
		}
	default:
		v.add("identity.licenseMode", "%q is not perServer or perSeat", id.LicenseMode)
	}
}

func (v *validator) membership(m *Membership) {
	v.ansi = true // the join script is ANSI on every family
	defer func() { v.ansi = false }()
	set := 0
	for _, s := range []string{m.Workgroup, m.Domain, m.OfflineJoinBlob} {
		if s != "" {
			set++
		}
	}
	if set > 1 {
		switch {
		case m.Workgroup != "" && m.Domain != "":
			v.add("membership.workgroup", "conflicts with membership.domain: a machine joins a workgroup or a domain")
		default:
			v.add("membership.offlineJoinBlob", "conflicts with membership.domain and membership.workgroup: the blob names the domain")
		}
	}
	if m.Workgroup != "" {
		v.netbiosWorkgroup("membership.workgroup", m.Workgroup)
	}
	if m.Domain != "" {
		v.dnsName("membership.domain", m.Domain)
		if m.DomainUser == "" {
			v.add("membership.domainUser", "missing: joining %q needs an account", m.Domain)
		}
		if m.DomainPassword == nil || (m.DomainPassword.Plain == "" && m.DomainPassword.Encoded == "") {
			v.add("membership.domainPassword", "missing: joining %q needs the account's password", m.Domain)
		} else if m.DomainPassword.Encoded != "" {
			v.add("membership.domainPassword", "must be plain: Windows takes the domain password only in plain text")
		}
	} else {
		if m.DomainUser != "" {
			v.add("membership.domainUser", "needs membership.domain")
		}
		if m.DomainPassword != nil {
			v.add("membership.domainPassword", "needs membership.domain")
		}
		if m.OU != "" {
			v.add("membership.ou", "needs membership.domain")
		}
	}
	v.text("membership.domainUser", m.DomainUser)
	if p := m.DomainPassword; p != nil && (p.Plain != "" || p.Encoded != "") {
		v.password("membership.domainPassword", p)
	}
	if m.OU != "" && v.text("membership.ou", m.OU) && !strings.Contains(m.OU, "=") {
		v.add("membership.ou", "%q is not a distinguished name such as OU=Web,DC=example,DC=com", m.OU)
	}
	if m.OfflineJoinBlob != "" {
		if v.family != Vista {
			v.add("membership.offlineJoinBlob", "offline domain join needs Windows 7 or Server 2008 R2 or later (family vista)")
		}
		if _, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(m.OfflineJoinBlob), "")); err != nil {
			v.add("membership.offlineJoinBlob", "not base64")
		}
	}
}

func (v *validator) netbiosWorkgroup(path, s string) {
	if !v.text(path, s) {
		return
	}
	if len(s) > 15 {
		v.add(path, "%q is %d characters long, more than 15", s, len(s))
	}
	if strings.ContainsAny(s, `\/:*?;,+=[]`) {
		v.add(path, "%q contains a character NetBIOS names do not allow", s)
	}
}

// parseMAC normalizes a MAC address to 12 upper-case hex digits.
func parseMAC(s string) (string, bool) {
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		return "", false
	}
	return strings.ToUpper(strings.ReplaceAll(hw.String(), ":", "")), true
}

func (v *validator) network(n *Network) {
	macs := map[string]int{}
	for i := range n.Adapters {
		a := &n.Adapters[i]
		p := fmt.Sprintf("network.adapters[%d]", i)
		if a.MAC == "" {
			v.add(p+".mac", "missing: adapters are matched by MAC address")
		} else if mac, ok := parseMAC(a.MAC); !ok {
			v.text(p+".mac", a.MAC)
			v.add(p+".mac", "%q is not a MAC address", a.MAC)
		} else if j, dup := macs[mac]; dup {
			v.add(p+".mac", "%s is also network.adapters[%d]'s", a.MAC, j)
		} else {
			macs[mac] = i
		}
		var prefix netip.Prefix
		static := a.Static()
		if static {
			pf, err := netip.ParsePrefix(a.IPv4)
			if err != nil || !pf.Addr().Is4() {
				v.text(p+".ipv4", a.IPv4)
				v.add(p+".ipv4", "%q is not \"dhcp\" or an IPv4 address with prefix length, such as 192.0.2.10/24", a.IPv4)
				static = false
			} else if pf.Bits() < 1 || pf.Bits() > 30 {
				v.add(p+".ipv4", "prefix length %d leaves no room for hosts and a gateway", pf.Bits())
			} else {
				prefix = pf
				if pf.Addr() == pf.Masked().Addr() || pf.Addr() == broadcast(pf) {
					v.add(p+".ipv4", "%s is the subnet's network or broadcast address", pf.Addr())
				}
			}
		}
		for j, g := range a.Gateways {
			gp := fmt.Sprintf("%s.gateways[%d]", p, j)
			addr, ok := v.ipv4(gp, g)
			switch {
			case !ok:
			case !a.Static():
				v.add(gp, "a gateway needs a static address in %s.ipv4", p)
			case prefix.IsValid() && !prefix.Masked().Contains(addr):
				v.add(gp, "%s is outside the adapter's subnet %s", addr, prefix.Masked())
			case prefix.IsValid() && addr == prefix.Addr():
				v.add(gp, "%s is the adapter's own address", addr)
			}
		}
		for j, d := range a.DNSServers {
			dp := fmt.Sprintf("%s.dnsServers[%d]", p, j)
			if addr, err := netip.ParseAddr(d); err == nil && addr.Is6() && v.family == Vista {
				continue
			}
			v.ipv4(dp, d)
		}
		if a.DNSDomain != "" {
			v.dnsName(p+".dnsDomain", a.DNSDomain)
		}
		if len(a.WINS) > 2 {
			v.add(p+".wins", "%d servers: Windows takes a primary and a secondary", len(a.WINS))
		}
		for j, w := range a.WINS {
			v.ipv4(fmt.Sprintf("%s.wins[%d]", p, j), w)
		}
		switch a.NetBIOS {
		case "", "dhcp", "enabled", "disabled":
		default:
			v.text(p+".netBIOS", a.NetBIOS)
			v.add(p+".netBIOS", "%q is not dhcp, enabled or disabled", a.NetBIOS)
		}
		if (len(a.IPv6) > 0 || len(a.IPv6Gateways) > 0) && v.family != Vista {
			// vCenter specs may carry IPv6 settings for any guest.
			v.warn(p+".ipv6", "IPv6 configuration needs Vista or later (family vista): ignored on %v", v.family)
		}
		for j, s := range a.IPv6 {
			jp := fmt.Sprintf("%s.ipv6[%d]", p, j)
			pf, err := netip.ParsePrefix(s)
			if err != nil || !pf.Addr().Is6() || pf.Addr().Is4In6() {
				v.text(jp, s)
				v.add(jp, "%q is not an IPv6 address with prefix length, such as 2001:db8::10/64", s)
			}
		}
		for j, s := range a.IPv6Gateways {
			jp := fmt.Sprintf("%s.ipv6Gateways[%d]", p, j)
			if addr, err := netip.ParseAddr(s); err != nil || !addr.Is6() || addr.Is4In6() {
				v.text(jp, s)
				v.add(jp, "%q is not an IPv6 address", s)
			}
		}
	}
	for i, s := range n.DNSSuffixes {
		v.dnsName(fmt.Sprintf("network.dnsSuffixes[%d]", i), s)
	}
}

// ipv4 parses a dotted IPv4 address, adding a problem if it is not one.
func (v *validator) ipv4(path, s string) (netip.Addr, bool) {
	addr, err := netip.ParseAddr(s)
	if err != nil || !addr.Is4() {
		if v.text(path, s) {
			v.add(path, "%s is not an IPv4 address", strconv.Quote(s))
		}
		return netip.Addr{}, false
	}
	return addr, true
}

func broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n |= host
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

func (v *validator) file(path string, f *File) {
	switch {
	case f.Path == "":
		v.add(path+".path", "missing: where in the image the file goes")
	case v.text(path+".path", f.Path):
		if _, err := imagePath(f.Path); err != nil {
			v.add(path+".path", "%v", err)
		}
	}
	switch {
	case f.Source != "" && f.Content != "":
		v.add(path, "give source or content, not both")
	case f.Source != "":
		v.noLineBreak(path+".source", f.Source)
	}
}

// imagePath normalizes a path in the Windows volume to backslashes with
// a leading one: `C:\x/y` → `\x\y`. It refuses relative paths and ".."
// components.
func imagePath(p string) (string, error) {
	p = strings.ReplaceAll(p, "/", `\`)
	if len(p) >= 2 && p[1] == ':' {
		p = p[2:]
	}
	if !strings.HasPrefix(p, `\`) {
		return "", fmt.Errorf("%q is not an absolute path in the volume", p)
	}
	for _, c := range strings.Split(p[1:], `\`) {
		if c == "" || c == "." || c == ".." {
			return "", fmt.Errorf("%q has an empty, . or .. component", p)
		}
	}
	return p, nil
}
