package sysprep_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/sysprep"
)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "specs", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func readSpec(t testing.TB, name string) *sysprep.Spec {
	t.Helper()
	data := readFile(t, name)
	spec, err := sysprep.Decode(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return spec
}

func TestYAMLAndJSONAgree(t *testing.T) {
	y := readSpec(t, "static-domain.yaml")
	j := readSpec(t, "static-domain.json")
	if diff := cmp.Diff(y, j); diff != "" {
		t.Errorf("YAML and JSON forms differ (-yaml +json):\n%s", diff)
	}
	if y.Network.Adapters[1].MAC != "00-50-56-9A-0B-0D" || y.Membership.DomainUser != `CORP\joiner` || y.Identity.AdminPassword.Plain != "S3cret!pass" {
		t.Errorf("decoded %+v", y)
	}
	// The JSON encoding reads back the same.
	var buf bytes.Buffer
	if err := sysprep.EncodeJSON(&buf, y); err != nil {
		t.Fatal(err)
	}
	back, err := sysprep.DecodeJSON(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(y, back); diff != "" {
		t.Errorf("EncodeJSON round trip (-want +got):\n%s", diff)
	}
}

func TestDecodeErrors(t *testing.T) {
	type fault struct {
		path string
		line int
		kind error
	}
	tests := []struct {
		name   string
		input  string
		faults []fault
	}{
		{"yaml unknown top field", "identity:\n  computerName: A\nnetwrok: {}\n",
			[]fault{{"netwrok", 3, sysprep.ErrUnknownField}}},
		{"yaml unknown nested field", "network:\n  adapters:\n    - mac: 00:50:56:00:00:01\n    - mac: 00:50:56:00:00:02\n      gatway: [1.2.3.4]\n",
			[]fault{{"network.adapters[1].gatway", 5, sysprep.ErrUnknownField}}},
		{"yaml type error int", "identity:\n  autoLogonCount: many\n",
			[]fault{{"identity.autoLogonCount", 2, sysprep.ErrType}}},
		{"yaml list for string", "identity:\n  fullName: [a, b]\n",
			[]fault{{"identity.fullName", 2, sysprep.ErrType}}},
		{"yaml string for list", "network:\n  dnsSuffixes: example.com\n",
			[]fault{{"network.dnsSuffixes", 2, sysprep.ErrType}}},
		{"yaml duplicate", "identity:\n  fullName: a\n  fullName: b\n",
			[]fault{{"identity.fullName", 3, sysprep.ErrDuplicate}}},
		{"yaml several faults", "identity:\n  bogus: 1\n  autoLogonCount: x\nruns: []\n",
			[]fault{{"identity.bogus", 2, sysprep.ErrUnknownField}, {"identity.autoLogonCount", 3, sysprep.ErrType}, {"runs", 4, sysprep.ErrUnknownField}}},
		{"yaml alias", "identity:\n  fullName: &a x\n  orgName: *a\n",
			[]fault{{"identity.orgName", 3, sysprep.ErrType}}},
		{"yaml syntax", "identity:\n  fullName: [\n", []fault{{"", 0, sysprep.ErrSyntax}}},
		{"yaml two documents", "identity: {}\n---\nnetwork: {}\n", []fault{{"", 2, sysprep.ErrSyntax}}},
		{"yaml top is a list", "- a\n", []fault{{"", 1, sysprep.ErrType}}},
		{"json unknown field", "{\n  \"identity\": {\n    \"computerName\": \"A\",\n    \"colour\": 1\n  }\n}\n",
			[]fault{{"identity.colour", 4, sysprep.ErrUnknownField}}},
		{"json number for string", "{\"identity\":\n {\"fullName\": 12}}",
			[]fault{{"identity.fullName", 2, sysprep.ErrType}}},
		{"json string for int", "{\"identity\": {\n\n\"autoLogonCount\": \"1\"}}",
			[]fault{{"identity.autoLogonCount", 3, sysprep.ErrType}}},
		{"json float for int", "{\"identity\": {\"autoLogonCount\": 1.5}}",
			[]fault{{"identity.autoLogonCount", 1, sysprep.ErrType}}},
		{"json case differs", "{\"Identity\": {}}", []fault{{"Identity", 1, sysprep.ErrUnknownField}}},
		{"json duplicate", "{\"runOnce\": [], \"runOnce\": []}", []fault{{"runOnce", 1, sysprep.ErrDuplicate}}},
		{"json syntax", "{\n\"identity\": {,}}", []fault{{"", 2, sysprep.ErrSyntax}}},
		{"json trailing data", "{} {}", []fault{{"", 1, sysprep.ErrSyntax}}},
		{"json truncated", "{\"identity\": {", []fault{{"", 1, sysprep.ErrSyntax}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := sysprep.Decode([]byte(tt.input))
			if err == nil {
				t.Fatalf("decoded %+v, want an error", spec)
			}
			var de *sysprep.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, sysprep.ErrDecode) {
				t.Fatalf("error %v is not a DecodeError", err)
			}
			if len(de.Fields) != len(tt.faults) {
				t.Fatalf("%d faults, want %d: %v", len(de.Fields), len(tt.faults), err)
			}
			for i, want := range tt.faults {
				got := de.Fields[i]
				if got.Path != want.path || (want.line != 0 && got.Line != want.line) || !errors.Is(got, want.kind) {
					t.Errorf("fault %d = %q line %d (%v), want %q line %d (%v)", i, got.Path, got.Line, got.Err, want.path, want.line, want.kind)
				}
				if !errors.Is(err, want.kind) {
					t.Errorf("errors.Is(err, %v) = false", want.kind)
				}
			}
			if tt.faults[0].path != "" && !strings.Contains(err.Error(), tt.faults[0].path) {
				t.Errorf("message %q does not name %s", err, tt.faults[0].path)
			}
		})
	}
}

func TestDecodeEmpty(t *testing.T) {
	for _, in := range []string{"", "\n# nothing\n", "{}", "null"} {
		spec, err := sysprep.Decode([]byte(in))
		if err != nil || spec == nil {
			t.Errorf("Decode(%q) = %v, %v", in, spec, err)
		}
	}
}
