package sysprep_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/sysprep"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// targets are every family and architecture pair that exists.
var targets = []struct {
	family sysprep.Family
	arch   sysprep.Arch
}{
	{sysprep.Win2000, sysprep.X86},
	{sysprep.WinXP, sysprep.X86}, {sysprep.WinXP, sysprep.AMD64},
	{sysprep.Win2003, sysprep.X86}, {sysprep.Win2003, sysprep.AMD64},
	{sysprep.Vista, sysprep.X86}, {sysprep.Vista, sysprep.AMD64}, {sysprep.Vista, sysprep.ARM64},
}

// render renders a spec with a fixed random source, failing the test on
// error.
func render(t testing.TB, spec *sysprep.Spec, f sysprep.Family, a sysprep.Arch) *sysprep.Result {
	t.Helper()
	r, err := sysprep.Render(spec, sysprep.Options{Family: f, Arch: a, Rand: bytes.NewReader(make([]byte, 16))})
	if err != nil {
		t.Fatalf("%v %v: %v", f, a, err)
	}
	return r
}

// goldenFiles lays a result out as the files of its golden folder: each
// rendered file under its target path, plus plan.txt and registry.txt.
func goldenFiles(r *sysprep.Result) map[string][]byte {
	out := map[string][]byte{}
	for _, f := range r.Files {
		name := strings.ReplaceAll(strings.TrimPrefix(f.Path, `\`), `\`, "/")
		if f.Source != "" {
			out[name+".source"] = []byte(f.Source + "\n")
		} else {
			out[name] = []byte(f.Content)
		}
	}
	var plan, reg strings.Builder
	for _, s := range r.Plan {
		plan.WriteString(s.String() + "\n")
	}
	for _, v := range r.Registry {
		fmt.Fprintf(&reg, "%s\\%s %v %q %q %d\n", v.Key, v.Name, v.Type, v.String, v.Strings, v.DWord)
	}
	for _, f := range r.RegFiles {
		fmt.Fprintf(&reg, "merge %s\n", f)
	}
	out["plan.txt"] = []byte(plan.String())
	out["registry.txt"] = []byte(reg.String())
	return out
}

func TestGolden(t *testing.T) {
	cases := []struct{ spec string }{{"static-domain.yaml"}, {"dhcp-domain.yaml"}, {"dhcp-workgroup.yaml"}, {"server-license.yaml"}}
	for _, c := range cases {
		spec := readSpec(t, c.spec)
		for _, tg := range targets {
			if c.spec == "server-license.yaml" && tg.family != sysprep.Win2000 && tg.family != sysprep.Win2003 {
				continue // a licence mode exists on these only
			}
			name := fmt.Sprintf("%s-%v-%v", strings.TrimSuffix(c.spec, ".yaml"), tg.family, tg.arch)
			t.Run(name, func(t *testing.T) {
				dir := filepath.Join("testdata", "golden", name)
				got := goldenFiles(render(t, spec, tg.family, tg.arch))
				if *update {
					if err := os.RemoveAll(dir); err != nil {
						t.Fatal(err)
					}
					for n, data := range got {
						p := filepath.Join(dir, filepath.FromSlash(n))
						if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
							t.Fatal(err)
						}
						if err := os.WriteFile(p, data, 0o644); err != nil {
							t.Fatal(err)
						}
					}
					return
				}
				want := map[string][]byte{}
				err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
					if err != nil || d.IsDir() {
						return err
					}
					data, err := os.ReadFile(p)
					rel, _ := filepath.Rel(dir, p)
					want[filepath.ToSlash(rel)] = data
					return err
				})
				if err != nil {
					t.Fatalf("%v (run with -update to create the golden files)", err)
				}
				for n := range want {
					if _, ok := got[n]; !ok {
						t.Errorf("%s: golden file no longer rendered", n)
					}
				}
				for n, data := range got {
					if !bytes.Equal(want[n], data) {
						t.Errorf("%s differs from the golden file (run with -update after checking):\n%s", n, cmp.Diff(string(want[n]), string(data)))
					}
				}
			})
		}
	}
}

// stepIndexes returns the positions of the plan's steps of kind k.
func stepIndexes(plan []sysprep.Step, k sysprep.StepKind) []int {
	var idx []int
	for i, s := range plan {
		if s.Kind == k {
			idx = append(idx, i)
		}
	}
	return idx
}

var phaseOrder = []string{sysprep.PhaseOffline, sysprep.PhaseBoot, sysprep.PhaseMiniSetup, sysprep.PhaseCmdlines,
	sysprep.PhaseSpecialize, sysprep.PhaseOOBE, sysprep.PhaseSetupComplete, sysprep.PhaseFirstLogon}

// TestOrderingNetworkBeforeJoin is the guarantee the seed broke: with any
// static adapter, every network step comes strictly before the domain
// join, in every family, and no earlier step joins the domain instead.
func TestOrderingNetworkBeforeJoin(t *testing.T) {
	specs := map[string]*sysprep.Spec{
		"static-domain.yaml": readSpec(t, "static-domain.yaml"),
		"one static of three": func() *sysprep.Spec {
			s := readSpec(t, "dhcp-domain.yaml")
			s.Network.Adapters = append(s.Network.Adapters,
				sysprep.Adapter{MAC: "00:50:56:00:00:03"},
				sysprep.Adapter{MAC: "00:50:56:00:00:04", IPv4: "10.1.2.3/16", Gateways: []string{"10.1.0.1"}})
			return s
		}(),
		"static, no gateway": func() *sysprep.Spec {
			s := readSpec(t, "dhcp-domain.yaml")
			s.Network.Adapters[0].IPv4 = "172.16.0.9/12"
			return s
		}(),
		"dhcp with static DNS": func() *sysprep.Spec {
			s := readSpec(t, "dhcp-domain.yaml")
			s.Network.Adapters[0].DNSServers = []string{"10.0.0.53"}
			return s
		}(),
	}
	for name, spec := range specs {
		for _, tg := range targets {
			t.Run(fmt.Sprintf("%s/%v-%v", name, tg.family, tg.arch), func(t *testing.T) {
				r := render(t, spec, tg.family, tg.arch)
				nets := stepIndexes(r.Plan, sysprep.StepNetwork)
				joins := stepIndexes(r.Plan, sysprep.StepJoinDomain)
				if len(nets) != len(spec.Network.Adapters) || len(joins) != 1 {
					t.Fatalf("%d network steps and %d joins in plan:\n%s", len(nets), len(joins), planText(r))
				}
				if last := nets[len(nets)-1]; joins[0] <= last {
					t.Errorf("domain join at step %d, not after the last network step %d:\n%s", joins[0], last, planText(r))
				}
				join := r.Plan[joins[0]]
				if join.Phase == sysprep.PhaseMiniSetup || join.Phase == sysprep.PhaseSpecialize {
					t.Errorf("join in %s, the phase the network is configured in:\n%s", join.Phase, planText(r))
				}
				// The answer files themselves hold no domain join.
				if f := r.File(sysprep.SysprepInfPath); f != nil && strings.Contains(f.Content, "JoinDomain=") {
					t.Errorf("sysprep.inf joins the domain itself:\n%s", f.Content)
				}
				if f := r.File(sysprep.UnattendPath); f != nil && strings.Contains(f.Content, "<JoinDomain>") {
					t.Errorf("unattend.xml joins the domain itself")
				}
				// The join script waits for every static address.
				js := r.Files[slices.IndexFunc(r.Files, func(f sysprep.File) bool { return strings.HasSuffix(f.Path, `\joindom.vbs`) })]
				for _, a := range spec.Network.Adapters {
					if a.Static() && !strings.Contains(js.Content, `WaitForAddress("`+strings.ToUpper(strings.ReplaceAll(a.MAC, "-", ":"))) {
						t.Errorf("joindom.vbs does not wait for %s", a.MAC)
					}
				}
				checkPhases(t, r)
			})
		}
	}
}

