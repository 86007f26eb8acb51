package imagecustom

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/imagecustom/go-imagecustom/hive"
)

// netClass is the device setup class of network adapters.
const netClass = `{4D36E972-E325-11CE-BFC1-08002BE10318}`

// Adapter is a network adapter an install knows, read from the control
// set [Registry.Key] resolves CurrentControlSet to: its driver instance
// under Control\Class\{4D36E972-E325-11CE-BFC1-08002BE10318}\NNNN, the PnP
// device behind it under Enum, and its TCP/IP settings under
// Services\Tcpip\Parameters\Interfaces\{ID} and
// Services\NetBT\Parameters\Interfaces\Tcpip_{ID} (reference
// windows-offline.md §5; technet cc962469). The registry holds no MAC
// address for an adapter: Windows reads it from the hardware.
type Adapter struct {
	ID          string `json:"id"`           // NetCfgInstanceId: {GUID}
	Number      int    `json:"number"`       // the NNNN of its Class key
	Description string `json:"description"`  // DriverDesc
	ComponentID string `json:"component_id"` // pci\ven_8086&dev_100f, ms_l2tpminiport...
	Service     string `json:"service"`      // the driver's service (Ndi\Service, or the Enum entry's)
	Device      string `json:"device"`       // the PnP device instance, PCI\VEN_...\...; "" when none is recorded
	// Location is the device's LocationInformation, expanded: "PCI bus 2,
	// device 1, function 0".
	Location string `json:"location"`
	// TCPIP says Tcpip has an interface key for the adapter; the fields
	// below are its settings.
	TCPIP          bool     `json:"tcpip"`
	DHCP           bool     `json:"dhcp"`
	IPAddress      []string `json:"ip_address"`      // static addresses (IPAddress)
	SubnetMask     []string `json:"subnet_mask"`     // parallel to IPAddress
	DefaultGateway []string `json:"default_gateway"` // static gateways
	NameServer     []string `json:"name_server"`     // static DNS servers (NameServer)
	Domain         string   `json:"domain"`          // the connection's DNS suffix (Domain)
	DHCPAddress    string   `json:"dhcp_address"`    // the last lease's address (DhcpIPAddress)
	WINS           []string `json:"wins"`            // NetBT NameServerList
	// NetBIOS is NetBT's NetbiosOptions: "dhcp" (0, the default),
	// "enabled" (1) or "disabled" (2).
	NetBIOS string `json:"netbios"`
}

