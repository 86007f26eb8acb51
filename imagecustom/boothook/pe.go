package boothook

import (
	"crypto/sha256"
	_ "embed" // the prebuilt hooks
	"fmt"
)

// The hooks built by build.sh from csrc/ with Debian's mingw-w64; a test
// rebuilds them and fails when the bytes differ.
var (
	//go:embed hook-i386.exe
	peI386 []byte
	//go:embed hook-amd64.exe
	peAMD64 []byte
)

// PE returns a copy of the boot hook's native-subsystem PE for a Windows
// architecture as package imagecustom names it: "x86" (i386) or "amd64".
// For "arm64", and anything else, it returns an error wrapping
// [ErrUnsupported]: Debian packages no aarch64 mingw-w64 compiler.
func PE(arch string) ([]byte, error) {
	switch arch {
	case "x86", "i386":
		return append([]byte(nil), peI386...), nil
	case "amd64":
		return append([]byte(nil), peAMD64...), nil
	case "arm64":
		return nil, fmt.Errorf("%w: no arm64 boot hook: Debian has no aarch64 mingw-w64 cross compiler to build it", ErrUnsupported)
	}
	return nil, fmt.Errorf("%w: no boot hook for architecture %q", ErrUnsupported, arch)
}

// IsHook reports whether exe is one of the boot hooks [PE] returns, and for
// which architecture ("x86" or "amd64"), by SHA-256.
func IsHook(exe []byte) (arch string, ok bool) {
	sum := sha256.Sum256(exe)
	switch sum {
	case sha256.Sum256(peI386):
		return "x86", true
	case sha256.Sum256(peAMD64):
		return "amd64", true
	}
	return "", false
}
