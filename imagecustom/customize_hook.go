package imagecustom

import (
	"fmt"

	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
)

// The boot hook step of Customize, through the hook installer
// ([InstallHook], [CheckHookPE], [ReadHookStatus]).

// checkHookExe refuses a hook that is not a native PE for arch, before
// anything is written.
func checkHookExe(exe []byte, arch string) error {
	if err := CheckHookPE(exe, arch); err != nil {
		return fmt.Errorf("bootHook.exe: %w", err)
	}
	return nil
}

// hookOptions are the installer's options for a planned hook.
func (h *PlanHook) hookOptions() *HookOptions {
	return &HookOptions{Method: h.Method, Data: h.dat}
}

// installPlannedHook installs h with [InstallHook]; the caller saves the
// registry.
func installPlannedHook(v *ntfs.Volume, reg *Registry, w *Windows, h *PlanHook) error {
	if _, err := InstallHook(v, reg, w, h.exe, h.hookOptions()); err != nil {
		return fmt.Errorf("imagecustom: boot hook: %w", err)
	}
	return nil
}

// verifyHook checks the installed hook on rv as [ReadHookStatus] reports
// it: installed with the planned method, the hook's bytes intact, the
// original autochk.exe's digest at the backup, the data file's digest,
// the dirty flag for the autochk method and the BootExecute line in every
// control set for the other.
func verifyHook(rv *ntfs.Volume, root string, h *PlanHook, origSHA string) error {
	reg, err := OpenRegistry(rv, root)
	if err != nil {
		return fmt.Errorf("boot hook: %w", err)
	}
	st, err := ReadHookStatus(rv, reg)
	switch {
	case err != nil:
		return fmt.Errorf("boot hook: %w", err)
	case !st.Installed || st.Method != h.Method:
		return fmt.Errorf("boot hook: not installed with method %s (status: installed %v, method %q)", h.Method, st.Installed, st.Method)
	case !st.HookIntact || st.HookSHA256 != h.SHA256:
		return fmt.Errorf("boot hook: %s is not the hook", st.Hook)
	case h.Method == HookMethodAutochk && st.BackupSHA256 != origSHA:
		return fmt.Errorf("boot hook: %s is not the original autochk.exe", st.Backup)
	case h.dat != nil && st.DataSHA256 != sha(h.dat):
		return fmt.Errorf("boot hook: %s is not the data file", st.Data)
	case h.Method == HookMethodAutochk && !st.Dirty:
		return fmt.Errorf("boot hook: the volume's dirty flag is not set")
	}
	if h.Method == HookMethodBootExecute {
		for _, be := range st.BootExecute {
			if !hasLine(be.Lines, st.Line) {
				return fmt.Errorf("boot hook: %s's BootExecute lacks %q", be.ControlSet, st.Line)
			}
		}
	}
	if b, err := rv.ReadFile(root + "/System32/" + h.ExeName); err != nil || sha(b) != h.SHA256 {
		return fmt.Errorf("boot hook: System32\\%s is not the hook", h.ExeName)
	}
	return nil
}
