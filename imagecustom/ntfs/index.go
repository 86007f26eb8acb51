package ntfs

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Index entry flags.
const (
	entryHasChild = 0x1
	entryLast     = 0x2
)

// indexEntry is one entry of a directory's $I30 index: a $FILE_NAME key
// and the file it names, or the node's closing entry (last set, no key).
type indexEntry struct {
	ref   fileRef
	flags uint32
	key   []byte // the $FILE_NAME value; nil in the last entry
	child int64  // VCN of the child node, or -1
	off   int64  // byte offset in the volume, for errors (-1 if resident)
}

// parseIndexEntries parses the entries of an index node. b spans the node
// from its index header (whose offsets are relative to it) to its end;
// off is b's offset in the volume, for errors.
func parseIndexEntries(b []byte, off int64, what string) ([]indexEntry, error) {
	return parseEntries(b, off, what, 0x42)
}

// parseEntries parses the entries of an index node whose keys are at
// least minKey bytes long.
func parseEntries(b []byte, off int64, what string, minKey int) ([]indexEntry, error) {
	if len(b) < 0x10 {
		return nil, corrupt(off, "%s: index header of %d bytes", what, len(b))
	}
	first := int(binary.LittleEndian.Uint32(b))
	used := int(binary.LittleEndian.Uint32(b[4:]))
	if used > len(b) || first < 0x10 || first > used || first%8 != 0 {
		return nil, corrupt(off, "%s: entries at 0x%x, %d bytes used of %d", what, first, used, len(b))
	}
	var entries []indexEntry
	for p := first; ; {
		if p+0x10 > used {
			return nil, corrupt(off+int64(p), "%s: entry overruns the node (no last entry)", what)
		}
		length := int(binary.LittleEndian.Uint16(b[p+8:]))
		keyLen := int(binary.LittleEndian.Uint16(b[p+0x0A:]))
		flags := binary.LittleEndian.Uint32(b[p+0x0C:])
		if length < 0x10 || length%8 != 0 || p+length > used {
			return nil, corrupt(off+int64(p), "%s: entry of length %d", what, length)
		}
		e := indexEntry{ref: fileRef(binary.LittleEndian.Uint64(b[p:])), flags: flags, child: -1, off: off + int64(p)}
		if flags&entryHasChild != 0 {
			if length < 0x18 {
				return nil, corrupt(off+int64(p), "%s: entry with a child of length %d", what, length)
			}
			e.child = int64(binary.LittleEndian.Uint64(b[p+length-8:]))
			if e.child < 0 || e.child > maxVCN {
				return nil, corrupt(off+int64(p), "%s: child VCN %d", what, e.child)
			}
		}
		if flags&entryLast == 0 {
			limit := length
			if flags&entryHasChild != 0 {
				limit -= 8
			}
			if keyLen < minKey || 0x10+keyLen > limit {
				return nil, corrupt(off+int64(p), "%s: key of %d bytes in an entry of %d", what, keyLen, length)
			}
			e.key = b[p+0x10 : p+0x10+keyLen]
		}
		entries = append(entries, e)
		p += length
		if flags&entryLast != 0 {
			return entries, nil
		}
	}
}

// dirIndex is a directory's $I30 index: the root node, and the stream of
// index blocks for larger directories. It also serves the view index $R
// of $Extend\$Reparse (attr "$R", view set), whose keys are compared as
// 32-bit integers.
type dirIndex struct {
	v         *Volume
	dir       *file
	attr      string // the index's name: "$I30", or "$R"
	view      bool   // a view index: keys are not $FILE_NAMEs
	root      []indexEntry
	alloc     *stream // $INDEX_ALLOCATION $I30, nil for a small directory
	blockSize int
	vcnShift  int64 // bytes per index VCN
}

// openIndex reads a directory's $I30 root and locates its blocks.
func (v *Volume) openIndex(dir *file) (*dirIndex, error) {
	return v.openNamedIndex(dir, "$I30", attrFileName, 1)
}

// openNamedIndex reads the root of the index attr of file dir, which
// indexes attribute type typ (0 for a view index) by collation rule coll,
// and locates its blocks.
func (v *Volume) openNamedIndex(dir *file, attr string, typ, coll uint32) (*dirIndex, error) {
	rootAttr := dir.extents(attrIndexRoot, attr)
	if len(rootAttr) != 1 || !rootAttr[0].resident {
		return nil, fmt.Errorf("%w: MFT record %d has no %s index root", errNotDir, dir.rec.num, attr)
	}
	ra := rootAttr[0]
	what := fmt.Sprintf("MFT record %d %s root", dir.rec.num, attr)
	b := ra.value
	if len(b) < 0x20 {
		return nil, corrupt(ra.off, "%s: %d bytes", what, len(b))
	}
	if t := binary.LittleEndian.Uint32(b); t != typ {
		return nil, corrupt(ra.off, "%s: indexes attribute 0x%x, want 0x%x", what, t, typ)
	}
	if c := binary.LittleEndian.Uint32(b[4:]); c != coll {
		return nil, corrupt(ra.off, "%s: collation rule 0x%x, want 0x%x", what, c, coll)
	}
	ix := &dirIndex{v: v, dir: dir, attr: attr, view: typ == 0, blockSize: int(binary.LittleEndian.Uint32(b[8:]))}
	if ix.blockSize != v.boot.indexBlockSize {
		return nil, corrupt(ra.off, "%s: block size %d, boot sector says %d", what, ix.blockSize, v.boot.indexBlockSize)
	}
	// Index VCNs count clusters when a block is at least a cluster, else
	// 512-byte units.
	ix.vcnShift = v.boot.clusterSize
	if int64(ix.blockSize) < v.boot.clusterSize {
		ix.vcnShift = 512
	}
	var err error
	if ix.root, err = parseEntries(b[0x10:], -1, what, ix.minKey()); err != nil {
		return nil, err
	}
	if alloc := dir.extents(attrIndexAllocation, attr); len(alloc) > 0 {
		if ix.alloc, err = v.newStream(fmt.Sprintf("MFT record %d %s blocks", dir.rec.num, attr), alloc); err != nil {
			return nil, err
		}
	}
	return ix, nil
}

