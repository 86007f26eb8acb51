package sysprep

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
)

// vnode is an element of a vCenter spec export: its name, the vSphere
// type its <_type> child names, its text, children and line.
type vnode struct {
	name     string
	typ      string
	text     string
	line     int
	children []*vnode
}

// child returns the child named name, or nil.
func (n *vnode) child(name string) *vnode {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// vcenter decodes a vCenter export into a Spec, collecting faults.
type vcenter struct {
	errs []*FieldError
}

func (d *vcenter) fail(n *vnode, path string, kind error, format string, args ...any) {
	d.errs = append(d.errs, &FieldError{Path: path, Line: n.line, Err: kind, Detail: fmt.Sprintf(format, args...)})
}

// DecodeVCenter decodes a vCenter customization spec exported as XML (the
// vSphere Client's Export, or the XML of
// CustomizationSpecManager.SpecItemToXml): a <ConfigRoot> holding a
// vim.CustomizationSpecItem whose identity is a Windows Sysprep or
// SysprepText, with its nicSettingMap and globalIPSettings. It is as
// strict as [DecodeYAML]: an element the vSphere type model does not
// have there, or a value of the wrong type, is a [*FieldError] with its
// path (vSphere's names) and line. Passwords vCenter encrypted with its
// own key (plainText false) cannot be read: they are an error matching
// [ErrUnsupported]. The time zone index becomes its Windows name.
func DecodeVCenter(data []byte) (*Spec, error) {
	if len(data) > maxSpecSize {
		return nil, &DecodeError{Format: "vcenter", Fields: []*FieldError{{Err: ErrSyntax, Detail: fmt.Sprintf("spec larger than %d bytes", maxSpecSize)}}}
	}
	root, err := parseVCenterXML(data)
	if err != nil {
		return nil, &DecodeError{Format: "vcenter", Fields: []*FieldError{err.(*FieldError)}}
	}
	d := &vcenter{}
	spec := d.configRoot(root)
	if len(d.errs) > 0 {
		return nil, &DecodeError{Format: "vcenter", Fields: d.errs}
	}
	return spec, nil
}

// parseVCenterXML reads the document into a vnode tree. Attributes other
// than an array entry's id are refused, and so are mixed text and
// elements.
func parseVCenterXML(data []byte) (*vnode, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	lines := newLineIndex(data)
	var stack []*vnode
	var root *vnode
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fe := &FieldError{Err: ErrSyntax, Detail: strings.TrimPrefix(err.Error(), "XML syntax error on ")}
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				fe.Line = se.Line
			}
			return nil, fe
		}
		line, _ := lines.position(off)
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) > maxDepth {
				return nil, &FieldError{Line: line, Err: ErrSyntax, Detail: "nested too deeply"}
			}
			for _, a := range t.Attr {
				if !(t.Name.Local == "e" && a.Name.Local == "id") {
					return nil, &FieldError{Line: line, Err: ErrUnknownField, Detail: fmt.Sprintf("attribute %s on <%s>", a.Name.Local, t.Name.Local)}
				}
			}
			n := &vnode{name: t.Name.Local, line: line}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else if root != nil {
				return nil, &FieldError{Line: line, Err: ErrSyntax, Detail: "more than one root element"}
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			// <_type> is the type of its parent, not a field.
			if n.name == "_type" && len(stack) > 0 {
				p := stack[len(stack)-1]
				p.typ = n.text
				p.children = p.children[:len(p.children)-1]
			}
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			}
		}
	}
	if root == nil {
		return nil, &FieldError{Err: ErrSyntax, Detail: "no root element"}
	}
	return root, nil
}

// fields checks that n has only the named children (and the array
// bookkeeping), reporting the others as unknown.
func (d *vcenter) fields(n *vnode, path string, known ...string) {
	for _, c := range n.children {
		if c.name == "_length" && strings.HasSuffix(n.typ, "[]") {
			continue
		}
		ok := false
		for _, k := range known {
			ok = ok || c.name == k
		}
		if !ok {
			d.fail(c, join(path, c.name), ErrUnknownField, "%s has no field %s", orType(n), c.name)
		}
	}
}

