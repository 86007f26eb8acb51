package imagecustom

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
)

// Boot-hook errors, matched with [errors.Is].
var (
	// ErrBadHook reports a hook program refused before anything was
	// written: not a PE file, truncated, not of the native subsystem, or
	// of another machine than the install. It matches [ErrUnsafe].
	ErrBadHook = fmt.Errorf("%w: not a usable boot hook", ErrUnsafe)
	// ErrNoHook reports that no hook installed by this package is on the
	// volume (there is no hook manifest), for [RemoveHook].
	ErrNoHook = errors.New("imagecustom: no boot hook installed")
)

// Hook methods, the values of [HookOptions.Method].
const (
	// HookMethodAutochk replaces System32\autochk.exe, which smss runs at every
	// boot through the default BootExecute line "autocheck autochk *",
	// and sets the volume's dirty flag so that it runs on this volume.
	HookMethodAutochk = "autochk"
	// HookMethodBootExecute copies the hook into System32 and adds its line to
	// Session Manager\BootExecute in every control set.
	HookMethodBootExecute = "bootexecute"
)

// Designs of an autochk install, the values of [HookStatus.Design]: how
// the original autochk.exe and the hook share out autochk.exe's MFT record.
const (
	// HookDesignInRecord writes the hook's bytes into autochk.exe's own
	// MFT record and the original's bytes into a new file, the backup:
	// for a file of one name (8.3 alias aside), as on Windows XP.
	HookDesignInRecord = "in-record"
	// HookDesignRename renames the original's record to the backup name
	// and writes the hook as a new autochk.exe: for a record with other
	// names (Windows 10's WinSxS hard link), which so keep the original.
	HookDesignRename = "rename"
)

// Default file names of [HookOptions].
const (
	DefaultHookBackupName = "vmprep.cfg"
	DefaultHookDataName   = "vmprep.dat"
	DefaultHookExeName    = "imchook.exe"
)

// The manifest: where an install records what [RemoveHook] needs.
const (
	hookDir          = "imagecustom"             // under the system root
	hookManifestName = "hook.json"               // in hookDir
	autochkName      = "autochk.exe"             // in System32
	maxManifestSize  = 1 << 20                   // bytes
	hookManifestVer  = 1                         // hookManifest.Version
	bootExecuteValue = "BootExecute"             // REG_MULTI_SZ
	sessionManager   = `Control\Session Manager` // in each control set
)

// HookOptions tunes [InstallHook]. A nil *HookOptions, or zero fields,
// take the defaults.
type HookOptions struct {
	// Method is [HookMethodAutochk] (the default) or [HookMethodBootExecute].
	Method string
	// BackupName is, for the autochk method, the name the original
	// autochk.exe is kept under in System32; DefaultHookBackupName
	// ("vmprep.cfg") by default, as the seed's vmprep did.
	BackupName string
	// Data is the content of the hook's data file (its action list); nil
	// writes none.
	Data []byte
	// DataName is the data file's name in System32;
	// DefaultHookDataName ("vmprep.dat") by default.
	DataName string
	// ExeName is, for the bootexecute method, the hook's file name in
	// System32, ending in ".exe"; DefaultHookExeName ("imchook.exe") by
	// default. Its BootExecute line is the name without ".exe".
	ExeName string
}

// HookStatus describes a boot hook installed by [InstallHook], as
// [ReadHookStatus] finds it on a volume. Paths are Windows paths on the
// volume (`\Windows\System32\autochk.exe`). The JSON keys are those of
// the CLI's "hook status --json".
type HookStatus struct {
	// Installed says a hook manifest is on the volume; every other field
	// but Dirty and BootExecute is empty when it is false.
	Installed bool `json:"installed"`
	// Method is HookMethodAutochk or HookMethodBootExecute.
	Method string `json:"method,omitempty"`
	// Hook is the hook's path; HookSHA256 and HookSize are those of the
	// program installed, HookIntact says the file there still has them.
	Hook       string `json:"hook,omitempty"`
	HookSHA256 string `json:"hook_sha256,omitempty"`
	HookSize   int64  `json:"hook_size,omitempty"`
	HookIntact bool   `json:"hook_intact"`
	// Backup is, for the autochk method, where the original autochk.exe
	// is kept; BackupSHA256 its content's hash as installed.
	Backup       string `json:"backup,omitempty"`
	BackupSHA256 string `json:"backup_sha256,omitempty"`
	// Design is, for the autochk method, HookDesignInRecord or
	// HookDesignRename (the original's MFT record renamed to Backup, so
	// its hard links, such as WinSxS's, keep the original).
	Design string `json:"design,omitempty"`
	// Data is the data file's path, "" when none; DataSHA256 and DataSize
	// describe the content written.
	Data       string `json:"data,omitempty"`
	DataSHA256 string `json:"data_sha256,omitempty"`
	DataSize   int64  `json:"data_size,omitempty"`
	// Line is, for the bootexecute method, the line added to BootExecute.
	Line string `json:"line,omitempty"`
	// BootExecute lists every control set's BootExecute lines as they are
	// now (read when a registry is given).
	BootExecute []HookBootExecute `json:"boot_execute"`
	// Dirty is the volume's dirty flag now; DirtyOurs says the install
	// set it (it was clear before), so [RemoveHook] clears it again.
	Dirty     bool `json:"dirty"`
	DirtyOurs bool `json:"dirty_ours"`
	// Manifest is the path of the install's record.
	Manifest string `json:"manifest,omitempty"`
}

// HookBootExecute is one control set's BootExecute value.
type HookBootExecute struct {
	ControlSet string   `json:"control_set"` // ControlSet001
	Lines      []string `json:"lines"`       // nil when the value is absent
}

