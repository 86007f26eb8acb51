package ntfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"
)

// ReadWriterAt is a device that can be read and written at offsets: the
// volume [OpenRW] writes to.
type ReadWriterAt interface {
	io.ReaderAt
	io.WriterAt
}

// Options tunes [OpenRW].
type Options struct {
	// AllowDirty opens a volume whose dirty flag is already set (chkdsk
	// pending at the next boot). By default such a volume is refused: its
	// state is in doubt until chkdsk has run.
	AllowDirty bool
}

// OpenRW opens the NTFS volume in dev for reading and writing. Before it
// returns, it checks that writing is safe, and refuses — with an error
// matching [ErrUnsafe], nothing written — a volume whose $LogFile holds
// unreplayed changes or was left by fast startup or hibernation, one with a
// hibernation image in hiberfil.sys, one marked dirty (unless
// opts.AllowDirty), and one whose $MFTMirr differs from $MFT. A corrupt
// volume is refused with [ErrCorrupt].
func OpenRW(dev ReadWriterAt, size int64, opts *Options) (*Volume, error) {
	if opts == nil {
		opts = &Options{}
	}
	v, err := Open(dev, size)
	if err != nil {
		return nil, err
	}
	if err := v.preflight(opts); err != nil {
		return nil, err
	}
	v.w = dev
	return v, nil
}

// preflight runs the checks of OpenRW.
func (v *Volume) preflight(opts *Options) error {
	logf, err := v.loadFile(recLogFile)
	if err != nil {
		return err
	}
	ls, err := v.stream(logf, attrData, "")
	if err != nil {
		return fmt.Errorf("ntfs: $LogFile: %w", err)
	}
	st, err := readLogFileState(ls, ls.size)
	if err != nil {
		return err
	}
	if err := st.checkWrite(); err != nil {
		return err
	}
	if err := v.checkHibernation(); err != nil {
		return err
	}
	if v.info.Dirty() && !opts.AllowDirty {
		return fmt.Errorf("%w: the volume is marked dirty: chkdsk runs at the next Windows boot and may change it — boot Windows once, or pass AllowDirty", ErrUnsafe)
	}
	return v.checkMirror()
}

// checkHibernation refuses a volume whose root holds a hiberfil.sys with a
// hibernation image.
func (v *Volume) checkHibernation() error {
	root, err := v.loadFile(recRoot)
	if err != nil {
		return err
	}
	ix, err := v.openIndex(root)
	if err != nil {
		return err
	}
	e, ok, err := ix.lookup(utf16.Encode([]rune("hiberfil.sys")))
	if err != nil || !ok {
		return err
	}
	f, err := v.loadFile(e.ref)
	if err != nil {
		return err
	}
	s, err := v.stream(f, attrData, "")
	if errors.Is(err, errNoAttribute) {
		return checkHiberfil(nil, 0)
	}
	if err != nil {
		return err
	}
	head := make([]byte, min(s.size, hiberHeaderSize))
	if _, err := s.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("ntfs: hiberfil.sys: %w", err)
	}
	return checkHiberfil(head, s.size)
}

// mirrorRecords returns how many leading MFT records $MFTMirr holds: at
// least 4, or a cluster's worth when a cluster holds more.
func (v *Volume) mirrorRecords() int {
	return max(4, int(v.boot.clusterSize)/v.boot.recordSize)
}

// mirror returns the $MFTMirr stream.
func (v *Volume) mirror() (*stream, error) {
	f, err := v.loadFile(recMFTMirr)
	if err != nil {
		return nil, err
	}
	return v.stream(f, attrData, "")
}

// checkMirror compares the first records of $MFT with $MFTMirr, byte for
// byte as stored (fixups included), as ntfs-3g does before it writes.
func (v *Volume) checkMirror() error {
	m, err := v.mirror()
	if err != nil {
		return fmt.Errorf("ntfs: $MFTMirr: %w", err)
	}
	n := int64(v.mirrorRecords() * v.boot.recordSize)
	if m.size < n {
		return corrupt(-1, "$MFTMirr: %d bytes, need %d", m.size, n)
	}
	a, b := make([]byte, n), make([]byte, n)
	if _, err := v.mft.ReadAt(a, 0); err != nil {
		return err
	}
	if _, err := m.ReadAt(b, 0); err != nil {
		return err
	}
	if !bytes.Equal(a, b) {
		return corrupt(m.volumeOffset(0), "$MFTMirr differs from the first %d records of $MFT", v.mirrorRecords())
	}
	return nil
}

// errReadOnly reports a write to a volume opened with Open.
var errReadOnly = errors.New("ntfs: volume opened read-only")

