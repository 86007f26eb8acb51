package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/imagecustom/go-imagecustom/vmdk"
	"github.com/spf13/cobra"
)

func (a *app) vmdkCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vmdk",
		Short: "Inspect, check, create, convert and snapshot VMDK disks",
		Long: `vmdk works on VMDK virtual disks themselves, below any file system:
info describes one, check verifies its structure, create makes an empty one,
convert copies a disk into another subformat or raw, and snapshot starts a
delta disk on top of one.

A DISK is the descriptor file, or the single file of a monolithic sparse or
streamOptimized disk. Types take qemu-img's names: monolithicSparse,
monolithicFlat, twoGbMaxExtentSparse, twoGbMaxExtentFlat, streamOptimized, and
raw.`,
	}
	cmd.AddCommand(a.vmdkInfoCommand(), a.vmdkCheckCommand(), a.vmdkCreateCommand(), a.vmdkConvertCommand(), a.vmdkSnapshotCommand())
	return cmd
}

// vmdkInfoJSON is the --json document of vmdk info.
type vmdkInfoJSON struct {
	Path       string           `json:"path"`
	CreateType string           `json:"create_type"`
	CID        string           `json:"cid"`        // 8 hex digits, as in the descriptor
	ParentCID  string           `json:"parent_cid"` // ffffffff: no parent
	Parent     string           `json:"parent,omitempty"`
	Capacity   int64            `json:"capacity"` // bytes
	Geometry   [3]int64         `json:"geometry"` // cylinders, heads, sectors
	Adapter    string           `json:"adapter"`
	HWVersion  string           `json:"hw_version,omitempty"`
	Allocated  int64            `json:"allocated"`  // bytes of the virtual disk this disk holds data for
	HostBytes  int64            `json:"host_bytes"` // size of its files
	Extents    []vmdkExtentJSON `json:"extents"`
	Chain      []string         `json:"chain,omitempty"` // parents, nearest first
}

type vmdkExtentJSON struct {
	Access     string `json:"access"`
	Type       string `json:"type"`
	File       string `json:"file,omitempty"`
	Start      int64  `json:"start"`
	Size       int64  `json:"size"`
	Offset     int64  `json:"offset,omitempty"`
	HostSize   int64  `json:"host_size"`
	Version    int    `json:"version,omitempty"`
	GrainSize  int64  `json:"grain_size,omitempty"`
	Compressed bool   `json:"compressed,omitempty"`
	Unclean    bool   `json:"unclean,omitempty"`
	Allocated  int64  `json:"allocated"`
	ZeroGrains int64  `json:"zero_grains,omitempty"`
}