// TestOrderingDirectJoin: without any adapter to configure, the answer
// file joins the domain itself (XP, 2003, Vista); Windows 2000 always
// joins by script.
func TestOrderingDirectJoin(t *testing.T) {
	spec := readSpec(t, "dhcp-domain.yaml")
	for _, tg := range targets {
		r := render(t, spec, tg.family, tg.arch)
		joins := stepIndexes(r.Plan, sysprep.StepJoinDomain)
		if len(joins) != 1 {
			t.Fatalf("%v: %d joins:\n%s", tg.family, len(joins), planText(r))
		}
		want := map[sysprep.Family]string{sysprep.Win2000: sysprep.PhaseCmdlines, sysprep.WinXP: sysprep.PhaseMiniSetup,
			sysprep.Win2003: sysprep.PhaseMiniSetup, sysprep.Vista: sysprep.PhaseSpecialize}[tg.family]
		if got := r.Plan[joins[0]].Phase; got != want {
			t.Errorf("%v: join in %s, want %s", tg.family, got, want)
		}
		checkPhases(t, r)
	}
}

// TestOfflineJoinBlob: the djoin blob joins in specialize without a
// domain controller, so it needs no wait even with static adapters.
func TestOfflineJoinBlob(t *testing.T) {
	spec := readSpec(t, "static-domain.yaml")
	spec.Membership = sysprep.Membership{OfflineJoinBlob: "QUJDRA=="}
	r := render(t, spec, sysprep.Vista, sysprep.AMD64)
	u := r.File(sysprep.UnattendPath).Content
	if !strings.Contains(u, "<AccountData>QUJDRA==</AccountData>") || r.File(`\Windows\imagecustom\joindom.vbs`) != nil {
		t.Errorf("offline join:\n%s", u)
	}
	nets, joins := stepIndexes(r.Plan, sysprep.StepNetwork), stepIndexes(r.Plan, sysprep.StepJoinDomain)
	if len(joins) != 1 || joins[0] < nets[len(nets)-1] {
		t.Errorf("plan:\n%s", planText(r))
	}
}

