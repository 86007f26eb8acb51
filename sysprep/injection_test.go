package sysprep_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/sysprep"
)

// hostile values that try to add INI keys or sections, XML elements, or
// commands.
var hostile = []string{
	"X\r\nJoinDomain=evil.example",
	"X\n[Identification]",
	`X"` + "\r\nAdminPassword=\"",
	"X</ComputerName><JoinDomain>evil</JoinDomain><ComputerName>",
	"X]]><JoinDomain>evil</JoinDomain>",
	"X & net user evil /add",
	"X | format c:",
	"%COMSPEC% /c evil",
	"X\x00Y",
	"X\u2028Y",
}

// TestInjectionNamesRefused: a hostile name anywhere is a validation
// problem, never output.
func TestInjectionNamesRefused(t *testing.T) {
	fields := map[string]func(s *sysprep.Spec, v string){
		"identity.computerName": func(s *sysprep.Spec, v string) { s.Identity.ComputerName = v },
		"identity.fullName":     func(s *sysprep.Spec, v string) { s.Identity.FullName = v },
		"identity.orgName":      func(s *sysprep.Spec, v string) { s.Identity.OrgName = v },
		"identity.timeZone":     func(s *sysprep.Spec, v string) { s.Identity.TimeZone = v },
		"membership.domain":     func(s *sysprep.Spec, v string) { s.Membership.Domain = v },
		"membership.domainUser": func(s *sysprep.Spec, v string) { s.Membership.DomainUser = v },
		"membership.ou":         func(s *sysprep.Spec, v string) { s.Membership.OU = "OU=" + v },
		"network.adapters[0].dnsDomain": func(s *sysprep.Spec, v string) {
			s.Network.Adapters[0].DNSDomain = v
		},
		"network.dnsSuffixes[0]": func(s *sysprep.Spec, v string) { s.Network.DNSSuffixes = []string{v} },
	}
	for field, set := range fields {
		for _, v := range hostile {
			if field == "identity.timeZone" && !strings.ContainsAny(v, "\r\n\x00\"<>&|%\u2028") {
				continue
			}
			if (field == "identity.fullName" || field == "identity.orgName") && !strings.ContainsAny(v, "\r\n\x00\"%\u2028") {
				continue // data in a quoted INF value and escaped XML: TestOwnerNamesAreData
			}
			for _, tg := range targets {
				spec := readSpec(t, "static-domain.yaml")
				set(spec, v)
				_, err := sysprep.Render(spec, sysprep.Options{Family: tg.family, Arch: tg.arch})
				var pe *sysprep.ProblemsError
				if !errors.As(err, &pe) {
					t.Errorf("%s=%q on %v: rendered, err %v", field, v, tg.family, err)
					continue
				}
				if !strings.HasPrefix(pe.Problems[0].Path, field) {
					t.Errorf("%s=%q on %v: first problem %s", field, v, tg.family, pe.Problems[0])
				}
			}
		}
	}
}

// hostilePasswords may be rendered (passwords may hold any printable
// character on Vista), but only as data.
var hostilePasswords = []string{
	`p"w`,
	`p</Password><JoinDomain>evil</JoinDomain><Password>`,
	`p&amp;w<!--`,
	`p" & CreateObject("WScript.Shell").Run("evil") & "`,
	`p%COMSPEC%^&|<>`,
	`p'w`,
}

// TestInjectionPasswordsVista: on Vista a hostile domain or administrator
// password renders, and comes back from the XML exactly, with no element
// added; in joindom.vbs it stays inside its string literal.
func TestInjectionPasswordsVista(t *testing.T) {
	for _, pw := range hostilePasswords {
		t.Run(pw, func(t *testing.T) {
			// Direct join: the password is in unattend.xml's Credentials.
			spec := readSpec(t, "dhcp-domain.yaml")
			spec.Membership.DomainPassword.Plain = pw
			spec.Identity.AdminPassword = &sysprep.Password{Plain: pw}
			r := render(t, spec, sysprep.Vista, sysprep.AMD64)
			root := parseXML(t, []byte(r.File(sysprep.UnattendPath).Content))
			var got []string
			elements := 0
			var walk func(n *xnode)
			walk = func(n *xnode) {
				elements++
				if n.name == "Password" && len(n.children) == 0 {
					got = append(got, n.text)
				}
				if n.name == "JoinDomain" && n.text != "corp.example.com" {
					t.Errorf("JoinDomain %q", n.text)
				}
				for _, c := range n.children {
					walk(c)
				}
			}
			walk(root)
			if len(got) != 1 || got[0] != pw {
				t.Errorf("Credentials/Password = %q, want %q", got, pw)
			}
			clean := readSpec(t, "dhcp-domain.yaml")
			clean.Identity.AdminPassword = &sysprep.Password{Plain: "x"}
			want := 0
			walk2 := func() int {
				n := 0
				var w func(x *xnode)
				w = func(x *xnode) {
					n++
					for _, c := range x.children {
						w(c)
					}
				}
				w(parseXML(t, []byte(render(t, clean, sysprep.Vista, sysprep.AMD64).File(sysprep.UnattendPath).Content)))
				return n
			}
			want = walk2()
			if elements != want {
				t.Errorf("%d elements, a clean spec has %d", elements, want)
			}

			// Deferred join: the password is in joindom.vbs.
			spec = readSpec(t, "static-domain.yaml")
			spec.Membership.DomainPassword.Plain = pw
			r = render(t, spec, sysprep.Vista, sysprep.AMD64)
			vbs := r.File(`\Windows\imagecustom\joindom.vbs`).Content
			checkVBSLiteral(t, vbs, pw)
		})
	}
}

