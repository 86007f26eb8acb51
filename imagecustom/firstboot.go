package imagecustom

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
)

// First-boot commands live in a folder of the system root:
//
//	<SystemRoot>\ImageCustom\FirstBoot\run.cmd       the runner
//	<SystemRoot>\ImageCustom\FirstBoot\reset.reg     what the runner imports when done
//	<SystemRoot>\ImageCustom\FirstBoot\before.txt    SYSTEM\Setup as it was, for [RemoveFirstBoot]
//	<SystemRoot>\ImageCustom\FirstBoot\scripts\NNNN.cmd   pending commands, run in name order
//	<SystemRoot>\ImageCustom\FirstBoot\done\NNNN.cmd      commands that ran
//	<SystemRoot>\ImageCustom\FirstBoot\log.txt       what they printed, with start and exit lines
const firstBootDir = "ImageCustom/FirstBoot"

// FirstBootCmdLine is the SYSTEM\Setup CmdLine value that starts the
// runner. cmd.exe expands %SystemRoot% itself, so it does not matter
// whether Winlogon does.
const FirstBootCmdLine = `cmd.exe /c "%SystemRoot%\ImageCustom\FirstBoot\run.cmd"`

// FirstBootCommand is a command queued with [AddFirstBoot].
type FirstBootCommand struct {
	N      int    `json:"n"`      // its number: the order it runs in
	Path   string `json:"path"`   // its script on the volume: Windows/ImageCustom/FirstBoot/scripts/0001.cmd
	Script string `json:"script"` // the script's text (CRLF line ends)
	Done   bool   `json:"done"`   // it ran (it is in done\, not scripts\)
}

// runner is the first-boot runner: it runs every scripts\*.cmd in name
// order, each in its own cmd.exe (an exit in one ends only that one),
// logging its output and exit code; moves each to done\ after it ran;
// and, with none left, restores SYSTEM\Setup (reset.reg) so that it does
// not run again. A script that reboots the machine is run again at the
// next boot, and the ones after it then.
const runner = "@echo off\r\n" +
	"rem imagecustom first-boot runner. Started by Winlogon as SYSTEM before the logon\r\n" +
	"rem screen (SYSTEM\\Setup CmdLine with SetupType 2), it runs scripts\\*.cmd in name\r\n" +
	"rem order, once each, then restores SYSTEM\\Setup from reset.reg.\r\n" +
	"setlocal\r\n" +
	"set FB=%~dp0\r\n" +
	"cd /d \"%FB%\"\r\n" +
	"if not exist \"%FB%done\" mkdir \"%FB%done\"\r\n" +
	"echo [%DATE% %TIME%] firstboot: start>>\"%FB%log.txt\"\r\n" +
	"for /f \"delims=\" %%f in ('dir /b /on \"%FB%scripts\\*.cmd\" 2^>nul') do call :one \"%%f\"\r\n" +
	"echo [%DATE% %TIME%] firstboot: done>>\"%FB%log.txt\"\r\n" +
	"\"%SystemRoot%\\regedit.exe\" /s \"%FB%reset.reg\"\r\n" +
	"endlocal\r\n" +
	"exit /b 0\r\n" +
	"\r\n" +
	":one\r\n" +
	"echo [%DATE% %TIME%] firstboot: run %~1>>\"%FB%log.txt\"\r\n" +
	"\"%ComSpec%\" /c \"\"%FB%scripts\\%~1\"\" >>\"%FB%log.txt\" 2>&1\r\n" +
	"echo [%DATE% %TIME%] firstboot: exit %ERRORLEVEL% %~1>>\"%FB%log.txt\"\r\n" +
	"move /y \"%FB%scripts\\%~1\" \"%FB%done\\%~1\" >nul\r\n" +
	"goto :eof\r\n"

