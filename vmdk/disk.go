package vmdk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// Options tunes [Open].
type Options struct {
	// Write opens the disk for writing. Parents of a delta disk are always
	// opened read-only.
	Write bool
	// AllowUnclean opens a sparse disk whose uncleanShutdown flag is set.
	AllowUnclean bool
	// OpenFile opens the disk's host files: its descriptor, its extents and
	// its parents' files. Nil means [os.OpenFile]. A caller that journals
	// or overlays writes interposes here; with it set, the descriptor file
	// is rewritten in place instead of replaced by a rename.
	OpenFile func(name string, flag int) (File, error)
}

// File is a host file of a disk, as [Options.OpenFile] returns it.
// [*os.File] implements it.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	Stat() (fs.FileInfo, error)
	Truncate(size int64) error
	Sync() error
}

func (o *Options) openFile(name string, flag int) (File, error) {
	if o.OpenFile != nil {
		return o.OpenFile(name, flag)
	}
	f, err := os.OpenFile(name, flag, 0)
	if err != nil {
		return nil, err // a nil *os.File must not become a non-nil File
	}
	return f, nil
}

// Disk is an open VMDK virtual disk: an [io.ReaderAt] over its whole
// capacity (falling through to its parent where a delta disk has no
// data), and an [io.WriterAt] when opened for writing. ReadAt is safe for
// concurrent use; writes are serialized.
type Disk struct {
	path     string
	opts     Options
	desc     *Descriptor
	embedded bool // the descriptor lives in the first sparse extent
	extents  []*extent
	parent   *Disk
	size     int64
	write    bool

	wmu     sync.Mutex
	touched bool // the first write has marked the disk unclean and bumped its CID
}

// extent is one extent of a disk, placed at start in the virtual disk.
type extent struct {
	line   Extent
	start  int64 // byte offset in the virtual disk
	size   int64 // bytes
	sparse *sparseExtent
	flat   File
	offset int64 // FLAT: byte offset of the extent in its file
	file   File
	name   string // host file path
}

// maxChain bounds a delta disk chain, so that a loop through differing
// paths cannot recurse without end.
const maxChain = 256

// Open opens the disk whose descriptor, or monolithic sparse file, is at
// path.
func Open(path string, opts *Options) (*Disk, error) {
	if opts == nil {
		opts = &Options{}
	}
	return open(path, opts, map[string]bool{})
}

