package sysprep_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/sysprep"
)

// validSpec returns a spec that passes Validate for every family.
func validSpec() *sysprep.Spec {
	return &sysprep.Spec{
		Identity: sysprep.Identity{ComputerName: "WEB01", FullName: "Admin", OrgName: "Example", TimeZone: "GMT Standard Time",
			AdminPassword: &sysprep.Password{Plain: "pw"}, AutoLogonCount: 1},
		Membership: sysprep.Membership{Domain: "corp.example.com", DomainUser: "joiner", DomainPassword: &sysprep.Password{Plain: "pw"}},
		Network: sysprep.Network{Adapters: []sysprep.Adapter{
			{MAC: "00:50:56:00:00:01", IPv4: "10.0.0.5/24", Gateways: []string{"10.0.0.1"}, DNSServers: []string{"10.0.0.53"}},
			{MAC: "00:50:56:00:00:02"},
		}},
		RunOnce: []string{"cmd /c ver"},
	}
}

func TestValidateGoodSpecs(t *testing.T) {
	for _, f := range []sysprep.Family{sysprep.Win2000, sysprep.WinXP, sysprep.Win2003, sysprep.Vista} {
		if p := sysprep.Validate(validSpec(), f); len(p) != 0 {
			t.Errorf("%v: %v", f, p)
		}
		for _, h := range []*sysprep.BootHook{{Exe: "hook.exe", Data: "hook.dat"}, {Actions: "say hi\nreboot\n", Method: "bootexecute"}} {
			s := validSpec()
			s.BootHook = h
			if p := sysprep.Validate(s, f); len(p) != 0 {
				t.Errorf("%v boot hook %+v: %v", f, h, p)
			}
		}
		for _, name := range []string{"static-domain.yaml", "dhcp-workgroup.yaml", "dhcp-domain.yaml"} {
			if p := sysprep.Validate(readSpec(t, name), f); len(p) != 0 {
				t.Errorf("%v %s: %v", f, name, p)
			}
		}
	}
}

