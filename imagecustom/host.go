package imagecustom

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/imagecustom/go-imagecustom/vmdk"
)

// Host files. Every file of the host an image writes — the raw image, or
// a VMDK's descriptor and extent files — is opened through a hostSet. A
// hostFile keeps the session's changes to its file in memory (changed
// 4 KiB blocks, and the size after appends and truncations) and serves
// reads with them laid over the file. hostSet.flush journals the original
// content of every block about to be overwritten or cut off, and each
// file's original size, makes the journal durable, and only then writes
// the files. The layer above (the raw overlay, or vmdk.Disk through
// vmdk.Options.OpenFile) sees one consistent view throughout, and no
// byte reaches a host file without its undo record on disk first.

// hostSet is the host files of one image opened for writing.
type hostSet struct {
	image   string // the image's path (descriptor or raw file); the journal is beside it
	dryRun  bool   // open every file read-only; writes are refused
	mu      sync.Mutex
	files   map[string]*hostFile // by absolute path
	order   []*hostFile          // in opening order
	journal *journal             // created at the first flush that writes

	failAfter int // test seam: the failAfter-th host write fails (0: never)
	ops       int // host writes (WriteAt, Truncate) done so far
}

func newHostSet(image string, dryRun bool) *hostSet {
	return &hostSet{image: image, dryRun: dryRun, files: map[string]*hostFile{}}
}

// open opens a host file, once per path: later opens share its state. A
// file opened for writing is locked exclusively, others shared, so a
// second writer is refused with ErrLocked. In a dry run every file is
// opened read-only. It has the signature of vmdk.Options.OpenFile.
func (s *hostSet) open(name string, flag int) (vmdk.File, error) {
	hf, err := s.openFile(name, flag)
	if err != nil {
		return nil, err // a nil *hostFile must not become a non-nil File
	}
	return hf, nil
}

func (s *hostSet) openFile(name string, flag int) (*hostFile, error) {
	if flag&(os.O_CREATE|os.O_TRUNC|os.O_APPEND) != 0 {
		return nil, fmt.Errorf("imagecustom: %s: creating or truncating a host file at open is not journaled", name)
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return nil, err
	}
	wantWrite := flag&(os.O_WRONLY|os.O_RDWR) != 0 && !s.dryRun
	s.mu.Lock()
	defer s.mu.Unlock()
	if hf, ok := s.files[abs]; ok {
		if wantWrite && !hf.writable {
			return nil, fmt.Errorf("imagecustom: %s is open read-only in this session and now wanted for writing", name)
		}
		return hf, nil
	}
	osFlag, lock := os.O_RDONLY, lockFileShared
	if wantWrite {
		osFlag, lock = os.O_RDWR, lockFile
	}
	f, err := os.OpenFile(abs, osFlag, 0)
	if err != nil {
		return nil, err
	}
	unlock, err := lock(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		unlock()
		f.Close()
		return nil, err
	}
	hf := &hostFile{set: s, name: abs, f: f, info: fi, writable: wantWrite, unlock: unlock,
		origSize: fi.Size(), diskSize: fi.Size(), low: fi.Size(),
		blocks: newBlocks(fi.Size()), journaled: map[int64]bool{}}
	s.files[abs] = hf
	s.order = append(s.order, hf)
	return hf, nil
}

// flush journals and then writes every host file's pending changes.
func (s *hostSet) flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var files []*hostFile
	for _, hf := range s.order {
		if hf.changed() {
			files = append(files, hf)
		}
	}
	if len(files) == 0 {
		return nil
	}
	if s.journal == nil {
		j, err := createJournal(JournalPath(s.image))
		if err != nil {
			return err
		}
		s.journal = j
	}
	// 1. The undo records: each file's original size, once, and the
	// original bytes of every block the writes below overwrite or cut
	// off. A block not yet journaled still holds its original bytes.
	newly := map[*hostFile][]int64{}
	for _, hf := range files {
		if err := s.journal.addFile(hf); err != nil {
			return err
		}
		for _, blk := range hf.blocksToJournal() {
			if err := s.journal.addBlock(hf, blk); err != nil {
				return err
			}
			newly[hf] = append(newly[hf], blk)
		}
	}
	if err := s.journal.sync(); err != nil {
		return err
	}
	for hf, blks := range newly {
		for _, blk := range blks {
			hf.journaled[blk] = true
		}
	}
	// 2. The host writes.
	for _, hf := range files {
		if err := hf.apply(); err != nil {
			return err
		}
	}
	return nil
}

