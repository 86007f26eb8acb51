package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/boothook"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/spf13/cobra"
)

// The built-in boot hook (package boothook) in the hook commands:
// install --builtin [--actions FILE], the action list in status, and
// hook log.

// maxActionsFile bounds an --actions file; the data file it makes is
// bounded by boothook.MaxFileSize anyway.
const maxActionsFile = 8 << 20

// readActions parses an action list file ("-" for standard input).
func readActions(name string, stdin io.Reader) ([]boothook.Action, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	acts, err := boothook.Parse(io.LimitReader(r, maxActionsFile))
	if err != nil {
		return nil, fmt.Errorf("--actions %s: %w", name, err)
	}
	return acts, nil
}

// builtinHook returns our hook's PE for the install's architecture and the
// data file for d (whose Backup is the autochk method's name for the
// original autochk.exe).
func builtinHook(w *imagecustom.Windows, d boothook.Data) (exe, data []byte, err error) {
	exe, err = boothook.PE(w.Arch)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", imagecustom.ErrBadHook, err)
	}
	data, err = boothook.EncodeData(d)
	if err != nil {
		return nil, nil, err
	}
	return exe, data, nil
}

// builtinActions returns the action list of our hook installed on v as
// status describes it, or ok false when the hook is not ours. A data file
// that does not decode is an error (the hook would perform nothing).
func builtinActions(v *ntfs.Volume, st *imagecustom.HookStatus) (arch string, d boothook.Data, ok bool, err error) {
	if !st.Installed || st.Hook == "" {
		return "", d, false, nil
	}
	exe, err := v.ReadFile(volumePath(st.Hook))
	if err != nil {
		return "", d, false, nil
	}
	if arch, ok = boothook.IsHook(exe); !ok {
		return "", d, false, nil
	}
	if st.Data == "" {
		return arch, d, true, errors.New("no data file: the hook performs nothing")
	}
	dat, err := v.ReadFile(volumePath(st.Data))
	if err != nil {
		return arch, d, true, err
	}
	d, err = boothook.DecodeData(dat)
	return arch, d, true, err
}

// hookLog is the --json shape of hook log.
type hookLog struct {
	Log     string              `json:"log"`
	Entries []boothook.LogEntry `json:"entries"`
}

