package ntfs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
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
// non-resident one is written to new clusters first, and its old clusters
// freed after the record: a crash leaves the old list or the new one.
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
	var oldRuns []run
	if list.resident {
		repl = encodeResident(attrAttributeList, "", list.instance, val, false)
	} else {
		// The new list goes to new clusters, so that the base record's
		// write switches from one whole list to the other.
		hint := int64(0)
		if len(list.runs) > 0 && list.runs[0].lcn != sparseLCN {
			hint = list.runs[0].lcn
		}
		runs, alloc, err := v.writeNewData(bytes.NewReader(val), int64(len(val)), hint)
		if err != nil {
			return err
		}
		oldRuns = list.runs
		repl = encodeNonResident(attrAttributeList, "", list.instance, runs, alloc, int64(len(val)), int64(len(val)), 0)
	}
	if err := v.rewriteRecordLinks(f.rec, replaceAttr(tmp, attrAttributeList, "", repl), links); err != nil {
		return err
	}
	return v.freeRuns(oldRuns)
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
	if err := v.purgeAttrs(exts, isDropped); err != nil {
		return err
	}
	return v.reloadFile(f)
}

// purgeAttrs takes the attributes isDropped names out of extension
// records that no list entry names them in any more, freeing a record
// left empty.
func (v *Volume) purgeAttrs(exts map[uint64]*record, isDropped func(rec uint64, typ uint32, inst uint16) bool) error {
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
	return nil
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

// replaceListed is replaceData for a file with an attribute list: the old
// unnamed $DATA may be in many extents over many records. The new content
// goes to new clusters (or stays resident), its attribute into the base
// record when it fits there, else first into an extension record with
// room or a new one; then one write of the base record switches the list
// (and $STANDARD_INFORMATION's times) from the old extents to the new
// attribute, so that a crash leaves the file with its old content or its
// new one, plus at worst attributes no list names and leaked clusters.
// The old extents are then taken out of their records and their clusters
// freed. A WOF file loses its reparse point and WofCompressedData stream
// the same way.
func (v *Volume) replaceListed(f *file, r io.Reader, size int64, opts *FileOptions) error {
	rpTag := uint32(0)
	if rp := f.extents(attrReparsePoint, ""); len(rp) > 0 {
		if !rp[0].resident || len(rp[0].value) < 4 || binary.LittleEndian.Uint32(rp[0].value) != reparseTagWOF {
			return unsupported("writing to a file with a reparse point (record %d)", f.rec.num)
		}
		rpTag = reparseTagWOF
	}
	wof := rpTag != 0
	var drop []*attribute
	var oldRuns []run
	for _, a := range f.attrs {
		switch {
		case a.typ == attrData && a.name == "":
			if a.flags&(attrFlagCompressed|attrFlagEncrypted) != 0 {
				return unsupported("replacing compressed or encrypted content (record %d)", f.rec.num)
			}
		case wof && (a.typ == attrReparsePoint || a.typ == attrData && a.name == wofStreamName):
		default:
			continue
		}
		drop = append(drop, a)
		if !a.resident {
			oldRuns = append(oldRuns, a.runs...)
		}
	}
	isDropped := func(rec uint64, typ uint32, inst uint16) bool {
		for _, a := range drop {
			if a.rec == rec && a.typ == typ && a.instance == inst {
				return true
			}
		}
		return false
	}
	entries, err := v.attrList(f)
	if err != nil {
		return err
	}
	kept := entries[:0:0]
	for _, e := range entries {
		if !isDropped(e.ref.record(), e.typ, e.instance) {
			kept = append(kept, e)
		}
	}
	// The bytes the base record uses without the dropped attributes, with
	// the list's change of size when it is resident.
	var baseKeep [][]byte
	fixed := int64(binary.LittleEndian.Uint16(f.rec.buf[0x14:])) + 8
	for _, a := range f.rec.attrs {
		if !isDropped(f.rec.num, a.typ, a.instance) {
			baseKeep = append(baseKeep, a.raw)
			fixed += int64(len(a.raw))
		}
	}
	if list := f.rec.find(attrAttributeList, ""); list.resident {
		fixed += int64(len(encodeAttrList(kept)) + 0x20 - len(list.value))
	}
	// The content: resident when it fits the base record, else clusters.
	var dataAttr []byte
	var alloc int64
	if v.fitsResident(fixed, size) {
		data := make([]byte, size)
		if _, err := io.ReadFull(r, data); err != nil {
			return fmt.Errorf("read content: %w", err)
		}
		dataAttr = encodeResident(attrData, "", 0, data, false)
		alloc = align8int64(size)
	} else {
		hint := int64(0)
		if len(oldRuns) > 0 && oldRuns[0].lcn != sparseLCN {
			hint = oldRuns[0].lcn
		}
		runs, a, err := v.writeNewData(r, size, hint)
		if err != nil {
			return err
		}
		dataAttr = encodeNonResident(attrData, "", 0, runs, a, size, size, 0)
		alloc = a
	}
	now := nowFiletime()
	if !opts.Time.IsZero() {
		now = toFiletime(opts.Time)
	}
	// Where the new attribute goes.
	target := f.rec
	if fixed+int64(len(dataAttr)) > int64(len(f.rec.buf)) {
		exts, err := v.extensionRecords(f)
		if err != nil {
			return err
		}
		target = nil
		for _, num := range sortedKeys(exts) {
			if v.recordFree(exts[num]) >= len(dataAttr) {
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
	inst := nextInstance(target)
	setInstance(dataAttr, inst)
	kept = append(kept, listEntry{typ: attrData, ref: fileRef(uint64(target.seq)<<48 | target.num), instance: inst})
	sortList(kept)
	if target != f.rec {
		var raws [][]byte
		for _, a := range target.attrs {
			raws = append(raws, a.raw)
		}
		if err := v.rewriteRecordLinks(target, sortAttrs(append(raws, dataAttr)), 0); err != nil {
			return err
		}
	} else {
		baseKeep = sortAttrs(append(baseKeep, dataAttr))
	}
	// $STANDARD_INFORMATION: modified and changed now; a WOF file's
	// reparse and sparse bits cleared.
	tmp, err := asRecord(baseKeep, f.rec.num)
	if err != nil {
		return err
	}
	if si := tmp.find(attrStandardInformation, ""); si != nil && len(si.value) >= 0x24 {
		val := append([]byte(nil), si.value...)
		binary.LittleEndian.PutUint64(val[0x08:], now)
		binary.LittleEndian.PutUint64(val[0x10:], now)
		if wof {
			binary.LittleEndian.PutUint32(val[0x20:], binary.LittleEndian.Uint32(val[0x20:])&^(fileAttrReparse|fileAttrSparse))
		}
		baseKeep = replaceAttr(tmp, attrStandardInformation, "", encodeResident(attrStandardInformation, "", si.instance, val, false))
	}
	links := 0
	for _, a := range f.attrs {
		if a.typ == attrFileName {
			links++
		}
	}
	exts, err := v.extensionRecords(f)
	if err != nil {
		return err
	}
	ref := fileRef(uint64(f.rec.seq)<<48 | f.rec.num)
	if err := v.writeAttrList(f, kept, baseKeep, links); err != nil {
		return err
	}
	if err := v.purgeAttrs(exts, isDropped); err != nil {
		return err
	}
	if err := v.freeRuns(oldRuns); err != nil {
		return err
	}
	if wof {
		if err := v.removeReparseEntry(rpTag, ref); err != nil {
			return err
		}
	}
	if err := v.reloadFile(f); err != nil {
		return err
	}
	return v.updateNameCopies(f, alloc, size, now, wof)
}

// encodeExtent builds one extent of a non-resident attribute: runs (with
// absolute VCNs) from VCN low. Only the extent at VCN 0 carries the
// sizes; the others have zeros there, as NTFS writes them.
func encodeExtent(typ uint32, name string, instance uint16, runs []run, low, alloc, size, init int64, flags, compUnit uint16) []byte {
	b := encodeNonResident(typ, name, instance, runs, alloc, size, init, flags)
	binary.LittleEndian.PutUint64(b[0x10:], uint64(low))
	binary.LittleEndian.PutUint64(b[0x18:], uint64(runsEnd(runs, low)-1))
	binary.LittleEndian.PutUint16(b[0x22:], compUnit)
	if low != 0 {
		binary.LittleEndian.PutUint64(b[0x28:], 0)
		binary.LittleEndian.PutUint64(b[0x30:], 0)
		binary.LittleEndian.PutUint64(b[0x38:], 0)
	}
	return b
}

// splitExtent cuts a non-resident attribute whose record is longer than
// limit bytes into extents that each fit in limit.
func splitExtent(a *attribute, raw []byte, limit int) ([][]byte, error) {
	if len(raw) <= limit || a.resident {
		return [][]byte{raw}, nil
	}
	if a.lowVCN != 0 {
		return nil, unsupported("splitting an extent that does not start at VCN 0")
	}
	flags := binary.LittleEndian.Uint16(raw[0x0C:])
	compUnit := binary.LittleEndian.Uint16(raw[0x22:])
	header := len(encodeNonResident(a.typ, a.name, 0, nil, 0, 0, 0, 0)) - 8 // without the mapping pairs' end
	var out [][]byte
	runs := a.runs
	for len(runs) > 0 {
		n, size := 0, header+1
		for n < len(runs) {
			one := len(encodeRuns(runs[n:n+1])) - 1
			if align8(size+one) > limit {
				break
			}
			size += one
			n++
		}
		if n == 0 {
			return nil, corrupt(a.off, "MFT record %d: a run does not fit an attribute record", a.rec)
		}
		low := runs[0].vcn
		alloc, dsize, init := a.allocSize, a.dataSize, a.initSize
		out = append(out, encodeExtent(a.typ, a.name, 0, runs[:n], low, alloc, dsize, init, flags, compUnit))
		runs = runs[n:]
	}
	return out, nil
}

// writeWithList writes a file whose attributes (attrs, complete
// attribute records of the base record, no list among them) no longer fit
// its base record: it gets an $ATTRIBUTE_LIST, as Windows makes one.
// $STANDARD_INFORMATION, the list and as many of the other attributes as
// fit, in order, stay in the base record; the rest move to new extension
// records, a run list too long for one record being cut into extents.
// The extension records are written first, then the base record, in one
// write that switches the file to the list: a crash before it leaves
// extension records no base record lists, which Check reports.
func (v *Volume) writeWithList(f *file, attrs [][]byte) error {
	rs := len(f.rec.buf)
	first := int(binary.LittleEndian.Uint16(f.rec.buf[0x14:]))
	capacity := rs - first - 8
	// The pieces, extents cut to fit an empty record.
	type piece struct {
		raw []byte
		a   *attribute
	}
	var pieces []piece
	links := 0
	for _, raw := range attrs {
		a, err := parseAttribute(raw, f.rec.num, -1)
		if err != nil {
			return err
		}
		if a.typ == attrAttributeList {
			return fmt.Errorf("ntfs: MFT record %d already has an attribute list", f.rec.num)
		}
		if a.typ == attrFileName {
			links++
		}
		parts, err := splitExtent(a, raw, capacity)
		if err != nil {
			return err
		}
		for _, p := range parts {
			pa, err := parseAttribute(p, f.rec.num, -1)
			if err != nil {
				return err
			}
			pieces = append(pieces, piece{p, pa})
		}
	}
	// The list's size: one entry per piece.
	listLen := 0
	for _, p := range pieces {
		listLen += align8(0x1A + 2*len(utf16.Encode([]rune(p.a.name))))
	}
	listAttr := align8(0x18 + listLen)
	budget := capacity - listAttr
	if budget < 0 {
		return unsupported("MFT record %d: an attribute list of %d bytes does not fit the record", f.rec.num, listLen)
	}
	// Place: the base record first, in order, then extension records.
	var base, moved []piece
	for _, p := range pieces {
		if p.a.typ == attrStandardInformation || len(p.raw) <= budget && len(moved) == 0 {
			if len(p.raw) > budget {
				return unsupported("MFT record %d: no room for $STANDARD_INFORMATION and the list", f.rec.num)
			}
			base = append(base, p)
			budget -= len(p.raw)
			continue
		}
		moved = append(moved, p)
	}
	var entries []listEntry
	baseRef := fileRef(uint64(f.rec.seq)<<48 | f.rec.num)
	for _, p := range base {
		entries = append(entries, listEntry{typ: p.a.typ, name: p.a.name, lowVCN: p.a.lowVCN, ref: baseRef, instance: p.a.instance})
	}
	// Pack the moved pieces into new extension records.
	for len(moved) > 0 {
		x, err := v.newExtensionRecord(f)
		if err != nil {
			return err
		}
		left := capacity
		var raws [][]byte
		inst := uint16(0)
		for len(moved) > 0 && len(moved[0].raw) <= left {
			c := append([]byte(nil), moved[0].raw...)
			setInstance(c, inst)
			entries = append(entries, listEntry{typ: moved[0].a.typ, name: moved[0].a.name, lowVCN: moved[0].a.lowVCN,
				ref: fileRef(uint64(x.seq)<<48 | x.num), instance: inst})
			raws = append(raws, c)
			left -= len(c)
			inst++
			moved = moved[1:]
		}
		if len(raws) == 0 {
			return unsupported("MFT record %d: an attribute of %d bytes does not fit an extension record", f.rec.num, len(moved[0].raw))
		}
		if err := v.rewriteRecordLinks(x, raws, 0); err != nil {
			return err
		}
	}
	sortList(entries)
	// The base record: its kept attributes and the list, at the next
	// instance.
	raws := make([][]byte, 0, len(base)+1)
	next := uint16(0)
	for _, p := range base {
		raws = append(raws, p.raw)
		next = max(next, p.a.instance+1)
	}
	next = max(next, binary.LittleEndian.Uint16(f.rec.buf[0x28:]))
	raws = append(raws, encodeResident(attrAttributeList, "", next, encodeAttrList(entries), false))
	if err := v.rewriteRecordLinks(f.rec, sortAttrs(raws), links); err != nil {
		return err
	}
	return v.reloadFile(f)
}
