package ntfs

import (
	"encoding/binary"
	"unicode/utf16"
)

// Attribute types.
const (
	attrStandardInformation = 0x10
	attrAttributeList       = 0x20
	attrFileName            = 0x30
	attrObjectID            = 0x40
	attrSecurityDescriptor  = 0x50
	attrVolumeName          = 0x60
	attrVolumeInformation   = 0x70
	attrData                = 0x80
	attrIndexRoot           = 0x90
	attrIndexAllocation     = 0xA0
	attrBitmap              = 0xB0
	attrReparsePoint        = 0xC0
	attrEnd                 = 0xFFFFFFFF
)

// MFT record header flags.
const (
	recordInUse     = 0x1
	recordDirectory = 0x2
)

// Attribute header flags.
const (
	attrFlagCompressed = 0x0001
	attrFlagEncrypted  = 0x4000
	attrFlagSparse     = 0x8000
)

// fileRef is an MFT reference: record number and sequence number.
type fileRef uint64

func (r fileRef) record() uint64 { return uint64(r) & (1<<48 - 1) }
func (r fileRef) seq() uint16    { return uint16(r >> 48) }

// record is a parsed MFT record ("FILE"), fixups applied.
type record struct {
	num   uint64 // record number
	off   int64  // byte offset in the volume (for errors)
	buf   []byte // the record, fixups applied
	seq   uint16 // 0x10 sequence number
	links uint16 // 0x12 hard link count
	flags uint16 // 0x16 in use, directory
	base  fileRef
	attrs []*attribute
}

// attribute is one attribute of a record, resident or not.
type attribute struct {
	typ      uint32
	name     string
	flags    uint16
	instance uint16
	rec      uint64 // number of the record holding it
	off      int64  // byte offset of its header in the volume (for errors)
	raw      []byte // the whole attribute record, a slice of the record

	resident bool
	value    []byte // resident value (a slice of the record)

	// Non-resident: this extent's VCN range, its runs, and the sizes (valid
	// in the extent starting at VCN 0).
	lowVCN, highVCN int64
	compUnit        uint8 // log2 of clusters per compression unit
	allocSize       int64
	dataSize        int64
	initSize        int64
	runs            []run
}

// parseRecord parses an MFT record whose fixups are applied. It checks
// everything the rest of the package relies on: the header, and that every
// attribute lies inside the record and is well formed.
func parseRecord(b []byte, num uint64, off int64) (*record, error) {
	if len(b) < 0x30 {
		return nil, corrupt(off, "MFT record %d: %d bytes", num, len(b))
	}
	switch string(b[:4]) {
	case "FILE":
	case "BAAD":
		return nil, corrupt(off, "MFT record %d: marked BAAD (torn write found by chkdsk)", num)
	default:
		return nil, corrupt(off, "MFT record %d: magic %q, want FILE", num, b[:4])
	}
	r := &record{
		num:   num,
		off:   off,
		buf:   b,
		seq:   binary.LittleEndian.Uint16(b[0x10:]),
		links: binary.LittleEndian.Uint16(b[0x12:]),
		flags: binary.LittleEndian.Uint16(b[0x16:]),
		base:  fileRef(binary.LittleEndian.Uint64(b[0x20:])),
	}
	attrOff := int(binary.LittleEndian.Uint16(b[0x14:]))
	inUse := int(binary.LittleEndian.Uint32(b[0x18:]))
	alloc := int(binary.LittleEndian.Uint32(b[0x1C:]))
	if alloc != len(b) {
		return nil, corrupt(off+0x1C, "MFT record %d: allocated size %d, record size %d", num, alloc, len(b))
	}
	if inUse > len(b) || inUse < attrOff+4 {
		return nil, corrupt(off+0x18, "MFT record %d: %d bytes in use", num, inUse)
	}
	if attrOff < 0x2A || attrOff%8 != 0 {
		return nil, corrupt(off+0x14, "MFT record %d: first attribute at 0x%x", num, attrOff)
	}
	prevType := uint32(0)
	for p := attrOff; ; {
		if p+4 > inUse {
			return nil, corrupt(off+int64(p), "MFT record %d: no end marker", num)
		}
		typ := binary.LittleEndian.Uint32(b[p:])
		if typ == attrEnd {
			break
		}
		if p+0x18 > inUse {
			return nil, corrupt(off+int64(p), "MFT record %d: attribute header overruns the record", num)
		}
		length := int(binary.LittleEndian.Uint32(b[p+4:]))
		if length < 0x18 || length%8 != 0 || p+length > inUse {
			return nil, corrupt(off+int64(p), "MFT record %d: attribute 0x%x of length %d", num, typ, length)
		}
		if typ < prevType {
			return nil, corrupt(off+int64(p), "MFT record %d: attribute 0x%x after 0x%x", num, typ, prevType)
		}
		prevType = typ
		a, err := parseAttribute(b[p:p+length], num, off+int64(p))
		if err != nil {
			return nil, err
		}
		r.attrs = append(r.attrs, a)
		p += length
	}
	return r, nil
}

