package main

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"fmt"
	"sort"
	"unicode/utf16"
)

// config selects one image.
type config struct {
	machine   string // "i386" or "amd64"
	subsystem uint16 // pe.IMAGE_SUBSYSTEM_*
	variant   string // key of programs
}

var subsystems = map[string]uint16{
	"native":  pe.IMAGE_SUBSYSTEM_NATIVE,
	"console": pe.IMAGE_SUBSYSTEM_WINDOWS_CUI,
	"windows": pe.IMAGE_SUBSYSTEM_WINDOWS_GUI,
}

func parseConfig(machine, subsystem, variant string) (config, error) {
	if machine != "i386" && machine != "amd64" {
		return config{}, fmt.Errorf("unknown -machine %q (want i386 or amd64)", machine)
	}
	ss, ok := subsystems[subsystem]
	if !ok {
		return config{}, fmt.Errorf("unknown -subsystem %q (want native, console or windows)", subsystem)
	}
	if _, ok := programs[variant]; !ok {
		return config{}, fmt.Errorf("unknown -variant %q (want autochk or hook)", variant)
	}
	return config{machine: machine, subsystem: ss, variant: variant}, nil
}

// Fixed layout and header values. Everything that a linker would normally
// take from the clock or the environment is a constant here, so the output
// is reproducible.
const (
	dosHeaderSize = 0x40
	peOffset      = 0x80 // e_lfanew: DOS header + stub, 8-aligned
	sectionAlign  = 0x1000
	fileAlign     = 0x200

	// 2020-01-01T00:00:00Z. Fixed so that images are byte-identical.
	timeDateStamp = 0x5E0BE100

	imageBase386   = 0x00400000         // default EXE base, 32-bit
	imageBaseAMD64 = 0x0000000140000000 // default EXE base, 64-bit

	linkerMajor, linkerMinor = 1, 0 // "mkpe 1.0"; not a real linker version
	imageMajor, imageMinor   = 1, 0

	stackReserve, stackCommit = 0x40000, 0x1000
	heapReserve, heapCommit   = 0x100000, 0x1000

	ntdll = "ntdll.dll"

	// Offset of CheckSum within the optional header (same for PE32/PE32+).
	checksumFieldOffset = 64
)

// Section characteristics.
const (
	scnText  = pe.IMAGE_SCN_CNT_CODE | pe.IMAGE_SCN_MEM_EXECUTE | pe.IMAGE_SCN_MEM_READ
	scnRData = pe.IMAGE_SCN_CNT_INITIALIZED_DATA | pe.IMAGE_SCN_MEM_READ
	scnReloc = pe.IMAGE_SCN_CNT_INITIALIZED_DATA | pe.IMAGE_SCN_MEM_DISCARDABLE | pe.IMAGE_SCN_MEM_READ
)

// Base relocation types.
const (
	relBasedAbsolute = 0
	relBasedHighLow  = 3
	relBasedDir64    = 10
)

// sectionBuf accumulates one section's contents at a known RVA.
type sectionBuf struct {
	rva uint32
	b   []byte
}

func (s *sectionBuf) here() uint32 { return s.rva + uint32(len(s.b)) }
func (s *sectionBuf) align(n int) {
	for len(s.b)%n != 0 {
		s.b = append(s.b, 0)
	}
}
func (s *sectionBuf) zero(n int)         { s.b = append(s.b, make([]byte, n)...) }
func (s *sectionBuf) u16(v uint16)       { s.b = binary.LittleEndian.AppendUint16(s.b, v) }
func (s *sectionBuf) u32(v uint32)       { s.b = binary.LittleEndian.AppendUint32(s.b, v) }
func (s *sectionBuf) u64(v uint64)       { s.b = binary.LittleEndian.AppendUint64(s.b, v) }
func (s *sectionBuf) raw(b []byte)       { s.b = append(s.b, b...) }
func (s *sectionBuf) off(rva uint32) int { return int(rva - s.rva) }

// ptr appends a pointer-sized value.
func (s *sectionBuf) ptr(v uint64, size int) {
	if size == 8 {
		s.u64(v)
	} else {
		s.u32(uint32(v))
	}
}

func (s *sectionBuf) putPtrAt(rva uint32, v uint64, size int) {
	o := s.off(rva)
	if size == 8 {
		binary.LittleEndian.PutUint64(s.b[o:], v)
	} else {
		binary.LittleEndian.PutUint32(s.b[o:], uint32(v))
	}
}

