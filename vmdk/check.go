package vmdk

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Problem is one inconsistency [Check] found: the file it is in, the byte
// offset in that file (-1 when it has no one place), and what is wrong.
type Problem struct {
	File   string
	Offset int64
	What   string
}

// String formats the problem as "file@offset: what" (offset in hex), or
// "file: what" without an offset.
func (p Problem) String() string {
	if p.Offset < 0 {
		return p.File + ": " + p.What
	}
	return fmt.Sprintf("%s@0x%x: %s", p.File, p.Offset, p.What)
}

// maxProblems bounds the problems Check lists; one more entry then says
// how many were left out.
const maxProblems = 1000

// Check checks the structure of the disk whose descriptor, or monolithic
// sparse file, is at path, and of its parents: the descriptor (type,
// content IDs, extents and their files, the parent chain), and in each
// hosted sparse extent the header, the footer of a stream, the grain
// directory and its redundant copy, every grain table, every grain
// pointer, and the markers of a streamOptimized file. Nothing is written.
//
// Everything wrong inside the disk is a [Problem]; the list is empty for
// a sound disk and holds at most 1000 entries and a last one counting the
// rest. The error is only for a disk that cannot be checked at all: path
// missing or unreadable, or not a VMDK.
//
// Check reads grain tables one at a time and keeps one bit per sector of
// each sparse file to find structures that overlap (one bit per few
// sectors for files over 512 GiB, where overlaps smaller than that unit
// may go unseen), so its memory is bounded by the files' sizes, not by
// what their headers claim. It inflates every compressed grain, one at a
// time, to check its zlib stream and size.
func Check(path string) ([]Problem, error) {
	return check(path, &Options{})
}

// check is Check with host files opened through opts.OpenFile.
func check(path string, opts *Options) ([]Problem, error) {
	c := &checker{opts: opts, seen: map[string]bool{}}
	if _, err := c.disk(path, 0); err != nil {
		return nil, err
	}
	if c.more > 0 {
		c.problems = append(c.problems, Problem{File: path, Offset: -1, What: fmt.Sprintf("and %d more problems", c.more)})
	}
	return c.problems, nil
}

type checker struct {
	opts     *Options
	problems []Problem
	more     int
	seen     map[string]bool // absolute paths of the disks in the chain so far
}

func (c *checker) add(file string, off int64, format string, args ...any) {
	if len(c.problems) >= maxProblems {
		c.more++
		return
	}
	c.problems = append(c.problems, Problem{File: file, Offset: off, What: fmt.Sprintf(format, args...)})
}

// addErr records a parser's error as a problem, at the place a
// [*CorruptError] names, shifted by base when it is at an offset.
func (c *checker) addErr(file string, base int64, err error) {
	var ce *CorruptError
	if errors.As(err, &ce) {
		what := ce.What
		if ce.Err != nil {
			what += ": " + ce.Err.Error()
		}
		off := ce.Offset
		if off >= 0 {
			off += base
		}
		c.add(file, off, "%s", what)
		return
	}
	c.add(file, -1, "%v", err)
}

// knownCreateTypes are the createType values VMware documents.
var knownCreateTypes = []string{
	"monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse", "twoGbMaxExtentFlat",
	"streamOptimized", "vmfs", "vmfsSparse", "vmfsThin", "vmfsEagerZeroedThick",
	"vmfsPreallocated", "vmfsRaw", "vmfsRawDeviceMap", "vmfsPassthroughRawDeviceMap",
	"seSparse", "fullDevice", "partitionedDevice", "custom",
}

// knownExtentTypes are the extent types of extent lines.
var knownExtentTypes = []string{"FLAT", "SPARSE", "ZERO", "VMFS", "VMFSSPARSE", "SESPARSE", "VMFSRDM", "VMFSRAW"}

// twoGbSectors is the most a twoGbMaxExtent* extent holds.
const twoGbSectors = 2 << 30 / sectorSize

