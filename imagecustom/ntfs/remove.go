package ntfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"unicode/utf16"
)

// errNotEmpty reports the removal of a directory that holds entries.
var errNotEmpty = errors.New("directory not empty")

// Remove deletes the named file, or empty directory. For a file with
// several hard links only this name goes; the file goes with its last
// name. Order: index entries, then the record's names, then clusters and
// record freed — a crash leaves an orphan chkdsk recovers, never a name
// pointing at freed space.
func (v *Volume) Remove(name string) error {
	if v.w == nil {
		return &fs.PathError{Op: "remove", Path: name, Err: errReadOnly}
	}
	if name == "." {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrInvalid}
	}
	n, parent, err := v.resolveWithParent("remove", name)
	if err != nil {
		return err
	}
	if n.stream != "" {
		return &fs.PathError{Op: "remove", Path: name, Err: unsupported("removing a named stream")}
	}
	if err := v.unlink(parent, n.f, n.name); err != nil {
		return &fs.PathError{Op: "remove", Path: name, Err: err}
	}
	return nil
}

// RemoveAll deletes name and everything under it. A missing name is not
// an error. Junctions and symbolic links are removed, not followed.
func (v *Volume) RemoveAll(name string) error {
	fi, err := v.Stat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		entries, err := v.ReadDir(name)
		if err != nil {
			return err
		}
		for _, e := range entries {
			child := e.Name()
			if name != "." {
				child = name + "/" + child
			}
			if err := v.RemoveAll(child); err != nil {
				return err
			}
		}
	}
	if name == "." {
		return nil
	}
	return v.Remove(name)
}

// resolveWithParent resolves name and its parent directory.
func (v *Volume) resolveWithParent(op, name string) (*node, *file, error) {
	n, err := v.resolve(op, name)
	if err != nil {
		return nil, nil, err
	}
	dir := "."
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		dir = name[:i]
	}
	p, err := v.resolve(op, dir)
	if err != nil {
		return nil, nil, err
	}
	return n, p.f, nil
}

// namesIn returns the $FILE_NAME values of f in directory dir: the long
// name, and its 8.3 alias if it has one.
func namesIn(f *file, dir uint64, long string) []fileName {
	var out []fileName
	var linkNS uint8 = 0xFF
	for _, fn := range f.names() {
		if fn.parent.record() == dir && fn.String() == long && fn.namespace != namespaceDOS {
			out = append(out, fn)
			linkNS = fn.namespace
		}
	}
	if linkNS == namespaceWin32 {
		for _, fn := range f.names() {
			if fn.parent.record() == dir && fn.namespace == namespaceDOS {
				out = append(out, fn)
			}
		}
	}
	return out
}

// unlink removes f's name long (and its alias) from directory dir, and f
// itself when no name is left.
func (v *Volume) unlink(dir, f *file, long string) error {
	if f.rec.num < recFirstUser {
		return fmt.Errorf("%w: %s is an NTFS system file", fs.ErrPermission, long)
	}
	hasList := f.rec.find(attrAttributeList, "") != nil
	if isDir(f) && !isReparse(f) {
		ix, err := v.openIndex(f)
		if err != nil {
			return err
		}
		if !ix.isEmpty() {
			return errNotEmpty
		}
	}
	names := namesIn(f, dir.rec.num, long)
	if len(names) == 0 {
		return corrupt(f.rec.off, "MFT record %d has no name %q in directory %d", f.rec.num, long, dir.rec.num)
	}
	ix, err := v.openIndex(dir)
	if err != nil {
		return err
	}
	for _, fn := range names {
		if err := ix.remove(fn.name, fn.namespace); err != nil {
			return err
		}
	}
	if hasList {
		// Names may be in extension records: out of the list, then out
		// of their records.
		var drop []*attribute
		left := 0
		for _, a := range f.attrs {
			if a.typ != attrFileName {
				continue
			}
			if fn, err := parseFileName(a.value, a.off); err == nil && isOneOf(fn, names) {
				drop = append(drop, a)
			} else {
				left++
			}
		}
		if left > 0 {
			return v.dropAttrs(f, drop, left)
		}
		return v.freeFile(f)
	}
	// The record without those names.
	var keep [][]byte
	left := 0
	for _, a := range f.rec.attrs {
		if a.typ == attrFileName {
			if fn, err := parseFileName(a.value, a.off); err == nil && isOneOf(fn, names) {
				continue
			}
			left++
		}
		keep = append(keep, a.raw)
	}
	if left > 0 {
		return v.rewriteRecord(f.rec, keep)
	}
	return v.freeFile(f)
}