// checkVBSLiteral checks that every line holding pw holds it as one
// VBScript string literal, quotes doubled, and that no line of the script
// has an odd number of quotes.
func checkVBSLiteral(t *testing.T, vbs, pw string) {
	t.Helper()
	lit := `"` + strings.ReplaceAll(pw, `"`, `""`) + `"`
	if !strings.Contains(vbs, lit) {
		t.Errorf("joindom.vbs lacks the literal %s", lit)
	}
	for i, line := range strings.Split(vbs, "\r\n") {
		if strings.Count(line, `"`)%2 != 0 {
			t.Errorf("joindom.vbs line %d has unbalanced quotes: %s", i+1, line)
		}
	}
}

// TestInjectionLegacy: on Windows 2000–2003 a password with a double
// quote or % is refused (sysprep.inf cannot escape it); other hostile
// characters render as one quoted value; a command with quotes stays one
// [GuiRunOnce] key; a line break in a command is refused.
func TestInjectionLegacy(t *testing.T) {
	for _, f := range []sysprep.Family{sysprep.Win2000, sysprep.WinXP, sysprep.Win2003} {
		for _, pw := range hostilePasswords {
			spec := readSpec(t, "static-domain.yaml")
			spec.Identity.AdminPassword.Plain = pw
			spec.Membership.DomainPassword.Plain = pw
			r, err := sysprep.Render(spec, sysprep.Options{Family: f})
			if strings.ContainsAny(pw, `"%`) {
				if !errors.Is(err, sysprep.ErrInvalid) {
					t.Errorf("%v: password %q rendered", f, pw)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%v %q: %v", f, pw, err)
			}
			secs := parseINI(t, []byte(r.File(sysprep.SysprepInfPath).Content))
			for _, s := range secs {
				if s.name == "GuiUnattended" && s.vals["AdminPassword"] != pw {
					t.Errorf("%v: AdminPassword=%q", f, s.vals["AdminPassword"])
				}
				if s.name == "Identification" && (len(s.keys) != 1 || s.keys[0] != "JoinWorkgroup") {
					t.Errorf("%v: [Identification] %v", f, s.keys)
				}
			}
			vbs := r.File(`\` + winDir(f) + `\imagecustom\joindom.vbs`).Content
			if f == sysprep.Win2000 {
				// Inside the netdom command line's literal, quoted for
				// cmd.exe: /passwordd:""pw"".
				if !strings.Contains(vbs, `/passwordd:""`+pw+`""`) {
					t.Errorf("win2000: netdom password %q not quoted in:\n%s", pw, vbs)
				}
				checkVBSLiteral(t, vbs, "")
			} else {
				checkVBSLiteral(t, vbs, pw)
			}
		}
		// Commands: quotes and & are data in [GuiRunOnce].
		spec := readSpec(t, "static-domain.yaml")
		spec.RunOnce = []string{`cmd /c "echo a & echo b" > "C:\x y.txt"`, `X"` + `Command9="evil`}
		r, err := sysprep.Render(spec, sysprep.Options{Family: f})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range parseINI(t, []byte(r.File(sysprep.SysprepInfPath).Content)) {
			if s.name == "GuiRunOnce" && (fmt.Sprint(s.keys) != "[Command0 Command1]" || s.vals["Command1"] != spec.RunOnce[1]) {
				t.Errorf("%v: [GuiRunOnce] %v %q", f, s.keys, s.vals)
			}
		}
		spec.RunOnce = []string{"echo\r\nCommand1=evil"}
		if _, err := sysprep.Render(spec, sysprep.Options{Family: f}); !errors.Is(err, sysprep.ErrInvalid) {
			t.Errorf("%v: command with a line break rendered", f)
		}
	}
}

func winDir(f sysprep.Family) string {
	if f == sysprep.Win2000 {
		return "WINNT"
	}
	return "Windows"
}

// TestOwnerNamesAreData: "&", "<", ">" and "|" in the owner and
// organisation names (vCenter accepts "Lab & Co") render, and stay inside
// their quoted sysprep.inf value or their escaped unattend.xml element.
func TestOwnerNamesAreData(t *testing.T) {
	for _, v := range []string{"Lab & Co", "X | format c:", "X</RegisteredOrganization><JoinDomain>evil</JoinDomain>"} {
		for _, tg := range targets {
			spec := readSpec(t, "static-domain.yaml")
			spec.Identity.OrgName = v
			res, err := sysprep.Render(spec, sysprep.Options{Family: tg.family, Arch: tg.arch})
			if err != nil {
				t.Fatalf("%q on %v: %v", v, tg.family, err)
			}
			for _, f := range res.Files {
				if strings.HasSuffix(f.Path, ".xml") && strings.Contains(f.Content, "JoinDomain>evil") {
					t.Errorf("%q on %v: %s holds the markup unescaped", v, tg.family, f.Path)
				}
				if strings.Contains(f.Content, v) && strings.Count(f.Content, v) != strings.Count(f.Content, `OrgName="`+v+`"`)+strings.Count(f.Content, "<RegisteredOrganization>"+v+"<") {
					t.Errorf("%q on %v: %s holds the name outside its quoted OrgName value", v, tg.family, f.Path)
				}
			}
		}
	}
}