// disk checks the disk at path, the depth-th of its chain, and returns its
// descriptor (nil when it has none that parses). An error says the disk
// cannot be checked at all.
func (c *checker) disk(path string, depth int) (*Descriptor, error) {
	if abs, err := filepath.Abs(path); err == nil {
		c.seen[abs] = true
	}
	f, err := c.opts.openFile(path, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	head := make([]byte, sectorSize)
	n, _ := f.ReadAt(head, 0)
	var (
		text    []byte
		textOff int64
		hdr     *sparseHeader // the sparse header of a monolithic file
	)
	switch {
	case n >= 4 && string(head[:4]) == sparseMagic:
		h, ok := c.sparse(f, path, size)
		if !ok {
			return nil, nil
		}
		hdr = &h
		switch {
		case h.descOffset == 0 || h.descSize == 0:
			c.add(path, 28, "sparse file without an embedded descriptor: an extent, not a disk")
			return nil, nil
		case h.descSize < 0 || h.descSize > maxDescriptor/sectorSize || h.descOffset < 0 || h.descOffset > size/sectorSize || h.descOffset*sectorSize+h.descSize*sectorSize > size:
			c.add(path, 28, "embedded descriptor at sector %d, %d sectors, outside the %d-byte file", h.descOffset, h.descSize, size)
			return nil, nil
		}
		text = make([]byte, h.descSize*sectorSize)
		textOff = h.descOffset * sectorSize
		if err := readFull(f, text, textOff); err != nil {
			c.add(path, textOff, "embedded descriptor: %v", err)
			return nil, nil
		}
	case n >= 4 && string(head[:4]) == "COWD":
		return nil, unsupported("%s: a vmfsSparse (COWD) extent; check its descriptor", path)
	default:
		if size > maxDescriptor {
			return nil, corrupt(path, 0, "not a VMDK: neither a sparse extent nor a descriptor (%d bytes)", size)
		}
		text = make([]byte, size)
		if err := readFull(f, text, 0); err != nil {
			return nil, fmt.Errorf("vmdk: %s: %w", path, err)
		}
		if !bytes.Contains(bytes.ToLower(text), []byte("createtype")) {
			return nil, corrupt(path, 0, "not a VMDK: neither a sparse extent nor a descriptor")
		}
	}
	desc, err := ParseDescriptor(text, path)
	if err != nil {
		c.addErr(path, textOff, err)
		return nil, nil
	}
	c.descriptor(path, text, textOff, desc, hdr)
	c.parent(path, desc, depth)
	return desc, nil
}

// descriptor checks a parsed descriptor and the extents it names; text is
// its source at textOff in the file, hdr the header of the sparse file it
// is embedded in (nil for a descriptor file).
func (c *checker) descriptor(path string, text []byte, textOff int64, d *Descriptor, hdr *sparseHeader) {
	keyAt := func(key string) int64 {
		if off := keyOffset(text, key); off >= 0 {
			return textOff + off
		}
		return -1
	}
	if !containsFold(knownCreateTypes, d.CreateType) {
		c.add(path, keyAt("createType"), "unknown createType %q", d.CreateType)
	}
	for _, key := range []string{"CID", "parentCID"} {
		v, ok := rawValue(text, key)
		switch {
		case !ok && key == "CID":
			c.add(path, -1, "descriptor without a CID")
		case ok && !isHexID(v):
			c.add(path, keyAt(key), "%s %q is not 1 to 8 hex digits", key, v)
		}
	}
	if d.CID >= 0xFFFFFFFE {
		c.add(path, keyAt("CID"), "CID %08x is a value that means no content ID", d.CID)
	}
	lines := extentOffsets(text)
	lineOff := func(i int) int64 {
		if i < len(lines) {
			return textOff + lines[i]
		}
		return -1
	}
	if hdr != nil {
		if len(d.Extents) != 1 || d.Extents[0].Type != "SPARSE" {
			c.add(path, lineOff(0), "embedded descriptor with %d extents (want one SPARSE extent)", len(d.Extents))
			return
		}
		if d.Extents[0].Sectors != hdr.capacity {
			c.add(path, lineOff(0), "extent of %d sectors, the sparse header's capacity is %d", d.Extents[0].Sectors, hdr.capacity)
		}
		return
	}
	var total int64
	twoGb := strings.HasPrefix(strings.ToLower(d.CreateType), "twogbmaxextent")
	for i, e := range d.Extents {
		total += e.Sectors // each is at most 2^42, so the sum cannot overflow before the check
		if total > 1<<42 {
			c.add(path, lineOff(i), "extents add up to more than 2^42 sectors")
			return
		}
		if !containsFold(knownExtentTypes, e.Type) {
			c.add(path, lineOff(i), "unknown extent type %s", e.Type)
			continue
		}
		if twoGb && e.Sectors > twoGbSectors {
			c.add(path, lineOff(i), "extent %s of %d sectors in a %s disk (at most %d)", e.File, e.Sectors, d.CreateType, twoGbSectors)
		}
		if e.Type == "ZERO" {
			continue
		}
		name := e.File
		if !filepath.IsAbs(name) {
			name = filepath.Join(filepath.Dir(path), name)
		}
		f, err := c.opts.openFile(name, os.O_RDONLY)
		if err != nil {
			c.add(path, lineOff(i), "extent file %s: %v", e.File, err)
			continue
		}
		c.extent(path, lineOff(i), name, f, e)
		f.Close()
	}
}

// extent checks the file of one extent line of the descriptor at path.
func (c *checker) extent(path string, lineOff int64, name string, f File, e Extent) {
	fi, err := f.Stat()
	if err != nil {
		c.add(name, -1, "%v", err)
		return
	}
	switch e.Type {
	case "FLAT", "VMFS":
		if need := (e.Offset + e.Sectors) * sectorSize; fi.Size() < need {
			c.add(path, lineOff, "extent file %s has %d bytes, the extent needs %d", e.File, fi.Size(), need)
		}
	case "SPARSE":
		h, ok := c.sparse(f, name, fi.Size())
		if ok && h.capacity != e.Sectors {
			c.add(path, lineOff, "extent %s of %d sectors, its sparse header's capacity is %d", e.File, e.Sectors, h.capacity)
		}
	}
}

// parent checks the parent chain of the disk at path.
func (c *checker) parent(path string, d *Descriptor, depth int) {
	if d.ParentCID == NoParent && d.ParentFileNameHint == "" {
		return
	}
	if d.ParentFileNameHint == "" {
		c.add(path, -1, "parentCID %08x without a parentFileNameHint", d.ParentCID)
		return
	}
	if d.ParentCID == NoParent {
		c.add(path, -1, "parentFileNameHint %q with parentCID ffffffff (no parent)", d.ParentFileNameHint)
		return
	}
	pp := d.ParentFileNameHint
	if !filepath.IsAbs(pp) {
		pp = filepath.Join(filepath.Dir(path), pp)
	}
	if abs, err := filepath.Abs(pp); err == nil && c.seen[abs] {
		c.add(path, -1, "parent chain loops: parent %s is already in the chain", d.ParentFileNameHint)
		return
	}
	if depth+1 >= maxChain {
		c.add(path, -1, "parent chain longer than %d disks", maxChain)
		return
	}
	pd, err := c.disk(pp, depth+1)
	switch {
	case err != nil:
		c.add(path, -1, "parent %s: %v", d.ParentFileNameHint, err)
	case pd == nil: // its problems are listed
	case pd.CID != d.ParentCID:
		c.add(path, -1, "parentCID %08x, the parent %s has CID %08x", d.ParentCID, d.ParentFileNameHint, pd.CID)
	case pd.Capacity() != d.Capacity():
		c.add(path, -1, "%d sectors, the parent %s has %d", d.Capacity(), d.ParentFileNameHint, pd.Capacity())
	}
}

// sparse checks a hosted sparse extent of size bytes (with the footer
// of a stream that has one) and returns its header; ok is false when the
// header is too broken to use.
func (c *checker) sparse(f File, name string, size int64) (h sparseHeader, ok bool) {
	b := make([]byte, sectorSize)
	if err := readFull(f, b, 0); err != nil {
		c.add(name, 0, "sparse header: %v", err)
		return h, false
	}
	h = decodeSparseHeader(b)
	if !c.header(name, 0, b, h) {
		return h, false
	}
	s := &sparseCheck{c: c, f: f, name: name, size: size, sectors: size / sectorSize, hdr: h}
	s.space = newSpaceMap(s.sectors)
	s.claim(0, 1, "the sparse header")
	if h.descOffset != 0 {
		if h.descOffset < 0 || h.descOffset > s.sectors || h.descSize < 0 || h.descSize > s.sectors-h.descOffset {
			c.add(name, 28, "descriptor at sector %d, %d sectors, past the end of the %d-byte file", h.descOffset, h.descSize, size)
		} else {
			s.claim(h.descOffset, h.descSize, "the embedded descriptor")
		}
	}
	if h.overhead > s.sectors+1 {
		c.add(name, 64, "overhead of %d sectors in a %d-byte file", h.overhead, size)
	}
	if !s.footer() {
		return h, true
	}
	s.directories()
	if s.hdr.flags&flagCompressed != 0 && s.hdr.flags&flagMarkers != 0 {
		s.stream()
	}
	return h, true
}

// decodeSparseHeader decodes a sparse header without judging it.
func decodeSparseHeader(b []byte) sparseHeader {
	le := binary.LittleEndian
	return sparseHeader{
		version:     le.Uint32(b[4:]),
		flags:       le.Uint32(b[8:]),
		capacity:    int64(le.Uint64(b[12:])),
		grainSize:   int64(le.Uint64(b[20:])),
		descOffset:  int64(le.Uint64(b[28:])),
		descSize:    int64(le.Uint64(b[36:])),
		numGTEs:     int64(le.Uint32(b[44:])),
		rgdOffset:   int64(le.Uint64(b[48:])),
		gdOffset:    int64(le.Uint64(b[56:])),
		overhead:    int64(le.Uint64(b[64:])),
		unclean:     b[72] != 0,
		compression: le.Uint16(b[77:]),
	}
}

// maxCheckGrain is the largest grain Check accepts as sane, in sectors
// (1 MiB; VMware and qemu write 64 KiB).
const maxCheckGrain = 2048

// header checks the header (or footer) b at base;
// it returns false when the grain tables cannot be walked with it.
func (c *checker) header(name string, base int64, b []byte, h sparseHeader) bool {
	usable := true
	if string(b[:4]) != sparseMagic {
		c.add(name, base, "no KDMV magic")
		return false
	}
	if h.version < 1 || h.version > 3 {
		c.add(name, base+4, "unknown sparse extent version %d", h.version)
		usable = false
	}
	if h.flags&incompatibleMask&^(flagCompressed|flagMarkers) != 0 {
		c.add(name, base+8, "unknown incompatible flags 0x%x", h.flags&incompatibleMask&^(flagCompressed|flagMarkers))
		usable = false
	}
	if h.flags&flagNewlineTest != 0 && !bytes.Equal(b[73:77], []byte("\n \r\n")) {
		c.add(name, base+73, "newline test bytes %q: the file went through a text-mode transfer", b[73:77])
	}
	if h.capacity <= 0 || h.capacity > 1<<42 {
		c.add(name, base+12, "capacity of %d sectors", h.capacity)
		usable = false
	}
	// A capacity that is no multiple of the grain is sound: the last
	// grain is partial (qemu makes such disks).
	if h.grainSize < 1 || h.grainSize > maxCheckGrain || h.grainSize&(h.grainSize-1) != 0 {
		c.add(name, base+20, "grain size of %d sectors (want a power of two from 1 to %d)", h.grainSize, maxCheckGrain)
		usable = false
	}
	if h.numGTEs != 512 {
		c.add(name, base+44, "%d entries per grain table (want 512)", h.numGTEs)
		usable = usable && h.numGTEs >= 1 && h.numGTEs <= maxGTEs
	}
	if h.compression > 1 {
		c.add(name, base+77, "unknown compression algorithm %d", h.compression)
		usable = false
	} else if (h.compression == 1) != (h.flags&flagCompressed != 0) {
		c.add(name, base+77, "compression algorithm %d with flags 0x%x", h.compression, h.flags)
		usable = false
	}
	if h.unclean {
		c.add(name, base+72, "uncleanShutdown flag set: the last writer did not close the disk")
	}
	if h.flags&flagRedundantGT != 0 && h.rgdOffset == 0 {
		c.add(name, base+48, "redundant grain table flag without a redundant grain directory")
	}
	return usable
}

// sparseCheck walks one sparse extent.
type sparseCheck struct {
	c       *checker
	f       File
	name    string
	size    int64
	sectors int64 // whole sectors in the file
	hdr     sparseHeader
	space   *spaceMap
	gdSect  int64         // where the grain directory is (the footer's when the header defers to it)
	atEnd   bool          // the header defers the grain directory to the footer
	zr      io.ReadCloser // zlib reader, reset for each compressed grain
	grain   []byte        // a grain and a byte, to inflate into
}

// claim marks n sectors at start as used by what, reporting an overlap.
func (s *sparseCheck) claim(start, n int64, what string) bool {
	if s.space.claim(start, n) {
		s.c.add(s.name, start*sectorSize, "%s at sector %d overlaps another structure", what, start)
		return false
	}
	return true
}

// footer checks the footer of a stream, when the header says the grain
// directory is there or the file ends with one, and takes the grain
// directory's place from it; false means the directory cannot be found.
func (s *sparseCheck) footer() bool {
	atEnd := uint64(s.hdr.gdOffset) == gdAtEnd
	s.atEnd = atEnd
	s.gdSect = s.hdr.gdOffset
	if s.size < 4*sectorSize || s.size%sectorSize != 0 {
		if atEnd {
			s.c.add(s.name, 56, "the header defers the grain directory to a footer, and the %d-byte file has no room for one", s.size)
			return false
		}
		return true
	}
	end := s.size
	b := make([]byte, 3*sectorSize)
	if err := readFull(s.f, b, end-3*sectorSize); err != nil {
		s.c.add(s.name, end-3*sectorSize, "footer: %v", err)
		return !atEnd
	}
	le := binary.LittleEndian
	marker, foot, eos := b[:sectorSize], b[sectorSize:2*sectorSize], b[2*sectorSize:]
	present := le.Uint32(marker[8:]) == 0 && le.Uint32(marker[12:]) == markerFooter && string(foot[:4]) == sparseMagic
	if !present {
		if atEnd {
			s.c.add(s.name, end-3*sectorSize, "the header defers the grain directory to a footer, and the file does not end with footer marker, footer and end-of-stream marker (truncated?)")
			return false
		}
		return true
	}
	mOff, fOff := end-3*sectorSize, end-2*sectorSize
	if n := le.Uint64(marker); n != 1 {
		s.c.add(s.name, mOff, "footer marker says %d sectors follow (want 1)", n)
	}
	if !isZero(eos) {
		s.c.add(s.name, end-sectorSize, "no end-of-stream marker after the footer")
	}
	ft := decodeSparseHeader(foot)
	if !s.c.header(s.name, fOff, foot, ft) {
		return false
	}
	h := s.hdr
	type field struct {
		name   string
		off    int64
		hv, fv int64
	}
	for _, f := range []field{
		{"version", 4, int64(h.version), int64(ft.version)},
		{"flags", 8, int64(h.flags), int64(ft.flags)},
		{"capacity", 12, h.capacity, ft.capacity},
		{"grain size", 20, h.grainSize, ft.grainSize},
		{"descriptor offset", 28, h.descOffset, ft.descOffset},
		{"descriptor size", 36, h.descSize, ft.descSize},
		{"entries per grain table", 44, h.numGTEs, ft.numGTEs},
		{"redundant grain directory", 48, h.rgdOffset, ft.rgdOffset},
		{"overhead", 64, h.overhead, ft.overhead},
		{"compression", 77, int64(h.compression), int64(ft.compression)},
	} {
		if f.hv != f.fv {
			s.c.add(s.name, fOff+f.off, "footer's %s is %d, the header's %d", f.name, f.fv, f.hv)
		}
	}
	switch {
	case uint64(ft.gdOffset) == gdAtEnd:
		s.c.add(s.name, fOff+56, "footer without a grain directory offset")
		return false
	case !atEnd && ft.gdOffset != h.gdOffset:
		s.c.add(s.name, fOff+56, "footer's grain directory at sector %d, the header's at %d", ft.gdOffset, h.gdOffset)
	}
	if atEnd {
		// The walk goes by the footer, as readers do.
		s.hdr = ft
		s.gdSect = ft.gdOffset
	}
	s.claim(end-3*sectorSize, 3, "the footer")
	return true
}

// directory reads the n entries of a grain directory at sector, reporting
// where it does not fit; field is the header offset naming it.
func (s *sparseCheck) directory(sector, n, field int64, what string) []uint32 {
	if sector <= 0 || sector > s.sectors || n*4 > (s.sectors-sector)*sectorSize {
		s.c.add(s.name, field, "%s at sector %d (%d entries) outside the %d-byte file", what, sector, n, s.size)
		return nil
	}
	if !s.claim(sector, (n*4+sectorSize-1)/sectorSize, what) {
		return nil
	}
	b := make([]byte, n*4)
	if err := readFull(s.f, b, sector*sectorSize); err != nil {
		s.c.add(s.name, sector*sectorSize, "%s: %v", what, err)
		return nil
	}
	gd := make([]uint32, n)
	for i := range gd {
		gd[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return gd
}

// directories walks the grain directory, its redundant copy and every
// grain table, one at a time.
func (s *sparseCheck) directories() {
	h := s.hdr
	n := h.gdEntries()
	if n > maxGDEntries || n*4 > s.size {
		s.c.add(s.name, 12, "capacity of %d sectors needs a grain directory of %d entries, more than the %d-byte file holds", h.capacity, n, s.size)
		return
	}
	gd := s.directory(s.gdSect, n, 56, "grain directory")
	if gd == nil {
		return
	}
	var rgd []uint32
	if h.flags&flagRedundantGT != 0 && h.rgdOffset != 0 {
		rgd = s.directory(h.rgdOffset, n, 48, "redundant grain directory")
	}
	gtSectors := (h.numGTEs*4 + sectorSize - 1) / sectorSize
	gt := make([]byte, h.numGTEs*4)
	rgt := make([]byte, h.numGTEs*4)
	for i, sect := range gd {
		gdeOff := s.gdSect*sectorSize + 4*int64(i)
		var rsect uint32
		if rgd != nil {
			rsect = rgd[i]
			if (rsect == 0) != (sect == 0) {
				s.c.add(s.name, h.rgdOffset*sectorSize+4*int64(i), "redundant grain directory entry %d is %d, the grain directory's %d", i, rsect, sect)
				rsect = 0
			}
		}
		if sect == 0 {
			continue
		}
		if !s.table(int64(sect), gtSectors, gdeOff, i, "grain table", gt) {
			continue
		}
		if rsect != 0 && s.table(int64(rsect), gtSectors, h.rgdOffset*sectorSize+4*int64(i), i, "redundant grain table", rgt) {
			s.compareTables(i, int64(rsect), gt, rgt)
		}
		s.grains(int64(i), gt, int64(sect))
	}
}

// table reads grain table i, gtSectors long at sector, into b; gdeOff is
// the directory entry pointing at it.
func (s *sparseCheck) table(sector, gtSectors, gdeOff int64, i int, what string, b []byte) bool {
	if sector > s.sectors-gtSectors {
		s.c.add(s.name, gdeOff, "%s %d at sector %d past the end of the %d-byte file", what, i, sector, s.size)
		return false
	}
	if !s.claim(sector, gtSectors, fmt.Sprintf("%s %d", what, i)) {
		return false
	}
	if err := readFull(s.f, b, sector*sectorSize); err != nil {
		s.c.add(s.name, sector*sectorSize, "%s %d: %v", what, i, err)
		return false
	}
	return true
}

// compareTables reports where redundant grain table i (at sector rsect)
// differs from the grain table.
func (s *sparseCheck) compareTables(i int, rsect int64, gt, rgt []byte) {
	if bytes.Equal(gt, rgt) {
		return
	}
	first, count := -1, 0
	for k := 0; k < len(gt); k += 4 {
		if !bytes.Equal(gt[k:k+4], rgt[k:k+4]) {
			if first < 0 {
				first = k
			}
			count++
		}
	}
	le := binary.LittleEndian
	s.c.add(s.name, rsect*sectorSize+int64(first), "redundant grain table %d differs from the grain table in %d entries (first: entry %d is %d, not %d)",
		i, count, first/4, le.Uint32(rgt[first:]), le.Uint32(gt[first:]))
}

// grains checks the grain pointers of grain table i (at sector gtSect).
func (s *sparseCheck) grains(i int64, gt []byte, gtSect int64) {
	h := s.hdr
	compressed := h.flags&flagCompressed != 0
	var rec [14]byte
	for k := int64(0); k < h.numGTEs; k++ {
		gte := int64(binary.LittleEndian.Uint32(gt[4*k:]))
		g := i*h.numGTEs + k
		off := gtSect*sectorSize + 4*k
		switch {
		case gte == 0:
			continue
		case gte == 1 && h.flags&flagZeroedGrain != 0:
			continue
		case g*h.grainSize >= h.capacity:
			s.c.add(s.name, off, "grain %d past the capacity points at sector %d", g, gte)
			continue
		case gte < h.overhead:
			s.c.add(s.name, off, "grain %d at sector %d, inside the %d sectors of metadata", g, gte, h.overhead)
			continue
		}
		if !compressed {
			n := min(h.grainSize, h.capacity-g*h.grainSize)
			if gte > s.sectors-n {
				s.c.add(s.name, off, "grain %d at sector %d past the end of the %d-byte file", g, gte, s.size)
				continue
			}
			s.claim(gte, n, fmt.Sprintf("grain %d", g))
			continue
		}
		if h.flags&flagMarkers == 0 {
			// No record header: the zlib stream's length is unknown.
			if gte >= s.sectors {
				s.c.add(s.name, off, "compressed grain %d at sector %d past the end of the %d-byte file", g, gte, s.size)
				continue
			}
			s.claim(gte, 1, fmt.Sprintf("compressed grain %d", g))
			s.inflate(g, gte*sectorSize, s.size-gte*sectorSize)
			continue
		}
		if gte*sectorSize+int64(len(rec)) > s.size {
			s.c.add(s.name, off, "grain record %d at sector %d past the end of the %d-byte file", g, gte, s.size)
			continue
		}
		if err := readFull(s.f, rec[:], gte*sectorSize); err != nil {
			s.c.add(s.name, gte*sectorSize, "grain record %d: %v", g, err)
			continue
		}
		lba := binary.LittleEndian.Uint64(rec[:])
		n := int64(binary.LittleEndian.Uint32(rec[8:]))
		if lba != uint64(g*h.grainSize) {
			s.c.add(s.name, gte*sectorSize, "grain record says LBA %d, its grain table entry (grain %d) wants %d", lba, g, g*h.grainSize)
		}
		if !s.record(gte, n, fmt.Sprintf("grain record %d", g)) {
			continue
		}
		if cmf, flg := rec[12], rec[13]; cmf&0x0F != 8 || (uint16(cmf)<<8|uint16(flg))%31 != 0 {
			s.c.add(s.name, gte*sectorSize+12, "grain record %d does not start a zlib stream (bytes %02x %02x)", g, cmf, flg)
			continue
		}
		s.inflate(g, gte*sectorSize+12, n)
	}
}

// inflate decompresses grain g, n bytes of zlib stream at byte at, and
// reports a stream that is broken or inflates to more than a grain, or
// to less than the grain's part of the capacity.
func (s *sparseCheck) inflate(g, at, n int64) {
	h := s.hdr
	r := io.NewSectionReader(s.f, at, n)
	var err error
	if s.zr == nil {
		s.zr, err = zlib.NewReader(r)
	} else {
		err = s.zr.(zlib.Resetter).Reset(r, nil)
	}
	if err != nil {
		s.zr = nil
		s.c.add(s.name, at, "grain %d: %v", g, err)
		return
	}
	if s.grain == nil {
		s.grain = make([]byte, h.grainSize*sectorSize+1) // bounded by maxCheckGrain
	}
	m, err := io.ReadFull(s.zr, s.grain)
	want := min(h.grainSize, h.capacity-g*h.grainSize) * sectorSize
	switch {
	case err == nil:
		s.c.add(s.name, at, "grain %d inflates to more than a grain (%d bytes)", g, h.grainSize*sectorSize)
	case !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF):
		s.c.add(s.name, at, "grain %d: %v", g, err)
	case int64(m) < want:
		s.c.add(s.name, at, "grain %d inflates to %d bytes, the grain holds %d", g, m, want)
	}
}

// record checks the extent of a compressed grain record of n data bytes
// at sector and claims it.
func (s *sparseCheck) record(sector, n int64, what string) bool {
	grainBytes := s.hdr.grainSize * sectorSize
	if n <= 0 || n > 2*grainBytes+sectorSize {
		s.c.add(s.name, sector*sectorSize+8, "%s of %d compressed bytes (a grain is %d)", what, n, grainBytes)
		return false
	}
	sectors := (12 + n + sectorSize - 1) / sectorSize
	if sector*sectorSize+12+n > s.size {
		s.c.add(s.name, sector*sectorSize+8, "%s of %d bytes runs past the end of the %d-byte file", what, n, s.size)
		return false
	}
	s.claim(sector, min(sectors, s.sectors-sector), what)
	return true
}

// stream walks the records and markers of a streamOptimized file from
// the end of its metadata, as a sequential reader does, up to the
// end-of-stream marker.
func (s *sparseCheck) stream() {
	h := s.hdr
	le := binary.LittleEndian
	gtSectors := (h.numGTEs*4 + sectorSize - 1) / sectorSize
	gdSectors := (h.gdEntries()*4 + sectorSize - 1) / sectorSize
	var b [16]byte
	sect := h.overhead
	if sect < 1 || sect > s.sectors {
		return // reported with the header
	}
	for sect < s.sectors {
		off := sect * sectorSize
		if err := readFull(s.f, b[:], off); err != nil {
			s.c.add(s.name, off, "stream: %v", err)
			return
		}
		val, size, typ := le.Uint64(b[:]), int64(le.Uint32(b[8:])), le.Uint32(b[12:])
		if size != 0 { // a grain record
			switch {
			case val%uint64(h.grainSize) != 0 || val >= uint64(h.capacity):
				s.c.add(s.name, off, "grain record for LBA %d (capacity %d, grains of %d sectors)", val, h.capacity, h.grainSize)
			case !s.space.taken(sect):
				s.c.add(s.name, off, "grain record for LBA %d is not the one its grain table entry points at", val)
			}
			if size > 2*h.grainSize*sectorSize+sectorSize {
				s.c.add(s.name, off+8, "grain record of %d compressed bytes; the stream cannot be followed past it", size)
				return
			}
			sect += (12 + size + sectorSize - 1) / sectorSize
			continue
		}
		if val > uint64(s.sectors-sect-1) {
			s.c.add(s.name, off, "marker of type %d says %d sectors follow, past the end of the file", typ, val)
			return
		}
		switch typ {
		case markerEOS:
			return
		case markerGT:
			if int64(val) != gtSectors {
				s.c.add(s.name, off, "grain table marker says %d sectors (a grain table has %d)", val, gtSectors)
			}
		case markerGD:
			if int64(val) != gdSectors {
				s.c.add(s.name, off, "grain directory marker says %d sectors (the directory has %d)", val, gdSectors)
			}
			if sect+1 != s.gdSect {
				s.c.add(s.name, off, "grain directory marker at sector %d, the grain directory is at %d", sect, s.gdSect)
			}
		case markerFooter:
			if val != 1 {
				s.c.add(s.name, off, "footer marker says %d sectors (want 1)", val)
			}
		default:
			s.c.add(s.name, off+12, "marker of unknown type %d", typ)
		}
		sect += 1 + int64(val)
	}
	if s.atEnd {
		s.c.add(s.name, s.size, "stream without an end-of-stream marker")
	}
}

// spaceMap records which sectors of a file are in use: one bit per unit
// sectors, in pages allocated as they are touched, so that memory follows
// what the file really holds.
type spaceMap struct {
	unit  int64
	pages map[int64]*[spacePageWords]uint64
}

const (
	spacePageWords = 1 << 12 // 256 Ki bits a page
	maxSpaceBits   = 1 << 30 // 128 MiB of bits at most
)

func newSpaceMap(sectors int64) *spaceMap {
	unit := int64(1)
	for sectors/unit > maxSpaceBits {
		unit *= 2
	}
	return &spaceMap{unit: unit, pages: map[int64]*[spacePageWords]uint64{}}
}

// claim marks the whole units within n sectors at start and reports
// whether any of them was marked before.
func (m *spaceMap) claim(start, n int64) bool {
	if start < 0 || n <= 0 {
		return false
	}
	first := (start + m.unit - 1) / m.unit
	end := (start + n) / m.unit
	overlap := false
	for u := first; u < end; {
		page, w, bit := u/(64*spacePageWords), u/64%spacePageWords, u%64
		p := m.pages[page]
		if p == nil {
			p = new([spacePageWords]uint64)
			m.pages[page] = p
		}
		k := min(64-bit, end-u)
		mask := ^uint64(0) >> (64 - k) << bit
		if p[w]&mask != 0 {
			overlap = true
		}
		p[w] |= mask
		u += k
	}
	return overlap
}

// taken reports whether the unit holding sector is marked.
func (m *spaceMap) taken(sector int64) bool {
	u := sector / m.unit
	p := m.pages[u/(64*spacePageWords)]
	return p != nil && p[u/64%spacePageWords]&(1<<(u%64)) != 0
}

// readFull reads len(b) bytes at off; a short read is an error.
func readFull(f io.ReaderAt, b []byte, off int64) error {
	n, err := f.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// isHexID reports whether s is a content ID as qemu and VMware write
// them: 1 to 8 hex digits (qemu does not pad).
func isHexID(s string) bool {
	if len(s) < 1 || len(s) > 8 {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

// rawValue returns the value of a header key (matched without regard to
// case) in descriptor text, quotes removed.
func rawValue(text []byte, key string) (string, bool) {
	for _, line := range descLines(text) {
		k, v, ok := strings.Cut(line.s, "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), key) {
			v = strings.TrimSpace(v)
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v, true
		}
	}
	return "", false
}

// keyOffset returns the offset of the line setting key, or -1.
func keyOffset(text []byte, key string) int64 {
	for _, line := range descLines(text) {
		if k, _, ok := strings.Cut(line.s, "="); ok && strings.EqualFold(strings.TrimSpace(k), key) {
			return line.off
		}
	}
	return -1
}

// extentOffsets returns the offsets of the extent lines of descriptor text.
func extentOffsets(text []byte) []int64 {
	var offs []int64
	for _, line := range descLines(text) {
		if extentLine.MatchString(line.s) {
			offs = append(offs, line.off)
		}
	}
	return offs
}

type descLine struct {
	off int64
	s   string
}

// descLines splits descriptor text (up to its first NUL) into trimmed
// lines that are neither blank nor comments.
func descLines(text []byte) []descLine {
	if i := bytes.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	}
	var lines []descLine
	off := int64(0)
	for _, l := range strings.Split(string(text), "\n") {
		lo := off
		off += int64(len(l)) + 1
		l = strings.TrimSpace(strings.TrimSuffix(l, "\r"))
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, descLine{lo, l})
		}
	}
	return lines
}
