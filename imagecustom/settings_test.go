package imagecustom_test

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// session is an image opened for writing with its Windows registry.
type session struct {
	img *imagecustom.Image
	v   *ntfs.Volume
	reg *imagecustom.Registry
	w   *imagecustom.Windows
}

func openSession(t *testing.T, path string) *session {
	t.Helper()
	img, err := imagecustom.OpenRW(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	ws, err := img.Windows()
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := img.OpenNTFSRW(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := imagecustom.OpenRegistry(v, "")
	if err != nil {
		t.Fatal(err)
	}
	return &session{img: img, v: v, reg: reg, w: &ws[0]}
}

// commit saves the hives and commits the image.
func (s *session) commit(t *testing.T) {
	t.Helper()
	if _, err := s.reg.Save(); err != nil {
		t.Fatal(err)
	}
	if err := s.img.Commit(); err != nil {
		t.Fatal(err)
	}
	s.img.Close()
}

// configDir is the fixture's System32\config as ntfscat must spell it.
func configDir(d testimg.Disk) string {
	if d.Name == testimg.WinXP().Name {
		return "WINDOWS/system32/config/"
	}
	return "Windows/System32/config/"
}

// extractHives copies the named hives out of the image at path with
// ntfscat (which we did not write) and returns their local paths.
func extractHives(t *testing.T, path string, d testimg.Disk, names ...string) map[string]string {
	t.Helper()
	testimg.Oracle(t, "ntfscat")
	vol := testimg.Section(t, path, d.System)
	dir := t.TempDir()
	out := map[string]string{}
	for _, name := range names {
		local := filepath.Join(dir, name)
		if err := os.WriteFile(local, testimg.Run(t, "ntfscat", vol, configDir(d)+name), 0o644); err != nil {
			t.Fatal(err)
		}
		out[name] = local
	}
	return out
}

// hivexget returns a value as hivexget prints it, without the final
// newline: strings as text, DWORDs in decimal, REG_MULTI_SZ one string a
// line, binary data raw.
func hivexget(t *testing.T, file, key, value string) string {
	t.Helper()
	testimg.Oracle(t, "hivexget")
	out, err := testimg.RunErr(t, "hivexget", file, key, value)
	if err != nil {
		t.Fatalf("hivexget %s %s %s: %v", filepath.Base(file), key, value, err)
	}
	return strings.TrimSuffix(string(out), "\n")
}

// checkClean runs our NTFS and hive checks over the image at path.
func checkClean(t *testing.T, path string, d testimg.Disk) {
	t.Helper()
	img, err := imagecustom.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	v, _, err := img.OpenNTFS(0)
	if err != nil {
		t.Fatal(err)
	}
	if probs, err := ntfs.Check(t.Context(), v, nil); err != nil || len(probs) != 0 {
		t.Errorf("ntfs.Check: %v %v", probs, err)
	}
	for _, name := range []string{"SYSTEM", "SOFTWARE"} {
		h, err := hive.OpenFS(v, configDir(d)+name, nil)
		if err != nil {
			t.Fatal(err)
		}
		if probs, err := hive.Check(h); err != nil || len(probs) != 0 || h.Dirty() {
			t.Errorf("hive.Check(%s): %v %v dirty=%v", name, probs, err, h.Dirty())
		}
	}
}

func TestCheckHostname(t *testing.T) {
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"WKS-01", true}, {"a", true}, {"abcdefghijklmno", true}, {"lab-7k2m9qf", true},
		{"", false}, {"abcdefghijklmnop", false}, {"12345", false}, {"-lead", false}, {"trail-", false},
		{"has space", false}, {"dot.name", false}, {"under_score", false}, {"star*", false}, {"Résumé", false},
	} {
		err := imagecustom.CheckHostname(c.name)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, imagecustom.ErrInvalid)) {
			t.Errorf("CheckHostname(%q) = %v, want ok=%v", c.name, err, c.ok)
		}
	}
}

