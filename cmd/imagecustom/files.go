package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/spf13/cobra"
)

// entryJSON is the --json shape of a file in ls and stat.
type entryJSON struct {
	Name       string       `json:"name"`
	Type       string       `json:"type"` // file, dir, symlink (junctions too)
	Size       int64        `json:"size"`
	Modified   time.Time    `json:"modified"`
	Attributes uint32       `json:"attributes"` // Windows attribute bits
	ShortName  string       `json:"short_name,omitempty"`
	Record     uint64       `json:"record"` // MFT record number
	Target     string       `json:"target,omitempty"`
	Stat       *statDetails `json:"stat,omitempty"` // stat only
}

// statDetails is what stat adds to an entry in --json.
type statDetails struct {
	Sequence   uint16       `json:"sequence"`
	Links      int          `json:"links"`
	SecurityID uint32       `json:"security_id"`
	Created    time.Time    `json:"created"`
	Changed    time.Time    `json:"changed"`
	Accessed   time.Time    `json:"accessed"`
	Names      []nameJSON   `json:"names"`
	Streams    []streamJSON `json:"streams"`
	ReparseTag uint32       `json:"reparse_tag,omitempty"`
	System     *systemJSON  `json:"system_compression,omitempty"`
}

// systemJSON is a file the Windows Overlay Filter serves (ntfs.SystemCompression).
type systemJSON struct {
	Provider       string `json:"provider"`            // "file" (Compact OS) or "wim" (WIMBoot), else the number
	Algorithm      string `json:"algorithm,omitempty"` // XPRESS4K, XPRESS8K, XPRESS16K, LZX
	CompressedSize int64  `json:"compressed_size"`     // WofCompressedData bytes, -1 if none
	Readable       bool   `json:"readable"`            // false: reads fail with ErrUnsupported
}

type nameJSON struct {
	Parent    uint64 `json:"parent"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"` // posix, win32, dos, win32+dos
}

type streamJSON struct {
	Name        string     `json:"name"`
	Size        int64      `json:"size"`
	Allocated   int64      `json:"allocated"`
	Initialized int64      `json:"initialized"`
	Resident    bool       `json:"resident"`
	Sparse      bool       `json:"sparse,omitempty"`
	Compressed  bool       `json:"compressed,omitempty"`
	Encrypted   bool       `json:"encrypted,omitempty"`
	Runs        [][3]int64 `json:"runs,omitempty"` // [vcn, lcn (-1 sparse), clusters]
}

var namespaces = [...]string{"posix", "win32", "dos", "win32+dos"}

func fileType(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m.IsDir():
		return "dir"
	}
	return "file"
}

func newEntry(fi fs.FileInfo) entryJSON {
	st := fi.Sys().(*ntfs.FileStat)
	e := entryJSON{Name: fi.Name(), Type: fileType(fi.Mode()), Size: fi.Size(), Modified: fi.ModTime(),
		Attributes: st.Attributes, ShortName: st.ShortName, Record: st.Record}
	if st.Reparse != nil {
		e.Target = st.Reparse.Target
	}
	return e
}

