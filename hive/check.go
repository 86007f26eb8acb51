package hive

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf16"
)

// ProblemKind classifies a [Problem] found by [Check].
type ProblemKind int

// The kinds of problem [Check] reports. Each names one rule of the regf
// format; the Detail of the [Problem] says what broke it.
const (
	// Checksum: the base block's checksum (offset 508) is not the XOR of
	// its first 127 words. Windows then treats the hive as dirty.
	Checksum ProblemKind = iota + 1
	// SequenceMismatch: the base block's primary and secondary sequence
	// numbers differ: a write did not finish (the hive is dirty).
	SequenceMismatch
	// BaseBlock: a base block field is wrong: version, file type, file
	// format, the root cell offset, or the hive bins size, which must be
	// the sum of the bins' sizes.
	BaseBlock
	// BinLayout: an hbin header is wrong (signature, its own offset, a
	// size that is not a multiple of 4096 or runs past the hive).
	BinLayout
	// CellTiling: the cells of a bin do not tile it: a cell size that is
	// zero, not a multiple of 8, or crosses the end of its bin. The rest
	// of that bin is not examined for leaks.
	CellTiling
	// CellOutOfBounds: a reference does not point at the start of a cell:
	// past the bins, not 8-aligned, into a bin header or into the middle
	// of another cell.
	CellOutOfBounds
	// FreeCellReferenced: a reference points at a free cell.
	FreeCellReferenced
	// CellShared: a cell is reached twice: two owners share it, or keys
	// loop.
	CellShared
	// CellLeak: an allocated cell that nothing reachable from the root
	// key (nor the ring of security records) refers to. Only reported
	// when every reference could be followed: a broken reference
	// orphans what it used to point at, and those echoes are not repeated.
	CellLeak
	// BadRecord: a record is malformed: wrong signature, too small for
	// its cell, a name or descriptor longer than its cell, a name of a
	// wrong length, key flags that cannot be, a subkey list of the wrong
	// kind (an ri under an ri).
	BadRecord
	// Parent: a key's parent field is not the key whose list holds it.
	Parent
	// ListCount: a count disagrees with the list it counts: a key's
	// subkey count with its lists' entries, its value count with its
	// value list, a list's entry count with its cell.
	ListCount
	// ListUnsorted: a subkey list is not in ascending order of the
	// upper-cased names, which Windows' binary search needs.
	ListUnsorted
	// DuplicateName: two subkeys, or two values of one key, have names
	// that are equal ignoring case.
	DuplicateName
	// ListHash: an lh entry's hash does not match its key's name, or an
	// lf entry's hint (the name's first characters) contradicts it.
	ListHash
	// ValueData: a value's data does not fit its record: inline data of
	// more than 4 bytes, a size larger than the data cell, big data (in
	// a hive of version 1.4 or later, more than 16344 bytes) not in a db
	// record, a db record whose segments disagree with the size.
	ValueData
	// SecurityRefCount: an sk record's reference count differs from the
	// number of keys that use it.
	SecurityRefCount
	// SecurityRing: the sk records do not form one doubly-linked ring
	// (a flink or blink that does not point back), or a key's sk record
	// is not in the ring.
	SecurityRing
	// Depth: keys are nested deeper than Windows allows (512 levels).
	Depth
	// KeyInfo: a key's largest subkey name, largest class, largest value
	// name or largest value data field is smaller than what the key
	// holds (RegQueryInfoKey returns these for callers to size buffers).
	KeyInfo
	// FreeIndex: the in-memory index of free cells of a hive being
	// edited disagrees with the cells: an editing bug, not a file
	// problem.
	FreeIndex
)

var problemKindNames = [...]string{
	Checksum:           "checksum",
	SequenceMismatch:   "sequence-mismatch",
	BaseBlock:          "base-block",
	BinLayout:          "bin-layout",
	CellTiling:         "cell-tiling",
	CellOutOfBounds:    "cell-out-of-bounds",
	FreeCellReferenced: "free-cell-referenced",
	CellShared:         "cell-shared",
	CellLeak:           "cell-leak",
	BadRecord:          "bad-record",
	Parent:             "parent",
	ListCount:          "list-count",
	ListUnsorted:       "list-unsorted",
	DuplicateName:      "duplicate-name",
	ListHash:           "list-hash",
	ValueData:          "value-data",
	SecurityRefCount:   "security-refcount",
	SecurityRing:       "security-ring",
	Depth:              "depth",
	KeyInfo:            "key-info",
	FreeIndex:          "free-index",
}

// String returns the kind's name, e.g. "list-unsorted".
func (k ProblemKind) String() string {
	if k > 0 && int(k) < len(problemKindNames) {
		return problemKindNames[k]
	}
	return fmt.Sprintf("ProblemKind(%d)", int(k))
}

// Problem is one inconsistency found by [Check].
type Problem struct {
	Kind ProblemKind
	// Offset is the file offset of the faulty structure: the start of a
	// cell (its size field), of a bin header field or of a base block
	// field; -1 if none. A bad reference is reported at the cell holding
	// it.
	Offset int64
	// Path is the key concerned, as [Hive.Key] takes it but with a
	// leading backslash (`\` is the root key); "" if none.
	Path   string
	Detail string // what is wrong, for people
}

// String formats the problem on one line: kind, offset, key, detail.
func (p Problem) String() string {
	s := p.Kind.String()
	if p.Offset >= 0 {
		s += fmt.Sprintf(" at 0x%x", p.Offset)
	}
	if p.Path != "" {
		s += fmt.Sprintf(" key %q", p.Path)
	}
	return s + ": " + p.Detail
}

