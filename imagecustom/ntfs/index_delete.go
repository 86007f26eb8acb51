package ntfs

import (
	"fmt"
	"io/fs"
)

// indexPath is the way from the root to an entry: the node at each level
// (vcn -1 for the root), its entries, and the position taken there.
type indexStep struct {
	vcn     int64
	entries []indexEntry
	pos     int
}

// find returns the path to the entry whose name is name (ignoring case)
// and whose namespace is ns (any, when ns is 0xFF). When there is none, ok
// is false and the path ends at the leaf position where the name would
// go.
func (ix *dirIndex) find(name []uint16, ns uint8) (path []indexStep, ok bool, err error) {
	entries, vcn := ix.root, int64(-1)
	for depth := 0; ; depth++ {
		if depth > maxIndexDepth {
			return nil, false, corrupt(-1, "MFT record %d %s: deeper than %d levels", ix.dir.rec.num, ix.attr, maxIndexDepth)
		}
		pos := len(entries) - 1
		for i, e := range entries {
			if e.flags&entryLast != 0 {
				pos = i
				break
			}
			fn, err := parseFileName(e.key, e.off)
			if err != nil {
				return nil, false, err
			}
			c := ix.v.upcase.compareNames(name, fn.name)
			if c == 0 && (fn.namespace == ns || ns == 0xFF) {
				return append(path, indexStep{vcn, entries, i}), true, nil
			}
			if c < 0 {
				pos = i
				break
			}
		}
		path = append(path, indexStep{vcn, entries, pos})
		child := entries[pos].child
		if child < 0 {
			return path, false, nil
		}
		if entries, err = ix.block(child); err != nil {
			return nil, false, err
		}
		vcn = child
	}
}

// writeNode writes a node's entries: the root, or a block.
func (ix *dirIndex) writeNode(vcn int64, entries []indexEntry) error {
	if vcn < 0 {
		return ix.writeRoot(entries)
	}
	return ix.writeBlock(vcn, entries)
}

// remove deletes the entry with the given name and namespace from the
// index. A leaf entry is removed; an internal one is replaced by its
// successor, which is removed from its leaf. A block left empty is freed:
// the parent's entry that pointed at it is taken out and inserted again
// from the top (ntfs-3g's way; no merging of nodes).
func (ix *dirIndex) remove(name []uint16, ns uint8) error {
	path, ok, err := ix.find(name, ns)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: no index entry %q in directory record %d", fs.ErrNotExist, string(utf16Decode(name)), ix.dir.rec.num)
	}
	return ix.removeAt(path)
}

// removeAt deletes the entry at the end of path.
func (ix *dirIndex) removeAt(path []indexStep) error {
	last := path[len(path)-1]
	target := last.entries[last.pos]
	if target.child >= 0 {
		// Internal entry: take the successor, the first entry of the
		// leftmost leaf under the next entry's child.
		sub := last.entries[last.pos+1].child
		var succPath []indexStep
		for vcn, depth := sub, 0; ; depth++ {
			if depth > maxIndexDepth {
				return corrupt(-1, "MFT record %d %s: deeper than %d levels", ix.dir.rec.num, ix.attr, maxIndexDepth)
			}
			entries, err := ix.block(vcn)
			if err != nil {
				return err
			}
			succPath = append(succPath, indexStep{vcn, entries, 0})
			if entries[0].child < 0 {
				break
			}
			vcn = entries[0].child
		}
		leaf := succPath[len(succPath)-1]
		succ := leaf.entries[0]
		if succ.flags&entryLast != 0 {
			return corrupt(-1, "MFT record %d %s: empty leaf block at VCN %d", ix.dir.rec.num, ix.attr, leaf.vcn)
		}
		// Put the successor in the target's place, then delete it from
		// its leaf (the path down to it goes through the target's node,
		// whose entries change).
		replaced := append([]indexEntry(nil), last.entries...)
		replaced[last.pos] = indexEntry{ref: succ.ref, key: succ.key, child: target.child, flags: target.flags &^ entryLast}
		if err := ix.writeNode(last.vcn, replaced); err != nil {
			return err
		}
		path[len(path)-1].entries = replaced
		path[len(path)-1].pos = last.pos + 1
		path = append(path, succPath...)
	}
	return ix.removeLeafEntry(path)
}

