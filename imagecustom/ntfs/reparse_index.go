package ntfs

import (
	"encoding/binary"
	"errors"
	"io/fs"
)

// $Extend\$Reparse lists every reparse point of the volume in its view
// index $R: keys of REPARSE_INDEX_KEY {reparse tag (4 bytes), file
// reference of the file (8)}, no data, collated as a sequence of 32-bit
// integers (COLLATION_NTOFS_ULONGS). Facts from the Linux-NTFS
// documentation (files/reparse.html) and ntfs-3g's reparse.c, whose
// entries are 32 bytes: the 16-byte header, the 12-byte key, 4 of padding.
const (
	collationNTOFSULongs = 0x13
	reparseKeySize       = 12
)

// compareULongs collates two keys as sequences of little-endian 32-bit
// integers, a shorter key first when one is a prefix of the other.
func compareULongs(a, b []byte) int {
	for i := 0; i+4 <= len(a) && i+4 <= len(b); i += 4 {
		x, y := binary.LittleEndian.Uint32(a[i:]), binary.LittleEndian.Uint32(b[i:])
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// reparseKey returns the $R key of file ref's reparse point of tag.
func reparseKey(tag uint32, ref fileRef) []byte {
	k := make([]byte, reparseKeySize)
	binary.LittleEndian.PutUint32(k, tag)
	binary.LittleEndian.PutUint64(k[4:], uint64(ref))
	return k
}

// findKey is find for a view index: the path to the entry whose key
// equals key, or to the leaf position where it would go.
func (ix *dirIndex) findKey(key []byte) (path []indexStep, ok bool, err error) {
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
			c := compareULongs(key, e.key)
			if c == 0 {
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

// reparseIndex opens $Extend\$Reparse's $R index; ok is false when the
// volume has none (NTFS before 3.0).
func (v *Volume) reparseIndex() (ix *dirIndex, ok bool, err error) {
	n, err := v.resolve("open", "$Extend/$Reparse")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	ix, err = v.openNamedIndex(n.f, "$R", 0, collationNTOFSULongs)
	if err != nil {
		return nil, false, err
	}
	return ix, true, nil
}

// removeReparseEntry takes file ref's reparse point of tag out of $R. An
// entry that is not there is no error: the reparse point is gone either
// way.
func (v *Volume) removeReparseEntry(tag uint32, ref fileRef) error {
	ix, ok, err := v.reparseIndex()
	if err != nil || !ok {
		return err
	}
	path, found, err := ix.findKey(reparseKey(tag, ref))
	if err != nil || !found {
		return err
	}
	return ix.removeAt(path)
}
