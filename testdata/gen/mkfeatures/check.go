package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// tokenOrder sorts a manifest's flags.
var tokenOrder = []string{"mft", "resident", "nonresident", "compressed", "sparse", "attrlist", "extrec",
	"indexalloc", "reparse", "relative", "dir", "secid", "sd", "objid"}

func tokenRank(tok string) int {
	n := tokenName(strings.SplitN(tok, "@", 2)[0])
	for i, x := range tokenOrder {
		if x == n {
			return i
		}
	}
	return len(tokenOrder)
}

func hasToken(flags []string, tok string) bool { return contains(flags, tok) }

// compare checks one volume's observation against manifest entries and
// returns the differences.
func compare(es []entry, obs map[string]*observation, tag string) []string {
	var bad []string
	badf := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	listed := map[string]bool{}
	secids := map[string]string{}    // template → secid token
	templates := map[string]string{} // secid token → template
	for _, e := range es {
		o, found := obs[e.Path]
		if e.Kind == 'x' {
			if found {
				badf("%s: deleted, but listed (%s)", e.Path, o.FLSType)
			}
			continue
		}
		listed[e.Path] = true
		if !found {
			badf("%s: not found", e.Path)
			continue
		}
		want := map[string]bool{}
		for _, t := range tokensFor(e.Flags, tag) {
			if contains(o.Names, tokenName(t)) {
				want[t] = true
			}
		}
		got := map[string]bool{}
		for _, t := range o.Tokens {
			got[t] = true
		}
		if w, g := strings.Join(sorted(want), ","), strings.Join(sorted(got), ","); w != g {
			badf("%s: manifest says %s, %s says %s", e.Path, w, o.Via, g)
		}
		if e.Kind != 's' && o.Links != 0 && o.Links != e.Links {
			badf("%s: %d links, %s says %d", e.Path, e.Links, o.Via, o.Links)
		}
		if e.Kind != 's' && o.Via != "fsntfsinfo" && o.SIFlags&e.Attrs != e.Attrs {
			badf("%s: attributes 0x%x, %s says 0x%x", e.Path, e.Attrs, o.Via, o.SIFlags)
		}
		wantType := "r/r"
		switch {
		case e.Kind == 'd' || e.Kind == 'j' || (e.Kind == 'l' && hasToken(e.Flags, "dir")):
			wantType = "d/d"
		case e.Kind == 's' && o.FLSType == "d/r":
			wantType = "d/r"
		}
		// sleuthkit 4.11 cannot follow $INDEX_ALLOCATION when index
		// blocks are smaller than a cluster (VCNs in 512-byte units, 64
		// KiB clusters): it lists the entries of the first index block,
		// then finds the others by their $FILE_NAME in an MFT scan and
		// types them "-/r" (directory entry type unknown).
		if tag == "c65536" && o.FLSType == "-/"+wantType[2:] {
			o.FLSType = wantType
		}
		if o.FLSType != wantType {
			badf("%s: fls type %s, want %s", e.Path, o.FLSType, wantType)
		}
		if e.Kind == 'l' || e.Kind == 'j' {
			tag := uint32(tagSymlink)
			if e.Kind == 'j' {
				tag = tagMountPoint
			}
			if o.Reparse != tag || o.Target != e.Target || o.Relative != hasToken(e.Flags, "relative") {
				badf("%s: reparse 0x%x %q relative=%v, want 0x%x %q", e.Path, o.Reparse, o.Target, o.Relative, tag, e.Target)
			}
		}
		var sd, secid string
		for _, t := range e.Flags {
			if strings.HasPrefix(t, "sd=") {
				sd = t
			}
		}
		for _, t := range o.Tokens {
			if strings.HasPrefix(t, "secid=") {
				secid = t
			}
		}
		switch {
		case sd == "" && secid != "":
			badf("%s: %s without a security descriptor set", e.Path, secid)
		case sd != "" && secid == "":
			badf("%s: %s but no security_id", e.Path, sd)
		case sd != "":
			if s, ok := secids[sd]; ok && s != secid {
				badf("%s: %s has %s and %s", e.Path, sd, s, secid)
			}
			if t, ok := templates[secid]; ok && t != sd {
				badf("%s: %s shared by %s and %s", e.Path, secid, t, sd)
			}
			secids[sd], templates[secid] = secid, sd
		}
	}
	for p := range obs {
		if !listed[p] {
			badf("%s: on the volume, not in the manifest", p)
		}
	}
	sort.Strings(bad)
	return bad
}

