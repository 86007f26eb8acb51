package ntfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf16"
)

// FileOptions tunes how [Volume.WriteFile] and [Volume.Mkdir] create files.
// The zero value gives what Windows would: a sibling's security
// descriptor, the archive attribute on files, 8.3 aliases when the volume
// uses them, the current time.
type FileOptions struct {
	// SecurityFrom names a file whose security descriptor (its $Secure
	// security_id) the new file shares, e.g. "Windows/System32/autochk.exe"
	// for its replacement. By default a new file shares that of a file in
	// the same directory, or else the directory's own.
	SecurityFrom string
	// Attributes are the Windows attribute bits of a new file (0x20,
	// archive, when zero; directories get none by default).
	Attributes uint32
	// ShortNames decides 8.3 aliases: ShortNamesAuto (the default) makes
	// them when the volume already has some in its root directory.
	ShortNames ShortNames
	// Time stamps the new file (and its directory's change time); the
	// current time when zero.
	Time time.Time
}

// ShortNames says whether new files get 8.3 aliases.
type ShortNames int

// ShortNames values.
const (
	ShortNamesAuto   ShortNames = iota // as the volume's root directory does
	ShortNamesAlways                   // like Windows with 8.3 name creation on
	ShortNamesNever                    // like Windows with it off: no aliases (a legal 8.3 name still takes namespace 3)
)

// Name validation: what Win32 forbids in a file name.
const maxNameLen = 255

func validName(name string) error {
	u := utf16.Encode([]rune(name))
	switch {
	case name == "", name == ".", name == "..":
		return fmt.Errorf("invalid file name %q", name)
	case len(u) > maxNameLen:
		return fmt.Errorf("file name of %d UTF-16 code units is over %d", len(u), maxNameLen)
	case strings.HasSuffix(name, " ") || strings.HasSuffix(name, "."):
		return fmt.Errorf("file name %q ends with a space or a dot, which Windows cannot open", name)
	}
	for _, r := range name {
		if r < 0x20 || strings.ContainsRune(`\/:*?"<>|`, r) {
			return fmt.Errorf("file name %q holds %q, which Windows forbids", name, r)
		}
	}
	return nil
}

// splitPath validates a volume path for creation and returns the parent
// directory's path and the new name.
func splitPath(op, name string) (dir, base string, err error) {
	if !fs.ValidPath(name) || name == "." {
		return "", "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	dir, base = path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		dir = "."
	}
	if err := validName(base); err != nil {
		return "", "", &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("%w: %v", fs.ErrInvalid, err)}
	}
	return dir, base, nil
}

// WriteFile creates the named file with data, or replaces the content of
// an existing one (keeping its names, security and other streams). Its
// parent directory must exist. See [FileOptions] for what a new file gets.
func (v *Volume) WriteFile(name string, data []byte, opts *FileOptions) error {
	return v.WriteFrom(name, bytes.NewReader(data), int64(len(data)), opts)
}

// WriteFrom is [Volume.WriteFile] for a content of size bytes read from r,
// written straight to the volume's clusters: memory stays small whatever
// the size.
func (v *Volume) WriteFrom(name string, r io.Reader, size int64, opts *FileOptions) error {
	if v.w == nil {
		return &fs.PathError{Op: "write", Path: name, Err: errReadOnly}
	}
	if opts == nil {
		opts = &FileOptions{}
	}
	dirPath, base, err := splitPath("write", name)
	if err != nil {
		return err
	}
	parent, err := v.resolve("write", dirPath)
	if err != nil {
		return err
	}
	if !isDir(parent.f) || isReparse(parent.f) {
		return &fs.PathError{Op: "write", Path: name, Err: fmt.Errorf("%s is not a directory", dirPath)}
	}
	ix, err := v.openIndex(parent.f)
	if err != nil {
		return &fs.PathError{Op: "write", Path: name, Err: err}
	}
	if e, ok, err := ix.lookup(utf16.Encode([]rune(base))); err != nil {
		return &fs.PathError{Op: "write", Path: name, Err: err}
	} else if ok {
		f, err := v.loadFile(e.ref)
		if err != nil {
			return &fs.PathError{Op: "write", Path: name, Err: err}
		}
		if isDir(f) {
			return &fs.PathError{Op: "write", Path: name, Err: errIsDir}
		}
		if err := v.replaceData(f, r, size, opts); err != nil {
			return &fs.PathError{Op: "write", Path: name, Err: err}
		}
		return nil
	}
	if err := v.create(parent.f, ix, base, r, size, false, opts); err != nil {
		return &fs.PathError{Op: "write", Path: name, Err: err}
	}
	return nil
}

