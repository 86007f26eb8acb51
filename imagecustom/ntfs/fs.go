package ntfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"
	"unicode/utf16"
)

// Compile-time checks of the interfaces Volume and File implement.
var (
	_ fs.FS          = (*Volume)(nil)
	_ fs.ReadDirFS   = (*Volume)(nil)
	_ fs.ReadFileFS  = (*Volume)(nil)
	_ fs.StatFS      = (*Volume)(nil)
	_ fs.ReadLinkFS  = (*Volume)(nil)
	_ fs.ReadDirFile = (*File)(nil)
	_ io.ReaderAt    = (*File)(nil)
	_ io.Seeker      = (*File)(nil)
)

// node is a resolved path: the file, the name it was reached by, and the
// stream named after a colon, if any.
type node struct {
	f      *file
	name   string // the long name in the parent's index ("." for the root)
	stream string // named stream, "" for the unnamed $DATA
}

// resolve walks a slash-separated path from the root directory. Every
// component is found by descending its parent's $I30 B+tree. A path that
// crosses a junction or symbolic link fails with ErrReparsePoint; the last
// component may be one. A last component "name:stream" names an
// alternate data stream ("name::$DATA" the unnamed one) unless a file is
// literally called so.
func (v *Volume) resolve(op, name string) (*node, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	root, err := v.loadFile(recRoot)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	n := &node{f: root, name: "."}
	if name == "." {
		return n, nil
	}
	parts := strings.Split(name, "/")
	for i, part := range parts {
		last := i == len(parts)-1
		if isReparse(n.f) {
			return nil, &fs.PathError{Op: op, Path: name, Err: fmt.Errorf("%w: %s", ErrReparsePoint, strings.Join(parts[:i], "/"))}
		}
		ix, err := v.openIndex(n.f)
		if errors.Is(err, errNotDir) {
			return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		if err != nil {
			return nil, &fs.PathError{Op: op, Path: name, Err: err}
		}
		e, ok, err := ix.lookup(utf16.Encode([]rune(part)))
		stream := ""
		if err == nil && !ok && last {
			if base, s, found := strings.Cut(part, ":"); found && base != "" {
				stream = strings.TrimSuffix(s, ":$DATA")
				if stream == "$DATA" {
					stream = ""
				}
				e, ok, err = ix.lookup(utf16.Encode([]rune(base)))
			}
		}
		if err != nil {
			return nil, &fs.PathError{Op: op, Path: name, Err: err}
		}
		if !ok {
			return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		f, err := v.loadFile(e.ref)
		if err != nil {
			return nil, &fs.PathError{Op: op, Path: name, Err: err}
		}
		n = &node{f: f, name: longName(f, n.f.rec.num, e), stream: stream}
	}
	if n.stream != "" && len(n.f.extents(attrData, n.stream)) == 0 {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return n, nil
}

// longName returns the name of f in directory parent: the entry's own
// name, or, when the entry found is an 8.3 alias, the long name it aliases.
func longName(f *file, parent uint64, e indexEntry) string {
	fn, err := parseFileName(e.key, e.off)
	if err != nil {
		return ""
	}
	if fn.namespace != namespaceDOS {
		return fn.String()
	}
	for _, n := range f.names() {
		if n.parent.record() == parent && n.namespace != namespaceDOS {
			return n.String()
		}
	}
	return fn.String()
}

// names returns every $FILE_NAME of the file.
func (f *file) names() []fileName {
	var out []fileName
	for _, a := range f.attrs {
		if a.typ == attrFileName && a.resident {
			if fn, err := parseFileName(a.value, a.off); err == nil {
				out = append(out, fn)
			}
		}
	}
	return out
}

// isDir reports whether the file is a directory (has an $I30 index).
func isDir(f *file) bool { return f.rec.flags&recordDirectory != 0 }

// isReparse reports whether the file is a junction or symbolic link: a
// reparse point whose tag is a name surrogate.
func isReparse(f *file) bool {
	rp := f.extents(attrReparsePoint, "")
	if len(rp) == 0 || !rp[0].resident || len(rp[0].value) < 4 {
		return false
	}
	return binary.LittleEndian.Uint32(rp[0].value)&reparseTagNameSurrogate != 0
}

// Reparse tags.
const (
	reparseTagNameSurrogate = 0x20000000
	reparseTagMountPoint    = 0xA0000003
	reparseTagSymlink       = 0xA000000C
)

// Open opens the named file or directory for reading. Names are
// slash-separated paths from the root, matched without regard to case by
// the volume's $UpCase table; an 8.3 alias matches too. "file:stream"
// opens an alternate data stream. Junctions and symbolic links are not
// followed: opening one returns the link itself (its mode has
// [fs.ModeSymlink]; [Volume.ReadLink] gives its target), and a path
// through one fails with an error matching [ErrReparsePoint].
func (v *Volume) Open(name string) (fs.File, error) {
	n, err := v.resolve("open", name)
	if err != nil {
		return nil, err
	}
	return v.openNode(n, name)
}

func (v *Volume) openNode(n *node, path string) (*File, error) {
	info, err := v.fileInfo(n)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	fl := &File{v: v, n: n, info: info, path: path}
	if !isDir(n.f) || n.stream != "" {
		s, err := v.stream(n.f, attrData, n.stream)
		switch {
		case errors.Is(err, errNoAttribute):
			s = &stream{v: v, resident: true} // a file without $DATA reads as empty
		case err != nil:
			return nil, &fs.PathError{Op: "open", Path: path, Err: err}
		}
		if sc := info.stat.System; sc != nil && n.stream == "" {
			if s, err = v.openWOF(n.f, sc, s); err != nil {
				return nil, &fs.PathError{Op: "open", Path: path, Err: err}
			}
		}
		fl.data = s
	}
	return fl, nil
}

// Stat returns a FileInfo describing the named file. Like Open, it does
// not follow junctions or symbolic links, so it equals [Volume.Lstat].
func (v *Volume) Stat(name string) (fs.FileInfo, error) {
	n, err := v.resolve("stat", name)
	if err != nil {
		return nil, err
	}
	info, err := v.fileInfo(n)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	return info, nil
}

// Lstat returns a FileInfo describing the named file, not following a
// junction or symbolic link.
func (v *Volume) Lstat(name string) (fs.FileInfo, error) { return v.Stat(name) }

// ReadLink returns the target of a junction or symbolic link as Windows
// shows it (its print name, e.g. `C:\Users`).
func (v *Volume) ReadLink(name string) (string, error) {
	n, err := v.resolve("readlink", name)
	if err != nil {
		return "", err
	}
	rp, err := v.reparse(n.f)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	if rp == nil || rp.Tag&reparseTagNameSurrogate == 0 {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return rp.Target, nil
}

// ReadFile reads the named file's content.
func (v *Volume) ReadFile(name string) ([]byte, error) {
	f, err := v.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fl := f.(*File)
	if fl.data == nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errIsDir}
	}
	// Grow with what is read rather than trusting the size on disk for
	// one allocation: a corrupt size cannot exhaust memory.
	b := make([]byte, 0, min(fl.data.size, 64<<20))
	for {
		if len(b) == cap(b) {
			b = slices.Grow(b, int(min(fl.data.size-int64(len(b)), int64(cap(b))+1)))
		}
		n, err := fl.data.ReadAt(b[len(b):cap(b)], int64(len(b)))
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) || int64(len(b)) >= fl.data.size {
			return b, nil
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
	}
}

var errIsDir = errors.New("is a directory")

// ReadDir reads the named directory and returns its entries sorted by
// name. NTFS's own system files ($MFT, $Bitmap…) and 8.3 aliases are not
// listed, though both can be opened by name.
func (v *Volume) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := v.resolve("readdir", name)
	if err != nil {
		return nil, err
	}
	entries, err := v.readDir(n.f)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}

// readDir lists a directory in index order.
func (v *Volume) readDir(dir *file) ([]fs.DirEntry, error) {
	if isReparse(dir) {
		return nil, ErrReparsePoint
	}
	ix, err := v.openIndex(dir)
	if err != nil {
		return nil, err
	}
	var out []fs.DirEntry
	err = ix.walk(func(e indexEntry) error {
		fn, err := parseFileName(e.key, e.off)
		if err != nil {
			return err
		}
		rec := e.ref.record()
		if fn.namespace == namespaceDOS || rec == dir.rec.num || (dir.rec.num == recRoot && rec < recFirstUser) {
			return nil
		}
		out = append(out, &dirEntry{v: v, e: e, fn: fn, parent: dir.rec.num})
		return nil
	})
	return out, err
}

// dirEntry is a directory entry as the parent's index has it.
type dirEntry struct {
	v      *Volume
	e      indexEntry
	fn     fileName
	parent uint64
}

func (d *dirEntry) Name() string { return d.fn.String() }
func (d *dirEntry) IsDir() bool  { return d.Type().IsDir() }

// Type returns the type bits from the index entry's copy of the name.
func (d *dirEntry) Type() fs.FileMode {
	switch {
	case d.fn.attrs&fileAttrReparse != 0 && d.fn.reparseTag&reparseTagNameSurrogate != 0:
		return fs.ModeSymlink
	case d.fn.attrs&fileAttrDirectory != 0:
		return fs.ModeDir
	}
	return 0
}

// Info reads the file's record for its full FileInfo.
func (d *dirEntry) Info() (fs.FileInfo, error) {
	f, err := d.v.loadFile(d.e.ref)
	if err != nil {
		return nil, err
	}
	return d.v.fileInfo(&node{f: f, name: d.Name()})
}

func (d *dirEntry) String() string { return fs.FormatDirEntry(d) }

// File is an open file, directory or stream of a [Volume]. Reads are
// served from the volume; ReadAt is safe for concurrent use.
type File struct {
	v    *Volume
	n    *node
	path string
	info *fileInfo
	data *stream // nil for a directory
	off  int64   // Read/Seek position

	list []fs.DirEntry // directory entries not yet returned by ReadDir
	read bool          // ReadDir has loaded list

	// buf caches the stream from byte bufOff on, so that small sequential
	// Reads do not each reach the device.
	buf    []byte
	bufOff int64
}

// readBufferSize is the span File.Read fetches at once for small reads.
const readBufferSize = 64 << 10

// Stat returns the file's FileInfo.
func (fl *File) Stat() (fs.FileInfo, error) { return fl.info, nil }

// Read reads from the current position.
func (fl *File) Read(p []byte) (int, error) {
	if fl.data == nil {
		return 0, &fs.PathError{Op: "read", Path: fl.path, Err: errIsDir}
	}
	if fl.off >= fl.data.size {
		return 0, io.EOF
	}
	if len(p) >= readBufferSize {
		n, err := fl.data.ReadAt(p, fl.off)
		fl.off += int64(n)
		if errors.Is(err, io.EOF) && n > 0 {
			err = nil
		}
		return n, err
	}
	if fl.off < fl.bufOff || fl.off >= fl.bufOff+int64(len(fl.buf)) {
		if fl.buf == nil {
			fl.buf = make([]byte, readBufferSize)
		}
		fl.buf = fl.buf[:cap(fl.buf)]
		n, err := fl.data.ReadAt(fl.buf, fl.off)
		if err != nil && !errors.Is(err, io.EOF) {
			fl.buf = fl.buf[:0]
			return 0, err
		}
		fl.buf, fl.bufOff = fl.buf[:n], fl.off
	}
	n := copy(p, fl.buf[fl.off-fl.bufOff:])
	fl.off += int64(n)
	return n, nil
}

// ReadAt reads len(p) bytes at off, as [io.ReaderAt].
func (fl *File) ReadAt(p []byte, off int64) (int, error) {
	if fl.data == nil {
		return 0, &fs.PathError{Op: "read", Path: fl.path, Err: errIsDir}
	}
	return fl.data.ReadAt(p, off)
}

// Seek sets the position of the next Read, as [io.Seeker].
func (fl *File) Seek(offset int64, whence int) (int64, error) {
	var size int64
	if fl.data != nil {
		size = fl.data.size
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += fl.off
	case io.SeekEnd:
		offset += size
	default:
		return 0, &fs.PathError{Op: "seek", Path: fl.path, Err: fs.ErrInvalid}
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: fl.path, Err: fs.ErrInvalid}
	}
	fl.off = offset
	return offset, nil
}

