package imagecustom

import (
	"bytes"
	"debug/pe"
	"fmt"
)

// Machine and subsystem values of the PE format (Microsoft's "PE Format"
// specification, sections "Machine Types" and "Windows Subsystem").
const (
	peSubsystemNative    = 1        // IMAGE_SUBSYSTEM_NATIVE
	peFileExecutable     = 0x0002   // IMAGE_FILE_EXECUTABLE_IMAGE
	peFileDLL            = 0x2000   // IMAGE_FILE_DLL
	maxHookSize          = 64 << 20 // bytes
	peOptionalMagic32    = 0x10b    // PE32
	peOptionalMagic64    = 0x20b    // PE32+
	peMachineUnknownName = "unknown"
)

// peMachines maps this package's architecture names to PE machine types
// and the optional header each needs (PE32 or PE32+).
var peMachines = map[string]struct {
	machine uint16
	magic   uint16
}{
	"x86":   {pe.IMAGE_FILE_MACHINE_I386, peOptionalMagic32},
	"amd64": {pe.IMAGE_FILE_MACHINE_AMD64, peOptionalMagic64},
	"arm64": {pe.IMAGE_FILE_MACHINE_ARM64, peOptionalMagic64},
	"ia64":  {pe.IMAGE_FILE_MACHINE_IA64, peOptionalMagic64},
}

// machineName names a PE machine type for messages.
func machineName(m uint16) string {
	for name, pm := range peMachines {
		if pm.machine == m {
			return name
		}
	}
	return fmt.Sprintf("%s (0x%04x)", peMachineUnknownName, m)
}

// CheckHookPE checks that exe can be a boot hook of a Windows install of
// architecture arch ("x86", "amd64", "arm64", "ia64", as [Windows.Arch]
// names them): a well-formed PE image (read with [debug/pe]) whose
// sections all lie inside the file, an executable and not a DLL, of the
// native subsystem (1) — smss starts only those from BootExecute, and
// autochk.exe is one — and of arch's machine type with the matching
// optional header (PE32 for x86, PE32+ for the others). The error names
// what is wrong and matches [ErrBadHook] (and so [ErrUnsafe]).
func CheckHookPE(exe []byte, arch string) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadHook, fmt.Sprintf(format, args...))
	}
	want, ok := peMachines[arch]
	if !ok {
		if arch == "" {
			return bad("the install's architecture is unknown, so no hook can be checked against it")
		}
		return bad("unknown architecture %q (want x86, amd64, arm64 or ia64)", arch)
	}
	switch {
	case len(exe) == 0:
		return bad("the file is empty")
	case len(exe) > maxHookSize:
		return bad("%d bytes: over the %d MiB a boot hook may have", len(exe), maxHookSize>>20)
	case len(exe) < 2 || exe[0] != 'M' || exe[1] != 'Z':
		return bad("not a PE file: no MZ header")
	}
	f, err := pe.NewFile(bytes.NewReader(exe))
	if err != nil {
		return bad("not a well-formed PE file: %v", err)
	}
	defer f.Close()
	var subsystem, magic uint16
	var sizeOfHeaders uint32
	switch oh := f.OptionalHeader.(type) {
	case *pe.OptionalHeader32:
		subsystem, magic, sizeOfHeaders = oh.Subsystem, oh.Magic, oh.SizeOfHeaders
	case *pe.OptionalHeader64:
		subsystem, magic, sizeOfHeaders = oh.Subsystem, oh.Magic, oh.SizeOfHeaders
	default:
		return bad("a COFF object without an optional header, not an executable image")
	}
	if int64(sizeOfHeaders) > int64(len(exe)) {
		return bad("truncated: its headers claim %d bytes, the file has %d", sizeOfHeaders, len(exe))
	}
	if len(f.Sections) == 0 {
		return bad("no sections")
	}
	for _, s := range f.Sections {
		if s.Size == 0 {
			continue
		}
		if end := int64(s.Offset) + int64(s.Size); end > int64(len(exe)) {
			return bad("truncated: section %q ends at byte %d, the file has %d", s.Name, end, len(exe))
		}
	}
	if f.Characteristics&peFileExecutable == 0 {
		return bad("not marked executable (characteristics 0x%04x)", f.Characteristics)
	}
	if f.Characteristics&peFileDLL != 0 {
		return bad("a DLL, not a program")
	}
	if subsystem != peSubsystemNative {
		return bad("subsystem %d (%s), not native (1): smss runs only native programs before Windows starts", subsystem, subsystemName(subsystem))
	}
	if f.Machine != want.machine {
		return bad("machine %s, but the install is %s", machineName(f.Machine), arch)
	}
	if magic != want.magic {
		return bad("optional header magic 0x%x does not fit machine %s", magic, arch)
	}
	return nil
}

// subsystemName names a PE subsystem for messages.
func subsystemName(s uint16) string {
	switch s {
	case 1:
		return "native"
	case 2:
		return "Windows GUI"
	case 3:
		return "Windows console"
	case 9:
		return "Windows CE GUI"
	case 10, 11, 12:
		return "EFI"
	case 16:
		return "boot application"
	}
	return "unknown"
}
