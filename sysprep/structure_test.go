package sysprep_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/sysprep"
)

// xnode is a parsed XML element: name, attributes by local name (with
// the namespace prefix for wcm), children, text.
type xnode struct {
	name     string
	space    string
	attrs    map[string]string
	children []*xnode
	text     string
}

func parseXML(t *testing.T, data []byte) *xnode {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var stack []*xnode
	var root *xnode
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			n := &xnode{name: tk.Name.Local, space: tk.Name.Space, attrs: map[string]string{}}
			for _, a := range tk.Attr {
				key := a.Name.Local
				if a.Name.Space == "http://schemas.microsoft.com/WMIConfig/2002/State" {
					key = "wcm:" + key
				}
				n.attrs[key] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tk)
			}
		}
	}
	return root
}

// sampleOrder collects, from the real answer files, for each element
// path (pass/component/…/element) the order in which pairs of child
// names occur: before[path][a][b] is true when some sample has a child a
// before a child b.
type sampleOrder map[string]map[string]map[string]bool

func (o sampleOrder) collect(n *xnode, path string) {
	seen := []string{}
	for _, c := range n.children {
		for _, prev := range seen {
			if prev == c.name {
				continue
			}
			if o[path] == nil {
				o[path] = map[string]map[string]bool{}
			}
			if o[path][prev] == nil {
				o[path][prev] = map[string]bool{}
			}
			o[path][prev][c.name] = true
		}
		seen = append(seen, c.name)
		o.collect(c, path+"/"+childKey(c))
	}
}

// childKey names an element in a path: components and passes by their
// name attribute, others by element name.
func childKey(n *xnode) string {
	switch n.name {
	case "settings":
		return n.attrs["pass"]
	case "component":
		return n.attrs["name"]
	}
	return n.name
}

func loadSamples(t *testing.T) []*xnode {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "real", "answerfiles", "*.xml"))
	if len(paths) < 7 {
		t.Fatalf("real answer files missing: %v", paths)
	}
	var roots []*xnode
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, parseXML(t, data))
	}
	return roots
}

// checkUnattend checks the patterns every real sample follows, and our
// own stricter rules when strict is set.
func checkUnattend(t *testing.T, root *xnode, arch string, strict bool) {
	t.Helper()
	if root.name != "unattend" || root.space != "urn:schemas-microsoft-com:unattend" {
		t.Fatalf("root <%s xmlns=%q>", root.name, root.space)
	}
	passes := []string{"windowsPE", "offlineServicing", "generalize", "specialize", "auditSystem", "auditUser", "oobeSystem"}
	lastPass := -1
	seenPass := map[string]bool{}
	for _, s := range root.children {
		if s.name == "offlineImage" || s.name == "servicing" {
			continue
		}
		if s.name != "settings" {
			t.Errorf("<%s> under unattend", s.name)
			continue
		}
		p := s.attrs["pass"]
		i := slices.Index(passes, p)
		if i < 0 || seenPass[p] {
			t.Errorf("pass %q unknown or repeated", p)
		}
		seenPass[p] = true
		if strict && i < lastPass {
			t.Errorf("pass %s out of Setup's order", p)
		}
		lastPass = i
		var names []string
		for _, c := range s.children {
			if c.name != "component" {
				t.Errorf("<%s> in pass %s", c.name, p)
				continue
			}
			names = append(names, c.attrs["name"])
			want := map[string]string{"publicKeyToken": "31bf3856ad364e35", "language": "neutral", "versionScope": "nonSxS"}
			if arch != "" {
				want["processorArchitecture"] = arch
			}
			for k, v := range want {
				if c.attrs[k] != v {
					t.Errorf("%s/%s: %s=%q, want %q", p, c.attrs["name"], k, c.attrs[k], v)
				}
			}
			if !strings.HasPrefix(c.attrs["name"], "Microsoft-Windows-") {
				t.Errorf("component %q", c.attrs["name"])
			}
			checkListItems(t, c, p+"/"+c.attrs["name"])
		}
		if strict && !slices.IsSorted(names) {
			t.Errorf("pass %s: components %v not in name order", p, names)
		}
	}
}

