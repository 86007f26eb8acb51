package sysprep

import (
	"crypto/rand"
	"fmt"
	"io"
	"strings"
)

// Options choose what [Render] renders for.
type Options struct {
	Family Family // the OS family to render for
	Arch   Arch   // its architecture; 0 means X86
	// SystemRoot is the Windows folder of the image, `\Windows` or
	// `\WINNT`; empty means `\WINNT` for Win2000 and `\Windows` otherwise.
	SystemRoot string
	// Rand supplies the random letters of a computer name made from
	// Identity.ComputerNamePrefix; nil means crypto/rand.
	Rand io.Reader
}

// Result is what a spec renders to for one family and architecture. The
// caller (the image layer) places Files, applies Registry and merges
// RegFiles; this package does neither.
type Result struct {
	Family Family // the family rendered for
	Arch   Arch   // the architecture rendered for
	// ComputerName is the name the machine gets: the spec's, one made
	// from its prefix, or "*" (Windows picks one).
	ComputerName string
	// Files are the files to write into the Windows volume, in order.
	Files []File
	// Registry lists the registry values to set before the first boot.
	Registry []RegValue
	// RegFiles are the spec's .reg files (local paths), to merge in order.
	RegFiles []string
	// Plan lists every step of the customization in the order Windows
	// runs them.
	Plan []Step
	// Warnings are what Validate warned of: the spec rendered, but some of
	// it is ignored or behaves differently on the family. Show them with
	// the plan.
	Warnings []Problem
}

// File returns the rendered file with the given target path
// (case-insensitive), or nil.
func (r *Result) File(path string) *File {
	for i := range r.Files {
		if strings.EqualFold(r.Files[i].Path, path) {
			return &r.Files[i]
		}
	}
	return nil
}

// RegType is the type of a registry value.
type RegType int

// The registry value types the renderers use.
const (
	RegSZ      RegType = 1 // REG_SZ
	RegDWORD   RegType = 4 // REG_DWORD
	RegMultiSZ RegType = 7 // REG_MULTI_SZ
)

// String returns the type's regedit name, "REG_SZ".
func (t RegType) String() string {
	switch t {
	case RegSZ:
		return "REG_SZ"
	case RegDWORD:
		return "REG_DWORD"
	case RegMultiSZ:
		return "REG_MULTI_SZ"
	}
	return fmt.Sprintf("RegType(%d)", int(t))
}

// RegValue is one registry value to set.
type RegValue struct {
	// Key is the full key path, `HKLM\SYSTEM\Setup`; CurrentControlSet
	// stands for the control sets Select names.
	Key     string
	Name    string   // the value's name; "" for the key's default value
	Type    RegType  // which of the data fields below holds the data
	String  string   // REG_SZ data
	Strings []string // REG_MULTI_SZ data
	DWord   uint32   // REG_DWORD data
}

// StepKind says what a step of the plan does.
type StepKind int

// The kinds of step.
const (
	StepPlaceFiles    StepKind = iota + 1 // the image layer writes the files
	StepRegistry                          // the image layer sets registry values and merges .reg files
	StepBootHook                          // the boot hook runs before Windows starts
	StepIdentity                          // computer name, owner, time zone, product key
	StepAdminPassword                     // Administrator's password and automatic logon
	StepNetwork                           // one adapter is configured
	StepJoinWorkgroup                     // the machine joins a workgroup
	StepJoinDomain                        // the machine joins the domain
	StepCleanup                           // files holding passwords are removed
	StepRunOnce                           // one run-once command runs
)

var stepNames = map[StepKind]string{
	StepPlaceFiles: "place-files", StepRegistry: "registry", StepBootHook: "boot-hook",
	StepIdentity: "identity", StepAdminPassword: "admin-password", StepNetwork: "network",
	StepJoinWorkgroup: "join-workgroup", StepJoinDomain: "join-domain", StepCleanup: "cleanup", StepRunOnce: "run-once",
}

// String returns the kind's name, such as "join-domain".
func (k StepKind) String() string {
	if s, ok := stepNames[k]; ok {
		return s
	}
	return fmt.Sprintf("StepKind(%d)", int(k))
}