func cmdMerge(args []string) error {
	fs := flag.NewFlagSet("merge", flag.ExitOnError)
	specFile := fs.String("spec", "", "specification written by populate")
	out := fs.String("out", "", "manifest to write")
	fs.Parse(args)
	if *specFile == "" || *out == "" || fs.NArg() != len(volumeTags) {
		return errors.New("merge: -spec, -out and TAG=OBSERVATION for each volume are required")
	}
	specs, err := readSpec(*specFile)
	if err != nil {
		return err
	}
	obs := map[string]map[string]*observation{}
	for _, a := range fs.Args() {
		tag, file, _ := strings.Cut(a, "=")
		if !contains(volumeTags, tag) {
			return fmt.Errorf("merge: unknown volume %q", tag)
		}
		if obs[tag], err = readObservation(file); err != nil {
			return err
		}
	}
	var bad []string
	var es []entry
	for _, s := range specs {
		e := s.entry
		if e.Kind != 'x' {
			vols := map[string][]string{} // token → volumes
			var order []string
			note := func(tok, tag string) {
				if _, ok := vols[tok]; !ok {
					order = append(order, tok)
				}
				if !contains(vols[tok], tag) {
					vols[tok] = append(vols[tok], tag)
				}
			}
			for _, tag := range volumeTags {
				for _, t := range s.Flags {
					note(t, tag)
				}
				o := obs[tag][e.Path]
				if o == nil {
					continue // reported by compare
				}
				for _, t := range o.Tokens {
					note(t, tag)
				}
				for _, w := range tokensFor(s.Want, tag) {
					if !contains(o.Tokens, w) {
						bad = append(bad, fmt.Sprintf("%s: %s: want %s, %s says %s", tag, e.Path, w, o.Via, strings.Join(o.Tokens, ",")))
					}
				}
			}
			e.Flags = nil
			for _, t := range order {
				if len(vols[t]) == len(volumeTags) {
					e.Flags = append(e.Flags, t)
				} else {
					var vs []string
					for _, v := range volumeTags {
						if contains(vols[t], v) {
							vs = append(vs, v)
						}
					}
					e.Flags = append(e.Flags, t+"@"+strings.Join(vs, "+"))
				}
			}
			sort.SliceStable(e.Flags, func(i, j int) bool { return tokenRank(e.Flags[i]) < tokenRank(e.Flags[j]) })
		}
		es = append(es, e)
	}
	for _, tag := range volumeTags {
		for _, b := range compare(es, obs[tag], tag) {
			bad = append(bad, tag+": "+b)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("merge: %d problems:\n%s", len(bad), strings.Join(bad, "\n"))
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	preamble := []string{
		"Content of testdata/ntfs/features-{c512,c4096,c65536}.raw.xz, written by testdata/gen/mkfeatures.sh",
		"through ntfs-3g; format in testdata/README.md. Flags: a token holds on every volume, or only on the",
		"volumes after its @ (joined by +). Times of every entry: created " + timeCreated.Format(time.RFC3339Nano) +
			", modified " + timeModified.Format(time.RFC3339Nano) + ", accessed " + timeAccessed.Format(time.RFC3339Nano) + ".",
	}
	if err := writeManifest(f, preamble, es); err != nil {
		return err
	}
	return f.Close()
}

// ntfslsPaths lists a volume with "ntfsls -R -a", backslash-separated,
// without NTFS's own files and the "." and ".." entries.
func ntfslsPaths(vol string) (map[string]bool, error) {
	out, err := run("ntfsls", "-R", "-a", vol)
	if err != nil {
		return nil, err
	}
	paths := map[string]bool{}
	dir := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
		case strings.HasPrefix(line, "/") && strings.HasSuffix(line, ":"):
			dir = strings.ReplaceAll(strings.Trim(line[:len(line)-1], "/"), "/", `\`)
		case line == "." || line == "..":
		case dir == "" && strings.HasPrefix(line, "$"):
		default:
			p := line
			if dir != "" {
				p = dir + `\` + line
			}
			paths[p] = true
		}
	}
	return paths, sc.Err()
}

func cmdCheck(args []string) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	manifest := fs.String("manifest", "", "features.manifest")
	vol := fs.String("vol", "", "bare NTFS volume")
	tag := fs.String("tag", "", "which volume: c512, c4096 or c65536")
	mnt := fs.String("mnt", "", "where the volume will be mounted, for the sha256sum lines")
	fs.Parse(args)
	if *manifest == "" || *vol == "" || !contains(volumeTags, *tag) || *mnt == "" {
		return errors.New("check: -manifest, -vol, -tag and -mnt are required")
	}
	es, err := readManifest(*manifest)
	if err != nil {
		return err
	}
	obs, err := observe(*vol)
	if err != nil {
		return err
	}
	bad := compare(es, obs, *tag)
	ls, err := ntfslsPaths(*vol)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, e := range es {
		switch e.Kind {
		case 'f', 'd', 'h', 'l', 'j':
			want[e.Path] = true
			if !ls[e.Path] {
				bad = append(bad, fmt.Sprintf("%s: ntfsls does not list it", e.Path))
			}
		}
	}
	for p := range ls {
		if !want[p] {
			bad = append(bad, fmt.Sprintf("%s: ntfsls lists it, the manifest does not", p))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("check %s: %d problems:\n%s", *tag, len(bad), strings.Join(bad, "\n"))
	}
	w := bufio.NewWriter(os.Stdout)
	for _, e := range es {
		if e.SHA256 != "" && (e.Kind == 'f' || e.Kind == 'h' || e.Kind == 's') {
			fmt.Fprintf(w, "%s  %s\n", e.SHA256, filepath.Join(*mnt, strings.ReplaceAll(e.Path, `\`, "/")))
		}
	}
	fmt.Fprintf(os.Stderr, "check %s: %d entries agree with fls, istat, icat, ntfsls (%d read with fsntfsinfo only, %d with ntfsinfo)\n",
		*tag, len(es), count(obs, "fsntfsinfo"), count(obs, "ntfsinfo"))
	return w.Flush()
}

func count(obs map[string]*observation, via string) int {
	n := 0
	for _, o := range obs {
		if o.Via == via {
			n++
		}
	}
	return n
}