// checkListItems checks that list entries (elements that repeat under one
// parent, and the known list item names) carry wcm:action="add", and that
// passwords are encoded.
func checkListItems(t *testing.T, n *xnode, path string) {
	t.Helper()
	for _, c := range n.children {
		switch c.name {
		case "IpAddress", "Route", "Interface", "SynchronousCommand", "RunSynchronousCommand", "DomainName", "LocalAccount", "PathAndCredentials":
			if c.attrs["wcm:action"] != "add" {
				t.Errorf("%s/%s without wcm:action=\"add\"", path, c.name)
			}
		}
		checkListItems(t, c, path+"/"+c.name)
	}
}

func TestSamplesFollowPatterns(t *testing.T) {
	for _, s := range loadSamples(t) {
		checkUnattend(t, s, "amd64", false)
	}
}

// TestUnattendStructure: every rendered unattend.xml parses, follows the
// samples' patterns, keeps passes and components in order, names its
// architecture, and orders sibling elements as no sample contradicts.
func TestUnattendStructure(t *testing.T) {
	order := sampleOrder{}
	for _, s := range loadSamples(t) {
		order.collect(s, "")
	}
	for _, name := range []string{"static-domain.yaml", "dhcp-domain.yaml", "dhcp-workgroup.yaml"} {
		spec := readSpec(t, name)
		for _, tg := range targets {
			if tg.family != sysprep.Vista {
				continue
			}
			t.Run(fmt.Sprintf("%s/%v", name, tg.arch), func(t *testing.T) {
				r := render(t, spec, tg.family, tg.arch)
				data := []byte(r.File(sysprep.UnattendPath).Content)
				if !bytes.HasPrefix(data, []byte(`<?xml version="1.0" encoding="utf-8"?>`)) {
					t.Errorf("no UTF-8 XML declaration")
				}
				root := parseXML(t, data)
				checkUnattend(t, root, tg.arch.String(), true)
				checkAgainstSamples(t, order, root, "")
				checkPasswords(t, root, spec)
			})
		}
	}
}

// checkAgainstSamples fails when two sibling elements come in the
// reverse of the order every sample that has both uses.
func checkAgainstSamples(t *testing.T, order sampleOrder, n *xnode, path string) {
	t.Helper()
	for i, c := range n.children {
		for _, d := range n.children[i+1:] {
			if c.name != d.name && order[path][d.name][c.name] && !order[path][c.name][d.name] {
				t.Errorf("%s: <%s> before <%s>, the samples order them the other way", path, c.name, d.name)
			}
		}
		checkAgainstSamples(t, order, c, path+"/"+childKey(c))
	}
}

// checkPasswords checks PlainText false and the encoding of the
// administrator and automatic logon passwords.
func checkPasswords(t *testing.T, root *xnode, spec *sysprep.Spec) {
	t.Helper()
	var walk func(n *xnode, parent string)
	found := 0
	walk = func(n *xnode, parent string) {
		if n.name == "AdministratorPassword" || (n.name == "Password" && parent == "AutoLogon") {
			var value, plain string
			for _, c := range n.children {
				switch c.name {
				case "Value":
					value = c.text
				case "PlainText":
					plain = c.text
				}
			}
			suffix := "Password"
			if n.name == "AdministratorPassword" {
				suffix = "AdministratorPassword"
			}
			if plain != "false" || value != sysprep.EncodePassword(spec.Identity.AdminPassword.Plain, suffix) {
				t.Errorf("%s: value %q plaintext %q", n.name, value, plain)
			}
			found++
		}
		for _, c := range n.children {
			walk(c, n.name)
		}
	}
	walk(root, "")
	want := 0
	if spec.Identity.AdminPassword != nil {
		want = 1
		if spec.Identity.AutoLogonCount > 0 {
			want = 2
		}
	}
	if found != want {
		t.Errorf("%d passwords, want %d", found, want)
	}
}

// iniSection is a parsed INI section: keys in order.
type iniSection struct {
	name string
	keys []string
	vals map[string]string
}