// Phases of the first boot, in the order Windows runs them. Offline is
// this program's own work on the image, before any boot.
const (
	PhaseOffline       = "offline"
	PhaseBoot          = "boot"              // native boot hook, before Windows starts
	PhaseMiniSetup     = "mini-setup"        // 2000–2003: the mini-setup wizard reading sysprep.inf
	PhaseCmdlines      = "cmdlines.txt"      // 2000–2003: commands at the end of mini-setup
	PhaseSpecialize    = "specialize"        // Vista+: unattend.xml's specialize pass
	PhaseOOBE          = "oobeSystem"        // Vista+: unattend.xml's oobeSystem pass
	PhaseSetupComplete = "SetupComplete.cmd" // Vista+: after setup, before the logon screen
	PhaseFirstLogon    = "first-logon"       // the first user logon
)

// Step is one step of the customization.
type Step struct {
	Kind   StepKind // what the step does
	Phase  string   // one of the Phase constants
	File   string   // the target path of the file that carries the step; "" for the image layer's own
	Detail string   // e.g. the adapter's MAC and address
}

// String returns a one-line description.
func (s Step) String() string {
	t := fmt.Sprintf("%-17s %-14s", s.Phase, s.Kind)
	switch {
	case s.File != "" && s.Detail != "":
		t += " " + s.File + ": " + s.Detail
	case s.File != "":
		t += " " + s.File
	case s.Detail != "":
		t += " " + s.Detail
	}
	return strings.TrimRight(t, " ")
}

// Render validates spec for opts.Family and renders its artifacts. A spec
// with problems returns a [*ProblemsError] (matching [ErrInvalid]) listing
// them all; an architecture the family does not exist for returns
// [ErrUnsupported].
func Render(spec *Spec, opts Options) (*Result, error) {
	if opts.Arch == 0 {
		opts.Arch = X86
	}
	if _, ok := familyNames[opts.Family]; !ok {
		return nil, fmt.Errorf("%w: OS family %v", ErrUnsupported, opts.Family)
	}
	if !opts.Family.supports(opts.Arch) {
		return nil, fmt.Errorf("%w: %v does not exist for %v", ErrUnsupported, opts.Family, opts.Arch)
	}
	problems := Validate(spec, opts.Family)
	if p := Errors(problems); len(p) > 0 {
		return nil, &ProblemsError{Problems: p}
	}
	if opts.SystemRoot == "" {
		opts.SystemRoot = `\Windows`
		if opts.Family == Win2000 {
			opts.SystemRoot = `\WINNT`
		}
	}
	root, err := imagePath(opts.SystemRoot)
	if err != nil {
		return nil, fmt.Errorf("%w: system root: %v", ErrUnsupported, err)
	}
	opts.SystemRoot = root
	r := &rendering{spec: spec, opts: opts, res: &Result{Family: opts.Family, Arch: opts.Arch, RegFiles: spec.RegFiles,
		Warnings: Warnings(problems)}}
	if err := r.computerName(); err != nil {
		return nil, err
	}
	r.offline()
	if opts.Family.legacy() {
		err = r.legacy()
	} else {
		err = r.vista()
	}
	if err != nil {
		return nil, err
	}
	if p := r.collisions(); len(p) > 0 {
		return nil, &ProblemsError{Problems: p}
	}
	r.prependOffline()
	return r.res, nil
}

// rendering is the state of one Render call.
type rendering struct {
	spec *Spec
	opts Options
	res  *Result
}

func (r *rendering) step(kind StepKind, phase, file, format string, args ...any) {
	r.res.Plan = append(r.res.Plan, Step{Kind: kind, Phase: phase, File: file, Detail: fmt.Sprintf(format, args...)})
}

func (r *rendering) addFile(path string, data []byte) {
	r.res.Files = append(r.res.Files, File{Path: path, Content: string(data)})
}

// scriptDir is where the scripts go: `\Windows\imagecustom`.
func (r *rendering) scriptDir() string { return r.opts.SystemRoot + `\imagecustom` }

const nameAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func (r *rendering) computerName() error {
	id := &r.spec.Identity
	switch {
	case id.ComputerName != "":
		r.res.ComputerName = id.ComputerName
	case id.ComputerNamePrefix != "":
		src := r.opts.Rand
		if src == nil {
			src = rand.Reader
		}
		b := make([]byte, 4)
		if _, err := io.ReadFull(src, b); err != nil {
			return fmt.Errorf("sysprep: random computer name: %w", err)
		}
		name := []byte(id.ComputerNamePrefix)
		for _, c := range b {
			name = append(name, nameAlphabet[int(c)%len(nameAlphabet)])
		}
		r.res.ComputerName = string(name)
	default:
		r.res.ComputerName = "*"
	}
	return nil
}

