package main

import (
	"errors"
	"fmt"

	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/spf13/cobra"
)

// infoJSON is the --json document of info.
type infoJSON struct {
	Format     string          `json:"format"`   // raw, or vmdk/<createType>
	Capacity   int64           `json:"capacity"` // bytes of the virtual disk
	Scheme     string          `json:"scheme"`   // gpt, mbr, none
	Partitions []partitionJSON `json:"partitions"`
	Windows    []windowsJSON   `json:"windows"` // [] when none found
}

type partitionJSON struct {
	Index  int    `json:"index"`
	Offset int64  `json:"offset"`
	Size   int64  `json:"size"`
	Type   string `json:"type"`
	Name   string `json:"name,omitempty"`
	GUID   string `json:"guid,omitempty"`
	Active bool   `json:"active,omitempty"` // MBR boot indicator
	FS     string `json:"fs"`               // ntfs, fat32, fat, exfat, refs, bitlocker, ""
}

type windowsJSON struct {
	Partition         int      `json:"partition"`
	BootPartition     int      `json:"boot_partition"` // EFI system partition, or the active one; 0: none
	SystemRoot        string   `json:"system_root"`
	Name              string   `json:"name"`
	ProductName       string   `json:"product_name"`
	EditionID         string   `json:"edition_id,omitempty"`
	InstallationType  string   `json:"installation_type,omitempty"`
	ProductType       string   `json:"product_type,omitempty"`
	Version           string   `json:"version"` // major.minor
	Build             int      `json:"build"`
	ServicePack       string   `json:"service_pack,omitempty"`
	Family            string   `json:"family"`
	Arch              string   `json:"arch"`
	ComputerName      string   `json:"computer_name,omitempty"`
	CurrentControlSet string   `json:"current_control_set"`
	Select            [4]int   `json:"select"` // Current, Default, Failed, LastKnownGood
	DirtyHives        []string `json:"dirty_hives,omitempty"`
}

// windowsDoc is the --json form of a Windows install.
func windowsDoc(w imagecustom.Windows) windowsJSON {
	return windowsJSON{Partition: w.Partition, BootPartition: w.BootPartition, SystemRoot: w.SystemRoot,
		Name: w.Name, ProductName: w.ProductName, EditionID: w.EditionID, InstallationType: w.InstallationType,
		ProductType: w.ProductType, Version: fmt.Sprintf("%d.%d", w.Major, w.Minor), Build: w.Build,
		ServicePack: w.ServicePack, Family: w.Family, Arch: w.Arch, ComputerName: w.ComputerName,
		CurrentControlSet: w.CurrentControlSet(), Select: [4]int{w.Current, w.Default, w.Failed, w.LastKnownGood},
		DirtyHives: w.Dirty}
}

func (a *app) infoCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "info IMAGE",
		Short: "Describe an image: format, partitions, file systems, the Windows install",
		Args:  exactArgs(1, "IMAGE"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			img, err := imagecustom.Open(args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			doc := infoJSON{Format: img.Format(), Capacity: img.Size(), Scheme: img.Scheme(),
				Partitions: []partitionJSON{}, Windows: []windowsJSON{}}
			for _, p := range img.Partitions() {
				doc.Partitions = append(doc.Partitions, partitionJSON{Index: p.Index, Offset: p.Offset, Size: p.Size,
					Type: p.Type, Name: p.Name, GUID: p.GUID, Active: p.Active, FS: p.FS})
			}
			wins, err := img.Windows()
			if err != nil && !errors.Is(err, imagecustom.ErrNoVolume) {
				return err
			}
			for _, w := range wins {
				doc.Windows = append(doc.Windows, windowsDoc(w))
			}
			if a.json {
				return a.printJSON(doc)
			}
			out := a.stdout
			fmt.Fprintf(out, "format:     %s\n", doc.Format)
			fmt.Fprintf(out, "capacity:   %s (%d bytes)\n", humanBytes(doc.Capacity), doc.Capacity)
			fmt.Fprintf(out, "partitions: %s\n", doc.Scheme)
			for _, p := range doc.Partitions {
				line := fmt.Sprintf("  %d  %10s at %-12d %-5s", p.Index, humanBytes(p.Size), p.Offset, fsName(p.FS))
				if p.Type != "" {
					line += "  type " + p.Type
				}
				if p.Name != "" {
					line += fmt.Sprintf(" %q", p.Name)
				}
				if p.Active {
					line += " active"
				}
				fmt.Fprintln(out, line)
			}
			if len(doc.Windows) == 0 {
				fmt.Fprintln(out, "windows:    none found")
			}
			for _, w := range doc.Windows {
				name := w.Name
				if w.ProductName != "" && w.ProductName != w.Name {
					name += fmt.Sprintf(" (%s)", w.ProductName)
				}
				fmt.Fprintf(out, "windows:    %s\n", name)
				fmt.Fprintf(out, "  version:  %s build %d", w.Version, w.Build)
				if w.ServicePack != "" {
					fmt.Fprintf(out, " %s", w.ServicePack)
				}
				fmt.Fprintln(out)
				if w.EditionID != "" || w.InstallationType != "" {
					fmt.Fprintf(out, "  edition:  %s %s\n", w.EditionID, w.InstallationType)
				}
				fmt.Fprintf(out, "  arch:     %s\n", w.Arch)
				fmt.Fprintf(out, "  family:   %s\n", w.Family)
				fmt.Fprintf(out, "  root:     partition %d %s\n", w.Partition, w.SystemRoot)
				if w.BootPartition != 0 {
					fmt.Fprintf(out, "  boot:     partition %d\n", w.BootPartition)
				}
				if w.ComputerName != "" {
					fmt.Fprintf(out, "  computer: %s\n", w.ComputerName)
				}
				fmt.Fprintf(out, "  control:  %s (Select: Current %d, Default %d, Failed %d, LastKnownGood %d)\n",
					w.CurrentControlSet, w.Select[0], w.Select[1], w.Select[2], w.Select[3])
				if len(w.DirtyHives) > 0 {
					fmt.Fprintf(out, "  dirty:    %v (read without replaying their logs)\n", w.DirtyHives)
				}
			}
			return nil
		}),
	}
}

func fsName(fs string) string {
	if fs == "" {
		return "?"
	}
	return fs
}
