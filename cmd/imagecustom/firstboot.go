package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/spf13/cobra"
)

func (a *app) firstbootCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "firstboot",
		Short: "Commands run once as SYSTEM at the next boot, before logon, without a setup cycle",
		Long: `Queue commands that Windows runs once, in order, as SYSTEM, at the next boot
before the logon screen, through Winlogon's setup hook (SYSTEM\Setup CmdLine with
SetupType 2) and a runner script in <SystemRoot>\ImageCustom\FirstBoot, which logs
each command's output and exit code to log.txt there, moves each to done\ after it
ran, and resets SYSTEM\Setup when none is left. An image with a pending setup cycle
(sysprep's mini-setup or OOBE) is refused: use the answer file's commands there.`,
	}
	cmd.AddCommand(a.firstbootAddCommand(), a.firstbootListCommand(), a.firstbootRemoveCommand())
	return cmd
}

func (a *app) firstbootAddCommand() *cobra.Command {
	var wf writeFlags
	var command, script string
	cmd := &cobra.Command{
		Use:   "add IMAGE (--command CMD | --script FILE)",
		Short: "Queue a command (or a .cmd batch script) for the next boot",
		Args:  exactArgs(1, "IMAGE"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			if (command == "") == (script == "") {
				return usagef("firstboot add: give --command CMD or --script FILE (one of them)")
			}
			text := []byte(command)
			if script != "" {
				b, err := os.ReadFile(script)
				if err != nil {
					return err
				}
				text = b
			}
			return a.writeSettings(args[0], &wf, func(v *ntfs.Volume, reg *imagecustom.Registry, w *imagecustom.Windows, rep *settingsReport) ([]imagecustom.Edit, error) {
				c, edits, err := imagecustom.AddFirstBoot(v, reg, w, text)
				if err == nil {
					rep.Firstboot = &c
					if !a.json {
						fmt.Fprintf(a.stdout, "queued first-boot command %d as %s\n", c.N, displayPath(c.Path))
					}
				}
				return edits, err
			})
		}),
	}
	cmd.Flags().StringVar(&command, "command", "", "the command line `CMD` (cmd.exe syntax)")
	cmd.Flags().StringVar(&script, "script", "", "a batch script `FILE` to run (LF line ends become CRLF)")
	wf.add(cmd)
	return cmd
}

func (a *app) firstbootListCommand() *cobra.Command {
	var vf volumeFlags
	cmd := &cobra.Command{
		Use:   "list IMAGE",
		Short: "List the queued first-boot commands (and those that ran), with the runner's log",
		Args:  exactArgs(1, "IMAGE"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			img, v, reg, err := vf.openRegistry(args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			cmds, err := imagecustom.FirstBootCommands(v, reg)
			if err != nil {
				return err
			}
			log, err := imagecustom.FirstBootLog(v, reg)
			if err != nil {
				return err
			}
			if a.json {
				if cmds == nil {
					cmds = []imagecustom.FirstBootCommand{}
				}
				return a.printJSON(struct {
					Commands []imagecustom.FirstBootCommand `json:"commands"`
					Log      string                         `json:"log"`
				}{cmds, string(log)})
			}
			for _, c := range cmds {
				state := "pending"
				if c.Done {
					state = "ran"
				}
				fmt.Fprintf(a.stdout, "%4d %-7s %s\n", c.N, state, displayPath(c.Path))
				for _, line := range strings.Split(strings.TrimRight(c.Script, "\r\n"), "\r\n") {
					fmt.Fprintf(a.stdout, "             %s\n", line)
				}
			}
			if len(cmds) == 0 {
				fmt.Fprintln(a.stdout, "no first-boot commands")
			}
			if len(log) > 0 {
				fmt.Fprintf(a.stdout, "log:\n%s", strings.ReplaceAll(string(log), "\r\n", "\n"))
			}
			return nil
		}),
	}
	vf.add(cmd)
	return cmd
}

func (a *app) firstbootRemoveCommand() *cobra.Command {
	var wf writeFlags
	cmd := &cobra.Command{
		Use:   "remove IMAGE [N]",
		Short: "Remove queued command N, or all; with none left, uninstall the runner",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usagef("firstboot remove takes IMAGE [N], got %d arguments", len(args))
			}
			return nil
		},
		RunE: runE(func(_ *cobra.Command, args []string) error {
			n := 0
			if len(args) == 2 {
				var err error
				if n, err = strconv.Atoi(args[1]); err != nil || n < 1 {
					return usagef("firstboot remove: N is a command number from firstboot list, got %q", args[1])
				}
			}
			return a.writeSettings(args[0], &wf, func(v *ntfs.Volume, reg *imagecustom.Registry, _ *imagecustom.Windows, _ *settingsReport) ([]imagecustom.Edit, error) {
				return imagecustom.RemoveFirstBoot(v, reg, n)
			})
		}),
	}
	wf.add(cmd)
	return cmd
}
