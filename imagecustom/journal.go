package imagecustom

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// The undo journal. Before any byte of a host file — the raw image, or a
// VMDK's descriptor and extents — is overwritten, cut off or appended to,
// the journal beside the image records that file's original size and the
// original content of the 4 KiB blocks about to change, and is made
// durable; then the files are written (see hostSet). Commit makes the
// files durable and deletes the journal. A run that stops before that
// leaves the journal, and [Recover] puts every file's original bytes and
// size back exactly.
//
// Journal file, version 2: the header "IMAGECUSTOM-UNDO\x00\x02" (magic,
// version), then records, each ending with the CRC-32 (IEEE) of its
// preceding bytes:
//
//	'F' id u32, original size u64, name length u16, name, CRC
//	'D' id u32, offset u64, length u32, old bytes, CRC
//
// An F record names a host file by its path relative to the journal's
// folder (slash-separated) and gives it an id; D records of that id hold
// original bytes of the file. A record whose CRC does not match ends the
// journal: it was being written when the run stopped, and no host file
// was written after it. All integers are little-endian.
//
// Version 1, which earlier releases wrote for raw images, is still read:
// the header "IMAGECUSTOM-UNDO\x00\x01", the image's original size (u64),
// then records of [offset u64, length u32, old bytes, CRC-32] of the image
// file.

// journalSuffix names the journal: IMAGE + suffix.
const journalSuffix = ".imagecustom-undo"

// journalMagic starts every journal; the version byte follows it.
var journalMagic = []byte("IMAGECUSTOM-UNDO\x00")

// Journal versions.
const (
	journalV1 = 1 // one raw image file
	journalV2 = 2 // several host files
)

// Journal record kinds (version 2).
const (
	recFile  = 'F'
	recBlock = 'D'
)

// maxJournalName bounds a host file name in the journal.
const maxJournalName = 4096

// flushThreshold is how much changed data is kept in memory before it is
// journaled and written: memory stays bounded, fsyncs few. Tests lower it.
var flushThreshold int64 = 64 << 20

// JournalPath returns the path of the undo journal of the image at path.
func JournalPath(path string) string { return path + journalSuffix }

// overlay holds changed blocks of the virtual disk in memory on top of
// it: the writes of a dry run, and those not yet flushed to the host
// files. Its size is fixed.
type overlay struct {
	blocks
	base io.ReaderAt
}

func newOverlay(f io.ReaderAt, size int64) *overlay {
	return &overlay{blocks: newBlocks(size), base: f}
}

// readBase reads the disk below the overlay.
func (o *overlay) readBase(p []byte, off int64) error {
	if _, err := o.base.ReadAt(p, off); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

func (o *overlay) ReadAt(p []byte, off int64) (int, error) {
	return o.readAt(p, off, o.readBase)
}

func (o *overlay) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > o.size {
		return 0, fmt.Errorf("imagecustom: write of %d bytes at %d outside the %d-byte image", len(p), off, o.size)
	}
	return o.writeAt(p, off, o.readBase)
}

// Change is a range of the image a write changed.
type Change struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
}

// changedBlocks returns, in order, the dirty blocks whose content
// differs from the base.
func (o *overlay) changedBlocks() ([]int64, error) {
	var out []int64
	old := make([]byte, blockSize)
	for _, blk := range o.sorted() {
		n := min(blockSize, o.size-blk*blockSize)
		if _, err := o.base.ReadAt(old[:n], blk*blockSize); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if !bytes.Equal(old[:n], o.dirty[blk][:n]) {
			out = append(out, blk)
		}
	}
	return out, nil
}

// changes returns the dirty blocks whose content differs from the base,
// coalesced into ranges.
func (o *overlay) changes() ([]Change, error) {
	blocks, err := o.changedBlocks()
	if err != nil {
		return nil, err
	}
	return blockRanges(blocks, o.size), nil
}

// blockRanges coalesces sorted blocks into ranges of a disk of size bytes.
func blockRanges(blocks []int64, size int64) []Change {
	var out []Change
	for _, blk := range blocks {
		off := blk * blockSize
		n := min(blockSize, size-off)
		if k := len(out) - 1; k >= 0 && out[k].Offset+out[k].Length == off {
			out[k].Length += n
		} else {
			out = append(out, Change{off, n})
		}
	}
	return out
}

// journal is an undo journal being written.
type journal struct {
	path string
	dir  string // host file names are recorded relative to it
	f    *os.File
	w    *bufio.Writer
	ids  map[*hostFile]uint32
	old  []byte
}

