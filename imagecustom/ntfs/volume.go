package ntfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Well-known MFT record numbers.
const (
	recMFT     = 0
	recMFTMirr = 1
	recLogFile = 2
	recVolume  = 3
	recRoot    = 5
	recBitmap  = 6
	recUpCase  = 10
	// recFirstUser is the first record that is not one of NTFS's own
	// reserved system files.
	recFirstUser = 16
)

// Volume is an NTFS volume opened for reading. It implements [fs.FS],
// [fs.ReadDirFS], [fs.ReadFileFS], [fs.StatFS] and [fs.ReadLinkFS]; see
// [Volume.Open] for how names are resolved. It is safe for concurrent use.
type Volume struct {
	dev    io.ReaderAt
	w      io.WriterAt // nil when opened read-only
	size   int64
	boot   bootSector
	mft    *stream // $MFT's $DATA
	nrecs  uint64  // records in $MFT
	upcase upcaseTable
	info   Info
	// shortNames caches whether the volume uses 8.3 aliases, as its root
	// directory shows: 1 yes, -1 no, 0 not looked at yet.
	shortNames int
}

// Info describes a volume.
type Info struct {
	Label          string // volume label ($VOLUME_NAME)
	Serial         uint64 // volume serial number
	Major, Minor   uint8  // NTFS version, 3.1 for every Windows since XP
	Flags          uint16 // $VOLUME_INFORMATION flags; see [Info.Dirty]
	SectorSize     int    // bytes per sector
	ClusterSize    int64  // bytes per cluster
	RecordSize     int    // bytes per MFT record
	IndexBlockSize int    // bytes per directory index block
	Size           int64  // bytes the boot sector claims, excluding the backup boot sector
}

// Dirty reports whether the volume's dirty flag is set: Windows runs chkdsk
// (autochk) on it at the next boot.
func (i Info) Dirty() bool { return i.Flags&volumeDirty != 0 }

// $VOLUME_INFORMATION flags.
const volumeDirty = 0x0001

// Open opens the NTFS volume held in dev, size bytes long, for reading.
// dev holds the volume itself: for a partitioned disk, pass an
// [io.SectionReader] over the partition.
func Open(dev io.ReaderAt, size int64) (*Volume, error) {
	b := make([]byte, 512)
	if _, err := dev.ReadAt(b, 0); err != nil {
		return nil, fmt.Errorf("ntfs: read boot sector: %w", err)
	}
	bs, err := parseBootSector(b)
	if err != nil {
		return nil, err
	}
	v := &Volume{dev: dev, size: size, boot: bs}
	if need := bs.totalSectors * int64(bs.sectorSize); size < need {
		return nil, corrupt(0x28, "boot sector: volume of %d bytes, device has %d", need, size)
	}
	if err := v.loadMFT(); err != nil {
		return nil, err
	}
	if err := v.loadUpcase(); err != nil {
		return nil, err
	}
	if err := v.loadVolumeInfo(); err != nil {
		return nil, err
	}
	return v, nil
}

// Info returns what the volume says of itself.
func (v *Volume) Info() Info { return v.info }

// loadMFT reads record 0 where the boot sector says and builds the $MFT
// stream from its $DATA, following an attribute list if $MFT has one.
func (v *Volume) loadMFT() error {
	rs := v.boot.recordSize
	off := v.boot.mftLCN * v.boot.clusterSize
	b := make([]byte, rs)
	if _, err := v.dev.ReadAt(b, off); err != nil {
		return fmt.Errorf("ntfs: read $MFT record 0: %w", err)
	}
	if err := applyFixups(b, off, "MFT record 0"); err != nil {
		return err
	}
	r, err := parseRecord(b, recMFT, off)
	if err != nil {
		return err
	}
	data := r.find(attrData, "")
	if data == nil || data.resident {
		return corrupt(off, "MFT record 0: no non-resident $DATA")
	}
	// Bootstrap with the extent in the base record; it maps at least the
	// first records, where $MFT's own extension records live.
	if v.mft, err = v.newStream("$MFT", []*attribute{data}); err != nil {
		return err
	}
	v.nrecs = uint64(data.dataSize / int64(rs))
	if v.nrecs <= recUpCase {
		return corrupt(off, "$MFT: only %d records", v.nrecs)
	}
	if r.find(attrAttributeList, "") != nil {
		f, err := v.fileFromRecord(r)
		if err != nil {
			return err
		}
		if v.mft, err = v.newStream("$MFT", f.extents(attrData, "")); err != nil {
			return err
		}
	}
	return nil
}

