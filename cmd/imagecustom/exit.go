package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
)

// Exit codes of the command-line contract. Scripts depend on them.
const (
	exitOK       = 0 // success
	exitError    = 1 // any failure not covered below
	exitUsage    = 2 // bad arguments, flags or command names
	exitRefused  = 3 // refused for safety: nothing was written
	exitProblems = 4 // a check ran and found problems
)

// usageError marks an error caused by how the command was invoked.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usage error (exit code 2) with a formatted message.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// errRefused is the CLI's own refusal; library packages' safety sentinels
// are listed in [exitCode] next to it.
var errRefused = errors.New("refused for safety")

// problemsError reports that a check found n problems (exit code 4). The
// command prints the problems itself before returning it.
type problemsError struct {
	what string // what was checked, e.g. "fsck"
	n    int
}

func (e problemsError) Error() string {
	if e.n == 1 {
		return fmt.Sprintf("%s: 1 problem found", e.what)
	}
	return fmt.Sprintf("%s: %d problems found", e.what, e.n)
}

// exitCode maps an error to the process exit code. It is the only place that
// does: library packages return typed errors (sentinels matched with
// [errors.Is]), commands return them unchanged or wrapped, and this table
// decides the code.
func exitCode(err error) int {
	var (
		usage    usageError
		problems problemsError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &usage), errors.Is(err, imagecustom.ErrAmbiguous):
		return exitUsage
	case errors.As(err, &problems):
		return exitProblems
	case isRefusal(err):
		return exitRefused
	default:
		return exitError
	}
}

// isRefusal reports whether err is a refusal for safety: the operation was
// stopped before anything was written because going on could damage the
// image. Each library package that can refuse contributes its sentinel here.
func isRefusal(err error) bool {
	return errors.Is(err, errRefused) || errors.Is(err, imagecustom.ErrUnsafe) || errors.Is(err, ntfs.ErrUnsafe) ||
		errors.Is(err, hive.ErrDirty)
}

// errorKind names the class of an error in the --json error document.
func errorKind(code int, err error) string {
	switch {
	case code == exitUsage:
		return "usage"
	case code == exitRefused:
		return "refused"
	case code == exitProblems:
		return "problems"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	default:
		return "error"
	}
}