// createJournal starts a (version 2) journal at path.
func createJournal(path string) (*journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("imagecustom: create undo journal: %w", err)
	}
	fail := func(err error) (*journal, error) {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("imagecustom: create undo journal: %w", err)
	}
	hdr := append(append([]byte(nil), journalMagic...), journalV2)
	if _, err := f.Write(hdr); err != nil {
		return fail(err)
	}
	if err := syncFileAndDir(f, path); err != nil {
		return fail(err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return fail(err)
	}
	return &journal{path: path, dir: dir, f: f, w: bufio.NewWriterSize(f, 1<<20),
		ids: map[*hostFile]uint32{}, old: make([]byte, blockSize)}, nil
}

// syncFileAndDir makes a new file and its directory entry durable.
func syncFileAndDir(f *os.File, path string) error {
	if err := f.Sync(); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	// Directories cannot be synced on every platform; the file sync is
	// what matters most there.
	_ = d.Sync()
	return nil
}

// record appends one record with its CRC.
func (j *journal) record(rec []byte) error {
	rec = binary.LittleEndian.AppendUint32(rec, crc32.ChecksumIEEE(rec))
	if _, err := j.w.Write(rec); err != nil {
		return fmt.Errorf("imagecustom: write undo journal: %w", err)
	}
	return nil
}

// addFile names a host file and its original size, once.
func (j *journal) addFile(hf *hostFile) error {
	if _, ok := j.ids[hf]; ok {
		return nil
	}
	name := hf.name
	if rel, err := filepath.Rel(j.dir, hf.name); err == nil {
		name = rel
	}
	name = filepath.ToSlash(name)
	if len(name) > maxJournalName {
		return fmt.Errorf("imagecustom: host file name %s too long for the undo journal", name)
	}
	id := uint32(len(j.ids))
	rec := []byte{recFile}
	rec = binary.LittleEndian.AppendUint32(rec, id)
	rec = binary.LittleEndian.AppendUint64(rec, uint64(hf.origSize))
	rec = binary.LittleEndian.AppendUint16(rec, uint16(len(name)))
	rec = append(rec, name...)
	if err := j.record(rec); err != nil {
		return err
	}
	j.ids[hf] = id
	return nil
}

// addBlock records the original bytes of block blk of a host file, which
// the file on disk still holds.
func (j *journal) addBlock(hf *hostFile, blk int64) error {
	off := blk * blockSize
	n := min(blockSize, hf.origSize-off)
	if _, err := hf.f.ReadAt(j.old[:n], off); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("imagecustom: read %s for the undo journal: %w", hf.name, err)
	}
	rec := make([]byte, 0, 1+4+8+4+n+4)
	rec = append(rec, recBlock)
	rec = binary.LittleEndian.AppendUint32(rec, j.ids[hf])
	rec = binary.LittleEndian.AppendUint64(rec, uint64(off))
	rec = binary.LittleEndian.AppendUint32(rec, uint32(n))
	rec = append(rec, j.old[:n]...)
	return j.record(rec)
}

