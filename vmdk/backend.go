package vmdk

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/diskfs/go-diskfs/backend"
)

// Backend returns the virtual disk as a go-diskfs [backend.Storage], so
// that diskfs.OpenBackend reads (and, for a disk opened for writing,
// writes) the partition tables and file systems inside it. The storage
// reports a regular file of the disk's capacity; it has no operating
// system file behind it (Sys returns [backend.ErrNotSuitable]), and
// Writable returns [backend.ErrIncorrectOpenMode] unless the disk was
// opened with [Options.Write]. Closing the storage closes the disk.
//
// Read and Seek share one position, guarded by a mutex; ReadAt and
// WriteAt go straight to the disk.
func (d *Disk) Backend() backend.Storage { return &storage{d: d} }

// storage adapts a Disk to backend.Storage.
type storage struct {
	d   *Disk
	mu  sync.Mutex
	pos int64
}

// writableStorage is the storage of a writable disk, with WriteAt.
type writableStorage struct{ *storage }

// Compile-time checks.
var (
	_ backend.Storage      = (*storage)(nil)
	_ backend.WritableFile = writableStorage{}
	_ fs.FileInfo          = diskInfo{}
)

var (
	errNegativeSeek = errors.New("vmdk: seek to a negative position")
	errBadWhence    = errors.New("vmdk: seek: unknown whence")
)

// Stat describes the virtual disk as a regular file of its capacity.
func (s *storage) Stat() (fs.FileInfo, error) { return diskInfo{s.d}, nil }

// Read reads from the current position, as [io.Reader].
func (s *storage) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.d.ReadAt(p, s.pos)
	s.pos += int64(n)
	if errors.Is(err, io.EOF) && n > 0 {
		err = nil
	}
	return n, err
}

// ReadAt reads the virtual disk, as [io.ReaderAt].
func (s *storage) ReadAt(p []byte, off int64) (int, error) { return s.d.ReadAt(p, off) }

// Seek sets the position of Read, as [io.Seeker]; io.SeekEnd is
// relative to the disk's capacity.
func (s *storage) Seek(offset int64, whence int) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var pos int64
	switch whence {
	case io.SeekStart:
		pos = offset
	case io.SeekCurrent:
		pos = s.pos + offset
	case io.SeekEnd:
		pos = s.d.size + offset
	default:
		return s.pos, errBadWhence
	}
	if pos < 0 {
		return s.pos, errNegativeSeek
	}
	s.pos = pos
	return pos, nil
}

// Close closes the disk.
func (s *storage) Close() error { return s.d.Close() }

// Sys returns [backend.ErrNotSuitable]: no operating system file holds
// the virtual disk.
func (s *storage) Sys() (*os.File, error) { return nil, backend.ErrNotSuitable }

// Writable returns the storage with WriteAt when the disk was opened for
// writing, else [backend.ErrIncorrectOpenMode].
func (s *storage) Writable() (backend.WritableFile, error) {
	if !s.d.write {
		return nil, fmt.Errorf("%w: %s was opened read-only", backend.ErrIncorrectOpenMode, s.d.path)
	}
	return writableStorage{s}, nil
}

// Path returns the path the disk was opened with: its descriptor or
// monolithic file.
func (s *storage) Path() string { return s.d.path }

// WriteAt writes the virtual disk, as [io.WriterAt].
func (w writableStorage) WriteAt(p []byte, off int64) (int, error) { return w.d.WriteAt(p, off) }

// diskInfo is the fs.FileInfo of a virtual disk.
type diskInfo struct{ d *Disk }

func (i diskInfo) Name() string { return filepath.Base(i.d.path) }
func (i diskInfo) Size() int64  { return i.d.size }
func (i diskInfo) Mode() fs.FileMode {
	if i.d.write {
		return 0o644
	}
	return 0o444
}
func (i diskInfo) ModTime() time.Time { return time.Time{} }
func (i diskInfo) IsDir() bool        { return false }
func (i diskInfo) Sys() any           { return nil }
