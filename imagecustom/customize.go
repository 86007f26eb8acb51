package imagecustom

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/pe"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/imagecustom/boothook"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/imagecustom/go-imagecustom/sysprep"
)

// ErrVerify reports that what [Customize] read back from the image is not
// what it wrote. The image was restored (in place, from the undo journal)
// or the child disk removed.
var ErrVerify = errors.New("imagecustom: verification failed")

// CustomizeOptions tunes [Customize].
type CustomizeOptions struct {
	// DryRun runs the whole plan against the in-memory overlay only,
	// verifies it by reading it back, and writes nothing.
	DryRun bool
	// Child, when set, leaves the image untouched and writes the result
	// into a new VMDK delta disk at this path (see [WriteOptions.Child]).
	Child string
	// Partition picks the Windows volume (1-based); 0 finds it.
	Partition int
	// SpecDir is the folder that relative local paths of the spec resolve
	// against: files[].source, regFiles, bootHook.exe and .data, and
	// sysprepTools. The CLI passes the spec file's folder; "" is the
	// current directory.
	SpecDir string
	// Generalize opts in, for a Vista-or-later image that is not
	// generalized (ImageState IMAGE_STATE_COMPLETE, what a clone of a
	// running machine has), to making its first boot generalize it and
	// then apply the answer file: SYSTEM\Setup CmdLine runs
	// "sysprep /generalize /oobe /reboot /quiet /unattend:…" as SYSTEM
	// before the logon screen (SetupType 2; reference §6, KB939857, the
	// "SetupType and CmdLine" technet thread; unverified here, as nothing
	// boots Windows). Without it such an image is refused.
	Generalize bool
	// Rand supplies the random part of a computer name made from a
	// prefix; nil means crypto/rand.
	Rand io.Reader
}

// CustomizeResult is what [Customize] did, or for a dry run would do.
type CustomizeResult struct {
	Plan    *Plan    `json:"plan"`
	DryRun  bool     `json:"dry_run"`
	Child   string   `json:"child,omitempty"`
	Changes []Change `json:"changes"` // byte ranges of the disk changed (or that would be)
	Bytes   int64    `json:"bytes"`   // their total
	// Probe is the read-back of the dry-run pass on the overlay; Final
	// that of the committed image or child, reopened (nil for a dry run).
	Probe *Verification `json:"probe"`
	Final *Verification `json:"final,omitempty"`
}

// Plan is everything a customization writes, decided before anything is:
// no password appears in it (files holding one have no digest).
type Plan struct {
	Format       string  `json:"format"` // the image's, as [Image.Format]
	Windows      Windows `json:"windows"`
	Family       string  `json:"family"`
	Arch         string  `json:"arch"`
	ImageState   string  `json:"image_state,omitempty"` // Vista and later: as read
	ComputerName string  `json:"computer_name"`
	// Files are written in order, replacing any file at the path.
	Files []PlanFile `json:"files"`
	// Removed are files deleted: a stale cached answer file.
	Removed []string `json:"removed"`
	// Registry values are set in order, each key path naming its hive and
	// control set.
	Registry []PlanValue `json:"registry"`
	RegFiles []string    `json:"reg_files"` // .reg files merged, local paths
	Hook     *PlanHook   `json:"hook,omitempty"`
	Steps    []PlanStep  `json:"steps"` // in the order Windows runs them
	Warnings []string    `json:"warnings"`

	secrets []string
	// tamper, a test seam, changes the volume after the plan was applied,
	// so that verification must fail.
	tamper func(v *ntfs.Volume) error
}

// PlanFile is a file the plan writes into the volume.
type PlanFile struct {
	Path   string `json:"path"` // in the volume, `\Sysprep\sysprep.inf`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"` // hex; empty when Secret
	// Secret says the file holds a password: its digest is not shown.
	Secret bool `json:"secret,omitempty"`
	// Origin says where the bytes come from: "rendered", "spec" (a
	// spec's file), "merged" (rendered, then the image's own), or
	// "sysprep-tools".
	Origin string `json:"origin"`
	Source string `json:"source,omitempty"` // the local file copied, if any
	data   []byte
}

// PlanValue is a registry value the plan sets.
type PlanValue struct {
	Key  string `json:"key"` // full path, control set resolved: HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\…
	Name string `json:"name"`
	Type string `json:"type"` // REG_SZ, REG_DWORD, REG_MULTI_SZ
	Data any    `json:"data"` // string, list of strings or number
	typ  hive.ValueType
	raw  []byte
}

// PlanHook is the boot hook the plan installs.
type PlanHook struct {
	Exe        string `json:"exe,omitempty"`     // local path; "" for the built-in hook
	Builtin    bool   `json:"builtin,omitempty"` // the project's own hook, running bootHook.actions
	Method     string `json:"method"`
	Size       int64  `json:"size"`
	SHA256     string `json:"sha256"`
	ExeName    string `json:"exe_name"`              // in System32
	BackupName string `json:"backup_name,omitempty"` // autochk: the original's new name
	Data       string `json:"data,omitempty"`        // local path of the data file
	DataName   string `json:"data_name,omitempty"`
	exe, dat   []byte
}