// Close closes the file. It holds no resources; Close never fails.
func (fl *File) Close() error { return nil }

// ReadDir reads the directory's entries in index order, as
// [fs.ReadDirFile]: n > 0 returns at most n entries and io.EOF at the end.
func (fl *File) ReadDir(n int) ([]fs.DirEntry, error) {
	if fl.data != nil || !isDir(fl.n.f) {
		return nil, &fs.PathError{Op: "readdir", Path: fl.path, Err: errNotDir}
	}
	if !fl.read {
		list, err := fl.v.readDir(fl.n.f)
		if err != nil {
			return nil, &fs.PathError{Op: "readdir", Path: fl.path, Err: err}
		}
		fl.list, fl.read = list, true
	}
	if n <= 0 {
		list := fl.list
		fl.list = nil
		return list, nil
	}
	if len(fl.list) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(fl.list))
	list := fl.list[:n]
	fl.list = fl.list[n:]
	return list, nil
}

// FileStat is what the [fs.FileInfo] of a volume's file returns from Sys:
// the NTFS details of the file.
type FileStat struct {
	Record     uint64    // MFT record number of the base record
	Sequence   uint16    // its sequence number
	Links      int       // hard link count ($FILE_NAME attributes, an 8.3 pair counting 2)
	Attributes uint32    // Windows file attributes ($STANDARD_INFORMATION): 0x1 read-only, 0x2 hidden, 0x4 system, 0x20 archive, 0x200 sparse, 0x400 reparse point, 0x800 compressed
	SecurityID uint32    // index of its security descriptor in $Secure, 0 if it has its own
	Created    time.Time // $STANDARD_INFORMATION times, UTC
	Modified   time.Time // content last written
	Changed    time.Time // MFT record last changed
	Accessed   time.Time // last access
	Name       string    // the long name it was opened by
	ShortName  string    // its 8.3 alias in the same directory, "" if none
	Names      []Name    // every name, in every directory
	Streams    []Stream  // every $DATA stream, the unnamed one first
	Reparse    *Reparse  // the reparse point, nil if none
	// System is set for a file the Windows Overlay Filter serves (reparse
	// tag 0x80000017): a system-compressed file, whose content this
	// package decodes from its WofCompressedData stream, or a WIMBoot one.
	System *SystemCompression
}