// errNotDir reports an operation on a directory applied to a file.
var errNotDir = errors.New("not a directory")

// block reads and parses the index block at vcn.
func (ix *dirIndex) block(vcn int64) ([]indexEntry, error) {
	what := fmt.Sprintf("MFT record %d %s block at VCN %d", ix.dir.rec.num, ix.attr, vcn)
	if ix.alloc == nil {
		return nil, corrupt(-1, "%s: the directory has no index blocks", what)
	}
	pos := vcn * ix.vcnShift
	if pos+int64(ix.blockSize) > ix.alloc.size {
		return nil, corrupt(-1, "%s: past the end of $INDEX_ALLOCATION (%d bytes)", what, ix.alloc.size)
	}
	b := make([]byte, ix.blockSize)
	if _, err := ix.alloc.ReadAt(b, pos); err != nil {
		return nil, err
	}
	off := ix.alloc.volumeOffset(pos)
	if string(b[:4]) != "INDX" {
		return nil, corrupt(off, "%s: magic %q, want INDX", what, b[:4])
	}
	if err := applyFixups(b, off, what); err != nil {
		return nil, err
	}
	if own := int64(binary.LittleEndian.Uint64(b[0x10:])); own != vcn {
		return nil, corrupt(off+0x10, "%s: block says it is VCN %d", what, own)
	}
	return parseEntries(b[0x18:], off+0x18, what, ix.minKey())
}

// minKey returns the shortest key the index's entries may have.
func (ix *dirIndex) minKey() int {
	if ix.view {
		return 4
	}
	return 0x42
}

// maxIndexDepth bounds the descent through a B+tree, so that a corrupt
// index whose child pointers loop cannot loop forever. Real trees are a
// handful of levels deep.
const maxIndexDepth = 32

// lookup finds the entry whose name equals name ignoring case (by
// $UpCase), descending the B+tree from the root. Among entries equal
// ignoring case (possible only in the POSIX namespace) the exact match
// wins. It returns ok false when there is none.
func (ix *dirIndex) lookup(name []uint16) (e indexEntry, ok bool, err error) {
	entries := ix.root
	for depth := 0; ; depth++ {
		if depth > maxIndexDepth {
			return e, false, corrupt(-1, "MFT record %d %s: deeper than %d levels", ix.dir.rec.num, ix.attr, maxIndexDepth)
		}
		next := int64(-1)
		for i, cand := range entries {
			if cand.flags&entryLast != 0 {
				next = cand.child
				break
			}
			fn, err := parseFileName(cand.key, cand.off)
			if err != nil {
				return e, false, err
			}
			c := ix.v.upcase.compareNames(name, fn.name)
			if c == 0 {
				// Prefer the exact spelling among case-insensitive twins.
				for _, twin := range entries[i:] {
					if twin.flags&entryLast != 0 {
						break
					}
					tn, err := parseFileName(twin.key, twin.off)
					if err != nil || ix.v.upcase.compareNames(name, tn.name) != 0 {
						break
					}
					if equalUTF16(name, tn.name) {
						return twin, true, nil
					}
				}
				return cand, true, nil
			}
			if c < 0 {
				next = cand.child
				break
			}
		}
		if next < 0 {
			return e, false, nil
		}
		if entries, err = ix.block(next); err != nil {
			return e, false, err
		}
	}
}

func equalUTF16(a, b []uint16) bool {
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

// walk calls fn for every entry of the index in collation order. It
// follows only the tree's own child pointers, so entries left in unused
// blocks or past a node's used length are never seen; a block visited
// twice means the tree is corrupt.
func (ix *dirIndex) walk(fn func(e indexEntry) error) error {
	seen := map[int64]bool{}
	var visit func(entries []indexEntry, depth int) error
	visit = func(entries []indexEntry, depth int) error {
		if depth > maxIndexDepth {
			return corrupt(-1, "MFT record %d %s: deeper than %d levels", ix.dir.rec.num, ix.attr, maxIndexDepth)
		}
		for _, e := range entries {
			if e.child >= 0 {
				if seen[e.child] {
					return corrupt(-1, "MFT record %d %s: block at VCN %d reached twice", ix.dir.rec.num, ix.attr, e.child)
				}
				seen[e.child] = true
				sub, err := ix.block(e.child)
				if err != nil {
					return err
				}
				if err := visit(sub, depth+1); err != nil {
					return err
				}
			}
			if e.flags&entryLast == 0 {
				if err := fn(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return visit(ix.root, 0)
}