// resetReg is the .reg text (REGEDIT4, which every version's regedit
// imports) that sets SYSTEM\Setup back to "no setup pending": SetupType 0
// and CmdLine as it was (completed XP and 2003 installs keep text-mode
// setup's "setup -newsetup" there, with SetupType 0).
func resetReg(cmdline string) string {
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(cmdline)
	return "REGEDIT4\r\n\r\n" +
		"[HKEY_LOCAL_MACHINE\\SYSTEM\\Setup]\r\n" +
		"\"SetupType\"=dword:00000000\r\n" +
		"\"CmdLine\"=\"" + esc + "\"\r\n\r\n"
}

// ErrSetupPending reports an image where Windows will run a setup cycle
// at the next boot (sysprep's mini-setup or OOBE, or another SYSTEM\Setup
// CmdLine): first-boot commands would take its place. It matches
// [ErrUnsafe].
var ErrSetupPending = fmt.Errorf("%w: a setup cycle is pending", ErrUnsafe)

// AddFirstBoot queues script (cmd.exe batch text; LF line ends become
// CRLF) to run once at the next boot, after any queued before it, and
// returns it and the registry values changed. Nothing is written to the
// registry when the runner is already installed; the caller saves reg
// and commits the image.
//
// The mechanism is Winlogon's setup hook, on every family from Windows
// 2000 to 11: with SYSTEM\Setup CmdLine set and SetupType 2, Winlogon runs
// CmdLine as SYSTEM before it shows the logon screen, waits for it to
// end, then goes on to the logon screen without a reboot (SetupType 1
// would reboot) — reference windows-offline.md §6 "Setup CmdLine", KB
// 939857; it is how sysprep's mini-setup (setup -newsetup -mini) and
// OOBE (oobe\windeploy.exe) are started. Services start in parallel, so
// the network may not be ready when a command runs (as for cmdlines.txt).
// CmdLine is [FirstBootCmdLine]; the runner (see runner) resets SetupType
// to 0 and CmdLine to "" once every script ran. [Unverified: nothing
// boots Windows here; the runner itself is tested under Wine's cmd.]
//
// It touches neither autochk.exe nor BootExecute, so it does not collide
// with the boot hook, which runs earlier (smss, before Winlogon). It
// refuses with [ErrSetupPending] an image with a setup cycle pending:
// SYSTEM\Setup SetupType not 0 (sysprep's -reseal leaves 1 with "setup
// -newsetup -mini", a generalized Vista+ image oobe\windeploy.exe), or
// SystemSetupInProgress, MiniSetupInProgress or OOBEInProgress set, or
// (Vista and later) a Setup\State ImageState other than
// IMAGE_STATE_COMPLETE: its OOBE or mini-setup would be replaced. For
// those, use the answer file's commands (cmdlines.txt, SetupComplete.cmd,
// RunSynchronous). A CmdLine left with SetupType 0 (completed XP and 2003
// installs keep "setup -newsetup") is not pending; the runner and
// [RemoveFirstBoot] put it back.
func AddFirstBoot(v *ntfs.Volume, reg *Registry, w *Windows, script []byte) (FirstBootCommand, []Edit, error) {
	if len(bytes.TrimSpace(script)) == 0 {
		return FirstBootCommand{}, nil, fmt.Errorf("%w: an empty first-boot command", ErrInvalid)
	}
	setup, err := reg.Key(`HKLM\SYSTEM\Setup`)
	hasSetup := err == nil
	if err != nil && !errors.Is(err, hive.ErrNotFound) {
		return FirstBootCommand{}, nil, err
	}
	installed := hasSetup && keyString(setup, "CmdLine") == FirstBootCmdLine
	origCmdLine := ""
	if hasSetup && !installed {
		origCmdLine = keyString(setup, "CmdLine")
	}
	if !installed {
		if err := setupIdle(reg, setup, hasSetup); err != nil {
			return FirstBootCommand{}, nil, err
		}
	}
	dir := reg.root + "/" + firstBootDir
	cmds, err := FirstBootCommands(v, reg)
	if err != nil {
		return FirstBootCommand{}, nil, err
	}
	n := 1
	for _, c := range cmds {
		n = max(n, c.N+1)
	}
	if n > 9999 {
		return FirstBootCommand{}, nil, fmt.Errorf("%w: 9999 first-boot commands already", ErrInvalid)
	}
	text := crlf(script)
	c := FirstBootCommand{N: n, Path: fmt.Sprintf("%s/scripts/%04d.cmd", dir, n), Script: string(text)}
	if err := v.MkdirAll(dir+"/scripts", nil); err != nil {
		return c, nil, err
	}
	if err := v.WriteFile(dir+"/run.cmd", []byte(runner), nil); err != nil {
		return c, nil, err
	}
	if err := v.WriteFile(c.Path, text, nil); err != nil {
		return c, nil, err
	}
	if installed {
		return c, nil, nil
	}
	if err := v.WriteFile(dir+"/reset.reg", []byte(resetReg(origCmdLine)), nil); err != nil {
		return c, nil, err
	}
	// Remember SYSTEM\Setup as it was, for RemoveFirstBoot: a line per
	// value, "name=data" or "name absent".
	var before strings.Builder
	for _, name := range []string{"CmdLine", "SetupType"} {
		if !hasSetup {
			before.WriteString(name + " absent\r\n")
			continue
		}
		v, err := setup.Value(name)
		if err != nil {
			before.WriteString(name + " absent\r\n")
			continue
		}
		before.WriteString(name + "=" + valueText(v.Type(), mustData(v)) + "\r\n")
	}
	if err := v.WriteFile(dir+"/before.txt", []byte(before.String()), nil); err != nil {
		return c, nil, err
	}
	h, _, p, err := reg.Hive(`HKLM\SYSTEM\Setup`)
	if err != nil {
		return c, nil, err
	}
	k, err := h.CreateKey(p)
	if err != nil {
		return c, nil, err
	}
	var e editor
	if err := e.set(k, `HKEY_LOCAL_MACHINE\SYSTEM\Setup`, "CmdLine", hive.String, hive.EncodeString(FirstBootCmdLine)); err != nil {
		return c, nil, err
	}
	if err := e.set(k, `HKEY_LOCAL_MACHINE\SYSTEM\Setup`, "SetupType", hive.DWord, hive.EncodeUint32(2)); err != nil {
		return c, nil, err
	}
	return c, e.edits, nil
}