// Name is one $FILE_NAME of a file.
type Name struct {
	Parent    uint64 // MFT record of the directory
	Name      string
	Namespace uint8 // 0 POSIX, 1 Win32, 2 DOS (8.3), 3 Win32 and DOS
}

// Stream describes a $DATA stream.
type Stream struct {
	Name        string // "" for the unnamed stream
	Size        int64
	Allocated   int64
	Initialized int64 // bytes past this read as zeros
	Resident    bool  // held in the MFT record
	Sparse      bool
	Compressed  bool
	Encrypted   bool
	Runs        []Run // where the clusters are; nil if resident
}

// Run maps Length clusters from virtual cluster VCN of a stream to
// logical cluster LCN of the volume; LCN is -1 for a sparse run (a hole).
type Run struct {
	VCN, LCN, Length int64
}

// Reparse describes a reparse point.
type Reparse struct {
	Tag        uint32 // 0xA0000003 junction, 0xA000000C symbolic link, others as Microsoft assigns
	Target     string // the print name of a junction or link, e.g. `C:\Users`; "" for other tags
	Substitute string // the substitute name, e.g. `\??\C:\Users`
	Relative   bool   // a symbolic link relative to its directory
	Data       []byte // the whole reparse buffer
}

// fileInfo implements fs.FileInfo.
type fileInfo struct {
	name string
	size int64
	mode fs.FileMode
	mod  time.Time
	stat *FileStat
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.size }
func (fi *fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi *fileInfo) ModTime() time.Time { return fi.mod }
func (fi *fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi *fileInfo) Sys() any           { return fi.stat }
func (fi *fileInfo) String() string     { return fs.FormatFileInfo(fi) }

