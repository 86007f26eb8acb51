package ntfs

import (
	"errors"
	"fmt"
)

// Sentinel errors, matched with [errors.Is].
var (
	// ErrCorrupt reports a volume whose structures are inconsistent. The
	// error is a [*CorruptError] saying what and where.
	ErrCorrupt = errors.New("ntfs: corrupt volume")
	// ErrUnsupported reports a valid volume feature this package does not
	// handle; the error text names the feature.
	ErrUnsupported = errors.New("ntfs: unsupported")
	// ErrUnsafe reports a volume that must not be written now: its
	// $LogFile holds unreplayed changes, it is hibernated or fast-started,
	// or chkdsk is pending. Nothing was written.
	ErrUnsafe = errors.New("ntfs: unsafe to write")
	// ErrReparsePoint reports a path that passes through a junction or
	// symbolic link, which this package reports but never follows.
	ErrReparsePoint = errors.New("ntfs: path crosses a reparse point")
)

// CorruptError describes a corrupt structure: what is wrong and where. It
// unwraps to [ErrCorrupt], and to Err when Err is set.
type CorruptError struct {
	Offset int64  // byte offset in the volume of the structure, or -1 if unknown
	What   string // the structure and the problem, e.g. "MFT record 35: attribute at 0x98 overruns the record"
	Err    error  // an underlying cause, if any
}

func (e *CorruptError) Error() string {
	s := "ntfs: " + e.What
	if e.Offset >= 0 {
		s = fmt.Sprintf("ntfs: at 0x%x: %s", e.Offset, e.What)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns ErrCorrupt and the cause.
func (e *CorruptError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrCorrupt, e.Err}
	}
	return []error{ErrCorrupt}
}

// corrupt returns a *CorruptError at offset off with a formatted message.
func corrupt(off int64, format string, args ...any) error {
	return &CorruptError{Offset: off, What: fmt.Sprintf(format, args...)}
}

// unsupported returns an error wrapping ErrUnsupported that names the feature.
func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, args...))
}