// TestSetHostname renames each fixture, then reads every value back with
// hivexget from hives ntfscat extracted, checks that Windows detection
// reports the new name, and that the volume and hives are clean.
func TestSetHostname(t *testing.T) {
	for _, d := range testimg.Disks() {
		t.Run(d.Name, func(t *testing.T) {
			path := testimg.Copy(t, d.Name)
			s := openSession(t, path)
			if _, err := imagecustom.SetHostname(s.reg, s.w, "bad name"); !errors.Is(err, imagecustom.ErrInvalid) {
				t.Fatalf("SetHostname(bad name): %v", err)
			}
			edits, err := imagecustom.SetHostname(s.reg, s.w, "Lab-Clone-07")
			if err != nil {
				t.Fatal(err)
			}
			s.commit(t)
			// ComputerName, Hostname, NV Hostname, DefaultDomainName (and
			// XP's AltDefaultDomainName).
			want := 4
			if d.Name == testimg.WinXP().Name {
				want = 5
			}
			if len(edits) != want {
				t.Errorf("%d edits, want %d: %+v", len(edits), want, edits)
			}
			hv := extractHives(t, path, d, "SYSTEM", "SOFTWARE")
			for _, c := range []struct{ file, key, value, want string }{
				{"SYSTEM", `\ControlSet001\Control\ComputerName\ComputerName`, "ComputerName", "LAB-CLONE-07"},
				{"SYSTEM", `\ControlSet001\Services\Tcpip\Parameters`, "Hostname", "Lab-Clone-07"},
				{"SYSTEM", `\ControlSet001\Services\Tcpip\Parameters`, "NV Hostname", "Lab-Clone-07"},
				{"SOFTWARE", `\Microsoft\Windows NT\CurrentVersion\Winlogon`, "DefaultDomainName", "LAB-CLONE-07"},
			} {
				if got := hivexget(t, hv[c.file], c.key, c.value); got != c.want {
					t.Errorf("%s %s %s = %q, want %q", c.file, c.key, c.value, got, c.want)
				}
			}
			img, err := imagecustom.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			ws, err := img.Windows()
			img.Close()
			if err != nil || ws[0].ComputerName != "LAB-CLONE-07" {
				t.Errorf("Windows().ComputerName = %v, %v", ws, err)
			}
			checkClean(t, path, d)
		})
	}
}

