package sysprep_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/sysprep"
)

func readVCenter(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "vcenter", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestDecodeVCenterSysprep(t *testing.T) {
	spec, err := sysprep.Decode(readVCenter(t, "sysprep-static-domain.xml"))
	if err != nil {
		t.Fatal(err)
	}
	want := &sysprep.Spec{
		Identity: sysprep.Identity{ComputerName: "WEB01", FullName: "Example Admin", OrgName: "Example Corp",
			ProductKey: "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE", TimeZone: "W. Europe Standard Time",
			AdminPassword: &sysprep.Password{Plain: "S3cret!pass"}, AutoLogonCount: 1},
		Membership: sysprep.Membership{Domain: "corp.example.com", DomainUser: `CORP\joiner`, DomainPassword: &sysprep.Password{Plain: "J0in-me"}},
		Network: sysprep.Network{
			Adapters: []sysprep.Adapter{
				{MAC: "00:50:56:9a:0b:0c", IPv4: "192.0.2.10/24", Gateways: []string{"192.0.2.1"}, DNSServers: []string{"192.0.2.53", "192.0.2.54"},
					DNSDomain: "corp.example.com", WINS: []string{"192.0.2.20"}, NetBIOS: "enabled"},
				{MAC: "00:50:56:9a:0b:0d", IPv4: "dhcp", NetBIOS: "disabled", IPv6: []string{"2001:db8::10/64"}, IPv6Gateways: []string{"2001:db8::1"}},
			},
			DNSSuffixes: []string{"corp.example.com", "example.com"},
		},
		RunOnce: []string{`cmd /c echo first logon > C:\firstlogon.txt`},
	}
	if diff := cmp.Diff(want, spec); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if p := sysprep.Validate(spec, sysprep.Vista); len(p) != 0 {
		t.Errorf("imported spec has problems: %v", p)
	}
	r := render(t, spec, sysprep.Vista, sysprep.AMD64)
	if nets, joins := stepIndexes(r.Plan, sysprep.StepNetwork), stepIndexes(r.Plan, sysprep.StepJoinDomain); len(joins) != 1 || joins[0] < nets[len(nets)-1] {
		t.Errorf("plan:\n%s", planText(r))
	}
}

func TestDecodeVCenterSysprepText(t *testing.T) {
	spec, err := sysprep.Decode(readVCenter(t, "sysprep-text.xml"))
	if err != nil {
		t.Fatal(err)
	}
	want := &sysprep.Spec{
		Identity: sysprep.Identity{ComputerName: "LAB01", FullName: "Lab", OrgName: "Lab & Co", ProductKey: "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE",
			TimeZone: "Pacific Standard Time", AdminPassword: &sysprep.Password{Plain: "labpass"}},
		Membership: sysprep.Membership{Workgroup: "LABGROUP"},
		Network:    sysprep.Network{Adapters: []sysprep.Adapter{{MAC: "00:50:56:00:00:01", IPv4: "dhcp"}}},
	}
	if diff := cmp.Diff(want, spec); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// "&" in a name is data (vCenter accepts it): the spec is valid.
	if p := sysprep.Validate(spec, sysprep.WinXP); len(p) != 0 {
		t.Errorf("problems %v", p)
	}
}

func TestDecodeVCenterEncrypted(t *testing.T) {
	_, err := sysprep.Decode(readVCenter(t, "encrypted-password.xml"))
	var de *sysprep.DecodeError
	if !errors.Is(err, sysprep.ErrUnsupported) || !errors.As(err, &de) || len(de.Fields) != 1 ||
		de.Fields[0].Path != "spec.identity.guiUnattended.password" || de.Fields[0].Line != 24 {
		t.Errorf("err %v", err)
	}
}

func TestDecodeVCenterErrors(t *testing.T) {
	base := string(readVCenter(t, "sysprep-static-domain.xml"))
	tests := []struct {
		name, old, new string
		path           string
		kind           error
	}{
		{"unknown field", "<fullName>Example Admin</fullName>", "<fullName>Example Admin</fullName><colour>red</colour>",
			"spec.identity.userData.colour", sysprep.ErrUnknownField},
		{"bad integer", "<timeZone>110</timeZone>", "<timeZone>west</timeZone>", "spec.identity.guiUnattended.timeZone", sysprep.ErrType},
		{"unknown zone index", "<timeZone>110</timeZone>", "<timeZone>999</timeZone>", "spec.identity.guiUnattended.timeZone", sysprep.ErrUnsupported},
		{"bad mask", "<subnetMask>255.255.255.0</subnetMask>", "<subnetMask>255.0.255.0</subnetMask>",
			"spec.nicSettingMap[0].adapter.subnetMask", sysprep.ErrType},
		{"linux identity", "<_type>vim.vm.customization.Sysprep</_type>", "<_type>vim.vm.customization.LinuxPrep</_type>",
			"spec.identity", sysprep.ErrUnsupported},
		{"wrong root type", "<_type>vim.CustomizationSpecItem</_type>", "<_type>vim.Other</_type>", "", sysprep.ErrType},
		{"bad netbios", "<netBIOS>enableNetBIOS</netBIOS>", "<netBIOS>on</netBIOS>", "spec.nicSettingMap[0].adapter.netBIOS", sysprep.ErrType},
		{"attribute", "<e id=\"0\">corp.example.com</e>", "<e id=\"0\" x=\"1\">corp.example.com</e>", "", sysprep.ErrUnknownField},
		{"syntax", "</ConfigRoot>", "</ConfigRoo>", "", sysprep.ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.Replace(base, tt.old, tt.new, 1)
			if in == base {
				t.Fatal("replacement did not apply")
			}
			_, err := sysprep.DecodeVCenter([]byte(in))
			var de *sysprep.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, sysprep.ErrDecode) || !errors.Is(err, tt.kind) {
				t.Fatalf("err %v, want %v", err, tt.kind)
			}
			if de.Fields[0].Path != tt.path || de.Fields[0].Line == 0 {
				t.Errorf("fault %q line %d, want %q", de.Fields[0].Path, de.Fields[0].Line, tt.path)
			}
		})
	}
}

// TestTimeZoneIndexesUnique: an index names one zone, so the import of
// vCenter's index is unambiguous.
func TestTimeZoneIndexesUnique(t *testing.T) {
	for i := 0; i <= 300; i++ {
		n := 0
		for _, name := range sysprep.AllZoneNames() {
			if idx, ok := sysprep.TimeZoneIndex(name); ok && idx == i {
				n++
			}
		}
		if n > 1 {
			t.Errorf("index %d names %d zones", i, n)
		}
	}
}
