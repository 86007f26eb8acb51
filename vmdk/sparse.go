package vmdk

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"
)

// Hosted sparse extent header fields and flags.
const (
	sparseMagic = "KDMV"
	sectorSize  = 512

	flagNewlineTest  = 1 << 0
	flagRedundantGT  = 1 << 1
	flagZeroedGrain  = 1 << 2
	flagCompressed   = 1 << 16
	flagMarkers      = 1 << 17
	knownFlags       = flagNewlineTest | flagRedundantGT | flagZeroedGrain | flagCompressed | flagMarkers
	incompatibleMask = 0xFFFF0000

	gdAtEnd = 0xFFFFFFFFFFFFFFFF

	// Limits that keep header fields from driving allocations.
	maxGrainSectors = 1 << 21 // 1 GiB grains (qemu's limit)
	maxGTEs         = 512
	maxGDEntries    = 32 << 20 // qemu's cap
	// A compressed grain is inflated whole into memory: 16 MiB at most
	// (writers use 64 KiB).
	maxCompressedGrain = 1 << 15
)

// sparseHeader is the 512-byte header of a hosted sparse extent.
type sparseHeader struct {
	version     uint32 // 0x04
	flags       uint32 // 0x08
	capacity    int64  // 0x0C sectors
	grainSize   int64  // 0x14 sectors
	descOffset  int64  // 0x1C sector of the embedded descriptor
	descSize    int64  // 0x24 sectors
	numGTEs     int64  // 0x2C entries per grain table
	rgdOffset   int64  // 0x30 sector of the redundant grain directory
	gdOffset    int64  // 0x38 sector of the grain directory (gdAtEnd: see the footer)
	overhead    int64  // 0x40 sectors of metadata before the first grain
	unclean     bool   // 0x48
	compression uint16 // 0x4D: 0 none, 1 deflate (zlib)
}

func parseSparseHeader(b []byte, file string) (sparseHeader, error) {
	var h sparseHeader
	if len(b) < sectorSize || string(b[:4]) != sparseMagic {
		return h, corrupt(file, 0, "no KDMV sparse header")
	}
	le := binary.LittleEndian
	h.version = le.Uint32(b[4:])
	h.flags = le.Uint32(b[8:])
	h.capacity = int64(le.Uint64(b[12:]))
	h.grainSize = int64(le.Uint64(b[20:]))
	h.descOffset = int64(le.Uint64(b[28:]))
	h.descSize = int64(le.Uint64(b[36:]))
	h.numGTEs = int64(le.Uint32(b[44:]))
	h.rgdOffset = int64(le.Uint64(b[48:]))
	h.gdOffset = int64(le.Uint64(b[56:]))
	h.overhead = int64(le.Uint64(b[64:]))
	h.unclean = b[72] != 0
	h.compression = le.Uint16(b[77:])
	switch {
	case h.version < 1 || h.version > 3:
		return h, fmt.Errorf("%w: %s: sparse extent version %d", ErrUnsupported, file, h.version)
	case h.flags&incompatibleMask&^(flagCompressed|flagMarkers) != 0:
		return h, fmt.Errorf("%w: %s: sparse extent flags 0x%x", ErrUnsupported, file, h.flags)
	case h.flags&flagNewlineTest != 0 && !bytes.Equal(b[73:77], []byte("\n \r\n")):
		return h, corrupt(file, 73, "newline test bytes %q: the file went through a text-mode transfer", b[73:77])
	case h.capacity <= 0 || h.capacity > 1<<42:
		return h, corrupt(file, 12, "capacity of %d sectors", h.capacity)
	case h.grainSize < 1 || h.grainSize > maxGrainSectors || h.grainSize&(h.grainSize-1) != 0:
		return h, corrupt(file, 20, "grain size of %d sectors", h.grainSize)
	case h.flags&flagCompressed != 0 && h.grainSize > maxCompressedGrain:
		return h, fmt.Errorf("%w: %s: compressed grains of %d sectors", ErrUnsupported, file, h.grainSize)
	case h.numGTEs < 1 || h.numGTEs > maxGTEs:
		return h, corrupt(file, 44, "%d entries per grain table", h.numGTEs)
	case h.compression > 1:
		return h, fmt.Errorf("%w: %s: compression algorithm %d", ErrUnsupported, file, h.compression)
	case (h.compression == 1) != (h.flags&flagCompressed != 0):
		return h, corrupt(file, 77, "compression %d with flags 0x%x", h.compression, h.flags)
	}
	return h, nil
}