// writeAt writes p at byte offset off of a non-resident stream, through
// its run list, into clusters already allocated. Writing a hole, past the
// allocation or into a compressed stream is an error: the caller
// allocates first.
func (s *stream) writeAt(p []byte, off int64) error {
	if s.v.w == nil {
		return errReadOnly
	}
	if s.resident || s.compressed || s.encrypted {
		return fmt.Errorf("ntfs: %s: cannot write in place (resident, compressed or encrypted)", s.what)
	}
	cs := s.v.boot.clusterSize
	for len(p) > 0 {
		vcn := off / cs
		i := findRun(s.runs, vcn)
		if i < 0 || s.runs[i].lcn == sparseLCN {
			return fmt.Errorf("ntfs: %s: byte %d has no cluster to write to", s.what, off)
		}
		r := s.runs[i]
		within := off - r.vcn*cs
		n := int(min(int64(len(p)), r.length*cs-within))
		if _, err := s.v.w.WriteAt(p[:n], r.lcn*cs+within); err != nil {
			return fmt.Errorf("ntfs: %s: write %d bytes at cluster %d: %w", s.what, n, r.lcn, err)
		}
		p = p[n:]
		off += int64(n)
	}
	return nil
}

// protect applies multi-sector protection to a copy of b, an MFT record or
// index block without it: the update sequence number is incremented
// (skipping 0 and 0xFFFF), each stride's last two bytes are saved in the
// array and replaced by the number.
func protect(b []byte) ([]byte, error) {
	out := append([]byte(nil), b...)
	usaOff := int(binary.LittleEndian.Uint16(out[4:]))
	usaCount := int(binary.LittleEndian.Uint16(out[6:]))
	strides := len(out) / fixupStride
	if len(out)%fixupStride != 0 || usaCount != strides+1 || usaOff+2*usaCount > fixupStride-2 {
		return nil, fmt.Errorf("ntfs: cannot protect a %d-byte block with %d update sequence entries at 0x%x", len(out), usaCount, usaOff)
	}
	usn := binary.LittleEndian.Uint16(out[usaOff:]) + 1
	if usn == 0 || usn == 0xFFFF {
		usn = 1
	}
	binary.LittleEndian.PutUint16(out[usaOff:], usn)
	for i := 0; i < strides; i++ {
		end := (i+1)*fixupStride - 2
		copy(out[usaOff+2+2*i:], out[end:end+2])
		binary.LittleEndian.PutUint16(out[end:], usn)
	}
	return out, nil
}

// writeRecord writes MFT record r.num from r.buf (fixups not applied),
// protecting it first, to $MFT and, for the first records, to $MFTMirr.
// r.buf keeps the new update sequence number.
func (v *Volume) writeRecord(r *record) error {
	if v.w == nil {
		return errReadOnly
	}
	disk, err := protect(r.buf)
	if err != nil {
		return err
	}
	rs := int64(v.boot.recordSize)
	if err := v.mft.writeAt(disk, int64(r.num)*rs); err != nil {
		return err
	}
	if r.num < uint64(v.mirrorRecords()) {
		m, err := v.mirror()
		if err != nil {
			return err
		}
		if err := m.writeAt(disk, int64(r.num)*rs); err != nil {
			return err
		}
	}
	// Keep the update sequence number in the in-memory copy, so the next
	// write increments it again.
	usaOff := int(binary.LittleEndian.Uint16(r.buf[4:]))
	copy(r.buf[usaOff:usaOff+2], disk[usaOff:usaOff+2])
	return nil
}

// Dirty reports whether the volume's dirty flag is set (chkdsk pending).
func (v *Volume) Dirty() bool { return v.info.Dirty() }

// SetDirty sets or clears the volume's dirty flag in $VOLUME_INFORMATION,
// writing $Volume's record to $MFT and $MFTMirr. With the flag set,
// Windows runs chkdsk (autochk) on the volume at its next boot.
func (v *Volume) SetDirty(dirty bool) error {
	if v.w == nil {
		return errReadOnly
	}
	f, err := v.loadFile(recVolume)
	if err != nil {
		return err
	}
	ext := f.extents(attrVolumeInformation, "")
	if len(ext) != 1 || !ext[0].resident || len(ext[0].value) < 12 || ext[0].rec != recVolume {
		return corrupt(f.rec.off, "$Volume: no resident $VOLUME_INFORMATION in its base record")
	}
	flags := binary.LittleEndian.Uint16(ext[0].value[10:])
	if dirty {
		flags |= volumeDirty
	} else {
		flags &^= volumeDirty
	}
	binary.LittleEndian.PutUint16(ext[0].value[10:], flags) // a slice of f.rec.buf
	if err := v.writeRecord(f.rec); err != nil {
		return err
	}
	v.info.Flags = flags
	return nil
}
