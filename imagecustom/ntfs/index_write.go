package ntfs

import (
	"encoding/binary"
	"fmt"
	"io/fs"
)

// encodeEntry lays out an index entry: reference, length, key length,
// flags, the key padded to 8 bytes, and the child VCN last when it has one.
func encodeEntry(e indexEntry) []byte {
	n := align8(0x10 + len(e.key))
	flags := e.flags &^ entryHasChild
	if e.child >= 0 {
		n += 8
		flags |= entryHasChild
	}
	b := make([]byte, n)
	binary.LittleEndian.PutUint64(b, uint64(e.ref))
	binary.LittleEndian.PutUint16(b[8:], uint16(n))
	binary.LittleEndian.PutUint16(b[0x0A:], uint16(len(e.key)))
	binary.LittleEndian.PutUint32(b[0x0C:], flags)
	copy(b[0x10:], e.key)
	if e.child >= 0 {
		binary.LittleEndian.PutUint64(b[n-8:], uint64(e.child))
	}
	return b
}

// entriesSize returns the bytes the entries take in a node.
func entriesSize(entries []indexEntry) int {
	n := 0
	for _, e := range entries {
		n += align8(0x10+len(e.key)) + map[bool]int{true: 8}[e.child >= 0]
	}
	return n
}

// encodeNodeHeader lays out an index header (offsets relative to it)
// followed by the entries; alloc is the room the node has.
func encodeNode(entries []indexEntry, alloc int, first int) []byte {
	used := first + entriesSize(entries)
	b := make([]byte, max(used, alloc))
	binary.LittleEndian.PutUint32(b, uint32(first))
	binary.LittleEndian.PutUint32(b[4:], uint32(used))
	binary.LittleEndian.PutUint32(b[8:], uint32(max(used, alloc)))
	for _, e := range entries {
		if e.child >= 0 {
			b[0x0C] = 1 // a node with children; for the root: "large index"
			break
		}
	}
	p := first
	for _, e := range entries {
		p += copy(b[p:], encodeEntry(e))
	}
	return b
}

// indexRootValue builds the value of the index's INDEX_ROOT holding
// entries.
func (ix *dirIndex) indexRootValue(entries []indexEntry) []byte {
	hdr := make([]byte, 0x10)
	binary.LittleEndian.PutUint32(hdr, attrFileName)
	binary.LittleEndian.PutUint32(hdr[4:], 1) // COLLATION_FILE_NAME
	if ix.view {
		binary.LittleEndian.PutUint32(hdr, 0)
		binary.LittleEndian.PutUint32(hdr[4:], collationNTOFSULongs)
	}
	binary.LittleEndian.PutUint32(hdr[8:], uint32(ix.blockSize))
	cpb := int64(ix.blockSize) / ix.v.boot.clusterSize
	if cpb == 0 {
		cpb = int64(ix.blockSize) / 512 // counted in 512-byte units when a block is smaller than a cluster
	}
	hdr[0x0C] = byte(cpb)
	used := 0x10 + entriesSize(entries)
	return append(hdr, encodeNode(entries, used, 0x10)...)
}

// rewriteRecord replaces the attributes of record r, writes it and
// re-parses it so r describes what is on disk.
func (v *Volume) rewriteRecord(r *record, attrs [][]byte) error {
	cloned := make([][]byte, len(attrs))
	for i, a := range attrs {
		cloned[i] = append([]byte(nil), a...)
	}
	buf := append([]byte(nil), r.buf...)
	if err := v.setAttributes(buf, cloned); err != nil {
		return err
	}
	nr := &record{num: r.num, off: r.off, buf: buf}
	if err := v.writeRecord(nr); err != nil {
		return err
	}
	parsed, err := parseRecord(nr.buf, r.num, r.off)
	if err != nil {
		return fmt.Errorf("ntfs: record %d as written does not parse: %w", r.num, err)
	}
	*r = *parsed
	return nil
}

// asRecord parses raw attribute records of record num into a record
// value that replaceAttr can work on.
func asRecord(raw [][]byte, num uint64) (*record, error) {
	r := &record{num: num}
	for _, a := range raw {
		pa, err := parseAttribute(a, num, -1)
		if err != nil {
			return nil, err
		}
		r.attrs = append(r.attrs, pa)
	}
	return r, nil
}

