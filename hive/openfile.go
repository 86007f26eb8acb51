package hive

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// OpenOptions tunes [OpenFile].
type OpenOptions struct {
	// NoReplay refuses a dirty hive (an error matching ErrDirty) instead
	// of replaying its transaction logs.
	NoReplay bool
	// Force allows editing a dirty hive that has no usable logs, as it is
	// on disk. Windows may then replay logs it finds later over the edits,
	// or find the hive inconsistent; use it only for hives whose logs are
	// known to be lost.
	Force bool
}

// logNames are the transaction log files of a hive, by suffix.
var logSuffixes = []string{".LOG1", ".LOG2", ".LOG"}

// OpenFile reads the hive file at path. A dirty hive (its last write by
// Windows did not finish) is recovered by replaying the transaction logs
// beside it (path.LOG1 and path.LOG2, or path.LOG; names matched without
// regard to case); the file itself is not changed until [Hive.SaveFile].
// A dirty hive without usable logs can be read, but editing it fails with
// an error matching [ErrDirty] unless opts.Force is set.
func OpenFile(path string, opts *OpenOptions) (*Hive, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	return openFiles(hostFiles{dir}, base, path, opts)
}

// OpenFS reads the hive file name of fsys, as [OpenFile] does on the host:
// a dirty hive is recovered from the transaction logs beside it, found
// with [fs.ReadDir] and matched without regard to case. It is how a hive
// inside a disk image is opened, fsys being its NTFS volume.
func OpenFS(fsys fs.FS, name string, opts *OpenOptions) (*Hive, error) {
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	if dir == "" {
		dir = "."
	}
	return openFiles(fsFiles{fsys, dir}, base, name, opts)
}

// files reads a directory: the host's or an fs.FS's.
type files interface {
	readFile(name string) ([]byte, error)
	readDir() ([]fs.DirEntry, error)
}

type hostFiles struct{ dir string }

func (h hostFiles) readFile(name string) ([]byte, error) {
	p := filepath.Join(h.dir, name)
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxHiveSize {
		return nil, corrupt(0, "%s: file of %d bytes", p, fi.Size())
	}
	return os.ReadFile(p)
}

func (h hostFiles) readDir() ([]fs.DirEntry, error) { return os.ReadDir(h.dir) }

type fsFiles struct {
	fsys fs.FS
	dir  string
}

func (f fsFiles) readFile(name string) ([]byte, error) {
	return readBounded(f.fsys, path.Join(f.dir, name))
}
func (f fsFiles) readDir() ([]fs.DirEntry, error) { return fs.ReadDir(f.fsys, f.dir) }

// readBounded reads a file no larger than a hive may be.
func readBounded(fsys fs.FS, name string) ([]byte, error) {
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if fi.Size() > maxHiveSize {
		return nil, corrupt(0, "%s: file of %d bytes", name, fi.Size())
	}
	return fs.ReadFile(fsys, name)
}

func openFiles(dir files, base, path string, opts *OpenOptions) (*Hive, error) {
	if opts == nil {
		opts = &OpenOptions{}
	}
	buf, err := dir.readFile(base)
	if err != nil {
		return nil, err
	}
	if len(buf) < baseBlockSize+binAlign || len(buf) > maxHiveSize {
		return nil, corrupt(0, "%s: hive of %d bytes", path, len(buf))
	}
	if !hiveDirty(buf) {
		return parse(buf)
	}
	if opts.NoReplay {
		return nil, fmt.Errorf("%w: %s needs its transaction logs replayed", ErrDirty, path)
	}
	logs, err := readLogs(dir, base)
	if err != nil {
		return nil, err
	}
	recovered, res, err := replayLogs(buf, logs)
	if err != nil {
		h, perr := parse(buf)
		if perr != nil {
			return nil, perr
		}
		if opts.Force {
			h.readOnly = nil
		}
		return h, nil
	}
	h, err := parse(recovered)
	if err != nil {
		return nil, fmt.Errorf("%s after replaying its logs (%s): %w", path, res, err)
	}
	h.replayed = res.String()
	return h, nil
}

// Replayed says what log replay did when the hive was opened, "" if
// nothing was replayed.
func (h *Hive) Replayed() string { return h.replayed }

// readLogs reads the transaction logs beside the hive file base.
func readLogs(dir files, base string) (map[string][]byte, error) {
	entries, err := dir.readDir()
	if err != nil {
		return nil, err
	}
	logs := map[string][]byte{}
	for _, e := range entries {
		for _, suf := range logSuffixes {
			if strings.EqualFold(e.Name(), base+suf) {
				b, err := dir.readFile(e.Name())
				if err != nil {
					return nil, err
				}
				if len(b) > 0 {
					logs[strings.TrimPrefix(suf, ".")] = b
				}
			}
		}
	}
	return logs, nil
}
