package hive

import (
	"errors"
	"fmt"
)

// Sentinel errors, matched with [errors.Is].
var (
	// ErrCorrupt reports an inconsistent hive; the error is a
	// [*CorruptError] saying what and where.
	ErrCorrupt = errors.New("hive: corrupt")
	// ErrDirty reports a hive whose last write by Windows did not finish:
	// its transaction logs must be replayed before it is read as current
	// or written.
	ErrDirty = errors.New("hive: dirty hive")
	// ErrNotFound reports a missing key or value.
	ErrNotFound = errors.New("hive: not found")
	// ErrReadOnly reports an edit of a hive that may only be read.
	ErrReadOnly = errors.New("hive: read-only")
	// ErrUnsupported reports a recognised but unsupported feature.
	ErrUnsupported = errors.New("hive: unsupported")
)

// CorruptError describes a corrupt structure: what and where.
type CorruptError struct {
	Offset int64  // file offset of the structure, -1 if unknown
	What   string // e.g. "nk cell at 0x1020: name length 300 exceeds cell size 96"
	Err    error  // an underlying cause, if any
}

func (e *CorruptError) Error() string {
	s := "hive: " + e.What
	if e.Offset >= 0 {
		s = fmt.Sprintf("hive: at 0x%x: %s", e.Offset, e.What)
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

// corrupt returns a *CorruptError at file offset off.
func corrupt(off int64, format string, args ...any) error {
	return &CorruptError{Offset: off, What: fmt.Sprintf(format, args...)}
}
