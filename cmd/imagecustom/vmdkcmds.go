package main

import (
	"fmt"
	"strings"

	"github.com/imagecustom/go-imagecustom/vmdk"
	"github.com/spf13/cobra"
)

// vmdkTypes are the --type values, as qemu-img names them.
var vmdkTypes = []string{vmdk.MonolithicSparse, vmdk.MonolithicFlat, vmdk.TwoGbMaxExtentSparse,
	vmdk.TwoGbMaxExtentFlat, vmdk.StreamOptimized, vmdk.Raw}

// vmdkType checks a --type value, matched without regard to case.
func vmdkType(s string, raw bool) (string, error) {
	for _, t := range vmdkTypes {
		if strings.EqualFold(s, t) && (raw || t != vmdk.Raw) {
			return t, nil
		}
	}
	valid := vmdkTypes
	if !raw {
		valid = valid[:len(valid)-1]
	}
	return "", usagef("--type %q: one of %s", s, strings.Join(valid, ", "))
}

// vmdkProblemJSON is one problem of vmdk check --json.
type vmdkProblemJSON struct {
	File   string `json:"file"`
	Offset int64  `json:"offset"` // -1 when the problem has no one place
	What   string `json:"what"`
}

func (a *app) vmdkCheckCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check DISK",
		Short: "Check a VMDK disk's structure (exit 4 on problems)",
		Long: `check verifies DISK and its parents without changing them: the descriptor (type,
content IDs, extents, parent chain), and in each sparse extent the header, the
footer of a stream, the grain directory and its redundant copy, every grain
table and grain pointer (in range, no two overlapping), and the markers and
compressed grains of a streamOptimized file. It prints one problem per line and
exits with 4 if it found any.`,
		Args: exactArgs(1, "DISK"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			problems, err := vmdk.Check(args[0])
			if err != nil {
				return err
			}
			doc := struct {
				Problems []vmdkProblemJSON `json:"problems"`
				Clean    bool              `json:"clean"`
			}{Problems: []vmdkProblemJSON{}, Clean: len(problems) == 0}
			lines := make([]fmt.Stringer, len(problems))
			for i, p := range problems {
				doc.Problems = append(doc.Problems, vmdkProblemJSON{File: p.File, Offset: p.Offset, What: p.What})
				lines[i] = p
			}
			return a.reportProblems("vmdk check", doc, lines)
		}),
	}
}

func (a *app) vmdkCreateCommand() *cobra.Command {
	var typ, size string
	cmd := &cobra.Command{
		Use:   "create --type T --size S OUT",
		Short: "Create a new, empty VMDK disk",
		Long: `create makes an empty disk of S bytes (a number with an optional K, M, G or T,
powers of 1024; a multiple of 512) at OUT, of type T. OUT must not exist.`,
		Args: exactArgs(1, "OUT"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			t, err := vmdkType(typ, false)
			if err != nil {
				return err
			}
			n, err := parseSize(size)
			if err != nil {
				return err
			}
			d, err := vmdk.Create(args[0], t, n)
			if err != nil {
				return err
			}
			if err := d.Close(); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]any{"path": args[0], "create_type": t, "capacity": n})
			}
			if !a.quiet {
				fmt.Fprintf(a.stderr, "created %s: %s, %s\n", args[0], t, humanBytes(n))
			}
			return nil
		}),
	}
	cmd.Flags().StringVar(&typ, "type", vmdk.MonolithicSparse, "disk type `T`: "+strings.Join(vmdkTypes[:len(vmdkTypes)-1], ", "))
	cmd.Flags().StringVar(&size, "size", "", "capacity `S`: bytes, or a number with K, M, G or T")
	cmd.MarkFlagRequired("size")
	return cmd
}

func (a *app) vmdkConvertCommand() *cobra.Command {
	var typ string
	cmd := &cobra.Command{
		Use:   "convert [--type T] IN OUT",
		Short: "Copy a disk (VMDK of any subformat, or raw) into another subformat or raw",
		Long: `convert copies IN, a VMDK (a delta disk is flattened with its parents) or a raw
image, into OUT of type T (default: IN's own). Only data is copied: unallocated
and all-zero grains are skipped, so the work grows with the data, not with the
capacity, and raw output is a sparse file. streamOptimized output is compressed
on every core. OUT must not exist; on error or interrupt it is removed.`,
		Args: exactArgs(2, "IN OUT"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			t := ""
			if typ != "" {
				var err error
				if t, err = vmdkType(typ, true); err != nil {
					return err
				}
			}
			bar := a.newProgress("convert")
			err := vmdk.Convert(cmd.Context(), args[0], args[1], &vmdk.ConvertOptions{Type: t, Progress: bar.update})
			bar.finish()
			return err
		}),
	}
	cmd.Flags().StringVar(&typ, "type", "", "output type `T`: "+strings.Join(vmdkTypes, ", ")+" (default: the input's)")
	return cmd
}

func (a *app) vmdkSnapshotCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "snapshot BASE CHILD",
		Short: "Create a delta disk on top of BASE",
		Long: `snapshot creates CHILD, a monolithicSparse delta disk whose reads fall through to
BASE where it has no data; writes to CHILD never touch BASE. CHILD records BASE's
content ID and its path (relative when possible); BASE is only read.`,
		Args: exactArgs(2, "BASE CHILD"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			d, err := vmdk.Snapshot(args[0], args[1])
			if err != nil {
				return err
			}
			if err := d.Close(); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]any{"path": args[1], "parent": args[0]})
			}
			if !a.quiet {
				fmt.Fprintf(a.stderr, "created %s on top of %s\n", args[1], args[0])
			}
			return nil
		}),
	}
}
