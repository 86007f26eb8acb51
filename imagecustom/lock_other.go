//go:build !unix

package imagecustom

import "os"

// lockFile is a no-op where flock is not available: two writers of one
// image are then the user's to avoid.
func lockFile(*os.File) (func(), error) { return func() {}, nil }

func lockFileShared(*os.File) (func(), error) { return func() {}, nil }