// checkPhases checks that the plan's phases never go back.
func checkPhases(t *testing.T, r *sysprep.Result) {
	t.Helper()
	last := 0
	for _, s := range r.Plan {
		i := slices.Index(phaseOrder, s.Phase)
		if i < 0 || i < last {
			t.Errorf("step %v in phase %q out of order:\n%s", s.Kind, s.Phase, planText(r))
			return
		}
		last = i
	}
}

func planText(r *sysprep.Result) string {
	var b strings.Builder
	for i, s := range r.Plan {
		fmt.Fprintf(&b, "%2d %s\n", i, s)
	}
	return b.String()
}

func TestRenderErrors(t *testing.T) {
	spec := readSpec(t, "static-domain.yaml")
	if _, err := sysprep.Render(spec, sysprep.Options{Family: sysprep.Win2000, Arch: sysprep.AMD64}); !errors.Is(err, sysprep.ErrUnsupported) {
		t.Errorf("win2000 amd64: %v", err)
	}
	if _, err := sysprep.Render(spec, sysprep.Options{Family: sysprep.WinXP, Arch: sysprep.ARM64}); !errors.Is(err, sysprep.ErrUnsupported) {
		t.Errorf("winxp arm64: %v", err)
	}
	spec.Network.Adapters[0].Gateways = []string{"10.0.0.300"}
	_, err := sysprep.Render(spec, sysprep.Options{Family: sysprep.Vista})
	var pe *sysprep.ProblemsError
	if !errors.Is(err, sysprep.ErrInvalid) || !errors.As(err, &pe) || len(pe.Problems) != 1 ||
		pe.Problems[0].Path != "network.adapters[0].gateways[0]" {
		t.Errorf("invalid spec: %v", err)
	}
}