// parseAttribute parses one attribute record, b being exactly its bytes.
func parseAttribute(b []byte, rec uint64, off int64) (*attribute, error) {
	a := &attribute{
		typ:      binary.LittleEndian.Uint32(b),
		resident: b[8] == 0,
		flags:    binary.LittleEndian.Uint16(b[0x0C:]),
		instance: binary.LittleEndian.Uint16(b[0x0E:]),
		rec:      rec,
		off:      off,
		raw:      b,
	}
	if nameLen := int(b[9]); nameLen > 0 {
		nameOff := int(binary.LittleEndian.Uint16(b[0x0A:]))
		if nameOff+2*nameLen > len(b) {
			return nil, corrupt(off, "MFT record %d: attribute 0x%x: name overruns it", rec, a.typ)
		}
		a.name = decodeUTF16(b[nameOff : nameOff+2*nameLen])
	}
	if a.resident {
		vlen := int(binary.LittleEndian.Uint32(b[0x10:]))
		voff := int(binary.LittleEndian.Uint16(b[0x14:]))
		if voff < 0x18 || vlen < 0 || voff+vlen > len(b) {
			return nil, corrupt(off, "MFT record %d: attribute 0x%x: value of %d bytes at 0x%x overruns it", rec, a.typ, vlen, voff)
		}
		a.value = b[voff : voff+vlen]
		return a, nil
	}
	if len(b) < 0x40 {
		return nil, corrupt(off, "MFT record %d: non-resident attribute 0x%x of %d bytes", rec, a.typ, len(b))
	}
	a.lowVCN = int64(binary.LittleEndian.Uint64(b[0x10:]))
	a.highVCN = int64(binary.LittleEndian.Uint64(b[0x18:]))
	runsOff := int(binary.LittleEndian.Uint16(b[0x20:]))
	a.compUnit = b[0x22]
	a.allocSize = int64(binary.LittleEndian.Uint64(b[0x28:]))
	a.dataSize = int64(binary.LittleEndian.Uint64(b[0x30:]))
	a.initSize = int64(binary.LittleEndian.Uint64(b[0x38:]))
	if a.lowVCN < 0 || a.lowVCN > maxVCN || a.highVCN < a.lowVCN-1 || a.highVCN > maxVCN {
		return nil, corrupt(off, "MFT record %d: attribute 0x%x: VCNs %d to %d", rec, a.typ, a.lowVCN, a.highVCN)
	}
	if a.lowVCN == 0 && (a.allocSize < 0 || a.dataSize < 0 || a.initSize < 0 || a.initSize > a.dataSize ||
		a.allocSize > maxVCN*maxClusterSize || a.dataSize > maxVCN*maxClusterSize) {
		return nil, corrupt(off, "MFT record %d: attribute 0x%x: sizes allocated %d, data %d, initialized %d",
			rec, a.typ, a.allocSize, a.dataSize, a.initSize)
	}
	if a.compUnit > 16 {
		return nil, corrupt(off, "MFT record %d: attribute 0x%x: compression unit 2^%d clusters", rec, a.typ, a.compUnit)
	}
	if runsOff < 0x40 || runsOff >= len(b) {
		return nil, corrupt(off, "MFT record %d: attribute 0x%x: run list at 0x%x", rec, a.typ, runsOff)
	}
	runs, err := decodeRuns(b[runsOff:], a.lowVCN, off+int64(runsOff))
	if err != nil {
		return nil, err
	}
	if n := runsEnd(runs, a.lowVCN); n != a.highVCN+1 {
		return nil, corrupt(off, "MFT record %d: attribute 0x%x: runs end at VCN %d, header says %d", rec, a.typ, n-1, a.highVCN)
	}
	a.runs = runs
	return a, nil
}

// runsEnd returns the VCN after the last run, or start if there is none.
func runsEnd(runs []run, start int64) int64 {
	if len(runs) == 0 {
		return start
	}
	last := runs[len(runs)-1]
	return last.vcn + last.length
}

// decodeUTF16 decodes little-endian UTF-16 (unpaired surrogates become
// U+FFFD).
func decodeUTF16(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// find returns the first attribute of the given type and name, or nil.
func (r *record) find(typ uint32, name string) *attribute {
	for _, a := range r.attrs {
		if a.typ == typ && a.name == name {
			return a
		}
	}
	return nil
}
