package boothook_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStandsAlone keeps the package usable without the rest of the
// project (DESIGN.md): it imports no other package of this module and no
// third-party module, only the standard library.
func TestStandsAlone(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == "github.com/imagecustom/go-imagecustom/imagecustom/boothook":
		case strings.HasPrefix(dep, "github.com/imagecustom/"):
			t.Errorf("imports %s", dep)
		case strings.Contains(strings.SplitN(dep, "/", 2)[0], "."):
			t.Errorf("third-party dependency %s", dep)
		}
	}
}