// gdEntries returns the number of grain directory entries for the capacity.
func (h *sparseHeader) gdEntries() int64 {
	perGT := h.grainSize * h.numGTEs
	return (h.capacity + perGT - 1) / perGT
}

// sparseExtent is an open hosted sparse extent (monolithicSparse,
// twoGbMaxExtentSparse's files, a delta disk, streamOptimized).
type sparseExtent struct {
	name string
	f    File
	size int64 // file size
	hdr  sparseHeader
	gd   []uint32 // grain directory: sector of each grain table, 0 = none
	rgd  []uint32 // redundant directory, nil if absent
	// zeroGTEs says a GTE of 1 is a zero grain (flag bit 2).
	zeroGTEs bool

	mu     sync.Mutex
	gts    map[int64][]uint32 // cached grain tables by directory index
	gtLRU  []int64
	grain  []byte // last decompressed grain (streamOptimized)
	grainN int64  // its grain number, -1 for none
	next   int64  // where the next grain is appended (sectors), for writing
}

// maxCachedGTs bounds the grain tables kept in memory: 4096 tables of 512
// entries is 8 MiB, covering 128 GiB of 64 KiB grains.
const maxCachedGTs = 4096

// openSparse reads a sparse extent's header and grain directory.
func openSparse(f File, name string) (*sparseExtent, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	e := &sparseExtent{name: name, f: f, size: fi.Size(), gts: map[int64][]uint32{}, grainN: -1}
	b := make([]byte, sectorSize)
	if err := readFull(f, b, 0); err != nil {
		return nil, corrupt(name, 0, "sparse header: %v", err)
	}
	if e.hdr, err = parseSparseHeader(b, name); err != nil {
		return nil, err
	}
	if uint64(e.hdr.gdOffset) == gdAtEnd {
		// streamOptimized written as a stream: the footer, the sector
		// before the end-of-stream marker, holds the real offsets.
		if err := e.readFooter(); err != nil {
			return nil, err
		}
	}
	e.zeroGTEs = e.hdr.flags&flagZeroedGrain != 0
	n := e.hdr.gdEntries()
	if n > maxGDEntries || n*4 > e.size {
		return nil, corrupt(name, 56, "grain directory of %d entries in a %d-byte file", n, e.size)
	}
	if e.gd, err = e.readDirectory(e.hdr.gdOffset, n, 56); err != nil {
		return nil, err
	}
	if e.hdr.flags&flagRedundantGT != 0 && e.hdr.rgdOffset != 0 {
		if e.rgd, err = e.readDirectory(e.hdr.rgdOffset, n, 48); err != nil {
			return nil, err
		}
	}
	e.next = (e.size + sectorSize - 1) / sectorSize
	return e, nil
}

// readFooter replaces the header with the footer of a stream whose header
// says the directory is at the end.
func (e *sparseExtent) readFooter() error {
	if e.size < 3*sectorSize {
		return corrupt(e.name, 0, "stream of %d bytes has no room for a footer", e.size)
	}
	b := make([]byte, 3*sectorSize)
	if err := readFull(e.f, b, e.size-3*sectorSize); err != nil {
		return corrupt(e.name, e.size-3*sectorSize, "footer: %v", err)
	}
	le := binary.LittleEndian
	marker, footer, eos := b[:sectorSize], b[sectorSize:2*sectorSize], b[2*sectorSize:]
	if le.Uint32(marker[8:]) != 0 || le.Uint32(marker[12:]) != markerFooter {
		return corrupt(e.name, e.size-3*sectorSize, "no footer marker before the end of the stream")
	}
	if !bytes.Equal(eos, make([]byte, sectorSize)) {
		return corrupt(e.name, e.size-sectorSize, "no end-of-stream marker")
	}
	h, err := parseSparseHeader(footer, e.name)
	if err != nil {
		return err
	}
	if uint64(h.gdOffset) == gdAtEnd {
		return corrupt(e.name, e.size-2*sectorSize+56, "footer without a grain directory offset")
	}
	e.hdr = h
	return nil
}

