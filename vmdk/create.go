package vmdk

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The createTypes [Create] and [Convert] write, as qemu-img names its
// subformats, and "raw" for a plain image file (Convert only).
const (
	MonolithicSparse     = "monolithicSparse"
	MonolithicFlat       = "monolithicFlat"
	TwoGbMaxExtentSparse = "twoGbMaxExtentSparse"
	TwoGbMaxExtentFlat   = "twoGbMaxExtentFlat"
	StreamOptimized      = "streamOptimized"
	Raw                  = "raw"
)

// Layout of the files this package creates, as qemu and VMware lay them out.
const (
	newGrainSectors = 128               // 64 KiB grains
	newGTEs         = 512               // entries per grain table: a table maps 32 MiB
	newDescSectors  = 20                // embedded descriptor area
	splitBytes      = 2 << 30           // virtual bytes per twoGbMaxExtent* file
	maxSparseBytes  = (1 << 32) * 512   // a hosted sparse extent addresses u32 sectors
	gtSectors       = newGTEs * 4 / 512 // sectors of one grain table
)

// Create creates a new, empty disk of size bytes (a multiple of 512) at
// path, of the given createType: [MonolithicSparse], [MonolithicFlat],
// [TwoGbMaxExtentSparse], [TwoGbMaxExtentFlat] or [StreamOptimized]. It
// refuses to replace an existing file ([fs.ErrExist]). The disk is
// returned open for writing, except a streamOptimized one: its grains
// cannot be written in place, so Create writes a complete empty stream
// and returns it open read-only (fill one with [Convert] instead).
//
// Sparse files are laid out as qemu-img and VMware lay them out (embedded
// descriptor at sector 1, a redundant grain directory, every grain table
// preallocated); flat files are created sparse, at their full size.
func Create(path, createType string, size int64) (*Disk, error) {
	if createType == Raw {
		return nil, unsupported("Create makes VMDK disks; a raw image is a plain file (os.Create and Truncate)")
	}
	files, err := createDisk(path, createType, size, nil)
	if err != nil {
		return nil, err
	}
	opts := &Options{Write: createType != StreamOptimized}
	d, err := Open(path, opts)
	if err != nil {
		removeAll(files)
		return nil, err
	}
	return d, nil
}

// layout is a disk to create: its descriptor and its extent files.
type layout struct {
	path  string // the descriptor's, or the monolithic file's, path
	desc  *Descriptor
	files []layoutFile
}

// layoutFile is one extent file: the virtual range it holds.
type layoutFile struct {
	path        string
	start, size int64 // virtual bytes
	sparse      bool
}

// embedded reports whether the descriptor lives inside the only extent.
func (l *layout) embedded() bool {
	ct := l.desc.CreateType
	return ct == MonolithicSparse || ct == StreamOptimized
}

// newLayout plans the files of a new disk.
func newLayout(path, createType string, size int64) (*layout, error) {
	if size <= 0 || size%sectorSize != 0 {
		return nil, fmt.Errorf("vmdk: disk size %d is not a positive multiple of %d bytes", size, sectorSize)
	}
	if size > 1<<42*sectorSize {
		return nil, fmt.Errorf("vmdk: disk size %d too large", size)
	}
	l := &layout{path: path, desc: newDescriptor(createType, size)}
	base := filepath.Base(path)
	stem := base
	if ext := filepath.Ext(base); strings.EqualFold(ext, ".vmdk") {
		stem = strings.TrimSuffix(base, ext)
	}
	dir := filepath.Dir(path)
	add := func(name, typ string, start, n int64) {
		e := Extent{Access: "RW", Sectors: n / sectorSize, Type: typ, File: name}
		l.desc.Extents = append(l.desc.Extents, e)
		l.files = append(l.files, layoutFile{path: filepath.Join(dir, name), start: start, size: n, sparse: typ == "SPARSE"})
	}
	switch createType {
	case MonolithicSparse, StreamOptimized:
		if createType == MonolithicSparse && size > maxSparseBytes-splitBytes {
			return nil, fmt.Errorf("%w: a monolithicSparse file addresses under 2 TiB; %d bytes asked (use twoGbMaxExtentSparse)", ErrUnsupported, size)
		}
		add(base, "SPARSE", 0, size)
	case MonolithicFlat:
		add(stem+"-flat.vmdk", "FLAT", 0, size)
	case TwoGbMaxExtentSparse, TwoGbMaxExtentFlat:
		typ, letter := "SPARSE", "s"
		if createType == TwoGbMaxExtentFlat {
			typ, letter = "FLAT", "f"
		}
		for i, start := 1, int64(0); start < size; i, start = i+1, start+splitBytes {
			add(fmt.Sprintf("%s-%s%03d.vmdk", stem, letter, i), typ, start, min(splitBytes, size-start))
		}
	default:
		return nil, unsupported("createType %q (want monolithicSparse, monolithicFlat, twoGbMaxExtentSparse, twoGbMaxExtentFlat or streamOptimized)", createType)
	}
	return l, nil
}

