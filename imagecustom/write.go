package imagecustom

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/imagecustom/go-imagecustom/vmdk"
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
	// Child, when set, leaves the image untouched and writes the changes
	// to a new VMDK delta disk at this path, on top of it (see
	// [OpenRW]). It cannot be combined with DryRun.
	Child string
}

// OpenRW opens the disk image at path for writing: a raw image, or a VMDK
// (its descriptor or monolithic sparse file) whose extents are sparse or
// flat. Writes are collected in memory and reach the host files only
// through the undo journal (see [Recover]): at most 64 MiB at a time, and
// finally at [Image.Commit]. Every host file is locked while the image is
// open. OpenRW refuses, with an error matching [ErrUnsafe], an image with a
// pending journal, one another process is writing ([ErrLocked]), a VMDK
// whose uncleanShutdown flag is set, and a streamOptimized VMDK (its
// compressed grains cannot be rewritten: write a child disk or convert
// it). With [WriteOptions.DryRun] every host file is opened read-only.
//
// With [WriteOptions.Child], OpenRW first creates the child: a
// monolithicSparse VMDK delta disk whose reads fall through to the image
// and which takes every write, so the image's own files are only ever
// read (and share-locked). A VMDK image is the child's parent as it is; a
// raw image is first wrapped by a monolithicFlat descriptor made beside
// the child, CHILD-base.vmdk without the child's extension, which names
// the raw file (relative to it) as its one flat extent — VMware and qemu
// open the chain through it. The child and that descriptor are removed
// again if the image is closed without [Image.Commit].
func OpenRW(path string, opts *WriteOptions) (*Image, error) {
	if opts == nil {
		opts = &WriteOptions{}
	}
	var created []string
	if opts.Child != "" {
		if opts.DryRun {
			return nil, errors.New("imagecustom: a dry run writes nothing, not even a child disk: use DryRun or Child, not both")
		}
		if _, err := os.Stat(JournalPath(path)); err == nil {
			return nil, fmt.Errorf("%w: %s holds the undo journal of an interrupted write: run 'imagecustom recover %s' before using it as a base",
				ErrUnsafe, JournalPath(path), path)
		}
		var err error
		if created, err = createChild(path, opts.Child); err != nil {
			return nil, err
		}
		path = opts.Child
	}
	img, err := openRWPath(path, opts)
	if err != nil {
		removeCreated(created)
		return nil, err
	}
	img.created = created
	return img, nil
}

func openRWPath(path string, opts *WriteOptions) (*Image, error) {
	if _, err := os.Stat(JournalPath(path)); err == nil {
		return nil, fmt.Errorf("%w: %s holds the undo journal of an interrupted write: run 'imagecustom recover %s' to restore the image first",
			ErrUnsafe, JournalPath(path), path)
	}
	hosts := newHostSet(path, opts.DryRun)
	img, err := openRW(path, hosts)
	if err != nil {
		hosts.close()
		return nil, fmt.Errorf("imagecustom: %s: %w", path, err)
	}
	img.path = path
	img.hosts = hosts
	img.ov = newOverlay(img.r, img.size)
	img.dryRun = opts.DryRun
	return img, nil
}

func openRW(path string, hosts *hostSet) (*Image, error) {
	hf, err := hosts.openFile(path, os.O_RDWR)
	if err != nil {
		return nil, err
	}
	isVMDK, err := detectVMDK(hf)
	if err != nil {
		return nil, err
	}
	if !isVMDK {
		return newImage(hf, hf.size, "raw")
	}
	d, err := openVMDKRW(path, hosts)
	if err != nil {
		return nil, err
	}
	img, err := newImage(d, d.Size(), "vmdk/"+d.Descriptor().CreateType)
	if err != nil {
		d.Close()
		return nil, err
	}
	img.disk = d
	return img, nil
}

// openVMDKRW opens a VMDK for writing with its host files in hosts.
func openVMDKRW(path string, hosts *hostSet) (*vmdk.Disk, error) {
	d, err := vmdk.Open(path, &vmdk.Options{Write: true, OpenFile: hosts.open})
	switch {
	case err == nil:
		return d, nil
	case errors.Is(err, vmdk.ErrReadOnly):
		return nil, &refusal{msg: ErrUnsafe.Error() + ": a streamOptimized VMDK cannot be written in place (its grains are compressed): " +
			"write the changes to a child disk (vmdk snapshot) or convert it to another subformat first (vmdk convert)", errs: []error{ErrUnsafe, err}}
	case errors.Is(err, vmdk.ErrUnclean):
		return nil, fmt.Errorf("%w: the VMDK was not closed cleanly (a crashed writer, or one still running): check it with 'imagecustom vmdk check' first: %w", ErrUnsafe, err)
	}
	return nil, vmdkError(err)
}

// refusal is an error with its own message that matches ErrUnsafe and
// the error of the layer below, whose text it replaces.
type refusal struct {
	msg  string
	errs []error
}

func (e *refusal) Error() string   { return e.msg }
func (e *refusal) Unwrap() []error { return e.errs }

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
	if err != nil || img.dryRun || img.ov.held() < flushThreshold {
		return n, err
	}
	return n, img.flush(false)
}

// flush moves the changed blocks held in memory to the virtual disk — the
// host files' pending changes — and then journals and writes those. At
// the final flush a VMDK is closed first, so that what it writes as it
// closes (the clean flag) goes through the journal too.
func (img *Image) flush(final bool) error {
	blocks, err := img.ov.changedBlocks()
	if err != nil {
		return err
	}
	img.changed = mergeChanges(img.changed, blockRanges(blocks, img.size))
	var w io.WriterAt = img.disk
	if img.disk == nil {
		w = img.r.(*hostFile)
	}
	for _, blk := range blocks {
		n := min(blockSize, img.size-blk*blockSize)
		if _, err := w.WriteAt(img.ov.dirty[blk][:n], blk*blockSize); err != nil {
			return fmt.Errorf("imagecustom: write image: %w", err)
		}
		delete(img.ov.dirty, blk)
	}
	clear(img.ov.dirty) // the rest equals the image
	if img.disk != nil && final {
		if err := img.disk.Close(); err != nil {
			return err
		}
		img.diskClosed = true
	}
	img.hosts.failAfter = img.failAfter
	if err := img.hosts.flush(); err != nil {
		return err
	}
	if img.disk != nil {
		// Reopen the VMDK over the files as now written, so that it
		// finds the grains it appended in this session when it reads
		// them back.
		return img.reopenDisk(!final)
	}
	return nil
}

// reopenDisk opens the VMDK again through the host files.
func (img *Image) reopenDisk(write bool) error {
	if !img.diskClosed {
		if err := img.disk.Close(); err != nil {
			return err
		}
		img.diskClosed = true
	}
	d, err := vmdk.Open(img.path, &vmdk.Options{Write: write, OpenFile: img.hosts.open})
	if err != nil {
		return fmt.Errorf("imagecustom: reopen %s: %w", img.path, err)
	}
	img.disk, img.diskClosed, img.r, img.ov.base = d, false, d, d
	return nil
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
	if img.ov == nil || img.dryRun || img.committed {
		return nil
	}
	if err := img.flush(true); err != nil {
		return err
	}
	img.committed = true
	return img.hosts.finish()
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