func (a *app) vmdkInfoCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "info DISK",
		Short: "Describe a VMDK disk: type, descriptor, extents, allocation, parents",
		Args:  exactArgs(1, "DISK"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			d, err := vmdk.Open(args[0], &vmdk.Options{})
			if err != nil {
				return err
			}
			defer d.Close()
			in, err := d.Info()
			if err != nil {
				return err
			}
			doc := vmdkInfoJSON{
				Path: in.Path, CreateType: in.CreateType,
				CID: fmt.Sprintf("%08x", in.CID), ParentCID: fmt.Sprintf("%08x", in.ParentCID), Parent: in.Parent,
				Capacity: in.Capacity, Geometry: [3]int64{in.Cylinders, in.Heads, in.Sectors},
				Adapter: in.Adapter, HWVersion: in.HWVersion, Allocated: in.Allocated, HostBytes: in.HostBytes,
			}
			for _, e := range in.Extents {
				doc.Extents = append(doc.Extents, vmdkExtentJSON{
					Access: e.Access, Type: e.Type, File: e.File, Start: e.Start, Size: e.Size, Offset: e.Offset,
					HostSize: e.HostSize, Version: e.Version, GrainSize: e.GrainSize, Compressed: e.Compressed,
					Unclean: e.Unclean, Allocated: e.Allocated, ZeroGrains: e.ZeroGrains,
				})
			}
			for p := d.Parent(); p != nil; p = p.Parent() {
				pi, err := p.Info()
				if err != nil {
					return err
				}
				doc.Chain = append(doc.Chain, pi.Path)
			}
			if a.json {
				return a.printJSON(doc)
			}
			w := a.stdout
			fmt.Fprintf(w, "disk:       %s\n", doc.Path)
			fmt.Fprintf(w, "type:       %s\n", doc.CreateType)
			fmt.Fprintf(w, "capacity:   %s (%d bytes)\n", humanBytes(doc.Capacity), doc.Capacity)
			fmt.Fprintf(w, "allocated:  %s (%d bytes, %s of the capacity)\n", humanBytes(doc.Allocated), doc.Allocated, percent(doc.Allocated, doc.Capacity))
			fmt.Fprintf(w, "host files: %s (%d bytes)\n", humanBytes(doc.HostBytes), doc.HostBytes)
			fmt.Fprintf(w, "cid:        %s\n", doc.CID)
			if doc.Parent != "" || in.ParentCID != vmdk.NoParent {
				fmt.Fprintf(w, "parent:     %s (cid %s)\n", doc.Parent, doc.ParentCID)
				for i, p := range doc.Chain {
					fmt.Fprintf(w, "  chain %d:  %s\n", i+1, p)
				}
			} else {
				fmt.Fprintf(w, "parent:     none\n")
			}
			if doc.Adapter != "" {
				fmt.Fprintf(w, "adapter:    %s\n", doc.Adapter)
			}
			if in.Heads != 0 {
				fmt.Fprintf(w, "geometry:   %d cylinders, %d heads, %d sectors\n", in.Cylinders, in.Heads, in.Sectors)
			}
			if doc.HWVersion != "" {
				fmt.Fprintf(w, "hw version: %s\n", doc.HWVersion)
			}
			fmt.Fprintf(w, "extents:\n")
			for _, e := range in.Extents {
				line := fmt.Sprintf("  %-6s %-6s %s at %d", e.Access, e.Type, humanBytes(e.Size), e.Start)
				if e.File != "" {
					line += fmt.Sprintf(" in %q", e.File)
				}
				if e.Offset != 0 {
					line += fmt.Sprintf(" from byte %d", e.Offset)
				}
				if e.GrainSize != 0 {
					line += fmt.Sprintf(", v%d, %s grains, %s allocated", e.Version, humanBytes(e.GrainSize), humanBytes(e.Allocated))
				}
				if e.Compressed {
					line += ", compressed"
				}
				if e.ZeroGrains != 0 {
					line += fmt.Sprintf(", %d zero grains", e.ZeroGrains)
				}
				if e.Unclean {
					line += ", UNCLEAN"
				}
				fmt.Fprintln(w, line)
			}
			return nil
		}),
	}
}

// humanBytes formats n bytes with a binary unit: "512 B", "64 KiB",
// "1.5 GiB".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 5 {
		v /= unit
		i++
	}
	s := strconv.FormatFloat(v, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}[i]
}

// percent formats a/b as a percentage.
func percent(a, b int64) string {
	if b == 0 {
		return "0%"
	}
	return strconv.FormatFloat(100*float64(a)/float64(b), 'f', 1, 64) + "%"
}

// parseSize reads a size: bytes, or a number with a suffix K, M, G, T
// (powers of 1024, optionally followed by "iB" or "B"), as qemu-img takes
// them. The result must be a positive multiple of 512.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimSuffix(strings.TrimSuffix(t, "iB"), "B")
	mult := int64(1)
	if t != "" {
		switch strings.ToUpper(t[len(t)-1:]) {
		case "K":
			mult = 1 << 10
		case "M":
			mult = 1 << 20
		case "G":
			mult = 1 << 30
		case "T":
			mult = 1 << 40
		}
		if mult != 1 {
			t = t[:len(t)-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v <= 0 {
		return 0, usagef("size %q: want bytes or a number with K, M, G or T", s)
	}
	f := v * float64(mult)
	if f > float64(int64(1)<<62) {
		return 0, usagef("size %q is too large", s)
	}
	n := int64(f)
	if float64(n) != f || n%512 != 0 {
		return 0, usagef("size %q (%.0f bytes) is not a multiple of 512", s, f)
	}
	return n, nil
}
