// Command imagecustom customizes Windows disk images offline: it reads and
// writes NTFS volumes inside raw and VMDK images, edits registry hives,
// installs a boot hook and writes sysprep artifacts, without booting the
// guest, without root and without FUSE.
//
// Usage:
//
//	imagecustom [--json] [--quiet] COMMAND [ARGS]
//
// Run "imagecustom --help" for the commands this build offers. Every command
// is a thin wrapper over a library call; the contract (names, arguments, exit
// codes, JSON shapes) is described in the project README.
//
// Exit codes: 0 success; 1 error; 2 usage error; 3 refused for safety (for
// example an unclean volume or a pending undo journal); 4 a check found
// problems.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