// TestSetHostnameBothControlSets: with Select's Default naming another
// control set than Current, both get the name.
func TestSetHostnameBothControlSets(t *testing.T) {
	d := testimg.WinXP()
	path := testimg.Copy(t, d.Name)
	s := openSession(t, path)
	sel, err := s.reg.Key(`HKLM\SYSTEM\Select`)
	if err != nil {
		t.Fatal(err)
	}
	if err := sel.SetValue("Default", hive.DWord, hive.EncodeUint32(2)); err != nil {
		t.Fatal(err)
	}
	if _, err := imagecustom.SetHostname(s.reg, s.w, "TWOSETS"); err != nil {
		t.Fatal(err)
	}
	s.commit(t)
	hv := extractHives(t, path, d, "SYSTEM")
	for _, set := range []string{"ControlSet001", "ControlSet002"} {
		if got := hivexget(t, hv["SYSTEM"], `\`+set+`\Control\ComputerName\ComputerName`, "ComputerName"); got != "TWOSETS" {
			t.Errorf("%s ComputerName = %q", set, got)
		}
		if got := hivexget(t, hv["SYSTEM"], `\`+set+`\Services\Tcpip\Parameters`, "NV Hostname"); got != "TWOSETS" {
			t.Errorf("%s NV Hostname = %q", set, got)
		}
	}
}

// tf is a TIME_FIELDS value: year, month, day, hour, minute, second, ms,
// weekday.
func tf(f ...uint16) string {
	b := make([]byte, 16)
	for i, v := range f {
		b[2*i], b[2*i+1] = byte(v), byte(v>>8)
	}
	return string(b)
}

// TestSetTimeZone sets W. Europe on each fixture (in July: daylight time)
// and reads TimeZoneInformation back with hivexget: MUI names and
// TimeZoneKeyName on Windows 10, the zone's own text on XP; the
// transitions (last Sunday of October 3:00, of March 2:00) as TIME_FIELDS.
func TestSetTimeZone(t *testing.T) {
	july := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	for _, d := range testimg.Disks() {
		t.Run(d.Name, func(t *testing.T) {
			path := testimg.Copy(t, d.Name)
			s := openSession(t, path)
			_, err := imagecustom.SetTimeZone(s.reg, s.w, "W Europe Standard", nil)
			if !errors.Is(err, imagecustom.ErrInvalid) || !strings.Contains(err.Error(), "W. Europe Standard Time") {
				t.Fatalf("unknown zone: %v, want ErrInvalid naming the near match", err)
			}
			if _, err := imagecustom.SetTimeZone(s.reg, s.w, "w. europe standard time", &imagecustom.TimeZoneOptions{Now: july}); err != nil {
				t.Fatal(err)
			}
			s.commit(t)
			hv := extractHives(t, path, d, "SYSTEM")
			const key = `\ControlSet001\Control\TimeZoneInformation`
			want := map[string]string{
				"Bias": "-60", "StandardBias": "0", "DaylightBias": "-60", "ActiveTimeBias": "-120", // hivexget prints DWORDs signed
				"StandardStart": tf(0, 10, 5, 3, 0, 0, 0, 0), "DaylightStart": tf(0, 3, 5, 2, 0, 0, 0, 0),
				"StandardName": "W. Europe Standard Time", "DaylightName": "W. Europe Daylight Time",
			}
			if d.Name == testimg.Win10().Name {
				want["StandardName"], want["DaylightName"] = "@tzres.dll,-322", "@tzres.dll,-321"
				want["TimeZoneKeyName"], want["DynamicDaylightTimeDisabled"] = "W. Europe Standard Time", "0"
			}
			got := map[string]string{}
			for name := range want {
				got[name] = hivexget(t, hv["SYSTEM"], key, name)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("TimeZoneInformation (-want +got):\n%s", diff)
			}
			checkClean(t, path, d)
		})
	}
}

// realSystem puts the real Windows 7 SYSTEM hive (testdata/real) in place
// of the Windows 10 fixture's, whose SOFTWARE hive holds the same
// Eastern zone as Windows 7 (MUI names @tzres.dll,-110..112).
func realSystem(t *testing.T) (path string, orig *hive.Hive) {
	t.Helper()
	raw := testimg.Bytes(t, "real/hives/SYSTEM")
	d := testimg.Win10()
	path = testimg.Copy(t, d.Name)
	s := openSession(t, path)
	if err := s.v.WriteFile(configDir(d)+"SYSTEM", raw, nil); err != nil {
		t.Fatal(err)
	}
	s.commit(t)
	local := filepath.Join(t.TempDir(), "SYSTEM")
	if err := os.WriteFile(local, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := hive.OpenFile(local, nil)
	if err != nil {
		t.Fatal(err)
	}
	return path, h
}

// values returns the type and bytes of every value of key in h.
func values(t *testing.T, h *hive.Hive, key string) map[string]string {
	t.Helper()
	k, err := h.Key(key)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := k.Values()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, v := range vs {
		b, err := v.Data()
		if err != nil {
			t.Fatal(err)
		}
		out[v.Name()] = v.Type().String() + ":" + string(b)
	}
	return out
}

// TestSetTimeZoneRealHive: on the real Windows 7 SYSTEM hive, whose zone
// Windows last set to Eastern (the hive was saved on 2012-04-07, in
// daylight time), setting Eastern changes nothing; setting Pacific and
// then Eastern again gives back Windows' own bytes for every value —
// TimeZoneKeyName up to its NUL, as Windows 7 wrote the whole 256-byte
// buffer with stale bytes after it.
func TestSetTimeZoneRealHive(t *testing.T) {
	path, orig := realSystem(t)
	const key = `ControlSet001\Control\TimeZoneInformation`
	want := values(t, orig, key)
	at := &imagecustom.TimeZoneOptions{Now: time.Date(2012, 4, 7, 12, 0, 0, 0, time.UTC)}
	s := openSession(t, path)
	edits, err := imagecustom.SetTimeZone(s.reg, s.w, "Eastern Standard Time", at)
	if err != nil {
		t.Fatal(err)
	}
	if len(edits) != 0 {
		t.Errorf("setting the zone Windows set changed %+v", edits)
	}
	if _, err := imagecustom.SetTimeZone(s.reg, s.w, "Pacific Standard Time", at); err != nil {
		t.Fatal(err)
	}
	if _, err := imagecustom.SetTimeZone(s.reg, s.w, "Eastern Standard Time", at); err != nil {
		t.Fatal(err)
	}
	s.commit(t)
	hv := extractHives(t, path, testimg.Win10(), "SYSTEM")
	h, err := hive.OpenFile(hv["SYSTEM"], nil)
	if err != nil {
		t.Fatal(err)
	}
	got := values(t, h, key)
	keyName := func(s string) string { return s[:strings.Index(s, "\x00\x00")+3] }
	want["TimeZoneKeyName"], got["TimeZoneKeyName"] = keyName(want["TimeZoneKeyName"]), keyName(got["TimeZoneKeyName"])
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TimeZoneInformation after Pacific then Eastern (-Windows +ours):\n%q", diff)
	}
	if got := hivexget(t, hv["SYSTEM"], `\`+key, "StandardName"); got != "@tzres.dll,-112" {
		t.Errorf("hivexget StandardName = %q", got)
	}
}

func TestAdapters(t *testing.T) {
	for _, c := range []struct {
		disk testimg.Disk
		want []imagecustom.Adapter
	}{
		{testimg.WinXP(), []imagecustom.Adapter{
			{ID: "{8E2C9A41-0F6B-4D3C-A1E7-52B9D04F3C18}", Number: 0, Description: "WAN Miniport (L2TP)", ComponentID: "ms_l2tpminiport",
				Service: "Rasl2tp", NetBIOS: "dhcp"},
			{ID: "{5C3D7A1E-8B2F-4E61-9A0D-3F4B2C1E6D70}", Number: 1, Description: "Intel(R) PRO/1000 MT Network Connection",
				ComponentID: "pci\\ven_8086&dev_100f", Service: "E1000", Device: `PCI\VEN_8086&DEV_100F&SUBSYS_075015AD&REV_01\4&B70F118&0&0888`,
				Location: "PCI bus 2, device 1, function 0", TCPIP: true, DHCP: true, DHCPAddress: "192.168.235.128", NetBIOS: "dhcp"},
		}},
		{testimg.Win10(), []imagecustom.Adapter{
			{ID: "{2F8B4C1A-93D6-4E7B-A5C0-6D1E8F2B3A47}", Number: 0, Description: "Microsoft Kernel Debug Network Adapter", ComponentID: "root\\kdnic",
				Service: "kdnic", Device: `ROOT\KDNIC\0000`, TCPIP: true, DHCP: true, NetBIOS: "dhcp"},
			{ID: "{A7E3C1D2-6B4F-4F8A-9C21-0D3E5F7A8B9C}", Number: 1, Description: "Intel(R) 82574L Gigabit Network Connection",
				ComponentID: "pci\\ven_8086&dev_10d3", Service: "e1iexpress", Device: `PCI\VEN_8086&DEV_10D3&SUBSYS_07D015AD&REV_00\005056FFFF9A0B0C00`,
				Location: "PCI bus 11, device 0, function 0", TCPIP: true, DHCP: true, DHCPAddress: "192.168.80.131", NetBIOS: "dhcp"},
		}},
	} {
		t.Run(c.disk.Name, func(t *testing.T) {
			img, err := imagecustom.Open(testimg.Path(t, c.disk.Name))
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			v, _, err := img.OpenNTFS(0)
			if err != nil {
				t.Fatal(err)
			}
			reg, err := imagecustom.OpenRegistry(v, "")
			if err != nil {
				t.Fatal(err)
			}
			got, err := imagecustom.Adapters(reg)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("Adapters (-want +got):\n%s", diff)
			}
			for _, sel := range []string{"1", "0001", strings.ToLower(strings.Trim(c.want[1].ID, "{}"))} {
				if a, err := imagecustom.FindAdapter(got, sel); err != nil || a.ID != c.want[1].ID {
					t.Errorf("FindAdapter(%s) = %v, %v", sel, a.ID, err)
				}
			}
			if _, err := imagecustom.FindAdapter(got, "7"); !errors.Is(err, imagecustom.ErrInvalid) {
				t.Errorf("FindAdapter(7): %v", err)
			}
		})
	}
}

func prefixes(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

// TestSetAdapter gives each fixture's Intel NIC a static configuration
// and reads it back with hivexget: Tcpip's interface key, XP's Adapters
// key, NetBT's interface key. Then DHCP again, as Windows leaves it.
func TestSetAdapter(t *testing.T) {
	for _, d := range testimg.Disks() {
		t.Run(d.Name, func(t *testing.T) {
			path := testimg.Copy(t, d.Name)
			s := openSession(t, path)
			as, err := imagecustom.Adapters(s.reg)
			if err != nil {
				t.Fatal(err)
			}
			id := as[1].ID
			domain := "lab.example"
			cfg := imagecustom.AdapterConfig{
				Addresses: prefixes("192.0.2.10/24", "198.51.100.7/25"), Gateways: addrs("192.0.2.1"),
				DNS: addrs("192.0.2.53", "192.0.2.54"), Domain: &domain, WINS: addrs("192.0.2.60"), NetBIOS: "disabled",
			}
			for _, bad := range []imagecustom.AdapterConfig{
				{}, {DHCP: true, Addresses: prefixes("192.0.2.10/24")},
				{Addresses: prefixes("192.0.2.10/24"), Gateways: addrs("203.0.113.1")},
				{Addresses: prefixes("2001:db8::1/64")}, {Addresses: prefixes("192.0.2.10/24"), NetBIOS: "maybe"},
			} {
				if _, err := imagecustom.SetAdapter(s.reg, s.w, "1", bad); !errors.Is(err, imagecustom.ErrInvalid) {
					t.Errorf("SetAdapter(%+v): %v, want ErrInvalid", bad, err)
				}
			}
			if _, err := imagecustom.SetAdapter(s.reg, s.w, "1", cfg); err != nil {
				t.Fatal(err)
			}
			s.commit(t)
			hv := extractHives(t, path, d, "SYSTEM")
			sys := hv["SYSTEM"]
			tcp := `\ControlSet001\Services\Tcpip\Parameters\Interfaces\` + id
			nbt := `\ControlSet001\Services\NetBT\Parameters\Interfaces\Tcpip_` + id
			want := map[string]string{
				tcp + " EnableDHCP": "0", tcp + " IPAddress": "192.0.2.10\n198.51.100.7\n", tcp + " SubnetMask": "255.255.255.0\n255.255.255.128\n",
				tcp + " DefaultGateway": "192.0.2.1\n", tcp + " DefaultGatewayMetric": "0\n", tcp + " NameServer": "192.0.2.53,192.0.2.54",
				tcp + " Domain": "lab.example", nbt + " NameServerList": "192.0.2.60\n", nbt + " NetbiosOptions": "2",
			}
			if d.Name == testimg.WinXP().Name {
				ad := `\ControlSet001\Services\Tcpip\Parameters\Adapters\` + id
				want[ad+" IpConfig"] = `Tcpip\Parameters\Interfaces\` + id + "\n"
				want[ad+" NumInterfaces"] = "1"
			}
			got := map[string]string{}
			for kv := range want {
				i := strings.LastIndex(kv, " ")
				got[kv] = hivexget(t, sys, kv[:i], kv[i+1:])
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("after net set (-want +got):\n%s", diff)
			}
			checkClean(t, path, d)

			s = openSession(t, path)
			if _, err := imagecustom.SetAdapter(s.reg, s.w, id, imagecustom.AdapterConfig{DHCP: true}); err != nil {
				t.Fatal(err)
			}
			as, err = imagecustom.Adapters(s.reg)
			if err != nil {
				t.Fatal(err)
			}
			if a := as[1]; !a.DHCP || len(a.IPAddress)+len(a.DefaultGateway)+len(a.NameServer)+len(a.WINS) != 0 || a.Domain != "lab.example" || a.NetBIOS != "disabled" {
				t.Errorf("after DHCP: %+v", a)
			}
		})
	}
}

// TestSetAdapterRealHive reads the real Windows 7 SYSTEM hive's static
// adapter, switches it to DHCP and back to the same static settings, and
// compares every value's type and bytes with what Windows wrote.
func TestSetAdapterRealHive(t *testing.T) {
	path, orig := realSystem(t)
	const id = "{698E50A9-4F58-4D86-B61D-F42E58DCACF6}"
	const key = `ControlSet001\Services\Tcpip\Parameters\Interfaces\` + id
	s := openSession(t, path)
	as, err := imagecustom.Adapters(s.reg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := imagecustom.FindAdapter(as, id)
	if err != nil {
		t.Fatal(err)
	}
	if a.DHCP || !cmp.Equal(a.IPAddress, []string{"10.3.58.5"}) || !cmp.Equal(a.SubnetMask, []string{"255.255.255.0"}) ||
		!cmp.Equal(a.DefaultGateway, []string{"10.3.58.1"}) || !cmp.Equal(a.NameServer, []string{"10.3.58.4"}) {
		t.Errorf("the real static adapter reads as %+v", a)
	}
	if _, err := imagecustom.SetAdapter(s.reg, s.w, id, imagecustom.AdapterConfig{DHCP: true}); err != nil {
		t.Fatal(err)
	}
	empty := ""
	if _, err := imagecustom.SetAdapter(s.reg, s.w, id, imagecustom.AdapterConfig{
		Addresses: prefixes("10.3.58.5/24"), Gateways: addrs("10.3.58.1"), DNS: addrs("10.3.58.4"), Domain: &empty,
	}); err != nil {
		t.Fatal(err)
	}
	s.commit(t)
	hv := extractHives(t, path, testimg.Win10(), "SYSTEM")
	h, err := hive.OpenFile(hv["SYSTEM"], nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(values(t, orig, key), values(t, h, key)); diff != "" {
		t.Errorf("interface after DHCP and back (-Windows +ours):\n%q", diff)
	}
	nbt := `ControlSet001\Services\NetBT\Parameters\Interfaces\Tcpip_` + id
	if diff := cmp.Diff(values(t, orig, nbt), values(t, h, nbt)); diff != "" {
		t.Errorf("NetBT (-Windows +ours):\n%q", diff)
	}
}

// benchRegistry opens the XP fixture for a dry run and returns its
// registry and Windows install.
func benchRegistry(b *testing.B) (*imagecustom.Registry, *imagecustom.Windows) {
	img, err := imagecustom.OpenRW(testimg.Path(b, testimg.WinXP().Name), &imagecustom.WriteOptions{DryRun: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { img.Close() })
	ws, err := img.Windows()
	if err != nil {
		b.Fatal(err)
	}
	v, _, err := img.OpenNTFSRW(0, nil)
	if err != nil {
		b.Fatal(err)
	}
	reg, err := imagecustom.OpenRegistry(v, "")
	if err != nil {
		b.Fatal(err)
	}
	return reg, &ws[0]
}

// BenchmarkSetHostname renames the install in memory, alternating two
// names so that every round writes.
func BenchmarkSetHostname(b *testing.B) {
	reg, w := benchRegistry(b)
	names := []string{"BENCH-A", "BENCH-B"}
	for i := 0; b.Loop(); i++ {
		if _, err := imagecustom.SetHostname(reg, w, names[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSetTimeZone alternates two zones.
func BenchmarkSetTimeZone(b *testing.B) {
	reg, w := benchRegistry(b)
	zones := []string{"Tokyo Standard Time", "W. Europe Standard Time"}
	for i := 0; b.Loop(); i++ {
		if _, err := imagecustom.SetTimeZone(reg, w, zones[i%2], nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAdapters lists the adapters.
func BenchmarkAdapters(b *testing.B) {
	reg, _ := benchRegistry(b)
	for b.Loop() {
		if _, err := imagecustom.Adapters(reg); err != nil {
			b.Fatal(err)
		}
	}
}
