package hive

import (
	"fmt"
	"strings"
)

// CurrentControlSet returns the name of the control set that a SYSTEM
// hive's Select key names as current ("ControlSet001"), falling back to
// Default. Offline there is no CurrentControlSet key: Windows makes it at
// boot as a link to this one.
func (h *Hive) CurrentControlSet() (string, error) {
	sel, err := h.Root().Subkey("Select")
	if err != nil {
		return "", fmt.Errorf("no Select key (not a SYSTEM hive?): %w", err)
	}
	for _, name := range []string{"Current", "Default"} {
		v, err := sel.Value(name)
		if err != nil {
			continue
		}
		n, err := v.Uint32()
		if err != nil || n == 0 || n > 999 {
			continue
		}
		set := fmt.Sprintf("ControlSet%03d", n)
		if _, err := h.Root().Subkey(set); err != nil {
			return "", fmt.Errorf("value %s of the Select key names %s: %w", name, set, err)
		}
		return set, nil
	}
	return "", fmt.Errorf("%w: Select has no usable Current or Default value", ErrNotFound)
}

// ResolvePath replaces a leading "CurrentControlSet" component of a key
// path with the control set [Hive.CurrentControlSet] names; other paths
// are returned as they are.
func (h *Hive) ResolvePath(path string) (string, error) {
	parts := splitPath(path)
	if len(parts) == 0 || !strings.EqualFold(parts[0], "CurrentControlSet") {
		return path, nil
	}
	set, err := h.CurrentControlSet()
	if err != nil {
		return "", err
	}
	parts[0] = set
	return strings.Join(parts, `\`), nil
}
