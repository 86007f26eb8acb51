package imagecustom_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/sam"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
	"github.com/imagecustom/go-imagecustom/sysprep"
)

const directSpec = `direct: true
identity:
  computerName: lab-direct-01
  fullName: Lab Owner
  timeZone: Tokyo Standard Time
  adminPassword: {plain: "Dir3ct-S3cret"}
network:
  adapters:
    - mac: 00:50:56:9a:0b:0c
      ipv4: 192.0.2.10/24
      gateways: [192.0.2.1]
      dnsServers: [192.0.2.53]
      dnsDomain: lab.example
  dnsSuffixes: [lab.example, example]
`

// TestCustomizeDirect runs a direct-mode spec through Customize on each
// fixture (no sysprep, no answer file, no setup cycle): the plan holds the
// values SetHostname, SetTimeZone and SetAdapter write and the
// Administrator's new hash, never the password; a dry run writes
// nothing; the real run is verified, and hivexget reads the values back.
func TestCustomizeDirect(t *testing.T) {
	spec, err := sysprep.DecodeYAML([]byte(directSpec))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range testimg.Disks() {
		t.Run(d.Name, func(t *testing.T) {
			path := testimg.Copy(t, d.Name)
			// The fixtures' SAMs have no password key (real ones always
			// do): give them one, of the revision of their era.
			rev := sam.AES
			if d.Name == testimg.WinXP().Name {
				rev = sam.RC4
			}
			s := openSession(t, path)
			samH, _, _, err := s.reg.Hive(`HKLM\SAM`)
			if err != nil {
				t.Fatal(err)
			}
			sysH, _, _, err := s.reg.Hive(`HKLM\SYSTEM`)
			if err != nil {
				t.Fatal(err)
			}
			if err := sam.CreateKeys(samH, sysH, rev, nil); err != nil {
				t.Fatal(err)
			}
			s.commit(t)
			want := fileSum(t, path)
			dry, err := imagecustom.Customize(context.Background(), path, spec, &imagecustom.CustomizeOptions{DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			if fileSum(t, path) != want {
				t.Fatal("the dry run changed the image")
			}
			doc, _ := json.Marshal(dry)
			if strings.Contains(string(doc), "Dir3ct-S3cret") {
				t.Error("the plan holds the password")
			}
			if len(dry.Plan.Files) != 0 || dry.Plan.ComputerName != "lab-direct-01" || len(dry.Plan.Registry) < 10 {
				t.Errorf("plan: %s", doc)
			}
			res, err := imagecustom.Customize(context.Background(), path, spec, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Final == nil || res.Final.Values != len(res.Plan.Registry) {
				t.Errorf("final verification: %+v of %d values", res.Final, len(res.Plan.Registry))
			}
			hv := extractHives(t, path, d, "SYSTEM", "SOFTWARE", "SAM")
			as := imagecustomAdapters(t, path)
			tcp := `\ControlSet001\Services\Tcpip\Parameters`
			for _, c := range []struct{ file, key, value, want string }{
				{"SYSTEM", `\ControlSet001\Control\ComputerName\ComputerName`, "ComputerName", "LAB-DIRECT-01"},
				{"SYSTEM", tcp, "NV Hostname", "lab-direct-01"},
				{"SYSTEM", tcp, "SearchList", "lab.example,example"},
				{"SYSTEM", tcp + `\Interfaces\` + as[1].ID, "IPAddress", "192.0.2.10\n"},
				{"SYSTEM", tcp + `\Interfaces\` + as[1].ID, "EnableDHCP", "0"},
				{"SYSTEM", `\ControlSet001\Control\TimeZoneInformation`, "Bias", "-540"},
				{"SOFTWARE", `\Microsoft\Windows NT\CurrentVersion`, "RegisteredOwner", "Lab Owner"},
			} {
				if got := hivexget(t, hv[c.file], c.key, c.value); got != c.want {
					t.Errorf("%s %s %s = %q, want %q", c.file, c.key, c.value, got, c.want)
				}
			}
			checkClean(t, path, d)
			// Impacket's secretsdump, which we did not write, decrypts the
			// new hash with the boot key.
			const dump = "/usr/share/doc/python3-impacket/examples/secretsdump.py"
			if _, err := os.Stat(dump); err == nil {
				out, err := exec.Command("/usr/bin/python3", dump, "-sam", hv["SAM"], "-system", hv["SYSTEM"], "LOCAL").CombinedOutput()
				h := sam.NTHash("Dir3ct-S3cret")
				if err != nil || !strings.Contains(string(out), ":500:aad3b435b51404eeaad3b435b51404ee:"+hex.EncodeToString(h[:])+":::") {
					t.Errorf("secretsdump after the direct password (%v):\n%s", err, out)
				}
			} else if os.Getenv("IMAGECUSTOM_ORACLES") == "require" {
				t.Errorf("secretsdump: %v", err)
			}
		})
	}
}

func imagecustomAdapters(t *testing.T, path string) []imagecustom.Adapter {
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
	reg, err := imagecustom.OpenRegistry(v, "")
	if err != nil {
		t.Fatal(err)
	}
	as, err := imagecustom.Adapters(reg)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// TestCustomizeDirectRefuses: what an offline edit cannot do is refused,
// not dropped.
func TestCustomizeDirectRefuses(t *testing.T) {
	path := testimg.Copy(t, testimg.Win10().Name)
	for _, y := range []string{
		"direct: true\nmembership: {domain: corp.example.com, domainUser: joiner, domainPassword: {plain: x}}\n",
		"direct: true\nnetwork:\n  adapters:\n    - {mac: 00:50:56:9a:0b:0c, ipv4: dhcp}\n    - {mac: 00:50:56:9a:0b:0d, ipv4: dhcp}\n",
	} {
		spec, err := sysprep.DecodeYAML([]byte(y))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := imagecustom.Customize(context.Background(), path, spec, &imagecustom.CustomizeOptions{DryRun: true}); !errors.Is(err, imagecustom.ErrUnsupported) {
			t.Errorf("%q: %v, want ErrUnsupported", y, err)
		}
	}
}
