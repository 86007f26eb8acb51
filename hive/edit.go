package hive

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf16"
)

// leafMax is the most entries a subkey leaf list holds before it is split
// under an ri index (Windows splits at about 1012; smaller leaves keep
// each insertion cheap).
const leafMax = 500

// maxNameChars bounds key names (Windows: 255) and value names (16383).
const (
	maxKeyName   = 255
	maxValueName = 16383
)

// now is the timestamp edits write.
func now() uint64 { return toFiletime(time.Now()) }

// encodeName returns a name as stored and whether it is compressed
// (Latin-1, one byte per character) — used when every character fits.
func encodeName(name string) ([]byte, bool) {
	u := nameUnits(name)
	latin := true
	for _, c := range u {
		if c > 0xFF {
			latin = false
			break
		}
	}
	if latin {
		b := make([]byte, len(u))
		for i, c := range u {
			b[i] = byte(c)
		}
		return b, true
	}
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b, false
}

// data returns the writable data slice of the cell at off.
func (h *Hive) data(off uint32) []byte {
	b, _ := h.cell(off)
	return b
}

// listEntry is an entry of a subkey leaf: the nk offset and its hint.
type listEntry struct {
	off  uint32
	hint uint32
}

// leaf is a subkey leaf list being edited.
type leaf struct {
	off     uint32 // nilOffset for a new one
	sig     string // "li", "lf" or "lh"
	entries []listEntry
}

// hintFor computes a leaf entry's hint for a name: the lh hash, or the lf
// first four characters.
func hintFor(sig string, units []uint16) uint32 {
	switch sig {
	case "lh":
		var h uint32
		for _, c := range units {
			h = h*37 + uint32(upcase(c))
		}
		return h
	case "lf":
		var b [4]byte
		for i := 0; i < 4 && i < len(units); i++ {
			if units[i] < 0x100 {
				b[i] = byte(units[i])
			}
		}
		return binary.LittleEndian.Uint32(b[:])
	}
	return 0
}

// readLeaves loads a key's subkey lists for editing.
func (h *Hive) readLeaves(list uint32) (ri uint32, leaves []*leaf, err error) {
	if list == nilOffset {
		return nilOffset, nil, nil
	}
	offs, err := h.leaves(list)
	if err != nil {
		return 0, nil, err
	}
	ri = nilOffset
	if len(offs) != 1 || offs[0] != list {
		ri = list
	}
	for _, o := range offs {
		b, err := h.cell(o)
		if err != nil {
			return 0, nil, err
		}
		lf := &leaf{off: o, sig: string(b[:2])}
		n := int(binary.LittleEndian.Uint16(b[2:]))
		stride := 8
		if lf.sig == "li" {
			stride = 4
		}
		if 4+stride*n > len(b) {
			return 0, nil, corrupt(int64(o)+baseBlockSize, "%s list of %d entries in %d bytes", lf.sig, n, len(b))
		}
		for i := 0; i < n; i++ {
			e := listEntry{off: binary.LittleEndian.Uint32(b[4+stride*i:])}
			if stride == 8 {
				e.hint = binary.LittleEndian.Uint32(b[8+stride*i:])
			}
			lf.entries = append(lf.entries, e)
		}
		leaves = append(leaves, lf)
	}
	return ri, leaves, nil
}

// writeLeaf writes a leaf: in place when its cell has room, else into a
// new cell with a quarter to spare (so that a growing list is not copied
// at every insertion), freeing the old one.
func (h *Hive) writeLeaf(lf *leaf) error {
	stride := 8
	if lf.sig == "li" {
		stride = 4
	}
	need := 4 + stride*len(lf.entries)
	var b []byte
	if lf.off != nilOffset {
		if c, err := h.cell(lf.off); err == nil && len(c) >= need {
			b = c
		}
	}
	if b == nil {
		off, err := h.alloc(min(need+need/4, 4+stride*(leafMax+1)))
		if err != nil {
			return err
		}
		h.release(lf.off)
		lf.off = off
		b = h.data(off)
	}
	copy(b, lf.sig)
	binary.LittleEndian.PutUint16(b[2:], uint16(len(lf.entries)))
	for i, e := range lf.entries {
		binary.LittleEndian.PutUint32(b[4+stride*i:], e.off)
		if stride == 8 {
			binary.LittleEndian.PutUint32(b[8+stride*i:], e.hint)
		}
	}
	return nil
}