// readRecord reads MFT record num, applies its fixups and parses it.
func (v *Volume) readRecord(num uint64) (*record, error) {
	if num >= v.nrecs {
		return nil, corrupt(-1, "MFT record %d past the %d records of $MFT", num, v.nrecs)
	}
	rs := int64(v.boot.recordSize)
	b := make([]byte, rs)
	if _, err := v.mft.ReadAt(b, int64(num)*rs); err != nil {
		return nil, fmt.Errorf("ntfs: read MFT record %d: %w", num, err)
	}
	off := v.mft.volumeOffset(int64(num) * rs)
	what := fmt.Sprintf("MFT record %d", num)
	if err := applyFixups(b, off, what); err != nil {
		return nil, err
	}
	r, err := parseRecord(b, num, off)
	if err != nil {
		return nil, err
	}
	// NTFS 3.1 stores the record's own number at 0x2C; a mismatch means
	// the $MFT run list points at the wrong place.
	if usa := binary.LittleEndian.Uint16(b[4:]); usa >= 0x30 {
		if own := binary.LittleEndian.Uint32(b[0x2C:]); own != uint32(num) && r.flags&recordInUse != 0 {
			return nil, corrupt(off+0x2C, "%s: says it is record %d", what, own)
		}
	}
	return r, nil
}

// file is a file's base record with every attribute, including those an
// attribute list places in extension records.
type file struct {
	rec   *record
	attrs []*attribute
}

// loadFile reads the file whose base record is num. The record must be in
// use and, when ref's sequence number is not 0, have that sequence number.
func (v *Volume) loadFile(ref fileRef) (*file, error) {
	r, err := v.readRecord(ref.record())
	if err != nil {
		return nil, err
	}
	if r.flags&recordInUse == 0 {
		return nil, corrupt(r.off, "MFT record %d: not in use", r.num)
	}
	if seq := ref.seq(); seq != 0 && seq != r.seq {
		return nil, corrupt(r.off, "MFT record %d: sequence number %d, reference has %d", r.num, r.seq, seq)
	}
	if r.base != 0 {
		return nil, corrupt(r.off, "MFT record %d: extension record of %d, not a file", r.num, r.base.record())
	}
	return v.fileFromRecord(r)
}

// maxAttrListSize bounds $ATTRIBUTE_LIST; Windows keeps it under 256 KiB.
const maxAttrListSize = 256 << 10

// fileFromRecord gathers a base record's attributes, loading the
// extension records its attribute list names.
func (v *Volume) fileFromRecord(r *record) (*file, error) {
	f := &file{rec: r}
	list := r.find(attrAttributeList, "")
	if list == nil {
		f.attrs = r.attrs
		return f, nil
	}
	s, err := v.newStream(fmt.Sprintf("MFT record %d $ATTRIBUTE_LIST", r.num), []*attribute{list})
	if err != nil {
		return nil, err
	}
	if s.size > maxAttrListSize {
		return nil, corrupt(list.off, "MFT record %d: attribute list of %d bytes", r.num, s.size)
	}
	b := make([]byte, s.size)
	if _, err := s.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	ext := map[uint64]*record{r.num: r}
	for p := 0; p < len(b); {
		if p+0x1A > len(b) {
			return nil, corrupt(list.off, "MFT record %d: attribute list entry at %d overruns it", r.num, p)
		}
		n := int(binary.LittleEndian.Uint16(b[p+4:]))
		if n < 0x1A || p+n > len(b) {
			return nil, corrupt(list.off, "MFT record %d: attribute list entry at %d of length %d", r.num, p, n)
		}
		typ := binary.LittleEndian.Uint32(b[p:])
		ref := fileRef(binary.LittleEndian.Uint64(b[p+0x10:]))
		instance := binary.LittleEndian.Uint16(b[p+0x18:])
		p += n
		if ref.record() == r.num {
			continue // in the base record, already listed
		}
		x, ok := ext[ref.record()]
		if !ok {
			if x, err = v.readRecord(ref.record()); err != nil {
				return nil, err
			}
			if x.flags&recordInUse == 0 || x.base.record() != r.num || x.seq != ref.seq() {
				return nil, corrupt(x.off, "MFT record %d: not an extension record of %d", x.num, r.num)
			}
			ext[x.num] = x
		}
		found := false
		for _, a := range x.attrs {
			if a.typ == typ && a.instance == instance {
				f.attrs = append(f.attrs, a)
				found = true
				break
			}
		}
		if !found {
			return nil, corrupt(x.off, "MFT record %d: no attribute 0x%x instance %d that the list of %d names", x.num, typ, instance, r.num)
		}
	}
	f.attrs = append(append([]*attribute(nil), r.attrs...), f.attrs...)
	return f, nil
}