func (a *app) lsCommand() *cobra.Command {
	var vf volumeFlags
	var long bool
	cmd := &cobra.Command{
		Use:   "ls [-l] IMAGE PATH",
		Short: "List a directory of an image's volume",
		Args:  exactArgs(2, "IMAGE PATH"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			img, v, err := vf.openVolume(args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			p := volumePath(args[1])
			fi, err := v.Stat(p)
			if err != nil {
				return err
			}
			var infos []fs.FileInfo
			if fi.IsDir() {
				entries, err := v.ReadDir(p)
				if err != nil {
					return err
				}
				for _, e := range entries {
					info, err := e.Info()
					if err != nil {
						return fmt.Errorf("%s: %w", displayPath(p+"/"+e.Name()), err)
					}
					infos = append(infos, info)
				}
			} else {
				infos = []fs.FileInfo{fi}
			}
			if a.json {
				out := []entryJSON{}
				for _, info := range infos {
					out = append(out, newEntry(info))
				}
				return a.printJSON(out)
			}
			if !long {
				for _, info := range infos {
					fmt.Fprintln(a.stdout, info.Name())
				}
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 1, ' ', tabwriter.AlignRight)
			for _, info := range infos {
				st := info.Sys().(*ntfs.FileStat)
				name := info.Name()
				if st.Reparse != nil && st.Reparse.Target != "" {
					name += " -> " + st.Reparse.Target
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t %s\n", info.Mode(), attrLetters(st.Attributes), info.Size(),
					info.ModTime().Format("2006-01-02 15:04"), name)
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVarP(&long, "long", "l", false, "long format: mode, attributes, size, time, name")
	vf.add(cmd)
	return cmd
}

// attrLetters shows the common Windows attributes as attrib does.
func attrLetters(a uint32) string {
	b := []byte("-----")
	for i, f := range []struct {
		bit uint32
		c   byte
	}{{0x20, 'A'}, {0x4, 'S'}, {0x2, 'H'}, {0x1, 'R'}, {0x800, 'C'}} {
		if a&f.bit != 0 {
			b[i] = f.c
		}
	}
	return string(b)
}

func (a *app) statCommand() *cobra.Command {
	var vf volumeFlags
	cmd := &cobra.Command{
		Use:   "stat IMAGE PATH",
		Short: "Show a file's MFT record: size, attributes, times, names, streams and runs",
		Args:  exactArgs(2, "IMAGE PATH"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			img, v, err := vf.openVolume(args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			p := volumePath(args[1])
			fi, err := v.Stat(p)
			if err != nil {
				return err
			}
			st := fi.Sys().(*ntfs.FileStat)
			e := newEntry(fi)
			d := &statDetails{Sequence: st.Sequence, Links: st.Links, SecurityID: st.SecurityID,
				Created: st.Created, Changed: st.Changed, Accessed: st.Accessed}
			for _, n := range st.Names {
				d.Names = append(d.Names, nameJSON{Parent: n.Parent, Name: n.Name, Namespace: namespaces[n.Namespace&3]})
			}
			for _, s := range st.Streams {
				sj := streamJSON{Name: s.Name, Size: s.Size, Allocated: s.Allocated, Initialized: s.Initialized,
					Resident: s.Resident, Sparse: s.Sparse, Compressed: s.Compressed, Encrypted: s.Encrypted}
				for _, r := range s.Runs {
					sj.Runs = append(sj.Runs, [3]int64{r.VCN, r.LCN, r.Length})
				}
				d.Streams = append(d.Streams, sj)
			}
			if st.Reparse != nil {
				d.ReparseTag = st.Reparse.Tag
			}
			if sc := st.System; sc != nil {
				d.System = &systemJSON{Provider: fmt.Sprint(sc.Provider), CompressedSize: sc.CompressedSize, Readable: sc.Supported}
				switch sc.Provider {
				case 1:
					d.System.Provider = "wim"
				case 2:
					d.System.Provider, d.System.Algorithm = "file", sc.Algorithm.String()
				}
			}
			e.Stat = d
			if a.json {
				return a.printJSON(e)
			}
			w := a.stdout
			fmt.Fprintf(w, "Path:        %s\n", displayPath(p))
			fmt.Fprintf(w, "Type:        %s\n", e.Type)
			fmt.Fprintf(w, "Record:      %d (sequence %d)\n", e.Record, d.Sequence)
			fmt.Fprintf(w, "Size:        %d\n", e.Size)
			fmt.Fprintf(w, "Attributes:  %s (0x%x)\n", attrLetters(e.Attributes), e.Attributes)
			fmt.Fprintf(w, "Links:       %d\n", d.Links)
			fmt.Fprintf(w, "Security ID: %d\n", d.SecurityID)
			for _, t := range []struct {
				name string
				t    time.Time
			}{{"Created", d.Created}, {"Modified", e.Modified}, {"Changed", d.Changed}, {"Accessed", d.Accessed}} {
				fmt.Fprintf(w, "%-12s %s\n", t.name+":", t.t.Format(time.RFC3339Nano))
			}
			for _, n := range d.Names {
				fmt.Fprintf(w, "Name:        %s (%s, in record %d)\n", n.Name, n.Namespace, n.Parent)
			}
			if e.ShortName != "" {
				fmt.Fprintf(w, "Short name:  %s\n", e.ShortName)
			}
			if st.Reparse != nil {
				fmt.Fprintf(w, "Reparse:     tag 0x%08x", st.Reparse.Tag)
				if st.Reparse.Target != "" {
					fmt.Fprintf(w, " -> %s", st.Reparse.Target)
				}
				fmt.Fprintln(w)
			}
			if sc := d.System; sc != nil {
				fmt.Fprintf(w, "System:      compressed by WOF, provider %s %s, %d bytes stored", sc.Provider, sc.Algorithm, sc.CompressedSize)
				if !sc.Readable {
					fmt.Fprint(w, " (not readable here)")
				}
				fmt.Fprintln(w)
			}
			for _, s := range d.Streams {
				name := s.Name
				if name == "" {
					name = "(unnamed)"
				}
				var flags []string
				for _, f := range []struct {
					on   bool
					name string
				}{{s.Resident, "resident"}, {s.Sparse, "sparse"}, {s.Compressed, "compressed"}, {s.Encrypted, "encrypted"}} {
					if f.on {
						flags = append(flags, f.name)
					}
				}
				fmt.Fprintf(w, "Stream:      %s: %d bytes, %d allocated, %d initialized", name, s.Size, s.Allocated, s.Initialized)
				if len(flags) > 0 {
					fmt.Fprintf(w, ", %s", strings.Join(flags, ", "))
				}
				fmt.Fprintln(w)
				for _, r := range s.Runs {
					if r[1] < 0 {
						fmt.Fprintf(w, "  VCN %d: %d clusters sparse\n", r[0], r[2])
					} else {
						fmt.Fprintf(w, "  VCN %d: %d clusters at LCN %d\n", r[0], r[2], r[1])
					}
				}
			}
			return nil
		}),
	}
	vf.add(cmd)
	return cmd
}

func (a *app) catCommand() *cobra.Command {
	var vf volumeFlags
	cmd := &cobra.Command{
		Use:   "cat IMAGE PATH",
		Short: "Write a file of an image's volume to standard output",
		Long:  "Write a file of an image's volume to standard output. PATH may name an alternate data stream as FILE:STREAM.",
		Args:  exactArgs(2, "IMAGE PATH"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			img, v, err := vf.openVolume(args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			f, err := v.Open(volumePath(args[1]))
			if err != nil {
				return err
			}
			defer f.Close()
			if fi, _ := f.Stat(); fi.IsDir() {
				return fmt.Errorf("%s: is a directory", displayPath(volumePath(args[1])))
			}
			_, err = io.Copy(a.stdout, readerOnly{f})
			return err
		}),
	}
	vf.add(cmd)
	return cmd
}

// readerOnly hides every method but Read, so io.Copy uses one large buffer
// loop instead of probing for WriterTo/ReaderFrom.
type readerOnly struct{ io.Reader }

func (a *app) getCommand() *cobra.Command {
	var vf volumeFlags
	cmd := &cobra.Command{
		Use:   "get IMAGE PATH LOCAL",
		Short: "Copy a file out of an image's volume",
		Long: `Copy a file out of an image's volume to LOCAL (replaced if it exists; written
to a temporary file beside it first, so an interrupted copy never leaves half a
file). The local file gets the file's modification time.`,
		Args: exactArgs(3, "IMAGE PATH LOCAL"),
		RunE: runE(func(_ *cobra.Command, args []string) error {
			img, v, err := vf.openVolume(args[0])
			if err != nil {
				return err
			}
			defer img.Close()
			f, err := v.Open(volumePath(args[1]))
			if err != nil {
				return err
			}
			defer f.Close()
			fi, _ := f.Stat()
			if fi.IsDir() {
				return fmt.Errorf("%s: is a directory", displayPath(volumePath(args[1])))
			}
			local := args[2]
			if st, err := os.Stat(local); err == nil && st.IsDir() {
				local = filepath.Join(local, fi.Name())
			}
			tmp, err := os.CreateTemp(filepath.Dir(local), "."+filepath.Base(local)+".tmp*")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name()) // no-op after the rename
			n, err := io.Copy(tmp, readerOnly{f})
			if err == nil {
				err = tmp.Sync()
			}
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if err := os.Chtimes(tmp.Name(), fi.ModTime(), fi.ModTime()); err != nil {
				return err
			}
			if err := os.Rename(tmp.Name(), local); err != nil {
				return err
			}
			if !a.quiet && !a.json {
				fmt.Fprintf(a.stderr, "%s: %d bytes\n", local, n)
			}
			if a.json {
				return a.printJSON(map[string]any{"path": local, "bytes": n})
			}
			return nil
		}),
	}
	vf.add(cmd)
	return cmd
}
