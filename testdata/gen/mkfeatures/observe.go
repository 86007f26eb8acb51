package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// observation is what the third-party readers report for one path of a
// volume (as fls names it; streams "path:name").
type observation struct {
	FLSType string   // "r/r", "d/d", "d/r" (a directory's stream)…
	Record  int      // base MFT record
	Tokens  []string // observed flags, see tokenNames
	Names   []string // the token names that were looked at for this path
	// From istat (zero when not looked at): link count, the attribute bits
	// of $STANDARD_INFORMATION, and a reparse point's tag and print name.
	Links    int
	SIFlags  uint32
	Reparse  uint32
	Target   string
	Relative bool
	Via      string // "istat", "ntfsinfo" or "fsntfsinfo"
}

// Token names that observe can report; the others in a manifest (sd=,
// dir, relative) describe how an entry was made.
var (
	allTokenNames  = []string{"mft", "resident", "nonresident", "compressed", "sparse", "attrlist", "extrec", "indexalloc", "secid", "objid", "reparse"}
	bulkTokenNames = []string{"mft", "resident", "nonresident"}
)

// bulk reports whether path is one of the 5000 small files of bigdir,
// which are read with one fsntfsinfo pass rather than an istat each.
func bulk(path string) bool {
	return strings.HasPrefix(path, `bigdir\`) && !strings.Contains(path[len(`bigdir\`):], `\`)
}

func run(name string, args ...string) ([]byte, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

var flsLine = regexp.MustCompile(`^(\S+/\S+)\s+(\d+)(?:-(\d+)-(\d+))?(?:\(realloc\))?:\t(.*)$`)

type flsEntry struct {
	typ          string
	record       int
	atype, aid   int
	hasAttribute bool
}

// listFLS runs "fls -r -p -u" and returns the volume's paths,
// backslash-separated, without NTFS's own files and without the
// duplicate "dir/.:stream" lines of directory streams.
func listFLS(vol string) (map[string]flsEntry, error) {
	out, err := run("fls", "-r", "-p", "-u", vol)
	if err != nil {
		return nil, err
	}
	m := map[string]flsEntry{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		g := flsLine.FindStringSubmatch(sc.Text())
		if g == nil {
			return nil, fmt.Errorf("fls: unexpected line %q", sc.Text())
		}
		p := strings.ReplaceAll(g[5], "/", `\`)
		if strings.HasPrefix(p, "$") || strings.Contains(p, `\.:`) {
			continue
		}
		if _, dup := m[p]; dup {
			return nil, fmt.Errorf("fls lists %s twice", p)
		}
		e := flsEntry{typ: g[1]}
		e.record, _ = strconv.Atoi(g[2])
		if g[3] != "" {
			e.atype, _ = strconv.Atoi(g[3])
			e.aid, _ = strconv.Atoi(g[4])
			e.hasAttribute = true
		}
		m[p] = e
	}
	return m, sc.Err()
}

// attribute is one attribute of a file record as a reader lists it.
type attribute struct {
	typ       string // "$DATA"
	id        int
	name      string // "" when unnamed
	resident  bool
	flags     string // istat's ", Compressed, Sparse" part
	inListRec int    // record that holds it, from the attribute list
}

// record is what istat (or ntfsinfo) says of one MFT record.
type record struct {
	links    int
	siFlags  uint32
	secID    int
	objID    string
	attrs    []attribute
	hasList  bool
	listRecs []int // records named in $ATTRIBUTE_LIST
	via      string
}

var (
	istatAttr = regexp.MustCompile(`^Type: (\$\S+) \((\d+)-(\d+)\)   Name: (.*?)   (Resident|Non-Resident)((?:, [A-Za-z]+)*)   size: \d+`)
	istatList = regexp.MustCompile(`^Type: (\d+)-(\d+) \tMFT Entry: (\d+) \tVCN: (\d+)`)
	// Attribute bit names as sleuthkit prints them.
	siFlagNames = map[string]uint32{"Read Only": 0x1, "Hidden": 0x2, "System": 0x4, "Archive": 0x20,
		"Device": 0x40, "Normal": 0x80, "Temporary": 0x100, "Sparse": 0x200, "Reparse Point": 0x400,
		"Compressed": 0x800, "Offline": 0x1000, "Not Content Indexed": 0x2000, "Encrypted": 0x4000,
		"Directory": 0x10000000, "Index View": 0x20000000}
)

func istat(vol string, rec int) (*record, error) {
	out, err := run("istat", vol, strconv.Itoa(rec))
	if err != nil {
		return nil, err
	}
	r := &record{via: "istat"}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasSuffix(line, "Attribute Values:"):
			section = strings.TrimSuffix(line, " Attribute Values:")
			if section == "$ATTRIBUTE_LIST" {
				r.hasList = true
			}
		case line == "Attributes: ":
			section = "attributes"
		case strings.HasPrefix(line, "Links: "):
			r.links, _ = strconv.Atoi(strings.TrimPrefix(line, "Links: "))
		case section == "$STANDARD_INFORMATION" && strings.HasPrefix(line, "Flags: "):
			for _, n := range strings.Split(strings.TrimPrefix(line, "Flags: "), ", ") {
				bit, ok := siFlagNames[n]
				if !ok {
					return nil, fmt.Errorf("istat %d: unknown attribute flag %q", rec, n)
				}
				r.siFlags |= bit
			}
		case section == "$STANDARD_INFORMATION" && strings.HasPrefix(line, "Security ID: "):
			f := strings.Fields(strings.TrimPrefix(line, "Security ID: "))
			r.secID, _ = strconv.Atoi(f[0])
		case section == "$OBJECT_ID" && strings.HasPrefix(line, "Object Id: "):
			r.objID, err = guidBytes(strings.TrimPrefix(line, "Object Id: "))
			if err != nil {
				return nil, fmt.Errorf("istat %d: %v", rec, err)
			}
		case section == "$ATTRIBUTE_LIST" && istatList.MatchString(line):
			g := istatList.FindStringSubmatch(line)
			n, _ := strconv.Atoi(g[3])
			r.listRecs = append(r.listRecs, n)
		case section == "attributes" && strings.HasPrefix(line, "Type: "):
			g := istatAttr.FindStringSubmatch(line)
			if g == nil {
				return nil, fmt.Errorf("istat %d: unexpected attribute line %q", rec, line)
			}
			a := attribute{typ: g[1], name: g[4], resident: g[5] == "Resident", flags: g[6]}
			a.id, _ = strconv.Atoi(g[3])
			if a.name == "N/A" {
				a.name = ""
			}
			r.attrs = append(r.attrs, a)
		}
	}
	if r.links == 0 {
		return nil, fmt.Errorf("istat %d: no link count in %q", rec, out)
	}
	return r, nil
}

// guidBytes turns sleuthkit's GUID form of an object ID back into its
// 16 bytes on disk, in hex.
func guidBytes(s string) (string, error) {
	p := strings.Split(s, "-")
	if len(p) != 5 {
		return "", fmt.Errorf("object id %q", s)
	}
	raw, err := hex.DecodeString(strings.Join(p, ""))
	if err != nil || len(raw) != 16 {
		return "", fmt.Errorf("object id %q", s)
	}
	swap := func(b []byte) {
		for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
			b[i], b[j] = b[j], b[i]
		}
	}
	swap(raw[0:4])
	swap(raw[4:6])
	swap(raw[6:8])
	return hex.EncodeToString(raw), nil
}

// ntfsinfoRecord reads a record with ntfsinfo -v, for the one file
// sleuthkit cannot load: a sparse run longer than the volume ("Run
// length is larger than file system"). Unnamed attributes only.
func ntfsinfoRecord(vol string, rec int) (*record, error) {
	out, err := run("ntfsinfo", "-v", "-i", strconv.Itoa(rec), vol)
	if err != nil {
		return nil, err
	}
	r := &record{via: "ntfsinfo"}
	var cur *attribute
	num := func(line string) int64 {
		f := strings.Fields(line[strings.IndexByte(line, ':')+1:])
		v, _ := strconv.ParseInt(f[0], 0, 64)
		return v
	}
	dump := regexp.MustCompile(`^Dumping attribute (\$\S+) \(0x[0-9a-f]+\) from mft record (\d+)`)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "Number of Hard Links:"):
			r.links = int(num(line))
		case dump.MatchString(line):
			g := dump.FindStringSubmatch(line)
			r.attrs = append(r.attrs, attribute{typ: g[1]})
			cur = &r.attrs[len(r.attrs)-1]
			cur.inListRec, _ = strconv.Atoi(g[2])
			if g[1] == "$ATTRIBUTE_LIST" {
				r.hasList = true
			}
		case cur == nil:
		case strings.HasPrefix(line, "Resident:"):
			cur.resident = strings.HasSuffix(line, "Yes")
		case strings.HasPrefix(line, "Name length:") && num(line) != 0:
			cur.name = "?" // named: not needed for the one file read this way
		case strings.HasPrefix(line, "Attribute flags:"):
			v := num(line)
			if v&0x1 != 0 {
				cur.flags += ", Compressed"
			}
			if v&0x8000 != 0 {
				cur.flags += ", Sparse"
			}
		case strings.HasPrefix(line, "File attributes:") && cur.typ == "$STANDARD_INFORMATION":
			i := strings.LastIndex(line, "(0x")
			v, _ := strconv.ParseUint(strings.Trim(line[i+1:], "()"), 0, 32)
			r.siFlags = uint32(v)
		case strings.HasPrefix(line, "Security ID:") && cur.typ == "$STANDARD_INFORMATION":
			r.secID = int(num(line))
		}
	}
	for _, a := range r.attrs {
		if a.inListRec != rec {
			r.listRecs = append(r.listRecs, a.inListRec)
		}
	}
	return r, nil
}

// fsntfsResidency reads every record with one "fsntfsinfo -E all" pass:
// record → whether its unnamed $DATA is resident (libfsntfs prints a
// "Data VCN" line for non-resident data only).
func fsntfsResidency(vol string) (map[int]bool, error) {
	out, err := run("fsntfsinfo", "-E", "all", vol)
	if err != nil {
		return nil, err
	}
	res := map[int]bool{}
	rec, inData, named := -1, false, false
	flush := func() {
		if rec >= 0 && inData && !named {
			if _, seen := res[rec]; !seen {
				res[rec] = true
			}
		}
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "MFT entry: "):
			flush()
			rec, _ = strconv.Atoi(strings.Fields(line)[2])
			inData, named = false, false
		case strings.HasPrefix(line, "Attribute: "):
			flush()
			inData, named = false, false
		case strings.HasPrefix(line, "Type") && strings.Contains(line, "$DATA"):
			inData = true
		case inData && strings.HasPrefix(line, "Name"):
			named = true
		case inData && !named && strings.HasPrefix(line, "Data VCN"):
			res[rec] = false
		}
	}
	flush()
	return res, sc.Err()
}

// observe reads a volume and returns what it finds per path.
func observe(vol string) (map[string]*observation, error) {
	paths, err := listFLS(vol)
	if err != nil {
		return nil, err
	}
	recs := map[int]bool{}
	for p, e := range paths {
		if !bulk(p) {
			recs[e.record] = true
		}
	}
	records := map[int]*record{}
	var mu sync.Mutex
	var firstErr error
	work := make(chan int)
	var wg sync.WaitGroup
	// Two at a time: more parallel sleuthkit processes are much slower
	// here (I/O contention on the volume file), not faster.
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range work {
				r, err := istat(vol, n)
				if err != nil && strings.Contains(err.Error(), "Run length is larger than file system") {
					r, err = ntfsinfoRecord(vol, n)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				records[n] = r
				mu.Unlock()
			}
		}()
	}
	for n := range recs {
		work <- n
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	resident, err := fsntfsResidency(vol)
	if err != nil {
		return nil, err
	}

	obs := map[string]*observation{}
	for p, e := range paths {
		o := &observation{FLSType: e.typ, Record: e.record}
		obs[p] = o
		_, stream, isStream := strings.Cut(p, ":")
		if !isStream {
			o.Tokens = append(o.Tokens, fmt.Sprintf("mft=%d", e.record))
		}
		if bulk(p) {
			o.Via, o.Names = "fsntfsinfo", bulkTokenNames
			if r, ok := resident[e.record]; ok {
				o.Tokens = append(o.Tokens, residency(r))
			}
			continue
		}
		r := records[e.record]
		o.Via, o.Names = r.via, allTokenNames
		o.Links, o.SIFlags = r.links, r.siFlags
		for _, a := range r.attrs {
			if a.typ == "$DATA" && a.name == stream {
				o.Tokens = append(o.Tokens, residency(a.resident))
				if strings.Contains(a.flags, "Compressed") {
					o.Tokens = append(o.Tokens, "compressed")
				}
				if strings.Contains(a.flags, "Sparse") {
					o.Tokens = append(o.Tokens, "sparse")
				}
				break
			}
		}
		if isStream {
			continue
		}
		if r.hasList {
			o.Tokens = append(o.Tokens, "attrlist")
			ext := map[int]bool{}
			for _, n := range r.listRecs {
				if n != e.record {
					ext[n] = true
				}
			}
			o.Tokens = append(o.Tokens, "extrec="+recordList(ext))
		}
		for _, a := range r.attrs {
			switch a.typ {
			case "$INDEX_ALLOCATION":
				o.Tokens = append(o.Tokens, "indexalloc")
			case "$REPARSE_POINT":
				buf, err := run("icat", vol, fmt.Sprintf("%d-192-%d", e.record, a.id))
				if err != nil {
					return nil, err
				}
				tag, target, rel, err := parseReparse(buf)
				if err != nil {
					return nil, fmt.Errorf("%s: %v", p, err)
				}
				o.Reparse, o.Target, o.Relative = tag, target, rel
				o.Tokens = append(o.Tokens, fmt.Sprintf("reparse=0x%08x", tag))
			}
		}
		if r.secID != 0 {
			o.Tokens = append(o.Tokens, fmt.Sprintf("secid=%d", r.secID))
		}
		if r.objID != "" {
			o.Tokens = append(o.Tokens, "objid="+r.objID)
		}
	}
	return obs, nil
}

// recordList writes record numbers in ascending order, joined by "/",
// with runs of consecutive numbers as "first-last".
func recordList(set map[int]bool) string {
	var ns []int
	for n := range set {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	var parts []string
	for i := 0; i < len(ns); {
		j := i
		for j+1 < len(ns) && ns[j+1] == ns[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", ns[i], ns[j]))
		} else {
			parts = append(parts, strconv.Itoa(ns[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, "/")
}

func residency(resident bool) string {
	if resident {
		return "resident"
	}
	return "nonresident"
}

func cmdObserve(args []string) error {
	fs := flag.NewFlagSet("observe", flag.ExitOnError)
	vol := fs.String("vol", "", "bare NTFS volume")
	out := fs.String("out", "", "observation file to write (JSON)")
	fs.Parse(args)
	if *vol == "" || *out == "" {
		return errors.New("observe: -vol and -out are required")
	}
	obs, err := observe(*vol)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(obs, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(*out, data, 0o644)
}

func readObservation(name string) (map[string]*observation, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var obs map[string]*observation
	return obs, json.Unmarshal(data, &obs)
}