func open(path string, opts *Options, seen map[string]bool) (d *Disk, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if seen[abs] || len(seen) >= maxChain {
		return nil, fmt.Errorf("%w: %s appears twice in the chain of parents (or the chain is over %d disks)", ErrChain, path, maxChain)
	}
	seen[abs] = true
	d = &Disk{path: path, opts: *opts, write: opts.Write}
	opened := d // d is nil once an error is returned
	defer func() {
		if err != nil {
			opened.Close()
		}
	}()
	flag := os.O_RDONLY
	if opts.Write {
		flag = os.O_RDWR
	}
	f, err := opts.openFile(path, flag)
	if err != nil {
		return nil, err
	}
	head := make([]byte, sectorSize)
	n, _ := f.ReadAt(head, 0)
	switch {
	case n >= 4 && string(head[:4]) == sparseMagic:
		se, err := openSparse(f, path)
		if err != nil {
			f.Close()
			return nil, err
		}
		if se.hdr.descOffset == 0 || se.hdr.descSize <= 0 || se.hdr.descSize > maxDescriptor/sectorSize {
			f.Close()
			return nil, corrupt(path, 28, "sparse file without an embedded descriptor (an extent, not a disk: open its descriptor)")
		}
		if se.hdr.descOffset < 0 || se.hdr.descOffset > se.size/sectorSize-se.hdr.descSize {
			f.Close()
			return nil, corrupt(path, 28, "embedded descriptor at sector %d, %d sectors, past the end of the %d-byte file", se.hdr.descOffset, se.hdr.descSize, se.size)
		}
		b := make([]byte, se.hdr.descSize*sectorSize)
		if err := readFull(f, b, se.hdr.descOffset*sectorSize); err != nil {
			f.Close()
			return nil, corrupt(path, se.hdr.descOffset*sectorSize, "embedded descriptor: %v", err)
		}
		if d.desc, err = ParseDescriptor(b, path); err != nil {
			f.Close()
			return nil, err
		}
		d.embedded = true
		if len(d.desc.Extents) != 1 || d.desc.Extents[0].Type != "SPARSE" {
			f.Close()
			return nil, corrupt(path, se.hdr.descOffset*sectorSize, "embedded descriptor with %d extents", len(d.desc.Extents))
		}
		d.extents = []*extent{{line: d.desc.Extents[0], sparse: se, file: f, name: path}}
	case n >= 4 && string(head[:4]) == "COWD":
		f.Close()
		return nil, unsupported("%s: a vmfsSparse (COWD) extent; open its descriptor", path)
	default:
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		if fi.Size() > maxDescriptor {
			f.Close()
			return nil, corrupt(path, 0, "neither a sparse extent nor a descriptor (%d bytes)", fi.Size())
		}
		b := make([]byte, fi.Size())
		err = readFull(f, b, 0)
		f.Close()
		if err != nil {
			return nil, err
		}
		if !bytes.Contains(b, []byte("createType")) {
			return nil, corrupt(path, 0, "neither a sparse extent nor a descriptor")
		}
		if d.desc, err = ParseDescriptor(b, path); err != nil {
			return nil, err
		}
		for _, line := range d.desc.Extents {
			e, err := openExtent(filepath.Dir(path), line, opts)
			if err != nil {
				return nil, err
			}
			d.extents = append(d.extents, e)
		}
	}
	if err := d.place(); err != nil {
		return nil, err
	}
	for _, e := range d.extents {
		if e.sparse == nil {
			continue
		}
		if e.sparse.hdr.unclean && opts.Write && !opts.AllowUnclean {
			return nil, fmt.Errorf("%w: %s: its uncleanShutdown flag is set; check it (vmdk check) before writing, or pass AllowUnclean", ErrUnclean, e.sparse.name)
		}
		if opts.Write && e.sparse.hdr.flags&flagCompressed != 0 {
			return nil, fmt.Errorf("%w: %s is streamOptimized (compressed grains cannot be rewritten): write a child disk (vmdk snapshot) or convert it", ErrReadOnly, path)
		}
	}
	if d.desc.ParentCID != NoParent || d.desc.ParentFileNameHint != "" {
		if d.desc.ParentFileNameHint == "" {
			return nil, fmt.Errorf("%w: %s has parentCID %08x but no parentFileNameHint", ErrChain, path, d.desc.ParentCID)
		}
		pp := d.desc.ParentFileNameHint
		if !filepath.IsAbs(pp) {
			pp = filepath.Join(filepath.Dir(path), pp)
		}
		if d.parent, err = open(pp, &Options{OpenFile: opts.OpenFile}, seen); err != nil {
			return nil, fmt.Errorf("%w: parent of %s: %w", ErrChain, path, err)
		}
		if d.parent.desc.CID != d.desc.ParentCID {
			return nil, fmt.Errorf("%w: %s expects its parent's CID %08x, %s has %08x", ErrChain, path, d.desc.ParentCID, pp, d.parent.desc.CID)
		}
		if d.parent.size != d.size {
			return nil, fmt.Errorf("%w: %s is %d bytes, its parent %s %d", ErrChain, path, d.size, pp, d.parent.size)
		}
	}
	return d, nil
}

// openExtent opens the file of one extent line.
func openExtent(dir string, line Extent, opts *Options) (*extent, error) {
	e := &extent{line: line}
	if line.Type == "ZERO" {
		return e, nil
	}
	name := line.File
	if !filepath.IsAbs(name) {
		name = filepath.Join(dir, name)
	}
	e.name = name
	flag := os.O_RDONLY
	if opts.Write && line.Access == "RW" {
		flag = os.O_RDWR
	}
	switch line.Type {
	case "SPARSE":
		f, err := opts.openFile(name, flag)
		if err != nil {
			return nil, fmt.Errorf("vmdk: extent %s: %w", line.File, err)
		}
		e.file = f
		if e.sparse, err = openSparse(f, name); err != nil {
			f.Close()
			return nil, err
		}
	case "FLAT", "VMFS":
		f, err := opts.openFile(name, flag)
		if err != nil {
			return nil, fmt.Errorf("vmdk: extent %s: %w", line.File, err)
		}
		e.file, e.flat, e.offset = f, f, line.Offset*sectorSize
	case "VMFSSPARSE":
		return nil, unsupported("extent %s is vmfsSparse (COWD)", line.File)
	case "SESPARSE":
		return nil, unsupported("extent %s is seSparse", line.File)
	default:
		return nil, unsupported("extent %s of type %s", line.File, line.Type)
	}
	return e, nil
}

// maxDiskBytes bounds a disk's size: 2^42 sectors, as each extent.
const maxDiskBytes = 1 << 42 * sectorSize