// hookManifest is the record an install leaves in
// <system root>\imagecustom\hook.json. Names are plain file names in
// System32, never paths, so that a forged manifest cannot make RemoveHook
// touch another file.
type hookManifest struct {
	Version     int              `json:"version"`
	Method      string           `json:"method"`
	HookName    string           `json:"hook_name"` // in System32
	HookSHA256  string           `json:"hook_sha256"`
	HookSize    int64            `json:"hook_size"`
	BackupName  string           `json:"backup_name,omitempty"` // autochk
	Design      string           `json:"design,omitempty"`      // autochk: HookDesign*; "" (older records) is in-record
	Original    *hookFileState   `json:"original,omitempty"`    // autochk: autochk.exe before
	DataName    string           `json:"data_name,omitempty"`
	DataSHA256  string           `json:"data_sha256,omitempty"`
	DataSize    int64            `json:"data_size,omitempty"`
	DirtyBefore bool             `json:"dirty_before"` // the volume's dirty flag before the install
	CreatedDir  bool             `json:"created_dir"`  // the install created the manifest's folder
	Line        string           `json:"line,omitempty"`
	BootExecute []hookValueState `json:"boot_execute,omitempty"` // bootexecute
}

// hookFileState is the original autochk.exe as the install found it.
type hookFileState struct {
	Record     uint64    `json:"record,omitempty"` // its MFT record
	Links      int       `json:"links,omitempty"`  // its names but 8.3 aliases, in every directory
	SHA256     string    `json:"sha256"`
	Size       int64     `json:"size"`
	Attributes uint32    `json:"attributes"`
	SecurityID uint32    `json:"security_id"`
	Created    time.Time `json:"created"`
	Modified   time.Time `json:"modified"`
	Changed    time.Time `json:"changed"`
	Accessed   time.Time `json:"accessed"`
}

func (f *hookFileState) times() ntfs.Times {
	return ntfs.Times{Created: f.Created, Modified: f.Modified, Changed: f.Changed, Accessed: f.Accessed}
}

// hookValueState is one control set's BootExecute before and after the
// install, as raw value data.
type hookValueState struct {
	ControlSet string `json:"control_set"`
	Present    bool   `json:"present"` // the value existed before
	Type       uint32 `json:"type"`    // its type before
	Original   []byte `json:"original,omitempty"`
	Installed  []byte `json:"installed"`
}

// hookPaths are the volume paths a hook operation works on.
type hookPaths struct {
	root, system32, dir, manifest string
}

// newHookPaths returns the paths under system root root, spelt as the
// volume spells the root and System32 (paths resolve ignoring case; the
// spelling is for what status and messages show).
func newHookPaths(v *ntfs.Volume, root string) hookPaths {
	if st, err := v.Stat(root); err == nil {
		root = st.Name()
	}
	sys := root + "/System32"
	if st, err := v.Stat(sys); err == nil {
		sys = root + "/" + st.Name()
	}
	dir := root + "/" + hookDir
	return hookPaths{root: root, system32: sys, dir: dir, manifest: dir + "/" + hookManifestName}
}

func (p hookPaths) sys(name string) string { return p.system32 + "/" + name }

// winPath shows a volume path as Windows does.
func winPath(p string) string { return `\` + strings.ReplaceAll(p, "/", `\`) }

// hookRoot returns the system root of reg, or the first found on v.
func hookRoot(v *ntfs.Volume, reg *Registry) (string, error) {
	if reg != nil {
		return reg.root, nil
	}
	for _, r := range systemRoots {
		if st, err := v.Stat(r + "/System32"); err == nil && st.IsDir() {
			return r, nil
		}
	}
	return "", fmt.Errorf("%w: no Windows or WINNT folder with System32", ErrNoVolume)
}

// validHookName checks a plain file name for System32.
func validHookName(what, name string) error {
	switch {
	case name == "", name == ".", name == "..":
		return fmt.Errorf("imagecustom: hook %s %q is not a file name", what, name)
	case len(name) > 255:
		return fmt.Errorf("imagecustom: hook %s of %d bytes is too long", what, len(name))
	case strings.HasSuffix(name, " "), strings.HasSuffix(name, "."):
		return fmt.Errorf("imagecustom: hook %s %q ends with a space or a dot", what, name)
	}
	for _, r := range name {
		if r < 0x20 || strings.ContainsRune(`\/:*?"<>|`, r) {
			return fmt.Errorf("imagecustom: hook %s %q: a plain file name in System32 is wanted, without %q", what, name, r)
		}
	}
	return nil
}

// withDefaults returns opts with the defaults filled in, checked.
func (opts *HookOptions) withDefaults() (HookOptions, error) {
	var o HookOptions
	if opts != nil {
		o = *opts
	}
	if o.Method == "" {
		o.Method = HookMethodAutochk
	}
	if o.BackupName == "" {
		o.BackupName = DefaultHookBackupName
	}
	if o.DataName == "" {
		o.DataName = DefaultHookDataName
	}
	if o.ExeName == "" {
		o.ExeName = DefaultHookExeName
	}
	names := map[string]string{}
	check := func(what, name string) error {
		if err := validHookName(what, name); err != nil {
			return err
		}
		key := strings.ToUpper(name)
		if other, ok := names[key]; ok {
			return fmt.Errorf("imagecustom: hook %s and %s are both %q", other, what, name)
		}
		names[key] = what
		return nil
	}
	if err := check("program", autochkName); err != nil {
		return o, err
	}
	switch o.Method {
	case HookMethodAutochk:
		if err := check("backup name", o.BackupName); err != nil {
			return o, err
		}
	case HookMethodBootExecute:
		if err := check("program name", o.ExeName); err != nil {
			return o, err
		}
		if !strings.HasSuffix(strings.ToLower(o.ExeName), ".exe") || strings.ContainsAny(o.ExeName, " \t") || len(o.ExeName) < 5 {
			return o, fmt.Errorf("imagecustom: hook program name %q: BootExecute needs a name ending in .exe, without spaces", o.ExeName)
		}
	default:
		return o, fmt.Errorf("imagecustom: unknown hook method %q (want %s or %s)", o.Method, HookMethodAutochk, HookMethodBootExecute)
	}
	if o.Data != nil {
		if err := check("data file name", o.DataName); err != nil {
			return o, err
		}
	}
	return o, nil
}