// readDirectory reads n grain directory entries at sector.
func (e *sparseExtent) readDirectory(sector, n, field int64) ([]uint32, error) {
	if sector <= 0 || sector > e.size/sectorSize || sector*sectorSize+n*4 > e.size {
		return nil, corrupt(e.name, field, "grain directory at sector %d, %d entries, past the %d-byte file", sector, n, e.size)
	}
	b := make([]byte, n*4)
	if err := readFull(e.f, b, sector*sectorSize); err != nil {
		return nil, corrupt(e.name, sector*sectorSize, "grain directory: %v", err)
	}
	gd := make([]uint32, n)
	for i := range gd {
		gd[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return gd, nil
}

// gt returns grain table i (nil if unallocated), through the cache. The
// caller holds e.mu.
func (e *sparseExtent) gt(i int64) ([]uint32, error) {
	if t, ok := e.gts[i]; ok {
		return t, nil
	}
	sector := int64(e.gd[i])
	if sector == 0 {
		return nil, nil
	}
	n := e.hdr.numGTEs
	if sector*sectorSize+n*4 > e.size {
		return nil, corrupt(e.name, e.hdr.gdOffset*sectorSize+4*i, "grain table %d at sector %d past the %d-byte file", i, sector, e.size)
	}
	b := make([]byte, n*4)
	if err := readFull(e.f, b, sector*sectorSize); err != nil {
		return nil, corrupt(e.name, sector*sectorSize, "grain table %d: %v", i, err)
	}
	t := make([]uint32, n)
	for k := range t {
		t[k] = binary.LittleEndian.Uint32(b[4*k:])
	}
	if len(e.gts) >= maxCachedGTs {
		old := e.gtLRU[0]
		e.gtLRU = e.gtLRU[1:]
		delete(e.gts, old)
	}
	e.gts[i] = t
	e.gtLRU = append(e.gtLRU, i)
	return t, nil
}

// grainState is what a grain table entry says of a grain.
type grainState int

const (
	grainUnallocated grainState = iota // read the parent, else zeros
	grainZero                          // zeros, not the parent's
	grainAllocated
)

// lookup returns grain g's state and, when allocated, its GTE (a sector).
// The caller holds e.mu.
func (e *sparseExtent) lookup(g int64) (grainState, uint32, error) {
	gi := g / e.hdr.numGTEs
	if gi >= int64(len(e.gd)) {
		return 0, 0, corrupt(e.name, -1, "grain %d past the grain directory", g)
	}
	t, err := e.gt(gi)
	if err != nil || t == nil {
		return grainUnallocated, 0, err
	}
	gte := t[g%e.hdr.numGTEs]
	switch {
	case gte == 0:
		return grainUnallocated, 0, nil
	case gte == 1 && e.zeroGTEs:
		return grainZero, 0, nil
	}
	return grainAllocated, gte, nil
}

// capacityBytes returns the extent's virtual size.
func (e *sparseExtent) capacityBytes() int64 { return e.hdr.capacity * sectorSize }

// readGrainPart reads len(p) bytes at offset within grain g, which is
// allocated at sector gte. The caller holds e.mu.
func (e *sparseExtent) readGrainPart(p []byte, g int64, gte uint32, within int64) error {
	if e.hdr.flags&flagCompressed == 0 {
		off := int64(gte)*sectorSize + within
		if off+int64(len(p)) > e.size {
			return corrupt(e.name, off, "grain %d at sector %d past the %d-byte file", g, gte, e.size)
		}
		if err := readFull(e.f, p, off); err != nil {
			return fmt.Errorf("vmdk: %s: read grain %d: %w", e.name, g, err)
		}
		return nil
	}
	if e.grainN != g {
		if err := e.inflate(g, gte); err != nil {
			return err
		}
	}
	copy(p, e.grain[within:])
	return nil
}

// inflate decompresses the grain record at sector gte into e.grain.
func (e *sparseExtent) inflate(g int64, gte uint32) error {
	grainBytes := e.hdr.grainSize * sectorSize
	if cap(e.grain) < int(grainBytes) {
		e.grain = make([]byte, grainBytes)
	}
	e.grain = e.grain[:grainBytes]
	if err := e.inflateTo(e.grain, g, gte); err != nil {
		e.grainN = -1
		return err
	}
	e.grainN = g
	return nil
}

// Stream marker types.
const (
	markerEOS    = 0
	markerGT     = 1
	markerGD     = 2
	markerFooter = 3
)