// hostOp counts one host write against the failAfter seam.
func (s *hostSet) hostOp() error {
	s.ops++
	if s.failAfter > 0 && s.ops >= s.failAfter {
		return errInjected
	}
	return nil
}

// finish makes the written host files durable and removes the journal.
func (s *hostSet) finish() error {
	if s.journal == nil {
		return nil
	}
	for _, hf := range s.order {
		if hf.written {
			if err := hf.f.Sync(); err != nil {
				return fmt.Errorf("imagecustom: sync %s: %w", hf.name, err)
			}
		}
	}
	err := s.journal.finish()
	s.journal = nil
	return err
}

// close closes every host file (and a journal left pending), dropping
// changes not flushed.
func (s *hostSet) close() error {
	var first error
	if s.journal != nil {
		s.journal.f.Close()
		s.journal = nil
	}
	for _, hf := range s.order {
		hf.unlock()
		if err := hf.f.Close(); err != nil && first == nil {
			first = err
		}
	}
	s.order, s.files = nil, nil
	return first
}

// hostFile is one host file with the session's unwritten changes over it.
// It implements vmdk.File; Close and Sync do nothing (the hostSet closes
// the file, and makes it durable at commit).
type hostFile struct {
	set      *hostSet
	name     string // absolute path
	f        *os.File
	info     fs.FileInfo
	writable bool
	unlock   func()

	origSize int64 // size when opened: what Recover truncates back to
	diskSize int64 // size of the file on disk now
	// blocks are the pending changes, and size the size with them.
	blocks
	// low is the smallest size the file had since the last flush: bytes
	// of the file on disk at or past it were cut off and read as zeros.
	low       int64
	journaled map[int64]bool // blocks whose original bytes are in the journal
	written   bool           // some change reached the file
}

var _ vmdk.File = (*hostFile)(nil)

func (hf *hostFile) changed() bool {
	return len(hf.dirty) > 0 || hf.size != hf.diskSize || hf.low < hf.diskSize
}

// Name returns the file's absolute path.
func (hf *hostFile) Name() string { return hf.name }

// valid returns the end of the bytes still read from the file on disk.
func (hf *hostFile) valid() int64 { return min(hf.low, hf.diskSize) }

// readBase reads what the file holds at off without the pending blocks:
// the disk's bytes before valid(), zeros after.
func (hf *hostFile) readBase(p []byte, off int64) error {
	v := hf.valid()
	n := 0
	if off < v {
		n = int(min(int64(len(p)), v-off))
		if _, err := hf.f.ReadAt(p[:n], off); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("imagecustom: read %s: %w", hf.name, err)
		}
	}
	clear(p[n:])
	return nil
}

// ReadAt reads the file with its pending changes, as [io.ReaderAt].
func (hf *hostFile) ReadAt(p []byte, off int64) (int, error) {
	hf.set.mu.Lock()
	defer hf.set.mu.Unlock()
	if off < 0 {
		return 0, fmt.Errorf("imagecustom: read %s at negative offset", hf.name)
	}
	return hf.readAt(p, off, hf.readBase)
}

// WriteAt records a write, as [io.WriterAt]; it reaches the file at the
// next flush.
func (hf *hostFile) WriteAt(p []byte, off int64) (int, error) {
	if !hf.writable {
		return 0, fmt.Errorf("imagecustom: %s is open read-only", hf.name)
	}
	hf.set.mu.Lock()
	defer hf.set.mu.Unlock()
	if off < 0 {
		return 0, fmt.Errorf("imagecustom: write %s at negative offset", hf.name)
	}
	if len(p) == 0 {
		return 0, nil
	}
	return hf.writeAt(p, off, hf.readBase)
}

