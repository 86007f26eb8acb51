package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/sysprep"
	"github.com/spf13/cobra"
)

func (a *app) customizeCommand() *cobra.Command {
	var wf writeFlags
	var specPath string
	var generalize bool
	cmd := &cobra.Command{
		Use:   "customize IMAGE --spec SPEC [--dry-run] [--out CHILD.vmdk] [--generalize]",
		Short: "The whole job: detect Windows, plan, probe, write and verify a customization spec",
		Long: `customize applies a customization spec to the Windows install of IMAGE: it
detects the install, validates the spec for its family and architecture, renders
the sysprep.inf / unattend.xml artifacts, plans every file, registry value and
the boot hook, runs the plan on an in-memory overlay and reads it back, then
writes it (in place through the undo journal, or into --out CHILD.vmdk), reopens
the result and verifies every byte it wrote. --dry-run stops after the probe.

SPEC is YAML, JSON or a vCenter customization spec exported as XML (- reads
stdin). Relative local paths in it (files[].source, regFiles, bootHook.exe and
.data, sysprepTools) are taken from the spec file's folder (the current folder
for stdin). A Vista-or-later image must be generalized; --generalize opts in to a
first boot that runs sysprep /generalize itself. Passwords never appear in the
output. Exit 4: the spec has problems; 3: refused for safety.`,
		Args: exactArgs(1, "IMAGE"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if specPath == "" {
				return usagef("customize: --spec is required")
			}
			if wf.out != "" && wf.dryRun {
				return usagef("--dry-run writes nothing, not even a child disk: use --dry-run or --out, not both")
			}
			if wf.partition < 0 {
				return usagef("--partition %d: partitions are numbered from 1", wf.partition)
			}
			data, err := readSpecFile(a.stdin, specPath)
			if err != nil {
				return err
			}
			spec, err := sysprep.Decode(data)
			if err != nil {
				return specDecodeError(specPath, err)
			}
			dir := "."
			if specPath != "-" {
				dir = filepath.Dir(specPath)
			}
			res, err := imagecustom.Customize(cmd.Context(), args[0], spec, &imagecustom.CustomizeOptions{
				DryRun: wf.dryRun, Child: wf.out, Partition: wf.partition, SpecDir: dir, Generalize: generalize})
			var pe *sysprep.ProblemsError
			if errors.As(err, &pe) {
				return a.printSpecProblems("customize: spec", pe.Problems)
			}
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(customizeJSON{CustomizeResult: res,
					Plan: customizePlanJSON{Plan: res.Plan, Windows: windowsDoc(res.Plan.Windows)}})
			}
			a.printCustomize(args[0], res)
			return nil
		}),
	}
	cmd.Flags().StringVar(&specPath, "spec", "", "the customization spec `SPEC` (YAML, JSON or vCenter XML; - for stdin)")
	cmd.Flags().BoolVar(&generalize, "generalize", false, "Vista and later: accept an image that is not generalized; its first boot runs sysprep /generalize")
	wf.add(cmd)
	return cmd
}

// customizeJSON is the --json document: the library's result, with the
// install in the form info --json prints it.
type customizeJSON struct {
	*imagecustom.CustomizeResult
	Plan customizePlanJSON `json:"plan"`
}

type customizePlanJSON struct {
	*imagecustom.Plan
	Windows windowsJSON `json:"windows"`
}

// printCustomize prints the plan and the result as text.
func (a *app) printCustomize(image string, res *imagecustom.CustomizeResult) {
	p := res.Plan
	w := a.stdout
	fmt.Fprintf(w, "%s: %s %s (%s, %s) on partition %d, system root %s\n", image, p.Windows.Name, p.Windows.ServicePack,
		p.Family, p.Arch, p.Windows.Partition, p.Windows.SystemRoot)
	if p.ImageState != "" {
		fmt.Fprintf(w, "image state: %s\n", p.ImageState)
	}
	fmt.Fprintf(w, "computer name: %s\n\nfiles:\n", p.ComputerName)
	for _, f := range p.Files {
		digest := "(holds a password)"
		if !f.Secret {
			digest = f.SHA256[:16]
		}
		fmt.Fprintf(w, "  %-50s %8d  %-13s %s\n", f.Path, f.Size, f.Origin, digest)
	}
	for _, r := range p.Removed {
		fmt.Fprintf(w, "  %-50s  removed (stale cached answer file)\n", r)
	}
	fmt.Fprintln(w, "registry:")
	for _, v := range p.Registry {
		fmt.Fprintf(w, "  %s\\%s = %s %v\n", v.Key, v.Name, v.Type, v.Data)
	}
	for _, r := range p.RegFiles {
		fmt.Fprintf(w, "  merge %s\n", r)
	}
	if h := p.Hook; h != nil {
		name := h.Exe
		if h.Builtin {
			name = "the built-in hook with the spec's actions"
		}
		fmt.Fprintf(w, "boot hook: %s (%s), %d bytes, sha256 %s, as System32\\%s", name, h.Method, h.Size, h.SHA256[:16], h.ExeName)
		if h.BackupName != "" {
			fmt.Fprintf(w, ", original kept as System32\\%s", h.BackupName)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "steps:")
	for _, s := range p.Steps {
		fmt.Fprintf(w, "  %-17s %-14s %s %s\n", s.Phase, s.Kind, s.File, s.Detail)
	}
	for _, wn := range p.Warnings {
		fmt.Fprintf(w, "warning: %s\n", wn)
	}
	pr := res.Probe
	fmt.Fprintf(w, "\nprobe: %d files, %d values, %d hives read back from the overlay", pr.Files, pr.Values, len(pr.Hives))
	if pr.Hook {
		fmt.Fprint(w, ", hook in place")
	}
	fmt.Fprintln(w)
	switch {
	case res.DryRun:
		fmt.Fprintf(w, "dry run: would change %d bytes in %d ranges of %s; nothing written\n", res.Bytes, len(res.Changes), image)
	case res.Final != nil:
		where := image
		if res.Child != "" {
			where = res.Child + " (a child disk of " + image + ", left untouched)"
		}
		fmt.Fprintf(w, "wrote %d bytes in %d ranges to %s; reopened: %d files, %d values, %d hives verified", res.Bytes, len(res.Changes), where,
			res.Final.Files, res.Final.Values, len(res.Final.Hives))
		if res.Final.Hook {
			fmt.Fprint(w, ", hook in place")
		}
		if res.Final.Dirty {
			fmt.Fprint(w, ", volume marked dirty")
		}
		fmt.Fprintln(w)
	}
}
