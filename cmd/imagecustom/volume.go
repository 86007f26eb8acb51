package main

import (
	"path"
	"strings"

	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/spf13/cobra"
)

// volumeFlags are the flags of commands that work on one volume of an image.
type volumeFlags struct {
	partition int // --partition: 1-based, 0 for the Windows system volume
}

func (f *volumeFlags) add(cmd *cobra.Command) {
	cmd.Flags().IntVar(&f.partition, "partition", 0,
		"partition `N` (1-based); default: the Windows system volume, else the only NTFS volume")
}

// openVolume opens IMAGE and the NTFS volume the flags select. The caller
// closes the image.
func (f *volumeFlags) openVolume(image string) (*imagecustom.Image, *ntfs.Volume, error) {
	if f.partition < 0 {
		return nil, nil, usagef("--partition %d: partitions are numbered from 1", f.partition)
	}
	img, err := imagecustom.Open(image)
	if err != nil {
		return nil, nil, err
	}
	v, _, err := img.OpenNTFS(f.partition)
	if err != nil {
		img.Close()
		return nil, nil, err
	}
	return img, v, nil
}

// openRegistry opens IMAGE, the NTFS volume the flags select and the
// registry of the Windows install on it, for reading. The caller closes
// the image.
func (f *volumeFlags) openRegistry(image string) (*imagecustom.Image, *ntfs.Volume, *imagecustom.Registry, error) {
	img, v, err := f.openVolume(image)
	if err != nil {
		return nil, nil, nil, err
	}
	reg, err := imagecustom.OpenRegistry(v, "")
	if err != nil {
		img.Close()
		return nil, nil, nil, err
	}
	return img, v, reg, nil
}

// volumePath turns a path as users write it — `\Windows\System32`,
// `C:\Windows\System32`, `/Windows/System32`, `Windows/System32` — into the
// slash-separated, rooted-at-the-volume form package ntfs takes ("." for
// the root). ".." components are resolved and cannot climb above the root.
func volumePath(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	if len(p) >= 2 && p[1] == ':' && (p[0]|0x20 >= 'a' && p[0]|0x20 <= 'z') {
		p = p[2:]
	}
	p = path.Clean("/" + p)
	if p == "/" {
		return "."
	}
	return p[1:]
}

// displayPath shows a volume path the Windows way, for messages.
func displayPath(p string) string {
	if p == "." {
		return `\`
	}
	return `\` + strings.ReplaceAll(p, "/", `\`)
}

// exactArgs is cobra.ExactArgs so that a wrong argument count is
// a usage error naming the arguments.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %s (%d arguments), got %d", cmd.Name(), names, n, len(args))
		}
		return nil
	}
}
