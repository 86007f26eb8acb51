package vmdk

import (
	"errors"
	"os"
	"syscall"
)

// Linux's lseek whence values for finding a file's data and holes.
const (
	seekData = 3
	seekHole = 4
)

// fileDataRun says what a raw file holds from off on (off < size): data
// up to the next hole, or zeros up to the next data, as the file system
// reports them; without that support, all data.
func fileDataRun(f *os.File, off, size int64) (bool, int64, error) {
	start, err := f.Seek(off, seekData)
	switch {
	case errors.Is(err, syscall.ENXIO):
		return false, size - off, nil // only a hole up to the end
	case err != nil || start < off:
		return true, size - off, nil
	case start > off:
		return false, min(start, size) - off, nil
	}
	end, err := f.Seek(off, seekHole)
	if err != nil || end <= off {
		return true, size - off, nil
	}
	return true, min(end, size) - off, nil
}