// setupIdle refuses an image with a setup cycle pending.
func setupIdle(reg *Registry, setup hive.Key, hasSetup bool) error {
	if hasSetup {
		if n := dword(setup, "SetupType"); n != 0 {
			return fmt.Errorf("%w: SYSTEM\\Setup SetupType is %d with CmdLine %q (sysprep's mini-setup or OOBE, or another tool's): use the answer file's commands instead",
				ErrSetupPending, n, keyString(setup, "CmdLine"))
		}
		for _, name := range []string{"SystemSetupInProgress", "MiniSetupInProgress", "OOBEInProgress"} {
			if n := dword(setup, name); n != 0 {
				return fmt.Errorf("%w: SYSTEM\\Setup %s is %d", ErrSetupPending, name, n)
			}
		}
	}
	if k, err := reg.Key(`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State`); err == nil {
		if s := keyString(k, "ImageState"); s != "" && s != "IMAGE_STATE_COMPLETE" {
			return fmt.Errorf("%w: the image state is %s (generalized): use the answer file's commands instead", ErrSetupPending, s)
		}
	}
	return nil
}

// crlf turns LF line ends into CRLF and ends the text with one.
func crlf(b []byte) []byte {
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	s = strings.TrimRight(s, "\n")
	return []byte(strings.ReplaceAll(s, "\n", "\r\n") + "\r\n")
}