func TestFileCollisions(t *testing.T) {
	spec := readSpec(t, "dhcp-workgroup.yaml")
	spec.Files = []sysprep.File{
		{Path: `\Windows\a.txt`, Content: "a"},
		{Path: `C:/windows/SETUP/Scripts/SetupComplete.cmd`, Content: "mine"},
		{Path: `\WINDOWS\A.TXT`, Content: "b"},
	}
	problems := func() []string {
		_, err := sysprep.Render(spec, sysprep.Options{Family: sysprep.Vista})
		var pe *sysprep.ProblemsError
		if !errors.As(err, &pe) {
			t.Fatalf("err %v", err)
		}
		var got []string
		for _, p := range pe.Problems {
			got = append(got, p.String())
		}
		return got
	}
	// Two of the spec's files: Validate.
	if diff := cmp.Diff([]string{`files[2].path: \WINDOWS\A.TXT is also files[0]'s`}, problems()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A spec's file where the rendering writes one: Render.
	spec.Files = spec.Files[:2]
	if diff := cmp.Diff([]string{`files[1].path: \Windows\Setup\Scripts\SetupComplete.cmd is a file the vista rendering writes`}, problems()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestComputerNamePrefix(t *testing.T) {
	spec := readSpec(t, "dhcp-workgroup.yaml")
	r, err := sysprep.Render(spec, sysprep.Options{Family: sysprep.Vista, Rand: bytes.NewReader([]byte{0, 1, 35, 36})})
	if err != nil || r.ComputerName != "labAB9A" {
		t.Errorf("name %q, %v; want labAB9A", r.ComputerName, err)
	}
	r, err = sysprep.Render(&sysprep.Spec{}, sysprep.Options{Family: sysprep.Vista})
	if err != nil || r.ComputerName != "*" {
		t.Errorf("no name: %q, %v", r.ComputerName, err)
	}
}

func TestEncodePassword(t *testing.T) {
	// "pw" + "Password" as UTF-16LE, in base64.
	if got, want := sysprep.EncodePassword("pw", "Password"), "cAB3AFAAYQBzAHMAdwBvAHIAZAA="; got != want {
		t.Errorf("EncodePassword = %s, want %s", got, want)
	}
	// An encoded administrator password is accepted and re-encoded for
	// AutoLogon.
	spec := readSpec(t, "static-domain.yaml")
	spec.Identity.AdminPassword = &sysprep.Password{Encoded: sysprep.EncodePassword("S3cret!pass", "AdministratorPassword")}
	a := render(t, spec, sysprep.Vista, sysprep.AMD64).File(sysprep.UnattendPath).Content
	b := render(t, readSpec(t, "static-domain.yaml"), sysprep.Vista, sysprep.AMD64).File(sysprep.UnattendPath).Content
	if a != b {
		t.Errorf("encoded and plain passwords render differently:\n%s", cmp.Diff(b, a))
	}
	spec.Identity.AdminPassword.Encoded = sysprep.EncodePassword("x", "Password")
	if p := sysprep.Validate(spec, sysprep.Vista); len(p) != 1 || p[0].Path != "identity.adminPassword.encoded" {
		t.Errorf("wrongly encoded password: %v", p)
	}
}

func ExampleRender() {
	spec, err := sysprep.DecodeYAML([]byte(`
identity:
  computerName: WEB01
  fullName: Admin
  orgName: Example
  timeZone: W. Europe Standard Time
membership:
  domain: corp.example.com
  domainUser: CORP\joiner
  domainPassword: {plain: secret}
network:
  adapters:
    - mac: 00:50:56:9a:0b:0c
      ipv4: 192.0.2.10/24
      gateways: [192.0.2.1]
      dnsServers: [192.0.2.53]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := sysprep.Render(spec, sysprep.Options{Family: sysprep.WinXP, Arch: sysprep.X86})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range r.Plan[2:] {
		fmt.Println(s.Phase, s.Kind)
	}
	// Output:
	// mini-setup identity
	// mini-setup join-workgroup
	// cmdlines.txt network
	// cmdlines.txt join-domain
	// cmdlines.txt cleanup
}