// Truncate records a change of size; bytes cut off read as zeros if the
// file grows again.
func (hf *hostFile) Truncate(size int64) error {
	if !hf.writable {
		return fmt.Errorf("imagecustom: %s is open read-only", hf.name)
	}
	if size < 0 {
		return fmt.Errorf("imagecustom: truncate %s to %d bytes", hf.name, size)
	}
	hf.set.mu.Lock()
	defer hf.set.mu.Unlock()
	if size < hf.size {
		hf.low = min(hf.low, size)
	}
	hf.truncate(size)
	return nil
}

// Stat describes the file with its pending size.
func (hf *hostFile) Stat() (fs.FileInfo, error) {
	hf.set.mu.Lock()
	defer hf.set.mu.Unlock()
	return sizedInfo{hf.info, hf.size}, nil
}

// Sync does nothing: the set makes the files durable at commit, after
// the journal.
func (hf *hostFile) Sync() error { return nil }

// Close does nothing: the set closes its files with the image.
func (hf *hostFile) Close() error { return nil }

type sizedInfo struct {
	fs.FileInfo
	size int64
}

func (i sizedInfo) Size() int64 { return i.size }

// blocksToJournal lists the blocks of the original file the pending
// changes overwrite or cut off and whose bytes the journal lacks.
func (hf *hostFile) blocksToJournal() []int64 {
	need := map[int64]bool{}
	for blk := range hf.dirty {
		if blk*blockSize < hf.origSize && !hf.journaled[blk] {
			need[blk] = true
		}
	}
	if hf.low < hf.diskSize {
		end := min(hf.diskSize, hf.origSize)
		for blk := hf.low / blockSize; blk*blockSize < end; blk++ {
			if !hf.journaled[blk] {
				need[blk] = true
			}
		}
	}
	out := make([]int64, 0, len(need))
	for blk := range need {
		out = append(out, blk)
	}
	sort.Slice(out, func(i, k int) bool { return out[i] < out[k] })
	return out
}

// maxHostWrite bounds one coalesced host write.
const maxHostWrite = 1 << 20

// apply writes the pending changes to the file: the cut, the blocks (runs
// of adjacent blocks in one write), the final size.
func (hf *hostFile) apply() error {
	s := hf.set
	if hf.low < hf.diskSize {
		if err := s.hostOp(); err != nil {
			return err
		}
		if err := hf.f.Truncate(hf.low); err != nil {
			return fmt.Errorf("imagecustom: truncate %s: %w", hf.name, err)
		}
		hf.written = true
		hf.diskSize = hf.low
	}
	blocks := hf.sorted()
	buf := make([]byte, 0, maxHostWrite)
	for i := 0; i < len(blocks); {
		start := blocks[i] * blockSize
		buf = buf[:0]
		k := i
		for k < len(blocks) && blocks[k] == blocks[i]+int64(k-i) && len(buf) < maxHostWrite {
			b := hf.dirty[blocks[k]]
			buf = append(buf, b[:min(blockSize, hf.size-blocks[k]*blockSize)]...)
			k++
		}
		if err := s.hostOp(); err != nil {
			// The seam tears the write, as a crash in its middle would.
			hf.f.WriteAt(buf[:len(buf)/2], start)
			return err
		}
		if _, err := hf.f.WriteAt(buf, start); err != nil {
			return fmt.Errorf("imagecustom: write %s: %w", hf.name, err)
		}
		hf.written = true
		hf.diskSize = max(hf.diskSize, start+int64(len(buf)))
		for _, blk := range blocks[i:k] {
			delete(hf.dirty, blk)
		}
		i = k
	}
	if hf.diskSize != hf.size {
		if err := s.hostOp(); err != nil {
			return err
		}
		if err := hf.f.Truncate(hf.size); err != nil {
			return fmt.Errorf("imagecustom: truncate %s: %w", hf.name, err)
		}
		hf.written = true
		hf.diskSize = hf.size
	}
	hf.low = hf.size
	return nil
}