func orType(n *vnode) string {
	if n.typ != "" {
		return n.typ
	}
	return "<" + n.name + ">"
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// want checks n's vSphere type against the allowed ones.
func (d *vcenter) want(n *vnode, path string, types ...string) bool {
	for _, t := range types {
		if n.typ == t {
			return true
		}
	}
	d.fail(n, path, ErrType, "type %q, want %s", n.typ, strings.Join(types, " or "))
	return false
}

func (d *vcenter) str(n *vnode) string { return strings.TrimSpace(n.text) }

func (d *vcenter) boolean(n *vnode, path string) bool {
	b, err := strconv.ParseBool(d.str(n))
	if err != nil {
		d.fail(n, path, ErrType, "want true or false, got %q", d.str(n))
	}
	return b
}

func (d *vcenter) integer(n *vnode, path string) int {
	i, err := strconv.ParseInt(d.str(n), 10, 32)
	if err != nil {
		d.fail(n, path, ErrType, "want an integer, got %q", d.str(n))
	}
	return int(i)
}

// strings reads a string[] array: <e id="0">…</e>….
func (d *vcenter) strings(n *vnode, path string) []string {
	if !d.want(n, path, "string[]") {
		return nil
	}
	var out []string
	for i, e := range d.array(n, path) {
		out = append(out, d.str(e))
		if len(e.children) > 0 {
			d.fail(e, fmt.Sprintf("%s[%d]", path, i), ErrType, "want a string")
		}
	}
	return out
}

// array returns the <e> entries of an array node.
func (d *vcenter) array(n *vnode, path string) []*vnode {
	var out []*vnode
	for _, c := range n.children {
		switch c.name {
		case "e":
			out = append(out, c)
		case "_length":
		default:
			d.fail(c, join(path, c.name), ErrUnknownField, "an array holds only <e> entries")
		}
	}
	return out
}

// password reads a vim.vm.customization.Password.
func (d *vcenter) password(n *vnode, path string) *Password {
	if !d.want(n, path, "vim.vm.customization.Password") {
		return nil
	}
	d.fields(n, path, "value", "plainText")
	var value string
	plain := false
	if v := n.child("value"); v != nil {
		value = v.text
	}
	if p := n.child("plainText"); p != nil {
		plain = d.boolean(p, join(path, "plainText"))
	}
	if !plain && value != "" {
		d.errs = append(d.errs, &FieldError{Path: path, Line: n.line, Err: ErrUnsupported,
			Detail: "encrypted with the vCenter's key (plainText false): set the password in the spec"})
		return nil
	}
	if value == "" {
		return nil
	}
	return &Password{Plain: value}
}

func (d *vcenter) configRoot(root *vnode) *Spec {
	spec := &Spec{}
	if root.name != "ConfigRoot" {
		d.fail(root, "", ErrType, "root element <%s>, want <ConfigRoot>", root.name)
		return spec
	}
	if !d.want(root, "", "vim.CustomizationSpecItem") {
		return spec
	}
	d.fields(root, "", "info", "spec")
	if info := root.child("info"); info != nil {
		d.fields(info, "info", "changeVersion", "description", "lastUpdateTime", "name", "type")
		if t := info.child("type"); t != nil && d.str(t) != "Windows" {
			d.fail(t, "info.type", ErrUnsupported, "a %s spec, not Windows", d.str(t))
		}
	}
	s := root.child("spec")
	if s == nil {
		d.fail(root, "spec", ErrType, "missing")
		return spec
	}
	if !d.want(s, "spec", "vim.vm.customization.Specification") {
		return spec
	}
	d.fields(s, "spec", "encryptionKey", "globalIPSettings", "identity", "nicSettingMap", "options")
	if g := s.child("globalIPSettings"); g != nil && d.want(g, "spec.globalIPSettings", "vim.vm.customization.GlobalIPSettings") {
		d.fields(g, "spec.globalIPSettings", "dnsSuffixList", "dnsServerList")
		if l := g.child("dnsSuffixList"); l != nil {
			spec.Network.DNSSuffixes = d.strings(l, "spec.globalIPSettings.dnsSuffixList")
		}
		// dnsServerList applies to Linux guests only.
	}
	if id := s.child("identity"); id != nil {
		switch id.typ {
		case "vim.vm.customization.Sysprep":
			d.sysprep(id, "spec.identity", spec)
		case "vim.vm.customization.SysprepText":
			d.fields(id, "spec.identity", "value")
			if v := id.child("value"); v != nil {
				d.sysprepText(v, "spec.identity.value", spec)
			}
		default:
			d.fail(id, "spec.identity", ErrUnsupported, "identity %q: only Windows Sysprep and SysprepText are imported", id.typ)
		}
	} else {
		d.fail(s, "spec.identity", ErrType, "missing")
	}
	if m := s.child("nicSettingMap"); m != nil && d.want(m, "spec.nicSettingMap", "vim.vm.customization.AdapterMapping[]") {
		for i, e := range d.array(m, "spec.nicSettingMap") {
			p := fmt.Sprintf("spec.nicSettingMap[%d]", i)
			if d.want(e, p, "vim.vm.customization.AdapterMapping") {
				spec.Network.Adapters = append(spec.Network.Adapters, d.adapter(e, p))
			}
		}
	}
	return spec
}

func (d *vcenter) sysprep(id *vnode, path string, spec *Spec) {
	d.fields(id, path, "guiUnattended", "userData", "guiRunOnce", "identification", "licenseFilePrintData")
	if g := id.child("guiUnattended"); g != nil && d.want(g, path+".guiUnattended", "vim.vm.customization.GuiUnattended") {
		p := path + ".guiUnattended"
		d.fields(g, p, "password", "timeZone", "autoLogon", "autoLogonCount")
		if pw := g.child("password"); pw != nil {
			spec.Identity.AdminPassword = d.password(pw, p+".password")
		}
		if tz := g.child("timeZone"); tz != nil {
			d.timeZone(tz, p+".timeZone", d.integer(tz, p+".timeZone"), spec)
		}
		auto := false
		if a := g.child("autoLogon"); a != nil {
			auto = d.boolean(a, p+".autoLogon")
		}
		if c := g.child("autoLogonCount"); c != nil && auto {
			spec.Identity.AutoLogonCount = d.integer(c, p+".autoLogonCount")
		}
	}
	if u := id.child("userData"); u != nil && d.want(u, path+".userData", "vim.vm.customization.UserData") {
		p := path + ".userData"
		d.fields(u, p, "fullName", "orgName", "computerName", "productId")
		if v := u.child("fullName"); v != nil {
			spec.Identity.FullName = d.str(v)
		}
		if v := u.child("orgName"); v != nil {
			spec.Identity.OrgName = d.str(v)
		}
		if v := u.child("productId"); v != nil {
			spec.Identity.ProductKey = d.str(v)
		}
		if c := u.child("computerName"); c != nil {
			cp := p + ".computerName"
			switch c.typ {
			case "vim.vm.customization.FixedName":
				d.fields(c, cp, "name")
				if n := c.child("name"); n != nil {
					spec.Identity.ComputerName = d.str(n)
				}
			case "vim.vm.customization.PrefixNameGenerator":
				d.fields(c, cp, "base")
				if n := c.child("base"); n != nil {
					spec.Identity.ComputerNamePrefix = d.str(n)
				}
			case "vim.vm.customization.VirtualMachineNameGenerator", "vim.vm.customization.UnknownNameGenerator":
				// The VM's name, or one asked for at clone time: leave it
				// to the caller (Windows picks one if none is set).
				d.fields(c, cp)
			default:
				d.fail(c, cp, ErrUnsupported, "name generator %q", c.typ)
			}
		}
	}
	if r := id.child("guiRunOnce"); r != nil && d.want(r, path+".guiRunOnce", "vim.vm.customization.GuiRunOnce") {
		d.fields(r, path+".guiRunOnce", "commandList")
		if l := r.child("commandList"); l != nil {
			spec.RunOnce = d.strings(l, path+".guiRunOnce.commandList")
		}
	}
	if m := id.child("identification"); m != nil && d.want(m, path+".identification", "vim.vm.customization.Identification") {
		p := path + ".identification"
		d.fields(m, p, "joinWorkgroup", "joinDomain", "domainAdmin", "domainAdminPassword", "domainOU")
		get := func(name string) string {
			if v := m.child(name); v != nil {
				return d.str(v)
			}
			return ""
		}
		spec.Membership.Workgroup = get("joinWorkgroup")
		spec.Membership.Domain = get("joinDomain")
		spec.Membership.DomainUser = get("domainAdmin")
		spec.Membership.OU = get("domainOU")
		if pw := m.child("domainAdminPassword"); pw != nil {
			spec.Membership.DomainPassword = d.password(pw, p+".domainAdminPassword")
		}
	}
	if l := id.child("licenseFilePrintData"); l != nil && d.want(l, path+".licenseFilePrintData", "vim.vm.customization.LicenseFilePrintData") {
		p := path + ".licenseFilePrintData"
		d.fields(l, p, "autoMode", "autoUsers")
		if m := l.child("autoMode"); m != nil {
			spec.Identity.LicenseMode = d.str(m)
		}
		if u := l.child("autoUsers"); u != nil && spec.Identity.LicenseMode == "perServer" {
			spec.Identity.LicenseUsers = d.integer(u, p+".autoUsers")
		}
	}
}

// timeZone turns a sysprep.inf index into the Windows zone name.
func (d *vcenter) timeZone(n *vnode, path string, index int, spec *Spec) {
	for name, i := range timeZones {
		if i == index && i >= 0 {
			spec.Identity.TimeZone = name
			return
		}
	}
	d.fail(n, path, ErrUnsupported, "unknown time zone index %d", index)
}

var netBIOSModes = map[string]string{"enableNetBIOSViaDhcp": "dhcp", "enableNetBIOS": "enabled", "disableNetBIOS": "disabled"}

func (d *vcenter) adapter(e *vnode, path string) Adapter {
	var a Adapter
	d.fields(e, path, "adapter", "macAddress")
	if m := e.child("macAddress"); m != nil {
		a.MAC = d.str(m)
	}
	s := e.child("adapter")
	if s == nil || !d.want(s, path+".adapter", "vim.vm.customization.IPSettings") {
		return a
	}
	p := path + ".adapter"
	d.fields(s, p, "ip", "subnetMask", "gateway", "ipV6Spec", "dnsServerList", "dnsDomain", "primaryWINS", "secondaryWINS", "netBIOS")
	var mask string
	if m := s.child("subnetMask"); m != nil {
		mask = d.str(m)
	}
	if ip := s.child("ip"); ip != nil {
		switch ip.typ {
		case "vim.vm.customization.DhcpIpGenerator":
			d.fields(ip, p+".ip")
			a.IPv4 = "dhcp"
		case "vim.vm.customization.FixedIp":
			d.fields(ip, p+".ip", "ipAddress")
			addr := ""
			if v := ip.child("ipAddress"); v != nil {
				addr = d.str(v)
			}
			bits, ok := maskBits(mask)
			if !ok {
				d.fail(ip, p+".subnetMask", ErrType, "%q is not a subnet mask", mask)
			}
			a.IPv4 = fmt.Sprintf("%s/%d", addr, bits)
		default:
			d.fail(ip, p+".ip", ErrUnsupported, "IP generator %q (the address is chosen at clone time)", ip.typ)
		}
	}
	if g := s.child("gateway"); g != nil {
		a.Gateways = d.strings(g, p+".gateway")
	}
	if l := s.child("dnsServerList"); l != nil {
		a.DNSServers = d.strings(l, p+".dnsServerList")
	}
	if v := s.child("dnsDomain"); v != nil {
		a.DNSDomain = d.str(v)
	}
	for _, w := range []string{"primaryWINS", "secondaryWINS"} {
		if v := s.child(w); v != nil && d.str(v) != "" {
			a.WINS = append(a.WINS, d.str(v))
		}
	}
	if v := s.child("netBIOS"); v != nil {
		mode, ok := netBIOSModes[d.str(v)]
		if !ok {
			d.fail(v, p+".netBIOS", ErrType, "%q is not enableNetBIOSViaDhcp, enableNetBIOS or disableNetBIOS", d.str(v))
		}
		a.NetBIOS = mode
	}
	if v6 := s.child("ipV6Spec"); v6 != nil && d.want(v6, p+".ipV6Spec", "vim.vm.customization.IPSettings.IpV6AddressSpec") {
		vp := p + ".ipV6Spec"
		d.fields(v6, vp, "ip", "gateway")
		if l := v6.child("ip"); l != nil && d.want(l, vp+".ip", "vim.vm.customization.IpV6Generator[]") {
			for i, g := range d.array(l, vp+".ip") {
				gp := fmt.Sprintf("%s.ip[%d]", vp, i)
				if !d.want(g, gp, "vim.vm.customization.FixedIpV6") {
					continue
				}
				d.fields(g, gp, "ipAddress", "subnetMask")
				var addr string
				bits := 64
				if v := g.child("ipAddress"); v != nil {
					addr = d.str(v)
				}
				if v := g.child("subnetMask"); v != nil {
					bits = d.integer(v, gp+".subnetMask")
				}
				a.IPv6 = append(a.IPv6, fmt.Sprintf("%s/%d", addr, bits))
			}
		}
		if g := v6.child("gateway"); g != nil {
			a.IPv6Gateways = d.strings(g, vp+".gateway")
		}
	}
	return a
}

// maskBits returns the prefix length of a dotted subnet mask.
func maskBits(mask string) (int, bool) {
	addr, err := netip.ParseAddr(mask)
	if err != nil || !addr.Is4() {
		return 0, false
	}
	b := addr.As4()
	m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	bits := 0
	for m&0x80000000 != 0 {
		bits++
		m <<= 1
	}
	return bits, m == 0
}

// sysprepText reads the sysprep.inf text of a SysprepText identity into
// the spec: the sections and keys this package writes. Any other key is
// an error naming its section and line, so nothing is dropped silently.
func (d *vcenter) sysprepText(n *vnode, path string, spec *Spec) {
	section := ""
	for i, raw := range strings.Split(strings.ReplaceAll(n.text, "\r\n", "\n"), "\n") {
		line := strings.TrimSpace(raw)
		at := &vnode{line: n.line + i}
		if line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.ToLower(line[1 : len(line)-1])
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			d.fail(at, path, ErrSyntax, "line %q is not key=value", line)
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if len(v) >= 2 && strings.HasPrefix(v, `"`) && strings.HasSuffix(v, `"`) {
			v = strings.ReplaceAll(v[1:len(v)-1], `""`, `"`)
		}
		key := section + "." + strings.ToLower(k)
		id, m := &spec.Identity, &spec.Membership
		switch {
		case key == "unattended.oemskipeula", key == "unattended.installfilespath", key == "guiunattended.oemskipwelcome",
			key == "guiunattended.oemskipregional", key == "networking.installdefaultcomponents", key == "guiunattended.autologon":
			// Always written by the renderers.
		case key == "guiunattended.adminpassword":
			if v != "*" && v != "" {
				id.AdminPassword = &Password{Plain: v}
			}
		case key == "guiunattended.autologoncount":
			c, err := strconv.Atoi(v)
			if err != nil {
				d.fail(at, path, ErrType, "AutoLogonCount=%q is not a number", v)
			}
			id.AutoLogonCount = c
		case key == "guiunattended.timezone":
			idx, err := strconv.Atoi(v)
			if err != nil {
				d.fail(at, path, ErrType, "TimeZone=%q is not an index", v)
				continue
			}
			d.timeZone(at, path, idx, spec)
		case key == "userdata.fullname":
			id.FullName = v
		case key == "userdata.orgname":
			id.OrgName = v
		case key == "userdata.computername":
			if v != "*" {
				id.ComputerName = v
			}
		case key == "userdata.productkey", key == "userdata.productid":
			id.ProductKey = v
		case key == "identification.joinworkgroup":
			m.Workgroup = v
		case key == "identification.joindomain":
			m.Domain = v
		case key == "identification.domainadmin":
			m.DomainUser = v
		case key == "identification.domainadminpassword":
			m.DomainPassword = &Password{Plain: v}
		case key == "identification.machineobjectou":
			m.OU = v
		case section == "guirunonce" && strings.HasPrefix(strings.ToLower(k), "command"):
			spec.RunOnce = append(spec.RunOnce, v)
		case key == "licensefileprintdata.automode":
			id.LicenseMode = map[string]string{"perserver": "perServer", "perseat": "perSeat"}[strings.ToLower(v)]
			if id.LicenseMode == "" {
				d.fail(at, path, ErrType, "AutoMode=%q", v)
			}
		case key == "licensefileprintdata.autousers":
			u, err := strconv.Atoi(v)
			if err != nil {
				d.fail(at, path, ErrType, "AutoUsers=%q is not a number", v)
			}
			id.LicenseUsers = u
		default:
			d.fail(at, path, ErrUnknownField, "sysprep.inf key %s in [%s] is not imported", k, section)
		}
	}
}
