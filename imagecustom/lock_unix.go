//go:build unix

package imagecustom

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on f, failing at once with
// ErrLocked when another process holds one.
func lockFile(f *os.File) (unlock func(), err error) {
	return flock(f, syscall.LOCK_EX)
}

// lockFileShared takes a shared lock: readers that must not see a write
// half done.
func lockFileShared(f *os.File) (unlock func(), err error) {
	return flock(f, syscall.LOCK_SH)
}

func flock(f *os.File, how int) (func(), error) {
	err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, fmt.Errorf("%w: %s is being written by another process", ErrLocked, f.Name())
	}
	if err != nil {
		return nil, fmt.Errorf("imagecustom: lock %s: %w", f.Name(), err)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }, nil
}