// setLists writes the list root for leaves into nk: nothing, the single
// leaf, or a new ri over them (freeing the old ri).
func (h *Hive) setLists(nkOff, oldRI uint32, leaves []*leaf) error {
	var kept []*leaf
	for _, lf := range leaves {
		if len(lf.entries) > 0 {
			kept = append(kept, lf)
		} else {
			h.release(lf.off)
		}
	}
	root := uint32(nilOffset)
	switch len(kept) {
	case 0:
	case 1:
		root = kept[0].off
	default:
		off := oldRI
		var b []byte
		if oldRI != nilOffset {
			if c, err := h.cell(oldRI); err == nil && len(c) >= 4+4*len(kept) {
				b = c // rewritten in place
			}
		}
		if b == nil {
			var err error
			if off, err = h.alloc(4 + 4*(len(kept)+len(kept)/4+1)); err != nil {
				return err
			}
			b = h.data(off)
		}
		copy(b, "ri")
		binary.LittleEndian.PutUint16(b[2:], uint16(len(kept)))
		for i, lf := range kept {
			binary.LittleEndian.PutUint32(b[4+4*i:], lf.off)
		}
		root = off
	}
	if oldRI != nilOffset && oldRI != root {
		h.release(oldRI)
	}
	binary.LittleEndian.PutUint32(h.data(nkOff)[nkSubkeyList:], root)
	return nil
}

// newLeafSig is the leaf type Windows writes for the hive's version.
func (h *Hive) newLeafSig() string {
	if h.minor >= 5 {
		return "lh"
	}
	return "lf"
}

// readLeaf loads one leaf list for editing.
func (h *Hive) readLeaf(o uint32) (*leaf, error) {
	b, err := h.cell(o)
	if err != nil {
		return nil, err
	}
	lf := &leaf{off: o, sig: string(b[:2])}
	n := int(binary.LittleEndian.Uint16(b[2:]))
	stride := 8
	switch lf.sig {
	case "li":
		stride = 4
	case "lf", "lh":
	default:
		return nil, corrupt(int64(o)+baseBlockSize, "leaf list signature %q", lf.sig)
	}
	if 4+stride*n > len(b) {
		return nil, corrupt(int64(o)+baseBlockSize, "%s list of %d entries in %d bytes", lf.sig, n, len(b))
	}
	lf.entries = make([]listEntry, n, n+1)
	for i := range lf.entries {
		e := listEntry{off: binary.LittleEndian.Uint32(b[4+stride*i:])}
		if stride == 8 {
			e.hint = binary.LittleEndian.Uint32(b[8+stride*i:])
		}
		lf.entries[i] = e
	}
	return lf, nil
}

