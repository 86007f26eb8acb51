package main

import (
	"fmt"
	"os"
	"path"

	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/spf13/cobra"
)

// writeFlags are the flags of every command that writes an image.
type writeFlags struct {
	volumeFlags
	dryRun bool
	out    string
}

func (f *writeFlags) add(cmd *cobra.Command) {
	f.volumeFlags.add(cmd)
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "run everything against an in-memory overlay, print the changes, write nothing")
	cmd.Flags().StringVar(&f.out, "out", "", "leave IMAGE untouched and write the changes to a new child disk `CHILD.vmdk`")
}

// openImage checks the flags and opens IMAGE for writing as they ask: in
// place through the journal, as a dry run, or into a child disk.
func (f *writeFlags) openImage(image string) (*imagecustom.Image, error) {
	if f.out != "" && f.dryRun {
		return nil, usagef("--dry-run writes nothing, not even a child disk: use --dry-run or --out, not both")
	}
	if f.partition < 0 {
		return nil, usagef("--partition %d: partitions are numbered from 1", f.partition)
	}
	return imagecustom.OpenRW(image, &imagecustom.WriteOptions{DryRun: f.dryRun, Child: f.out})
}

// dryRunReport is the --json shape of a write command's result.
type writeReport struct {
	DryRun  bool                 `json:"dry_run"`
	Child   string               `json:"child,omitempty"` // --out: the child disk written`
	Changes []imagecustom.Change `json:"changes"`         // byte ranges of the disk changed (or that would be)
	Bytes   int64                `json:"bytes"`           // their total
}

// writeVolume runs fn on the image's volume opened for writing, then
// commits — or, for a dry run, reports what would change.
func (a *app) writeVolume(image string, wf *writeFlags, fn func(v *ntfs.Volume) error) error {
	img, err := wf.openImage(image)
	if err != nil {
		return err
	}
	defer img.Close()
	v, _, err := img.OpenNTFSRW(wf.partition, nil)
	if err != nil {
		return err
	}
	if err := fn(v); err != nil {
		return err
	}
	if err := img.Commit(); err != nil {
		return err
	}
	changes, err := img.Changes()
	if err != nil {
		return err
	}
	rep := writeReport{DryRun: wf.dryRun, Child: wf.out, Changes: changes}
	if rep.Changes == nil {
		rep.Changes = []imagecustom.Change{}
	}
	for _, c := range changes {
		rep.Bytes += c.Length
	}
	if a.json {
		return a.printJSON(rep)
	}
	if wf.dryRun {
		fmt.Fprintf(a.stdout, "dry run: would change %d bytes in %d ranges of %s; nothing written\n", rep.Bytes, len(changes), image)
		for _, c := range changes {
			fmt.Fprintf(a.stdout, "  0x%x +%d\n", c.Offset, c.Length)
		}
	}
	if wf.out != "" && !a.quiet {
		fmt.Fprintf(a.stderr, "wrote %d bytes of changes to %s, a child disk of %s (left untouched)\n", rep.Bytes, wf.out, image)
	}
	return nil
}

