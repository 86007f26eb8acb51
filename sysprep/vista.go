package sysprep

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Target paths of the Vista-and-later artifacts, relative to the volume
// root, for the default system root `\Windows`.
const (
	UnattendPath      = `\Windows\Panther\unattend.xml`
	SetupCompletePath = `\Windows\Setup\Scripts\SetupComplete.cmd`
)

// EncodePassword returns a password as unattend.xml stores it with
// PlainText false: the base64 of the UTF-16LE text of the password
// followed by the element's name, "AdministratorPassword" for
// UserAccounts/AdministratorPassword and "Password" for AutoLogon and
// local accounts. It hides the password from a glance, nothing more.
func EncodePassword(password, element string) string {
	u := utf16.Encode([]rune(password + element))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		b[2*i], b[2*i+1] = byte(c), byte(c>>8)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// passes in the order Setup runs them.
var passOrder = []string{"windowsPE", "offlineServicing", "generalize", "specialize", "auditSystem", "auditUser", "oobeSystem"}

// vista renders Vista and later: unattend.xml (specialize and oobeSystem
// passes), SetupComplete.cmd, joindom.vbs when the join must wait for the
// network, and final.cmd.
func (r *rendering) vista() error {
	spec := r.spec
	id, m := &spec.Identity, &spec.Membership
	root := r.opts.SystemRoot
	dir := r.scriptDir()
	unattendPath := root + `\Panther\unattend.xml`
	setupComplete := root + `\Setup\Scripts\SetupComplete.cmd`
	deferred := r.deferJoin()
	arch := r.opts.Arch.String()

	component := func(name string, children ...*xelem) *xelem {
		c := el("component", children...)
		c.attr("name", name).attr("processorArchitecture", arch).attr("publicKeyToken", "31bf3856ad364e35").
			attr("language", "neutral").attr("versionScope", "nonSxS").
			attr("xmlns:wcm", "http://schemas.microsoft.com/WMIConfig/2002/State").
			attr("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
		return c
	}
	passes := map[string][]*xelem{}

	// specialize: identity.
	shell := component("Microsoft-Windows-Shell-Setup", txt("ComputerName", r.res.ComputerName))
	if id.ProductKey != "" {
		shell.add(txt("ProductKey", id.ProductKey))
	}
	if id.TimeZone != "" {
		z, _ := knownZone(id.TimeZone)
		shell.add(txt("TimeZone", z))
	}
	if id.OrgName != "" {
		shell.add(txt("RegisteredOrganization", id.OrgName))
	}
	if id.FullName != "" {
		shell.add(txt("RegisteredOwner", id.FullName))
	}
	r.step(StepIdentity, PhaseSpecialize, unattendPath, "computer name %s", r.res.ComputerName)

	// specialize: network.
	var tcpip, dns, netbt []*xelem
	for i := range spec.Network.Adapters {
		a := &spec.Network.Adapters[i]
		mac := macDashes(a.MAC)
		if a.Static() || len(a.IPv6) > 0 {
			iface := item("Interface", "")
			v4 := el("Ipv4Settings", txt("DhcpEnabled", strconv.FormatBool(!a.Static())))
			iface.add(v4)
			if len(a.IPv6) > 0 {
				iface.add(el("Ipv6Settings", txt("DhcpEnabled", "false")))
			}
			iface.add(txt("Identifier", mac))
			addrs := el("UnicastIpAddresses")
			n := 0
			if a.Static() {
				n++
				addrs.add(item("IpAddress", strconv.Itoa(n)).setText(a.IPv4))
			}
			for _, s := range a.IPv6 {
				n++
				addrs.add(item("IpAddress", strconv.Itoa(n)).setText(s))
			}
			iface.add(addrs)
			routes := el("Routes")
			n = 0
			for _, g := range a.Gateways {
				n++
				routes.add(item("Route", "", txt("Identifier", strconv.Itoa(n)), txt("Metric", "10"), txt("NextHopAddress", g), txt("Prefix", "0.0.0.0/0")))
			}
			for _, g := range a.IPv6Gateways {
				n++
				routes.add(item("Route", "", txt("Identifier", strconv.Itoa(n)), txt("Metric", "10"), txt("NextHopAddress", g), txt("Prefix", "::/0")))
			}
			if n > 0 {
				iface.add(routes)
			}
			tcpip = append(tcpip, iface)
		}
		// Element orders follow Microsoft's examples for each component.
		if len(a.DNSServers) > 0 || a.DNSDomain != "" {
			iface := item("Interface", "", txt("Identifier", mac))
			if a.DNSDomain != "" {
				iface.add(txt("DNSDomain", a.DNSDomain))
			}
			if len(a.DNSServers) > 0 {
				list := el("DNSServerSearchOrder")
				for j, s := range a.DNSServers {
					list.add(item("IpAddress", strconv.Itoa(j+1)).setText(s))
				}
				iface.add(list)
			}
			dns = append(dns, iface)
		}
		if len(a.WINS) > 0 || (a.NetBIOS != "" && a.NetBIOS != "dhcp") {
			iface := item("Interface", "")
			if len(a.WINS) > 0 {
				list := el("NameServerList")
				for j, s := range a.WINS {
					// NetBT's keys are "IpAddress1", "IpAddress2" in
					// Microsoft's example, not the bare numbers of
					// DNS-Client.
					list.add(item("IpAddress", "IpAddress"+strconv.Itoa(j+1)).setText(s))
				}
				iface.add(list)
			}
			if a.NetBIOS != "" {
				iface.add(txt("NetbiosOptions", map[string]string{"dhcp": "0", "enabled": "1", "disabled": "2"}[a.NetBIOS]))
			}
			iface.add(txt("Identifier", mac))
			netbt = append(netbt, iface)
		}
		r.step(StepNetwork, PhaseSpecialize, unattendPath, "%s", adapterDetail(a))
	}
	var specialize []*xelem
	if len(dns) > 0 || len(spec.Network.DNSSuffixes) > 0 {
		c := component("Microsoft-Windows-DNS-Client")
		if len(spec.Network.DNSSuffixes) > 0 {
			list := el("DNSSuffixSearchOrder")
			for j, s := range spec.Network.DNSSuffixes {
				list.add(item("DomainName", strconv.Itoa(j+1)).setText(s))
			}
			c.add(list)
		}
		if len(dns) > 0 {
			c.add(el("Interfaces", dns...))
		}
		specialize = append(specialize, c)
	}
	if len(netbt) > 0 {
		specialize = append(specialize, component("Microsoft-Windows-NetBT", el("Interfaces", netbt...)))
	}
	specialize = append(specialize, shell)
	if len(tcpip) > 0 {
		specialize = append(specialize, component("Microsoft-Windows-TCPIP", el("Interfaces", tcpip...)))
	}

	// specialize: membership.
	ident := el("Identification")
	switch {
	case m.OfflineJoinBlob != "":
		ident.add(el("Provisioning", txt("AccountData", strings.Join(strings.Fields(m.OfflineJoinBlob), ""))))
		r.step(StepJoinDomain, PhaseSpecialize, unattendPath, "offline domain join (djoin provisioning data): no domain controller contacted")
	case m.Domain != "" && !deferred:
		user, domain := splitUser(m.DomainUser, m.Domain)
		ident.add(el("Credentials", txt("Domain", domain), txt("Password", m.DomainPassword.Plain), txt("Username", user)),
			txt("JoinDomain", m.Domain))
		if m.OU != "" {
			ident.add(txt("MachineObjectOU", m.OU))
		}
		r.step(StepJoinDomain, PhaseSpecialize, unattendPath, "%s (no adapter needs configuring first)", m.Domain)
	default:
		wg := m.Workgroup
		if wg == "" {
			wg = "WORKGROUP"
		}
		ident.add(txt("JoinWorkgroup", wg))
		if m.Domain != "" {
			r.step(StepJoinWorkgroup, PhaseSpecialize, unattendPath, "%s, until the domain join after the network", wg)
		} else {
			r.step(StepJoinWorkgroup, PhaseSpecialize, unattendPath, "%s", wg)
		}
	}
	specialize = append(specialize, component("Microsoft-Windows-UnattendedJoin", ident))
	passes["specialize"] = specialize

	// oobeSystem: passwords, automatic logon, first-logon commands.
	oobe := component("Microsoft-Windows-Shell-Setup")
	if p := id.AdminPassword; p != nil && id.AutoLogonCount > 0 {
		oobe.add(el("AutoLogon", password(p, "Password"), txt("Enabled", "true"),
			txt("LogonCount", strconv.Itoa(id.AutoLogonCount)), txt("Username", "Administrator")))
	}
	if len(spec.RunOnce) > 0 {
		cmds := el("FirstLogonCommands")
		for i, c := range spec.RunOnce {
			cmds.add(item("SynchronousCommand", "", txt("CommandLine", c), txt("Description", fmt.Sprintf("runOnce[%d]", i)), txt("Order", strconv.Itoa(i+1))))
		}
		oobe.add(cmds)
	}
	oobe.add(el("OOBE", txt("HideEULAPage", "true"), txt("ProtectYourPC", "3")))
	if p := id.AdminPassword; p != nil {
		oobe.add(el("UserAccounts", el("AdministratorPassword", password(p, "AdministratorPassword").children...)))
		r.step(StepAdminPassword, PhaseOOBE, unattendPath, "automatic logons: %d", id.AutoLogonCount)
	}
	passes["oobeSystem"] = []*xelem{oobe}

	u := el("unattend").attr("xmlns", "urn:schemas-microsoft-com:unattend")
	for _, p := range passOrder {
		if cs := passes[p]; len(cs) > 0 {
			u.add(el("settings", cs...).attr("pass", p))
		}
	}
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n")
	b.WriteString("<!-- unattend.xml, written by imagecustom for " + r.opts.Family.String() + " " + arch + ". -->\r\n")
	u.write(&b, 0)
	r.addFile(unattendPath, []byte(b.String()))

	// SetupComplete.cmd: the deferred join, then the clean-up.
	var sc strings.Builder
	sc.WriteString("@echo off\r\n")
	sc.WriteString("rem SetupComplete.cmd, written by imagecustom. Windows runs it as SYSTEM after setup, before the logon screen.\r\n")
	if deferred {
		sc.WriteString("cscript.exe //nologo \"%SystemRoot%\\imagecustom\\joindom.vbs\"\r\n")
		data, err := ansi(joindomVBS(spec, r.opts.Family))
		if err != nil {
			return fmt.Errorf("sysprep: joindom.vbs: %w", err)
		}
		r.addFile(dir+`\joindom.vbs`, data)
		r.step(StepJoinDomain, PhaseSetupComplete, dir+`\joindom.vbs`, "%s by WMI JoinDomainOrWorkgroup, after waiting for every static address", m.Domain)
	}
	sc.WriteString("call \"%SystemRoot%\\imagecustom\\final.cmd\"\r\n")
	final, err := ansi(finalCmd([]string{`%SystemRoot%\Panther\unattend.xml`}, `%SystemRoot%\imagecustom`))
	if err != nil {
		return err
	}
	r.addFile(dir+`\final.cmd`, final)
	r.addFile(setupComplete, []byte(sc.String()))
	r.step(StepCleanup, PhaseSetupComplete, dir+`\final.cmd`, "removes unattend.xml and the scripts")
	for i, c := range spec.RunOnce {
		r.step(StepRunOnce, PhaseFirstLogon, unattendPath, "FirstLogonCommands %d: %s", i+1, c)
	}
	return nil
}

// decodePassword undoes [EncodePassword] for an encoded value whose
// element name suffix is element; ok is false if it is not one.
func decodePassword(encoded, element string) (string, bool) {
	b, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil || len(b)%2 != 0 {
		return "", false
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	s := string(utf16.Decode(u))
	plain, ok := strings.CutSuffix(s, element)
	return plain, ok
}

// password renders a Password element's Value and PlainText children.
// An already encoded administrator password is re-encoded for element.
func password(p *Password, element string) *xelem {
	if p.Encoded != "" {
		plain, _ := decodePassword(p.Encoded, "AdministratorPassword") // Validate checked it
		return el("Password", txt("Value", EncodePassword(plain, element)), txt("PlainText", "false"))
	}
	return el("Password", txt("Value", EncodePassword(p.Plain, element)), txt("PlainText", "false"))
}

// splitUser splits DOMAIN\user or user@domain; a bare user belongs to
// the domain joined.
func splitUser(user, domain string) (string, string) {
	if d, u, ok := strings.Cut(user, `\`); ok {
		return u, d
	}
	if u, d, ok := strings.Cut(user, "@"); ok {
		return u, d
	}
	return user, domain
}

// setText sets an element's text and returns it.
func (e *xelem) setText(s string) *xelem {
	e.text = s
	return e
}
