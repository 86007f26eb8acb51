// Command mkfeatures fills and checks the NTFS feature volumes under
// testdata/ntfs (see testdata/gen/mkfeatures.sh and verify-features.sh).
//
//	mkfeatures populate -mnt DIR -spec FILE
//	    writes the tree through an ntfs-3g mount (streams_interface=windows)
//	    and the specification of what it wrote.
//	mkfeatures observe -vol VOL -tag TAG -out FILE
//	    reads a volume with sleuthkit (fls, istat, icat, tsk_loaddb) and
//	    writes what it found per manifest path.
//	mkfeatures merge -spec FILE -out MANIFEST TAG=OBS...
//	    checks each volume's observations against the specification's
//	    expectations and writes the manifest.
//	mkfeatures check -manifest FILE -vol VOL -tag TAG -mnt DIR
//	    compares a volume with the manifest: fls, ntfsls, istat/icat, and
//	    writes sha256sum lines (mount paths) for the FUSE check to stdout.
package main

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Volume tags, in manifest order.
var volumeTags = []string{"c512", "c4096", "c65536"}

// entry is one line of the manifest.
type entry struct {
	Kind   byte   // f file, d directory, s named stream, h extra hard link, l symlink, j junction, x deleted
	Path   string // backslash-separated; streams "path:name"
	Size   int64
	SHA256 string // "" for none
	Links  int    // $FILE_NAME count of the record (0 for streams, deleted)
	Attrs  uint32 // attribute bits set explicitly
	Target string // reparse target, or the first name of a hard link
	Flags  []string
}

// spec is what populate wrote, with expectations for merge.
type spec struct {
	entry
	// Want lists tokens that must be observed, "tok" (every volume) or
	// "tok@c512+c4096" (those volumes only).
	Want []string
}

const header = "# kind\tpath\tsize\tsha256\tlinks\tattributes\ttarget\tflags"

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func undash(s string) string {
	if s == "-" {
		return ""
	}
	return s
}

func (e *entry) line() string {
	flags := "-"
	if len(e.Flags) > 0 {
		flags = strings.Join(e.Flags, ",")
	}
	return fmt.Sprintf("%c\t%s\t%d\t%s\t%d\t0x%08x\t%s\t%s", e.Kind, e.Path, e.Size, dash(e.SHA256),
		e.Links, e.Attrs, dash(e.Target), flags)
}

func parseLine(line string) (entry, error) {
	f := strings.Split(line, "\t")
	if len(f) != 8 || len(f[0]) != 1 {
		return entry{}, fmt.Errorf("want 8 tab-separated fields, got %d", len(f))
	}
	size, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return entry{}, err
	}
	links, err := strconv.Atoi(f[4])
	if err != nil {
		return entry{}, err
	}
	attrs, err := strconv.ParseUint(f[5], 0, 32)
	if err != nil {
		return entry{}, err
	}
	e := entry{Kind: f[0][0], Path: f[1], Size: size, SHA256: undash(f[3]), Links: links,
		Attrs: uint32(attrs), Target: undash(f[6])}
	if f[7] != "-" {
		e.Flags = strings.Split(f[7], ",")
	}
	return e, nil
}

func readManifest(name string) ([]entry, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var es []entry
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		if sc.Text() == "" || strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		e, err := parseLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, n, err)
		}
		es = append(es, e)
	}
	return es, sc.Err()
}

func writeManifest(w io.Writer, preamble []string, es []entry) error {
	bw := bufio.NewWriter(w)
	for _, p := range preamble {
		fmt.Fprintln(bw, "# "+p)
	}
	fmt.Fprintln(bw, header)
	for i := range es {
		fmt.Fprintln(bw, es[i].line())
	}
	return bw.Flush()
}

// tokensFor returns the flags of e that hold on volume tag, without the
// qualifier.
func tokensFor(flags []string, tag string) []string {
	var out []string
	for _, f := range flags {
		tok, vols, qualified := strings.Cut(f, "@")
		if qualified && !contains(strings.Split(vols, "+"), tag) {
			continue
		}
		out = append(out, tok)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// tokenName is the part of a token before "=".
func tokenName(tok string) string {
	n, _, _ := strings.Cut(tok, "=")
	return n
}

func sorted(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("mkfeatures: ")
	if len(os.Args) < 2 {
		log.Fatal("usage: mkfeatures populate|observe|merge|check ...")
	}
	var err error
	switch os.Args[1] {
	case "populate":
		err = cmdPopulate(os.Args[2:])
	case "observe":
		err = cmdObserve(os.Args[2:])
	case "merge":
		err = cmdMerge(os.Args[2:])
	case "check":
		err = cmdCheck(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		log.Fatal(err)
	}
}
