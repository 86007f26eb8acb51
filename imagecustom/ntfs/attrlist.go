package ntfs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"unicode/utf16"
)

// An $ATTRIBUTE_LIST names every attribute of a file whose attributes
// spill out of the base record into extension records. Each entry
// (Linux-NTFS documentation, attributes/attribute_list.html; ntfs-3g's
// layout.h ATTR_LIST_ENTRY):
//
//	0x00 4  attribute type
//	0x04 2  entry length (8-byte aligned)
//	0x06 1  name length (UTF-16 units)
//	0x07 1  name offset (0x1A)
//	0x08 8  lowest VCN of the extent (0 for a resident attribute)
//	0x10 8  file reference of the record holding the extent
//	0x18 2  attribute instance in that record
//	0x1A    name
//
// Entries are sorted by type, then name, then lowest VCN. The base
// record's link count counts the $FILE_NAMEs of every record; extension
// records have a link count of 0.

// listEntry is one $ATTRIBUTE_LIST entry.
type listEntry struct {
	typ      uint32
	name     string
	lowVCN   int64
	ref      fileRef
	instance uint16
}

// parseAttrList decodes a whole $ATTRIBUTE_LIST value.
func parseAttrList(b []byte, rec uint64, off int64) ([]listEntry, error) {
	var out []listEntry
	for p := 0; p < len(b); {
		if p+0x1A > len(b) {
			return nil, corrupt(off, "MFT record %d: attribute list entry at %d overruns it", rec, p)
		}
		n := int(binary.LittleEndian.Uint16(b[p+4:]))
		nameLen, nameOff := int(b[p+6]), int(b[p+7])
		if n < 0x1A || p+n > len(b) || nameLen > 0 && nameOff+2*nameLen > n {
			return nil, corrupt(off, "MFT record %d: attribute list entry at %d of length %d", rec, p, n)
		}
		e := listEntry{
			typ:      binary.LittleEndian.Uint32(b[p:]),
			lowVCN:   int64(binary.LittleEndian.Uint64(b[p+8:])),
			ref:      fileRef(binary.LittleEndian.Uint64(b[p+0x10:])),
			instance: binary.LittleEndian.Uint16(b[p+0x18:]),
		}
		if nameLen > 0 {
			e.name = decodeUTF16(b[p+nameOff : p+nameOff+2*nameLen])
		}
		out = append(out, e)
		p += n
	}
	return out, nil
}

// encodeAttrList lays out list entries, in the order given.
func encodeAttrList(entries []listEntry) []byte {
	var b []byte
	for _, e := range entries {
		name := utf16.Encode([]rune(e.name))
		n := align8(0x1A + 2*len(name))
		p := len(b)
		b = append(b, make([]byte, n)...)
		binary.LittleEndian.PutUint32(b[p:], e.typ)
		binary.LittleEndian.PutUint16(b[p+4:], uint16(n))
		b[p+6] = byte(len(name))
		b[p+7] = 0x1A
		binary.LittleEndian.PutUint64(b[p+8:], uint64(e.lowVCN))
		binary.LittleEndian.PutUint64(b[p+0x10:], uint64(e.ref))
		binary.LittleEndian.PutUint16(b[p+0x18:], e.instance)
		for i, c := range name {
			binary.LittleEndian.PutUint16(b[p+0x1A+2*i:], c)
		}
	}
	return b
}

// sortList orders list entries by type, name and lowest VCN.
func sortList(entries []listEntry) {
	slices.SortStableFunc(entries, func(a, b listEntry) int {
		switch {
		case a.typ != b.typ:
			return int(int64(a.typ) - int64(b.typ))
		case a.name != b.name:
			return bytes.Compare(encodeUTF16(a.name), encodeUTF16(b.name))
		case a.lowVCN < b.lowVCN:
			return -1
		case a.lowVCN > b.lowVCN:
			return 1
		}
		return 0
	})
}