func (a *app) putCommand() *cobra.Command {
	var wf writeFlags
	var parents bool
	var securityFrom string
	cmd := &cobra.Command{
		Use:   "put [-p] IMAGE LOCAL PATH",
		Short: "Copy a local file into an image's volume (overwrites an existing file)",
		Long: `Copy LOCAL into the volume as PATH, replacing an existing file's content; when
PATH is a directory the file keeps its name inside it. -p creates missing parent
directories. New files share the security descriptor of a file beside them, or of
--security-from.`,
		Args: exactArgs(3, "IMAGE LOCAL PATH"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			local, err := os.Open(args[1])
			if err != nil {
				return err
			}
			defer local.Close()
			fi, err := local.Stat()
			if err != nil {
				return err
			}
			if fi.IsDir() {
				return fmt.Errorf("%s is a directory; put copies one file", args[1])
			}
			target := volumePath(args[2])
			return a.writeVolume(args[0], &wf, func(v *ntfs.Volume) error {
				if st, err := v.Stat(target); err == nil && st.IsDir() {
					target = path.Join(target, fi.Name())
				}
				if parents {
					if dir := path.Dir(target); dir != "." {
						if err := v.MkdirAll(dir, nil); err != nil {
							return err
						}
					}
				}
				opts := &ntfs.FileOptions{}
				if securityFrom != "" {
					opts.SecurityFrom = volumePath(securityFrom)
				}
				return v.WriteFrom(target, local, fi.Size(), opts)
			})
		}),
	}
	cmd.Flags().BoolVarP(&parents, "parents", "p", false, "create missing parent directories")
	cmd.Flags().StringVar(&securityFrom, "security-from", "", "share the security descriptor of the file at `PATH` in the volume")
	wf.add(cmd)
	return cmd
}

func (a *app) mkdirCommand() *cobra.Command {
	var wf writeFlags
	var parents bool
	cmd := &cobra.Command{
		Use:   "mkdir [-p] IMAGE PATH",
		Short: "Create a directory in an image's volume",
		Args:  exactArgs(2, "IMAGE PATH"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			p := volumePath(args[1])
			return a.writeVolume(args[0], &wf, func(v *ntfs.Volume) error {
				if parents {
					return v.MkdirAll(p, nil)
				}
				return v.Mkdir(p, nil)
			})
		}),
	}
	cmd.Flags().BoolVarP(&parents, "parents", "p", false, "create missing parents; an existing directory is fine")
	wf.add(cmd)
	return cmd
}

func (a *app) mvCommand() *cobra.Command {
	var wf writeFlags
	cmd := &cobra.Command{
		Use:   "mv IMAGE OLD NEW",
		Short: "Rename or move a file or directory within an image's volume",
		Long:  "Rename OLD to NEW, or move it into NEW when NEW is a directory. An existing file NEW is replaced.",
		Args:  exactArgs(3, "IMAGE OLD NEW"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			from, to := volumePath(args[1]), volumePath(args[2])
			return a.writeVolume(args[0], &wf, func(v *ntfs.Volume) error {
				if st, err := v.Stat(to); err == nil && st.IsDir() {
					to = path.Join(to, path.Base(from))
				}
				return v.Rename(from, to, true)
			})
		}),
	}
	wf.add(cmd)
	return cmd
}

func (a *app) rmCommand() *cobra.Command {
	var wf writeFlags
	var recursive bool
	cmd := &cobra.Command{
		Use:   "rm [-r] IMAGE PATH",
		Short: "Delete a file or directory of an image's volume",
		Args:  exactArgs(2, "IMAGE PATH"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			p := volumePath(args[1])
			if p == "." {
				return usagef("rm: refusing to remove the root directory")
			}
			return a.writeVolume(args[0], &wf, func(v *ntfs.Volume) error {
				st, err := v.Stat(p)
				if err != nil {
					return err
				}
				if st.IsDir() && !recursive {
					return fmt.Errorf("%s is a directory: use rm -r", displayPath(p))
				}
				if recursive {
					return v.RemoveAll(p)
				}
				return v.Remove(p)
			})
		}),
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "remove directories and their contents")
	wf.add(cmd)
	return cmd
}

func (a *app) recoverCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "recover IMAGE",
		Short: "Roll back an interrupted write from its undo journal",
		Args:  exactArgs(1, "IMAGE"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			ok, err := imagecustom.Recover(args[0])
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]bool{"recovered": ok})
			}
			if ok {
				fmt.Fprintf(a.stdout, "%s: restored from %s\n", args[0], imagecustom.JournalPath(args[0]))
			} else {
				fmt.Fprintf(a.stdout, "%s: no undo journal, nothing to recover\n", args[0])
			}
			return nil
		}),
	}
}