// parseINI parses sysprep.inf as Windows' INI reader does, strictly:
// every line a section header, a comment, blank, or key=value; CRLF line
// ends only; no key twice in a section; a quoted value unquoted with ""
// standing for ".
func parseINI(t *testing.T, data []byte) []*iniSection {
	t.Helper()
	if bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\n")) || bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\r")) {
		t.Fatalf("line ends other than CRLF")
	}
	var secs []*iniSection
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\r\n"), "\r\n") {
		switch {
		case line == "", strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			secs = append(secs, &iniSection{name: line[1 : len(line)-1], vals: map[string]string{}})
		case strings.Contains(line, "=") && len(secs) > 0:
			k, v, _ := strings.Cut(line, "=")
			s := secs[len(secs)-1]
			if _, dup := s.vals[k]; dup {
				t.Errorf("line %d: key %s twice in [%s]", i+1, k, s.name)
			}
			if strings.HasPrefix(v, `"`) {
				if len(v) < 2 || !strings.HasSuffix(v, `"`) || strings.Contains(strings.ReplaceAll(v[1:len(v)-1], `""`, ""), `"`) {
					t.Errorf("line %d: badly quoted value %s", i+1, v)
				}
				v = strings.ReplaceAll(v[1:len(v)-1], `""`, `"`)
			}
			s.keys = append(s.keys, k)
			s.vals[k] = v
		default:
			t.Errorf("line %d: %q is not INI", i+1, line)
		}
	}
	return secs
}

// infKeys are the sections and keys the reference lists for sysprep.inf
// (shared/reference/windows-offline.md §3); a rendered file uses no
// others.
var infKeys = map[string][]string{
	"Unattended":           {"OemSkipEula", "InstallFilesPath", "OemPnPDriversPath", "KeepPageFile"},
	"GuiUnattended":        {"AdminPassword", "EncryptedAdminPassword", "AutoLogon", "AutoLogonCount", "OEMSkipWelcome", "OemSkipWelcome", "OEMSkipRegional", "TimeZone"},
	"UserData":             {"FullName", "OrgName", "ComputerName", "ProductKey", "ProductID"},
	"Identification":       {"JoinDomain", "DomainAdmin", "DomainAdminPassword", "JoinWorkgroup", "MachineObjectOU", "DoOldStyleDomainJoin"},
	"GuiRunOnce":           nil, // Command0, Command1…
	"LicenseFilePrintData": {"AutoMode", "AutoUsers"},
	"Networking":           {"InstallDefaultComponents"},
}

func TestSysprepInf(t *testing.T) {
	for _, name := range []string{"static-domain.yaml", "dhcp-domain.yaml", "dhcp-workgroup.yaml", "server-license.yaml"} {
		spec := readSpec(t, name)
		for _, tg := range targets {
			if tg.family == sysprep.Vista || (spec.Identity.LicenseMode != "" && tg.family == sysprep.WinXP) {
				continue
			}
			t.Run(fmt.Sprintf("%s/%v-%v", name, tg.family, tg.arch), func(t *testing.T) {
				r := render(t, spec, tg.family, tg.arch)
				secs := parseINI(t, []byte(r.File(sysprep.SysprepInfPath).Content))
				got := map[string]*iniSection{}
				for _, s := range secs {
					if got[s.name] != nil {
						t.Errorf("section [%s] twice", s.name)
					}
					got[s.name] = s
					keys, known := infKeys[s.name]
					if !known {
						t.Errorf("section [%s] not in the reference", s.name)
					}
					for i, k := range s.keys {
						if s.name == "GuiRunOnce" {
							if k != fmt.Sprintf("Command%d", i) || s.vals[k] != spec.RunOnce[i] {
								t.Errorf("[GuiRunOnce] %s=%q", k, s.vals[k])
							}
						} else if !slices.Contains(keys, k) {
							t.Errorf("[%s] %s not in the reference", s.name, k)
						}
					}
				}
				for _, must := range []string{"Unattended", "GuiUnattended", "UserData", "Identification"} {
					if got[must] == nil {
						t.Errorf("no [%s]", must)
					}
				}
				if got["UserData"].vals["ComputerName"] != r.ComputerName || got["UserData"].vals["FullName"] != spec.Identity.FullName {
					t.Errorf("[UserData] %v", got["UserData"].vals)
				}
				if i, _ := sysprep.TimeZoneIndex(spec.Identity.TimeZone); got["GuiUnattended"].vals["TimeZone"] != fmt.Sprintf("%03d", i) {
					t.Errorf("TimeZone=%s", got["GuiUnattended"].vals["TimeZone"])
				}
				c := r.File(sysprep.CmdlinesTxtPath).Content
				if !strings.HasPrefix(c, "[Commands]\r\n") {
					t.Errorf("cmdlines.txt: %q", c)
				}
				for _, line := range strings.Split(strings.TrimSpace(c), "\r\n")[1:] {
					if !strings.HasPrefix(line, `"`) || !strings.HasSuffix(line, `"`) || strings.Count(line, `"`) != 2 {
						t.Errorf("cmdlines.txt line %q is not one quoted command", line)
					}
				}
			})
		}
	}
}