func TestValidateProblems(t *testing.T) {
	tests := []struct {
		name   string
		family sysprep.Family
		edit   func(s *sysprep.Spec)
		want   []string // "path: start of message"
	}{
		{"gateway not IPv4", sysprep.Vista, func(s *sysprep.Spec) {
			s.Network.Adapters[0].Gateways = []string{"10.0.0.300"}
		}, []string{`network.adapters[0].gateways[0]: "10.0.0.300" is not an IPv4 address`}},
		{"gateway outside subnet", sysprep.WinXP, func(s *sysprep.Spec) {
			s.Network.Adapters[0].Gateways = []string{"10.0.1.1"}
		}, []string{"network.adapters[0].gateways[0]: 10.0.1.1 is outside the adapter's subnet 10.0.0.0/24"}},
		{"gateway with dhcp", sysprep.WinXP, func(s *sysprep.Spec) {
			s.Network.Adapters[1].Gateways = []string{"10.0.1.1"}
		}, []string{"network.adapters[1].gateways[0]: a gateway needs a static address"}},
		{"duplicate MAC", sysprep.Vista, func(s *sysprep.Spec) {
			s.Network.Adapters[1].MAC = "00-50-56-00-00-01"
		}, []string{"network.adapters[1].mac: 00-50-56-00-00-01 is also network.adapters[0]'s"}},
		{"bad MAC", sysprep.Vista, func(s *sysprep.Spec) {
			s.Network.Adapters[1].MAC = "00:50:56"
		}, []string{`network.adapters[1].mac: "00:50:56" is not a MAC address`}},
		{"bad address", sysprep.Vista, func(s *sysprep.Spec) {
			s.Network.Adapters[0].IPv4 = "10.0.0.5"
			s.Network.Adapters[0].Gateways = nil
		}, []string{`network.adapters[0].ipv4: "10.0.0.5" is not "dhcp" or an IPv4 address`}},
		{"network address", sysprep.Vista, func(s *sysprep.Spec) {
			s.Network.Adapters[0].IPv4 = "10.0.0.0/24"
		}, []string{"network.adapters[0].ipv4: 10.0.0.0 is the subnet's network"}},
		{"boot hook without exe or actions", sysprep.WinXP, func(s *sysprep.Spec) {
			s.BootHook = &sysprep.BootHook{}
		}, []string{"bootHook.exe: missing"}},
		{"boot hook with exe and actions", sysprep.WinXP, func(s *sysprep.Spec) {
			s.BootHook = &sysprep.BootHook{Exe: "hook.exe", Actions: "reboot"}
		}, []string{"bootHook.actions: set together with bootHook.exe"}},
		{"boot hook actions with data", sysprep.WinXP, func(s *sysprep.Spec) {
			s.BootHook = &sysprep.BootHook{Actions: "reboot", Data: "x.dat"}
		}, []string{"bootHook.data: set with bootHook.actions"}},
		{"name too long", sysprep.WinXP, func(s *sysprep.Spec) {
			s.Identity.ComputerName = "ABCDEFGHIJKLMNOP"
		}, []string{`identity.computerName: "ABCDEFGHIJKLMNOP" is 16 characters long`}},
		{"name bad char", sysprep.WinXP, func(s *sysprep.Spec) {
			s.Identity.ComputerName = "WEB_01"
		}, []string{`identity.computerName: "WEB_01" contains '_'`}},
		{"name digits", sysprep.Vista, func(s *sysprep.Spec) {
			s.Identity.ComputerName = "1234"
		}, []string{`identity.computerName: "1234" has only digits`}},
		{"name and prefix", sysprep.Vista, func(s *sysprep.Spec) {
			s.Identity.ComputerNamePrefix = "web"
		}, []string{"identity.computerNamePrefix: conflicts with identity.computerName"}},
		{"domain and workgroup", sysprep.Win2003, func(s *sysprep.Spec) {
			s.Membership.Workgroup = "WG"
		}, []string{"membership.workgroup: conflicts with membership.domain"}},
		{"missing credentials", sysprep.Win2003, func(s *sysprep.Spec) {
			s.Membership.DomainUser = ""
			s.Membership.DomainPassword = nil
		}, []string{"membership.domainUser: missing", "membership.domainPassword: missing"}},
		{"credentials without domain", sysprep.Vista, func(s *sysprep.Spec) {
			s.Membership.Domain = ""
		}, []string{"membership.domainUser: needs membership.domain", "membership.domainPassword: needs membership.domain"}},
		{"unknown time zone", sysprep.Vista, func(s *sysprep.Spec) {
			s.Identity.TimeZone = "Mars Standard Time"
		}, []string{`identity.timeZone: unknown Windows time zone "Mars Standard Time"`}},
		{"zone too new for XP", sysprep.WinXP, func(s *sysprep.Spec) {
			s.Identity.TimeZone = "UTC"
		}, []string{`identity.timeZone: "UTC" does not exist on winxp`}},
		{"blob on XP", sysprep.WinXP, func(s *sysprep.Spec) {
			s.Membership = sysprep.Membership{OfflineJoinBlob: "QUJD"}
		}, []string{"membership.offlineJoinBlob: offline domain join needs Windows 7"}},
		{"licence mode on XP", sysprep.WinXP, func(s *sysprep.Spec) {
			s.Identity.LicenseMode = "perSeat"
		}, []string{"warning: identity.licenseMode: only Windows 2000 and 2003 servers have a licence mode: ignored on winxp"}},
		{"per server users", sysprep.Win2003, func(s *sysprep.Spec) {
			s.Identity.LicenseMode = "perServer"
		}, []string{"identity.licenseUsers: perServer needs 5 or more users, got 0"}},
		{"run once without autologon on XP", sysprep.WinXP, func(s *sysprep.Spec) {
			s.Identity.AutoLogonCount = 0
		}, []string{"warning: runOnce: on winxp run-once commands run at the first interactive logon"}},
		{"ipv6 on 2003", sysprep.Win2003, func(s *sysprep.Spec) {
			s.Network.Adapters[0].IPv6 = []string{"2001:db8::5/64"}
		}, []string{"warning: network.adapters[0].ipv6: IPv6 configuration needs Vista"}},
		{"bad ipv6", sysprep.Vista, func(s *sysprep.Spec) {
			s.Network.Adapters[0].IPv6 = []string{"10.0.0.6/24"}
		}, []string{`network.adapters[0].ipv6[0]: "10.0.0.6/24" is not an IPv6 address`}},
		{"newline in full name", sysprep.WinXP, func(s *sysprep.Spec) {
			s.Identity.FullName = "Admin\r\nJoinDomain=evil"
		}, []string{`identity.fullName: contains a control character or line break`}},
		{"quote in org", sysprep.Vista, func(s *sysprep.Spec) {
			s.Identity.OrgName = `Ex"ample`
		}, []string{`identity.orgName: "Ex\"ample" contains a double quote`}},
		{"markup in domain", sysprep.Vista, func(s *sysprep.Spec) {
			s.Membership.Domain = "corp<x/>"
		}, []string{`membership.domain: "corp<x/>" contains '<'`}},
		{"percent in workgroup", sysprep.WinXP, func(s *sysprep.Spec) {
			s.Membership = sysprep.Membership{Workgroup: "%WG%"}
		}, []string{`membership.workgroup: "%WG%" contains '%'`}},
		{"ampersand in user", sysprep.Vista, func(s *sysprep.Spec) {
			s.Membership.DomainUser = "a&b"
		}, []string{`membership.domainUser: "a&b" contains '&'`}},
		{"quote in XP password", sysprep.WinXP, func(s *sysprep.Spec) {
			s.Identity.AdminPassword.Plain = `p"w`
		}, []string{"identity.adminPassword.plain: on winxp a password cannot contain a double quote"}},
		{"newline in password", sysprep.Vista, func(s *sysprep.Spec) {
			s.Identity.AdminPassword.Plain = "p\nw"
		}, []string{"identity.adminPassword.plain: contains a control character"}},
		{"newline in command", sysprep.Vista, func(s *sysprep.Spec) {
			s.RunOnce = []string{"cmd\r\nformat c:"}
		}, []string{"runOnce[0]: contains a control character"}},
		{"relative file path", sysprep.Vista, func(s *sysprep.Spec) {
			s.Files = []sysprep.File{{Path: `..\x`, Content: "x"}}
		}, []string{`files[0].path: "..\\x" is not an absolute path`}},
		{"bad product key", sysprep.Vista, func(s *sysprep.Spec) {
			s.Identity.ProductKey = "ABC"
		}, []string{`identity.productKey: "ABC" is not five groups`}},
		{"empty password", sysprep.Vista, func(s *sysprep.Spec) {
			s.Identity.AdminPassword = &sysprep.Password{}
			s.Membership.DomainPassword = &sysprep.Password{}
		}, []string{"identity.adminPassword: empty", "membership.domainPassword: missing"}},
		{"autologon without password", sysprep.Vista, func(s *sysprep.Spec) {
			s.Identity.AdminPassword = nil
		}, []string{"warning: identity.autoLogonCount: automatic logon without identity.adminPassword"}},
		{"too many WINS", sysprep.WinXP, func(s *sysprep.Spec) {
			s.Network.Adapters[0].WINS = []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}
		}, []string{"network.adapters[0].wins: 3 servers"}},
		{"bad netbios mode", sysprep.WinXP, func(s *sysprep.Spec) {
			s.Network.Adapters[0].NetBIOS = "on"
		}, []string{`network.adapters[0].netBIOS: "on" is not dhcp, enabled or disabled`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSpec()
			tt.edit(s)
			var got []string
			for _, p := range sysprep.Validate(s, tt.family) {
				if p.Warning {
					got = append(got, "warning: "+p.String())
				} else {
					got = append(got, p.String())
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("problem %d:\n got %s\nwant %s…", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestTimeZoneIndex(t *testing.T) {
	tests := []struct {
		name  string
		index int
		ok    bool
	}{
		{"Pacific Standard Time", 4, true},
		{"eastern standard time", 35, true},
		{"GMT Standard Time", 85, true},
		{"W. Europe Standard Time", 110, true},
		{"Tonga Standard Time", 300, true},
		{"UTC", -1, false},
		{"Nowhere", 0, false},
	}
	for _, tt := range tests {
		i, ok := sysprep.TimeZoneIndex(tt.name)
		if diff := cmp.Diff([]any{tt.index, tt.ok}, []any{i, ok}); ok != tt.ok || (ok && diff != "") {
			t.Errorf("TimeZoneIndex(%q) = %d, %v; want %d, %v", tt.name, i, ok, tt.index, tt.ok)
		}
	}
}

func TestValidateAllowsApostrophe(t *testing.T) {
	s := validSpec()
	s.Identity.FullName = "Pat O'Brien"
	s.Identity.OrgName = "O'Brien & Sons"
	if p := sysprep.Validate(s, sysprep.WinXP); len(p) != 0 {
		t.Errorf("problems %v, want none: ' and & are data in the owner names", p)
	}
}