// PlanStep is one step, offline or at boot.
type PlanStep struct {
	Kind   string `json:"kind"`
	Phase  string `json:"phase"`
	File   string `json:"file,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Verification counts what was read back and found as written.
type Verification struct {
	Where   string   `json:"where"` // "overlay", "image" or "child"
	Files   int      `json:"files"`
	Removed int      `json:"removed"`
	Values  int      `json:"values"`
	Hives   []string `json:"hives"` // hives whose saved bytes were compared whole
	Hook    bool     `json:"hook"`
	Dirty   bool     `json:"dirty"` // the volume's dirty flag as read back
}

// Customize applies spec to the Windows install of the image at path:
// it detects the install, validates the spec for its family and
// architecture (warnings go into the plan), renders the artifacts, plans
// every file, registry value and the boot hook, runs the plan on a
// dry-run overlay and reads it back, and then — unless opts.DryRun —
// runs it again for real, in place through the undo journal or into
// opts.Child, reopens the result and verifies every file's bytes, every
// registry value, the saved hives and the hook. A mismatch fails with
// [ErrVerify] and the original restored (in place: rolled back from the
// journal; a child: removed).
//
// Windows 2000, XP and 2003 get sysprep.inf, cmdlines.txt and the
// scripts where mini-setup reads them, and the SYSTEM\Setup values that
// start mini-setup at the next boot; with spec.SysprepTools also
// Microsoft's sysprep.exe and setupcl.exe in \Sysprep, setupcl.exe
// registered to regenerate the SID. Vista and later must be generalized
// (ImageState from SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State,
// or Windows\Setup\State\State.ini): unattend.xml goes to
// Windows\Panther, where the specialize and oobeSystem passes read it, a
// stale Panther\Unattend\Unattend.xml is removed, and an existing
// SetupComplete.cmd is kept after the rendered one. Any other image state
// is refused with an error matching [ErrUnsafe], unless opts.Generalize.
//
// Relative local paths in spec resolve against opts.SpecDir.
func Customize(ctx context.Context, path string, spec *sysprep.Spec, opts *CustomizeOptions) (*CustomizeResult, error) {
	if opts == nil {
		opts = &CustomizeOptions{}
	}
	if opts.DryRun && opts.Child != "" {
		return nil, errors.New("imagecustom: a dry run writes nothing, not even a child disk: use DryRun or Child, not both")
	}
	plan, err := planCustomize(path, spec, opts)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res := &CustomizeResult{Plan: plan, DryRun: opts.DryRun, Child: opts.Child}

	// The probe: the whole plan on the overlay, read back. A
	// streamOptimized image cannot be opened for writing even in memory:
	// its probe writes a throwaway child disk on top of it instead.
	probeOpts := &WriteOptions{DryRun: true}
	if plan.Format == "vmdk/streamOptimized" {
		if !opts.DryRun && opts.Child == "" {
			return nil, fmt.Errorf("%w: %s is a streamOptimized VMDK, which cannot be written in place (its grains are compressed): "+
				"write the result to a child disk (--out CHILD.vmdk, CustomizeOptions.Child) or convert the image first (vmdk convert)", ErrUnsafe, path)
		}
		tmp, err := os.MkdirTemp("", "imagecustom-probe-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		probeOpts = &WriteOptions{Child: filepath.Join(tmp, "probe.vmdk")}
	}
	probe, changes, err := runPass(ctx, path, probeOpts, true, plan, "overlay")
	if err != nil {
		return nil, err
	}
	res.Probe, res.Changes = probe, changes
	if !opts.DryRun {
		where := "image"
		if opts.Child != "" {
			where = "child"
		}
		final, changes, err := runPass(ctx, path, &WriteOptions{Child: opts.Child}, false, plan, where)
		if err != nil {
			return nil, err
		}
		res.Final, res.Changes = final, changes
	}
	if res.Changes == nil {
		res.Changes = []Change{}
	}
	for _, c := range res.Changes {
		res.Bytes += c.Length
	}
	return res, nil
}

// planCustomize reads the image and decides everything to write.
func planCustomize(path string, spec *sysprep.Spec, opts *CustomizeOptions) (*Plan, error) {
	img, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	w, err := pickWindows(img, opts.Partition)
	if err != nil {
		return nil, err
	}
	v, _, err := img.OpenNTFS(w.Partition)
	if err != nil {
		return nil, err
	}
	family, err := sysprep.ParseFamily(w.Family)
	if err != nil {
		return nil, fmt.Errorf("%w: %s (%s): %w", ErrUnsupported, w.Name, w.Family, err)
	}
	if spec.Direct {
		if probs := directProblems(sysprep.Validate(spec, family)); len(probs) > 0 {
			return nil, &sysprep.ProblemsError{Problems: probs}
		}
		return planDirect(img, v, w, spec, opts)
	}
	arch, err := sysprep.ParseArch(w.Arch)
	if err != nil {
		return nil, fmt.Errorf("%w: %s on %s: %w", ErrUnsupported, w.Name, w.Arch, err)
	}
	p := &Plan{Format: img.Format(), Windows: *w, Family: family.String(), Arch: arch.String(), Files: []PlanFile{}, Removed: []string{},
		Registry: []PlanValue{}, RegFiles: []string{}, Steps: []PlanStep{}, Warnings: []string{}}
	p.secrets = specSecrets(spec)
	res, err := sysprep.Render(spec, sysprep.Options{Family: family, Arch: arch, SystemRoot: w.SystemRoot, Rand: opts.Rand})
	if err != nil {
		return nil, err
	}
	p.ComputerName = res.ComputerName
	if len(w.Dirty) > 0 {
		// The registry replays their transaction logs in memory (or
		// refuses, hive.ErrDirty, when it cannot) and saves them clean.
		p.warn("the hives %s were not closed cleanly (a clone of a running machine?): their transaction logs are replayed before they are changed", strings.Join(w.Dirty, ", "))
	}
	for _, wn := range res.Warnings {
		p.warn("spec: %s", wn)
	}
	root := strings.TrimPrefix(w.SystemRoot, `\`)
	reg, err := OpenRegistry(v, root)
	if err != nil {
		return nil, err
	}
	local := func(name string) string {
		if name == "" || filepath.IsAbs(name) {
			return name
		}
		return filepath.Join(opts.SpecDir, name)
	}
	specFiles := map[string]bool{}
	for _, f := range spec.Files {
		if ip, err := cleanImagePath(f.Path); err == nil {
			specFiles[strings.ToLower(ip)] = true
		}
	}
	for _, f := range res.Files {
		pf := PlanFile{Path: f.Path, Origin: "rendered", data: []byte(f.Content)}
		if specFiles[strings.ToLower(f.Path)] {
			pf.Origin = "spec"
		}
		if f.Source != "" {
			pf.Source = local(f.Source)
			if pf.data, err = os.ReadFile(pf.Source); err != nil {
				return nil, fmt.Errorf("imagecustom: spec file for %s: %w", f.Path, err)
			}
		}
		p.Files = append(p.Files, pf)
	}
	for _, rf := range res.RegFiles {
		p.RegFiles = append(p.RegFiles, local(rf))
	}
	values := res.Registry
	if family == sysprep.Vista {
		extra, err := p.vistaState(v, reg, root, opts.Generalize)
		if err != nil {
			return nil, err
		}
		values = append(values, extra...)
	} else if err := p.sysprepTools(v, reg, root, local(spec.SysprepTools), spec.SysprepTools != ""); err != nil {
		return nil, err
	}
	for _, rv := range values {
		if err := p.addValue(reg, rv); err != nil {
			return nil, err
		}
	}
	if h := spec.BootHook; h != nil {
		if err := p.planHook(v, w, h, local); err != nil {
			return nil, err
		}
	}
	for _, s := range res.Plan {
		p.Steps = append(p.Steps, PlanStep{Kind: s.Kind.String(), Phase: s.Phase, File: s.File, Detail: p.mask(s.Detail)})
	}
	for i := range p.Files {
		f := &p.Files[i]
		f.Size = int64(len(f.data))
		if f.Secret = p.holdsSecret(f.data); !f.Secret {
			f.SHA256 = sha(f.data)
		}
	}
	for i := range p.Warnings {
		p.Warnings[i] = p.mask(p.Warnings[i])
	}
	return p, nil
}

// pickWindows returns the install on partition index, or the only one.
func pickWindows(img *Image, index int) (*Windows, error) {
	ws, err := img.Windows()
	if err != nil {
		return nil, err
	}
	var found []Windows
	for _, w := range ws {
		if index == 0 || w.Partition == index {
			found = append(found, w)
		}
	}
	switch {
	case len(found) == 0:
		return nil, fmt.Errorf("%w: no Windows install on partition %d", ErrNoVolume, index)
	case len(found) > 1:
		var parts []string
		for _, w := range found {
			parts = append(parts, fmt.Sprintf("%d (%s)", w.Partition, w.SystemRoot))
		}
		return nil, fmt.Errorf("%w: Windows installs on partitions %s; pick one with --partition", ErrAmbiguous, strings.Join(parts, ", "))
	}
	return &found[0], nil
}

func (p *Plan) warn(format string, args ...any) {
	p.Warnings = append(p.Warnings, fmt.Sprintf(format, args...))
}

// specSecrets lists every password of a spec, in each form a rendered
// file can hold it.
func specSecrets(spec *sysprep.Spec) []string {
	var out []string
	for _, pw := range []*sysprep.Password{spec.Identity.AdminPassword, spec.Membership.DomainPassword} {
		if pw == nil {
			continue
		}
		for _, s := range []string{pw.Plain, pw.Encoded} {
			if s == "" {
				continue
			}
			out = append(out, s)
			if s == pw.Plain {
				out = append(out, sysprep.EncodePassword(s, "Password"), sysprep.EncodePassword(s, "AdministratorPassword"))
			}
		}
	}
	return out
}

// mask replaces every password in s.
func (p *Plan) mask(s string) string {
	for _, sec := range p.secrets {
		s = strings.ReplaceAll(s, sec, "********")
	}
	return s
}

func (p *Plan) holdsSecret(b []byte) bool {
	for _, sec := range p.secrets {
		if bytes.Contains(b, []byte(sec)) {
			return true
		}
	}
	return false
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// cleanImagePath turns `C:\x/y` into `\x\y`.
func cleanImagePath(p string) (string, error) {
	p = strings.ReplaceAll(p, "/", `\`)
	if len(p) >= 2 && p[1] == ':' {
		p = p[2:]
	}
	if !strings.HasPrefix(p, `\`) {
		return "", fmt.Errorf("%q is not an absolute path in the volume", p)
	}
	return p, nil
}

// volPath turns `\x\y` into the volume's fs.FS path "x/y".
func volPath(p string) string {
	return strings.Trim(strings.ReplaceAll(p, `\`, "/"), "/")
}

// addValue resolves a rendered value's key to every control set it must
// reach and adds it to the plan.
func (p *Plan) addValue(reg *Registry, rv sysprep.RegValue) error {
	ts, err := reg.Targets(rv.Key)
	if err != nil {
		return err
	}
	var typ hive.ValueType
	var raw []byte
	var data any
	switch rv.Type {
	case sysprep.RegDWORD:
		typ, raw, data = hive.ValueType(4), hive.EncodeUint32(rv.DWord), rv.DWord
	case sysprep.RegMultiSZ:
		typ, raw, data = hive.ValueType(7), hive.EncodeStrings(rv.Strings), rv.Strings
	default:
		typ, raw, data = hive.ValueType(1), hive.EncodeString(rv.String), rv.String
	}
	for _, t := range ts {
		key := reg.rootName(t.Hive)
		if t.Path != "" {
			key += `\` + t.Path
		}
		p.Registry = append(p.Registry, PlanValue{Key: key, Name: rv.Name, Type: rv.Type.String(), Data: data, typ: typ, raw: raw})
	}
	return nil
}

// rootName returns the key path of h's root, "HKEY_LOCAL_MACHINE\SYSTEM".
func (r *Registry) rootName(h *hive.Hive) string {
	for name, rh := range r.hives {
		if rh.h == h {
			return name
		}
	}
	return ""
}

// ImageState values (reference §2, [S8]).
const (
	imageStateComplete          = "IMAGE_STATE_COMPLETE"
	imageStateGeneralizeToOOBE  = "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
	imageStateGeneralizeToAudit = "IMAGE_STATE_GENERALIZE_RESEAL_TO_AUDIT"
)

// ReadImageState returns a Vista-or-later install's setup state: the
// ImageState value of SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State,
// else ImageState in Windows\Setup\State\State.ini; "" when neither says.
func ReadImageState(v *ntfs.Volume, reg *Registry, root string) (state string, err error) {
	if k, err := reg.Key(`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State`); err == nil {
		if val, err := k.Value("ImageState"); err == nil {
			if s, err := val.String(); err == nil && s != "" {
				return strings.TrimSpace(s), nil
			}
		}
	}
	b, err := readSmall(v, root+"/Setup/State/State.ini", 64<<10)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return iniValue(b, "ImageState"), nil
}

// iniValue finds key=value in INI text (UTF-16LE with a BOM, or ANSI).
func iniValue(b []byte, key string) string {
	text := string(b)
	if len(b) >= 2 && b[0] == 0xff && b[1] == 0xfe {
		text = hiveString(b[2:])
	}
	for _, line := range strings.Split(text, "\n") {
		k, val, ok := strings.Cut(strings.TrimSpace(line), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), key) {
			return strings.TrimSpace(val)
		}
	}
	return ""
}

func hiveString(b []byte) string {
	u := make([]rune, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u = append(u, rune(b[i])|rune(b[i+1])<<8)
	}
	return string(u)
}

// systemDrive is the drive letter Windows gives its system volume; an
// offline image does not say, and every install this targets uses C:
// [unverified for images whose system volume is another letter].
const systemDrive = "C:"

// vistaState checks that a Vista-or-later image can take unattend.xml,
// removes a stale cached answer file, keeps an existing SetupComplete.cmd,
// and for the Generalize opt-in adds the values that make the first boot
// run sysprep.
func (p *Plan) vistaState(v *ntfs.Volume, reg *Registry, root string, generalize bool) ([]sysprep.RegValue, error) {
	state, err := ReadImageState(v, reg, root)
	if err != nil {
		return nil, err
	}
	p.ImageState = state
	shown := state
	if shown == "" {
		shown = "no ImageState in the registry or Setup\\State\\State.ini"
	}
	for _, stale := range []string{`\Panther\Unattend\Unattend.xml`, `\Panther\Unattend\Autounattend.xml`} {
		full := `\` + root + stale
		if _, err := v.Stat(volPath(full)); err == nil {
			p.Removed = append(p.Removed, full)
		}
	}
	if k, err := reg.Key(`HKLM\SYSTEM\Setup`); err == nil {
		if val, err := k.Value("UnattendFile"); err == nil {
			if s, _ := val.String(); s != "" {
				p.warn("SYSTEM\\Setup\\UnattendFile names %s, which Windows reads before Panther\\unattend.xml", s)
			}
		}
	}
	sc := `\` + root + `\Setup\Scripts\SetupComplete.cmd`
	old, err := readSmall(v, volPath(sc), 1<<20)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err == nil {
		for i := range p.Files {
			if strings.EqualFold(p.Files[i].Path, sc) {
				merged := append([]byte(nil), p.Files[i].data...)
				merged = append(merged, "rem The image's own SetupComplete.cmd follows, kept by imagecustom.\r\n"...)
				p.Files[i].data = append(merged, old...)
				p.Files[i].Origin = "merged"
			}
		}
	}
	switch state {
	case imageStateGeneralizeToOOBE, imageStateGeneralizeToAudit:
		return nil, nil
	}
	if !generalize {
		return nil, fmt.Errorf("%w: the image is not generalized (%s): Windows reads unattend.xml's specialize and oobeSystem passes only after sysprep /generalize, so nothing would apply; "+
			"generalize it (sysprep /generalize /oobe /shutdown) before cloning, or opt in to a first boot that runs sysprep itself (--generalize)", ErrUnsafe, shown)
	}
	// The opt-in: winlogon runs SYSTEM\Setup\CmdLine as SYSTEM before
	// the logon screen when SetupType is 2 (reference §6 [S12]); sysprep
	// generalizes, caches the answer file given by /unattend into Panther
	// and reboots into specialize and oobeSystem [unverified].
	answer := `\` + root + `\imagecustom\unattend.xml`
	for _, f := range p.Files {
		if strings.EqualFold(f.Path, `\`+root+`\Panther\unattend.xml`) {
			p.Files = append(p.Files, PlanFile{Path: answer, Origin: "rendered", data: f.data})
		}
	}
	cmd := systemDrive + `\` + root + `\System32\Sysprep\sysprep.exe /generalize /oobe /reboot /quiet /unattend:` + systemDrive + answer
	p.warn("the image is not generalized (%s): its first boot runs %q, then reboots into the answer file's passes (opted in; unverified on a real boot)", shown, cmd)
	p.Steps = append(p.Steps, PlanStep{Kind: "generalize", Phase: "first-boot", Detail: cmd})
	return []sysprep.RegValue{
		{Key: `HKLM\SYSTEM\Setup`, Name: "CmdLine", Type: sysprep.RegSZ, String: cmd},
		{Key: `HKLM\SYSTEM\Setup`, Name: "SetupType", Type: sysprep.RegDWORD, DWord: 2},
	}, nil
}

// sysprepTools plans Microsoft's sysprep.exe and setupcl.exe from dir:
// both copied to \Sysprep (where sysprep.inf sits beside them, reference
// §3 [S9]), setupcl.exe also to System32 and appended to BootExecute in
// every control set, as "sysprep -reseal" registers it with the session
// manager so it regenerates the machine SID before mini-setup (technet
// cc736393 "How Sysprep Works"; BootExecute rather than SetupExecute is
// [unverified]: no resealed reference image was diffed here).
func (p *Plan) sysprepTools(v *ntfs.Volume, reg *Registry, root, dir string, given bool) error {
	if !given {
		p.warn("the machine SID stays the image's: give sysprepTools, a folder with Microsoft's sysprep.exe and setupcl.exe from the DEPLOY.CAB of the matching service pack, to regenerate it")
		return nil
	}
	read := func(name string) ([]byte, string, error) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, "", fmt.Errorf("imagecustom: sysprepTools: %w", err)
		}
		for _, e := range ents {
			if strings.EqualFold(e.Name(), name) {
				full := filepath.Join(dir, e.Name())
				b, err := os.ReadFile(full)
				return b, full, err
			}
		}
		return nil, "", fmt.Errorf("imagecustom: sysprepTools: %s has no %s: %w", dir, name, fs.ErrNotExist)
	}
	sysprepExe, sysprepSrc, err := read("sysprep.exe")
	if err != nil {
		return err
	}
	setupcl, setupclSrc, err := read("setupcl.exe")
	if err != nil {
		return err
	}
	if err := checkPE(setupcl, p.Windows.Arch, true); err != nil {
		return fmt.Errorf("%w: sysprepTools: setupcl.exe: %w", ErrUnsafe, err)
	}
	if err := checkPE(sysprepExe, p.Windows.Arch, false); err != nil {
		return fmt.Errorf("%w: sysprepTools: sysprep.exe: %w", ErrUnsafe, err)
	}
	p.Files = append(p.Files,
		PlanFile{Path: `\Sysprep\sysprep.exe`, Origin: "sysprep-tools", Source: sysprepSrc, data: sysprepExe},
		PlanFile{Path: `\Sysprep\setupcl.exe`, Origin: "sysprep-tools", Source: setupclSrc, data: setupcl},
		PlanFile{Path: `\` + root + `\System32\setupcl.exe`, Origin: "sysprep-tools", Source: setupclSrc, data: setupcl})
	const sm = `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager`
	ts, err := reg.Targets(sm)
	if err != nil {
		return err
	}
	for _, t := range ts {
		lines := []string{"autocheck autochk *"}
		if k, err := t.Hive.Key(t.Path); err == nil {
			if val, err := k.Value("BootExecute"); err == nil {
				if ss, err := val.Strings(); err == nil {
					lines = ss
				}
			}
		}
		has := false
		for _, l := range lines {
			has = has || strings.EqualFold(strings.TrimSpace(l), "setupcl.exe")
		}
		if !has {
			lines = append(append([]string(nil), lines...), "setupcl.exe")
		}
		key := reg.rootName(t.Hive) + `\` + t.Path
		p.Registry = append(p.Registry, PlanValue{Key: key, Name: "BootExecute", Type: "REG_MULTI_SZ", Data: lines,
			typ: hive.ValueType(7), raw: hive.EncodeStrings(lines)})
	}
	p.Steps = append(p.Steps, PlanStep{Kind: "new-sid", Phase: sysprep.PhaseBoot, File: `\` + root + `\System32\setupcl.exe`,
		Detail: "setupcl.exe regenerates the machine SID before mini-setup"})
	return nil
}

// checkPE checks a PE's machine against the install's architecture and,
// when native, that its subsystem is native (1).
func checkPE(b []byte, arch string, native bool) error {
	f, err := pe.NewFile(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("not a PE file: %w", err)
	}
	defer f.Close()
	got := map[uint16]string{0x14c: "x86", 0x8664: "amd64", 0x200: "ia64", 0xaa64: "arm64"}[f.Machine]
	if got != arch {
		return fmt.Errorf("machine 0x%x (%s) is not the install's %s", f.Machine, got, arch)
	}
	if !native {
		return nil
	}
	var sub uint16
	switch h := f.OptionalHeader.(type) {
	case *pe.OptionalHeader32:
		sub = h.Subsystem
	case *pe.OptionalHeader64:
		sub = h.Subsystem
	}
	if sub != pe.IMAGE_SUBSYSTEM_NATIVE {
		return fmt.Errorf("subsystem %d, not native (1)", sub)
	}
	return nil
}

// planHook reads the boot hook's files and checks its PE.
func (p *Plan) planHook(v *ntfs.Volume, w *Windows, h *sysprep.BootHook, local func(string) string) error {
	ph := &PlanHook{Exe: local(h.Exe), Method: h.Method, Data: local(h.Data)}
	if ph.Method == "" {
		ph.Method = HookMethodAutochk
	}
	var err error
	if h.Actions != "" {
		// The project's own hook, with the spec's action list as its
		// data file.
		ph.Exe, ph.Data, ph.Builtin = "", "", true
		problem := func(err error) error {
			return &sysprep.ProblemsError{Problems: []sysprep.Problem{{Path: "bootHook.actions", Message: err.Error()}}}
		}
		actions, err := boothook.Parse(strings.NewReader(h.Actions))
		if err != nil {
			return problem(err)
		}
		if ph.dat, err = boothook.EncodeData(boothook.Data{Backup: DefaultHookBackupName, Actions: actions}); err != nil {
			return problem(err)
		}
		if ph.exe, err = boothook.PE(w.Arch); err != nil {
			return fmt.Errorf("%w: bootHook.actions: %w", ErrUnsupported, err)
		}
	} else if ph.exe, err = os.ReadFile(ph.Exe); err != nil {
		return fmt.Errorf("imagecustom: bootHook.exe: %w", err)
	}
	if err := checkHookExe(ph.exe, w.Arch); err != nil {
		return err
	}
	if ph.Data != "" {
		if ph.dat, err = os.ReadFile(ph.Data); err != nil {
			return fmt.Errorf("imagecustom: bootHook.data: %w", err)
		}
	}
	ph.Size, ph.SHA256 = int64(len(ph.exe)), sha(ph.exe)
	ph.ExeName, ph.BackupName = "autochk.exe", DefaultHookBackupName
	if ph.Method == HookMethodBootExecute {
		ph.ExeName, ph.BackupName = DefaultHookExeName, ""
	}
	if ph.dat != nil {
		ph.DataName = DefaultHookDataName
	}
	// A volume with a hook of ours already is dirty and refused for
	// writing; one whose autochk.exe is missing cannot take the method.
	if ph.Method == HookMethodAutochk {
		if _, err := v.Stat(strings.TrimPrefix(w.SystemRoot, `\`) + "/System32/autochk.exe"); err != nil {
			return fmt.Errorf("%w: boot hook method autochk: System32\\autochk.exe: %w", ErrUnsafe, err)
		}
	}
	p.Hook = ph
	return nil
}

// pass is one run of a plan on an image opened for writing.
type pass struct {
	v        *ntfs.Volume
	root     string
	plan     *Plan
	hiveSums map[string]string // volume path of each saved hive -> sha256
	autochk  string            // sha256 of the original autochk.exe, with the hook
}

// runPass opens the image with wo, applies the plan, and verifies it:
// for the probe by reading the overlay back (nothing is committed), else
// by committing and reading the reopened image.
func runPass(ctx context.Context, path string, wo *WriteOptions, probe bool, plan *Plan, where string) (*Verification, []Change, error) {
	img, err := OpenRW(path, wo)
	if err != nil {
		return nil, nil, err
	}
	defer img.Close()
	v, part, err := img.OpenNTFSRW(plan.Windows.Partition, nil)
	if err != nil {
		return nil, nil, err
	}
	ps := &pass{v: v, root: strings.TrimPrefix(plan.Windows.SystemRoot, `\`), plan: plan, hiveSums: map[string]string{}}
	if err := ps.apply(ctx); err != nil {
		return nil, nil, err
	}
	if plan.tamper != nil && !probe {
		if err := plan.tamper(v); err != nil {
			return nil, nil, err
		}
	}
	if probe {
		rv, err := ntfs.Open(img.Section(part), part.Size)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: reopen the volume on the overlay: %w", ErrVerify, err)
		}
		ver, err := ps.verify(rv, where)
		if err != nil {
			return nil, nil, err
		}
		changes, err := img.Changes()
		return ver, changes, err
	}
	var ver *Verification
	target := path
	if wo.Child != "" {
		target = wo.Child
	}
	err = img.commitVerified(func() error {
		ri, err := Open(target)
		if err != nil {
			return fmt.Errorf("%w: reopen %s: %w", ErrVerify, target, err)
		}
		defer ri.Close()
		rv, _, err := ri.OpenNTFS(part.Index)
		if err != nil {
			return fmt.Errorf("%w: reopen %s: %w", ErrVerify, target, err)
		}
		ver, err = ps.verify(rv, where)
		return err
	})
	if err != nil {
		if wo.Child == "" && errors.Is(err, ErrVerify) {
			img.Close()
			if _, rerr := Recover(path); rerr != nil {
				return nil, nil, fmt.Errorf("%w; rolling back failed too (%v): run 'imagecustom recover %s'", err, rerr, path)
			}
			return nil, nil, fmt.Errorf("%w; the image was rolled back to the original from its undo journal", err)
		}
		return nil, nil, err
	}
	changes, err := img.Changes()
	return ver, changes, err
}

// commitVerified is [Image.Commit] with a check between writing the
// image and removing the undo journal: if verify fails, the journal
// stays (for Close and Recover to roll back), or the child disk goes.
func (img *Image) commitVerified(verify func() error) error {
	if img.ov == nil || img.dryRun || img.committed {
		return nil
	}
	if err := img.flush(true); err != nil {
		return err
	}
	if err := verify(); err != nil {
		return err
	}
	img.committed = true
	return img.hosts.finish()
}

// apply writes the plan into the volume: files, removals, registry
// values, .reg files, the hook, then the hives.
func (ps *pass) apply(ctx context.Context) error {
	v, p := ps.v, ps.plan
	for _, f := range p.Files {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := volPath(f.Path)
		if dir := path.Dir(name); dir != "." {
			if err := v.MkdirAll(dir, nil); err != nil {
				return fmt.Errorf("imagecustom: customize: %s: %w", f.Path, err)
			}
		}
		if err := v.WriteFile(name, f.data, nil); err != nil {
			return fmt.Errorf("imagecustom: customize: %s: %w", f.Path, err)
		}
	}
	for _, r := range p.Removed {
		if err := v.Remove(volPath(r)); err != nil {
			return fmt.Errorf("imagecustom: customize: remove %s: %w", r, err)
		}
	}
	reg, err := OpenRegistry(v, ps.root)
	if err != nil {
		return err
	}
	for _, pv := range p.Registry {
		ts, err := reg.Targets(pv.Key)
		if err != nil {
			return err
		}
		for _, t := range ts {
			k := t.Hive.Root()
			if t.Path != "" {
				if k, err = t.Hive.CreateKey(t.Path); err != nil {
					return fmt.Errorf("%s: %w", pv.Key, err)
				}
			}
			if err := k.SetValue(pv.Name, pv.typ, pv.raw); err != nil {
				return fmt.Errorf("%s\\%s: %w", pv.Key, pv.Name, err)
			}
		}
	}
	for _, rf := range p.RegFiles {
		b, err := os.ReadFile(rf)
		if err != nil {
			return fmt.Errorf("imagecustom: regFiles: %w", err)
		}
		if _, err := reg.Import(bytes.NewReader(b)); err != nil {
			return fmt.Errorf("imagecustom: %s: %w", rf, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if h := p.Hook; h != nil {
		if h.Method == HookMethodAutochk {
			orig, err := v.ReadFile(ps.root + "/System32/autochk.exe")
			if err != nil {
				return fmt.Errorf("imagecustom: boot hook: %w", err)
			}
			ps.autochk = sha(orig)
		}
		if err := installPlannedHook(v, reg, &p.Windows, h); err != nil {
			return err
		}
	}
	saved, err := reg.Save()
	if err != nil {
		return err
	}
	for _, name := range saved {
		file := reg.hives[name].file
		b, err := v.ReadFile(file)
		if err != nil {
			return err
		}
		ps.hiveSums[file] = sha(b)
	}
	return nil
}

// verify reads the plan back from rv, a volume opened afresh.
func (ps *pass) verify(rv *ntfs.Volume, where string) (*Verification, error) {
	p := ps.plan
	ver := &Verification{Where: where, Hives: []string{}, Dirty: rv.Info().Dirty()}
	var bad []string
	for _, f := range p.Files {
		if p.Hook != nil && strings.EqualFold(volPath(f.Path), ps.root+"/System32/"+p.Hook.ExeName) {
			continue // the hook replaced it
		}
		b, err := rv.ReadFile(volPath(f.Path))
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("%s: %v", f.Path, err))
		case !bytes.Equal(b, f.data):
			bad = append(bad, fmt.Sprintf("%s: %d bytes read back differ from the %d written", f.Path, len(b), len(f.data)))
		default:
			ver.Files++
		}
	}
	for _, r := range p.Removed {
		if _, err := rv.Stat(volPath(r)); !errors.Is(err, fs.ErrNotExist) {
			bad = append(bad, fmt.Sprintf("%s: still there after its removal", r))
		} else {
			ver.Removed++
		}
	}
	files := make([]string, 0, len(ps.hiveSums))
	for f := range ps.hiveSums {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, file := range files {
		b, err := rv.ReadFile(file)
		if err != nil || sha(b) != ps.hiveSums[file] {
			bad = append(bad, fmt.Sprintf("hive %s: not the bytes saved", file))
			continue
		}
		ver.Hives = append(ver.Hives, file)
	}
	reg, err := OpenRegistry(rv, ps.root)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrVerify, err)
	}
	for _, pv := range p.Registry {
		got, err := readValue(reg, pv.Key, pv.Name)
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("%s\\%s: %v", pv.Key, pv.Name, err))
		case got.Type() != pv.typ:
			bad = append(bad, fmt.Sprintf("%s\\%s: type %v, want %v", pv.Key, pv.Name, got.Type(), pv.typ))
		case pv.Name == bootExecuteValue && p.Hook != nil && p.Hook.Method == HookMethodBootExecute:
			// The hook's line follows the planned ones.
			lines, err := got.Strings()
			want, _ := pv.Data.([]string)
			if err != nil || len(lines) < len(want) || !slices.Equal(lines[:len(want)], want) {
				bad = append(bad, fmt.Sprintf("%s\\%s: %q does not start with %q", pv.Key, pv.Name, lines, want))
			} else {
				ver.Values++
			}
		default:
			data, err := got.Data()
			if err != nil || !bytes.Equal(data, pv.raw) {
				bad = append(bad, fmt.Sprintf("%s\\%s: data differ", pv.Key, pv.Name))
			} else {
				ver.Values++
			}
		}
	}
	if h := p.Hook; h != nil {
		if err := verifyHook(rv, ps.root, h, ps.autochk); err != nil {
			bad = append(bad, err.Error())
		} else {
			ver.Hook = true
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%w in the %s: %s", ErrVerify, where, p.mask(strings.Join(bad, "; ")))
	}
	return ver, nil
}

func readValue(reg *Registry, key, name string) (hive.Value, error) {
	k, err := reg.Key(key)
	if err != nil {
		return hive.Value{}, err
	}
	return k.Value(name)
}
