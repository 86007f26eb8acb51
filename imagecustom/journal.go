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
	"sort"
)

// The undo journal. Before any byte of the image is overwritten in place,
// the original content of the 4 KiB blocks about to change is appended to
// a journal file beside the image and made durable; then the image is
// written. Commit makes the image durable and deletes the journal. A run
// that stops before that leaves the journal, and [Recover] puts the
// original bytes (and size) back exactly.
//
// Journal file: the header "IMAGECUSTOM-UNDO\x00\x01" (magic, version),
// the image's original size (u64 LE), then records of [offset u64, length
// u32, old bytes, CRC-32 (IEEE) of the preceding record bytes]. A record
// whose CRC does not match ends the journal: it was being written when the
// run stopped, and the image was not yet touched for it.

// journalSuffix names the journal: IMAGE + suffix.
const journalSuffix = ".imagecustom-undo"

var journalMagic = []byte("IMAGECUSTOM-UNDO\x00\x01")

// blockSize is the unit of change tracking and journaling.
const blockSize = 4096

// flushThreshold is how much changed data is kept in memory before it is
// journaled and written: memory stays bounded, fsyncs few.
const flushThreshold = 64 << 20

// JournalPath returns the path of the undo journal of the image at path.
func JournalPath(path string) string { return path + journalSuffix }

// overlay holds changed blocks of a file in memory on top of it.
type overlay struct {
	base  *os.File
	size  int64
	dirty map[int64][]byte // block index -> new content
	bytes int64
}

func newOverlay(f *os.File, size int64) *overlay {
	return &overlay{base: f, size: size, dirty: map[int64][]byte{}}
}

func (o *overlay) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("imagecustom: negative offset")
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= o.size {
			return n, io.EOF
		}
		blk := pos / blockSize
		within := int(pos % blockSize)
		chunk := min(len(p)-n, blockSize-within, int(o.size-pos))
		if b, ok := o.dirty[blk]; ok {
			copy(p[n:n+chunk], b[within:])
		} else {
			// Read straight through until the next dirty block.
			end := n + chunk
			for end < len(p) {
				next := (off + int64(end)) / blockSize
				if _, ok := o.dirty[next]; ok || off+int64(end) >= o.size {
					break
				}
				end = min(len(p), end+blockSize, int(o.size-off))
			}
			if _, err := o.base.ReadAt(p[n:end], pos); err != nil && !errors.Is(err, io.EOF) {
				return n, err
			}
			chunk = end - n
		}
		n += chunk
	}
	return n, nil
}

func (o *overlay) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > o.size {
		return 0, fmt.Errorf("imagecustom: write of %d bytes at %d outside the %d-byte image", len(p), off, o.size)
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		blk := pos / blockSize
		within := int(pos % blockSize)
		chunk := min(len(p)-n, blockSize-within)
		b, ok := o.dirty[blk]
		if !ok {
			b = make([]byte, blockSize)
			if chunk < blockSize {
				if _, err := o.base.ReadAt(b[:min(blockSize, o.size-blk*blockSize)], blk*blockSize); err != nil && !errors.Is(err, io.EOF) {
					return n, err
				}
			}
			o.dirty[blk] = b
			o.bytes += blockSize
		}
		copy(b[within:], p[n:n+chunk])
		n += chunk
	}
	return n, nil
}

// sortedBlocks returns the dirty block indexes in order.
func (o *overlay) sortedBlocks() []int64 {
	blocks := make([]int64, 0, len(o.dirty))
	for b := range o.dirty {
		blocks = append(blocks, b)
	}
	sort.Slice(blocks, func(i, j int) bool { return blocks[i] < blocks[j] })
	return blocks
}

// Change is a range of the image a write changed.
type Change struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
}

// changes returns the dirty blocks whose content differs from the base,
// coalesced into ranges.
func (o *overlay) changes() ([]Change, error) {
	var out []Change
	old := make([]byte, blockSize)
	for _, blk := range o.sortedBlocks() {
		n := min(blockSize, o.size-blk*blockSize)
		if _, err := o.base.ReadAt(old[:n], blk*blockSize); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if bytes.Equal(old[:n], o.dirty[blk][:n]) {
			continue
		}
		off := blk * blockSize
		if k := len(out) - 1; k >= 0 && out[k].Offset+out[k].Length == off {
			out[k].Length += n
		} else {
			out = append(out, Change{off, n})
		}
	}
	return out, nil
}

