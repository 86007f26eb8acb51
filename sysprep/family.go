package sysprep

import (
	"fmt"
	"strings"
)

// Family is a group of Windows versions customized the same way.
type Family int

// The families, oldest first.
const (
	Win2000 Family = iota + 1 // Windows 2000: sysprep.inf (Sysprep 1.1), join by netdom
	WinXP                     // Windows XP: sysprep.inf
	Win2003                   // Windows Server 2003 (and XP x64): sysprep.inf
	Vista                     // Vista, Server 2008 and every later version: unattend.xml
)

var familyNames = map[Family]string{Win2000: "win2000", WinXP: "winxp", Win2003: "win2003", Vista: "vista"}

// String returns the family's name as the command line takes it.
func (f Family) String() string {
	if s, ok := familyNames[f]; ok {
		return s
	}
	return fmt.Sprintf("Family(%d)", int(f))
}

// legacy reports whether the family is customized by sysprep.inf.
func (f Family) legacy() bool { return f == Win2000 || f == WinXP || f == Win2003 }

// ParseFamily returns the family named s: win2000, winxp, win2003 or vista
// (any case).
func ParseFamily(s string) (Family, error) {
	for f, name := range familyNames {
		if strings.EqualFold(s, name) {
			return f, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown OS family %q (want win2000, winxp, win2003 or vista)", ErrUnsupported, s)
}

// Arch is a processor architecture.
type Arch int

// The architectures.
const (
	X86   Arch = iota + 1 // 32-bit x86
	AMD64                 // x64
	ARM64                 // 64-bit ARM (Windows 10 and later)
)

var archNames = map[Arch]string{X86: "x86", AMD64: "amd64", ARM64: "arm64"}

// String returns the architecture as unattend.xml's processorArchitecture
// spells it.
func (a Arch) String() string {
	if s, ok := archNames[a]; ok {
		return s
	}
	return fmt.Sprintf("Arch(%d)", int(a))
}

// ParseArch returns the architecture named s: x86, amd64 or arm64 (any
// case; x64 is taken for amd64).
func ParseArch(s string) (Arch, error) {
	if strings.EqualFold(s, "x64") {
		return AMD64, nil
	}
	for a, name := range archNames {
		if strings.EqualFold(s, name) {
			return a, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown architecture %q (want x86, amd64 or arm64)", ErrUnsupported, s)
}

// supports reports whether family f exists for architecture a.
func (f Family) supports(a Arch) bool {
	switch f {
	case Win2000:
		return a == X86
	case WinXP, Win2003:
		return a == X86 || a == AMD64
	case Vista:
		return a == X86 || a == AMD64 || a == ARM64
	}
	return false
}