// FirstBootCommands lists the commands queued (and those that already ran,
// Done) in the install, in order.
func FirstBootCommands(v *ntfs.Volume, reg *Registry) ([]FirstBootCommand, error) {
	dir := reg.root + "/" + firstBootDir
	var out []FirstBootCommand
	for _, sub := range []string{"scripts", "done"} {
		es, err := v.ReadDir(dir + "/" + sub)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			name := e.Name()
			num, ok := cutSuffixFold(name, ".cmd")
			n, err := strconv.Atoi(num)
			if !ok || err != nil || n <= 0 || e.IsDir() {
				continue
			}
			p := dir + "/" + sub + "/" + name
			const maxScript = 1 << 20
			if fi, err := e.Info(); err != nil || fi.Size() > maxScript {
				return nil, fmt.Errorf("%s: too large to be a first-boot script", p)
			}
			b, err := v.ReadFile(p)
			if err != nil {
				return nil, err
			}
			out = append(out, FirstBootCommand{N: n, Path: p, Script: string(b), Done: sub == "done"})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].N < out[j].N })
	return out, nil
}

// FirstBootLog returns the runner's log.txt: what the commands printed at
// boot, with a start line and an exit-code line for each; nil when no
// command ran yet.
func FirstBootLog(v *ntfs.Volume, reg *Registry) ([]byte, error) {
	b, err := v.ReadFile(reg.root + "/" + firstBootDir + "/log.txt")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// RemoveFirstBoot removes the pending command number n, or every pending
// one when n is 0. When none is left pending it uninstalls the runner:
// the folder goes and SYSTEM\Setup CmdLine and SetupType are restored to
// what they were before [AddFirstBoot] (deleted if they did not exist,
// else "" and 0). It returns the registry values changed; the caller saves
// and commits. A number that is not pending is an error matching
// [ErrInvalid].
func RemoveFirstBoot(v *ntfs.Volume, reg *Registry, n int) ([]Edit, error) {
	cmds, err := FirstBootCommands(v, reg)
	if err != nil {
		return nil, err
	}
	pending := 0
	found := n == 0
	for _, c := range cmds {
		if c.Done {
			continue
		}
		if n == 0 || c.N == n {
			if err := v.Remove(c.Path); err != nil {
				return nil, err
			}
			found = true
			continue
		}
		pending++
	}
	if !found {
		return nil, fmt.Errorf("%w: no pending first-boot command %d", ErrInvalid, n)
	}
	if pending > 0 {
		return nil, nil
	}
	dir := reg.root + "/" + firstBootDir
	before, err := v.ReadFile(dir + "/before.txt")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if _, err := v.Stat(dir); err == nil {
		if err := v.RemoveAll(dir); err != nil {
			return nil, err
		}
		if es, err := v.ReadDir(path.Dir(dir)); err == nil && len(es) == 0 {
			if err := v.Remove(path.Dir(dir)); err != nil {
				return nil, err
			}
		}
	}
	setup, err := reg.Key(`HKLM\SYSTEM\Setup`)
	if err != nil || keyString(setup, "CmdLine") != FirstBootCmdLine {
		return nil, nil // not ours: leave it
	}
	var e editor
	const key = `HKEY_LOCAL_MACHINE\SYSTEM\Setup`
	was := map[string]string{"CmdLine": "", "SetupType": "0"}
	for _, line := range strings.Split(string(before), "\r\n") {
		if name, ok := strings.CutSuffix(line, " absent"); ok {
			was[name] = "\x00absent"
		} else if name, data, ok := strings.Cut(line, "="); ok {
			was[name] = data
		}
	}
	for _, name := range []string{"CmdLine", "SetupType"} {
		if was[name] == "\x00absent" {
			if err := e.del(setup, key, name); err != nil {
				return nil, err
			}
			continue
		}
		typ, data := hive.String, hive.EncodeString(was[name])
		if name == "SetupType" {
			n, _ := strconv.ParseUint(was[name], 10, 32)
			typ, data = hive.DWord, hive.EncodeUint32(uint32(n))
		}
		if err := e.set(setup, key, name, typ, data); err != nil {
			return nil, err
		}
	}
	return e.edits, nil
}