// newDescriptor returns the descriptor of a new disk with VMware's
// disk database defaults.
func newDescriptor(createType string, size int64) *Descriptor {
	d := &Descriptor{Version: 1, Encoding: "UTF-8", CID: newCID(), ParentCID: NoParent, CreateType: createType}
	d.Header = []KeyValue{{"isNativeSnapshot", "no"}}
	sectors := size / sectorSize
	cyl := min(65535, (sectors+255*63-1)/(255*63))
	hw := "4"
	if createType == StreamOptimized {
		// OVF importers want a hardware version ESXi knows streams from.
		hw = "10"
	}
	d.DDB = []KeyValue{
		{"ddb.adapterType", "lsilogic"},
		{"ddb.geometry.cylinders", strconv.FormatInt(cyl, 10)},
		{"ddb.geometry.heads", "255"},
		{"ddb.geometry.sectors", "63"},
		{"ddb.longContentID", randomHex(16)},
		{"ddb.toolsInstallType", "4"},
		{"ddb.toolsVersion", "2147483647"},
		{"ddb.uuid", newUUID()},
		{"ddb.virtualHWVersion", hw},
	}
	return d
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newUUID returns a random ddb.uuid: 16 hex bytes, space separated, a
// dash between the eighth and the ninth.
func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	var s strings.Builder
	for i, c := range b {
		switch {
		case i == 8:
			s.WriteByte('-')
		case i > 0:
			s.WriteByte(' ')
		}
		fmt.Fprintf(&s, "%02x", c)
	}
	return s.String()
}

// createDisk creates the files of a new empty disk; edit, when not nil,
// changes the planned descriptor first. It returns the files created. On
// error nothing is left behind.
func createDisk(path, createType string, size int64, edit func(*Descriptor)) (files []string, err error) {
	l, err := newLayout(path, createType, size)
	if err != nil {
		return nil, err
	}
	if edit != nil {
		edit(l.desc)
	}
	defer func() {
		if err != nil {
			removeAll(files)
			files = nil
		}
	}()
	create := func(name string) (*os.File, error) {
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			files = append(files, name)
		}
		return f, err
	}
	if !l.embedded() {
		f, err := create(path)
		if err != nil {
			return files, err
		}
		_, err = f.Write(l.desc.Bytes())
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return files, err
		}
	}
	for _, lf := range l.files {
		f, err := create(lf.path)
		if err != nil {
			return files, err
		}
		switch {
		case createType == StreamOptimized:
			var w *streamWriter
			if w, err = newStreamWriter(f, size, l.desc.Bytes()); err == nil {
				err = w.close()
			}
		case lf.sparse:
			var desc []byte
			if l.embedded() {
				desc = l.desc.Bytes()
			}
			_, err = writeSparseLayout(f, lf.size/sectorSize, desc)
		default:
			err = f.Truncate(lf.size)
		}
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return files, fmt.Errorf("vmdk: create %s: %w", lf.path, err)
		}
	}
	return files, nil
}