// insertSubkey adds child (named units) to parent's sorted subkey lists.
// It reads the ri index and the one leaf the name belongs in, so an
// insertion costs a leaf (at most leafMax entries) and the index, not the
// whole list.
func (h *Hive) insertSubkey(parent, child uint32, units []uint16) error {
	pb := h.data(parent)
	root := binary.LittleEndian.Uint32(pb[nkSubkeyList:])
	ri := uint32(nilOffset)
	var leafOffs []uint32
	if root != nilOffset {
		var err error
		if leafOffs, err = h.leaves(root); err != nil {
			return err
		}
		if len(leafOffs) != 1 || leafOffs[0] != root {
			ri = root
		}
	}
	// The leaf: the first whose last name does not sort before the new
	// one, by binary search over the leaves; the last leaf otherwise.
	li := -1
	if len(leafOffs) > 0 {
		var err error
		if li, err = h.findLeaf(leafOffs, units); err != nil {
			return err
		}
	}
	var lf *leaf
	if li < 0 {
		lf = &leaf{off: nilOffset, sig: h.newLeafSig()}
		li = 0
	} else {
		var err error
		if lf, err = h.readLeaf(leafOffs[li]); err != nil {
			return err
		}
	}
	lo, hi := 0, len(lf.entries)
	for lo < hi {
		mid := (lo + hi) / 2
		nb, err := h.nk(lf.entries[mid].off)
		if err != nil {
			return err
		}
		c := compareUpper(units, nkUnits(nb))
		if c == 0 {
			return fmt.Errorf("hive: subkey %q already exists", string(utf16.Decode(units)))
		}
		if c < 0 {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	lf.entries = append(lf.entries, listEntry{})
	copy(lf.entries[lo+1:], lf.entries[lo:])
	lf.entries[lo] = listEntry{off: child, hint: hintFor(lf.sig, units)}
	leaves := make([]*leaf, len(leafOffs))
	for i, o := range leafOffs {
		leaves[i] = &leaf{off: o, entries: []listEntry{{}}} // unchanged: only its offset matters
	}
	if len(leaves) == 0 {
		leaves = []*leaf{lf}
	} else {
		leaves[li] = lf
	}
	changed := []*leaf{lf}
	if len(lf.entries) > leafMax {
		half := len(lf.entries) / 2
		right := &leaf{off: nilOffset, sig: lf.sig, entries: append([]listEntry(nil), lf.entries[half:]...)}
		lf.entries = lf.entries[:half]
		leaves = append(leaves[:li+1], append([]*leaf{right}, leaves[li+1:]...)...)
		changed = append(changed, right)
	}
	for _, c := range changed {
		if err := h.writeLeaf(c); err != nil {
			return err
		}
	}
	if err := h.setLists(parent, ri, leaves); err != nil {
		return err
	}
	pb = h.data(parent)
	binary.LittleEndian.PutUint32(pb[nkSubkeys:], binary.LittleEndian.Uint32(pb[nkSubkeys:])+1)
	if n := uint32(2 * len(units)); n > binary.LittleEndian.Uint32(pb[nkMaxNameLen:])&0xFFFF {
		v := binary.LittleEndian.Uint32(pb[nkMaxNameLen:])
		binary.LittleEndian.PutUint32(pb[nkMaxNameLen:], v&^0xFFFF|n)
	}
	binary.LittleEndian.PutUint64(pb[nkTime:], now())
	return nil
}

// removeSubkey takes child out of parent's subkey lists.
func (h *Hive) removeSubkey(parent, child uint32) error {
	pb := h.data(parent)
	ri, leaves, err := h.readLeaves(binary.LittleEndian.Uint32(pb[nkSubkeyList:]))
	if err != nil {
		return err
	}
	for _, lf := range leaves {
		for i, e := range lf.entries {
			if e.off != child {
				continue
			}
			lf.entries = append(lf.entries[:i], lf.entries[i+1:]...)
			if len(lf.entries) > 0 {
				if err := h.writeLeaf(lf); err != nil {
					return err
				}
			}
			if err := h.setLists(parent, ri, leaves); err != nil {
				return err
			}
			pb = h.data(parent)
			binary.LittleEndian.PutUint32(pb[nkSubkeys:], binary.LittleEndian.Uint32(pb[nkSubkeys:])-1)
			binary.LittleEndian.PutUint64(pb[nkTime:], now())
			return nil
		}
	}
	return corrupt(int64(parent)+baseBlockSize, "key at 0x%x is not in its parent's subkey list", child)
}

// CreateKey returns the key at path (backslash-separated from the root),
// creating it and any missing parent. A new key shares its parent's
// security descriptor (the sk record's reference count goes up).
func (h *Hive) CreateKey(path string) (Key, error) {
	if err := h.writable(); err != nil {
		return Key{}, err
	}
	parts := splitPath(path)
	if len(parts) > maxDepth {
		return Key{}, fmt.Errorf("hive: key path of %d levels is deeper than Windows' %d", len(parts), maxDepth)
	}
	k := h.Root()
	for _, name := range parts {
		sub, err := k.Subkey(name)
		if err == nil {
			k = sub
			continue
		}
		if !isNotFound(err) {
			return Key{}, err
		}
		if k, err = h.newKey(k, name); err != nil {
			return Key{}, err
		}
	}
	return k, nil
}

// newKey makes a subkey of parent.
func (h *Hive) newKey(parent Key, name string) (Key, error) {
	units := nameUnits(name)
	if len(units) == 0 || len(units) > maxKeyName {
		return Key{}, fmt.Errorf("hive: key name %q: 1 to %d characters", name, maxKeyName)
	}
	enc, comp := encodeName(name)
	off, err := h.alloc(nkName + len(enc))
	if err != nil {
		return Key{}, err
	}
	pb := h.data(parent.off)
	sk := binary.LittleEndian.Uint32(pb[nkSecurity:])
	skb, err := h.record(sk, "sk", 20)
	if err != nil {
		h.release(off)
		return Key{}, fmt.Errorf("security of the parent key: %w", err)
	}
	b := h.data(off)
	copy(b, "nk")
	flags := uint16(0)
	if comp {
		flags |= keyCompName
	}
	binary.LittleEndian.PutUint16(b[nkFlags:], flags)
	binary.LittleEndian.PutUint64(b[nkTime:], now())
	binary.LittleEndian.PutUint32(b[nkParent:], parent.off)
	binary.LittleEndian.PutUint32(b[nkSubkeyList:], nilOffset)
	binary.LittleEndian.PutUint32(b[nkSubkeyList+4:], nilOffset) // volatile list
	binary.LittleEndian.PutUint32(b[nkValueList:], nilOffset)
	binary.LittleEndian.PutUint32(b[nkSecurity:], sk)
	binary.LittleEndian.PutUint32(b[nkClass:], nilOffset)
	binary.LittleEndian.PutUint16(b[nkNameLen:], uint16(len(enc)))
	copy(b[nkName:], enc)
	binary.LittleEndian.PutUint32(skb[12:], binary.LittleEndian.Uint32(skb[12:])+1)
	if err := h.insertSubkey(parent.off, off, units); err != nil {
		return Key{}, err
	}
	h.modified = true
	return Key{h: h, off: off}, nil
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// DeleteKey deletes the key at path and everything under it, freeing
// their cells; the security descriptors they used lose a reference and go
// when none is left. The root cannot be deleted.
func (h *Hive) DeleteKey(path string) error {
	if err := h.writable(); err != nil {
		return err
	}
	parts := splitPath(path)
	if len(parts) == 0 {
		return fmt.Errorf("hive: the root key cannot be deleted")
	}
	k, err := h.Key(path)
	if err != nil {
		return err
	}
	parent := binary.LittleEndian.Uint32(h.data(k.off)[nkParent:])
	if p, err := h.Key(joinPath(parts[:len(parts)-1])); err == nil {
		parent = p.off
	}
	if err := h.removeSubkey(parent, k.off); err != nil {
		return err
	}
	h.modified = true
	return h.freeTree(k.off, 0)
}

func joinPath(parts []string) string {
	s := ""
	for i, p := range parts {
		if i > 0 {
			s += `\`
		}
		s += p
	}
	return s
}

// freeTree frees a key and everything under it.
func (h *Hive) freeTree(off uint32, depth int) error {
	h.vindex = nil // the key's offset may be reused
	if depth > maxDepth {
		return corrupt(int64(off)+baseBlockSize, "keys nested deeper than %d", maxDepth)
	}
	b, err := h.nk(off)
	if err != nil {
		return err
	}
	list := binary.LittleEndian.Uint32(b[nkSubkeyList:])
	if list != nilOffset {
		_, leaves, err := h.readLeaves(list)
		if err != nil {
			return err
		}
		for _, lf := range leaves {
			for _, e := range lf.entries {
				if err := h.freeTree(e.off, depth+1); err != nil {
					return err
				}
			}
			h.release(lf.off)
		}
		if leaves == nil || leaves[0].off != list {
			h.release(list)
		}
	}
	vals, err := h.valueList(b)
	if err != nil {
		return err
	}
	for _, v := range vals {
		h.freeValue(v)
	}
	h.release(binary.LittleEndian.Uint32(b[nkValueList:]))
	h.release(binary.LittleEndian.Uint32(b[nkClass:]))
	h.unrefSecurity(binary.LittleEndian.Uint32(b[nkSecurity:]))
	h.release(off)
	return nil
}

// unrefSecurity drops a reference to an sk record, unlinking and freeing
// it when none is left.
func (h *Hive) unrefSecurity(sk uint32) {
	b, err := h.record(sk, "sk", 20)
	if err != nil {
		return
	}
	refs := binary.LittleEndian.Uint32(b[12:])
	if refs > 1 {
		binary.LittleEndian.PutUint32(b[12:], refs-1)
		return
	}
	flink, blink := binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:])
	if flink == sk {
		// The last sk of the hive: keep it, with no reference.
		binary.LittleEndian.PutUint32(b[12:], 0)
		return
	}
	if fb, err := h.record(flink, "sk", 20); err == nil {
		binary.LittleEndian.PutUint32(fb[8:], blink)
	}
	if bb, err := h.record(blink, "sk", 20); err == nil {
		binary.LittleEndian.PutUint32(bb[4:], flink)
	}
	h.release(sk)
}

// freeValue frees a value record and its data.
func (h *Hive) freeValue(off uint32) {
	b, err := h.vk(off)
	if err != nil {
		return
	}
	h.freeData(b)
	h.release(off)
}

// freeData frees a value's data cells (none when inline).
func (h *Hive) freeData(vk []byte) {
	size := binary.LittleEndian.Uint32(vk[vkSize:])
	if size&inlineData != 0 || size == 0 {
		return
	}
	off := binary.LittleEndian.Uint32(vk[vkData:])
	c, err := h.cell(off)
	if err != nil {
		return
	}
	if h.minor >= 4 && size > bigDataSegment && len(c) >= 8 && string(c[:2]) == "db" {
		n := int(binary.LittleEndian.Uint16(c[2:]))
		list := binary.LittleEndian.Uint32(c[4:])
		if lb, err := h.cell(list); err == nil && 4*n <= len(lb) {
			for i := 0; i < n; i++ {
				h.release(binary.LittleEndian.Uint32(lb[4*i:]))
			}
		}
		h.release(list)
	}
	h.release(off)
}

// writeData stores data for a value and returns the vk size and data
// fields: inline up to 4 bytes, one cell, or a db record with segments
// for big data in hives of version 1.4 and later.
func (h *Hive) writeData(data []byte) (size, field uint32, err error) {
	n := len(data)
	if n >= inlineData {
		return 0, 0, fmt.Errorf("hive: value of %d bytes is too big", n)
	}
	if n <= 4 {
		var f [4]byte
		copy(f[:], data)
		return uint32(n) | inlineData, binary.LittleEndian.Uint32(f[:]), nil
	}
	if h.minor < 4 || n <= bigDataSegment {
		off, err := h.alloc(n)
		if err != nil {
			return 0, 0, err
		}
		copy(h.data(off), data)
		return uint32(n), off, nil
	}
	segs := (n + bigDataSegment - 1) / bigDataSegment
	list, err := h.alloc(4 * segs)
	if err != nil {
		return 0, 0, err
	}
	for i := 0; i < segs; i++ {
		chunk := data[i*bigDataSegment : min(n, (i+1)*bigDataSegment)]
		seg, err := h.alloc(len(chunk))
		if err != nil {
			return 0, 0, err
		}
		copy(h.data(seg), chunk)
		binary.LittleEndian.PutUint32(h.data(list)[4*i:], seg)
	}
	db, err := h.alloc(8)
	if err != nil {
		return 0, 0, err
	}
	b := h.data(db)
	copy(b, "db")
	binary.LittleEndian.PutUint16(b[2:], uint16(segs))
	binary.LittleEndian.PutUint32(b[4:], list)
	return uint32(n), db, nil
}

// SetValue creates or replaces the key's value name ("" is the default
// value) with the given type and raw data.
func (k Key) SetValue(name string, typ ValueType, data []byte) error {
	h := k.h
	if err := h.writable(); err != nil {
		return err
	}
	if len(nameUnits(name)) > maxValueName {
		return fmt.Errorf("hive: value name of %d characters is over %d", len(nameUnits(name)), maxValueName)
	}
	if _, err := h.nk(k.off); err != nil {
		return err
	}
	units := nameUnits(name)
	existing, found, err := h.indexedValue(k.off, units)
	if err != nil {
		return err
	}
	size, field, err := h.writeData(data)
	if err != nil {
		return err
	}
	h.modified = true
	if found {
		vb := h.data(existing)
		h.freeData(vb)
		vb = h.data(existing)
		binary.LittleEndian.PutUint32(vb[vkSize:], size)
		binary.LittleEndian.PutUint32(vb[vkData:], field)
		binary.LittleEndian.PutUint32(vb[vkType:], uint32(typ))
		h.touchValues(k.off, name, len(data))
		return nil
	}
	enc, comp := encodeName(name)
	voff, err := h.alloc(vkName + len(enc))
	if err != nil {
		return err
	}
	vb := h.data(voff)
	copy(vb, "vk")
	binary.LittleEndian.PutUint16(vb[vkNameLen:], uint16(len(enc)))
	binary.LittleEndian.PutUint32(vb[vkSize:], size)
	binary.LittleEndian.PutUint32(vb[vkData:], field)
	binary.LittleEndian.PutUint32(vb[vkType:], uint32(typ))
	if comp {
		binary.LittleEndian.PutUint16(vb[vkFlags:], vkCompName)
	}
	copy(vb[vkName:], enc)
	// Append to the value list, in place when its cell has room.
	nb := h.data(k.off)
	count := binary.LittleEndian.Uint32(nb[nkValues:])
	list := binary.LittleEndian.Uint32(nb[nkValueList:])
	if list == nilOffset {
		count = 0 // a count without a list: there are no values
	}
	var lb []byte
	if list != nilOffset && count > 0 {
		if lb, err = h.cell(list); err != nil {
			return err
		}
	}
	if lb == nil || len(lb) < 4*int(count+1) {
		nl, err := h.alloc(4 * int(max(count+1, count*2, 4)))
		if err != nil {
			return err
		}
		copy(h.data(nl), lb[:min(len(lb), 4*int(count))])
		if list != nilOffset {
			h.release(list)
		}
		list = nl
		lb = h.data(nl)
		nb = h.data(k.off)
		binary.LittleEndian.PutUint32(nb[nkValueList:], list)
	}
	binary.LittleEndian.PutUint32(lb[4*count:], voff)
	binary.LittleEndian.PutUint32(nb[nkValues:], count+1)
	if h.vindex != nil && h.vindex.key == k.off {
		h.vindex.names[upperKey(units)] = voff
	}
	h.touchValues(k.off, name, len(data))
	return nil
}

// touchValues updates a key's largest-value fields and timestamp.
func (h *Hive) touchValues(nkOff uint32, name string, dataLen int) {
	b := h.data(nkOff)
	if n := uint32(2 * len(nameUnits(name))); n > binary.LittleEndian.Uint32(b[nkMaxValueName:]) {
		binary.LittleEndian.PutUint32(b[nkMaxValueName:], n)
	}
	if n := uint32(dataLen); n > binary.LittleEndian.Uint32(b[nkMaxValueData:]) {
		binary.LittleEndian.PutUint32(b[nkMaxValueData:], n)
	}
	binary.LittleEndian.PutUint64(b[nkTime:], now())
}

// DeleteValue deletes the key's value name.
func (k Key) DeleteValue(name string) error {
	h := k.h
	if err := h.writable(); err != nil {
		return err
	}
	v, err := k.Value(name)
	if err != nil {
		return err
	}
	nb := h.data(k.off)
	count := binary.LittleEndian.Uint32(nb[nkValues:])
	list := binary.LittleEndian.Uint32(nb[nkValueList:])
	lb := h.data(list)
	for i := uint32(0); i < count; i++ {
		if binary.LittleEndian.Uint32(lb[4*i:]) == v.off {
			copy(lb[4*i:4*count], lb[4*(i+1):4*count])
			break
		}
	}
	count--
	binary.LittleEndian.PutUint32(nb[nkValues:], count)
	if count == 0 {
		h.release(list)
		binary.LittleEndian.PutUint32(nb[nkValueList:], nilOffset)
	}
	binary.LittleEndian.PutUint64(nb[nkTime:], now())
	h.freeValue(v.off)
	h.modified = true
	h.vindex = nil
	return nil
}

// SetClass sets the key's class name ("" removes it).
func (k Key) SetClass(class string) error {
	h := k.h
	if err := h.writable(); err != nil {
		return err
	}
	b, err := h.nk(k.off)
	if err != nil {
		return err
	}
	h.release(binary.LittleEndian.Uint32(b[nkClass:]))
	off, n := uint32(nilOffset), 0
	if class != "" {
		enc := EncodeString(class)
		enc = enc[:len(enc)-2] // no terminator
		if len(enc) > 0xFFFF {
			return fmt.Errorf("hive: class name of %d bytes does not fit its 16-bit length", len(enc))
		}
		if off, err = h.alloc(len(enc)); err != nil {
			return err
		}
		copy(h.data(off), enc)
		n = len(enc)
	}
	b = h.data(k.off)
	binary.LittleEndian.PutUint32(b[nkClass:], off)
	binary.LittleEndian.PutUint16(b[nkClassLen:], uint16(n))
	binary.LittleEndian.PutUint64(b[nkTime:], now())
	if parent := binary.LittleEndian.Uint32(b[nkParent:]); k.off != h.root {
		if pb, err := h.nk(parent); err == nil && uint32(n) > binary.LittleEndian.Uint32(pb[nkMaxClassLen:]) {
			binary.LittleEndian.PutUint32(pb[nkMaxClassLen:], uint32(n))
		}
	}
	h.modified = true
	return nil
}