// sha256Hex returns the hex SHA-256 of b.
func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// readSmall reads the file at p, refusing one over limit bytes.
func readSmall(v *ntfs.Volume, p string, limit int64) ([]byte, error) {
	st, err := v.Stat(p)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory", winPath(p))
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, over the %d expected", winPath(p), st.Size(), limit)
	}
	return v.ReadFile(p)
}

// fileSum returns the SHA-256 of the file at p, "" when there is none.
func fileSum(v *ntfs.Volume, p string) (string, error) {
	b, err := readSmall(v, p, maxHookSize*2)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return sha256Hex(b), nil
}

// exists reports whether p names a file or directory.
func exists(v *ntfs.Volume, p string) (bool, error) {
	_, err := v.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// readHookManifest reads the manifest; nil, nil when there is none.
func readHookManifest(v *ntfs.Volume, p hookPaths) (*hookManifest, error) {
	b, err := readSmall(v, p.manifest, maxManifestSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("imagecustom: hook manifest: %w", err)
	}
	m, err := parseHookManifest(b)
	if err != nil {
		return nil, fmt.Errorf("imagecustom: hook manifest %s: %w", winPath(p.manifest), err)
	}
	return m, nil
}

// parseHookManifest decodes and checks a manifest: known method and
// version, plain names, hashes of the right form.
func parseHookManifest(b []byte) (*hookManifest, error) {
	var m hookManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m.Version != hookManifestVer {
		return nil, fmt.Errorf("version %d, this program knows %d", m.Version, hookManifestVer)
	}
	isHash := func(s string) bool {
		_, err := hex.DecodeString(s)
		return len(s) == 64 && err == nil
	}
	if !isHash(m.HookSHA256) || m.HookSize < 0 {
		return nil, errors.New("bad hook hash or size")
	}
	if err := validHookName("program", m.HookName); err != nil {
		return nil, err
	}
	if m.DataName != "" {
		if err := validHookName("data file name", m.DataName); err != nil {
			return nil, err
		}
		if !isHash(m.DataSHA256) {
			return nil, errors.New("bad data file hash")
		}
	}
	switch m.Method {
	case HookMethodAutochk:
		if !strings.EqualFold(m.HookName, autochkName) {
			return nil, fmt.Errorf("autochk method with hook %q", m.HookName)
		}
		if err := validHookName("backup name", m.BackupName); err != nil {
			return nil, err
		}
		if m.Original == nil || !isHash(m.Original.SHA256) || strings.EqualFold(m.BackupName, autochkName) {
			return nil, errors.New("no record of the original autochk.exe")
		}
		switch m.Design {
		case "":
			m.Design = HookDesignInRecord // written before the field was
		case HookDesignInRecord, HookDesignRename:
		default:
			return nil, fmt.Errorf("unknown autochk design %q", m.Design)
		}
	case HookMethodBootExecute:
		if strings.EqualFold(m.HookName, autochkName) {
			return nil, errors.New("bootexecute method with hook autochk.exe")
		}
		if m.Design != "" {
			return nil, fmt.Errorf("bootexecute method with autochk design %q", m.Design)
		}
		seen := map[string]bool{}
		for _, s := range m.BootExecute {
			if !controlSetName.MatchString(s.ControlSet) || seen[strings.ToUpper(s.ControlSet)] {
				return nil, fmt.Errorf("bad or repeated control set %q", s.ControlSet)
			}
			seen[strings.ToUpper(s.ControlSet)] = true
		}
	default:
		return nil, fmt.Errorf("unknown method %q", m.Method)
	}
	return &m, nil
}

// controlSetName matches the control sets of a SYSTEM hive's root.
var controlSetName = regexp.MustCompile(`(?i)^ControlSet[0-9]{3}$`)

// controlSetKeys returns the SYSTEM hive's ControlSetNNN names, sorted.
func controlSetKeys(h *hive.Hive) ([]string, error) {
	subs, err := h.Root().Subkeys()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, k := range subs {
		if controlSetName.MatchString(k.Name()) {
			out = append(out, k.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// systemHive returns the SYSTEM hive of reg.
func systemHive(reg *Registry) (*hive.Hive, error) {
	h, _, _, err := reg.Hive(`HKEY_LOCAL_MACHINE\SYSTEM`)
	return h, err
}

// bootExecute reads a control set's BootExecute: its key, and the value's
// type and data (ok false when absent). A control set without a Session
// Manager key gives ok false and a zero key.
func bootExecute(h *hive.Hive, cs string) (k hive.Key, found bool, typ hive.ValueType, data []byte, ok bool, err error) {
	k, err = h.Key(cs + `\` + sessionManager)
	if errors.Is(err, hive.ErrNotFound) {
		return k, false, 0, nil, false, nil
	}
	if err != nil {
		return k, false, 0, nil, false, err
	}
	val, err := k.Value(bootExecuteValue)
	if errors.Is(err, hive.ErrNotFound) {
		return k, true, 0, nil, false, nil
	}
	if err != nil {
		return k, true, 0, nil, false, err
	}
	data, err = val.Data()
	if err != nil {
		return k, true, 0, nil, false, err
	}
	return k, true, val.Type(), data, true, nil
}

// multiStrings splits REG_MULTI_SZ data into its strings.
func multiStrings(b []byte) []string {
	s := strings.TrimRight(decodeUTF16LE(b), "\x00")
	if s == "" {
		return []string{}
	}
	return strings.Split(s, "\x00")
}

func decodeUTF16LE(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
	}
	return string(utf16.Decode(u))
}

// bootExecuteLines reads every control set's BootExecute lines.
func bootExecuteLines(reg *Registry) ([]HookBootExecute, error) {
	h, err := systemHive(reg)
	if err != nil {
		return nil, err
	}
	sets, err := controlSetKeys(h)
	if err != nil {
		return nil, err
	}
	out := []HookBootExecute{}
	for _, cs := range sets {
		_, _, _, data, ok, err := bootExecute(h, cs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cs, err)
		}
		e := HookBootExecute{ControlSet: cs}
		if ok {
			e.Lines = multiStrings(data)
		}
		out = append(out, e)
	}
	return out, nil
}

// hookLine is the BootExecute line of a hook program name.
func hookLine(exeName string) string { return exeName[:len(exeName)-len(".exe")] }

// hasLine reports whether lines holds line (ignoring case and spacing).
func hasLine(lines []string, line string) bool {
	for _, l := range lines {
		if strings.EqualFold(strings.Join(strings.Fields(l), " "), line) {
			return true
		}
	}
	return false
}

// writableFile checks that p is a regular file that can be
// replaced: not a directory, not a reparse point.
func writableFile(v *ntfs.Volume, p string) (*ntfs.FileStat, error) {
	st, err := v.Stat(p)
	if err != nil {
		return nil, err
	}
	fst, ok := st.Sys().(*ntfs.FileStat)
	if st.IsDir() || !ok {
		return nil, fmt.Errorf("%w: %s is not a file", ErrUnsafe, winPath(p))
	}
	if fst.Reparse != nil {
		return nil, fmt.Errorf("%w: %s is a reparse point (tag 0x%08x, e.g. a WOF-compressed system file): its content cannot be replaced and put back exactly", ErrUnsafe, winPath(p), fst.Reparse.Tag)
	}
	for _, str := range fst.Streams {
		if str.Name == "" && (str.Compressed || str.Encrypted) {
			return nil, fmt.Errorf("%w: %s is compressed or encrypted by NTFS: its content cannot be replaced", ErrUnsafe, winPath(p))
		}
	}
	return fst, nil
}

// reparseWOF is IO_REPARSE_TAG_WOF, the Windows Overlay Filter's tag.
const reparseWOF = 0x80000017

// renamableFile returns the stat of p when it is a file that the rename
// design can move whole though [writableFile] refuses to replace its
// content: system-compressed (a WOF reparse point this package reads) or
// NTFS-compressed, neither of which Windows opens as anything but the
// file itself. Otherwise (a link, another reparse point, an encrypted
// file, whose bytes this package cannot read) it returns nil.
func renamableFile(v *ntfs.Volume, p string) *ntfs.FileStat {
	st, err := v.Stat(p)
	if err != nil || st.IsDir() {
		return nil
	}
	fst, ok := st.Sys().(*ntfs.FileStat)
	if !ok || fst.Reparse != nil && (fst.Reparse.Tag != reparseWOF || fst.System == nil || !fst.System.Supported) {
		return nil
	}
	for _, str := range fst.Streams {
		if str.Encrypted {
			return nil
		}
	}
	return fst
}

// mustNotExist refuses when p exists.
func mustNotExist(v *ntfs.Volume, p, why string) error {
	ok, err := exists(v, p)
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("%w: %s exists already (%s): nothing was written", ErrUnsafe, winPath(p), why)
	}
	return nil
}

// fileAttrNormal is FILE_ATTRIBUTE_NORMAL: a file without other attributes.
const fileAttrNormal = 0x80

// Hook attribute bits that cannot be given to a new file.
const hookAttrMask = 0x10 | 0x200 | 0x400 | 0x800 | 0x4000 // directory, sparse, reparse, compressed, encrypted

// InstallHook installs the native program exe as a boot hook on the
// system volume v of install w — v opened for writing (from
// [Image.OpenNTFSRW], with [HookVolumeOptions] when a hook may already be
// installed) — editing the registry reg in memory: the caller saves reg
// ([Registry.Save]) and commits the image, so that a hook, files and
// registry changes land in one transaction.
//
// Before anything is written, exe is checked with [CheckHookPE] against
// w.Arch, the names are checked, and every file the install would create
// must be absent; any refusal is an error matching [ErrUnsafe] (a bad
// program matches [ErrBadHook]) with nothing written.
//
// Method autochk (the default, the seed's): the original
// System32\autochk.exe goes to the backup name and the hook takes its
// place, with the original's security descriptor (security id),
// attributes and four time stamps, in one of two designs (recorded, and
// reported as [HookStatus.Design]):
//
//   - [HookDesignRename], when autochk.exe's MFT record has other names
//     or its content cannot be replaced in place (system-compressed by
//     WOF, as Compact OS leaves it, or NTFS-compressed) —
//     Windows 10 and later hard link it into the component store,
//     Windows\WinSxS\amd64_microsoft-windows-autochk_…\autochk.exe
//     (Microsoft, "Manage the Component Store", learn.microsoft.com
//     dn251569: the component store's files are hard linked into the
//     Windows folders; unverified here): the seed's own way. The
//     original's record is renamed to the backup name, so it keeps its
//     other names, security id, attributes and times, and the WinSxS
//     name the original bytes; the hook is a new file, autochk.exe,
//     given the original's security id, attributes (0x80, normal, when
//     the original has none) and times. Writing into that record instead
//     would make the component store's copy the hook — for good, once the
//     hook's boot-time undo renames the backup back.
//   - [HookDesignInRecord], for a record of one name (8.3 alias aside):
//     the hook's bytes are written into autochk.exe's own MFT record
//     (which keeps its name exactly, namespace included, its security id
//     and attributes) and the original's bytes into a new file, the
//     backup, given the same security id, attributes and times — for the
//     volume, the same as the seed's rename, and [RemoveHook] puts the
//     bytes back into the same record.
//
// The data file is written when given, and the volume's dirty
// flag set, so that smss's default "autocheck autochk *" starts the hook
// at the next boot (reference §1.3–1.4, [S3] KB160963; unverified here,
// nothing boots Windows). A hook that chains to the original should
// rename the backup back over itself and run it with the same arguments.
//
// Method bootexecute: the hook is copied into System32 under
// [HookOptions.ExeName] with autochk.exe's security descriptor, and its
// line (the name without ".exe") is appended to Control\Session
// Manager\BootExecute in every ControlSetNNN of SYSTEM — after "autocheck
// autochk *", which Windows puts first — a value created when a control
// set lacks it; smss runs the lines in order, synchronously (reference
// §1.2, [S2]: technet cc963230; unverified here).
//
// The install records what [RemoveHook] needs in
// <system root>\imagecustom\hook.json: the original autochk.exe's hash,
// attributes, security id and times, the dirty flag before, the
// BootExecute data before and after in each control set.
//
// A second install, with a hook of this package already there, replaces
// the hook program and the data file, keeping the record of the first
// install — so the original autochk.exe and registry data are never lost
// — provided it uses the same method and names and the installed files
// and values are as the record says; otherwise it is refused
// ([ErrUnsafe]): remove the hook first.
func InstallHook(v *ntfs.Volume, reg *Registry, w *Windows, exe []byte, opts *HookOptions) (*HookStatus, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if w == nil || reg == nil || v == nil {
		return nil, errors.New("imagecustom: InstallHook needs the volume, its registry and its Windows install")
	}
	if err := CheckHookPE(exe, w.Arch); err != nil {
		return nil, err
	}
	p := newHookPaths(v, reg.root)
	m, err := readHookManifest(v, p)
	if err != nil {
		return nil, err
	}
	if m != nil {
		if err := replaceHook(v, reg, p, m, exe, o); err != nil {
			return nil, err
		}
	} else {
		if m, err = planHook(v, reg, p, exe, o); err != nil {
			return nil, err
		}
		if err := applyHook(v, reg, p, m, exe, o.Data); err != nil {
			return nil, err
		}
	}
	return ReadHookStatus(v, reg)
}

// planHook checks a first install and returns its manifest, writing
// nothing.
func planHook(v *ntfs.Volume, reg *Registry, p hookPaths, exe []byte, o HookOptions) (*hookManifest, error) {
	m := &hookManifest{Version: hookManifestVer, Method: o.Method, HookSHA256: sha256Hex(exe), HookSize: int64(len(exe)),
		DirtyBefore: v.Dirty()}
	if st, err := v.Stat(p.dir); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("%w: %s is a file, where the hook's record goes", ErrUnsafe, winPath(p.dir))
	} else if errors.Is(err, fs.ErrNotExist) {
		m.CreatedDir = true
	} else if err != nil {
		return nil, err
	}
	if o.Data != nil {
		m.DataName, m.DataSHA256, m.DataSize = o.DataName, sha256Hex(o.Data), int64(len(o.Data))
		if err := mustNotExist(v, p.sys(o.DataName), "choose another data file name"); err != nil {
			return nil, err
		}
	}
	switch o.Method {
	case HookMethodAutochk:
		m.HookName, m.BackupName = autochkName, o.BackupName
		st, err := writableFile(v, p.sys(autochkName))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s is missing: the autochk method replaces it (use the bootexecute method)", ErrUnsafe, winPath(p.sys(autochkName)))
		}
		inPlace := err == nil
		if err != nil {
			// Content that cannot be replaced in place (system- or
			// NTFS-compressed) can still be renamed away whole.
			if st = renamableFile(v, p.sys(autochkName)); st == nil {
				return nil, err
			}
		}
		orig, err := readSmall(v, p.sys(autochkName), maxHookSize)
		if err != nil {
			return nil, err
		}
		m.Original = &hookFileState{Record: st.Record, Links: hardLinks(st), SHA256: sha256Hex(orig), Size: int64(len(orig)),
			Attributes: st.Attributes, SecurityID: st.SecurityID,
			Created: st.Created, Modified: st.Modified, Changed: st.Changed, Accessed: st.Accessed}
		m.Design = HookDesignInRecord
		if m.Original.Links > 1 || !inPlace {
			m.Design = HookDesignRename
		}
		if m.Original.SHA256 == m.HookSHA256 {
			return nil, fmt.Errorf("%w: the hook is autochk.exe itself", ErrUnsafe)
		}
		if err := mustNotExist(v, p.sys(o.BackupName), "another tool's hook? choose another backup name"); err != nil {
			return nil, err
		}
	case HookMethodBootExecute:
		m.HookName, m.Line = o.ExeName, hookLine(o.ExeName)
		if err := mustNotExist(v, p.sys(o.ExeName), "choose another program name"); err != nil {
			return nil, err
		}
		h, err := systemHive(reg)
		if err != nil {
			return nil, err
		}
		sets, err := controlSetKeys(h)
		if err != nil {
			return nil, err
		}
		for _, cs := range sets {
			_, found, typ, data, ok, err := bootExecute(h, cs)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", cs, err)
			}
			if !found {
				continue // a control set without Session Manager: smss never reads it
			}
			if ok && typ != hive.MultiString {
				return nil, fmt.Errorf("%w: %s\\%s\\BootExecute is %s, not REG_MULTI_SZ", ErrUnsafe, cs, sessionManager, typ)
			}
			var lines []string
			if ok {
				lines = multiStrings(data)
			}
			if hasLine(lines, m.Line) {
				return nil, fmt.Errorf("%w: %s\\%s\\BootExecute already runs %q", ErrUnsafe, cs, sessionManager, m.Line)
			}
			m.BootExecute = append(m.BootExecute, hookValueState{ControlSet: cs, Present: ok, Type: uint32(typ), Original: data,
				Installed: hive.EncodeStrings(append(lines, m.Line))})
		}
		if len(m.BootExecute) == 0 {
			return nil, fmt.Errorf("%w: no control set of SYSTEM has a Session Manager key", ErrUnsafe)
		}
	}
	return m, nil
}

// applyHook writes a planned first install.
func applyHook(v *ntfs.Volume, reg *Registry, p hookPaths, m *hookManifest, exe, data []byte) error {
	if m.CreatedDir {
		if err := v.Mkdir(p.dir, nil); err != nil {
			return err
		}
	}
	switch m.Method {
	case HookMethodAutochk:
		// The original's bytes go to a new file; its record keeps its
		// names, security id and attributes and takes the hook.
		orig, err := readSmall(v, p.sys(autochkName), maxHookSize)
		if err != nil {
			return err
		}
		if sha256Hex(orig) != m.Original.SHA256 {
			return fmt.Errorf("%w: %s changed while the hook was installed", ErrUnsafe, winPath(p.sys(autochkName)))
		}
		if m.Design == HookDesignRename {
			if err := renameInHook(v, p, m, exe); err != nil {
				return err
			}
			break
		}
		backup := p.sys(m.BackupName)
		fo := &ntfs.FileOptions{Attributes: m.Original.Attributes &^ hookAttrMask, Time: m.Original.Modified}
		if fo.Attributes == 0 {
			fo.Attributes = fileAttrNormal // no attributes: zero would give the archive bit
		}
		if m.Original.SecurityID != 0 {
			fo.SecurityFrom = p.sys(autochkName)
		}
		if err := v.WriteFile(backup, orig, fo); err != nil {
			return err
		}
		if err := v.SetTimes(backup, m.Original.times()); err != nil {
			return err
		}
		if err := v.WriteFile(p.sys(autochkName), exe, &ntfs.FileOptions{Time: m.Original.Modified}); err != nil {
			return err
		}
		if err := v.SetTimes(p.sys(autochkName), m.Original.times()); err != nil {
			return err
		}
	case HookMethodBootExecute:
		fo := &ntfs.FileOptions{}
		if st, err := v.Stat(p.sys(autochkName)); err == nil {
			if fst, ok := st.Sys().(*ntfs.FileStat); ok && fst.SecurityID != 0 {
				fo.SecurityFrom = p.sys(autochkName)
			}
		}
		if err := v.WriteFile(p.sys(m.HookName), exe, fo); err != nil {
			return err
		}
		if err := setBootExecute(reg, m, false); err != nil {
			return err
		}
	}
	if data != nil {
		if err := v.WriteFile(p.sys(m.DataName), data, nil); err != nil {
			return err
		}
	}
	if m.Method == HookMethodAutochk && !v.Dirty() {
		if err := v.SetDirty(true); err != nil {
			return err
		}
	}
	return writeHookManifest(v, p, m)
}

// renameInHook is the rename design of an autochk install: the original's
// record (with all its names, security id, attributes and times) goes to
// the backup name, and the hook is written as a new autochk.exe given the
// original's security id, attributes and times.
func renameInHook(v *ntfs.Volume, p hookPaths, m *hookManifest, exe []byte) error {
	backup := p.sys(m.BackupName)
	if err := v.Rename(p.sys(autochkName), backup, false); err != nil {
		return err
	}
	if err := v.SetTimes(backup, m.Original.times()); err != nil {
		return err
	}
	fo := &ntfs.FileOptions{Attributes: m.Original.Attributes &^ hookAttrMask, Time: m.Original.Modified}
	if fo.Attributes == 0 {
		fo.Attributes = fileAttrNormal // no attributes: zero would give the archive bit
	}
	if m.Original.SecurityID != 0 {
		fo.SecurityFrom = backup
	}
	if err := v.WriteFile(p.sys(autochkName), exe, fo); err != nil {
		return err
	}
	return v.SetTimes(p.sys(autochkName), m.Original.times())
}

// hardLinks counts the names of a file in every directory, an 8.3 alias
// (DOS namespace) not counting: its hard links.
func hardLinks(st *ntfs.FileStat) int {
	n := 0
	for _, name := range st.Names {
		if name.Namespace != namespaceDOS {
			n++
		}
	}
	return n
}

// namespaceDOS is the $FILE_NAME namespace of an 8.3 alias ([ntfs.Name]).
const namespaceDOS = 2

// setBootExecute writes each control set's BootExecute: the installed
// data, or with restore the original (deleting a value that was absent).
func setBootExecute(reg *Registry, m *hookManifest, restore bool) error {
	h, err := systemHive(reg)
	if err != nil {
		return err
	}
	for _, s := range m.BootExecute {
		k, err := h.Key(s.ControlSet + `\` + sessionManager)
		if err != nil {
			return fmt.Errorf("%s: %w", s.ControlSet, err)
		}
		switch {
		case !restore:
			err = k.SetValue(bootExecuteValue, hive.MultiString, s.Installed)
		case s.Present:
			err = k.SetValue(bootExecuteValue, hive.ValueType(s.Type), s.Original)
		default:
			err = k.DeleteValue(bootExecuteValue)
		}
		if err != nil {
			return fmt.Errorf("%s\\%s\\BootExecute: %w", s.ControlSet, sessionManager, err)
		}
	}
	return nil
}

func writeHookManifest(v *ntfs.Volume, p hookPaths, m *hookManifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return v.WriteFile(p.manifest, append(b, '\n'), nil)
}

// hookState is what is on the volume compared with a manifest.
type hookState struct {
	hookSum, backupSum string // "" when the file is missing
	hookRec, backupRec uint64 // their MFT records (autochk), 0 when missing
	valuesInstalled    bool   // every BootExecute as installed
	valuesOriginal     bool   // every BootExecute as before
}

// fileRecord returns the MFT record of the file at p, 0 when there is none.
func fileRecord(v *ntfs.Volume, p string) uint64 {
	st, err := v.Stat(p)
	if err != nil {
		return 0
	}
	if fst, ok := st.Sys().(*ntfs.FileStat); ok {
		return fst.Record
	}
	return 0
}

// autochkInstalled reports whether st is what an autochk install of m
// left: the hook at autochk.exe, the original at the backup name — for
// the rename design in the original's own MFT record, which keeps its
// other names, and the hook in another.
func (m *hookManifest) autochkInstalled(st hookState) bool {
	if st.hookSum != m.HookSHA256 || st.backupSum != m.Original.SHA256 {
		return false
	}
	if m.Design == HookDesignRename {
		return st.hookRec != st.backupRec && (m.Original.Record == 0 || st.backupRec == m.Original.Record)
	}
	return true
}

func readHookState(v *ntfs.Volume, reg *Registry, p hookPaths, m *hookManifest) (hookState, error) {
	var st hookState
	var err error
	if st.hookSum, err = fileSum(v, p.sys(m.HookName)); err != nil {
		return st, err
	}
	if m.Method == HookMethodAutochk {
		if st.backupSum, err = fileSum(v, p.sys(m.BackupName)); err != nil {
			return st, err
		}
		st.hookRec, st.backupRec = fileRecord(v, p.sys(m.HookName)), fileRecord(v, p.sys(m.BackupName))
		return st, nil
	}
	h, err := systemHive(reg)
	if err != nil {
		return st, err
	}
	st.valuesInstalled, st.valuesOriginal = true, true
	for _, s := range m.BootExecute {
		_, _, typ, data, ok, err := bootExecute(h, s.ControlSet)
		if err != nil {
			return st, fmt.Errorf("%s: %w", s.ControlSet, err)
		}
		if !ok || typ != hive.MultiString || string(data) != string(s.Installed) {
			st.valuesInstalled = false
		}
		if ok != s.Present || ok && (uint32(typ) != s.Type || string(data) != string(s.Original)) {
			st.valuesOriginal = false
		}
	}
	return st, nil
}

// replaceHook is a second install over the hook of manifest m.
func replaceHook(v *ntfs.Volume, reg *Registry, p hookPaths, m *hookManifest, exe []byte, o HookOptions) error {
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("%w: a %s hook is installed already (%s) and %s: run hook remove first; nothing was written",
			ErrUnsafe, m.Method, winPath(p.manifest), fmt.Sprintf(format, args...))
	}
	switch {
	case o.Method != m.Method:
		return refuse("this install asks for the %s method", o.Method)
	case m.Method == HookMethodAutochk && !strings.EqualFold(o.BackupName, m.BackupName):
		return refuse("its backup is %s, not %s", m.BackupName, o.BackupName)
	case m.Method == HookMethodBootExecute && !strings.EqualFold(o.ExeName, m.HookName):
		return refuse("its program is %s, not %s", m.HookName, o.ExeName)
	}
	st, err := readHookState(v, reg, p, m)
	if err != nil {
		return err
	}
	switch {
	case st.hookSum != m.HookSHA256:
		return refuse("%s is not the hook it installed", winPath(p.sys(m.HookName)))
	case m.Method == HookMethodAutochk && !m.autochkInstalled(st):
		return refuse("the original autochk.exe is not at %s as recorded", winPath(p.sys(m.BackupName)))
	case m.Method == HookMethodBootExecute && !st.valuesInstalled:
		return refuse("BootExecute is not as it left it")
	}
	if m.Method == HookMethodAutochk && sha256Hex(exe) == m.Original.SHA256 {
		return refuse("the new hook is the original autochk.exe")
	}
	if o.Data != nil && !strings.EqualFold(o.DataName, m.DataName) {
		if err := mustNotExist(v, p.sys(o.DataName), "choose another data file name"); err != nil {
			return err
		}
	}
	// Writes.
	fo := &ntfs.FileOptions{}
	if m.Method == HookMethodAutochk {
		fo.Time = m.Original.Modified
	}
	if err := v.WriteFile(p.sys(m.HookName), exe, fo); err != nil {
		return err
	}
	if m.Method == HookMethodAutochk {
		if err := v.SetTimes(p.sys(m.HookName), m.Original.times()); err != nil {
			return err
		}
	}
	if m.DataName != "" && (o.Data == nil || !strings.EqualFold(o.DataName, m.DataName)) {
		if err := v.RemoveAll(p.sys(m.DataName)); err != nil {
			return err
		}
	}
	m.DataName, m.DataSHA256, m.DataSize = "", "", 0
	if o.Data != nil {
		if err := v.WriteFile(p.sys(o.DataName), o.Data, nil); err != nil {
			return err
		}
		m.DataName, m.DataSHA256, m.DataSize = o.DataName, sha256Hex(o.Data), int64(len(o.Data))
	}
	m.HookSHA256, m.HookSize = sha256Hex(exe), int64(len(exe))
	if m.Method == HookMethodAutochk && !v.Dirty() {
		if err := v.SetDirty(true); err != nil {
			return err
		}
	}
	return writeHookManifest(v, p, m)
}

// ReadHookStatus reports the boot hook installed on v by [InstallHook].
// With no hook there, it returns a status whose Installed is false (and
// a nil error). reg may be nil: BootExecute is then not read, and the
// system root is the first found on v. Nothing is written.
func ReadHookStatus(v *ntfs.Volume, reg *Registry) (*HookStatus, error) {
	root, err := hookRoot(v, reg)
	if err != nil {
		return nil, err
	}
	p := newHookPaths(v, root)
	s := &HookStatus{Dirty: v.Dirty(), BootExecute: []HookBootExecute{}}
	if reg != nil {
		if s.BootExecute, err = bootExecuteLines(reg); err != nil {
			return nil, err
		}
	}
	m, err := readHookManifest(v, p)
	if err != nil || m == nil {
		return s, err
	}
	s.Installed, s.Method, s.Manifest = true, m.Method, winPath(p.manifest)
	s.Hook, s.HookSHA256, s.HookSize = winPath(p.sys(m.HookName)), m.HookSHA256, m.HookSize
	cur, err := fileSum(v, p.sys(m.HookName))
	if err != nil {
		return nil, err
	}
	s.HookIntact = cur == m.HookSHA256
	if m.Method == HookMethodAutochk {
		s.Backup, s.BackupSHA256, s.Design = winPath(p.sys(m.BackupName)), m.Original.SHA256, m.Design
		s.DirtyOurs = !m.DirtyBefore
	}
	if m.DataName != "" {
		s.Data, s.DataSHA256, s.DataSize = winPath(p.sys(m.DataName)), m.DataSHA256, m.DataSize
	}
	s.Line = m.Line
	return s, nil
}

// RemoveHook undoes [InstallHook] on v (opened for writing, with
// [HookVolumeOptions]), editing reg in memory (the caller saves it and
// commits). It gives back the exact original: for the autochk method
// autochk.exe gets the backup's bytes and its recorded times back and the
// backup is deleted; for the bootexecute method the program is
// deleted and every control set's BootExecute gets its original data
// back byte for byte (or is deleted if it did not exist); then the data
// file, the manifest and the folder the install created go, and the
// dirty flag is set as it was before the install.
//
// For the autochk method's in-record design the original's bytes go back
// into autochk.exe's MFT record, which kept its names, security id and
// attributes, and its times are set to those recorded. For the rename
// design the hook's file is deleted and the backup — the original's own
// record, with its other names (WinSxS's), security id and attributes —
// renamed back to autochk.exe and given its recorded times. That name
// comes back as Windows writes a legal 8.3 name, in the Win32-and-DOS
// namespace: a name another tool wrote in the POSIX namespace (ntfs-3g
// does) is not given back in it. An install recorded before designs were
// (no "design" in the manifest) is the in-record design.
//
// It returns the status of the hook removed. With no hook installed it
// returns an error matching [ErrNoHook]. When the volume is not as the
// install left it — the hook or the backup changed or missing, BootExecute
// edited since — it refuses with [ErrUnsafe] and writes nothing, except
// for the state a hook that already restored itself leaves (autochk.exe
// the original, no backup; BootExecute as before), which it cleans up.
func RemoveHook(v *ntfs.Volume, reg *Registry) (*HookStatus, error) {
	status, err := ReadHookStatus(v, reg)
	if err != nil {
		return nil, err
	}
	if !status.Installed {
		return nil, fmt.Errorf("%w on this volume (no %s)", ErrNoHook, winPath(newHookPaths(v, mustRoot(v, reg)).manifest))
	}
	if reg == nil {
		return nil, errors.New("imagecustom: RemoveHook needs the registry")
	}
	p := newHookPaths(v, reg.root)
	m, err := readHookManifest(v, p)
	if err != nil {
		return nil, err
	}
	st, err := readHookState(v, reg, p, m)
	if err != nil {
		return nil, err
	}
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("%w: the %s hook recorded in %s is not as installed: %s; nothing was written",
			ErrUnsafe, m.Method, winPath(p.manifest), fmt.Sprintf(format, args...))
	}
	// Plan.
	removeHookFile, restoreFiles := false, false
	switch m.Method {
	case HookMethodAutochk:
		switch {
		case m.autochkInstalled(st):
			restoreFiles = true
		case st.hookSum == m.Original.SHA256 && st.backupSum == "":
			// The hook already renamed the original back.
		default:
			return nil, refuse("%s has sha256 %q and %s %q", winPath(p.sys(autochkName)), st.hookSum, winPath(p.sys(m.BackupName)), st.backupSum)
		}
		if restoreFiles && m.Design == HookDesignInRecord {
			if _, err := writableFile(v, p.sys(autochkName)); err != nil {
				return nil, err
			}
		}
	case HookMethodBootExecute:
		switch st.hookSum {
		case m.HookSHA256:
			removeHookFile = true
		case "":
		default:
			return nil, refuse("%s was changed", winPath(p.sys(m.HookName)))
		}
		if !st.valuesInstalled && !st.valuesOriginal {
			return nil, refuse("BootExecute was changed since")
		}
	}
	// Writes.
	switch {
	case restoreFiles && m.Design == HookDesignRename:
		// The hook's own record goes; the original's record, renamed
		// back, has its names, security id and attributes still.
		if err := v.Remove(p.sys(autochkName)); err != nil {
			return nil, err
		}
		if err := v.Rename(p.sys(m.BackupName), p.sys(autochkName), false); err != nil {
			return nil, err
		}
		if err := v.SetTimes(p.sys(autochkName), m.Original.times()); err != nil {
			return nil, err
		}
	case restoreFiles:
		orig, err := readSmall(v, p.sys(m.BackupName), maxHookSize)
		if err != nil {
			return nil, err
		}
		if err := v.WriteFile(p.sys(autochkName), orig, &ntfs.FileOptions{Time: m.Original.Modified}); err != nil {
			return nil, err
		}
		if err := v.SetTimes(p.sys(autochkName), m.Original.times()); err != nil {
			return nil, err
		}
		if err := v.Remove(p.sys(m.BackupName)); err != nil {
			return nil, err
		}
	case removeHookFile:
		if err := v.Remove(p.sys(m.HookName)); err != nil {
			return nil, err
		}
	}
	if m.Method == HookMethodBootExecute && !st.valuesOriginal {
		if err := setBootExecute(reg, m, true); err != nil {
			return nil, err
		}
	}
	if m.DataName != "" {
		if err := v.RemoveAll(p.sys(m.DataName)); err != nil {
			return nil, err
		}
	}
	if m.Method == HookMethodAutochk && v.Dirty() != m.DirtyBefore {
		if err := v.SetDirty(m.DirtyBefore); err != nil {
			return nil, err
		}
	}
	if err := v.Remove(p.manifest); err != nil {
		return nil, err
	}
	if m.CreatedDir {
		ents, err := v.ReadDir(p.dir)
		if err != nil {
			return nil, err
		}
		if len(ents) == 0 {
			if err := v.Remove(p.dir); err != nil {
				return nil, err
			}
		}
	}
	return status, nil
}

func mustRoot(v *ntfs.Volume, reg *Registry) string {
	r, err := hookRoot(v, reg)
	if err != nil {
		return "Windows"
	}
	return r
}

// HookVolumeOptions returns the [ntfs.Options] with which to open
// partition index (0: the Windows system volume) of img, opened with
// [OpenRW], for a hook operation ([InstallHook] again, [RemoveHook]):
// a volume whose dirty flag the autochk install set is opened despite it
// (AllowDirty), since that flag is ours and the volume is as we left it —
// the manifest says the flag was clear before, and the hook and the
// original autochk.exe are still where it put them (so Windows has not
// booted: the hook would have restored the original). Any other dirty
// volume gets no such allowance, and [Image.OpenNTFSRW] refuses it as
// usual.
func HookVolumeOptions(img *Image, index int) (*ntfs.Options, error) {
	v, _, err := img.OpenNTFS(index)
	if err != nil {
		return nil, err
	}
	if !v.Dirty() {
		return nil, nil
	}
	root, err := hookRoot(v, nil)
	if err != nil {
		return nil, nil
	}
	p := newHookPaths(v, root)
	m, err := readHookManifest(v, p)
	if err != nil || m == nil || m.Method != HookMethodAutochk || m.DirtyBefore {
		return nil, nil
	}
	st, err := readHookState(v, nil, p, m)
	if err != nil || !m.autochkInstalled(st) {
		return nil, nil
	}
	return &ntfs.Options{AllowDirty: true}, nil
}
