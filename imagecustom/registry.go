package imagecustom

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
)

// ErrNoHive reports a registry key path that no hive of the install
// holds: HKEY_CURRENT_USER (there is no current user offline), a machine
// hive that does not exist, a user with no profile.
var ErrNoHive = errors.New("imagecustom: no hive holds the key")

// Registry is the registry of a Windows install on a volume: its hives,
// opened when a key path first needs them (their transaction logs
// replayed in memory when they are dirty) and written back to the volume
// by [Registry.Save].
//
// Key paths are those of regedit, with short roots allowed:
// HKEY_LOCAL_MACHINE\SYSTEM, \SOFTWARE, \SAM, \SECURITY, \COMPONENTS and
// \DRIVERS are the files of System32\config; HKEY_USERS\.DEFAULT (and
// S-1-5-18) is config\DEFAULT; HKEY_USERS\<SID> or HKEY_USERS\<profile
// folder> is that user's NTUSER.DAT, and <SID>_Classes their UsrClass.dat,
// found through the ProfileList; HKEY_CLASSES_ROOT is
// HKEY_LOCAL_MACHINE\SOFTWARE\Classes.
//
// HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet, which does not exist
// offline, resolves through the SYSTEM hive's Select key: reads go to the
// control set Select\Current names; writes go to it and, when
// Select\Default names another, to that one too, since the loader boots
// Default and tools (and Windows' last known good logic) may use Current.
type Registry struct {
	v     *ntfs.Volume
	root  string // system root on the volume: "Windows"
	hives map[string]*regHive
}

type regHive struct {
	name string // HKEY_LOCAL_MACHINE\SYSTEM
	file string // path on the volume
	h    *hive.Hive
}