func (a *app) hookLogCommand() *cobra.Command {
	var vf volumeFlags
	cmd := &cobra.Command{
		Use:   "log IMAGE",
		Short: "Print what the built-in boot hook logged at boot",
		Long: `Print <system root>\imagecustom\boot.log, where the built-in hook (hook install
--builtin) writes one line per boot event: the data file read, each action with
its NTSTATUS, each undo step. With --json: {"log": path, "entries": [{"kind":
start|action|undo|end|text, "index", "step", "status", "ok", "target",
"fields", "line"}]}.`,
		Args: exactArgs(1, "IMAGE"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			if vf.partition < 0 {
				return usagef("--partition %d: partitions are numbered from 1", vf.partition)
			}
			img, err := imagecustom.Open(args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			v, p, err := img.OpenNTFS(vf.partition)
			if err != nil {
				return err
			}
			ws, err := img.Windows()
			if err != nil {
				return err
			}
			root := ""
			for _, w := range ws {
				if w.Partition == p.Index {
					root = w.SystemRoot
				}
			}
			if root == "" {
				return fmt.Errorf("%w: partition %d holds no Windows install", imagecustom.ErrNoVolume, p.Index)
			}
			name := root + `\` + boothook.LogName
			b, err := v.ReadFile(volumePath(name))
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("no boot log %s: the built-in hook has not run on this image: %w", name, err)
			}
			if err != nil {
				return err
			}
			entries, err := boothook.ParseLog(bytes.NewReader(b))
			if err != nil {
				return err
			}
			if a.json {
				if entries == nil {
					entries = []boothook.LogEntry{}
				}
				return a.printJSON(hookLog{Log: name, Entries: entries})
			}
			for _, e := range entries {
				fmt.Fprintln(a.stdout, strings.ToValidUTF8(e.Line, "\uFFFD"))
			}
			return nil
		}),
	}
	vf.add(cmd)
	return cmd
}

// builtinFlags are hook install's flags for the built-in hook.
type builtinFlags struct {
	builtin    bool
	actions    string
	runTimeout uint16
}

func (b *builtinFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&b.builtin, "builtin", false, "install our own native hook for the install's architecture (see 'hook log')")
	f.StringVar(&b.actions, "actions", "", "with --builtin: the action list `FILE` (- for stdin) the hook performs at boot")
	f.Uint16Var(&b.runTimeout, "run-timeout", 0, "with --builtin: `SECONDS` a run action's program may take before the hook ends it (0: 600)")
}

// set reports whether any of the flags was given.
func (b *builtinFlags) set() bool { return b.builtin || b.actions != "" || b.runTimeout != 0 }

// installBuiltin is hook install --builtin [--actions FILE]: the action
// list is parsed (and refused, with its line, before the image is opened),
// then our hook for the install's architecture goes in with the data file
// made from the list.
func (a *app) installBuiltin(image string, wf *writeFlags, bf *builtinFlags, exe, data string, opts *imagecustom.HookOptions) error {
	actions := bf.actions
	switch {
	case !bf.builtin:
		return usagef("--actions and --run-timeout go with --builtin")
	case exe != "" || data != "":
		return usagef("--builtin brings its own program and data file: not with --exe or --data")
	}
	switch opts.Method {
	case imagecustom.HookMethodAutochk, imagecustom.HookMethodBootExecute:
	default:
		return usagef("--method %q: autochk or bootexecute", opts.Method)
	}
	var acts []boothook.Action
	if actions != "" {
		var err error
		if acts, err = readActions(actions, a.stdin); err != nil {
			return err
		}
	}
	if opts.DataName != "" && !strings.EqualFold(opts.DataName, imagecustom.DefaultHookDataName) {
		return usagef("--data-name: the built-in hook reads System32\\%s", imagecustom.DefaultHookDataName)
	}
	return a.writeHook(image, wf, "install", func(h *hookTarget) (*imagecustom.HookStatus, error) {
		prog, dat, err := builtinHook(h.w, boothook.Data{Backup: opts.BackupName, RunTimeout: bf.runTimeout, Actions: acts})
		if err != nil {
			return nil, err
		}
		o := *opts
		o.Data = dat
		return imagecustom.InstallHook(h.v, h.reg, h.w, prog, &o)
	})
}

// builtinInfo is the "builtin" member of hook status --json: present when
// the installed hook is ours.
type builtinInfo struct {
	Arch       string   `json:"arch"`            // x86 or amd64
	RunTimeout int      `json:"run_timeout"`     // seconds a run action may take
	Actions    []string `json:"actions"`         // the action list, canonical text
	Error      string   `json:"error,omitempty"` // the data file does not decode: the hook would do nothing
}

// hookStatusReport is the --json shape of hook status.
type hookStatusReport struct {
	*imagecustom.HookStatus
	Builtin *builtinInfo `json:"builtin,omitempty"`
}

// builtinStatus describes our hook installed on v, or nil.
func builtinStatus(v *ntfs.Volume, st *imagecustom.HookStatus) *builtinInfo {
	arch, d, ok, err := builtinActions(v, st)
	if !ok {
		return nil
	}
	b := &builtinInfo{Arch: arch, RunTimeout: int(d.RunTimeout), Actions: []string{}}
	if b.RunTimeout == 0 {
		b.RunTimeout = boothook.DefaultRunTimeout
	}
	if err != nil {
		b.Error = err.Error()
	}
	for _, x := range d.Actions {
		b.Actions = append(b.Actions, x.String())
	}
	return b
}

func (a *app) printBuiltin(b *builtinInfo) {
	if b == nil {
		return
	}
	fmt.Fprintf(a.stdout, "built-in:    imagecustom boot hook (%s), %d actions, run timeout %d s\n", b.Arch, len(b.Actions), b.RunTimeout)
	if b.Error != "" {
		fmt.Fprintf(a.stdout, "             data file: %s\n", b.Error)
	}
	for i, s := range b.Actions {
		fmt.Fprintf(a.stdout, "  %3d  %s\n", i+1, s)
	}
}