// fileInfo builds the FileInfo of a resolved node.
func (v *Volume) fileInfo(n *node) (*fileInfo, error) {
	f := n.f
	si := f.extents(attrStandardInformation, "")
	if len(si) == 0 || !si[0].resident {
		return nil, corrupt(f.rec.off, "MFT record %d: no $STANDARD_INFORMATION", f.rec.num)
	}
	std, err := parseStandardInformation(si[0].value, si[0].off)
	if err != nil {
		return nil, err
	}
	st := &FileStat{
		Record:     f.rec.num,
		Sequence:   f.rec.seq,
		Links:      int(f.rec.links),
		Attributes: std.attrs,
		SecurityID: std.securityID,
		Created:    filetime(std.created),
		Modified:   filetime(std.modified),
		Changed:    filetime(std.changed),
		Accessed:   filetime(std.accessed),
		Name:       n.name,
	}
	names := f.names()
	var parent uint64
	for _, fn := range names {
		st.Names = append(st.Names, Name{Parent: fn.parent.record(), Name: fn.String(), Namespace: fn.namespace})
		if fn.String() == n.name {
			parent = fn.parent.record()
		}
	}
	for _, fn := range names {
		if fn.namespace == namespaceDOS && fn.parent.record() == parent {
			st.ShortName = fn.String()
		}
	}
	for _, a := range f.attrs {
		if a.typ != attrData || (!a.resident && a.lowVCN != 0) {
			continue
		}
		s, err := v.stream(f, attrData, a.name)
		if err != nil {
			return nil, err
		}
		st.Streams = append(st.Streams, streamInfo(a.name, s))
	}
	slices.SortStableFunc(st.Streams, func(a, b Stream) int { return strings.Compare(a.Name, b.Name) })
	if st.Reparse, err = v.reparse(f); err != nil {
		return nil, err
	}
	if st.System, err = v.wofInfo(f); err != nil {
		return nil, err
	}
	fi := &fileInfo{name: n.name, mod: st.Modified, stat: st, mode: 0o644}
	if n.name == "." {
		fi.name = "."
	}
	if std.attrs&fileAttrReadOnly != 0 {
		fi.mode = 0o444
	}
	switch {
	case n.stream != "":
		for _, s := range st.Streams {
			if s.Name == n.stream {
				fi.size = s.Size
			}
		}
		fi.name += ":" + n.stream
	case isReparse(f):
		fi.mode |= fs.ModeSymlink
	case isDir(f):
		fi.mode |= fs.ModeDir | 0o111
	default:
		if len(st.Streams) > 0 && st.Streams[0].Name == "" {
			fi.size = st.Streams[0].Size
		}
	}
	return fi, nil
}