// journal appends original blocks of the image to the undo journal.
type journal struct {
	path      string
	f         *os.File
	journaled map[int64]bool // blocks whose original content is in the journal
}

// createJournal starts the journal of an image of the given size.
func createJournal(path string, size int64) (*journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("imagecustom: create undo journal: %w", err)
	}
	hdr := append(append([]byte(nil), journalMagic...), make([]byte, 8)...)
	binary.LittleEndian.PutUint64(hdr[len(journalMagic):], uint64(size))
	if _, err := f.Write(hdr); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	if err := syncFileAndDir(f, path); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return &journal{path: path, f: f, journaled: map[int64]bool{}}, nil
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

// flush journals the original content of the overlay's dirty blocks, makes
// the journal durable, then writes the blocks to the image. failAfter > 0
// is the test seam: the failAfter-th block write fails.
func (j *journal) flush(o *overlay, failAfter int) error {
	w := bufio.NewWriterSize(j.f, 1<<20)
	old := make([]byte, blockSize)
	blocks := o.sortedBlocks()
	for _, blk := range blocks {
		if j.journaled[blk] {
			continue
		}
		n := min(blockSize, o.size-blk*blockSize)
		if _, err := o.base.ReadAt(old[:n], blk*blockSize); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		rec := make([]byte, 12, 12+n+4)
		binary.LittleEndian.PutUint64(rec, uint64(blk*blockSize))
		binary.LittleEndian.PutUint32(rec[8:], uint32(n))
		rec = append(rec, old[:n]...)
		rec = binary.LittleEndian.AppendUint32(rec, crc32.ChecksumIEEE(rec))
		if _, err := w.Write(rec); err != nil {
			return fmt.Errorf("imagecustom: write undo journal: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("imagecustom: write undo journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("imagecustom: sync undo journal: %w", err)
	}
	for _, blk := range blocks {
		j.journaled[blk] = true
	}
	for i, blk := range blocks {
		if failAfter > 0 && i+1 >= failAfter {
			return errInjected
		}
		n := min(blockSize, o.size-blk*blockSize)
		if _, err := o.base.WriteAt(o.dirty[blk][:n], blk*blockSize); err != nil {
			return fmt.Errorf("imagecustom: write image: %w", err)
		}
		delete(o.dirty, blk)
	}
	o.bytes = 0
	return nil
}

// finish removes a journal once the image is durable.
func (j *journal) finish() error {
	j.f.Close()
	if err := os.Remove(j.path); err != nil {
		return fmt.Errorf("imagecustom: remove undo journal: %w", err)
	}
	if d, err := os.Open(filepath.Dir(j.path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Recover rolls the image at path back to its state before an interrupted
// write, from the undo journal beside it, then removes the journal. With
// no journal it does nothing and reports false.
func Recover(path string) (bool, error) {
	jp := JournalPath(path)
	jb, err := os.ReadFile(jp)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !bytes.HasPrefix(jb, journalMagic) || len(jb) < len(journalMagic)+8 {
		return false, fmt.Errorf("imagecustom: %s is not an undo journal of this version", jp)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return false, err
	}
	defer f.Close()
	unlock, err := lockFile(f)
	if err != nil {
		return false, err
	}
	defer unlock()
	size := int64(binary.LittleEndian.Uint64(jb[len(journalMagic):]))
	p := len(journalMagic) + 8
	for p+12 <= len(jb) {
		off := int64(binary.LittleEndian.Uint64(jb[p:]))
		n := int(binary.LittleEndian.Uint32(jb[p+8:]))
		end := p + 12 + n + 4
		if n > blockSize || end > len(jb) || crc32.ChecksumIEEE(jb[p:p+12+n]) != binary.LittleEndian.Uint32(jb[p+12+n:]) {
			break // a torn last record: the image was not written for it
		}
		if _, err := f.WriteAt(jb[p+12:p+12+n], off); err != nil {
			return false, fmt.Errorf("imagecustom: recover: %w", err)
		}
		p = end
	}
	if err := f.Truncate(size); err != nil {
		return false, err
	}
	if err := f.Sync(); err != nil {
		return false, err
	}
	if err := os.Remove(jp); err != nil {
		return false, err
	}
	return true, nil
}
