package imagecustom

import (
	"crypto/rand"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/imagecustom/go-imagecustom/sysprep"
)

// planDirect plans a spec's direct mode (spec.Direct): no setup cycle and
// no answer file; the identity, network and Administrator password are
// written straight into the registry as [SetHostname], [SetTimeZone],
// [SetAdapter] and the SAM package write them, on a COMPLETE image of any
// family, and go through the same plan, probe, journal and verification
// as the sysprep mode. The edits are computed on the hives in memory and
// become the plan's registry values; the image is only read here.
//
// What an offline edit cannot do is refused with [ErrUnsupported] rather
// than dropped: a domain join (it needs the network and a domain
// controller at boot), a product key, an encoded password, and network
// adapters that cannot be matched without a MAC address (the registry
// holds none): one spec adapter goes to the image's one PCI network
// adapter, anything else is refused. The spec's Files, RegFiles and
// BootHook are applied as in the sysprep mode; RunOnce, AutoLogonCount
// and IPv6 settings are not, with a warning.
func planDirect(img *Image, v *ntfs.Volume, w *Windows, spec *sysprep.Spec, opts *CustomizeOptions) (*Plan, error) {
	p := &Plan{Format: img.Format(), Windows: *w, Family: w.Family, Arch: w.Arch, Files: []PlanFile{}, Removed: []string{},
		Registry: []PlanValue{}, RegFiles: []string{}, Steps: []PlanStep{}, Warnings: []string{}}
	p.secrets = specSecrets(spec)
	id, mem := spec.Identity, spec.Membership
	switch {
	case mem.Domain != "" || mem.OfflineJoinBlob != "":
		return nil, fmt.Errorf("%w: direct mode: a domain join needs the network and a domain controller at boot: use the sysprep mode", ErrUnsupported)
	case id.ProductKey != "":
		return nil, fmt.Errorf("%w: direct mode sets no product key", ErrUnsupported)
	case id.AdminPassword != nil && id.AdminPassword.Plain == "" && id.AdminPassword.Encoded != "":
		return nil, fmt.Errorf("%w: direct mode needs the Administrator password in plain text (it computes the NT hash)", ErrUnsupported)
	}
	root := strings.TrimPrefix(w.SystemRoot, `\`)
	reg, err := OpenRegistry(v, root)
	if err != nil {
		return nil, err
	}
	setup, err := reg.Key(`HKLM\SYSTEM\Setup`)
	if err := setupIdle(reg, setup, err == nil); err != nil {
		return nil, fmt.Errorf("direct mode: %w", err)
	}
	var edits []Edit
	add := func(es []Edit, err error, kind, detail string) error {
		if err != nil {
			return err
		}
		edits = append(edits, es...)
		p.Steps = append(p.Steps, PlanStep{Kind: kind, Phase: "offline", Detail: detail})
		return nil
	}
	name := id.ComputerName
	if name == "" && id.ComputerNamePrefix != "" {
		if name, err = randomName(id.ComputerNamePrefix, opts.Rand); err != nil {
			return nil, err
		}
	}
	p.ComputerName = name
	if name != "" {
		es, err := SetHostname(reg, w, name)
		if err := add(es, err, "identity", "computer name "+name); err != nil {
			return nil, err
		}
	}
	if id.TimeZone != "" {
		es, err := SetTimeZone(reg, w, id.TimeZone, nil)
		if err := add(es, err, "identity", "time zone "+id.TimeZone); err != nil {
			return nil, err
		}
	}
	for _, s := range []struct{ value, data string }{{"RegisteredOwner", id.FullName}, {"RegisteredOrganization", id.OrgName}} {
		if s.data == "" {
			continue
		}
		const cv = `HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion`
		k, err := reg.Key(cv)
		if err != nil {
			return nil, err
		}
		var e editor
		err = e.set(k, cv, s.value, hive.String, hive.EncodeString(s.data))
		if err := add(e.edits, err, "identity", s.value); err != nil {
			return nil, err
		}
	}
	if err := planDirectNetwork(p, reg, w, spec.Network, add); err != nil {
		return nil, err
	}
	if id.AdminPassword != nil {
		es, err := directPassword(reg, id.AdminPassword.Plain)
		if err := add(es, err, "admin-password", "Administrator's NT hash (no LM hash)"); err != nil {
			return nil, err
		}
	}
	if id.AutoLogonCount > 0 {
		p.warn("direct mode: autoLogonCount is not applied")
	}
	if len(spec.RunOnce) > 0 {
		p.warn("direct mode: runOnce commands are not applied (use firstboot add)")
	}
	for _, e := range edits {
		if e.deleted {
			p.warn("direct mode: %s\\%s is left as it is (the plan sets values, it deletes none)", e.Key, e.Value)
			continue
		}
		var data any = e.New
		switch {
		case e.secret:
			data = "(password hash, not shown)"
		case e.typ == hive.DWord:
			data = uint32(e.raw[0]) | uint32(e.raw[1])<<8 | uint32(e.raw[2])<<16 | uint32(e.raw[3])<<24
		case e.typ == hive.MultiString:
			data = decodeMulti(e.raw)
		}
		p.Registry = append(p.Registry, PlanValue{Key: e.Key, Name: e.Value, Type: e.Type, Data: data, typ: e.typ, raw: e.raw})
	}
	local := func(n string) string {
		if n == "" || filepath.IsAbs(n) {
			return n
		}
		return filepath.Join(opts.SpecDir, n)
	}
	for _, f := range spec.Files {
		ip, err := cleanImagePath(f.Path)
		if err != nil {
			return nil, err
		}
		pf := PlanFile{Path: ip, Origin: "spec", data: []byte(f.Content)}
		if f.Source != "" {
			pf.Source = local(f.Source)
			if pf.data, err = os.ReadFile(pf.Source); err != nil {
				return nil, fmt.Errorf("imagecustom: spec file for %s: %w", f.Path, err)
			}
		}
		p.Files = append(p.Files, pf)
	}
	for _, rf := range spec.RegFiles {
		p.RegFiles = append(p.RegFiles, local(rf))
	}
	if h := spec.BootHook; h != nil {
		if err := p.planHook(v, w, h, local); err != nil {
			return nil, err
		}
	}
	for i := range p.Files {
		f := &p.Files[i]
		f.Size = int64(len(f.data))
		if f.Secret = p.holdsSecret(f.data); !f.Secret {
			f.SHA256 = sha(f.data)
		}
	}
	return p, nil
}

// planDirectNetwork applies the spec's adapters and DNS suffixes.
func planDirectNetwork(p *Plan, reg *Registry, w *Windows, n sysprep.Network, add func([]Edit, error, string, string) error) error {
	if len(n.Adapters) > 0 {
		as, err := Adapters(reg)
		if err != nil {
			return err
		}
		var pci []Adapter
		for _, a := range as {
			if strings.HasPrefix(strings.ToUpper(a.Device), `PCI\`) && a.TCPIP {
				pci = append(pci, a)
			}
		}
		if len(n.Adapters) != 1 || len(pci) != 1 {
			return fmt.Errorf("%w: direct mode: %d spec adapters for %d PCI network adapters in the image: the registry holds no MAC address to match them by; use the sysprep mode, or net set by GUID",
				ErrUnsupported, len(n.Adapters), len(pci))
		}
		sa := n.Adapters[0]
		cfg := AdapterConfig{DHCP: !sa.Static(), NetBIOS: sa.NetBIOS}
		if sa.Static() {
			pr, err := netip.ParsePrefix(sa.IPv4)
			if err != nil {
				return fmt.Errorf("%w: adapter %s: ipv4 %q", ErrInvalid, sa.MAC, sa.IPv4)
			}
			cfg.Addresses = []netip.Prefix{pr}
		}
		for _, l := range []struct {
			in  []string
			out *[]netip.Addr
		}{{sa.Gateways, &cfg.Gateways}, {sa.DNSServers, &cfg.DNS}, {sa.WINS, &cfg.WINS}} {
			for _, s := range l.in {
				a, err := netip.ParseAddr(s)
				if err != nil {
					return fmt.Errorf("%w: adapter %s: address %q", ErrInvalid, sa.MAC, s)
				}
				*l.out = append(*l.out, a)
			}
		}
		if sa.DNSDomain != "" {
			cfg.Domain = &sa.DNSDomain
		}
		if len(sa.IPv6) > 0 || len(sa.IPv6Gateways) > 0 {
			p.warn("direct mode: the IPv6 settings of adapter %s are not applied", sa.MAC)
		}
		p.warn("direct mode: adapter %s is taken to be the image's only PCI network adapter, %s (%s); its MAC address is not checked offline",
			sa.MAC, pci[0].ID, pci[0].Description)
		es, err := SetAdapter(reg, w, pci[0].ID, cfg)
		if err := add(es, err, "network", pci[0].ID+" "+sa.IPv4); err != nil {
			return err
		}
	}
	if len(n.DNSSuffixes) > 0 {
		keys, paths, err := bootSets(reg, `Services\Tcpip\Parameters`, true)
		if err != nil {
			return err
		}
		var e editor
		for i, k := range keys {
			if err := e.set(k, paths[i], "SearchList", hive.String, hive.EncodeString(strings.Join(n.DNSSuffixes, ","))); err != nil {
				return err
			}
		}
		if err := add(e.edits, nil, "network", "DNS suffix search list"); err != nil {
			return err
		}
	}
	return nil
}

// directPassword sets the Administrator's password (RID 500, whatever its
// name) in the SAM hive in memory and returns the SAM values that
// changed, their data marked secret.
func directPassword(reg *Registry, password string) ([]Edit, error) {
	s, err := reg.Accounts()
	if err != nil {
		return nil, fmt.Errorf("direct mode: %w", err)
	}
	samHive, _, _, err := reg.Hive(`HKLM\SAM`)
	if err != nil {
		return nil, err
	}
	users, err := s.Users()
	if err != nil {
		return nil, err
	}
	admin := ""
	for _, u := range users {
		if u.RID == 500 {
			admin = u.Name
		}
	}
	if admin == "" {
		return nil, fmt.Errorf("%w: direct mode: the SAM has no account with RID 500", ErrUnsupported)
	}
	const account = `SAM\Domains\Account`
	before, err := snapshotValues(samHive, account)
	if err != nil {
		return nil, err
	}
	if err := s.SetPassword(admin, password); err != nil {
		return nil, fmt.Errorf("direct mode: Administrator's password: %w", err)
	}
	after, err := snapshotValues(samHive, account)
	if err != nil {
		return nil, err
	}
	var edits []Edit
	for _, k := range after.order {
		a := after.vals[k]
		if b, ok := before.vals[k]; ok && b.typ == a.typ && string(b.raw) == string(a.raw) {
			continue
		}
		key, name, _ := strings.Cut(k, "\x00")
		edits = append(edits, Edit{Key: `HKEY_LOCAL_MACHINE\SAM\` + key, Value: name, Type: a.typ.String(), New: "(secret)", typ: a.typ, raw: a.raw, secret: true})
	}
	for k := range before.vals {
		if _, ok := after.vals[k]; !ok {
			return nil, fmt.Errorf("%w: direct mode: setting the password deletes SAM value %q, which a plan cannot express", ErrUnsupported, k)
		}
	}
	return edits, nil
}

type valueSnapshot struct {
	order []string // key + "\x00" + value name
	vals  map[string]struct {
		typ hive.ValueType
		raw []byte
	}
}

// snapshotValues copies every value under path of h.
func snapshotValues(h *hive.Hive, path string) (*valueSnapshot, error) {
	k, err := h.Key(path)
	if err != nil {
		return nil, err
	}
	s := &valueSnapshot{vals: map[string]struct {
		typ hive.ValueType
		raw []byte
	}{}}
	err = k.Walk(func(p string, key hive.Key) error {
		vs, err := key.Values()
		if err != nil {
			return err
		}
		for _, v := range vs {
			b, err := v.Data()
			if err != nil {
				return err
			}
			full := strings.Trim(path+`\`+p, `\`)
			id := full + "\x00" + v.Name()
			s.order = append(s.order, id)
			s.vals[id] = struct {
				typ hive.ValueType
				raw []byte
			}{v.Type(), append([]byte(nil), b...)}
		}
		return nil
	})
	return s, err
}

// randomName makes a computer name of prefix and 4 random letters and
// digits.
func randomName(prefix string, rnd io.Reader) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	if len(prefix) > 11 {
		return "", fmt.Errorf("%w: computer name prefix %q is longer than 11 characters", ErrInvalid, prefix)
	}
	b := make([]byte, 4)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", err
	}
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return strings.ToUpper(prefix) + string(b), nil
}

// directProblems keeps the spec's errors that matter without an answer
// file: what mini-setup would stop to ask for (identity.fullName on 2000,
// XP and 2003) does not.
func directProblems(problems []sysprep.Problem) []sysprep.Problem {
	var out []sysprep.Problem
	for _, p := range sysprep.Errors(problems) {
		if p.Path == "identity.fullName" && strings.HasPrefix(p.Message, "missing") {
			continue
		}
		out = append(out, p)
	}
	return out
}
