package ntfs

import "encoding/binary"

// reparseFile is a base record with a reparse point, for the $R check.
type reparseFile struct {
	ref     fileRef
	tag     uint32
	off     int64 // the attribute's offset, for reports
	indexed bool  // $R holds it
}

// checkReparse checks a base record's reparse point: the attribute bit
// of $STANDARD_INFORMATION, and, for a WOF file, its streams. It notes the
// reparse point for the $R check.
func (c *checker) checkReparse(r *record, attrs []*attribute, siAttrs uint32, complete bool) {
	num := int64(r.num)
	var rp, data, wof *attribute
	for _, a := range attrs {
		switch {
		case a.typ == attrReparsePoint && rp == nil:
			rp = a
		case a.typ == attrData && a.name == "" && (a.resident || a.lowVCN == 0):
			data = a
		case a.typ == attrData && a.name == wofStreamName && (a.resident || a.lowVCN == 0):
			wof = a
		}
	}
	if rp == nil {
		if complete && siAttrs&fileAttrReparse != 0 {
			c.report(ReparseIndex, num, r.off, "MFT record %d: reparse attribute bit set, no $REPARSE_POINT", r.num)
		}
		return
	}
	if siAttrs&fileAttrReparse == 0 {
		c.report(ReparseIndex, num, rp.off, "MFT record %d: $REPARSE_POINT, reparse attribute bit clear", r.num)
	}
	if !rp.resident || len(rp.value) < 8 {
		return // the attribute checks report a malformed one
	}
	tag := binary.LittleEndian.Uint32(rp.value)
	c.reparse = append(c.reparse, reparseFile{ref: fileRef(uint64(r.seq)<<48 | r.num), tag: tag, off: rp.off})
	if tag != reparseTagWOF || len(rp.value) < 8+wofReparseDataLen ||
		binary.LittleEndian.Uint32(rp.value[12:]) != wofProviderFile {
		return
	}
	alg := WOFAlgorithm(binary.LittleEndian.Uint32(rp.value[20:]))
	switch {
	case !complete:
	case data == nil:
		c.report(WOFStreams, num, rp.off, "MFT record %d: system-compressed file without an unnamed $DATA", r.num)
	case wof == nil:
		c.report(WOFStreams, num, rp.off, "MFT record %d: system-compressed (%s) file without its %s stream", r.num, alg, wofStreamName)
	case alg.chunkSize() > 0:
		size, comp := attrDataSize(data), attrDataSize(wof)
		chunks := (size + int64(alg.chunkSize()) - 1) / int64(alg.chunkSize())
		entry := int64(4)
		if size > 0xFFFFFFFF {
			entry = 8
		}
		if chunks > 0 && (chunks-1)*entry > comp {
			c.report(WOFStreams, num, wof.off, "MFT record %d: %s of %d bytes cannot hold the chunk table of %d %s chunks", r.num, wofStreamName, comp, chunks, alg)
		}
	}
}

// attrDataSize returns the data size of an attribute's first extent.
func attrDataSize(a *attribute) int64 {
	if a.resident {
		return int64(len(a.value))
	}
	return a.dataSize
}

// checkReparseIndex walks $Extend\$Reparse's $R index: entries in
// order, each naming a file in use with that reparse point, and every
// reparse point indexed.
func (c *checker) checkReparseIndex() error {
	n, err := c.v.resolve("open", "$Extend/$Reparse")
	if err != nil {
		if len(c.reparse) > 0 {
			c.report(ReparseIndex, -1, -1, "%d files have reparse points, and $Extend\\$Reparse cannot be opened: %v", len(c.reparse), err)
		}
		return nil
	}
	f := n.f
	root, rootOff, ok := c.rootValue(f, "$R")
	if !ok {
		c.report(ReparseIndex, int64(f.rec.num), -1, "$Extend\\$Reparse has no readable $R index root")
		return nil
	}
	if typ, coll := binary.LittleEndian.Uint32(root), binary.LittleEndian.Uint32(root[4:]); typ != 0 || coll != collationNTOFSULongs {
		c.report(IndexCorrupt, int64(f.rec.num), rootOff, "$Extend\\$Reparse $R root: indexed type 0x%x collation 0x%x, want 0 and 0x13", typ, coll)
		return nil
	}
	t, err := c.openTree(f, "$R", root)
	if err != nil || t == nil {
		return err
	}
	t.parse = parseView(reparseKeySize)
	byRef := map[fileRef]int{}
	for i, rf := range c.reparse {
		byRef[rf.ref] = i
	}
	var prev []byte
	t.visit = func(e ixEntry) error {
		if len(e.key) != reparseKeySize {
			c.report(IndexCorrupt, int64(f.rec.num), e.off, "$Extend\\$Reparse $R: key of %d bytes, want %d", len(e.key), reparseKeySize)
			return nil
		}
		if prev != nil && compareULongs(prev, e.key) >= 0 {
			c.report(IndexOrder, int64(f.rec.num), e.off, "$Extend\\$Reparse $R: key %x after %x", e.key, prev)
		}
		prev = e.key
		tag := binary.LittleEndian.Uint32(e.key)
		ref := fileRef(binary.LittleEndian.Uint64(e.key[4:]))
		i, ok := byRef[ref]
		switch {
		case !ok:
			c.report(ReparseIndex, int64(ref.record()), e.off, "$Extend\\$Reparse $R: entry for record %d (sequence %d, tag 0x%08x), which has no reparse point or is not in use", ref.record(), ref.seq(), tag)
		case c.reparse[i].tag != tag:
			c.report(ReparseIndex, int64(ref.record()), e.off, "$Extend\\$Reparse $R: entry for record %d with tag 0x%08x, its reparse point has 0x%08x", ref.record(), tag, c.reparse[i].tag)
		default:
			c.reparse[i].indexed = true
		}
		return nil
	}
	hdrOff := int64(-1)
	if rootOff >= 0 {
		hdrOff = rootOff + 0x10
	}
	if err := t.walkRoot(root[0x10:], hdrOff); err != nil {
		return err
	}
	if !t.complete {
		return nil
	}
	for _, rf := range c.reparse {
		if !rf.indexed {
			c.report(ReparseIndex, int64(rf.ref.record()), rf.off, "MFT record %d: reparse point (tag 0x%08x) missing from $Extend\\$Reparse $R", rf.ref.record(), rf.tag)
		}
	}
	return nil
}
