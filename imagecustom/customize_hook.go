package imagecustom

import (
	"bytes"
	"fmt"

	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
)

// The boot hook step of Customize. The hook installer proper (hook.go)
// owns the method's details; these three functions are the seam.

// checkHookExe refuses a hook that is not a native PE for arch.
func checkHookExe(exe []byte, arch string) error {
	if err := checkPE(exe, arch, true); err != nil {
		return fmt.Errorf("%w: bootHook.exe: %w", ErrUnsafe, err)
	}
	return nil
}

// installPlannedHook installs h: for the autochk method, the original
// System32\autochk.exe renamed to the backup name, the hook written in
// its place with its security descriptor, the data file beside it, and
// the volume's dirty flag set so that the session manager runs autochk
// at the next boot (reference §1.4).
func installPlannedHook(v *ntfs.Volume, _ *Registry, w *Windows, h *PlanHook) error {
	sys := w.SystemRoot[1:] + "/System32/"
	if h.Method != "autochk" {
		return fmt.Errorf("%w: boot hook method %q: only autochk is installed by customize for now", ErrUnsupported, h.Method)
	}
	if _, err := v.Stat(sys + h.BackupName); err == nil {
		return fmt.Errorf("%w: %s%s exists: a boot hook is installed already (remove it first)", ErrUnsafe, sys, h.BackupName)
	}
	if err := v.Rename(sys+"autochk.exe", sys+h.BackupName, false); err != nil {
		return fmt.Errorf("imagecustom: boot hook: %w", err)
	}
	if err := v.WriteFile(sys+"autochk.exe", h.exe, &ntfs.FileOptions{SecurityFrom: sys + h.BackupName}); err != nil {
		return fmt.Errorf("imagecustom: boot hook: %w", err)
	}
	if h.dat != nil {
		if err := v.WriteFile(sys+h.DataName, h.dat, nil); err != nil {
			return fmt.Errorf("imagecustom: boot hook data: %w", err)
		}
	}
	return v.SetDirty(true)
}

// verifyHook checks the installed hook on rv: its bytes at its name, the
// original's (by digest) at the backup name, the data file, the dirty
// flag.
func verifyHook(rv *ntfs.Volume, root string, h *PlanHook, origSHA string) error {
	sys := root + "/System32/"
	b, err := rv.ReadFile(sys + h.ExeName)
	if err != nil || !bytes.Equal(b, h.exe) {
		return fmt.Errorf("boot hook: %s%s is not the hook", sys, h.ExeName)
	}
	if h.BackupName != "" {
		if b, err := rv.ReadFile(sys + h.BackupName); err != nil || sha(b) != origSHA {
			return fmt.Errorf("boot hook: %s%s is not the original autochk.exe", sys, h.BackupName)
		}
	}
	if h.dat != nil {
		if b, err := rv.ReadFile(sys + h.DataName); err != nil || !bytes.Equal(b, h.dat) {
			return fmt.Errorf("boot hook: %s%s is not the data file", sys, h.DataName)
		}
	}
	if h.Method == "autochk" && !rv.Info().Dirty() {
		return fmt.Errorf("boot hook: the volume's dirty flag is not set")
	}
	return nil
}