// Check verifies the hive's consistency and returns every problem it
// finds, nil for a clean hive. The error is reserved for failures to
// check at all; inconsistencies are problems, never errors, and no input
// makes Check panic.
//
// It verifies:
//   - the base block: checksum and equal sequence numbers (a dirty hive is
//     reported, not refused), version, file type and format, the root
//     offset, and the bins size against the sum of the bins;
//   - that bins follow each other with correct headers, and that cells
//     tile every bin exactly (sizes multiples of 8, none crossing a bin);
//   - every record reachable from the root key: nk (signature, name
//     length and form, cell size, flags, parent pointer, counts against
//     lists, largest-name, -class and -data fields), subkey lists (li,
//     lf, lh, at most one ri above them, no empty list; sorted by
//     upper-cased name without names equal ignoring case; lh hashes and
//     lf hints), value lists and vk records (names unique ignoring case,
//     inline data of at most 4 bytes, data sizes against their cells, db
//     records and their segments in hives of version 1.4 and later),
//     class name cells, and sk records: each key's sk is in the one
//     doubly-linked ring, holds a well-formed self-relative descriptor,
//     and counts exactly the keys using it;
//   - that every reference lands on the start of an allocated cell, no
//     cell is reached twice, and every allocated cell is reached (else it
//     is leaked);
//   - for a hive being edited, that the allocator's index of free cells
//     matches the free cells.
//
// A hive modified in memory has a base block that [Hive.Bytes] rewrites
// (sequence numbers, root, bins size, checksum): those fields are not
// checked until it is saved and opened again.
//
// No kind of problem is normal in a hive Windows wrote: the clean real
// hives of the test data (Windows XP to 10 SYSTEM, SAM, NTUSER.DAT,
// UsrClass.dat and BCD files, reg save exports) have none, not even a
// leaked cell, and the dirty ones (copied during a write) only their
// sequence mismatch. Windows hives do hold irregularities that are not
// problems, which Check accepts: undocumented key flags (0x1000 on 122
// keys of the Windows 7 SYSTEM hive), stale volatile subkey counts and
// lists, root keys whose parent field points anywhere, value lists with
// slack, largest-name fields with their high 16 bits in use, and
// adjacent free cells (hivex leaves those; Windows coalesces).
//
// Check works in memory proportional to the hive (a few bytes per cell,
// per 4 KiB page and per security record) and in time about linear in
// it; keys nest at most 512 levels deep and loops are cut at the first
// repeat. One corruption is reported once: a reference that cannot be
// followed may orphan what it used to point at, so leaks are then not
// reported, nor too-high reference counts of security records; the cells
// of a bin after one whose size broke the tiling are still followed by
// reference but not listed as leaked.
func Check(h *Hive) ([]Problem, error) {
	if h == nil || len(h.buf) < baseBlockSize {
		return nil, fmt.Errorf("hive: check: no hive")
	}
	c := &checker{h: h, skRefs: map[uint32]*skUse{}, loose: map[uint32]bool{}}
	c.checkBase()
	c.scanCells()
	c.walk()
	c.checkSecurity()
	c.checkLeaks()
	c.checkFreeIndex()
	return c.problems, nil
}

// Cell states in the checker's table.
const (
	cellUsed    = 1 << iota // allocated (negative size)
	cellClaimed             // reached from the root or the sk ring
)

// span is a region whose cells could not be told apart: from the cell
// that broke the tiling of a bin (bad) to the end of the bin, or a
// damaged stretch without a good bin header.
type span struct {
	bad, end uint32
	damaged  bool // no bin header: nothing in it is a cell
}

// skUse counts the keys using one sk record.
type skUse struct {
	keys uint32
	path string // the first key found using it, for reports
}

// checker holds the state of one Check run.
type checker struct {
	h        *Hive
	problems []Problem

	// The cells of every bin, in offset order, and for each 4 KiB page
	// the index of the first cell starting in it or after.
	offs  []uint32
	sizes []uint32
	state []uint8
	page  []int32
	// Regions of bins whose tiling broke, in offset order, and the cells
	// reached inside them.
	unknown []span
	loose   map[uint32]bool
	binsEnd uint32 // end of the bins (relative)

	// incomplete is set when a reference could not be followed: what it
	// pointed at may be orphaned, so leaks are not reported.
	incomplete bool

	skRefs map[uint32]*skUse
	path   []name16 // names of the keys from the root to the current one
	vnames []vname  // scratch for one key's value names
}

// abs converts a relative cell offset to a file offset.
func abs(off uint32) int64 { return int64(off) + baseBlockSize }

// name16 is a key or value name as UTF-16 code units, decoded only when
// printed.
type name16 []uint16

// String decodes the name.
func (n name16) String() string { return string(utf16.Decode(n)) }

