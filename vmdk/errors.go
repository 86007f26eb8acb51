package vmdk

import (
	"errors"
	"fmt"
)

// Sentinel errors, matched with [errors.Is].
var (
	// ErrCorrupt reports an inconsistent disk; the error is a
	// [*CorruptError] naming the file and offset.
	ErrCorrupt = errors.New("vmdk: corrupt")
	// ErrUnsupported reports a recognised but unsupported subformat or
	// feature; the text names it.
	ErrUnsupported = errors.New("vmdk: unsupported")
	// ErrReadOnly reports a write to a disk that cannot take it in place:
	// opened read-only, streamOptimized (write a child disk or convert),
	// or a read-only extent.
	ErrReadOnly = errors.New("vmdk: not writable")
	// ErrUnclean reports a sparse extent whose uncleanShutdown flag is set:
	// the program that last wrote it did not close it.
	ErrUnclean = errors.New("vmdk: disk was not closed cleanly")
	// ErrChain reports a broken delta disk chain: a missing parent, a
	// content ID mismatch, or a cycle.
	ErrChain = errors.New("vmdk: broken parent chain")
)

// CorruptError describes a corrupt structure: the file, the offset in it,
// and what is wrong.
type CorruptError struct {
	File   string // the file concerned
	Offset int64  // byte offset in that file, -1 if unknown
	What   string
	Err    error
}

func (e *CorruptError) Error() string {
	s := "vmdk: " + e.File + ": " + e.What
	if e.Offset >= 0 {
		s = fmt.Sprintf("vmdk: %s at 0x%x: %s", e.File, e.Offset, e.What)
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

func corrupt(file string, off int64, format string, args ...any) error {
	return &CorruptError{File: file, Offset: off, What: fmt.Sprintf(format, args...)}
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, args...))
}
