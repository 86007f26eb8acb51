package imagecustom

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
)

var (
	// ErrUnsafe reports a write refused for safety; nothing was written.
	// The error says why and what to do: for example an undo journal left
	// by an interrupted run ([Recover] first), or an unclean NTFS volume.
	ErrUnsafe = errors.New("imagecustom: refused for safety")
	// ErrLocked reports an image another process is writing. It matches
	// [ErrUnsafe] too.
	ErrLocked = fmt.Errorf("%w: image locked", ErrUnsafe)
)

// WriteOptions tunes [OpenRW].
type WriteOptions struct {
	// DryRun keeps every write in memory: the whole operation runs and can
	// be read back, [Image.Changes] lists what would change, and nothing
	// reaches the image.
	DryRun bool
}

// OpenRW opens the disk image at path for writing. Writes are collected in
// memory and reach the image only through the undo journal (see
// [Recover]): at most 64 MiB at a time, and finally at [Image.Commit].
// OpenRW refuses, with an error matching [ErrUnsafe], an image with a
// pending journal or one another process is writing.
func OpenRW(path string, opts *WriteOptions) (*Image, error) {
	if opts == nil {
		opts = &WriteOptions{}
	}
	if _, err := os.Stat(JournalPath(path)); err == nil {
		return nil, fmt.Errorf("%w: %s holds the undo journal of an interrupted write: run 'imagecustom recover %s' to restore the image first",
			ErrUnsafe, JournalPath(path), path)
	}
	flag := os.O_RDWR
	if opts.DryRun {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, err
	}
	lock := lockFile
	if opts.DryRun {
		lock = lockFileShared
	}
	unlock, err := lock(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	img, err := newImage(f)
	if err != nil {
		unlock()
		f.Close()
		return nil, fmt.Errorf("imagecustom: %s: %w", path, err)
	}
	img.path = path
	img.ov = newOverlay(f, img.size)
	img.dryRun = opts.DryRun
	img.unlock = unlock
	return img, nil
}

// WriteAt writes to the virtual disk of an image opened with [OpenRW], as
// [io.WriterAt]. The bytes are visible to ReadAt at once.
func (img *Image) WriteAt(p []byte, off int64) (int, error) {
	if img.ov == nil {
		return 0, errors.New("imagecustom: image opened read-only")
	}
	if img.committed {
		return 0, errors.New("imagecustom: write after Commit")
	}
	n, err := img.ov.WriteAt(p, off)
	if err != nil || img.dryRun || img.ov.bytes < flushThreshold {
		return n, err
	}
	return n, img.flush()
}

// flush journals and writes the changes held in memory.
func (img *Image) flush() error {
	if len(img.ov.dirty) == 0 {
		return nil
	}
	ch, err := img.ov.changes()
	if err != nil {
		return err
	}
	img.changed = mergeChanges(img.changed, ch)
	if img.journal == nil {
		if img.journal, err = createJournal(JournalPath(img.path), img.size); err != nil {
			return err
		}
	}
	return img.journal.flush(img.ov, img.failAfter)
}

// mergeChanges adds ranges to a sorted list of ranges, coalescing.
func mergeChanges(a, b []Change) []Change {
	all := append(append([]Change(nil), a...), b...)
	if len(all) == 0 {
		return nil
	}
	sortChanges(all)
	out := all[:1]
	for _, c := range all[1:] {
		last := &out[len(out)-1]
		if c.Offset <= last.Offset+last.Length {
			last.Length = max(last.Length, c.Offset+c.Length-last.Offset)
			continue
		}
		out = append(out, c)
	}
	return out
}

// Changes lists the ranges of the disk that differ from the original: for
// a dry run, what a real run would write.
func (img *Image) Changes() ([]Change, error) {
	if img.ov == nil {
		return nil, nil
	}
	pending, err := img.ov.changes()
	if err != nil {
		return nil, err
	}
	return mergeChanges(img.changed, pending), nil
}

// Commit makes every write durable in the image and removes the undo
// journal. For a dry run it does nothing: the changes are dropped at
// Close.
func (img *Image) Commit() error {
	if img.ov == nil || img.dryRun {
		return nil
	}
	if err := img.flush(); err != nil {
		return err
	}
	img.committed = true
	if img.journal == nil {
		return nil
	}
	if err := img.f.Sync(); err != nil {
		return fmt.Errorf("imagecustom: sync image: %w", err)
	}
	return img.journal.finish()
}

// OpenNTFSRW opens the NTFS volume of partition index (0: the Windows
// system volume) of an image opened with [OpenRW], for writing.
func (img *Image) OpenNTFSRW(index int, opts *ntfs.Options) (*ntfs.Volume, Partition, error) {
	if img.ov == nil {
		return nil, Partition{}, errors.New("imagecustom: image opened read-only")
	}
	p, err := img.ntfsPartition(index)
	if err != nil {
		return nil, p, err
	}
	v, err := ntfs.OpenRW(&sectionRW{img: img, off: p.Offset, size: p.Size}, p.Size, opts)
	if err != nil {
		return nil, p, fmt.Errorf("partition %d: %w", p.Index, err)
	}
	return v, p, nil
}

// sectionRW is a partition of an image as a ReadWriterAt.
type sectionRW struct {
	img       *Image
	off, size int64
}

func (s *sectionRW) ReadAt(p []byte, off int64) (int, error) {
	if off >= s.size {
		return 0, io.EOF
	}
	var eof error
	if int64(len(p)) > s.size-off {
		p, eof = p[:s.size-off], io.EOF
	}
	n, err := s.img.ReadAt(p, s.off+off)
	if err == nil {
		err = eof
	}
	return n, err
}

func (s *sectionRW) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > s.size {
		return 0, fmt.Errorf("imagecustom: write of %d bytes at %d outside the %d-byte partition", len(p), off, s.size)
	}
	return s.img.WriteAt(p, s.off+off)
}