// OpenRegistry returns the registry of the install whose system root is
// root on v ("Windows", "WINNT"; "" finds it). Nothing is read until a key
// is asked for.
func OpenRegistry(v *ntfs.Volume, root string) (*Registry, error) {
	root = strings.Trim(strings.ReplaceAll(root, `\`, "/"), "/")
	if root == "" {
		for _, r := range systemRoots {
			if _, err := v.Stat(r + "/System32/config/SYSTEM"); err == nil {
				root = r
				break
			}
		}
		if root == "" {
			return nil, fmt.Errorf("%w: no Windows or WINNT folder holding System32\\config\\SYSTEM", ErrNoVolume)
		}
	}
	return &Registry{v: v, root: root, hives: map[string]*regHive{}}, nil
}

// machineHives are the hives of HKEY_LOCAL_MACHINE found in
// System32\config.
var machineHives = []string{"SYSTEM", "SOFTWARE", "SAM", "SECURITY", "COMPONENTS", "DRIVERS"}

// splitKey splits a key path into its components, the root key in its
// long form.
func splitKey(key string) []string {
	parts := strings.FieldsFunc(key, func(r rune) bool { return r == '\\' || r == '/' })
	if len(parts) > 0 {
		long := map[string]string{"HKLM": "HKEY_LOCAL_MACHINE", "HKCU": "HKEY_CURRENT_USER", "HKU": "HKEY_USERS",
			"HKCR": "HKEY_CLASSES_ROOT", "HKCC": "HKEY_CURRENT_CONFIG"}[strings.ToUpper(parts[0])]
		if long != "" {
			parts[0] = long
		} else {
			parts[0] = strings.ToUpper(parts[0])
		}
	}
	return parts
}

// Hive returns the hive that holds key, the key path of the hive's root
// ("HKEY_LOCAL_MACHINE\SYSTEM") and the key's path in the hive
// (CurrentControlSet resolved for reading).
func (r *Registry) Hive(key string) (h *hive.Hive, root, path string, err error) {
	ts, err := r.targets(key, false)
	if err != nil {
		return nil, "", "", err
	}
	for name, rh := range r.hives {
		if rh.h == ts[0].Hive {
			root = name
		}
	}
	return ts[0].Hive, root, ts[0].Path, nil
}

// Key returns the key at path key.
func (r *Registry) Key(key string) (hive.Key, error) {
	h, _, p, err := r.Hive(key)
	if err != nil {
		return hive.Key{}, err
	}
	k, err := h.Key(p)
	if err != nil {
		return hive.Key{}, fmt.Errorf("%s: %w", key, err)
	}
	return k, nil
}

// Targets returns the keys a write to key must change: one, or two for a
// path through CurrentControlSet when Select's Current and Default
// differ.
func (r *Registry) Targets(key string) ([]hive.Target, error) { return r.targets(key, true) }

func (r *Registry) targets(key string, write bool) ([]hive.Target, error) {
	parts := splitKey(key)
	if len(parts) == 0 {
		return nil, fmt.Errorf("%w: empty key path", ErrNoHive)
	}
	var name, file string
	var rest []string
	switch parts[0] {
	case "HKEY_CLASSES_ROOT":
		return r.targets(`HKEY_LOCAL_MACHINE\SOFTWARE\Classes\`+strings.Join(parts[1:], `\`), write)
	case "HKEY_CURRENT_USER":
		return nil, fmt.Errorf("%w: %s: no user is logged on offline; name the user's hive as HKEY_USERS\\<SID or profile folder>", ErrNoHive, key)
	case "HKEY_CURRENT_CONFIG":
		return r.targets(`HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Hardware Profiles\Current\`+strings.Join(parts[1:], `\`), write)
	case "HKEY_LOCAL_MACHINE":
		if len(parts) < 2 {
			return nil, fmt.Errorf("%w: %s names no hive (HKEY_LOCAL_MACHINE\\SYSTEM, \\SOFTWARE…)", ErrNoHive, key)
		}
		for _, m := range machineHives {
			if strings.EqualFold(parts[1], m) {
				name, file = `HKEY_LOCAL_MACHINE\`+m, r.root+"/System32/config/"+m
			}
		}
		if name == "" {
			return nil, fmt.Errorf("%w: %s: HKEY_LOCAL_MACHINE\\%s is not a hive file (it has %s)", ErrNoHive, key, parts[1], strings.Join(machineHives, ", "))
		}
		rest = parts[2:]
	case "HKEY_USERS":
		if len(parts) < 2 {
			return nil, fmt.Errorf("%w: %s names no user", ErrNoHive, key)
		}
		var err error
		if name, file, err = r.userHive(parts[1]); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		rest = parts[2:]
	default:
		return nil, fmt.Errorf("%w: %s does not start with a root key (HKEY_LOCAL_MACHINE, HKEY_USERS…)", ErrNoHive, key)
	}
	h, err := r.open(name, file)
	if err != nil {
		return nil, err
	}
	if name != `HKEY_LOCAL_MACHINE\SYSTEM` || len(rest) == 0 || !strings.EqualFold(rest[0], "CurrentControlSet") {
		return []hive.Target{{Hive: h, Path: strings.Join(rest, `\`)}}, nil
	}
	sets, err := controlSets(h, write)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	var ts []hive.Target
	for _, s := range sets {
		ts = append(ts, hive.Target{Hive: h, Path: strings.Join(append([]string{s}, rest[1:]...), `\`)})
	}
	return ts, nil
}

// controlSets returns the control set CurrentControlSet stands for: for a
// read, Current's; for a write, Current's and Default's.
func controlSets(h *hive.Hive, write bool) ([]string, error) {
	cur, err := h.CurrentControlSet()
	if err != nil {
		return nil, err
	}
	sets := []string{cur}
	if !write {
		return sets, nil
	}
	if sel, err := h.Key("Select"); err == nil {
		if v, err := sel.Value("Default"); err == nil {
			if n, err := v.Uint32(); err == nil && n > 0 && n < 1000 {
				def := fmt.Sprintf("ControlSet%03d", n)
				if _, err := h.Key(def); err == nil && !strings.EqualFold(def, cur) {
					sets = append(sets, def)
				}
			}
		}
	}
	return sets, nil
}

// userHive finds the hive file of HKEY_USERS\user: .DEFAULT, a SID
// (SID_Classes for UsrClass.dat) or a profile folder's name.
func (r *Registry) userHive(user string) (name, file string, err error) {
	if strings.EqualFold(user, ".DEFAULT") || strings.EqualFold(user, "S-1-5-18") {
		return `HKEY_USERS\.DEFAULT`, r.root + "/System32/config/DEFAULT", nil
	}
	classes := false
	sid := user
	if s, ok := cutSuffixFold(user, "_Classes"); ok {
		sid, classes = s, true
	}
	sw, err := r.open(`HKEY_LOCAL_MACHINE\SOFTWARE`, r.root+"/System32/config/SOFTWARE")
	if err != nil {
		return "", "", err
	}
	pl, err := sw.Key(`Microsoft\Windows NT\CurrentVersion\ProfileList`)
	if err != nil {
		return "", "", fmt.Errorf("%w: no ProfileList in the SOFTWARE hive: %w", ErrNoHive, err)
	}
	subs, err := pl.Subkeys()
	if err != nil {
		return "", "", err
	}
	var profile string
	var known []string
	for _, k := range subs {
		p := profilePath(k, r.root)
		known = append(known, k.Name()+" ("+path.Base(p)+")")
		if strings.EqualFold(k.Name(), sid) || p != "" && strings.EqualFold(path.Base(p), sid) {
			profile, sid = p, k.Name()
			break
		}
	}
	if profile == "" {
		sort.Strings(known)
		return "", "", fmt.Errorf("%w: no profile %q in the ProfileList (it has %s)", ErrNoHive, user, strings.Join(known, ", "))
	}
	if classes {
		dir := profile + "/AppData/Local/Microsoft/Windows"
		if _, err := r.v.Stat(dir); err != nil {
			dir = profile + "/Local Settings/Application Data/Microsoft/Windows" // XP, 2003
		}
		return `HKEY_USERS\` + sid + "_Classes", dir + "/UsrClass.dat", nil
	}
	return `HKEY_USERS\` + sid, profile + "/NTUSER.DAT", nil
}

// profilePath returns a ProfileList entry's ProfileImagePath as a path on
// the system volume: "%SystemDrive%\Users\bob" and "C:\Users\bob" are
// "Users/bob"; %SystemRoot% is expanded.
func profilePath(k hive.Key, root string) string {
	v, err := k.Value("ProfileImagePath")
	if err != nil {
		return ""
	}
	s, err := v.String()
	if err != nil {
		return ""
	}
	s = strings.ReplaceAll(s, `\`, "/")
	if rest, ok := cutPrefixFold(s, "%SystemDrive%"); ok {
		s = rest
	} else if rest, ok := cutPrefixFold(s, "%SystemRoot%"); ok {
		s = "/" + root + rest
	} else if len(s) >= 2 && s[1] == ':' {
		s = s[2:]
	}
	return strings.Trim(path.Clean("/"+s), "/")
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

func cutSuffixFold(s, suffix string) (string, bool) {
	if len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix) {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

// open returns the hive name, reading it from file the first time.
func (r *Registry) open(name, file string) (*hive.Hive, error) {
	if rh, ok := r.hives[name]; ok {
		return rh.h, nil
	}
	h, err := hive.OpenFS(r.v, file, nil)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s: its file %s is not on the volume", ErrNoHive, name, file)
	}
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", name, file, err)
	}
	r.hives[name] = &regHive{name: name, file: file, h: h}
	return h, nil
}

// Import merges .reg text into the registry as regedit does (see
// [hive.Import]); keys go to the hives their paths name, and keys under
// CurrentControlSet to the control sets [Registry.Targets] gives. An
// error before any change (syntax, a key no hive holds) changes nothing.
func (r *Registry) Import(rd io.Reader) (hive.ImportStats, error) {
	return hive.Import(nil, rd, &hive.ImportOptions{Route: r.Targets})
}

// Save writes every hive changed in memory back to its file on the
// volume, which must be open for writing, and returns their key paths.
// The hives are written clean (see [hive.Hive.Bytes]); transaction logs
// beside them are left as they are, older than the hive, so Windows does
// not replay them over the change.
func (r *Registry) Save() ([]string, error) {
	var names []string
	for name := range r.hives {
		names = append(names, name)
	}
	sort.Strings(names)
	var saved []string
	for _, name := range names {
		rh := r.hives[name]
		if !rh.h.Modified() {
			continue
		}
		b, err := rh.h.Bytes()
		if err != nil {
			return saved, fmt.Errorf("%s: %w", name, err)
		}
		if err := r.v.WriteFile(rh.file, b, nil); err != nil {
			return saved, fmt.Errorf("%s: write %s: %w", name, rh.file, err)
		}
		saved = append(saved, name)
	}
	return saved, nil
}