// Adapters lists the network adapters of the install: every instance of
// the network adapter class that has a NetCfgInstanceId, in the order of
// their Class keys.
func Adapters(reg *Registry) ([]Adapter, error) {
	const ccs = `HKLM\SYSTEM\CurrentControlSet\`
	class, err := reg.Key(ccs + `Control\Class\` + netClass)
	if err != nil {
		return nil, err
	}
	subs, err := class.Subkeys()
	if err != nil {
		return nil, err
	}
	devices := pciDrivers(reg)
	var out []Adapter
	for _, k := range subs {
		n, err := strconv.Atoi(k.Name())
		if err != nil || len(k.Name()) != 4 {
			continue // "Properties" and the like
		}
		a := Adapter{Number: n, ID: keyString(k, "NetCfgInstanceId")}
		if a.ID == "" {
			continue
		}
		a.Description = keyString(k, "DriverDesc")
		a.ComponentID = keyString(k, "ComponentId")
		if ndi, err := k.Subkey("Ndi"); err == nil {
			a.Service = keyString(ndi, "Service")
		}
		a.Device = keyString(k, "DeviceInstanceID")
		dev, ok := devices[strings.ToUpper(netClass+`\`+k.Name())]
		if ok {
			if a.Device == "" {
				a.Device = dev.path
			}
			a.Location = expandLocation(keyString(dev.key, "LocationInformation"))
			if a.Service == "" {
				a.Service = keyString(dev.key, "Service")
			}
		} else if a.Device != "" {
			if dk, err := reg.Key(ccs + `Enum\` + a.Device); err == nil {
				a.Location = expandLocation(keyString(dk, "LocationInformation"))
			}
		}
		if ik, err := reg.Key(ccs + `Services\Tcpip\Parameters\Interfaces\` + a.ID); err == nil {
			a.TCPIP = true
			a.DHCP = dword(ik, "EnableDHCP") != 0
			a.IPAddress = keyStrings(ik, "IPAddress")
			a.SubnetMask = keyStrings(ik, "SubnetMask")
			a.DefaultGateway = keyStrings(ik, "DefaultGateway")
			a.NameServer = splitServers(keyString(ik, "NameServer"))
			a.Domain = keyString(ik, "Domain")
			a.DHCPAddress = keyString(ik, "DhcpIPAddress")
			if a.DHCP {
				a.IPAddress, a.SubnetMask = nil, nil
			}
		}
		a.NetBIOS = "dhcp"
		if nk, err := reg.Key(ccs + `Services\NetBT\Parameters\Interfaces\Tcpip_` + a.ID); err == nil {
			a.WINS = keyStrings(nk, "NameServerList")
			switch dword(nk, "NetbiosOptions") {
			case 1:
				a.NetBIOS = "enabled"
			case 2:
				a.NetBIOS = "disabled"
			}
		}
		out = append(out, a)
	}
	return out, nil
}

type pciDevice struct {
	path string
	key  hive.Key
}

// pciDrivers maps the Driver value of every Enum\PCI device instance
// ({class}\NNNN, upper-cased) to that instance.
func pciDrivers(reg *Registry) map[string]pciDevice {
	m := map[string]pciDevice{}
	pci, err := reg.Key(`HKLM\SYSTEM\CurrentControlSet\Enum\PCI`)
	if err != nil {
		return m
	}
	devs, _ := pci.Subkeys()
	for _, d := range devs {
		insts, _ := d.Subkeys()
		for _, in := range insts {
			if drv := keyString(in, "Driver"); drv != "" {
				m[strings.ToUpper(drv)] = pciDevice{path: `PCI\` + d.Name() + `\` + in.Name(), key: in}
			}
		}
	}
	return m
}

// locationRef is Vista's indirect LocationInformation:
// "@System32\drivers\pci.sys,#65536;PCI bus %1, device %2, function %3;(11,0,0)".
var locationRef = regexp.MustCompile(`^@[^;]*;(.*);\(([^)]*)\)$`)

// expandLocation expands an indirect LocationInformation string.
func expandLocation(s string) string {
	m := locationRef.FindStringSubmatch(s)
	if m == nil {
		return s
	}
	text := m[1]
	args := strings.Split(m[2], ",")
	for i := len(args); i >= 1; i-- {
		text = strings.ReplaceAll(text, "%"+strconv.Itoa(i), strings.TrimSpace(args[i-1]))
	}
	return text
}

func keyString(k hive.Key, name string) string {
	v, err := k.Value(name)
	if err != nil {
		return ""
	}
	s, err := v.String()
	if err != nil {
		return ""
	}
	return s
}

func keyStrings(k hive.Key, name string) []string {
	v, err := k.Value(name)
	if err != nil {
		return nil
	}
	ss, err := v.Strings()
	if err != nil {
		if s, err := v.String(); err == nil && s != "" {
			return []string{s}
		}
		return nil
	}
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// splitServers splits a NameServer list: commas (what Windows writes) or
// spaces (what older tools wrote).
func splitServers(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
	if len(f) == 0 {
		return nil
	}
	return f
}

// AdapterConfig is the TCP/IP configuration [SetAdapter] writes.
type AdapterConfig struct {
	// DHCP takes the address, mask and gateway from DHCP; Addresses and
	// Gateways must then be empty.
	DHCP bool
	// Addresses are the static IPv4 addresses with their prefix lengths.
	Addresses []netip.Prefix
	// Gateways are the static default gateways (IPv4).
	Gateways []netip.Addr
	// DNS are the DNS servers (IPv4), in order; none leaves them to DHCP.
	DNS []netip.Addr
	// Domain, when not nil, is the connection's DNS suffix ("" clears it).
	Domain *string
	// WINS are the WINS servers (IPv4); none leaves them to DHCP.
	WINS []netip.Addr
	// NetBIOS, when set, is "dhcp", "enabled" or "disabled": NetBIOS over
	// TCP/IP on this adapter.
	NetBIOS string
}

// FindAdapter returns the adapter sel names: its NetCfgInstanceId (with
// or without braces, any case) or its Class key number ("1", "0001").
// An error matching [ErrInvalid] lists the adapters when none or several
// match.
func FindAdapter(adapters []Adapter, sel string) (Adapter, error) {
	s := strings.Trim(strings.TrimSpace(sel), "{}")
	var found []Adapter
	for _, a := range adapters {
		if strings.EqualFold(strings.Trim(a.ID, "{}"), s) {
			return a, nil
		}
		if n, err := strconv.Atoi(s); err == nil && n == a.Number {
			found = append(found, a)
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	var names []string
	for _, a := range adapters {
		names = append(names, fmt.Sprintf("%04d %s (%s)", a.Number, a.ID, a.Description))
	}
	what := "no adapter"
	if len(found) > 1 {
		what = "more than one adapter"
	}
	return Adapter{}, fmt.Errorf("%w: %s matches %q; the image has: %s", ErrInvalid, what, sel, strings.Join(names, "; "))
}

// SetAdapter writes cfg as the TCP/IP configuration of the adapter sel
// names (see [FindAdapter]), in memory (the caller saves and commits), in
// every control set that boots, where Windows keeps it (reference
// windows-offline.md §5; technet cc962469, "TCP/IP configuration
// parameters"; the layout of the static interfaces of the real Windows 7
// SYSTEM hive in testdata/real/hives):
//
//   - Services\Tcpip\Parameters\Interfaces\{ID}: EnableDHCP (DWORD);
//     IPAddress and SubnetMask (REG_MULTI_SZ, parallel), DefaultGateway
//     and DefaultGatewayMetric (REG_MULTI_SZ, "0" = automatic metric) for
//     a static address, or 0.0.0.0 / none for DHCP as Windows leaves them;
//     NameServer (REG_SZ, comma-separated); Domain (REG_SZ);
//   - on Windows 2000, XP and 2003 also Services\Tcpip\Parameters\Adapters\{ID}
//     (IpConfig, LLInterface, NumInterfaces), created when missing, which
//     binds the adapter to that interface key;
//   - Services\NetBT\Parameters\Interfaces\Tcpip_{ID}: NameServerList
//     (REG_MULTI_SZ, WINS) and NetbiosOptions (DWORD 0 DHCP, 1 on, 2 off).
//
// These settings belong to the adapter's NetCfgInstanceId. A NIC that
// Windows finds at a new PCI location, or of another model, is a new
// adapter with a new GUID and DHCP defaults; and generalizing the image
// (sysprep /generalize, or XP's -reseal) removes the device instances, so
// every NIC comes back new. For those, configure the network at first
// boot instead (a command matching the NIC at run time, netsh or
// New-NetIPAddress, through [AddFirstBoot]) or through sysprep's answer
// file.
func SetAdapter(reg *Registry, w *Windows, sel string, cfg AdapterConfig) ([]Edit, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	adapters, err := Adapters(reg)
	if err != nil {
		return nil, err
	}
	a, err := FindAdapter(adapters, sel)
	if err != nil {
		return nil, err
	}
	var e editor
	keys, paths, err := bootSets(reg, `Services\Tcpip\Parameters\Interfaces\`+a.ID, true)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		p := paths[i]
		var ip, mask, gw, metric []string
		dhcp := uint32(1)
		if cfg.DHCP {
			ip, mask = []string{"0.0.0.0"}, []string{"0.0.0.0"}
		} else {
			dhcp = 0
			for _, pr := range cfg.Addresses {
				ip = append(ip, pr.Addr().String())
				mask = append(mask, prefixMask(pr.Bits()))
			}
			for _, g := range cfg.Gateways {
				gw = append(gw, g.String())
				metric = append(metric, "0")
			}
		}
		if err := e.set(k, p, "EnableDHCP", hive.DWord, hive.EncodeUint32(dhcp)); err != nil {
			return nil, err
		}
		for _, v := range []struct {
			name string
			list []string
		}{{"IPAddress", ip}, {"SubnetMask", mask}, {"DefaultGateway", gw}, {"DefaultGatewayMetric", metric}} {
			if v.name == "DefaultGatewayMetric" && len(v.list) == 0 {
				if err := e.del(k, p, v.name); err != nil {
					return nil, err
				}
				continue
			}
			if err := e.set(k, p, v.name, hive.MultiString, hive.EncodeStrings(v.list)); err != nil {
				return nil, err
			}
		}
		var dns []string
		for _, d := range cfg.DNS {
			dns = append(dns, d.String())
		}
		if err := e.set(k, p, "NameServer", hive.String, hive.EncodeString(strings.Join(dns, ","))); err != nil {
			return nil, err
		}
		if cfg.Domain != nil {
			if err := e.set(k, p, "Domain", hive.String, hive.EncodeString(*cfg.Domain)); err != nil {
				return nil, err
			}
		}
	}
	if w != nil && w.Major == 5 {
		keys, paths, err := bootSets(reg, `Services\Tcpip\Parameters\Adapters\`+a.ID, true)
		if err != nil {
			return nil, err
		}
		for i, k := range keys {
			if _, err := k.Value("IpConfig"); err == nil {
				continue
			}
			if err := e.set(k, paths[i], "IpConfig", hive.MultiString, hive.EncodeStrings([]string{`Tcpip\Parameters\Interfaces\` + a.ID})); err != nil {
				return nil, err
			}
			if err := e.set(k, paths[i], "LLInterface", hive.String, hive.EncodeString("")); err != nil {
				return nil, err
			}
			if err := e.set(k, paths[i], "NumInterfaces", hive.DWord, hive.EncodeUint32(1)); err != nil {
				return nil, err
			}
		}
	}
	keys, paths, err = bootSets(reg, `Services\NetBT\Parameters\Interfaces\Tcpip_`+a.ID, true)
	if err != nil {
		return nil, err
	}
	for i, k := range keys {
		var wins []string
		for _, s := range cfg.WINS {
			wins = append(wins, s.String())
		}
		if err := e.set(k, paths[i], "NameServerList", hive.MultiString, hive.EncodeStrings(wins)); err != nil {
			return nil, err
		}
		if cfg.NetBIOS != "" {
			opt := map[string]uint32{"dhcp": 0, "enabled": 1, "disabled": 2}[cfg.NetBIOS]
			if err := e.set(k, paths[i], "NetbiosOptions", hive.DWord, hive.EncodeUint32(opt)); err != nil {
				return nil, err
			}
		} else if _, err := k.Value("NetbiosOptions"); errors.Is(err, hive.ErrNotFound) {
			if err := e.set(k, paths[i], "NetbiosOptions", hive.DWord, hive.EncodeUint32(0)); err != nil {
				return nil, err
			}
		}
	}
	return e.edits, nil
}

// check validates a configuration.
func (c *AdapterConfig) check() error {
	if c.DHCP && (len(c.Addresses) > 0 || len(c.Gateways) > 0) {
		return fmt.Errorf("%w: a DHCP adapter takes no static address or gateway", ErrInvalid)
	}
	if !c.DHCP && len(c.Addresses) == 0 {
		return fmt.Errorf("%w: a static adapter needs an address (or DHCP)", ErrInvalid)
	}
	for _, p := range c.Addresses {
		if !p.IsValid() || !p.Addr().Is4() || p.Bits() < 1 || p.Bits() > 32 {
			return fmt.Errorf("%w: address %v: an IPv4 address with a prefix length of 1 to 32", ErrInvalid, p)
		}
		if a := p.Addr(); a.IsUnspecified() || a.IsMulticast() || a.IsLoopback() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
			return fmt.Errorf("%w: address %v cannot be an interface's", ErrInvalid, p)
		}
	}
	for _, list := range []struct {
		what string
		as   []netip.Addr
	}{{"gateway", c.Gateways}, {"DNS server", c.DNS}, {"WINS server", c.WINS}} {
		for _, a := range list.as {
			if !a.IsValid() || !a.Is4() || a.IsUnspecified() {
				return fmt.Errorf("%w: %s %v: an IPv4 address", ErrInvalid, list.what, a)
			}
		}
	}
	for _, g := range c.Gateways {
		on := false
		for _, p := range c.Addresses {
			on = on || p.Masked().Contains(g)
		}
		if !on {
			return fmt.Errorf("%w: gateway %v is on none of the adapter's subnets", ErrInvalid, g)
		}
	}
	if c.Domain != nil && strings.ContainsAny(*c.Domain, " ,;") {
		return fmt.Errorf("%w: DNS suffix %q", ErrInvalid, *c.Domain)
	}
	switch c.NetBIOS {
	case "", "dhcp", "enabled", "disabled":
	default:
		return fmt.Errorf("%w: NetBIOS mode %q: dhcp, enabled or disabled", ErrInvalid, c.NetBIOS)
	}
	return nil
}

// prefixMask returns the dotted mask of a prefix length.
func prefixMask(bits int) string {
	m := ^uint32(0) << (32 - bits)
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}).String()
}