// replaceAttr returns the raw attributes of record r with the one of type
// typ and name replaced by repl (kept at its place), or added in order when
// absent; repl nil removes it.
func replaceAttr(r *record, typ uint32, name string, repl []byte) [][]byte {
	var out [][]byte
	done := false
	for _, a := range r.attrs {
		if a.typ == typ && a.name == name {
			if repl != nil && !done {
				out = append(out, repl)
			}
			done = true
			continue
		}
		if !done && repl != nil && (a.typ > typ || a.typ == typ && a.name > name) {
			out = append(out, repl)
			done = true
		}
		out = append(out, a.raw)
	}
	if !done && repl != nil {
		out = append(out, repl)
	}
	return out
}

// nextInstance returns a free attribute instance number of record r.
func nextInstance(r *record) uint16 {
	n := binary.LittleEndian.Uint16(r.buf[0x28:])
	for _, a := range r.attrs {
		n = max(n, a.instance+1)
	}
	return n
}

// instanceOf returns the instance of r's attribute typ/name, or a new one.
func instanceOf(r *record, typ uint32, name string) uint16 {
	if a := r.find(typ, name); a != nil {
		return a.instance
	}
	return nextInstance(r)
}

// writeRoot writes the root node's entries into the directory's record.
func (ix *dirIndex) writeRoot(entries []indexEntry) error {
	r := ix.dir.rec
	val := ix.indexRootValue(entries)
	attr := encodeResident(attrIndexRoot, ix.attr, instanceOf(r, attrIndexRoot, ix.attr), val, false)
	if err := ix.v.rewriteRecord(r, replaceAttr(r, attrIndexRoot, ix.attr, attr)); err != nil {
		return err
	}
	ix.root = entries
	ix.dir.attrs = r.attrs
	return nil
}

// rootFits reports whether a root node with these entries fits the
// directory's record.
func (ix *dirIndex) rootFits(entries []indexEntry) bool {
	r := ix.dir.rec
	old := r.find(attrIndexRoot, ix.attr)
	inUse := int(binary.LittleEndian.Uint32(r.buf[0x18:]))
	newLen := align8(0x18+2*4) + 0x20 + entriesSize(entries)
	return inUse-len(old.raw)+align8(newLen) <= len(r.buf)
}

// blockFirst is the offset of the first entry in an index block, relative
// to its index header at 0x18: after the update sequence array.
func (ix *dirIndex) blockFirst() int {
	usaCount := ix.blockSize/fixupStride + 1
	return align8(0x28+2*usaCount) - 0x18
}

// blockFits reports whether entries fit an index block.
func (ix *dirIndex) blockFits(entries []indexEntry) bool {
	return ix.blockFirst()+entriesSize(entries) <= ix.blockSize-0x18
}

// writeBlock writes an index block holding entries at vcn, keeping the
// update sequence number counting up from what is on disk.
func (ix *dirIndex) writeBlock(vcn int64, entries []indexEntry) error {
	return ix.writeBlockTo(ix.alloc, vcn, entries)
}

// writeBlockTo writes an index block through alloc, the directory's
// $INDEX_ALLOCATION as it is or is about to be.
func (ix *dirIndex) writeBlockTo(alloc *stream, vcn int64, entries []indexEntry) error {
	b := make([]byte, ix.blockSize)
	copy(b, "INDX")
	usaCount := ix.blockSize/fixupStride + 1
	binary.LittleEndian.PutUint16(b[4:], 0x28)
	binary.LittleEndian.PutUint16(b[6:], uint16(usaCount))
	binary.LittleEndian.PutUint64(b[0x10:], uint64(vcn))
	pos := vcn * ix.vcnShift
	var old [0x2A]byte
	if _, err := alloc.ReadAt(old[:], pos); err == nil && string(old[:4]) == "INDX" {
		copy(b[0x28:0x2A], old[0x28:0x2A]) // the update sequence number in use
	}
	copy(b[0x18:], encodeNode(entries, ix.blockSize-0x18, ix.blockFirst()))
	disk, err := protect(b)
	if err != nil {
		return err
	}
	return alloc.writeAt(disk, pos)
}

// errExist reports a name already present in a directory.
var errExist = fs.ErrExist

