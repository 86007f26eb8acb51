package main

import (
	"errors"
	"fmt"

	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/spf13/cobra"
)

// settingsReport is the --json document of the direct-setting commands
// (set, net set, firstboot add|remove): the write report plus the
// registry values changed.
type settingsReport struct {
	writeReport
	Edits []imagecustom.Edit `json:"edits"` // registry values written: key, value, type, old, new
	// Firstboot is the command queued by firstboot add.
	Firstboot *imagecustom.FirstBootCommand `json:"firstboot,omitempty"`
}

// settingsFunc is the body of a direct-setting command: it edits the
// registry (and the volume) in memory and returns the values changed.
type settingsFunc func(v *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows, rep *settingsReport) ([]imagecustom.Edit, error)

// writeSettings runs fn on the Windows install of the image's volume,
// saves the hives it changed and commits, as every writing command does
// (journal, --dry-run, --out), then prints the values changed. An
// invalid setting is a usage error.
func (a *app) writeSettings(image string, wf *writeFlags, fn settingsFunc) error {
	img, err := wf.openImage(image)
	if err != nil {
		return err
	}
	defer img.Close()
	v, p, err := img.OpenNTFSRW(wf.partition, nil)
	if err != nil {
		return err
	}
	ws, err := img.Windows()
	if err != nil {
		return err
	}
	var w *imagecustom.Windows
	for i := range ws {
		if ws[i].Partition == p.Index {
			w = &ws[i]
			break
		}
	}
	if w == nil {
		return fmt.Errorf("%w: partition %d holds no Windows install", imagecustom.ErrNoVolume, p.Index)
	}
	reg, err := imagecustom.OpenRegistry(v, w.SystemRoot)
	if err != nil {
		return err
	}
	rep := settingsReport{writeReport: writeReport{DryRun: wf.dryRun, Child: wf.out}}
	edits, err := fn(v, reg, w, &rep)
	if errors.Is(err, imagecustom.ErrInvalid) {
		return usageError{err}
	}
	if err != nil {
		return err
	}
	if _, err := reg.Save(); err != nil {
		return err
	}
	if err := img.Commit(); err != nil {
		return err
	}
	changes, err := img.Changes()
	if err != nil {
		return err
	}
	rep.Changes, rep.Edits = changes, edits
	if rep.Changes == nil {
		rep.Changes = []imagecustom.Change{}
	}
	if rep.Edits == nil {
		rep.Edits = []imagecustom.Edit{}
	}
	for _, c := range changes {
		rep.Bytes += c.Length
	}
	if a.json {
		return a.printJSON(rep)
	}
	verb := "set"
	if wf.dryRun {
		verb = "would set"
	}
	for _, e := range edits {
		name := e.Value
		if name == "" {
			name = "@"
		}
		if e.Old != "" {
			fmt.Fprintf(a.stdout, "%s %s\\%s = %s (was %s)\n", verb, e.Key, name, e.New, e.Old)
		} else {
			fmt.Fprintf(a.stdout, "%s %s\\%s = %s\n", verb, e.Key, name, e.New)
		}
	}
	if len(edits) == 0 && rep.Firstboot == nil {
		fmt.Fprintln(a.stdout, "nothing to change: the registry already holds these settings")
	}
	if wf.dryRun {
		fmt.Fprintf(a.stdout, "dry run: would change %d bytes in %d ranges of %s; nothing written\n", rep.Bytes, len(changes), image)
	}
	if wf.out != "" && !a.quiet {
		fmt.Fprintf(a.stderr, "wrote %d bytes of changes to %s, a child disk of %s (left untouched)\n", rep.Bytes, wf.out, image)
	}
	return nil
}

func (a *app) setCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "set",
		Short: "Set the computer name or the time zone of an image's Windows, offline",
	}
	cmd.AddCommand(a.setHostnameCommand(), a.setTimezoneCommand())
	return cmd
}

func (a *app) setHostnameCommand() *cobra.Command {
	var wf writeFlags
	cmd := &cobra.Command{
		Use:   "hostname IMAGE NAME",
		Short: "Set the computer name, in every place Windows reads it at boot",
		Long: `Set the computer name: the NetBIOS ComputerName (upper-cased) and TCP/IP's
Hostname and "NV Hostname" in every control set that boots, and Winlogon's
DefaultDomainName where it held the old name. NAME has 1 to 15 letters, digits
and hyphens, not all digits, not starting or ending with a hyphen.`,
		Args: exactArgs(2, "IMAGE NAME"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			if err := imagecustom.CheckHostname(args[1]); err != nil {
				return usageError{err}
			}
			return a.writeSettings(args[0], &wf, func(_ *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows, _ *settingsReport) ([]imagecustom.Edit, error) {
				return imagecustom.SetHostname(reg, w, args[1])
			})
		}),
	}
	wf.add(cmd)
	return cmd
}

func (a *app) setTimezoneCommand() *cobra.Command {
	var wf writeFlags
	cmd := &cobra.Command{
		Use:   "timezone IMAGE ZONE",
		Short: "Set the time zone by its registry name (\"Pacific Standard Time\")",
		Long: `Set the time zone to ZONE, a name from the image's own list (SOFTWARE\Microsoft\
Windows NT\CurrentVersion\Time Zones), as Windows writes it: TimeZoneInformation in
every control set that boots, with TimeZoneKeyName and DynamicDaylightTimeDisabled
on Vista and later. An unknown ZONE is a usage error listing the nearest names.`,
		Args: exactArgs(2, "IMAGE ZONE"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			return a.writeSettings(args[0], &wf, func(_ *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows, _ *settingsReport) ([]imagecustom.Edit, error) {
				return imagecustom.SetTimeZone(reg, w, args[1], nil)
			})
		}),
	}
	wf.add(cmd)
	return cmd
}
