package boothook

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// MaxLogSize is the largest boot log [ParseLog] reads.
const MaxLogSize = 4 << 20

// LogName is the boot log's path below the Windows folder.
const LogName = `imagecustom\boot.log`

// A LogEntry is one line of the hook's boot log (see the package
// documentation for the format).
type LogEntry struct {
	// Kind is "start", "action", "undo", "end", or "text" for a line the
	// hook did not write in a known form.
	Kind string `json:"kind"`
	// Index is the action's number in the list, from 1 (action lines).
	Index int `json:"index,omitempty"`
	// Step is the action's op (action lines) or the undo step (undo lines).
	Step string `json:"step,omitempty"`
	// Status is the NTSTATUS of the action or step, as 0x%08x.
	Status string `json:"status,omitempty"`
	// OK reports whether Status is a success or informational status.
	OK bool `json:"ok"`
	// Target is an action's first field: its key or path.
	Target string `json:"target,omitempty"`
	// Fields holds the key=value words: image, actions, data, at (start),
	// exit (run, chain), removed (bootexecute).
	Fields map[string]string `json:"fields,omitempty"`
	// Line is the line itself, without its line end.
	Line string `json:"line"`
}

// ParseLog reads a boot log. Lines of unknown form come back as Kind
// "text", so a log damaged by an interrupted boot still reads; a log over
// [MaxLogSize] is refused with [ErrTooLarge].
func ParseLog(r io.Reader) ([]LogEntry, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxLogSize+1))
	if err != nil {
		return nil, fmt.Errorf("boothook: boot log: %w", err)
	}
	if len(b) > MaxLogSize {
		return nil, fmt.Errorf("%w: boot log over %d bytes", ErrTooLarge, MaxLogSize)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	if len(b) == 0 {
		return nil, nil
	}
	var out []LogEntry
	for _, l := range strings.Split(string(b), "\n") {
		out = append(out, parseLogLine(strings.TrimSuffix(l, "\r")))
	}
	return out, nil
}

func parseStatus(s string) (string, bool, bool) {
	if len(s) != 10 || !strings.HasPrefix(s, "0x") {
		return "", false, false
	}
	v, err := strconv.ParseUint(s[2:], 16, 32)
	if err != nil {
		return "", false, false
	}
	return s, int32(v) >= 0, true
}

func keyValue(e *LogEntry, w string) bool {
	k, v, ok := strings.Cut(w, "=")
	if !ok || k == "" || strings.ContainsAny(k, `\ `) {
		return false
	}
	if e.Fields == nil {
		e.Fields = map[string]string{}
	}
	e.Fields[k] = v
	return true
}

func parseLogLine(l string) LogEntry {
	text := LogEntry{Kind: "text", Line: l}
	w := strings.Split(l, " ")
	switch {
	case l == "boothook end":
		return LogEntry{Kind: "end", OK: true, Line: l}
	case len(w) >= 3 && w[0] == "boothook" && w[1] == "1" && w[2] == "start":
		e := LogEntry{Kind: "start", OK: true, Line: l}
		// image=PATH may hold spaces: a word without "=" continues it.
		last := ""
		for _, x := range w[3:] {
			if strings.Contains(x, "=") && keyValue(&e, x) {
				last, _, _ = strings.Cut(x, "=")
				continue
			}
			if last == "" {
				return text
			}
			e.Fields[last] += " " + x
		}
		if _, bad := e.Fields["data"]; bad {
			e.OK = false
		}
		return e
	case len(w) >= 4 && w[0] == "action":
		n, err := strconv.Atoi(w[1])
		st, ok, good := parseStatus(w[3])
		if err != nil || n < 1 || !good {
			return text
		}
		e := LogEntry{Kind: "action", Index: n, Step: w[2], Status: st, OK: ok, Line: l}
		rest := w[4:]
		if len(rest) > 0 && strings.HasPrefix(rest[0], "exit=") {
			keyValue(&e, rest[0])
			rest = rest[1:]
		}
		e.Target = strings.Join(rest, " ")
		return e
	case len(w) >= 3 && w[0] == "undo":
		st, ok, good := parseStatus(w[2])
		if !good {
			return text
		}
		e := LogEntry{Kind: "undo", Step: w[1], Status: st, OK: ok, Line: l}
		for _, x := range w[3:] {
			if !keyValue(&e, x) {
				return text
			}
		}
		return e
	}
	return text
}