func streamInfo(name string, s *stream) Stream {
	out := Stream{Name: name, Size: s.size, Allocated: s.allocSize, Initialized: s.initSize,
		Resident: s.resident, Sparse: s.sparse, Compressed: s.compressed, Encrypted: s.encrypted}
	for _, r := range s.runs {
		out.Runs = append(out.Runs, Run{VCN: r.vcn, LCN: r.lcn, Length: r.length})
	}
	return out
}

// reparse decodes a file's reparse point, nil if it has none.
func (v *Volume) reparse(f *file) (*Reparse, error) {
	ext := f.extents(attrReparsePoint, "")
	if len(ext) == 0 {
		return nil, nil
	}
	b, err := v.readAll(f, attrReparsePoint, "", 16<<10)
	if err != nil {
		return nil, err
	}
	if len(b) < 8 {
		return nil, corrupt(ext[0].off, "MFT record %d: reparse point of %d bytes", f.rec.num, len(b))
	}
	rp := &Reparse{Tag: binary.LittleEndian.Uint32(b), Data: b}
	var buf int
	switch rp.Tag {
	case reparseTagMountPoint:
		buf = 16
	case reparseTagSymlink:
		buf = 20
	default:
		return rp, nil
	}
	if len(b) < buf {
		return nil, corrupt(ext[0].off, "MFT record %d: reparse point of %d bytes", f.rec.num, len(b))
	}
	field := func(at int) (string, error) {
		o := buf + int(binary.LittleEndian.Uint16(b[at:]))
		n := int(binary.LittleEndian.Uint16(b[at+2:]))
		if o+n > len(b) || n%2 != 0 {
			return "", corrupt(ext[0].off, "MFT record %d: reparse point name out of bounds", f.rec.num)
		}
		return decodeUTF16(b[o : o+n]), nil
	}
	if rp.Substitute, err = field(8); err != nil {
		return nil, err
	}
	if rp.Target, err = field(12); err != nil {
		return nil, err
	}
	if rp.Tag == reparseTagSymlink {
		rp.Relative = binary.LittleEndian.Uint32(b[16:])&1 != 0
	}
	return rp, nil
}
