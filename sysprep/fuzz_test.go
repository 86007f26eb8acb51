package sysprep_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/imagecustom/go-imagecustom/sysprep"
)

// addSeeds adds every file of testdata/<dir> matching pattern.
func addSeeds(f *testing.F, dir, pattern string) {
	paths, _ := filepath.Glob(filepath.Join("testdata", dir, pattern))
	if len(paths) == 0 {
		f.Fatalf("no seeds in %s/%s", dir, pattern)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// checkDecoded runs what follows a successful decode: Validate for every
// family, Render when valid (which must then succeed), and the JSON form
// reading back the same spec.
func checkDecoded(t *testing.T, spec *sysprep.Spec) {
	for _, tg := range targets {
		if len(sysprep.Errors(sysprep.Validate(spec, tg.family))) > 0 {
			continue
		}
		_, err := sysprep.Render(spec, sysprep.Options{Family: tg.family, Arch: tg.arch, Rand: bytes.NewReader(make([]byte, 8))})
		var pe *sysprep.ProblemsError
		if errors.As(err, &pe) && strings.HasPrefix(pe.Problems[0].Path, "files[") {
			continue // a file where the rendering writes one: found only by Render
		}
		if err != nil {
			t.Fatalf("%v %v: a valid spec does not render: %v", tg.family, tg.arch, err)
		}
	}
	var buf bytes.Buffer
	if err := sysprep.EncodeJSON(&buf, spec); err != nil {
		t.Fatal(err)
	}
	back, err := sysprep.DecodeJSON(buf.Bytes())
	if err != nil {
		t.Fatalf("JSON form does not decode: %v\n%s", err, buf.Bytes())
	}
	// Empty and absent lists mean the same; the JSON form omits both.
	if diff := cmp.Diff(spec, back, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("JSON round trip (-want +got):\n%s", diff)
	}
}

func FuzzDecodeYAML(f *testing.F) {
	addSeeds(f, "specs", "*.yaml")
	f.Add([]byte("identity: &a {fullName: x}\nmembership: *a\n"))
	f.Add([]byte("network:\n  adapters:\n  - {mac: 00:50:56:00:00:01, ipv4: 10.0.0.5/24, gateways: [10.0.0.1]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := sysprep.DecodeYAML(data)
		if err != nil {
			return
		}
		checkDecoded(t, spec)
	})
}

func FuzzDecodeJSON(f *testing.F) {
	addSeeds(f, "specs", "*.json")
	f.Add([]byte(`{"identity": {"autoLogonCount": 1e3}}`))
	f.Add([]byte(`[{"identity": {}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := sysprep.DecodeJSON(data)
		if err != nil {
			return
		}
		checkDecoded(t, spec)
	})
}

func FuzzDecodeVCenter(f *testing.F) {
	addSeeds(f, "vcenter", "*.xml")
	f.Fuzz(func(t *testing.T, data []byte) {
		spec, err := sysprep.DecodeVCenter(data)
		if err != nil {
			return
		}
		checkDecoded(t, spec)
	})
}