// place lays the extents end to end and checks each one holds its size.
func (d *Disk) place() error {
	var pos int64
	for _, e := range d.extents {
		e.start = pos
		e.size = e.line.Sectors * sectorSize
		if pos > maxDiskBytes-e.size {
			return corrupt(d.path, -1, "extents add up to more than %d bytes", int64(maxDiskBytes))
		}
		if e.sparse != nil && e.sparse.capacityBytes() < e.size {
			return corrupt(e.sparse.name, 12, "capacity of %d sectors, the descriptor says %d", e.sparse.hdr.capacity, e.line.Sectors)
		}
		if e.flat != nil {
			fi, err := e.flat.Stat()
			if err != nil {
				return err
			}
			if fi.Size() < e.offset+e.size {
				return corrupt(e.name, fi.Size(), "flat extent of %d bytes at %d, the file has %d", e.size, e.offset, fi.Size())
			}
		}
		pos += e.size
	}
	d.size = pos
	return nil
}

// Size returns the virtual disk's capacity in bytes.
func (d *Disk) Size() int64 { return d.size }

// Close closes every file of the disk and its parents, clearing the
// uncleanShutdown flag of the extents it wrote to.
func (d *Disk) Close() error {
	var first error
	if d.touched {
		if err := d.markClean(); err != nil {
			first = err
		}
	}
	for _, e := range d.extents {
		if e.file != nil {
			if err := e.file.Close(); err != nil && first == nil {
				first = err
			}
			e.file = nil
		}
	}
	if d.parent != nil {
		d.parent.Close()
	}
	return first
}

// extentAt returns the index of the extent holding virtual byte off.
func (d *Disk) extentAt(off int64) int {
	return sort.Search(len(d.extents), func(i int) bool {
		return d.extents[i].start+d.extents[i].size > off
	})
}

// ReadAt reads len(p) bytes of the virtual disk at off, as [io.ReaderAt].
func (d *Disk) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("vmdk: negative offset")
	}
	if off >= d.size {
		return 0, io.EOF
	}
	var eof error
	if int64(len(p)) > d.size-off {
		p, eof = p[:d.size-off], io.EOF
	}
	n := len(p)
	for len(p) > 0 {
		e := d.extents[d.extentAt(off)]
		within := off - e.start
		k := int(min(int64(len(p)), e.size-within))
		if err := d.readExtent(e, p[:k], within, off); err != nil {
			return 0, err
		}
		p, off = p[k:], off+int64(k)
	}
	return n, eof
}

// readExtent reads p from extent e at byte within; virt is the virtual
// offset, for falling through to the parent.
func (d *Disk) readExtent(e *extent, p []byte, within, virt int64) error {
	switch {
	case e.line.Access == "NOACCESS":
		return fmt.Errorf("vmdk: %s: extent %q is NOACCESS", d.path, e.line.File)
	case e.flat != nil:
		if err := readFull(e.flat, p, e.offset+within); err != nil {
			return fmt.Errorf("vmdk: %s: %w", e.name, err)
		}
		return nil
	case e.sparse == nil: // ZERO
		return d.readParent(p, virt, true)
	}
	s := e.sparse
	gb := s.hdr.grainSize * sectorSize
	for len(p) > 0 {
		g := within / gb
		gw := within % gb
		k := int(min(int64(len(p)), gb-gw))
		s.mu.Lock()
		state, gte, err := s.lookup(g)
		// A whole compressed grain inflates straight into p, outside the
		// lock, so that readers in parallel decompress in parallel.
		whole := err == nil && state == grainAllocated && int64(k) == gb && s.hdr.flags&flagCompressed != 0
		if err == nil && state == grainAllocated && !whole {
			err = s.readGrainPart(p[:k], g, gte, gw)
		}
		s.mu.Unlock()
		if whole {
			err = s.inflateTo(p[:k], g, gte)
		}
		if err != nil {
			return err
		}
		switch state {
		case grainUnallocated:
			if err := d.readParent(p[:k], virt, true); err != nil {
				return err
			}
		case grainZero:
			clear(p[:k])
		}
		p, within, virt = p[k:], within+int64(k), virt+int64(k)
	}
	return nil
}

// readParent reads from the parent disk, or zeros without one.
func (d *Disk) readParent(p []byte, virt int64, fallThrough bool) error {
	if d.parent == nil || !fallThrough {
		clear(p)
		return nil
	}
	_, err := d.parent.ReadAt(p, virt)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return err
}

// Descriptor returns the disk's descriptor (a copy).
func (d *Disk) Descriptor() Descriptor {
	c := *d.desc
	c.Extents = append([]Extent(nil), d.desc.Extents...)
	c.Header = append([]KeyValue(nil), d.desc.Header...)
	c.DDB = append([]KeyValue(nil), d.desc.DDB...)
	return c
}

// Parent returns the parent of a delta disk, nil for a base disk.
func (d *Disk) Parent() *Disk { return d.parent }