// extents returns every extent of the attribute of the given type and name.
func (f *file) extents(typ uint32, name string) []*attribute {
	var out []*attribute
	for _, a := range f.attrs {
		if a.typ == typ && a.name == name {
			out = append(out, a)
		}
	}
	return out
}

// stream returns the reader of an attribute, or an error matching
// fs.ErrNotExist when the file has no such attribute.
func (v *Volume) stream(f *file, typ uint32, name string) (*stream, error) {
	ext := f.extents(typ, name)
	if len(ext) == 0 {
		return nil, errNoAttribute
	}
	what := fmt.Sprintf("MFT record %d attribute 0x%x", f.rec.num, typ)
	if name != "" {
		what += " " + name
	}
	return v.newStream(what, ext)
}

// errNoAttribute reports a missing attribute.
var errNoAttribute = errors.New("ntfs: no such attribute")

// readAll reads a whole attribute value of at most limit bytes.
func (v *Volume) readAll(f *file, typ uint32, name string, limit int64) ([]byte, error) {
	s, err := v.stream(f, typ, name)
	if err != nil {
		return nil, err
	}
	if s.size > limit {
		return nil, corrupt(-1, "%s: %d bytes, at most %d expected", s.what, s.size, limit)
	}
	b := make([]byte, s.size)
	if _, err := s.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b, nil
}

// loadUpcase reads $UpCase, the table every name comparison uses.
func (v *Volume) loadUpcase() error {
	f, err := v.loadFile(recUpCase)
	if err != nil {
		return err
	}
	b, err := v.readAll(f, attrData, "", 1<<17)
	if err != nil {
		return fmt.Errorf("ntfs: $UpCase: %w", err)
	}
	if len(b) != 1<<17 {
		return corrupt(f.rec.off, "$UpCase: %d bytes, want 131072", len(b))
	}
	v.upcase = make(upcaseTable, 1<<16)
	for i := range v.upcase {
		v.upcase[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return nil
}

// loadVolumeInfo reads $Volume's name and information.
func (v *Volume) loadVolumeInfo() error {
	f, err := v.loadFile(recVolume)
	if err != nil {
		return err
	}
	v.info = Info{
		Serial:         v.boot.serial,
		SectorSize:     v.boot.sectorSize,
		ClusterSize:    v.boot.clusterSize,
		RecordSize:     v.boot.recordSize,
		IndexBlockSize: v.boot.indexBlockSize,
		Size:           v.boot.totalSectors * int64(v.boot.sectorSize),
	}
	if name, err := v.readAll(f, attrVolumeName, "", 256); err == nil {
		v.info.Label = decodeUTF16(name)
	} else if !errors.Is(err, errNoAttribute) {
		return err
	}
	vi, err := v.readAll(f, attrVolumeInformation, "", 64)
	if err != nil {
		return fmt.Errorf("ntfs: $Volume: $VOLUME_INFORMATION: %w", err)
	}
	if len(vi) < 12 {
		return corrupt(f.rec.off, "$VOLUME_INFORMATION of %d bytes", len(vi))
	}
	v.info.Major, v.info.Minor = vi[8], vi[9]
	v.info.Flags = binary.LittleEndian.Uint16(vi[10:])
	if v.info.Major != 3 {
		return unsupported("NTFS version %d.%d", v.info.Major, v.info.Minor)
	}
	return nil
}