func isOneOf(fn fileName, names []fileName) bool {
	for _, n := range names {
		if n.namespace == fn.namespace && n.parent == fn.parent && equalUTF16(n.name, fn.name) {
			return true
		}
	}
	return false
}

// freeFile releases a file that has no name left: its clusters, its
// record (not in use, sequence number bumped), its MFT bit, and its
// reparse point's $Extend\$Reparse entry.
func (v *Volume) freeFile(f *file) error {
	var reparseTag uint32
	if rp := f.rec.find(attrReparsePoint, ""); rp != nil && rp.resident && len(rp.value) >= 4 {
		reparseTag = binary.LittleEndian.Uint32(rp.value)
	}
	ref := fileRef(uint64(f.rec.seq)<<48 | f.rec.num)
	var runs []run
	for _, a := range f.attrs {
		if !a.resident {
			runs = append(runs, a.runs...)
		}
	}
	// The record first: once it is free nothing claims the clusters, and
	// a crash leaks them rather than leaving them claimed twice.
	buf := append([]byte(nil), f.rec.buf...)
	flags := binary.LittleEndian.Uint16(buf[0x16:]) &^ (recordInUse | recordDirectory)
	binary.LittleEndian.PutUint16(buf[0x16:], flags)
	seq := binary.LittleEndian.Uint16(buf[0x10:]) + 1
	if seq == 0 {
		seq = 1
	}
	binary.LittleEndian.PutUint16(buf[0x10:], seq)
	if err := v.writeRecord(&record{num: f.rec.num, buf: buf}); err != nil {
		return err
	}
	// Then its extension records, which no base record names any more.
	if f.rec.find(attrAttributeList, "") != nil {
		exts, err := v.extensionRecords(f)
		if err != nil {
			return err
		}
		for _, num := range sortedKeys(exts) {
			if err := v.freeRecord(exts[num]); err != nil {
				return err
			}
		}
	}
	if err := v.freeRuns(runs); err != nil {
		return err
	}
	mft, bm, err := v.mftBitmap()
	if err != nil {
		return err
	}
	if err := v.setRecordBit(mft, bm, f.rec.num, false); err != nil {
		return err
	}
	if reparseTag != 0 {
		return v.removeReparseEntry(reparseTag, ref)
	}
	return nil
}

