package main

import (
	"fmt"
	"os"

	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/spf13/cobra"
)

// maxHookFile bounds a --exe or --data file read into memory.
const maxHookFile = 64 << 20

// hookReport is the --json shape of hook install and hook remove: the
// write report and the hook installed, or removed.
type hookReport struct {
	writeReport
	Hook *imagecustom.HookStatus `json:"hook"`
}

func (a *app) hookCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hook",
		Short: "Install, inspect or remove a boot hook: a native program run before Windows starts",
		Long: `A boot hook is a native-subsystem program the session manager runs at the next
boot, before any service. Method autochk (the default) puts it in place of
System32\autochk.exe, keeping the original under a backup name, and sets the
volume's dirty flag; method bootexecute copies it into System32 and adds its line
to Session Manager\BootExecute in every control set. The install's record,
\Windows\imagecustom\hook.json, lets 'hook remove' give back the exact original.`,
	}
	cmd.AddCommand(a.hookInstallCommand(), a.hookStatusCommand(), a.hookRemoveCommand(), a.hookLogCommand())
	return cmd
}

// readLimited reads a local file of at most maxHookFile bytes.
func readLimited(flag, name string) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, usagef("%s %s is a directory", flag, name)
	}
	if fi.Size() > maxHookFile {
		return nil, fmt.Errorf("%w: %s %s: %d bytes, over the %d MiB a boot hook file may have", imagecustom.ErrBadHook, flag, name, fi.Size(), maxHookFile>>20)
	}
	return os.ReadFile(name)
}

func (a *app) hookInstallCommand() *cobra.Command {
	var wf writeFlags
	var exe, data string
	var bf builtinFlags
	var opts imagecustom.HookOptions
	cmd := &cobra.Command{
		Use:   "install IMAGE (--exe HOOK.exe [--data FILE] | --builtin [--actions FILE]) [--method autochk|bootexecute] [--backup-name NAME]",
		Short: "Install a boot hook",
		Long: `Install HOOK.exe, a PE of the native subsystem whose machine matches the Windows
install (anything else is refused, exit 3, with the image untouched), as the boot
hook. --data writes FILE beside it in System32 (as vmprep.dat, or --data-name).
Method autochk: System32\autochk.exe is kept as --backup-name (vmprep.cfg) and the
hook takes its place with its security descriptor, attributes and times; the
volume's dirty flag is set. Method bootexecute: the hook goes to System32 as
--exe-name (imchook.exe) and its line is appended to BootExecute in every control
set. Installing again with the same method and names replaces the hook and the
data file and keeps the first install's record of the original; anything else
over an installed hook is refused: run 'hook remove' first.

--builtin installs our own native hook (package boothook) for the install's
architecture instead of --exe, with the action list of --actions FILE compiled
to System32\vmprep.dat; a list that does not parse is refused with its line
number before anything is written. 'hook log' shows what it did at boot.`,
		Args: exactArgs(1, "IMAGE"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			if bf.set() {
				return a.installBuiltin(args[0], &wf, &bf, exe, data, &opts)
			}
			if exe == "" {
				return usagef("hook install needs --exe HOOK.exe or --builtin")
			}
			switch opts.Method {
			case imagecustom.HookMethodAutochk, imagecustom.HookMethodBootExecute:
			default:
				return usagef("--method %q: autochk or bootexecute", opts.Method)
			}
			prog, err := readLimited("--exe", exe)
			if err != nil {
				return err
			}
			if data != "" {
				if opts.Data, err = readLimited("--data", data); err != nil {
					return err
				}
				if opts.Data == nil {
					opts.Data = []byte{}
				}
			}
			return a.writeHook(args[0], &wf, "install", func(h *hookTarget) (*imagecustom.HookStatus, error) {
				return imagecustom.InstallHook(h.v, h.reg, h.w, prog, &opts)
			})
		}),
	}
	f := cmd.Flags()
	f.StringVar(&exe, "exe", "", "the hook program `HOOK.exe`, a native-subsystem PE")
	f.StringVar(&data, "data", "", "a data `FILE` for the hook, written to System32")
	bf.add(cmd)
	f.StringVar(&opts.Method, "method", imagecustom.HookMethodAutochk, "`autochk` or bootexecute")
	f.StringVar(&opts.BackupName, "backup-name", imagecustom.DefaultHookBackupName, "autochk: the original autochk.exe's `NAME` in System32")
	f.StringVar(&opts.DataName, "data-name", imagecustom.DefaultHookDataName, "the data file's `NAME` in System32")
	f.StringVar(&opts.ExeName, "exe-name", imagecustom.DefaultHookExeName, "bootexecute: the hook's `NAME` in System32")
	wf.add(cmd)
	return cmd
}

func (a *app) hookStatusCommand() *cobra.Command {
	var vf volumeFlags
	cmd := &cobra.Command{
		Use:   "status IMAGE",
		Short: "Show the boot hook installed, if any",
		Args:  exactArgs(1, "IMAGE"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			img, v, reg, err := vf.openRegistry(args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			st, err := imagecustom.ReadHookStatus(v, reg)
			if err != nil {
				return err
			}
			b := builtinStatus(v, st)
			if a.json {
				return a.printJSON(hookStatusReport{HookStatus: st, Builtin: b})
			}
			a.printHookStatus(st)
			a.printBuiltin(b)
			return nil
		}),
	}
	vf.add(cmd)
	return cmd
}