// keyPath returns the current key's path for reports.
func (c *checker) keyPath() string {
	var sb strings.Builder
	sb.WriteString(`\`)
	for i, n := range c.path {
		if i > 0 {
			sb.WriteByte('\\')
		}
		sb.WriteString(n.String())
	}
	return sb.String()
}

// report records a problem.
func (c *checker) report(kind ProblemKind, off int64, path, format string, args ...any) {
	c.problems = append(c.problems, Problem{Kind: kind, Offset: off, Path: path, Detail: fmt.Sprintf(format, args...)})
}

// at records a problem of the key being checked.
func (c *checker) at(kind ProblemKind, off int64, format string, args ...any) {
	c.report(kind, off, c.keyPath(), format, args...)
}

// ---------------------------------------------------------------------------
// Base block, bins and cells

// checkBase checks the base block. The fields Bytes rewrites are left
// alone while the hive has unsaved edits.
func (c *checker) checkBase() {
	b := c.h.buf
	le := binary.LittleEndian
	if !c.h.modified {
		if got, want := le.Uint32(b[508:]), checksumBaseBlock(b); got != want {
			c.report(Checksum, 508, "", "base block checksum 0x%08x, computed 0x%08x", got, want)
		}
		if s1, s2 := le.Uint32(b[4:]), le.Uint32(b[8:]); s1 != s2 {
			c.report(SequenceMismatch, 4, "", "primary sequence number %d, secondary %d: the last write did not finish", s1, s2)
		}
		if got, want := le.Uint32(b[40:]), uint32(len(b)-baseBlockSize); got != want {
			c.report(BaseBlock, 40, "", "hive bins size %d, the bins hold %d bytes", got, want)
		}
		if got := le.Uint32(b[36:]); got != c.h.root {
			c.report(BaseBlock, 36, "", "root cell offset 0x%x, the hive uses 0x%x", got, c.h.root)
		}
	}
	if string(b[:4]) != "regf" {
		c.report(BaseBlock, 0, "", "signature %q, want regf", b[:4])
	}
	if major, minor := le.Uint32(b[20:]), le.Uint32(b[24:]); major != 1 || minor < 3 || minor > 6 {
		c.report(BaseBlock, 20, "", "format version %d.%d", major, minor)
	}
	if t := le.Uint32(b[28:]); t != 0 {
		c.report(BaseBlock, 28, "", "file type %d, want 0 (primary file)", t)
	}
	if f := le.Uint32(b[32:]); f != 1 {
		c.report(BaseBlock, 32, "", "file format %d, want 1 (direct memory load)", f)
	}
}

// scanCells walks the bins and the cells of each, recording the cells.
func (c *checker) scanCells() {
	le := binary.LittleEndian
	b := c.h.buf[baseBlockSize:]
	end := uint32(len(b))
	var bins []uint32
	damaged := false
	for off := uint32(0); off < end; {
		hb := b[off:]
		size := uint32(0)
		switch {
		case len(hb) < binHeaderSize || string(hb[:4]) != "hbin":
			c.report(BinLayout, abs(off), "", "no hbin header at bin offset 0x%x", off)
		case le.Uint32(hb[4:]) != off:
			c.report(BinLayout, abs(off)+4, "", "hbin says it is at 0x%x, found at 0x%x", le.Uint32(hb[4:]), off)
		default:
			size = le.Uint32(hb[8:])
			if size < binAlign || size%binAlign != 0 || uint64(off)+uint64(size) > uint64(end) {
				c.report(BinLayout, abs(off)+8, "", "hbin at 0x%x of size %d (the bins end at 0x%x)", off, size, end)
				size = 0
			}
		}
		if size == 0 {
			// Damaged: no cells until the next good bin header.
			next := off + binAlign
			for next < end && !c.goodBin(next) {
				next += binAlign
			}
			next = min(next, end)
			c.unknown = append(c.unknown, span{bad: off, end: next, damaged: true})
			damaged = true
			off = next
			continue
		}
		bins = append(bins, off)
		c.scanBin(off, off+size)
		off += size
	}
	c.binsEnd = end
	c.page = make([]int32, end/binAlign+1)
	i := 0
	for p := range c.page {
		for i < len(c.offs) && c.offs[i] < uint32(p)*binAlign {
			i++
		}
		c.page[p] = int32(i)
	}
	if c.h.free != nil && !damaged && !equalOffsets(bins, c.h.bins) {
		c.report(FreeIndex, -1, "", "the in-memory bin index lists %d bins, the hive has %d", len(c.h.bins), len(bins))
	}
}

// goodBin reports whether a valid hbin header starts at off.
func (c *checker) goodBin(off uint32) bool {
	b := c.h.buf[baseBlockSize:]
	if uint64(off)+binHeaderSize > uint64(len(b)) || string(b[off:off+4]) != "hbin" {
		return false
	}
	size := binary.LittleEndian.Uint32(b[off+8:])
	return binary.LittleEndian.Uint32(b[off+4:]) == off && size >= binAlign && size%binAlign == 0 &&
		uint64(off)+uint64(size) <= uint64(len(b))
}

// equalOffsets reports whether two offset lists are the same.
func equalOffsets(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// scanBin records the cells of the bin from start to end.
func (c *checker) scanBin(start, end uint32) {
	b := c.h.buf[baseBlockSize:]
	for off := start + binHeaderSize; off < end; {
		raw := int32(binary.LittleEndian.Uint32(b[off:]))
		n := uint32(raw)
		if raw < 0 {
			n = uint32(-int64(raw))
		}
		if n < 8 || n%8 != 0 || uint64(off)+uint64(n) > uint64(end) {
			c.report(CellTiling, abs(off), "", "cell of size %d at 0x%x does not tile its bin 0x%x..0x%x", raw, off, start, end)
			c.unknown = append(c.unknown, span{bad: off, end: end})
			return
		}
		var st uint8
		if raw < 0 {
			st = cellUsed
		}
		c.offs = append(c.offs, off)
		c.sizes = append(c.sizes, n)
		c.state = append(c.state, st)
		off += n
	}
}

// ---------------------------------------------------------------------------
// Following references

// find returns the index of the cell starting at off, if there is one.
func (c *checker) find(off uint32) (int, bool) {
	p := off / binAlign
	if int(p)+1 >= len(c.page) {
		return 0, false
	}
	lo, hi := int(c.page[p]), int(c.page[p+1])
	i, ok := slices.BinarySearch(c.offs[lo:hi], off)
	return lo + i, ok
}

// cellRef is a resolved reference: the cell's data (after its size
// field) and its index in the cell table, -1 inside an unknown region.
type cellRef struct {
	off  uint32
	data []byte
	idx  int
	// guessed: the cell's own size is wrong (it broke the tiling), so
	// data runs to the end of its bin and says nothing of the cell.
	guessed bool
}

// lookup finds the allocated cell starting at off without reporting:
// ok is false and why says what is wrong when there is none.
func (c *checker) lookup(off uint32) (r cellRef, kind ProblemKind, why string) {
	if off == nilOffset || off%8 != 0 || off >= c.binsEnd {
		return r, CellOutOfBounds, "outside the cells of the hive"
	}
	b := c.h.buf[baseBlockSize:]
	if i, ok := c.find(off); ok {
		if c.state[i]&cellUsed == 0 {
			return r, FreeCellReferenced, "a free cell"
		}
		return cellRef{off: off, data: b[off+4 : off+c.sizes[i]], idx: i}, 0, ""
	}
	// Inside a region whose tiling broke: believe a plausible cell.
	j := sort.Search(len(c.unknown), func(j int) bool { return c.unknown[j].end > off })
	if j < len(c.unknown) && c.unknown[j].bad <= off {
		u := c.unknown[j]
		if u.damaged {
			return r, CellOutOfBounds, "in a damaged bin"
		}
		raw := int32(binary.LittleEndian.Uint32(b[off:]))
		if raw >= 0 {
			if off != u.bad {
				return r, FreeCellReferenced, "a free cell (in a bin whose cells do not tile)"
			}
			raw = -raw
		}
		n := uint64(-int64(raw))
		if off == u.bad {
			n = min(n, uint64(u.end-off)) // reported already: use what fits
		}
		if n < 8 || uint64(off)+n > uint64(u.end) {
			return r, CellOutOfBounds, "no cell (in a bin whose cells do not tile)"
		}
		return cellRef{off: off, data: b[off+4 : off+uint32(n)], idx: -1, guessed: off == u.bad}, 0, ""
	}
	return r, CellOutOfBounds, "not the start of a cell"
}

// follow resolves the reference off held by the cell at from (what and
// args, a format, say what it is) and claims the cell it points at. It reports and returns
// false when off is no allocated cell or the cell was reached before.
func (c *checker) follow(from, off uint32, what string, args ...any) (cellRef, bool) {
	r, kind, why := c.lookup(off)
	if kind != 0 {
		c.at(kind, abs(from), "%s at 0x%x is %s", fmt.Sprintf(what, args...), off, why)
		c.incomplete = true
		return r, false
	}
	if !c.claim(r) {
		c.at(CellShared, abs(off), "cell at 0x%x (%s, referenced from 0x%x) is reached twice", off, fmt.Sprintf(what, args...), from)
		c.incomplete = true // what the reference used to point at may be orphaned
		return r, false
	}
	return r, true
}

// claim marks a resolved cell reached; false if it was already.
func (c *checker) claim(r cellRef) bool {
	if r.idx < 0 {
		if c.loose[r.off] {
			return false
		}
		c.loose[r.off] = true
		return true
	}
	if c.state[r.idx]&cellClaimed != 0 {
		return false
	}
	c.state[r.idx] |= cellClaimed
	return true
}

// ---------------------------------------------------------------------------
// Keys

// maxNKCell is the largest nk cell Windows' registry check accepts
// (ReactOS cmcheck.c, CMP_KEY_SIZE_THRESHOLD): a 255-character UTF-16
// name needs 592.
const maxNKCell = 0x45C

// nk flags that only keys in memory have: a volatile key, and the link
// from the master hive to a mounted one. (Other bits are not judged:
// Windows 7 SYSTEM hives carry undocumented 0x1000 on some keys.)
const (
	keyVolatile = 0x0001
	keyHiveExit = 0x0002
)

// walk checks the tree of keys from the root.
func (c *checker) walk() {
	root := c.h.root
	r, kind, why := c.lookup(root)
	if kind != 0 {
		c.report(BaseBlock, 36, `\`, "root key at 0x%x is %s", root, why)
		c.incomplete = true
		return
	}
	c.claim(r)
	c.key(r, nil, nilOffset, 0)
}

// validNK returns the nk record in data and its name's code units, or
// why not.
func validNK(data []byte) (units []uint16, why string) {
	if len(data) < nkName || string(data[:2]) != "nk" {
		return nil, fmt.Sprintf("not an nk record (%q, %d bytes)", data[:min(2, len(data))], len(data))
	}
	n := int(binary.LittleEndian.Uint16(data[nkNameLen:]))
	if nkName+n > len(data) {
		return nil, fmt.Sprintf("nk name of %d bytes in a %d-byte cell", n, len(data))
	}
	return nkUnits(data), ""
}

// key checks the key in r (parent is its parent's offset, nilOffset for
// the root) and everything under it; units is its name if known to be
// readable.
func (c *checker) key(r cellRef, units []uint16, parent uint32, depth int) {
	le := binary.LittleEndian
	b := r.data
	why := ""
	if units == nil {
		units, why = validNK(b)
	}
	if why != "" {
		c.report(BadRecord, abs(r.off), c.keyPath(), "key at 0x%x: %s", r.off, why)
		c.incomplete = true
		return
	}
	at := abs(r.off)
	flags := le.Uint16(b[nkFlags:])
	nameLen := int(le.Uint16(b[nkNameLen:]))
	isRoot := parent == nilOffset
	switch {
	case isRoot && flags&keyHiveEntry == 0:
		c.at(BadRecord, at, "root key flags 0x%04x lack HIVE_ENTRY (0x4)", flags)
	case !isRoot && flags&keyHiveEntry != 0:
		c.at(BadRecord, at, "key flags 0x%04x: HIVE_ENTRY (0x4) on a key that is not the root", flags)
	case flags&(keyVolatile|keyHiveExit) != 0:
		c.at(BadRecord, at, "key flags 0x%04x: a volatile key or mount point stored in a file", flags)
	}
	if flags&keyCompName == 0 && nameLen%2 != 0 {
		c.at(BadRecord, at, "UTF-16 key name of odd length %d", nameLen)
	}
	if len(units) == 0 || len(units) > maxKeyName {
		c.at(BadRecord, at, "key name of %d characters (1 to %d)", len(units), maxKeyName)
	}
	if len(b)+4 > maxNKCell && !r.guessed {
		c.at(BadRecord, at, "nk cell of %d bytes: Windows' registry check refuses more than %d", len(b)+4, maxNKCell)
	}
	if !isRoot {
		if p := le.Uint32(b[nkParent:]); p != parent {
			c.at(Parent, at, "parent field 0x%x, the key is listed by 0x%x", p, parent)
		}
	}
	// Security: counted here, checked against the ring afterwards.
	sk := le.Uint32(b[nkSecurity:])
	if u := c.skRefs[sk]; u != nil {
		u.keys++
	} else {
		c.skRefs[sk] = &skUse{keys: 1, path: c.keyPath()}
	}
	c.class(r)
	maxName, maxData := c.values(r)
	if got := le.Uint32(b[nkMaxValueName:]); got < maxName {
		c.at(KeyInfo, at, "largest value name field %d, a value name has %d bytes", got, maxName)
	}
	if got := le.Uint32(b[nkMaxValueData:]); got < maxData {
		c.at(KeyInfo, at, "largest value data field %d, a value has %d bytes", got, maxData)
	}
	c.subkeys(r, depth)
}

// class checks a key's class name cell.
func (c *checker) class(r cellRef) {
	le := binary.LittleEndian
	off := le.Uint32(r.data[nkClass:])
	n := int(le.Uint16(r.data[nkClassLen:]))
	if off == nilOffset {
		if n != 0 {
			c.at(BadRecord, abs(r.off), "class name of %d bytes without a cell", n)
		}
		return
	}
	cr, ok := c.follow(r.off, off, "class name")
	if ok && n > len(cr.data) {
		c.at(BadRecord, abs(r.off), "class name of %d bytes in a %d-byte cell at 0x%x", n, len(cr.data), off)
	}
}

// values checks a key's value list and values, and returns the largest
// value name (in UTF-16 bytes) and data size.
func (c *checker) values(r cellRef) (maxName, maxData uint32) {
	le := binary.LittleEndian
	count := le.Uint32(r.data[nkValues:])
	list := le.Uint32(r.data[nkValueList:])
	if count == 0 {
		return 0, 0
	}
	if list == nilOffset {
		c.at(ListCount, abs(r.off), "%d values and no value list", count)
		return 0, 0
	}
	lr, ok := c.follow(r.off, list, "value list")
	if !ok {
		return 0, 0
	}
	n := int(min(count, uint32(len(lr.data)/4)))
	if uint32(n) != count {
		c.at(ListCount, abs(r.off), "%d values in a value list cell of %d bytes at 0x%x", count, len(lr.data), list)
		c.incomplete = true
	}
	names := c.vnames[:0]
	for i := 0; i < n; i++ {
		off := le.Uint32(lr.data[4*i:])
		vr, ok := c.follow(list, off, "value")
		if !ok {
			continue
		}
		name, size := c.value(vr)
		if name == nil {
			continue
		}
		maxName = max(maxName, uint32(2*len(name)))
		maxData = max(maxData, size)
		names = append(names, vname{name, off})
	}
	c.vnames = names
	c.duplicateValues(names)
	return maxName, maxData
}

// vname is a value's name and offset, for finding duplicates.
type vname struct {
	units []uint16
	off   uint32
}

// duplicateValues reports values whose names are equal ignoring case.
func (c *checker) duplicateValues(names []vname) {
	if len(names) <= 16 {
		for i := 1; i < len(names); i++ {
			for j := 0; j < i; j++ {
				if compareUpper(names[i].units, names[j].units) == 0 {
					c.at(DuplicateName, abs(names[i].off), "two values named %q (ignoring case)", name16(names[i].units))
					break
				}
			}
		}
		return
	}
	seen := make(map[string]bool, len(names))
	for _, v := range names {
		k := upperKey(v.units)
		if seen[k] {
			c.at(DuplicateName, abs(v.off), "two values named %q (ignoring case)", name16(v.units))
		}
		seen[k] = true
	}
}

// upperKey returns the upper-cased code units of a name as a map key.
func upperKey(units []uint16) string {
	b := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(b[2*i:], upcase(u))
	}
	return string(b)
}

// value checks a vk record and its data, and returns its name's code
// units (nil if the record is unreadable) and its data size.
func (c *checker) value(r cellRef) ([]uint16, uint32) {
	le := binary.LittleEndian
	b := r.data
	at := abs(r.off)
	if len(b) < vkName || string(b[:2]) != "vk" {
		c.at(BadRecord, at, "value at 0x%x: not a vk record (%q, %d bytes)", r.off, b[:min(2, len(b))], len(b))
		c.incomplete = true
		return nil, 0
	}
	n := int(le.Uint16(b[vkNameLen:]))
	if vkName+n > len(b) {
		c.at(BadRecord, at, "value name of %d bytes in a %d-byte vk cell", n, len(b))
		c.incomplete = true
		return nil, 0
	}
	comp := le.Uint16(b[vkFlags:])&vkCompName != 0
	var units []uint16
	if comp {
		units = make([]uint16, n)
		for i, ch := range b[vkName : vkName+n] {
			units[i] = uint16(ch)
		}
	} else {
		if n%2 != 0 {
			c.at(BadRecord, at, "UTF-16 value name of odd length %d", n)
		}
		units = make([]uint16, n/2)
		for i := range units {
			units[i] = le.Uint16(b[vkName+2*i:])
		}
	}
	if len(units) > maxValueName {
		c.at(BadRecord, at, "value name of %d characters (at most %d)", len(units), maxValueName)
	}
	vname := name16(units)
	size := le.Uint32(b[vkSize:])
	if size&inlineData != 0 {
		if size&^inlineData > 4 {
			c.at(ValueData, at, "value %q: inline data of %d bytes (at most 4)", vname, size&^inlineData)
			return units, 0 // not judged against the largest-data field
		}
		return units, size &^ inlineData
	}
	off := le.Uint32(b[vkData:])
	if size == 0 {
		if off != nilOffset {
			c.at(ValueData, at, "value %q: no data, but a data offset 0x%x", vname, off)
			c.incomplete = true // what it points at is not followed
		}
		return units, 0
	}
	dr, ok := c.follow(r.off, off, "data of value %q", vname)
	if !ok {
		return units, size
	}
	if c.h.minor >= 4 && size > bigDataSegment {
		c.bigData(r.off, dr, size, units)
		return units, size
	}
	if int64(size) > int64(len(dr.data)) {
		c.at(ValueData, at, "value %q: %d bytes of data in a %d-byte cell at 0x%x", vname, size, len(dr.data), off)
	}
	return units, size
}

// bigData checks the db record of a value of size bytes.
func (c *checker) bigData(vk uint32, db cellRef, size uint32, units []uint16) {
	le := binary.LittleEndian
	vname := name16(units)
	at := abs(vk)
	if len(db.data) < 8 || string(db.data[:2]) != "db" {
		c.at(ValueData, at, "value %q of %d bytes: data at 0x%x is not a db record, as Windows reads values over %d bytes in a hive of version 1.%d",
			vname, size, db.off, bigDataSegment, c.h.minor)
		return
	}
	segs := int(le.Uint16(db.data[2:]))
	want := int((int64(size) + bigDataSegment - 1) / bigDataSegment)
	if segs != want {
		c.at(ValueData, abs(db.off), "value %q of %d bytes: db record of %d segments, want %d", vname, size, segs, want)
	}
	list := le.Uint32(db.data[4:])
	lr, ok := c.follow(db.off, list, "segment list of value %q", vname)
	if !ok {
		return
	}
	if 4*segs > len(lr.data) {
		c.at(ValueData, abs(db.off), "value %q: %d segments in a %d-byte segment list at 0x%x", vname, segs, len(lr.data), list)
		segs = len(lr.data) / 4
		c.incomplete = true
	}
	left := int64(size)
	for i := 0; i < segs; i++ {
		off := le.Uint32(lr.data[4*i:])
		sr, ok := c.follow(list, off, "segment %d of value %q", i, vname)
		if !ok {
			continue
		}
		need := min(left, bigDataSegment)
		if int64(len(sr.data)) < need {
			c.at(ValueData, abs(off), "value %q: segment %d of %d bytes holds %d", vname, i, len(sr.data), need)
		}
		left -= need
	}
}

// entry is one entry of a subkey leaf list.
type entry struct {
	off  uint32 // the subkey's nk
	hint uint32 // lf hint or lh hash
	sig  string // the leaf's signature
	leaf uint32 // the leaf's offset
	// The subkey's name, once read (nil if its nk could not be).
	units []uint16
}

// subkeys checks a key's subkey lists and the subkeys.
func (c *checker) subkeys(r cellRef, depth int) {
	le := binary.LittleEndian
	at := abs(r.off)
	count := le.Uint32(r.data[nkSubkeys:])
	list := le.Uint32(r.data[nkSubkeyList:])
	maxName := le.Uint32(r.data[nkMaxNameLen:]) & 0xFFFF
	if list == nilOffset {
		if count != 0 {
			c.at(ListCount, at, "%d subkeys and no subkey list", count)
		}
		return
	}
	lr, ok := c.follow(r.off, list, "subkey list")
	if !ok {
		return
	}
	var entries []entry
	switch sig := string(lr.data[:min(2, len(lr.data))]); sig {
	case "li", "lf", "lh":
		entries = c.leaf(lr, entries)
	case "ri":
		if len(lr.data) < 4 {
			c.at(BadRecord, abs(lr.off), "ri list cell of %d bytes", len(lr.data))
			c.incomplete = true
			return
		}
		n := int(le.Uint16(lr.data[2:]))
		if 4+4*n > len(lr.data) {
			c.at(ListCount, abs(lr.off), "ri list of %d entries in a %d-byte cell", n, len(lr.data))
			n = (len(lr.data) - 4) / 4
			c.incomplete = true
		}
		for i := 0; i < n; i++ {
			off := le.Uint32(lr.data[4+4*i:])
			sr, ok := c.follow(list, off, "ri leaf")
			if !ok {
				continue
			}
			switch s := string(sr.data[:min(2, len(sr.data))]); s {
			case "li", "lf", "lh":
				entries = c.leaf(sr, entries)
			default:
				c.at(BadRecord, abs(off), "ri entry %d at 0x%x is a %q list, not a leaf (li, lf, lh)", i, off, s)
				c.incomplete = true
			}
		}
	default:
		c.at(BadRecord, abs(lr.off), "subkey list at 0x%x has signature %q", list, sig)
		c.incomplete = true
		return
	}
	if uint32(len(entries)) != count {
		c.at(ListCount, at, "subkey count %d, the lists hold %d", count, len(entries))
	}
	// Order, hints and names, from the subkeys' names.
	var prev []uint16
	var largest uint32
	unsorted := false
	for i := range entries {
		e := &entries[i]
		nr, kind, _ := c.lookup(e.off)
		if kind != 0 {
			continue // reported when descending
		}
		units, why := validNK(nr.data)
		if why != "" {
			continue
		}
		e.units = units
		largest = max(largest, uint32(2*len(units)))
		switch e.sig {
		case "lh":
			if want := hintFor("lh", units); e.hint != want {
				c.at(ListHash, abs(e.leaf), "lh entry for %q (0x%x): hash 0x%08x, want 0x%08x", name16(units), e.off, e.hint, want)
			}
		case "lf":
			if !hintMatches(e.hint, units) {
				c.at(ListHash, abs(e.leaf), "lf entry for %q (0x%x): hint %q is not the start of the name", name16(units), e.off, hintBytes(e.hint))
			}
		}
		if prev != nil {
			switch d := compareUpper(prev, units); {
			case d == 0:
				c.at(DuplicateName, abs(e.off), "two subkeys named %q (ignoring case)", name16(units))
			case d > 0:
				c.at(ListUnsorted, abs(e.leaf), "subkey %q sorts before %q but is listed after it", name16(units), name16(prev))
				unsorted = true
			}
		}
		prev = units
	}
	if unsorted {
		c.duplicates(entries)
	}
	if largest > maxName {
		c.at(KeyInfo, at, "largest subkey name field %d, a subkey name has %d bytes", maxName, largest)
	}
	// The subkeys themselves.
	var maxClass uint32
	for _, e := range entries {
		sr, ok := c.follow(e.leaf, e.off, "subkey")
		if !ok {
			continue
		}
		c.path = append(c.path, e.units)
		if depth+1 > maxDepth {
			c.at(Depth, abs(e.off), "key nested %d levels deep (at most %d)", depth+1, maxDepth)
			c.incomplete = true
		} else {
			if len(sr.data) >= nkName {
				maxClass = max(maxClass, uint32(le.Uint16(sr.data[nkClassLen:])))
			}
			c.key(sr, e.units, r.off, depth+1)
		}
		c.path = c.path[:len(c.path)-1]
	}
	if got := le.Uint32(r.data[nkMaxClassLen:]); got < maxClass {
		c.at(KeyInfo, at, "largest subkey class field %d, a subkey's class has %d bytes", got, maxClass)
	}
}

// hintMatches reports whether an lf hint fits a name as Windows' search
// uses it: the hint's characters up to its first zero byte are compared,
// ignoring case, with the name's first characters, so each must match
// and the hint may not run past the name. (Windows writes the first four
// characters as they are, a zero for one above U+00FF; a shorter hint
// only costs a full name comparison.)
func hintMatches(hint uint32, units []uint16) bool {
	for i := 0; i < 4; i++ {
		ch := uint16(byte(hint >> (8 * i)))
		if ch == 0 {
			return true
		}
		if i >= len(units) || upcase(ch) != upcase(units[i]) {
			return false
		}
	}
	return true
}

// hintBytes shows an lf hint as its four bytes.
func hintBytes(h uint32) string {
	return string([]byte{byte(h), byte(h >> 8), byte(h >> 16), byte(h >> 24)})
}

// duplicates reports subkeys of an unsorted list whose names are equal
// ignoring case and not side by side (the order check reported those).
func (c *checker) duplicates(entries []entry) {
	seen := map[string]bool{}
	var prev []uint16
	for _, e := range entries {
		if e.units == nil {
			continue
		}
		k := upperKey(e.units)
		if seen[k] && (prev == nil || compareUpper(prev, e.units) != 0) {
			c.at(DuplicateName, abs(e.off), "two subkeys named %q (ignoring case)", name16(e.units))
		}
		seen[k] = true
		prev = e.units
	}
}

// leaf appends the entries of an li, lf or lh list to entries.
func (c *checker) leaf(r cellRef, entries []entry) []entry {
	le := binary.LittleEndian
	if len(r.data) < 4 {
		c.at(BadRecord, abs(r.off), "subkey list cell of %d bytes", len(r.data))
		c.incomplete = true
		return entries
	}
	sig := string(r.data[:2])
	stride := 8
	if sig == "li" {
		stride = 4
	}
	n := int(le.Uint16(r.data[2:]))
	if 4+stride*n > len(r.data) {
		c.at(ListCount, abs(r.off), "%s list of %d entries in a %d-byte cell", sig, n, len(r.data))
		n = (len(r.data) - 4) / stride
		c.incomplete = true
	}
	if n == 0 {
		c.at(BadRecord, abs(r.off), "empty %s list: Windows' search assumes entries", sig)
	}
	for i := 0; i < n; i++ {
		e := entry{off: le.Uint32(r.data[4+stride*i:]), sig: sig, leaf: r.off}
		if stride == 8 {
			e.hint = le.Uint32(r.data[8+stride*i:])
		}
		entries = append(entries, e)
	}
	return entries
}

// ---------------------------------------------------------------------------
// Security records

// checkSecurity walks the ring of sk records from the root key's and
// compares each record's reference count with the keys using it.
func (c *checker) checkSecurity() {
	le := binary.LittleEndian
	rootNK, kind, _ := c.lookup(c.h.root)
	if kind != 0 || len(rootNK.data) < nkName {
		return
	}
	start := le.Uint32(rootNK.data[nkSecurity:])
	inRing := map[uint32]bool{}
	// The ring, following flink; each record's flink must point back
	// through its blink.
	cur := start
	from := c.h.root
	broken := false
	for steps := 0; steps <= len(c.offs)+len(c.loose)+1; steps++ {
		r, kind, why := c.lookup(cur)
		if kind != 0 {
			what := "security record"
			if cur != start {
				what = "flink"
			}
			c.report(kind, abs(from), "", "%s 0x%x is %s", what, cur, why)
			c.incomplete, broken = true, true
			break
		}
		if len(r.data) < 20 || string(r.data[:2]) != "sk" {
			c.report(BadRecord, abs(cur), "", "security record at 0x%x: not an sk record (%q, %d bytes)", cur, r.data[:min(2, len(r.data))], len(r.data))
			c.incomplete, broken = true, true
			break
		}
		if !c.claim(r) {
			c.report(CellShared, abs(cur), "", "sk record at 0x%x is reached twice", cur)
		}
		inRing[cur] = true
		c.checkSK(r)
		next := le.Uint32(r.data[4:])
		nr, kind, _ := c.lookup(next)
		if kind != 0 || len(nr.data) < 20 || string(nr.data[:2]) != "sk" {
			c.report(SecurityRing, abs(cur), "", "sk record at 0x%x: flink 0x%x is not an sk record", cur, next)
			c.incomplete, broken = true, true
			break
		}
		if back := le.Uint32(nr.data[8:]); back != cur {
			c.report(SecurityRing, abs(next), "", "sk record at 0x%x: blink 0x%x, but 0x%x links to it", next, back, cur)
		}
		if next == start {
			break
		}
		if inRing[next] {
			c.report(SecurityRing, abs(cur), "", "sk record at 0x%x: flink 0x%x goes back into the ring, not to its start 0x%x", cur, next, start)
			broken = true
			break
		}
		from, cur = cur, next
	}
	// Each key's record must be in the ring; each record's count must
	// match its keys. Sorted for stable reports.
	used := make([]uint32, 0, len(c.skRefs))
	for off := range c.skRefs {
		used = append(used, off)
	}
	slices.Sort(used)
	for _, off := range used {
		u := c.skRefs[off]
		if inRing[off] {
			continue
		}
		r, kind, why := c.lookup(off)
		if kind != 0 {
			c.report(kind, -1, u.path, "security record 0x%x of %d keys is %s", off, u.keys, why)
			c.incomplete = true
			continue
		}
		if len(r.data) < 20 || string(r.data[:2]) != "sk" {
			c.report(BadRecord, abs(off), u.path, "security record at 0x%x of %d keys: not an sk record (%q, %d bytes)", off, u.keys, r.data[:min(2, len(r.data))], len(r.data))
			c.incomplete = true
			continue
		}
		if !broken {
			c.report(SecurityRing, abs(off), u.path, "sk record at 0x%x, used by %d keys, is not in the ring of sk records", off, u.keys)
		}
		if c.claim(r) {
			c.checkSK(r)
		}
	}
}

// badDescriptor says what is wrong with a self-relative security
// descriptor, "" if nothing: its revision, the self-relative flag, and
// that its owner, group and ACLs lie within it (what Windows validates
// before it uses the hive's descriptors).
func badDescriptor(sd []byte) string {
	le := binary.LittleEndian
	if sd[0] != 1 {
		return fmt.Sprintf("security descriptor revision %d, want 1", sd[0])
	}
	if le.Uint16(sd[2:])&0x8000 == 0 {
		return "security descriptor is not self-relative"
	}
	n := uint32(len(sd))
	for i, what := range []string{"owner", "group", "SACL", "DACL"} {
		off := le.Uint32(sd[4+4*i:])
		if off == 0 {
			continue
		}
		if off < 20 || off > n-8 {
			return fmt.Sprintf("security descriptor's %s at %d, outside its %d bytes", what, off, n)
		}
		var size uint32
		if i < 2 { // a SID: 8 bytes and 4 per sub-authority
			size = 8 + 4*uint32(sd[off+1])
		} else { // an ACL: its size field
			size = uint32(le.Uint16(sd[off+2:]))
		}
		if size < 8 || size > n-off {
			return fmt.Sprintf("security descriptor's %s of %d bytes at %d runs past its %d bytes", what, size, off, n)
		}
	}
	return ""
}

// checkSK checks an sk record's descriptor and reference count.
func (c *checker) checkSK(r cellRef) {
	le := binary.LittleEndian
	n := le.Uint32(r.data[16:])
	if n < 20 || int64(n) > int64(len(r.data))-20 {
		c.report(BadRecord, abs(r.off), "", "sk record at 0x%x: descriptor of %d bytes in a %d-byte cell", r.off, n, len(r.data))
	} else if why := badDescriptor(r.data[20 : 20+n]); why != "" {
		c.report(BadRecord, abs(r.off), "", "sk record at 0x%x: %s", r.off, why)
	}
	var keys uint32
	path := ""
	if u := c.skRefs[r.off]; u != nil {
		keys, path = u.keys, u.path
	}
	// Keys cut off by a broken reference are not counted: then only too
	// small a count is sure.
	if refs := le.Uint32(r.data[12:]); refs < keys || refs > keys && !c.incomplete {
		c.report(SecurityRefCount, abs(r.off), path, "sk record at 0x%x: reference count %d, used by %d keys", r.off, refs, keys)
	}
}

// ---------------------------------------------------------------------------
// Free space

// checkLeaks reports allocated cells nothing reaches, unless some
// reference could not be followed.
func (c *checker) checkLeaks() {
	if c.incomplete {
		return
	}
	for i, st := range c.state {
		if st == cellUsed {
			c.report(CellLeak, abs(c.offs[i]), "", "allocated cell at 0x%x of %d bytes is not used", c.offs[i], c.sizes[i])
		}
	}
}

// checkFreeIndex compares the allocator's index of free cells, for a
// hive being edited, with the free cells.
func (c *checker) checkFreeIndex() {
	f := c.h.free
	if f == nil || len(c.unknown) > 0 {
		return
	}
	free := 0
	for i, st := range c.state {
		if st&cellUsed != 0 {
			continue
		}
		free++
		off := c.offs[i]
		if n, ok := f.size[off]; !ok {
			c.report(FreeIndex, abs(off), "", "free cell at 0x%x of %d bytes is not in the free index", off, c.sizes[i])
		} else if n != c.sizes[i] {
			c.report(FreeIndex, abs(off), "", "free cell at 0x%x of %d bytes is indexed as %d bytes", off, c.sizes[i], n)
		}
	}
	if len(f.size) != free {
		for off, n := range f.size {
			if i, ok := c.find(off); !ok || c.state[i]&cellUsed != 0 {
				c.report(FreeIndex, abs(off), "", "the free index lists 0x%x (%d bytes), which is not a free cell", off, n)
			}
		}
	}
}