// Mkdir creates a directory. Its parent must exist; an existing name is an
// error matching [fs.ErrExist].
func (v *Volume) Mkdir(name string, opts *FileOptions) error {
	if v.w == nil {
		return &fs.PathError{Op: "mkdir", Path: name, Err: errReadOnly}
	}
	if opts == nil {
		opts = &FileOptions{}
	}
	dirPath, base, err := splitPath("mkdir", name)
	if err != nil {
		return err
	}
	parent, err := v.resolve("mkdir", dirPath)
	if err != nil {
		return err
	}
	if !isDir(parent.f) || isReparse(parent.f) {
		return &fs.PathError{Op: "mkdir", Path: name, Err: fmt.Errorf("%s is not a directory", dirPath)}
	}
	ix, err := v.openIndex(parent.f)
	if err != nil {
		return &fs.PathError{Op: "mkdir", Path: name, Err: err}
	}
	if err := v.create(parent.f, ix, base, nil, 0, true, opts); err != nil {
		return &fs.PathError{Op: "mkdir", Path: name, Err: err}
	}
	return nil
}

// MkdirAll creates a directory and any missing parents; existing
// directories on the way are fine.
func (v *Volume) MkdirAll(name string, opts *FileOptions) error {
	if name == "." {
		return nil
	}
	if !fs.ValidPath(name) {
		return &fs.PathError{Op: "mkdir", Path: name, Err: fs.ErrInvalid}
	}
	parts := strings.Split(name, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		fi, err := v.Stat(p)
		switch {
		case err == nil && fi.IsDir():
			continue
		case err == nil:
			return &fs.PathError{Op: "mkdir", Path: p, Err: errNotDir}
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
		if err := v.Mkdir(p, opts); err != nil {
			return err
		}
	}
	return nil
}

// usesShortNames decides whether new names get 8.3 aliases.
func (v *Volume) usesShortNames(opts *FileOptions) (bool, error) {
	switch opts.ShortNames {
	case ShortNamesAlways:
		return true, nil
	case ShortNamesNever:
		return false, nil
	}
	if v.shortNames != 0 {
		return v.shortNames > 0, nil
	}
	root, err := v.loadFile(recRoot)
	if err != nil {
		return false, err
	}
	ix, err := v.openIndex(root)
	if err != nil {
		return false, err
	}
	found := false
	errStop := errors.New("stop")
	err = ix.walk(func(e indexEntry) error {
		if fn, err := parseFileName(e.key, e.off); err == nil && fn.namespace == namespaceDOS {
			found = true
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return false, err
	}
	v.shortNames = -1
	if found {
		v.shortNames = 1
	}
	return found, nil
}

// securityFor picks the security_id of a new file in dir.
func (v *Volume) securityFor(dir *file, ix *dirIndex, wantDir bool, opts *FileOptions) (uint32, error) {
	if opts.SecurityFrom != "" {
		n, err := v.resolve("stat", opts.SecurityFrom)
		if err != nil {
			return 0, fmt.Errorf("security template: %w", err)
		}
		si, err := stdInfo(n.f)
		if err != nil {
			return 0, err
		}
		if si.securityID == 0 {
			return 0, unsupported("security template %s has its own security descriptor, not a shared one", opts.SecurityFrom)
		}
		return si.securityID, nil
	}
	// The first sibling of the same kind got what Windows' inheritance
	// gives; take its security_id (one record read, whatever the size of
	// the directory).
	var id uint32
	errStop := errors.New("stop")
	err := ix.walk(func(e indexEntry) error {
		fn, err := parseFileName(e.key, e.off)
		if err != nil || fn.namespace == namespaceDOS || (fn.attrs&fileAttrDirectory != 0) != wantDir ||
			fn.attrs&fileAttrReparse != 0 || e.ref.record() < recFirstUser {
			return nil
		}
		if f, err := v.loadFile(e.ref); err == nil {
			if si, err := stdInfo(f); err == nil {
				id = si.securityID
			}
		}
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return 0, err
	}
	if id != 0 {
		return id, nil
	}
	si, err := stdInfo(dir)
	if err != nil {
		return 0, err
	}
	return si.securityID, nil
}

// stdInfo decodes a file's $STANDARD_INFORMATION.
func stdInfo(f *file) (standardInformation, error) {
	ext := f.extents(attrStandardInformation, "")
	if len(ext) == 0 || !ext[0].resident {
		return standardInformation{}, corrupt(f.rec.off, "MFT record %d: no $STANDARD_INFORMATION", f.rec.num)
	}
	return parseStandardInformation(ext[0].value, ext[0].off)
}

// names picks the $FILE_NAME namespaces and the 8.3 alias of a new name.
func (v *Volume) newNames(ix *dirIndex, base string, opts *FileOptions) (long []uint16, longNS uint8, short []uint16, err error) {
	long = utf16.Encode([]rune(base))
	// A name that is already a legal 8.3 name is its own short name:
	// Windows stores it once, in the Win32 and DOS namespace, whether or
	// not the volume makes aliases (Carrier, File System Forensic
	// Analysis, ch. 13 "$FILE_NAME"; unverified here for volumes with 8.3
	// creation off).
	if isLegalDOSName(base) {
		return long, namespaceWin32DOS, nil, nil
	}
	use, err := v.usesShortNames(opts)
	if err != nil {
		return nil, 0, nil, err
	}
	if !use {
		return long, namespaceWin32, nil, nil
	}
	var lookupErr error
	alias, err := generateDOSName(base, func(cand string) bool {
		_, ok, err := ix.lookup(utf16.Encode([]rune(cand)))
		if err != nil {
			lookupErr = err
		}
		return ok || err != nil
	})
	if lookupErr != nil {
		return nil, 0, nil, lookupErr
	}
	if err != nil {
		return nil, 0, nil, err
	}
	return long, namespaceWin32, utf16.Encode([]rune(alias)), nil
}

// maxResident is a bound on resident data: a value that leaves the record
// at most three quarters full, so the record keeps room to grow.
func (v *Volume) fitsResident(fixed, size int64) bool {
	return fixed+align8int64(0x18+size)+8 <= int64(v.boot.recordSize)*3/4
}

func align8int64(n int64) int64 { return (n + 7) &^ 7 }

// create makes a new file or directory named base in dir.
func (v *Volume) create(dir *file, ix *dirIndex, base string, r io.Reader, size int64, isDirectory bool, opts *FileOptions) (err error) {
	now := nowFiletime()
	if !opts.Time.IsZero() {
		now = toFiletime(opts.Time)
	}
	long, longNS, short, err := v.newNames(ix, base, opts)
	if err != nil {
		return err
	}
	secID, err := v.securityFor(dir, ix, isDirectory, opts)
	if err != nil {
		return err
	}
	attrs := opts.Attributes
	if attrs == 0 && !isDirectory {
		attrs = 0x20 // archive
	}
	fileAttrs := attrs
	if isDirectory {
		fileAttrs |= fileAttrDirectory
	}
	// Content first: clusters are written before the record points at them.
	var dataAttr []byte
	var allocSize int64
	fixed := int64(0x38 + 0x60 + align8(0x18+0x42+2*len(long)))
	if short != nil {
		fixed += int64(align8(0x18 + 0x42 + 2*len(short)))
	}
	instance := uint16(0)
	next := func() uint16 { instance++; return instance - 1 }
	si := encodeResident(attrStandardInformation, "", next(), encodeStandardInformation(now, attrs, secID), false)
	fnBase := fileName{parent: fileRef(dir.rec.num | uint64(dir.rec.seq)<<48), created: now, modified: now,
		changed: now, accessed: now, attrs: fileAttrs}
	var fnVals [][]byte
	{
		fn := fnBase
		fn.name, fn.namespace = long, longNS
		fnVals = append(fnVals, encodeFileName(fn))
		if short != nil {
			fn.name, fn.namespace = short, namespaceDOS
			fnVals = append(fnVals, encodeFileName(fn))
		}
	}
	if !isDirectory {
		if v.fitsResident(fixed, size) {
			data := make([]byte, size)
			if _, err := io.ReadFull(r, data); err != nil {
				return fmt.Errorf("read content: %w", err)
			}
			allocSize = align8int64(size)
			dataAttr = encodeResident(attrData, "", 0, data, false)
		} else {
			runs, alloc, err := v.writeNewData(r, size, 0)
			if err != nil {
				return err
			}
			allocSize = alloc
			dataAttr = encodeNonResident(attrData, "", 0, runs, alloc, size, size, 0)
		}
	}
	// The record number last, so that running out of clusters leaves
	// nothing behind; from here on a failure is undone.
	var dataRuns []run
	if dataAttr != nil && dataAttr[8] != 0 {
		if a, err := parseAttribute(dataAttr, 0, -1); err == nil {
			dataRuns = a.runs
		}
	}
	num, err := v.allocRecord()
	if err != nil {
		v.freeRuns(dataRuns)
		return err
	}
	written := false
	var indexed []indexEntry
	defer func() {
		if err == nil {
			return
		}
		// Undo in reverse: index entries, record, MFT bit, clusters.
		for _, e := range indexed {
			if fn, perr := parseFileName(e.key, -1); perr == nil {
				ix.remove(fn.name, fn.namespace)
			}
		}
		if written {
			if f, lerr := v.loadFile(fileRef(num)); lerr == nil {
				buf := append([]byte(nil), f.rec.buf...)
				buf[0x16] &^= recordInUse | recordDirectory
				v.writeRecord(&record{num: num, buf: buf})
			}
		}
		if mft, bm, berr := v.mftBitmap(); berr == nil {
			v.setRecordBit(mft, bm, num, false)
		}
		v.freeRuns(dataRuns)
	}()
	old, err := v.readRawRecord(num)
	if err != nil {
		return err
	}
	seq, usn := old.seq, old.usn
	if seq == 0 {
		seq = 1
	}
	b := v.newRecordHeader(num, seq, usn, isDirectory)
	ref := fileRef(num | uint64(seq)<<48)
	// Sizes in the $FILE_NAME copies.
	for i := range fnVals {
		fn, _ := parseFileName(fnVals[i], -1)
		fn.allocSize, fn.dataSize = allocSize, size
		fnVals[i] = encodeFileName(fn)
	}
	slices.SortFunc(fnVals, compareValues)
	list := [][]byte{si}
	for _, val := range fnVals {
		list = append(list, encodeResident(attrFileName, "", next(), val, true))
	}
	var entries []indexEntry
	if isDirectory {
		tmp := &dirIndex{v: v, attr: "$I30", blockSize: v.boot.indexBlockSize}
		list = append(list, encodeResident(attrIndexRoot, "$I30", next(),
			tmp.indexRootValue([]indexEntry{{flags: entryLast, child: -1}}), false))
	} else {
		setInstance(dataAttr, next())
		list = append(list, dataAttr)
	}
	if err = v.setAttributes(b, list); err != nil {
		return err
	}
	rec := &record{num: num, off: -1, buf: b}
	if err = v.writeRecord(rec); err != nil {
		return err
	}
	written = true
	// Then the directory's index: the long name, and the alias.
	for _, val := range fnVals {
		entries = append(entries, indexEntry{ref: ref, key: val})
	}
	for _, e := range entries {
		if err = ix.insert(e.key, e.ref); err != nil {
			return err
		}
		indexed = append(indexed, e)
	}
	return nil
}

// compareValues orders two resident attribute values as NTFS orders
// same-type indexed attributes: by their bytes, then by length.
func compareValues(a, b []byte) int { return bytes.Compare(a, b) }

// setInstance sets an encoded attribute's instance number.
func setInstance(a []byte, instance uint16) {
	a[0x0E], a[0x0F] = byte(instance), byte(instance>>8)
}

// rawRecord is what a record slot holds before it is reused.
type rawRecord struct {
	seq, usn uint16
}

// readRawRecord reads the sequence and update sequence numbers of a free
// record slot, which a new record continues (0 when the slot was never
// formatted).
func (v *Volume) readRawRecord(num uint64) (rawRecord, error) {
	rs := int64(v.boot.recordSize)
	b := make([]byte, 0x32)
	if _, err := v.mft.ReadAt(b, int64(num)*rs); err != nil {
		return rawRecord{}, err
	}
	if string(b[:4]) != "FILE" {
		return rawRecord{}, nil
	}
	var rr rawRecord
	rr.seq = uint16(b[0x10]) | uint16(b[0x11])<<8
	if usaOff := int(b[4]) | int(b[5])<<8; usaOff+2 <= len(b) {
		rr.usn = uint16(b[usaOff]) | uint16(b[usaOff+1])<<8
	}
	return rr, nil
}

// writeNewData allocates clusters for size bytes from VCN vcn, writes the
// content read from r into them (the tail of the last cluster zeroed), and
// returns the runs and the allocated size. The clusters are marked in
// $Bitmap before anything is written to them.
func (v *Volume) writeNewData(r io.Reader, size, hint int64) ([]run, int64, error) {
	cs := v.boot.clusterSize
	n := (size + cs - 1) / cs
	runs, err := v.allocClusters(n, 0, hint)
	if err != nil {
		return nil, 0, err
	}
	buf := make([]byte, min(n*cs, 1<<20))
	left := size
	for _, rn := range runs {
		off := rn.lcn * cs
		end := off + rn.length*cs
		for off < end {
			chunk := buf[:min(int64(len(buf)), end-off)]
			want := min(int64(len(chunk)), max(left, 0))
			if _, err := io.ReadFull(r, chunk[:want]); err != nil {
				v.freeRuns(runs)
				return nil, 0, fmt.Errorf("read content: %w", err)
			}
			clear(chunk[want:])
			if _, err := v.w.WriteAt(chunk, off); err != nil {
				v.freeRuns(runs)
				return nil, 0, fmt.Errorf("ntfs: write %d bytes at byte %d: %w", len(chunk), off, err)
			}
			left -= want
			off += int64(len(chunk))
		}
	}
	return runs, n * cs, nil
}
