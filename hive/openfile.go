package hive

import (
	"fmt"
	"os"
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
	if opts == nil {
		opts = &OpenOptions{}
	}
	buf, err := os.ReadFile(path)
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
	logs, err := readLogs(path)
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

// readLogs reads the transaction logs beside a hive file.
func readLogs(path string) (map[string][]byte, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	logs := map[string][]byte{}
	for _, e := range entries {
		for _, suf := range logSuffixes {
			if strings.EqualFold(e.Name(), base+suf) {
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
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