// offline adds the spec's own files and the steps the image layer takes.
func (r *rendering) offline() {
	for _, f := range r.spec.Files {
		p, _ := imagePath(f.Path) // Validate checked it
		r.res.Files = append(r.res.Files, File{Path: p, Source: f.Source, Content: f.Content})
	}
}

// collisions reports the spec's files whose target path is also one the
// renderer writes (or another of the spec's): one would overwrite the
// other.
func (r *rendering) collisions() []Problem {
	var problems []Problem
	first := map[string]int{} // lower-case path → index in Files
	for i, f := range r.res.Files {
		key := strings.ToLower(f.Path)
		j, dup := first[key]
		if !dup {
			first[key] = i
			continue
		}
		// The spec's files come first in r.res.Files.
		if j < len(r.spec.Files) && i < len(r.spec.Files) {
			problems = append(problems, Problem{Path: fmt.Sprintf("files[%d].path", i), Message: fmt.Sprintf("%s is also files[%d]'s", f.Path, j)})
		} else {
			problems = append(problems, Problem{Path: fmt.Sprintf("files[%d].path", j), Message: fmt.Sprintf("%s is a file the %v rendering writes", f.Path, r.opts.Family)})
		}
	}
	return problems
}

// prependOffline puts the image layer's own steps, and the boot hook,
// before the steps Windows runs.
func (r *rendering) prependOffline() {
	var pre []Step
	var paths []string
	for _, f := range r.res.Files {
		paths = append(paths, f.Path)
	}
	pre = append(pre, Step{Kind: StepPlaceFiles, Phase: PhaseOffline, Detail: strings.Join(paths, ", ")})
	if len(r.res.Registry) > 0 || len(r.res.RegFiles) > 0 {
		pre = append(pre, Step{Kind: StepRegistry, Phase: PhaseOffline,
			Detail: fmt.Sprintf("%d values, %d .reg files", len(r.res.Registry), len(r.res.RegFiles))})
	}
	if h := r.spec.BootHook; h != nil {
		method := h.Method
		if method == "" {
			method = "autochk"
		}
		exe := h.Exe
		if exe == "" {
			exe = "built-in hook"
		}
		pre = append(pre, Step{Kind: StepBootHook, Phase: PhaseBoot, Detail: fmt.Sprintf("%s (%s)", exe, method)})
	}
	r.res.Plan = append(pre, r.res.Plan...)
}

// deferJoin reports whether the domain join must wait for a step after
// the network configuration: whenever a domain is joined with a
// password and any adapter has settings of its own (a static address,
// DNS servers…), and always on Windows 2000, whose mini-setup cannot be
// trusted to join after the network is up.
func (r *rendering) deferJoin() bool {
	m := &r.spec.Membership
	if m.Domain == "" {
		return false
	}
	if r.opts.Family == Win2000 || len(r.spec.Network.DNSSuffixes) > 0 {
		return true
	}
	for i := range r.spec.Network.Adapters {
		if configured(&r.spec.Network.Adapters[i]) {
			return true
		}
	}
	return false
}

// configured reports whether an adapter needs configuring beyond DHCP.
func configured(a *Adapter) bool {
	return a.Static() || len(a.DNSServers) > 0 || a.DNSDomain != "" || len(a.WINS) > 0 ||
		(a.NetBIOS != "" && a.NetBIOS != "dhcp") || len(a.IPv6) > 0
}

// macDashes formats a MAC as unattend.xml wants it: 00-50-56-9A-0B-0C.
func macDashes(s string) string {
	m, _ := parseMAC(s)
	var b strings.Builder
	for i := 0; i < len(m); i += 2 {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(m[i : i+2])
	}
	return b.String()
}

// macColons formats a MAC as WMI reports it: 00:50:56:9A:0B:0C.
func macColons(s string) string { return strings.ReplaceAll(macDashes(s), "-", ":") }

// adapterDetail describes an adapter for the plan.
func adapterDetail(a *Adapter) string {
	addr := "DHCP"
	if a.Static() {
		addr = a.IPv4
	}
	return macDashes(a.MAC) + " " + addr
}