// removeLeafEntry removes the entry at the end of path, which is in a leaf.
func (ix *dirIndex) removeLeafEntry(path []indexStep) error {
	st := path[len(path)-1]
	entries := append(append([]indexEntry(nil), st.entries[:st.pos]...), st.entries[st.pos+1:]...)
	if st.vcn < 0 || len(entries) > 1 {
		return ix.writeNode(st.vcn, entries)
	}
	// The block is empty: free it and fix its parent.
	return ix.dropEmptyBlock(path[:len(path)-1], st.vcn)
}

// dropEmptyBlock frees the empty block vcn, whose parent is at the end of
// path, pointing at it from its entry at pos.
func (ix *dirIndex) dropEmptyBlock(path []indexStep, vcn int64) error {
	if err := ix.freeBlock(vcn); err != nil {
		return err
	}
	p := path[len(path)-1]
	pe := p.entries[p.pos]
	var reinsert *indexEntry
	entries := append([]indexEntry(nil), p.entries...)
	if pe.flags&entryLast == 0 {
		// A real entry whose smaller keys were all in the freed block:
		// take it out of the node and insert it again from the top.
		e := pe
		reinsert = &e
		entries = append(entries[:p.pos], entries[p.pos+1:]...)
	} else if p.pos > 0 {
		// The closing entry pointed at it: it takes the previous entry's
		// child, and the previous entry is inserted again.
		prev := entries[p.pos-1]
		reinsert = &prev
		entries[p.pos].child = prev.child
		entries = append(entries[:p.pos-1], entries[p.pos:]...)
	} else {
		// The node had nothing but the closing entry over this block.
		if p.vcn < 0 {
			entries = []indexEntry{{flags: entryLast, child: -1}}
		} else {
			return ix.dropEmptyBlock(path[:len(path)-1], p.vcn)
		}
	}
	if err := ix.writeNode(p.vcn, entries); err != nil {
		return err
	}
	if reinsert != nil {
		return ix.insert(reinsert.key, reinsert.ref)
	}
	return nil
}

// freeBlock clears an index block's bit in the directory's $I30 bitmap.
// Its clusters stay with $INDEX_ALLOCATION, as NTFS leaves them.
func (ix *dirIndex) freeBlock(vcn int64) error {
	r := ix.dir.rec
	bm := r.find(attrBitmap, ix.attr)
	if bm == nil || !bm.resident {
		return unsupported("MFT record %d: %s bitmap not resident", r.num, ix.attr)
	}
	i := vcn * ix.vcnShift / int64(ix.blockSize)
	if i/8 >= int64(len(bm.value)) || bm.value[i/8]&(1<<(i%8)) == 0 {
		return corrupt(-1, "MFT record %d %s: block at VCN %d is not marked in use", r.num, ix.attr, vcn)
	}
	val := append([]byte(nil), bm.value...)
	val[i/8] &^= 1 << (i % 8)
	if err := ix.v.rewriteRecord(r, replaceAttr(r, attrBitmap, ix.attr, encodeResident(attrBitmap, ix.attr, bm.instance, val, false))); err != nil {
		return err
	}
	ix.dir.attrs = r.attrs
	return nil
}

// updateKey replaces the key of the entry named name (namespace ns) with
// key, which names the same file and has the same name: the copy of
// $FILE_NAME the index keeps (sizes, times) brought up to date.
func (ix *dirIndex) updateKey(name []uint16, ns uint8, key []byte) error {
	path, ok, err := ix.find(name, ns)
	if err != nil || !ok {
		return err
	}
	st := path[len(path)-1]
	entries := append([]indexEntry(nil), st.entries...)
	entries[st.pos].key = key
	if st.vcn < 0 && !ix.rootFits(entries) {
		return nil // cannot grow here; the copy may stay stale, as NTFS allows
	}
	if st.vcn >= 0 && !ix.blockFits(entries) {
		return nil
	}
	return ix.writeNode(st.vcn, entries)
}

// isEmpty reports whether the directory index holds no entry.
func (ix *dirIndex) isEmpty() bool {
	return len(ix.root) == 1 && ix.root[0].child < 0
}