// encodeUTF16 returns name as UTF-16 code units, for ordering.
func encodeUTF16(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.BigEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// attrList reads a file's attribute list; nil when it has none.
func (v *Volume) attrList(f *file) ([]listEntry, error) {
	list := f.rec.find(attrAttributeList, "")
	if list == nil {
		return nil, nil
	}
	b, err := v.readAll(f, attrAttributeList, "", maxAttrListSize)
	if err != nil {
		return nil, err
	}
	return parseAttrList(b, f.rec.num, list.off)
}

// writeAttrList replaces the value of the file's attribute list with
// entries (each naming an attribute that exists, in the base record or an
// extension record, when it is written) and rewrites the base record with
// baseAttrs in place of its attributes (the list among them, updated) and
// the link count links. A resident list is rewritten with the record; a
// non-resident one is written to its clusters first, which must hold it.
func (v *Volume) writeAttrList(f *file, entries []listEntry, baseAttrs [][]byte, links int) error {
	list := f.rec.find(attrAttributeList, "")
	if list == nil {
		return fmt.Errorf("ntfs: MFT record %d has no attribute list", f.rec.num)
	}
	val := encodeAttrList(entries)
	tmp, err := asRecord(baseAttrs, f.rec.num)
	if err != nil {
		return err
	}
	var repl []byte
	if list.resident {
		repl = encodeResident(attrAttributeList, "", list.instance, val, false)
	} else {
		if int64(len(val)) > list.allocSize {
			return unsupported("MFT record %d: attribute list of %d bytes outgrows its %d allocated", f.rec.num, len(val), list.allocSize)
		}
		s, err := v.newStream(fmt.Sprintf("MFT record %d $ATTRIBUTE_LIST", f.rec.num), []*attribute{list})
		if err != nil {
			return err
		}
		padded := make([]byte, max(int64(len(val)), list.initSize))
		copy(padded, val)
		if err := s.writeAt(padded, 0); err != nil {
			return err
		}
		repl = encodeNonResident(attrAttributeList, "", list.instance, list.runs, list.allocSize, int64(len(val)), int64(len(val)), 0)
	}
	return v.rewriteRecordLinks(f.rec, replaceAttr(tmp, attrAttributeList, "", repl), links)
}

// rewriteRecordLinks is rewriteRecord with the header's link count set to
// links rather than counted from the record's own $FILE_NAMEs.
func (v *Volume) rewriteRecordLinks(r *record, attrs [][]byte, links int) error {
	cloned := make([][]byte, len(attrs))
	for i, a := range attrs {
		cloned[i] = append([]byte(nil), a...)
	}
	buf := append([]byte(nil), r.buf...)
	if err := v.setAttributes(buf, cloned); err != nil {
		return err
	}
	binary.LittleEndian.PutUint16(buf[0x12:], uint16(links))
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

// extensionRecords returns the file's extension records, by number.
func (v *Volume) extensionRecords(f *file) (map[uint64]*record, error) {
	out := map[uint64]*record{}
	for _, a := range f.attrs {
		if a.rec == f.rec.num {
			continue
		}
		if _, ok := out[a.rec]; ok {
			continue
		}
		r, err := v.readRecord(a.rec)
		if err != nil {
			return nil, err
		}
		out[a.rec] = r
	}
	return out, nil
}

// dropAttrs takes attributes out of a file that has an attribute list:
// first out of the list (with the base record, whose link count becomes
// links), then out of their extension records, an extension record left
// empty being freed. A crash in between leaves attributes that no list
// names, which Check reports and chkdsk removes; the file reads as it
// should all along.
func (v *Volume) dropAttrs(f *file, drop []*attribute, links int) error {
	entries, err := v.attrList(f)
	if err != nil {
		return err
	}
	isDropped := func(rec uint64, typ uint32, inst uint16) bool {
		for _, a := range drop {
			if a.rec == rec && a.typ == typ && a.instance == inst {
				return true
			}
		}
		return false
	}
	kept := entries[:0:0]
	for _, e := range entries {
		if !isDropped(e.ref.record(), e.typ, e.instance) {
			kept = append(kept, e)
		}
	}
	var base [][]byte
	for _, a := range f.rec.attrs {
		if !isDropped(f.rec.num, a.typ, a.instance) {
			base = append(base, a.raw)
		}
	}
	exts, err := v.extensionRecords(f)
	if err != nil {
		return err
	}
	if err := v.writeAttrList(f, kept, base, links); err != nil {
		return err
	}
	for _, num := range sortedKeys(exts) {
		x := exts[num]
		var keep [][]byte
		changed := false
		for _, a := range x.attrs {
			if isDropped(num, a.typ, a.instance) {
				changed = true
				continue
			}
			keep = append(keep, a.raw)
		}
		switch {
		case !changed:
		case len(keep) == 0:
			if err := v.freeRecord(x); err != nil {
				return err
			}
		default:
			if err := v.rewriteRecordLinks(x, keep, 0); err != nil {
				return err
			}
		}
	}
	return v.reloadFile(f)
}

// reloadFile reads the file's records again after a change.
func (v *Volume) reloadFile(f *file) error {
	nf, err := v.loadFile(fileRef(f.rec.num))
	if err != nil {
		return err
	}
	*f = *nf
	return nil
}

func sortedKeys(m map[uint64]*record) []uint64 {
	keys := make([]uint64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// freeRecord marks a record free (sequence number bumped) and clears its
// $MFT bitmap bit.
func (v *Volume) freeRecord(r *record) error {
	buf := append([]byte(nil), r.buf...)
	flags := binary.LittleEndian.Uint16(buf[0x16:]) &^ (recordInUse | recordDirectory)
	binary.LittleEndian.PutUint16(buf[0x16:], flags)
	seq := binary.LittleEndian.Uint16(buf[0x10:]) + 1
	if seq == 0 {
		seq = 1
	}
	binary.LittleEndian.PutUint16(buf[0x10:], seq)
	if err := v.writeRecord(&record{num: r.num, off: r.off, buf: buf}); err != nil {
		return err
	}
	mft, bm, err := v.mftBitmap()
	if err != nil {
		return err
	}
	return v.setRecordBit(mft, bm, r.num, false)
}

// recordFree returns the bytes record r has left for more attributes.
func (v *Volume) recordFree(r *record) int {
	used := int(binary.LittleEndian.Uint16(r.buf[0x14:])) + 8
	for _, a := range r.attrs {
		used += len(a.raw)
	}
	return len(r.buf) - used
}

// newExtensionRecord allocates an empty extension record of the file.
func (v *Volume) newExtensionRecord(f *file) (*record, error) {
	num, err := v.allocRecord()
	if err != nil {
		return nil, err
	}
	old, err := v.readRawRecord(num)
	if err != nil {
		return nil, err
	}
	seq := old.seq
	if seq == 0 {
		seq = 1
	}
	b := v.newRecordHeader(num, seq, old.usn, false)
	binary.LittleEndian.PutUint64(b[0x20:], uint64(f.rec.seq)<<48|f.rec.num)
	r := &record{num: num, off: v.mft.volumeOffset(int64(num) * int64(v.boot.recordSize)), buf: b, seq: seq}
	if err := v.writeRecord(r); err != nil {
		return nil, err
	}
	parsed, err := parseRecord(r.buf, num, r.off)
	if err != nil {
		return nil, err
	}
	return parsed, nil
}

// addAttrs adds attributes (complete attribute records; their instance
// numbers are assigned here) to a file that has an attribute list: into
// the base record when they fit, else into the first extension record
// with room, else into a new extension record, the way Windows and
// ntfs-3g spill attributes. The record holding them is written first,
// then the list naming them (with the base record, whose link count
// becomes links): a crash in between leaves an attribute no list names,
// never a list entry without its attribute.
func (v *Volume) addAttrs(f *file, add [][]byte, links int) error {
	need := 0
	for _, a := range add {
		need += len(a)
	}
	entries, err := v.attrList(f)
	if err != nil {
		return err
	}
	listGrowth := 0
	for _, a := range add {
		pa, err := parseAttribute(a, 0, -1)
		if err != nil {
			return err
		}
		listGrowth += align8(0x1A + 2*len(utf16.Encode([]rune(pa.name))))
	}
	if list := f.rec.find(attrAttributeList, ""); list != nil && list.resident {
		need += listGrowth // the base record holds the list too
	}
	// The record to hold them.
	var target *record
	if v.recordFree(f.rec) >= need {
		target = f.rec
	} else {
		exts, err := v.extensionRecords(f)
		if err != nil {
			return err
		}
		plain := need
		if list := f.rec.find(attrAttributeList, ""); list != nil && list.resident {
			plain -= listGrowth
			if v.recordFree(f.rec) < listGrowth {
				return unsupported("MFT record %d: no room for a longer resident attribute list", f.rec.num)
			}
		}
		for _, num := range sortedKeys(exts) {
			if v.recordFree(exts[num]) >= plain {
				target = exts[num]
				break
			}
		}
		if target == nil {
			if target, err = v.newExtensionRecord(f); err != nil {
				return err
			}
		}
	}
	// Instances and list entries.
	inst := nextInstance(target)
	var raws [][]byte
	for _, a := range add {
		c := append([]byte(nil), a...)
		setInstance(c, inst)
		pa, err := parseAttribute(c, target.num, -1)
		if err != nil {
			return err
		}
		entries = append(entries, listEntry{typ: pa.typ, name: pa.name, lowVCN: pa.lowVCN,
			ref: fileRef(uint64(target.seq)<<48 | target.num), instance: inst})
		raws = append(raws, c)
		inst++
	}
	sortList(entries)
	if target.num == f.rec.num {
		all := make([][]byte, 0, len(f.rec.attrs)+len(raws))
		for _, a := range f.rec.attrs {
			all = append(all, a.raw)
		}
		all = sortAttrs(append(all, raws...))
		if err := v.writeAttrList(f, entries, all, links); err != nil {
			return err
		}
		return v.reloadFile(f)
	}
	all := make([][]byte, 0, len(target.attrs)+len(raws))
	for _, a := range target.attrs {
		all = append(all, a.raw)
	}
	if err := v.rewriteRecordLinks(target, sortAttrs(append(all, raws...)), 0); err != nil {
		return err
	}
	base := make([][]byte, 0, len(f.rec.attrs))
	for _, a := range f.rec.attrs {
		base = append(base, a.raw)
	}
	if err := v.writeAttrList(f, entries, base, links); err != nil {
		return err
	}
	return v.reloadFile(f)
}

// sortAttrs orders raw attribute records as a record holds them: by type,
// then name, $FILE_NAMEs among themselves by value.
func sortAttrs(attrs [][]byte) [][]byte {
	slices.SortStableFunc(attrs, func(a, b []byte) int {
		ta, tb := binary.LittleEndian.Uint32(a), binary.LittleEndian.Uint32(b)
		if ta != tb {
			return int(int64(ta) - int64(tb))
		}
		na, nb := rawAttrName(a), rawAttrName(b)
		if c := bytes.Compare(na, nb); c != 0 {
			return c
		}
		if ta == attrFileName && a[8] == 0 && b[8] == 0 {
			return bytes.Compare(residentValue(a), residentValue(b))
		}
		return 0
	})
	return attrs
}

func rawAttrName(a []byte) []byte {
	n, off := int(a[9]), int(binary.LittleEndian.Uint16(a[0x0A:]))
	if n == 0 || off+2*n > len(a) {
		return nil
	}
	return a[off : off+2*n]
}

func residentValue(a []byte) []byte {
	n, off := int(binary.LittleEndian.Uint32(a[0x10:])), int(binary.LittleEndian.Uint16(a[0x14:]))
	if off+n > len(a) {
		return nil
	}
	return a[off : off+n]
}
