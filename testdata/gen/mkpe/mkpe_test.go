package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/pe"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fixtures mirrors gen.sh: every committed image and the flags that make it.
var fixtures = []struct {
	file                        string
	machine, subsystem, variant string
}{
	{"autochk-i386.exe", "i386", "native", "autochk"},
	{"autochk-amd64.exe", "amd64", "native", "autochk"},
	{"hook-i386.exe", "i386", "native", "hook"},
	{"hook-amd64.exe", "amd64", "native", "hook"},
	{"console-amd64.exe", "amd64", "console", "hook"},
}

const fixtureDir = "../../pe"

func mustBuild(t *testing.T, machine, subsystem, variant string) []byte {
	t.Helper()
	cfg, err := parseConfig(machine, subsystem, variant)
	if err != nil {
		t.Fatal(err)
	}
	img, err := build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// refChecksum is an independent formulation of the PE checksum: sum all
// 16-bit little-endian words (checksum field as zero) in a wide accumulator,
// fold the carries into 16 bits at the end, add the file length.
func refChecksum(img []byte, csumOff int) uint32 {
	b := slices.Clone(img)
	clear(b[csumOff : csumOff+4])
	if len(b)%2 != 0 {
		b = append(b, 0)
	}
	var sum uint64
	for i := 0; i < len(b); i += 2 {
		sum += uint64(binary.LittleEndian.Uint16(b[i:]))
	}
	for sum>>16 != 0 {
		sum = sum&0xFFFF + sum>>16
	}
	return uint32(sum) + uint32(len(img))
}

func TestRefChecksumOddLength(t *testing.T) {
	// Words 0x0201 + 0xFFFF + 0x0003 (odd tail zero-padded), with the
	// "checksum field" at bytes 4..7 skipped: 0x10203, folded 0x0204,
	// plus the length 9.
	b := []byte{1, 2, 0xFF, 0xFF, 9, 9, 9, 9, 3}
	const want = 0x0204 + 9
	if got := peChecksum(b, 4); got != want {
		t.Errorf("peChecksum = %#x, want %#x", got, want)
	}
	if got := refChecksum(b, 4); got != want {
		t.Errorf("refChecksum = %#x, want %#x", got, want)
	}
}

// image wraps a parsed file with RVA-based accessors.
type image struct {
	t    *testing.T
	raw  []byte
	f    *pe.File
	is64 bool
	base uint64
}

func (im *image) at(rva uint32, n int) []byte {
	im.t.Helper()
	for _, s := range im.f.Sections {
		if rva >= s.VirtualAddress && rva+uint32(n) <= s.VirtualAddress+s.VirtualSize {
			o := s.Offset + (rva - s.VirtualAddress)
			return im.raw[o : o+uint32(n)]
		}
	}
	im.t.Fatalf("RVA %#x (+%d) not inside any section", rva, n)
	return nil
}

func (im *image) ptrSize() int {
	if im.is64 {
		return 8
	}
	return 4
}

func (im *image) ptrAt(rva uint32) uint64 {
	if im.is64 {
		return binary.LittleEndian.Uint64(im.at(rva, 8))
	}
	return uint64(binary.LittleEndian.Uint32(im.at(rva, 4)))
}

func (im *image) cstring(rva uint32) string {
	var s []byte
	for ; ; rva++ {
		c := im.at(rva, 1)[0]
		if c == 0 {
			return string(s)
		}
		s = append(s, c)
	}
}

// importName resolves an IAT slot of the unbound image to its function name.
func (im *image) importName(slot uint32) string {
	hn := im.ptrAt(slot)
	if hn>>(8*im.ptrSize()-1) != 0 {
		im.t.Fatalf("IAT slot %#x imports by ordinal", slot)
	}
	return im.cstring(uint32(hn) + 2)
}

func mustSection(t *testing.T, f *pe.File, name string) *pe.Section {
	t.Helper()
	s := f.Section(name)
	if s == nil {
		t.Fatalf("no %s section", name)
	}
	return s
}

func checkImage(t *testing.T, img []byte, machine, subsystem, variant string) {
	f, err := pe.NewFile(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("debug/pe: %v", err)
	}
	defer f.Close()
	is64 := machine == "amd64"
	im := &image{t: t, raw: img, f: f, is64: is64}
	prog := programs[variant]

	// MZ / PE signature.
	if string(img[:2]) != "MZ" {
		t.Fatal("no MZ")
	}
	lfanew := binary.LittleEndian.Uint32(img[0x3C:])
	if string(img[lfanew:lfanew+4]) != "PE\x00\x00" {
		t.Fatal("no PE signature at e_lfanew")
	}

	// COFF header.
	wantMachine, wantChars := uint16(pe.IMAGE_FILE_MACHINE_I386), uint16(pe.IMAGE_FILE_EXECUTABLE_IMAGE|pe.IMAGE_FILE_32BIT_MACHINE)
	if is64 {
		wantMachine, wantChars = pe.IMAGE_FILE_MACHINE_AMD64, pe.IMAGE_FILE_EXECUTABLE_IMAGE|pe.IMAGE_FILE_LARGE_ADDRESS_AWARE
	}
	if f.Machine != wantMachine {
		t.Errorf("Machine = %#x, want %#x", f.Machine, wantMachine)
	}
	if f.Characteristics != wantChars {
		t.Errorf("Characteristics = %#x, want %#x", f.Characteristics, wantChars)
	}
	if f.Characteristics&pe.IMAGE_FILE_RELOCS_STRIPPED != 0 {
		t.Error("RELOCS_STRIPPED set although .reloc is present")
	}
	if f.TimeDateStamp != timeDateStamp {
		t.Errorf("TimeDateStamp = %#x", f.TimeDateStamp)
	}

	// Optional header, via a common view.
	var (
		magic                                uint16
		entry, sectAlign, fileAlign          uint32
		sizeOfImage, sizeOfHeaders, checksum uint32
		sizeOfCode, sizeOfInit               uint32
		sub, dllChars                        uint16
		dirs                                 [16]pe.DataDirectory
		ndirs                                uint32
	)
	switch oh := f.OptionalHeader.(type) {
	case *pe.OptionalHeader32:
		if is64 {
			t.Fatal("amd64 image has a PE32 optional header")
		}
		magic, entry, sectAlign, fileAlign = oh.Magic, oh.AddressOfEntryPoint, oh.SectionAlignment, oh.FileAlignment
		sizeOfImage, sizeOfHeaders, checksum = oh.SizeOfImage, oh.SizeOfHeaders, oh.CheckSum
		sizeOfCode, sizeOfInit = oh.SizeOfCode, oh.SizeOfInitializedData
		sub, dllChars, dirs, ndirs = oh.Subsystem, oh.DllCharacteristics, oh.DataDirectory, oh.NumberOfRvaAndSizes
		im.base = uint64(oh.ImageBase)
		if oh.MajorSubsystemVersion != 5 || oh.MinorSubsystemVersion != 1 || oh.MajorOperatingSystemVersion != 5 || oh.MinorOperatingSystemVersion != 1 {
			t.Error("i386 OS/subsystem version is not 5.1")
		}
	case *pe.OptionalHeader64:
		if !is64 {
			t.Fatal("i386 image has a PE32+ optional header")
		}
		magic, entry, sectAlign, fileAlign = oh.Magic, oh.AddressOfEntryPoint, oh.SectionAlignment, oh.FileAlignment
		sizeOfImage, sizeOfHeaders, checksum = oh.SizeOfImage, oh.SizeOfHeaders, oh.CheckSum
		sizeOfCode, sizeOfInit = oh.SizeOfCode, oh.SizeOfInitializedData
		sub, dllChars, dirs, ndirs = oh.Subsystem, oh.DllCharacteristics, oh.DataDirectory, oh.NumberOfRvaAndSizes
		im.base = oh.ImageBase
		if oh.MajorSubsystemVersion != 6 || oh.MinorSubsystemVersion != 1 || oh.MajorOperatingSystemVersion != 6 || oh.MinorOperatingSystemVersion != 1 {
			t.Error("amd64 OS/subsystem version is not 6.1")
		}
	default:
		t.Fatalf("unexpected optional header %T", f.OptionalHeader)
	}
	wantMagic := uint16(0x10b)
	if is64 {
		wantMagic = 0x20b
	}
	if magic != wantMagic {
		t.Errorf("Magic = %#x, want %#x", magic, wantMagic)
	}
	if sub != subsystems[subsystem] {
		t.Errorf("Subsystem = %d, want %d", sub, subsystems[subsystem])
	}
	if dllChars&(pe.IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE|pe.IMAGE_DLLCHARACTERISTICS_NX_COMPAT) != pe.IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE|pe.IMAGE_DLLCHARACTERISTICS_NX_COMPAT {
		t.Errorf("DllCharacteristics = %#x, want DYNAMIC_BASE|NX_COMPAT", dllChars)
	}
	if ndirs != 16 {
		t.Errorf("NumberOfRvaAndSizes = %d", ndirs)
	}
	if sectAlign != 0x1000 || fileAlign != 0x200 {
		t.Errorf("alignment = %#x/%#x", sectAlign, fileAlign)
	}

	// Headers and sections: sizes and placement consistent.
	hdrEnd := lfanew + 4 + 20 + uint32(f.SizeOfOptionalHeader) + 40*uint32(len(f.Sections))
	if sizeOfHeaders != (hdrEnd+fileAlign-1)&^(fileAlign-1) {
		t.Errorf("SizeOfHeaders = %#x, headers end at %#x", sizeOfHeaders, hdrEnd)
	}
	wantNames := []string{".text", ".rdata", ".reloc"}
	if is64 {
		wantNames = []string{".text", ".rdata", ".pdata", ".reloc"}
	}
	var names []string
	nextOff, nextVA := sizeOfHeaders, sectAlign
	var code, init uint32
	for _, s := range f.Sections {
		names = append(names, s.Name)
		if s.Offset != nextOff || s.VirtualAddress != nextVA {
			t.Errorf("%s at file %#x / RVA %#x, want %#x / %#x", s.Name, s.Offset, s.VirtualAddress, nextOff, nextVA)
		}
		if s.Size%fileAlign != 0 || s.VirtualSize > s.Size || s.VirtualSize == 0 {
			t.Errorf("%s: SizeOfRawData %#x, VirtualSize %#x", s.Name, s.Size, s.VirtualSize)
		}
		nextOff += s.Size
		nextVA += (s.VirtualSize + sectAlign - 1) &^ (sectAlign - 1)
		if s.Characteristics&pe.IMAGE_SCN_CNT_CODE != 0 {
			code += s.Size
		} else {
			init += s.Size
		}
		// Padding past VirtualSize is zero.
		if d, _ := s.Data(); bytes.ContainsFunc(d[s.VirtualSize:], func(r rune) bool { return r != 0 }) {
			t.Errorf("%s: non-zero padding", s.Name)
		}
	}
	if !slices.Equal(names, wantNames) {
		t.Errorf("sections = %v, want %v", names, wantNames)
	}
	if int(nextOff) != len(img) {
		t.Errorf("file is %#x bytes, sections end at %#x", len(img), nextOff)
	}
	if sizeOfImage != nextVA {
		t.Errorf("SizeOfImage = %#x, want %#x", sizeOfImage, nextVA)
	}
	if sizeOfCode != code || sizeOfInit != init {
		t.Errorf("SizeOfCode/InitializedData = %#x/%#x, want %#x/%#x", sizeOfCode, sizeOfInit, code, init)
	}

	// Checksum.
	csumOff := int(lfanew) + 4 + 20 + 64
	if got := binary.LittleEndian.Uint32(img[csumOff:]); got != checksum {
		t.Fatalf("checksum offset wrong: %#x vs %#x", got, checksum)
	}
	if want := refChecksum(img, csumOff); checksum != want {
		t.Errorf("CheckSum = %#x, recomputed %#x", checksum, want)
	}

	// Imports.
	// debug/pe's ImportedLibraries is an unimplemented stub that returns
	// nil (see its source), so it is only checked for not failing; the
	// library list is taken from the descriptors and ImportedSymbols.
	if _, err := f.ImportedLibraries(); err != nil {
		t.Fatal(err)
	}
	syms, err := f.ImportedSymbols()
	if err != nil {
		t.Fatal(err)
	}
	var wantSyms []string
	for _, fn := range prog.imports() {
		wantSyms = append(wantSyms, fn+":ntdll.dll")
	}
	slices.Sort(syms)
	if !slices.Equal(syms, wantSyms) {
		t.Errorf("ImportedSymbols = %q, want %q", syms, wantSyms)
	}
	if !slices.Contains(syms, "NtTerminateProcess:ntdll.dll") {
		t.Error("NtTerminateProcess not imported")
	}
	rdata := mustSection(t, f, ".rdata")
	inRData := func(d pe.DataDirectory) bool {
		return d.VirtualAddress >= rdata.VirtualAddress && d.VirtualAddress+d.Size <= rdata.VirtualAddress+rdata.VirtualSize
	}
	imp, iat := dirs[pe.IMAGE_DIRECTORY_ENTRY_IMPORT], dirs[pe.IMAGE_DIRECTORY_ENTRY_IAT]
	if !inRData(imp) || imp.Size != 40 {
		t.Errorf("import directory %+v", imp)
	}
	if !inRData(iat) || iat.Size != uint32((len(wantSyms)+1)*im.ptrSize()) {
		t.Errorf("IAT directory %+v", iat)
	}
	// One descriptor, for ntdll.dll, then the null terminator.
	if name := im.cstring(binary.LittleEndian.Uint32(im.at(imp.VirtualAddress+12, 4))); name != "ntdll.dll" {
		t.Errorf("imported library %q, want ntdll.dll", name)
	}
	if !bytes.Equal(im.at(imp.VirtualAddress+20, 20), make([]byte, 20)) {
		t.Error("second import descriptor is not the null terminator")
	}
	// The descriptor's FirstThunk is the IAT directory.
	if ft := binary.LittleEndian.Uint32(im.at(imp.VirtualAddress+16, 4)); ft != iat.VirtualAddress {
		t.Errorf("FirstThunk %#x != IAT directory %#x", ft, iat.VirtualAddress)
	}

	// Entry point: start of .text; decode the calls it makes.
	text := mustSection(t, f, ".text")
	if entry != text.VirtualAddress {
		t.Errorf("entry point %#x, .text at %#x", entry, text.VirtualAddress)
	}
	code0 := im.at(text.VirtualAddress, int(text.VirtualSize))
	var called []string
	for i := 0; i+6 <= len(code0); i++ {
		if code0[i] != 0xFF || code0[i+1] != 0x15 {
			continue
		}
		disp := binary.LittleEndian.Uint32(code0[i+2:])
		var slot uint32
		if is64 {
			slot = text.VirtualAddress + uint32(i) + 6 + disp // RIP-relative
		} else {
			slot = uint32(uint64(disp) - im.base) // absolute VA
		}
		if slot < iat.VirtualAddress || slot >= iat.VirtualAddress+iat.Size-uint32(im.ptrSize()) {
			t.Fatalf("call at +%#x goes through %#x, outside the IAT", i, slot)
		}
		called = append(called, im.importName(slot))
		i += 5
	}
	var wantCalls []string
	for _, c := range prog.calls {
		wantCalls = append(wantCalls, c.fn)
	}
	if !slices.Equal(called, wantCalls) {
		t.Errorf("entry point calls %q, want %q", called, wantCalls)
	}
	// NtTerminateProcess(NtCurrentProcess(), 0) is the last call.
	var termSeq []byte
	if is64 {
		if !bytes.HasPrefix(code0, []byte{0x48, 0x83, 0xEC, 0x28}) {
			t.Error("amd64 entry does not start with sub rsp,28h")
		}
		termSeq = []byte{0x48, 0xC7, 0xC1, 0xFF, 0xFF, 0xFF, 0xFF, 0x33, 0xD2, 0xFF, 0x15} // mov rcx,-1; xor edx,edx; call [rip+]
	} else {
		termSeq = []byte{0x6A, 0x00, 0x6A, 0xFF, 0xFF, 0x15} // push 0; push -1; call [abs]
	}
	if !bytes.Contains(code0, termSeq) {
		t.Errorf("no NtTerminateProcess(NtCurrentProcess(), 0) sequence in % x", code0)
	}

	// Base relocations: every entry patches an absolute pointer into the image.
	relocDir := dirs[pe.IMAGE_DIRECTORY_ENTRY_BASERELOC]
	reloc := mustSection(t, f, ".reloc")
	if relocDir.VirtualAddress != reloc.VirtualAddress || relocDir.Size != reloc.VirtualSize {
		t.Errorf("base reloc directory %+v vs .reloc %#x+%#x", relocDir, reloc.VirtualAddress, reloc.VirtualSize)
	}
	wantType := uint16(relBasedHighLow)
	if is64 {
		wantType = relBasedDir64
	}
	rb := im.at(relocDir.VirtualAddress, int(relocDir.Size))
	nrel := 0
	for len(rb) > 0 {
		page, size := binary.LittleEndian.Uint32(rb), binary.LittleEndian.Uint32(rb[4:])
		if size < 8 || size%4 != 0 || int(size) > len(rb) {
			t.Fatalf("bad reloc block size %d", size)
		}
		for e := 8; e < int(size); e += 2 {
			v := binary.LittleEndian.Uint16(rb[e:])
			typ, off := v>>12, uint32(v&0xFFF)
			switch typ {
			case relBasedAbsolute:
			case wantType:
				nrel++
				target := im.ptrAt(page + off)
				if target < im.base+uint64(sectAlign) || target >= im.base+uint64(sizeOfImage) {
					t.Errorf("reloc at %#x: pointer %#x outside the image", page+off, target)
				}
			default:
				t.Errorf("unexpected relocation type %d", typ)
			}
		}
		rb = rb[size:]
	}
	// One per UNICODE_STRING.Buffer, plus (i386) every absolute operand.
	wantRel := 0
	for _, d := range prog.data {
		if !d.isInt64 {
			wantRel++
		}
	}
	if !is64 {
		for _, c := range prog.calls {
			wantRel++ // call dword ptr [IAT]
			for _, a := range c.args {
				if a.ref >= 0 {
					wantRel++ // push offset data
				}
			}
		}
	}
	if nrel != wantRel {
		t.Errorf("%d base relocations, want %d", nrel, wantRel)
	}

	// amd64: .pdata covers the entry point and points at valid unwind info.
	exc := dirs[pe.IMAGE_DIRECTORY_ENTRY_EXCEPTION]
	if is64 {
		pd := im.at(exc.VirtualAddress, 12)
		begin, end, unwind := binary.LittleEndian.Uint32(pd), binary.LittleEndian.Uint32(pd[4:]), binary.LittleEndian.Uint32(pd[8:])
		if exc.Size != 12 || begin != entry || end != entry+text.VirtualSize {
			t.Errorf("RUNTIME_FUNCTION %#x-%#x, dir %+v", begin, end, exc)
		}
		if u := im.at(unwind, 6); u[0] != 1 || u[1] != 4 || u[2] != 1 || u[4] != 4 || u[5] != 0x42 {
			t.Errorf("UNWIND_INFO % x", u)
		}
	} else if exc != (pe.DataDirectory{}) {
		t.Errorf("i386 image has an exception directory %+v", exc)
	}

	// The message is present as a UNICODE_STRING.
	for _, d := range prog.data {
		if d.isInt64 {
			continue
		}
		if !bytes.Contains(img, utf16le(d.text)) {
			t.Errorf("message %q not in image", d.text)
		}
	}
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range s {
		b = binary.LittleEndian.AppendUint16(b, uint16(r))
	}
	return b
}

func TestVariants(t *testing.T) {
	for _, machine := range []string{"i386", "amd64"} {
		for _, subsystem := range []string{"native", "console", "windows"} {
			for _, variant := range []string{"autochk", "hook"} {
				t.Run(machine+"/"+subsystem+"/"+variant, func(t *testing.T) {
					img := mustBuild(t, machine, subsystem, variant)
					if again := mustBuild(t, machine, subsystem, variant); !bytes.Equal(img, again) {
						t.Fatal("output is not deterministic")
					}
					checkImage(t, img, machine, subsystem, variant)
				})
			}
		}
	}
}

func TestHookDiffersFromAutochk(t *testing.T) {
	for _, machine := range []string{"i386", "amd64"} {
		a := mustBuild(t, machine, "native", "autochk")
		h := mustBuild(t, machine, "native", "hook")
		if bytes.Equal(a, h) {
			t.Errorf("%s: hook and autochk are identical", machine)
		}
	}
}

// TestFixturesUpToDate checks that testdata/pe holds exactly what the
// generator produces, and that SHA256SUMS matches it.
func TestFixturesUpToDate(t *testing.T) {
	sums := map[string]string{}
	fh, err := os.Open(filepath.Join(fixtureDir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("bad SHA256SUMS line %q", sc.Text())
		}
		sums[name] = sum
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(sums) != len(fixtures) {
		t.Errorf("SHA256SUMS lists %d files, want %d", len(sums), len(fixtures))
	}
	for _, fx := range fixtures {
		t.Run(fx.file, func(t *testing.T) {
			want := mustBuild(t, fx.machine, fx.subsystem, fx.variant)
			got, err := os.ReadFile(filepath.Join(fixtureDir, fx.file))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s differs from generator output; run testdata/gen/mkpe/gen.sh", fx.file)
			}
			h := sha256.Sum256(got)
			if sums[fx.file] != hex.EncodeToString(h[:]) {
				t.Errorf("SHA256SUMS entry %q, file hashes to %x", sums[fx.file], h)
			}
			checkImage(t, got, fx.machine, fx.subsystem, fx.variant)
		})
	}
}

func TestParseConfigRejects(t *testing.T) {
	for _, c := range [][3]string{
		{"arm64", "native", "autochk"},
		{"i386", "posix", "autochk"},
		{"amd64", "native", "smss"},
	} {
		if _, err := parseConfig(c[0], c[1], c[2]); err == nil {
			t.Errorf("parseConfig%q accepted", c)
		}
	}
}
