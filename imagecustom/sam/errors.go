package sam

import (
	"errors"
	"fmt"
)

// Sentinel errors, matched with [errors.Is].
var (
	// ErrCorrupt reports a SAM record that is not what it should be; the
	// error is a [*CorruptError] saying which and where.
	ErrCorrupt = errors.New("sam: corrupt")
	// ErrNotFound reports a missing account, or a missing SAM key.
	ErrNotFound = errors.New("sam: not found")
	// ErrKey reports a password encryption key that cannot be had: no
	// SYSTEM hive, no boot key in it, or a boot key that does not decrypt
	// this SAM's key (SAM and SYSTEM from different machines, a syskey
	// startup password, a SAM whose key was never made).
	ErrKey = errors.New("sam: no usable password encryption key")
	// ErrUnsupported reports a recognised but unsupported structure, such
	// as an unknown key revision.
	ErrUnsupported = errors.New("sam: unsupported")
)

// CorruptError describes a corrupt record: which value of which key, at
// which offset inside the value's data.
type CorruptError struct {
	Key    string // the key holding the value, e.g. SAM\Domains\Account\Users\000001F4
	Value  string // the value's name, e.g. V
	Offset int    // offset in the value's data, -1 if none
	What   string // what is wrong
}

func (e *CorruptError) Error() string {
	if e.Offset >= 0 {
		return fmt.Sprintf("sam: %s value %s at 0x%x: %s", e.Key, e.Value, e.Offset, e.What)
	}
	return fmt.Sprintf("sam: %s value %s: %s", e.Key, e.Value, e.What)
}

// Unwrap returns [ErrCorrupt].
func (e *CorruptError) Unwrap() error { return ErrCorrupt }