// Rename moves oldname to newname, within a directory or across
// directories. An existing newname is an error matching [fs.ErrExist]
// unless replace is true, in which case a file (or empty directory) there
// is removed first. A directory cannot move under itself. The new name
// gets an 8.3 alias as [FileOptions.ShortNames] would give it by default.
func (v *Volume) Rename(oldname, newname string, replace bool) error {
	if v.w == nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: errReadOnly}
	}
	linkErr := func(err error) error { return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err} }
	if oldname == "." || newname == "." || oldname == newname {
		return linkErr(fs.ErrInvalid)
	}
	if strings.HasPrefix(newname, oldname+"/") {
		return linkErr(fmt.Errorf("%w: cannot move a directory under itself", fs.ErrInvalid))
	}
	src, srcDir, err := v.resolveWithParent("rename", oldname)
	if err != nil {
		return linkErr(err)
	}
	if src.f.rec.num < recFirstUser {
		return linkErr(fmt.Errorf("%w: NTFS system file", fs.ErrPermission))
	}
	dirPath, base, err := splitPath("rename", newname)
	if err != nil {
		return linkErr(err)
	}
	dst, err := v.resolve("rename", dirPath)
	if err != nil {
		return linkErr(err)
	}
	if !isDir(dst.f) || isReparse(dst.f) {
		return linkErr(errNotDir)
	}
	if _, err := v.Stat(newname); err == nil {
		same := strings.EqualFold(oldname, newname) // a change of case only
		switch {
		case same:
		case !replace:
			return linkErr(fs.ErrExist)
		default:
			if err := v.Remove(newname); err != nil {
				return linkErr(err)
			}
			// Reload: the removal may have changed the directories.
			if src, srcDir, err = v.resolveWithParent("rename", oldname); err != nil {
				return linkErr(err)
			}
			if dst, err = v.resolve("rename", dirPath); err != nil {
				return linkErr(err)
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return linkErr(err)
	}
	if err := v.move(src, srcDir, dst.f, base); err != nil {
		return linkErr(err)
	}
	return nil
}

// move gives f the name base in directory to, and takes away its old
// name in from: the record gets the new names, the new directory's index
// the new entries, then the old entries and names go. A crash in between
// leaves the file with both names, never with none.
func (v *Volume) move(src *node, from, to *file, base string) error {
	f := src.f
	old := namesIn(f, from.rec.num, src.name)
	if len(old) == 0 {
		return corrupt(f.rec.off, "MFT record %d has no name %q in directory %d", f.rec.num, src.name, from.rec.num)
	}
	toIx, err := v.openIndex(to)
	if err != nil {
		return err
	}
	// Same directory, same name ignoring case: only the case changes, so
	// the alias (if any) stays; the long name is replaced in place.
	caseOnly := from.rec.num == to.rec.num && v.upcase.compareNames(utf16.Encode([]rune(src.name)), utf16.Encode([]rune(base))) == 0
	var long []uint16
	var longNS uint8
	var short []uint16
	if caseOnly {
		long, longNS = utf16.Encode([]rune(base)), old[0].namespace
	} else {
		if long, longNS, short, err = v.newNames(toIx, base, &FileOptions{}); err != nil {
			return err
		}
	}
	tmpl := old[0]
	tmpl.parent = fileRef(to.rec.num | uint64(to.rec.seq)<<48)
	tmpl.changed = nowFiletime()
	var added []fileName
	fn := tmpl
	fn.name, fn.namespace = long, longNS
	added = append(added, fn)
	if short != nil {
		fn.name, fn.namespace = short, namespaceDOS
		added = append(added, fn)
	}
	if caseOnly {
		// Out with the old long name first: the index cannot hold both.
		if err := toIx.remove(old[0].name, old[0].namespace); err != nil {
			return err
		}
	}
	if f.rec.find(attrAttributeList, "") != nil {
		return v.moveListed(f, from, to, old, added, caseOnly)
	}
	// 1. The record with both the old and the new names.
	attrs := f.rec.attrs
	var raw [][]byte
	inst := nextInstance(f.rec)
	newAttrs := make([][]byte, 0, len(added))
	for _, n := range added {
		newAttrs = append(newAttrs, encodeResident(attrFileName, "", inst, encodeFileName(n), true))
		inst++
	}
	raw = insertFileNames(attrs, newAttrs, nil)
	if caseOnly {
		raw = insertFileNames(attrs, newAttrs, old[:1])
	}
	if err := v.rewriteRecord(f.rec, raw); err != nil {
		return err
	}
	// 2. The new entries.
	toIx, err = v.openIndex(to)
	if err != nil {
		return err
	}
	ref := fileRef(f.rec.num | uint64(f.rec.seq)<<48)
	for _, n := range added {
		if err := toIx.insert(encodeFileName(n), ref); err != nil {
			return err
		}
	}
	if caseOnly {
		return nil
	}
	// 3. The old entries, 4. the old names. The old directory is read
	// again: when it is the new one too, its index just changed.
	if from, err = v.loadFile(fileRef(from.rec.num)); err != nil {
		return err
	}
	fromIx, err := v.openIndex(from)
	if err != nil {
		return err
	}
	for _, n := range old {
		if err := fromIx.remove(n.name, n.namespace); err != nil {
			return err
		}
	}
	return v.rewriteRecord(f.rec, insertFileNames(f.rec.attrs, nil, old))
}

// moveListed is move for a file with an attribute list, whose names may
// sit in extension records: the new names are added where there is room
// (base record, an extension record, or a new one) and listed, then
// indexed; the old entries and names go last, through the list first. A
// change of case rewrites the name in its own record, keeping its
// instance, so the list stays as it is.
func (v *Volume) moveListed(f, from, to *file, old, added []fileName, caseOnly bool) error {
	links := 0
	for _, a := range f.attrs {
		if a.typ == attrFileName {
			links++
		}
	}
	ref := fileRef(f.rec.num | uint64(f.rec.seq)<<48)
	if caseOnly {
		var a *attribute
		for _, x := range f.attrs {
			if x.typ == attrFileName {
				if fn, err := parseFileName(x.value, x.off); err == nil && isOneOf(fn, old[:1]) {
					a = x
				}
			}
		}
		if a == nil {
			return corrupt(f.rec.off, "MFT record %d: name %q not found", f.rec.num, string(utf16Decode(old[0].name)))
		}
		r := f.rec
		if a.rec != f.rec.num {
			var err error
			if r, err = v.readRecord(a.rec); err != nil {
				return err
			}
		}
		var raws [][]byte
		for _, x := range r.attrs {
			if x.typ == a.typ && x.instance == a.instance {
				raws = append(raws, encodeResident(attrFileName, "", a.instance, encodeFileName(added[0]), true))
				continue
			}
			raws = append(raws, x.raw)
		}
		recLinks := 0
		if r.num == f.rec.num {
			recLinks = links
		}
		if err := v.rewriteRecordLinks(r, sortAttrs(raws), recLinks); err != nil {
			return err
		}
		toIx, err := v.openIndex(to)
		if err != nil {
			return err
		}
		return toIx.insert(encodeFileName(added[0]), ref)
	}
	var raws [][]byte
	for _, n := range added {
		raws = append(raws, encodeResident(attrFileName, "", 0, encodeFileName(n), true))
	}
	if err := v.addAttrs(f, raws, links+len(added)); err != nil {
		return err
	}
	toIx, err := v.openIndex(to)
	if err != nil {
		return err
	}
	for _, n := range added {
		if err := toIx.insert(encodeFileName(n), ref); err != nil {
			return err
		}
	}
	if from, err = v.loadFile(fileRef(from.rec.num)); err != nil {
		return err
	}
	fromIx, err := v.openIndex(from)
	if err != nil {
		return err
	}
	for _, n := range old {
		if err := fromIx.remove(n.name, n.namespace); err != nil {
			return err
		}
	}
	var drop []*attribute
	for _, a := range f.attrs {
		if a.typ == attrFileName {
			if fn, err := parseFileName(a.value, a.off); err == nil && isOneOf(fn, old) {
				drop = append(drop, a)
			}
		}
	}
	return v.dropAttrs(f, drop, links+len(added)-len(drop))
}

// insertFileNames returns attrs' raw records with the $FILE_NAME values
// in drop removed and add inserted, $FILE_NAMEs kept in value order.
func insertFileNames(attrs []*attribute, add [][]byte, drop []fileName) [][]byte {
	var names [][]byte
	var out [][]byte
	pos := -1
	for _, a := range attrs {
		if a.typ == attrFileName {
			if pos < 0 {
				pos = len(out)
			}
			if fn, err := parseFileName(a.value, a.off); err == nil && isOneOf(fn, drop) {
				continue
			}
			names = append(names, a.raw)
			continue
		}
		if pos < 0 && a.typ > attrFileName {
			pos = len(out)
		}
		out = append(out, a.raw)
	}
	if pos < 0 {
		pos = len(out)
	}
	names = append(names, add...)
	sortByValue(names)
	return append(out[:pos], append(names, out[pos:]...)...)
}

// sortByValue orders resident attribute records by their values.
func sortByValue(attrs [][]byte) {
	val := func(a []byte) []byte {
		off := int(binary.LittleEndian.Uint16(a[0x14:]))
		n := int(binary.LittleEndian.Uint32(a[0x10:]))
		return a[off : off+n]
	}
	for i := 1; i < len(attrs); i++ {
		for j := i; j > 0 && compareValues(val(attrs[j-1]), val(attrs[j])) > 0; j-- {
			attrs[j-1], attrs[j] = attrs[j], attrs[j-1]
		}
	}
}

// replaceData replaces the unnamed $DATA of an existing file: the new
// content goes to new clusters (or into the record), the record is
// rewritten to point at it, the old clusters are freed, and the index
// copies of the file's names get the new sizes.
//
// A system-compressed (WOF) file becomes a plain file, as Windows makes
// it when a program writes to one: the same record rewrite drops its
// reparse point and WofCompressedData stream and clears the reparse and
// sparse attribute bits, then the stream's clusters are freed and the
// $Extend\$Reparse entry is removed. A crash in between leaves at worst
// leaked clusters or a stale $R entry, which Check reports.
func (v *Volume) replaceData(f *file, r io.Reader, size int64, opts *FileOptions) error {
	if f.rec.find(attrAttributeList, "") != nil {
		return unsupported("replacing the content of a file with an attribute list (record %d)", f.rec.num)
	}
	if isReparse(f) {
		return unsupported("writing to a reparse point (record %d)", f.rec.num)
	}
	// A WOF file: its reparse point and compressed stream go.
	var wofRuns []run
	wof := false
	if rp := f.rec.find(attrReparsePoint, ""); rp != nil {
		if !rp.resident || len(rp.value) < 4 || binary.LittleEndian.Uint32(rp.value) != reparseTagWOF {
			return unsupported("writing to a file with a reparse point (record %d)", f.rec.num)
		}
		wof = true
		if ws := f.rec.find(attrData, wofStreamName); ws != nil && !ws.resident {
			if ws.lowVCN != 0 {
				return unsupported("MFT record %d: %s in several extents", f.rec.num, wofStreamName)
			}
			wofRuns = ws.runs
		}
	}
	old := f.rec.find(attrData, "")
	var oldRuns []run
	inst := nextInstance(f.rec)
	if old != nil {
		if old.flags&(attrFlagCompressed|attrFlagEncrypted) != 0 {
			return unsupported("replacing compressed or encrypted content (record %d)", f.rec.num)
		}
		inst = old.instance
		if !old.resident {
			oldRuns = old.runs
		}
	}
	base := f.rec
	if wof {
		tmp, err := asRecord(replaceAttr(f.rec, attrReparsePoint, "", nil), f.rec.num)
		if err != nil {
			return err
		}
		if tmp.find(attrData, wofStreamName) != nil {
			if tmp, err = asRecord(replaceAttr(tmp, attrData, wofStreamName, nil), f.rec.num); err != nil {
				return err
			}
		}
		base = tmp
	}
	// The record without $DATA, to see what room a resident value has.
	without := replaceAttr(base, attrData, "", nil)
	fixed := int64(binary.LittleEndian.Uint16(f.rec.buf[0x14:]))
	for _, a := range without {
		fixed += int64(len(a))
	}
	var dataAttr []byte
	var alloc int64
	if v.fitsResident(fixed, size) {
		data := make([]byte, size)
		if _, err := io.ReadFull(r, data); err != nil {
			return fmt.Errorf("read content: %w", err)
		}
		dataAttr = encodeResident(attrData, "", inst, data, false)
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
		dataAttr = encodeNonResident(attrData, "", inst, runs, a, size, size, 0)
		alloc = a
	}
	now := nowFiletime()
	if !opts.Time.IsZero() {
		now = toFiletime(opts.Time)
	}
	attrs := replaceAttr(base, attrData, "", dataAttr)
	// $STANDARD_INFORMATION: modified and changed now.
	if si := f.rec.find(attrStandardInformation, ""); si != nil && len(si.value) >= 0x20 {
		val := append([]byte(nil), si.value...)
		binary.LittleEndian.PutUint64(val[0x08:], now)
		binary.LittleEndian.PutUint64(val[0x10:], now)
		if wof && len(val) >= 0x24 {
			a := binary.LittleEndian.Uint32(val[0x20:]) &^ (fileAttrReparse | fileAttrSparse)
			binary.LittleEndian.PutUint32(val[0x20:], a)
		}
		tmp, err := asRecord(attrs, f.rec.num)
		if err != nil {
			return err
		}
		attrs = replaceAttr(tmp, attrStandardInformation, "", encodeResident(attrStandardInformation, "", si.instance, val, false))
	}
	if err := v.rewriteRecord(f.rec, attrs); err != nil {
		return err
	}
	if err := v.freeRuns(oldRuns); err != nil {
		return err
	}
	if wof {
		if err := v.freeRuns(wofRuns); err != nil {
			return err
		}
		if err := v.removeReparseEntry(reparseTagWOF, fileRef(uint64(f.rec.seq)<<48|f.rec.num)); err != nil {
			return err
		}
	}
	// The index copies of every name: new sizes and times.
	for _, fn := range f.names() {
		dir, err := v.loadFile(fn.parent)
		if err != nil {
			return err
		}
		ix, err := v.openIndex(dir)
		if err != nil {
			return err
		}
		fn.allocSize, fn.dataSize, fn.modified, fn.changed = alloc, size, now, now
		if wof {
			fn.attrs &^= fileAttrReparse | fileAttrSparse
			fn.reparseTag = 0
		}
		if err := ix.updateKey(fn.name, fn.namespace, encodeFileName(fn)); err != nil {
			return err
		}
	}
	return nil
}