// sync makes the records written so far durable.
func (j *journal) sync() error {
	if err := j.w.Flush(); err != nil {
		return fmt.Errorf("imagecustom: write undo journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("imagecustom: sync undo journal: %w", err)
	}
	return nil
}

// finish removes a journal once the host files are durable.
func (j *journal) finish() error {
	j.f.Close()
	if err := os.Remove(j.path); err != nil {
		return fmt.Errorf("imagecustom: remove undo journal: %w", err)
	}
	syncDir(filepath.Dir(j.path))
	return nil
}

// syncDir makes a folder's entries durable where the platform can.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// undoFile is what a journal says to restore in one host file.
type undoFile struct {
	name   string // path of the host file
	size   int64  // original size
	blocks []undoBlock
}

type undoBlock struct {
	off int64
	old []byte
}

// parseJournal reads a journal of either version. Records from a torn one
// on are ignored; anything else malformed is an error.
func parseJournal(jb []byte, jpath, image string) ([]*undoFile, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("imagecustom: %s: %s", jpath, fmt.Sprintf(format, args...))
	}
	if hdr := append(append([]byte(nil), journalMagic...), journalV2); len(jb) < len(hdr) && bytes.HasPrefix(hdr, jb) {
		// Torn while it was being created: no host file is written before
		// the header is durable, so there is nothing to undo.
		return []*undoFile{}, nil
	}
	if len(jb) < len(journalMagic)+1 || !bytes.HasPrefix(jb, journalMagic) {
		return nil, bad("not an undo journal")
	}
	le := binary.LittleEndian
	switch v := jb[len(journalMagic)]; v {
	case journalV1:
		p := len(journalMagic) + 1
		if len(jb) < p+8 {
			return nil, bad("version 1 journal without the image size")
		}
		uf := &undoFile{name: image, size: int64(le.Uint64(jb[p:]))}
		if uf.size < 0 {
			return nil, bad("image size %d", uf.size)
		}
		for p += 8; p+12 <= len(jb); {
			off := int64(le.Uint64(jb[p:]))
			n := int(le.Uint32(jb[p+8:]))
			end := p + 12 + n + 4
			if n > blockSize || end > len(jb) || crc32.ChecksumIEEE(jb[p:p+12+n]) != le.Uint32(jb[p+12+n:]) {
				break // a torn last record: the image was not written for it
			}
			if off < 0 {
				return nil, bad("record at %d: offset %d", p, off)
			}
			uf.blocks = append(uf.blocks, undoBlock{off, jb[p+12 : p+12+n]})
			p = end
		}
		return []*undoFile{uf}, nil
	case journalV2:
	default:
		return nil, bad("undo journal version %d (this program reads 1 and 2)", v)
	}
	dir := filepath.Dir(jpath)
	var files []*undoFile
	p := len(journalMagic) + 1
	for p < len(jb) {
		switch jb[p] {
		case recFile:
			if p+15 > len(jb) {
				return files, nil
			}
			id := le.Uint32(jb[p+1:])
			size := int64(le.Uint64(jb[p+5:]))
			n := int(le.Uint16(jb[p+13:]))
			end := p + 15 + n + 4
			if end > len(jb) || crc32.ChecksumIEEE(jb[p:p+15+n]) != le.Uint32(jb[p+15+n:]) {
				return files, nil
			}
			if id != uint32(len(files)) || size < 0 || n == 0 {
				return nil, bad("file record at %d: id %d, size %d, name of %d bytes", p, id, size, n)
			}
			name := filepath.FromSlash(string(jb[p+15 : p+15+n]))
			if !filepath.IsAbs(name) {
				name = filepath.Join(dir, name)
			}
			files = append(files, &undoFile{name: name, size: size})
			p = end
		case recBlock:
			if p+17 > len(jb) {
				return files, nil
			}
			id := le.Uint32(jb[p+1:])
			off := int64(le.Uint64(jb[p+5:]))
			n := int(le.Uint32(jb[p+13:]))
			if n > blockSize {
				return files, nil // a torn record's length
			}
			end := p + 17 + n + 4
			if end > len(jb) || crc32.ChecksumIEEE(jb[p:p+17+n]) != le.Uint32(jb[p+17+n:]) {
				return files, nil
			}
			if int(id) >= len(files) || off < 0 || off+int64(n) > files[id].size {
				return nil, bad("block record at %d: file %d, %d bytes at %d", p, id, n, off)
			}
			files[id].blocks = append(files[id].blocks, undoBlock{off, jb[p+17 : p+17+n]})
			p = end
		default:
			return files, nil // a torn record
		}
	}
	return files, nil
}

// Recover rolls the image at path back to its state before an interrupted
// write, from the undo journal beside it, then removes the journal: every
// host file the write touched — the raw image, or a VMDK's descriptor and
// extents — gets its original bytes and size back. With no journal it
// does nothing and reports false.
func Recover(path string) (bool, error) {
	jp := JournalPath(path)
	jb, err := os.ReadFile(jp)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	files, err := parseJournal(jb, jp, path)
	if err != nil {
		return false, err
	}
	// Open and lock every file before changing any.
	var opened []*os.File
	defer func() {
		for _, f := range opened {
			f.Close()
		}
	}()
	for _, uf := range files {
		f, err := os.OpenFile(uf.name, os.O_RDWR, 0)
		if err != nil {
			return false, fmt.Errorf("imagecustom: recover: %w", err)
		}
		opened = append(opened, f)
		unlock, err := lockFile(f)
		if err != nil {
			return false, err
		}
		defer unlock()
	}
	for i, uf := range files {
		f := opened[i]
		for _, b := range uf.blocks {
			if _, err := f.WriteAt(b.old, b.off); err != nil {
				return false, fmt.Errorf("imagecustom: recover %s: %w", uf.name, err)
			}
		}
		if err := f.Truncate(uf.size); err != nil {
			return false, fmt.Errorf("imagecustom: recover %s: %w", uf.name, err)
		}
		if err := f.Sync(); err != nil {
			return false, fmt.Errorf("imagecustom: recover %s: %w", uf.name, err)
		}
	}
	if err := os.Remove(jp); err != nil {
		return false, err
	}
	syncDir(filepath.Dir(jp))
	return true, nil
}