// insert adds an entry for key (a $FILE_NAME value) naming ref to the
// index: into its leaf, splitting full blocks on the way up, and moving
// the root's entries into a new block when the root outgrows the record.
func (ix *dirIndex) insert(key []byte, ref fileRef) error {
	var path []indexStep
	if ix.view {
		p, exists, err := ix.findKey(key)
		if err != nil {
			return err
		}
		if exists {
			return fmt.Errorf("%w: key %x is already in %s of record %d", errExist, key, ix.attr, ix.dir.rec.num)
		}
		path = p
	} else {
		fn, err := parseFileName(key, -1)
		if err != nil {
			return err
		}
		p, exists, err := ix.find(fn.name, 0xFF)
		if err != nil {
			return err
		}
		if exists {
			return fmt.Errorf("%w: %q is already in directory record %d", errExist, fn.String(), ix.dir.rec.num)
		}
		path = p
	}
	e := indexEntry{ref: ref, key: key, child: -1}
	// Old blocks cut at a split are rewritten last, once the entries they
	// lose are reachable from the new blocks: a crash in between leaves
	// entries twice in the tree, never lost.
	var deferred []func() error
	finish := func(err error) error {
		if err != nil {
			return err
		}
		for _, f := range deferred {
			if err := f(); err != nil {
				return err
			}
		}
		return nil
	}
	for level := len(path) - 1; ; level-- {
		st := path[level]
		entries := make([]indexEntry, 0, len(st.entries)+1)
		entries = append(entries, st.entries[:st.pos]...)
		entries = append(entries, e)
		entries = append(entries, st.entries[st.pos:]...)
		if st.vcn < 0 {
			if ix.rootFits(entries) {
				return finish(ix.writeRoot(entries))
			}
			return finish(ix.reparent(entries))
		}
		if ix.blockFits(entries) {
			return finish(ix.writeBlock(st.vcn, entries))
		}
		// Split: the median moves up, pointing at the old block, which
		// keeps the entries before it; the entries after it go to a new
		// block, which the parent's entry that pointed at the old block
		// now points at.
		median, left, right := splitEntries(entries)
		pb, err := ix.planBlocks(1)
		if err != nil {
			return err
		}
		if err := ix.writeBlockTo(pb.alloc, pb.vcns[0], right); err != nil {
			return err
		}
		if err := ix.commitBlocks(pb, nil); err != nil {
			return err
		}
		oldVCN := st.vcn
		deferred = append(deferred, func() error { return ix.writeBlock(oldVCN, left) })
		parent := &path[level-1]
		parent.entries = append([]indexEntry(nil), parent.entries...)
		parent.entries[parent.pos].child = pb.vcns[0]
		median.child = st.vcn
		e = median
	}
}

// splitEntries cuts a node's entries (ending with the closing entry) at
// the median: the entries before it with a closing entry taking the
// median's child, the median, and the entries after it.
func splitEntries(entries []indexEntry) (median indexEntry, left, right []indexEntry) {
	m := (len(entries) - 1) / 2
	median = entries[m]
	left = append(append([]indexEntry(nil), entries[:m]...), indexEntry{flags: entryLast, child: median.child})
	right = append([]indexEntry(nil), entries[m+1:]...)
	return median, left, right
}

// reparent moves the root's entries into a new index block and leaves the
// root a single closing entry pointing at it, growing the tree by a level.
// When the entries do not fit one block either, they go to two, with the
// median left in the root. The blocks are written before the record that
// points at them.
func (ix *dirIndex) reparent(entries []indexEntry) error {
	if ix.blockFits(entries) {
		pb, err := ix.planBlocks(1)
		if err != nil {
			return err
		}
		if err := ix.writeBlockTo(pb.alloc, pb.vcns[0], entries); err != nil {
			return err
		}
		return ix.commitBlocks(pb, []indexEntry{{flags: entryLast, child: pb.vcns[0]}})
	}
	median, left, right := splitEntries(entries)
	pb, err := ix.planBlocks(2)
	if err != nil {
		return err
	}
	if err := ix.writeBlockTo(pb.alloc, pb.vcns[0], left); err != nil {
		return err
	}
	if err := ix.writeBlockTo(pb.alloc, pb.vcns[1], right); err != nil {
		return err
	}
	median.child = pb.vcns[0]
	return ix.commitBlocks(pb, []indexEntry{median, {flags: entryLast, child: pb.vcns[1]}})
}

// plannedBlocks are index blocks taken for a directory: their clusters are
// marked in $Bitmap, the directory's record is not yet rewritten.
type plannedBlocks struct {
	vcns   []int64
	ia, bm []byte  // the new $INDEX_ALLOCATION and $BITMAP attributes
	alloc  *stream // $INDEX_ALLOCATION as it will be
}