type section struct {
	name  string
	rva   uint32
	data  []byte
	chars uint32
}

func alignUp(v, a uint32) uint32 { return (v + a - 1) &^ (a - 1) }

// build returns the complete PE image for cfg.
func build(cfg config) ([]byte, error) {
	p, ok := programs[cfg.variant]
	if !ok {
		return nil, fmt.Errorf("unknown variant %q", cfg.variant)
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	is64 := cfg.machine == "amd64"
	ptrSize := 4
	imageBase := uint64(imageBase386)
	if is64 {
		ptrSize = 8
		imageBase = imageBaseAMD64
	}

	// Sections are tiny, so each occupies exactly one page: .text at
	// 0x1000, .rdata at 0x2000, then .pdata (amd64) and .reloc. The
	// assumption is checked when the section table is laid out below.
	const textRVA, rdataRVA = 0x1000, 0x2000

	var fixups []uint32 // RVAs of absolute addresses needing base relocation

	// ---- .rdata: IAT, program data, unwind info, import directory ----
	rd := &sectionBuf{rva: rdataRVA}
	fns := p.imports()
	iatRVA := rd.here()
	iatSlot := map[string]uint32{}
	for _, fn := range fns {
		iatSlot[fn] = rd.here()
		rd.zero(ptrSize)
	}
	rd.zero(ptrSize) // terminator
	iatSize := rd.here() - iatRVA

	dataRVA := make([]uint32, len(p.data))
	for i, d := range p.data {
		rd.align(8)
		dataRVA[i] = rd.here()
		if d.isInt64 {
			rd.u64(uint64(d.int64Val))
			continue
		}
		// UNICODE_STRING { USHORT Length; USHORT MaximumLength; PWSTR Buffer; }
		// followed directly by the NUL-terminated buffer.
		u := utf16.Encode([]rune(d.text))
		if (len(u)+1)*2 > 0xFFFF {
			return nil, fmt.Errorf("string too long for UNICODE_STRING")
		}
		rd.u16(uint16(len(u) * 2))
		rd.u16(uint16(len(u)*2 + 2))
		if is64 {
			rd.zero(4) // Buffer is 8-aligned
		}
		bufField := rd.here()
		bufRVA := bufField + uint32(ptrSize)
		fixups = append(fixups, bufField)
		rd.ptr(imageBase+uint64(bufRVA), ptrSize)
		for _, c := range u {
			rd.u16(c)
		}
		rd.u16(0)
	}

	var unwindRVA uint32
	if is64 {
		rd.align(4)
		unwindRVA = rd.here()
		rd.raw(amd64UnwindInfo())
	}

	// IMAGE_IMPORT_DESCRIPTOR[2]: ntdll.dll, then the null terminator.
	rd.align(4)
	importDirRVA := rd.here()
	rd.zero(2 * 20)
	importDirSize := rd.here() - importDirRVA
	// Import lookup table (OriginalFirstThunk), parallel to the IAT.
	rd.align(ptrSize)
	iltRVA := rd.here()
	rd.zero((len(fns) + 1) * ptrSize)
	// Hint/name table. The hint is only a lookup accelerator; 0 is valid.
	hintName := map[string]uint32{}
	for _, fn := range fns {
		rd.align(2)
		hintName[fn] = rd.here()
		rd.u16(0)
		rd.raw([]byte(fn))
		rd.b = append(rd.b, 0)
	}
	rd.align(2)
	dllNameRVA := rd.here()
	rd.raw([]byte(ntdll))
	rd.b = append(rd.b, 0)

	for i, fn := range fns {
		// Import by name: the high (ordinal) bit is clear, so the entry
		// is just the RVA of the hint/name entry.
		rd.putPtrAt(iltRVA+uint32(i*ptrSize), uint64(hintName[fn]), ptrSize)
		rd.putPtrAt(iatSlot[fn], uint64(hintName[fn]), ptrSize)
	}
	desc := rd.b[rd.off(importDirRVA):]
	binary.LittleEndian.PutUint32(desc[0:], iltRVA)      // OriginalFirstThunk
	binary.LittleEndian.PutUint32(desc[4:], 0)           // TimeDateStamp (not bound)
	binary.LittleEndian.PutUint32(desc[8:], 0)           // ForwarderChain
	binary.LittleEndian.PutUint32(desc[12:], dllNameRVA) // Name
	binary.LittleEndian.PutUint32(desc[16:], iatRVA)     // FirstThunk

	// ---- .text ----
	env := codeEnv{textRVA: textRVA, imageBase: imageBase, iatSlot: iatSlot, dataRVA: dataRVA}
	var code []byte
	if is64 {
		c, err := genAMD64(p, env)
		if err != nil {
			return nil, err
		}
		code = c
	} else {
		c, abs, err := gen386(p, env)
		if err != nil {
			return nil, err
		}
		code = c
		for _, o := range abs {
			fixups = append(fixups, textRVA+o)
		}
	}

	sections := []section{
		{name: ".text", rva: textRVA, data: code, chars: scnText},
		{name: ".rdata", rva: rdataRVA, data: rd.b, chars: scnRData},
	}
	next := func() uint32 {
		last := sections[len(sections)-1]
		return last.rva + alignUp(uint32(len(last.data)), sectionAlign)
	}

	// ---- .pdata (amd64): one RUNTIME_FUNCTION for the entry point ----
	var pdataRVA, pdataSize uint32
	if is64 {
		pdataRVA = next()
		pd := &sectionBuf{rva: pdataRVA}
		pd.u32(textRVA)                     // BeginAddress
		pd.u32(textRVA + uint32(len(code))) // EndAddress
		pd.u32(unwindRVA)                   // UnwindInfoAddress
		pdataSize = uint32(len(pd.b))
		sections = append(sections, section{name: ".pdata", rva: pdataRVA, data: pd.b, chars: scnRData})
	}

	// ---- .reloc ----
	relocRVA := next()
	relocType := uint16(relBasedHighLow)
	if is64 {
		relocType = relBasedDir64
	}
	reloc := buildRelocs(fixups, relocType)
	sections = append(sections, section{name: ".reloc", rva: relocRVA, data: reloc, chars: scnReloc})

	// Check the fixed-RVA assumption made before the sections existed.
	if sections[0].rva != textRVA || sections[1].rva != textRVA+alignUp(uint32(len(code)), sectionAlign) || sections[1].rva != rdataRVA {
		return nil, fmt.Errorf("layout: .text too large (%d bytes)", len(code))
	}

	// ---- headers ----
	optSize := binary.Size(pe.OptionalHeader32{})
	if is64 {
		optSize = binary.Size(pe.OptionalHeader64{})
	}
	headersLen := peOffset + 4 + binary.Size(pe.FileHeader{}) + optSize + len(sections)*binary.Size(pe.SectionHeader32{})
	sizeOfHeaders := alignUp(uint32(headersLen), fileAlign)
	if sizeOfHeaders > textRVA {
		return nil, fmt.Errorf("layout: headers too large")
	}

	var shdrs []pe.SectionHeader32
	var sizeOfCode, sizeOfInitData uint32
	filePos := sizeOfHeaders
	for _, s := range sections {
		var h pe.SectionHeader32
		copy(h.Name[:], s.name)
		h.VirtualSize = uint32(len(s.data))
		h.VirtualAddress = s.rva
		h.SizeOfRawData = alignUp(uint32(len(s.data)), fileAlign)
		h.PointerToRawData = filePos
		h.Characteristics = s.chars
		filePos += h.SizeOfRawData
		if s.chars&pe.IMAGE_SCN_CNT_CODE != 0 {
			sizeOfCode += h.SizeOfRawData
		} else {
			sizeOfInitData += h.SizeOfRawData
		}
		shdrs = append(shdrs, h)
	}
	last := sections[len(sections)-1]
	sizeOfImage := last.rva + alignUp(uint32(len(last.data)), sectionAlign)

	var dirs [16]pe.DataDirectory
	dirs[pe.IMAGE_DIRECTORY_ENTRY_IMPORT] = pe.DataDirectory{VirtualAddress: importDirRVA, Size: importDirSize}
	if is64 {
		dirs[pe.IMAGE_DIRECTORY_ENTRY_EXCEPTION] = pe.DataDirectory{VirtualAddress: pdataRVA, Size: pdataSize}
	}
	dirs[pe.IMAGE_DIRECTORY_ENTRY_BASERELOC] = pe.DataDirectory{VirtualAddress: relocRVA, Size: uint32(len(reloc))}
	dirs[pe.IMAGE_DIRECTORY_ENTRY_IAT] = pe.DataDirectory{VirtualAddress: iatRVA, Size: iatSize}

	fh := pe.FileHeader{
		NumberOfSections:     uint16(len(sections)),
		TimeDateStamp:        timeDateStamp,
		SizeOfOptionalHeader: uint16(optSize),
	}
	// Relocations are present, so IMAGE_FILE_RELOCS_STRIPPED is not set.
	dllChars := uint16(pe.IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE | pe.IMAGE_DLLCHARACTERISTICS_NX_COMPAT)
	if cfg.subsystem != pe.IMAGE_SUBSYSTEM_NATIVE {
		dllChars |= pe.IMAGE_DLLCHARACTERISTICS_TERMINAL_SERVER_AWARE
	}

	var hdr bytes.Buffer
	hdr.Write(dosHeader())
	hdr.WriteString("PE\x00\x00")
	if is64 {
		fh.Machine = pe.IMAGE_FILE_MACHINE_AMD64
		fh.Characteristics = pe.IMAGE_FILE_EXECUTABLE_IMAGE | pe.IMAGE_FILE_LARGE_ADDRESS_AWARE
		dllChars |= pe.IMAGE_DLLCHARACTERISTICS_HIGH_ENTROPY_VA
		oh := pe.OptionalHeader64{
			Magic:                       0x20b, // PE32+
			MajorLinkerVersion:          linkerMajor,
			MinorLinkerVersion:          linkerMinor,
			SizeOfCode:                  sizeOfCode,
			SizeOfInitializedData:       sizeOfInitData,
			AddressOfEntryPoint:         textRVA,
			BaseOfCode:                  textRVA,
			ImageBase:                   imageBase,
			SectionAlignment:            sectionAlign,
			FileAlignment:               fileAlign,
			MajorOperatingSystemVersion: 6, MinorOperatingSystemVersion: 1, // Windows 7 / 2008 R2
			MajorImageVersion: imageMajor, MinorImageVersion: imageMinor,
			MajorSubsystemVersion: 6, MinorSubsystemVersion: 1,
			SizeOfImage:         sizeOfImage,
			SizeOfHeaders:       sizeOfHeaders,
			Subsystem:           cfg.subsystem,
			DllCharacteristics:  dllChars,
			SizeOfStackReserve:  stackReserve,
			SizeOfStackCommit:   stackCommit,
			SizeOfHeapReserve:   heapReserve,
			SizeOfHeapCommit:    heapCommit,
			NumberOfRvaAndSizes: 16,
			DataDirectory:       dirs,
		}
		binary.Write(&hdr, binary.LittleEndian, fh)
		binary.Write(&hdr, binary.LittleEndian, oh)
	} else {
		fh.Machine = pe.IMAGE_FILE_MACHINE_I386
		fh.Characteristics = pe.IMAGE_FILE_EXECUTABLE_IMAGE | pe.IMAGE_FILE_32BIT_MACHINE
		oh := pe.OptionalHeader32{
			Magic:                       0x10b, // PE32
			MajorLinkerVersion:          linkerMajor,
			MinorLinkerVersion:          linkerMinor,
			SizeOfCode:                  sizeOfCode,
			SizeOfInitializedData:       sizeOfInitData,
			AddressOfEntryPoint:         textRVA,
			BaseOfCode:                  textRVA,
			BaseOfData:                  rdataRVA,
			ImageBase:                   uint32(imageBase),
			SectionAlignment:            sectionAlign,
			FileAlignment:               fileAlign,
			MajorOperatingSystemVersion: 5, MinorOperatingSystemVersion: 1, // Windows XP
			MajorImageVersion: imageMajor, MinorImageVersion: imageMinor,
			MajorSubsystemVersion: 5, MinorSubsystemVersion: 1,
			SizeOfImage:         sizeOfImage,
			SizeOfHeaders:       sizeOfHeaders,
			Subsystem:           cfg.subsystem,
			DllCharacteristics:  dllChars,
			SizeOfStackReserve:  stackReserve,
			SizeOfStackCommit:   stackCommit,
			SizeOfHeapReserve:   heapReserve,
			SizeOfHeapCommit:    heapCommit,
			NumberOfRvaAndSizes: 16,
			DataDirectory:       dirs,
		}
		binary.Write(&hdr, binary.LittleEndian, fh)
		binary.Write(&hdr, binary.LittleEndian, oh)
	}
	for _, h := range shdrs {
		binary.Write(&hdr, binary.LittleEndian, h)
	}
	if hdr.Len() != headersLen {
		return nil, fmt.Errorf("internal: header length %d, want %d", hdr.Len(), headersLen)
	}

	img := make([]byte, filePos)
	copy(img, hdr.Bytes())
	for i, s := range sections {
		copy(img[shdrs[i].PointerToRawData:], s.data)
	}

	csumOff := peOffset + 4 + binary.Size(pe.FileHeader{}) + checksumFieldOffset
	binary.LittleEndian.PutUint32(img[csumOff:], peChecksum(img, csumOff))
	return img, nil
}

// buildRelocs encodes the base relocation blocks for the given RVAs: one
// block per 4 KiB page, each padded to a 32-bit boundary with an
// IMAGE_REL_BASED_ABSOLUTE entry.
func buildRelocs(rvas []uint32, typ uint16) []byte {
	sorted := append([]uint32(nil), rvas...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	var out []byte
	for i := 0; i < len(sorted); {
		page := sorted[i] &^ 0xFFF
		var entries []uint16
		for ; i < len(sorted) && sorted[i]&^0xFFF == page; i++ {
			entries = append(entries, typ<<12|uint16(sorted[i]&0xFFF))
		}
		if len(entries)%2 != 0 {
			entries = append(entries, relBasedAbsolute<<12)
		}
		out = binary.LittleEndian.AppendUint32(out, page)
		out = binary.LittleEndian.AppendUint32(out, uint32(8+2*len(entries)))
		for _, e := range entries {
			out = binary.LittleEndian.AppendUint16(out, e)
		}
	}
	return out
}

// dosHeader returns the 64-byte MS-DOS header plus a stub program that
// prints a message and exits, padded to peOffset.
func dosHeader() []byte {
	b := make([]byte, peOffset)
	le := binary.LittleEndian
	le.PutUint16(b[0x00:], 0x5A4D)   // e_magic "MZ"
	le.PutUint16(b[0x02:], peOffset) // e_cblp: bytes in last page
	le.PutUint16(b[0x04:], 1)        // e_cp: pages in file (DOS view: 0x80 bytes)
	le.PutUint16(b[0x08:], 4)        // e_cparhdr: header paragraphs (64 bytes)
	le.PutUint16(b[0x0C:], 0xFFFF)   // e_maxalloc
	le.PutUint16(b[0x10:], 0xB8)     // e_sp
	le.PutUint16(b[0x18:], 0x40)     // e_lfarlc
	le.PutUint32(b[0x3C:], peOffset) // e_lfanew
	stub := []byte{
		0x0E,             // push cs
		0x1F,             // pop ds
		0xBA, 0x0E, 0x00, // mov dx, 000Eh (message)
		0xB4, 0x09, // mov ah, 09h
		0xCD, 0x21, // int 21h (print $-terminated string)
		0xB8, 0x01, 0x4C, // mov ax, 4C01h
		0xCD, 0x21, // int 21h (exit 1)
	}
	stub = append(stub, "This program cannot be run in DOS mode.\r\r\n$"...)
	if dosHeaderSize+len(stub) > peOffset {
		panic("DOS stub too long")
	}
	copy(b[dosHeaderSize:], stub)
	return b
}

// peChecksum computes the PE image checksum: the 16-bit words of the file
// (little-endian, an odd final byte zero-padded) are added with end-around
// carry, skipping the 4-byte CheckSum field at csumOff, and the file length
// is added to the folded 16-bit result.
func peChecksum(img []byte, csumOff int) uint32 {
	var sum uint32
	for i := 0; i < len(img); i += 2 {
		if i == csumOff || i == csumOff+2 {
			continue
		}
		w := uint32(img[i])
		if i+1 < len(img) {
			w |= uint32(img[i+1]) << 8
		}
		sum += w
		sum = (sum & 0xFFFF) + (sum >> 16)
	}
	sum = (sum & 0xFFFF) + (sum >> 16)
	return sum + uint32(len(img))
}