func (a *app) hookRemoveCommand() *cobra.Command {
	var wf writeFlags
	cmd := &cobra.Command{
		Use:   "remove IMAGE",
		Short: "Remove the boot hook, giving back the exact original",
		Long: `Remove the boot hook 'hook install' put in: autochk.exe gets the original's bytes
and times back, BootExecute its original data in every control set, the dirty
flag its state before the install; the data file and the record go. A volume
whose dirty flag the autochk install set opens for this despite it.`,
		Args: exactArgs(1, "IMAGE"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			return a.writeHook(args[0], &wf, "remove", func(h *hookTarget) (*imagecustom.HookStatus, error) {
				return imagecustom.RemoveHook(h.v, h.reg)
			})
		}),
	}
	wf.add(cmd)
	return cmd
}

// printHookStatus prints a status as text.
func (a *app) printHookStatus(st *imagecustom.HookStatus) {
	w := a.stdout
	if !st.Installed {
		fmt.Fprintln(w, "no boot hook installed")
	} else {
		intact := ""
		if !st.HookIntact {
			intact = " (changed since: not the program installed)"
		}
		fmt.Fprintf(w, "method:      %s\n", st.Method)
		fmt.Fprintf(w, "hook:        %s  %d bytes  sha256 %s%s\n", st.Hook, st.HookSize, st.HookSHA256, intact)
		if st.Backup != "" {
			fmt.Fprintf(w, "original:    %s  sha256 %s\n", st.Backup, st.BackupSHA256)
			fmt.Fprintf(w, "design:      %s\n", st.Design)
		}
		if st.Data != "" {
			fmt.Fprintf(w, "data:        %s  %d bytes  sha256 %s\n", st.Data, st.DataSize, st.DataSHA256)
		}
		if st.Line != "" {
			fmt.Fprintf(w, "line:        %s\n", st.Line)
		}
		fmt.Fprintf(w, "record:      %s\n", st.Manifest)
	}
	ours := ""
	if st.DirtyOurs {
		ours = " (set by the install)"
	}
	fmt.Fprintf(w, "dirty flag:  %v%s\n", st.Dirty, ours)
	for _, be := range st.BootExecute {
		fmt.Fprintf(w, "%s BootExecute: %q\n", be.ControlSet, be.Lines)
	}
}

// hookTarget is what a hook operation works on.
type hookTarget struct {
	v   *ntfs.Volume
	reg *imagecustom.Registry
	w   *imagecustom.Windows
}

// writeHook is writeVolume for the hook commands: the volume is opened
// with the options imagecustom.HookVolumeOptions gives (a dirty flag the
// install set does not stop remove), and fn gets the registry and the
// Windows install too; the hives fn changed are saved before the commit.
func (a *app) writeHook(image string, wf *writeFlags, verb string, fn func(h *hookTarget) (*imagecustom.HookStatus, error)) error {
	img, err := wf.openImage(image)
	if err != nil {
		return err
	}
	defer img.Close()
	opts, err := imagecustom.HookVolumeOptions(img, wf.partition)
	if err != nil {
		return err
	}
	v, p, err := img.OpenNTFSRW(wf.partition, opts)
	if err != nil {
		return err
	}
	ws, err := img.Windows()
	if err != nil {
		return err
	}
	h := &hookTarget{v: v}
	for i := range ws {
		if ws[i].Partition == p.Index {
			h.w = &ws[i]
			break
		}
	}
	if h.w == nil {
		return fmt.Errorf("%w: partition %d holds no Windows install", imagecustom.ErrNoVolume, p.Index)
	}
	if h.reg, err = imagecustom.OpenRegistry(v, h.w.SystemRoot); err != nil {
		return err
	}
	st, err := fn(h)
	if err != nil {
		return err
	}
	if _, err := h.reg.Save(); err != nil {
		return err
	}
	if err := img.Commit(); err != nil {
		return err
	}
	changes, err := img.Changes()
	if err != nil {
		return err
	}
	rep := hookReport{writeReport: writeReport{DryRun: wf.dryRun, Child: wf.out, Changes: changes}, Hook: st}
	if rep.Changes == nil {
		rep.Changes = []imagecustom.Change{}
	}
	for _, c := range changes {
		rep.Bytes += c.Length
	}
	if a.json {
		return a.printJSON(rep)
	}
	done := map[string]string{"install": "installed", "remove": "removed"}[verb]
	if wf.dryRun {
		fmt.Fprintf(a.stdout, "dry run: would have %s the %s hook, changing %d bytes in %d ranges of %s; nothing written\n",
			done, st.Method, rep.Bytes, len(changes), image)
	} else {
		fmt.Fprintf(a.stdout, "%s the %s hook\n", done, st.Method)
	}
	if verb == "install" {
		a.printHookStatus(st)
	}
	if wf.out != "" && !a.quiet {
		fmt.Fprintf(a.stderr, "wrote %d bytes of changes to %s, a child disk of %s (left untouched)\n", rep.Bytes, wf.out, image)
	}
	return nil
}