// planBlocks takes n free index blocks of the directory, growing
// $INDEX_ALLOCATION (after its last run when those clusters are free) and
// its $BITMAP as needed.
func (ix *dirIndex) planBlocks(n int) (*plannedBlocks, error) {
	v, r := ix.v, ix.dir.rec
	if len(ix.dir.extents(attrIndexAllocation, ix.attr)) > 1 || r.find(attrAttributeList, "") != nil {
		return nil, unsupported("MFT record %d: directory index in several records", r.num)
	}
	cs := v.boot.clusterSize
	perBlock := int64(ix.blockSize) / ix.vcnShift
	var bitmap []byte
	if bm := r.find(attrBitmap, ix.attr); bm != nil {
		if !bm.resident {
			return nil, unsupported("MFT record %d: non-resident %s bitmap", r.num, ix.attr)
		}
		bitmap = append([]byte(nil), bm.value...)
	}
	var runs []run
	var size int64
	if ix.alloc != nil {
		runs = append(runs, ix.alloc.runs...)
		size = ix.alloc.allocSize
	}
	pb := &plannedBlocks{}
	for i := int64(0); len(pb.vcns) < n; i++ {
		if i*int64(ix.blockSize) >= size {
			// Grow by a block, or by an eighth of the index when that is
			// more: a big directory's run list stays short.
			hint := int64(0)
			if len(runs) > 0 {
				last := runs[len(runs)-1]
				hint = last.lcn + last.length
			}
			blocks := max(int64(n-len(pb.vcns)), size/int64(ix.blockSize)/8)
			more, err := v.allocClusters(blocks*max(int64(ix.blockSize)/cs, 1), runsEnd(runs, 0), hint)
			if err != nil {
				return nil, err
			}
			runs = mergeRuns(append(runs, more...))
			size += blocks * int64(ix.blockSize)
		}
		for int64(len(bitmap))*8 <= i {
			bitmap = append(bitmap, make([]byte, 8)...)
		}
		if bitmap[i/8]&(1<<(i%8)) != 0 {
			continue
		}
		bitmap[i/8] |= 1 << (i % 8)
		pb.vcns = append(pb.vcns, i*perBlock)
	}
	// The bitmap covers every block of the allocation.
	for int64(len(bitmap))*8 < size/int64(ix.blockSize) {
		bitmap = append(bitmap, make([]byte, 8)...)
	}
	iaInst := instanceOf(r, attrIndexAllocation, ix.attr)
	bmInst := instanceOf(r, attrBitmap, ix.attr)
	if r.find(attrIndexAllocation, ix.attr) == nil && r.find(attrBitmap, ix.attr) == nil {
		bmInst = iaInst + 1
	}
	pb.ia = encodeNonResident(attrIndexAllocation, ix.attr, iaInst, runs, size, size, size, 0)
	pb.bm = encodeResident(attrBitmap, ix.attr, bmInst, bitmap, false)
	a, err := parseAttribute(pb.ia, r.num, -1)
	if err != nil {
		return nil, err
	}
	if pb.alloc, err = v.newStream(fmt.Sprintf("MFT record %d %s blocks", r.num, ix.attr), []*attribute{a}); err != nil {
		return nil, err
	}
	return pb, nil
}

// commitBlocks rewrites the directory's record with the planned
// $INDEX_ALLOCATION and $BITMAP, and a new root when root is not nil.
func (ix *dirIndex) commitBlocks(pb *plannedBlocks, root []indexEntry) error {
	r := ix.dir.rec
	tmp, err := asRecord(replaceAttr(r, attrIndexAllocation, ix.attr, pb.ia), r.num)
	if err != nil {
		return err
	}
	attrs := replaceAttr(tmp, attrBitmap, ix.attr, pb.bm)
	if root != nil {
		if tmp, err = asRecord(attrs, r.num); err != nil {
			return err
		}
		val := ix.indexRootValue(root)
		attrs = replaceAttr(tmp, attrIndexRoot, ix.attr, encodeResident(attrIndexRoot, ix.attr, instanceOf(r, attrIndexRoot, ix.attr), val, false))
	}
	if err := ix.v.rewriteRecord(r, attrs); err != nil {
		return err
	}
	ix.dir.attrs = r.attrs
	ix.alloc = pb.alloc
	if root != nil {
		ix.root = root
	}
	return nil
}

// mergeRuns joins adjacent runs that are contiguous on disk.
func mergeRuns(runs []run) []run {
	var out []run
	for _, r := range runs {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.lcn != sparseLCN && r.lcn == last.lcn+last.length || last.lcn == sparseLCN && r.lcn == sparseLCN {
				last.length += r.length
				continue
			}
		}
		out = append(out, r)
	}
	return out
}
