package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/hive"
)

func writeSpec(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "spec.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(p), "extra.txt"), []byte("extra"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const cliSpec = `identity:
  computerName: WEB01
  fullName: Admin
  orgName: Example
  timeZone: W. Europe Standard Time
  adminPassword: {plain: pw}
membership:
  domain: corp.example.com
  domainUser: CORP\joiner
  domainPassword: {plain: secret}
network:
  adapters:
    - mac: 00:50:56:9a:0b:0c
      ipv4: 192.0.2.10/24
      gateways: [192.0.2.1]
files:
  - path: \Windows\extra.txt
    source: extra.txt
`

func TestSysprepRender(t *testing.T) {
	spec := writeSpec(t, cliSpec)
	for _, tt := range []struct {
		os, arch string
		files    []string
	}{
		{"winxp", "", []string{"Sysprep/sysprep.inf", "Sysprep/i386/$OEM$/cmdlines.txt", "Windows/imagecustom/setnet.vbs", "Windows/imagecustom/joindom.vbs", "registry.reg"}},
		{"win2000", "x86", []string{"Sysprep/sysprep.inf", "WINNT/imagecustom/joindom.vbs"}},
		{"vista", "arm64", []string{"Windows/Panther/unattend.xml", "Windows/Setup/Scripts/SetupComplete.cmd"}},
	} {
		out := filepath.Join(t.TempDir(), "out")
		args := []string{"sysprep", "render", "--spec", spec, "--os", tt.os, "--out", out}
		if tt.arch != "" {
			args = append(args, "--arch", tt.arch)
		}
		code, stdout, stderr := runCLI(t, args...)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", tt.os, code, stderr)
		}
		for _, f := range append(tt.files, "plan.txt", "Windows/extra.txt") {
			if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(f))); err != nil {
				t.Errorf("%s: %v", tt.os, err)
			}
		}
		if !strings.Contains(stdout, "join-domain") {
			t.Errorf("%s: stdout lacks the plan:\n%s", tt.os, stdout)
		}
	}
}

func TestSysprepRenderRegistryImports(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	if code, _, stderr := runCLI(t, "sysprep", "render", "--spec", writeSpec(t, cliSpec), "--os", "win2003", "--out", out); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(filepath.Join(out, "registry.reg"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte{0xff, 0xfe}) {
		t.Errorf("registry.reg has no UTF-16LE BOM")
	}
	// The file imports into a SYSTEM hive as regedit would.
	h := hive.New("SYSTEM")
	if _, err := hive.Import(h, bytes.NewReader(data), &hive.ImportOptions{Prefix: `HKEY_LOCAL_MACHINE\SYSTEM`}); err != nil {
		t.Fatalf("import: %v", err)
	}
	k, err := h.Key(`Setup`)
	if err != nil {
		t.Fatal(err)
	}
	v, err := k.Value("CmdLine")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := v.String(); err != nil || s != "setup -newsetup -mini" {
		t.Errorf("CmdLine = %q, %v", s, err)
	}
}

func TestSysprepRenderJSON(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCLI(t, "--json", "sysprep", "render", "--spec", writeSpec(t, cliSpec), "--os", "vista", "--out", out)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var doc sysprepRenderJSON
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if doc.Family != "vista" || doc.Arch != "amd64" || doc.ComputerName != "WEB01" || len(doc.Plan) == 0 || len(doc.Files) < 4 {
		t.Errorf("%+v", doc)
	}
}

func TestSysprepRenderProblems(t *testing.T) {
	spec := writeSpec(t, strings.Replace(cliSpec, "192.0.2.1]", "10.0.0.300]", 1))
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCLI(t, "sysprep", "render", "--spec", spec, "--os", "winxp", "--out", out)
	if code != exitProblems || !strings.Contains(stdout, `network.adapters[0].gateways[0]: "10.0.0.300" is not an IPv4 address`) ||
		!strings.Contains(stderr, "1 problem found") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("wrote %s despite problems", out)
	}
	code, stdout, _ = runCLI(t, "--json", "sysprep", "render", "--spec", spec, "--os", "winxp", "--out", out)
	var doc sysprepProblemsJSON
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != exitProblems || len(doc.Problems) != 1 ||
		doc.Problems[0].Path != "network.adapters[0].gateways[0]" {
		t.Errorf("--json: exit %d, %v, %s", code, err, stdout)
	}
}

func TestSysprepRenderErrors(t *testing.T) {
	spec := writeSpec(t, cliSpec)
	bad := writeSpec(t, "identity:\n  computerName: A\n  colour: red\nnetwrok: {}\n")
	out := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no spec", []string{"--os", "winxp", "--out", out}, exitUsage, "--spec is required"},
		{"no os", []string{"--spec", spec, "--out", out}, exitUsage, "--os is required"},
		{"no out", []string{"--spec", spec, "--os", "winxp"}, exitUsage, "--out is required"},
		{"bad os", []string{"--spec", spec, "--os", "win95", "--out", out}, exitUsage, "unknown OS family"},
		{"bad arch", []string{"--spec", spec, "--os", "winxp", "--arch", "mips", "--out", out}, exitUsage, "unknown architecture"},
		{"arch the family lacks", []string{"--spec", spec, "--os", "win2000", "--arch", "amd64", "--out", out}, exitError, "does not exist for amd64"},
		{"missing spec", []string{"--spec", filepath.Join(out, "nope.yaml"), "--os", "winxp", "--out", out}, exitError, "no such file"},
		{"missing source file", []string{"--spec", writeSpec(t, strings.Replace(cliSpec, "source: extra.txt", "source: nope.txt", 1)), "--os", "winxp", "--out", filepath.Join(out, "x")}, exitError, "nope.txt"},
		{"strict decoding", []string{"--spec", bad, "--os", "winxp", "--out", out}, exitError, "line 3: identity.colour: unknown field"},
		{"argument", []string{"extra", "--spec", spec, "--os", "winxp", "--out", out}, exitUsage, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"sysprep", "render"}, tt.args...)...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.stderr)
			}
		})
	}
	code, _, stderr := runCLI(t, "sysprep", "render", "--spec", bad, "--os", "winxp", "--out", out)
	if code != exitError || !strings.Contains(stderr, "line 4: netwrok: unknown field") {
		t.Errorf("second fault not reported: %d %s", code, stderr)
	}
}

func TestSysprepRenderVCenterXML(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	spec := filepath.Join("..", "..", "sysprep", "testdata", "vcenter", "sysprep-static-domain.xml")
	code, stdout, stderr := runCLI(t, "sysprep", "render", "--spec", spec, "--os", "vista", "--out", out)
	if code != exitOK || !strings.Contains(stdout, "join-domain") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, _, stderr = runCLI(t, "sysprep", "render", "--spec", filepath.Join(filepath.Dir(spec), "encrypted-password.xml"), "--os", "vista", "--out", out)
	if code != exitError || !strings.Contains(stderr, "spec.identity.guiUnattended.password") {
		t.Errorf("encrypted password: exit %d, %s", code, stderr)
	}
}

func TestSysprepRenderStdin(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	spec := strings.Replace(cliSpec, "files:\n  - path: \\Windows\\extra.txt\n    source: extra.txt\n", "", 1)
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"sysprep", "render", "--spec", "-", "--os", "vista", "--out", out}, strings.NewReader(spec), &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(out, "Windows", "Panther", "unattend.xml")); err != nil {
		t.Error(err)
	}
}

func TestSysprepRenderFileCollision(t *testing.T) {
	spec := writeSpec(t, strings.Replace(cliSpec, `\Windows\extra.txt`, `\Windows\Panther\unattend.xml`, 1))
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, _ := runCLI(t, "sysprep", "render", "--spec", spec, "--os", "vista", "--out", out)
	if code != exitProblems || !strings.Contains(stdout, "files[0].path: \\Windows\\Panther\\unattend.xml is a file the vista rendering writes") {
		t.Errorf("exit %d: %s", code, stdout)
	}
}