// removeAll removes the files named, ignoring errors: the clean-up of a
// failed creation.
func removeAll(files []string) {
	for i := len(files) - 1; i >= 0; i-- {
		os.Remove(files[i])
	}
}

// marshal encodes h as a 512-byte header sector.
func (h *sparseHeader) marshal() []byte {
	b := make([]byte, sectorSize)
	le := binary.LittleEndian
	copy(b, sparseMagic)
	le.PutUint32(b[4:], h.version)
	le.PutUint32(b[8:], h.flags)
	le.PutUint64(b[12:], uint64(h.capacity))
	le.PutUint64(b[20:], uint64(h.grainSize))
	le.PutUint64(b[28:], uint64(h.descOffset))
	le.PutUint64(b[36:], uint64(h.descSize))
	le.PutUint32(b[44:], uint32(h.numGTEs))
	le.PutUint64(b[48:], uint64(h.rgdOffset))
	le.PutUint64(b[56:], uint64(h.gdOffset))
	le.PutUint64(b[64:], uint64(h.overhead))
	if h.unclean {
		b[72] = 1
	}
	copy(b[73:], "\n \r\n")
	le.PutUint16(b[77:], h.compression)
	return b
}

// gdSectors returns the sectors of the grain directory.
func (h *sparseHeader) gdSectors() int64 {
	return (h.gdEntries()*4 + sectorSize - 1) / sectorSize
}

// newSparseHeader lays out a hosted sparse extent of capacity sectors as
// qemu-img and VMware do: header; descriptor area (when desc); redundant
// directory and its tables; directory and its tables; grains from the
// next grain boundary.
func newSparseHeader(capacity int64, desc bool) sparseHeader {
	h := sparseHeader{
		version: 1, flags: flagNewlineTest | flagRedundantGT,
		capacity: capacity, grainSize: newGrainSectors, numGTEs: newGTEs,
	}
	next := int64(1)
	if desc {
		h.descOffset, h.descSize = 1, newDescSectors
		next += newDescSectors
	}
	n := h.gdEntries()
	h.rgdOffset = next
	h.gdOffset = h.rgdOffset + h.gdSectors() + n*gtSectors
	end := h.gdOffset + h.gdSectors() + n*gtSectors
	h.overhead = (end + newGrainSectors - 1) / newGrainSectors * newGrainSectors
	return h
}

// gtSector returns the sector of grain table i, in the directory (or,
// redundant, the redundant directory) newSparseHeader laid out.
func (h *sparseHeader) gtSector(i int64, redundant bool) int64 {
	dir := h.gdOffset
	if redundant {
		dir = h.rgdOffset
	}
	return dir + h.gdSectors() + i*gtSectors
}

// writeSparseLayout writes an empty hosted sparse extent of capacity
// sectors to the new file f: header, embedded descriptor (if desc is not
// nil), both directories pointing at their preallocated (zero) tables,
// the file extended to the first grain.
func writeSparseLayout(f *os.File, capacity int64, desc []byte) (sparseHeader, error) {
	h := newSparseHeader(capacity, desc != nil)
	if int64(len(desc)) > h.descSize*sectorSize {
		return h, fmt.Errorf("vmdk: descriptor of %d bytes does not fit %d sectors", len(desc), h.descSize)
	}
	if _, err := f.WriteAt(h.marshal(), 0); err != nil {
		return h, err
	}
	if desc != nil {
		area := make([]byte, h.descSize*sectorSize)
		copy(area, desc)
		if _, err := f.WriteAt(area, h.descOffset*sectorSize); err != nil {
			return h, err
		}
	}
	n := h.gdEntries()
	for _, red := range []bool{true, false} {
		gd := make([]byte, h.gdSectors()*sectorSize)
		for i := range n {
			binary.LittleEndian.PutUint32(gd[4*i:], uint32(h.gtSector(i, red)))
		}
		at := h.gdOffset
		if red {
			at = h.rgdOffset
		}
		if _, err := f.WriteAt(gd, at*sectorSize); err != nil {
			return h, err
		}
	}
	if err := f.Truncate(h.overhead * sectorSize); err != nil {
		return h, err
	}
	return h, nil
}
