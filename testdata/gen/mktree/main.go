// Command mktree builds the staging folder of a fixture's Windows system
// volume: a realistic tree of folders and files (synthetic content, never a
// Microsoft file), with the registry hives and PE stand-ins made by the
// other generators copied into place.
//
// Usage:
//
//	go run ./testdata/gen/mktree -os winxp|win10 -hives DIR -pe DIR -out DIR -manifest FILE -fixups FILE
//
// The staging folder is turned into an NTFS volume by wimcapture and
// wimapply (see testdata/gen/mkdisks.sh). What wimlib cannot express from a
// Linux folder — DOS 8.3 aliases, Windows attribute bits, junctions and
// Windows symbolic links — is written to the fixups file, one tab-separated
// line each, applied afterwards through an ntfs-3g mount with setfattr:
//
//	dosname  PATH  SHORTNAME       (system.ntfs_dos_name)
//	attrib   PATH  0xAAAAAAAA      (system.ntfs_attrib_be)
//	reparse  PATH  BASE64          (system.ntfs_reparse_data)
//	acl      PATH  BASE64          (system.ntfs_acl; PATH "." is the root)
//
// The manifest lists every entry of the volume the tests can expect, sorted
// by path, tab-separated: kind (d directory, f file, j junction, l symbolic
// link), path (backslashes, from the volume root), size, SHA-256 of the
// content, DOS name or "-", attribute bits, for a link its target or "-",
// and the name of its security descriptor (the root folder's is "root").
//
// Security descriptors (system.ntfs_acl fixups, a handful of templates in
// security.go) go in through the mount too, so ntfs-3g stores them once each
// in $Secure and files share security_ids as on a real install; wimlib from
// a Linux folder could only give each file a private $SECURITY_DESCRIPTOR.
//
// Output is deterministic: names, sizes and contents come from a seeded
// generator and every timestamp is fixed.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"hash/fnv"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf16"
)

// Windows file attribute bits.
const (
	attrReadOnly  = 0x1
	attrHidden    = 0x2
	attrSystem    = 0x4
	attrDirectory = 0x10
	attrArchive   = 0x20
	attrReparse   = 0x400
	attrNotIndex  = 0x2000
)

// entry is one file, folder or link of the tree.
type entry struct {
	path    string // backslash-separated, from the volume root
	kind    byte   // 'd', 'f', 'j' (junction), 'l' (symbolic link)
	data    []byte // file content
	attrs   uint32 // Windows attributes to set beyond what wimapply gives, 0 for none
	reparse []byte // reparse data for 'j' and 'l'
	dosname string // generated 8.3 alias, "" when the name is 8.3-valid
	target  string // absolute Windows path a junction or link points to
	sd      string // name of its security descriptor template
}

type tree struct {
	entries   map[string]*entry // by upper-cased path
	rng       *rand.Rand
	templates map[string][]byte   // security descriptors by name
	pick      func(*entry) string // template name of an entry
}

func newTree(seed uint64) *tree {
	return &tree{entries: map[string]*entry{}, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (t *tree) add(e *entry) *entry {
	key := strings.ToUpper(e.path)
	if old, ok := t.entries[key]; ok {
		if old.kind == 'd' && e.kind == 'd' {
			return old
		}
		log.Fatalf("duplicate path %s", e.path)
	}
	if i := strings.LastIndexByte(e.path, '\\'); i > 0 {
		t.dir(e.path[:i])
	}
	t.entries[key] = e
	return e
}

// dir adds a folder and its parents.
func (t *tree) dir(path string) *entry { return t.add(&entry{path: path, kind: 'd'}) }

// file adds a file with the given content.
func (t *tree) file(path string, data []byte) *entry {
	return t.add(&entry{path: path, kind: 'f', data: data})
}

// text adds a text file with CRLF line ends.
func (t *tree) text(path string, lines ...string) *entry {
	return t.file(path, []byte(strings.Join(lines, "\r\n")+"\r\n"))
}

// synth adds a file of n bytes of synthetic content.
func (t *tree) synth(path string, n int) *entry { return t.file(path, synthetic(path, n)) }

// some adds a file of a plausible random size for its kind.
func (t *tree) some(path string) *entry { return t.synth(path, t.size()) }

// size draws a file size: a third small enough to be resident in the MFT
// record, most of a few KiB, a few up to a quarter MiB.
func (t *tree) size() int {
	switch p := t.rng.IntN(100); {
	case p < 3:
		return 0
	case p < 30:
		return 1 + t.rng.IntN(700)
	case p < 80:
		return 1024 + t.rng.IntN(15*1024)
	case p < 97:
		return 16*1024 + t.rng.IntN(48*1024)
	default:
		return 64*1024 + t.rng.IntN(192*1024)
	}
}

// copyFile adds a file with the content of a host file.
func (t *tree) copyFile(path, host string) *entry {
	b, err := os.ReadFile(host)
	if err != nil {
		log.Fatal(err)
	}
	return t.file(path, b)
}

// link adds a junction (kind 'j', a folder) or a symbolic link to a folder
// (kind 'l') pointing at the absolute Windows path target.
func (t *tree) link(path string, kind byte, target string) *entry {
	return t.add(&entry{path: path, kind: kind, reparse: reparseData(kind, target), target: target,
		attrs: attrHidden | attrSystem | attrDirectory | attrReparse | attrNotIndex})
}

// synthetic returns n bytes of content unique to path and to every offset
// in it, so that a reader that mixes up blocks or files is caught, yet
// highly compressible.
func synthetic(path string, n int) []byte {
	var b strings.Builder
	b.Grow(n + 64)
	for off := 0; b.Len() < n; {
		line := fmt.Sprintf("%s @%08x go-imagecustom fixture data\r\n", path, off)
		b.WriteString(line)
		off += len(line)
	}
	return []byte(b.String()[:n])
}

// reparseData builds the reparse point buffer of a junction
// (IO_REPARSE_TAG_MOUNT_POINT) or an absolute symbolic link
// (IO_REPARSE_TAG_SYMLINK) to target, as Windows stores it.
func reparseData(kind byte, target string) []byte {
	subst := utf16le(`\??\` + target)
	print := utf16le(target)
	var body []byte
	tag := uint32(0xA0000003)
	if kind == 'l' {
		tag = 0xA000000C
	}
	body = binary.LittleEndian.AppendUint16(body, 0)
	body = binary.LittleEndian.AppendUint16(body, uint16(len(subst)))
	body = binary.LittleEndian.AppendUint16(body, uint16(len(subst)+2))
	body = binary.LittleEndian.AppendUint16(body, uint16(len(print)))
	if kind == 'l' {
		body = binary.LittleEndian.AppendUint32(body, 0) // Flags: 0, an absolute target
	}
	body = append(body, subst...)
	body = append(body, 0, 0)
	body = append(body, print...)
	body = append(body, 0, 0)
	out := binary.LittleEndian.AppendUint32(nil, tag)
	out = binary.LittleEndian.AppendUint16(out, uint16(len(body)))
	out = binary.LittleEndian.AppendUint16(out, 0)
	return append(out, body...)
}

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

func main() {
	osName := flag.String("os", "", "winxp or win10")
	hives := flag.String("hives", "", "folder with the built hives of this OS")
	peDir := flag.String("pe", "", "folder with the PE stand-ins (testdata/pe)")
	out := flag.String("out", "", "staging folder to create (must not exist)")
	manifest := flag.String("manifest", "", "manifest file to write")
	fixups := flag.String("fixups", "", "fixups file to write")
	flag.Parse()
	if *hives == "" || *peDir == "" || *out == "" || *manifest == "" || *fixups == "" {
		flag.Usage()
		os.Exit(2)
	}
	var t *tree
	var stamp time.Time
	switch *osName {
	case "winxp":
		t = newTree(0x5850)
		buildXP(t, *hives, *peDir)
		stamp = time.Date(2008, 4, 14, 12, 0, 0, 0, time.UTC)
	case "win10":
		t = newTree(0x1010)
		buildWin10(t, *hives, *peDir)
		stamp = time.Date(2023, 5, 9, 18, 30, 0, 0, time.UTC)
	default:
		log.Fatalf("unknown -os %q", *osName)
	}
	t.assignDOSNames()
	t.templates, t.pick = securityTemplates(*osName)
	for _, e := range t.entries {
		e.sd = t.pick(e)
	}
	if err := t.write(*out, stamp); err != nil {
		log.Fatal(err)
	}
	if err := t.writeManifest(*manifest); err != nil {
		log.Fatal(err)
	}
	if err := t.writeFixups(*fixups); err != nil {
		log.Fatal(err)
	}
}

// sorted returns the entries sorted by path, parents before children.
func (t *tree) sorted() []*entry {
	es := make([]*entry, 0, len(t.entries))
	for _, e := range t.entries {
		es = append(es, e)
	}
	sort.Slice(es, func(i, j int) bool { return es[i].path < es[j].path })
	return es
}

func (t *tree) write(root string, stamp time.Time) error {
	if err := os.Mkdir(root, 0o755); err != nil {
		return err
	}
	es := t.sorted()
	for _, e := range es {
		p := filepath.Join(root, filepath.FromSlash(strings.ReplaceAll(e.path, `\`, "/")))
		switch e.kind {
		case 'd', 'j', 'l':
			// Links start as empty folders; the fixups make them reparse points.
			if err := os.Mkdir(p, 0o755); err != nil {
				return err
			}
		case 'f':
			if err := os.WriteFile(p, e.data, 0o644); err != nil {
				return err
			}
		}
	}
	// Times last, children before parents, so writes do not disturb them.
	for i := len(es) - 1; i >= 0; i-- {
		p := filepath.Join(root, filepath.FromSlash(strings.ReplaceAll(es[i].path, `\`, "/")))
		if err := os.Chtimes(p, stamp, stamp); err != nil {
			return err
		}
	}
	return os.Chtimes(root, stamp, stamp)
}

func (t *tree) writeManifest(name string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "# kind\tpath\tsize\tsha256\tdosname\tattributes\ttarget\tsecurity")
	for _, e := range t.sorted() {
		sum, size := "-", 0
		if e.kind == 'f' {
			h := sha256.Sum256(e.data)
			sum, size = hex.EncodeToString(h[:]), len(e.data)
		}
		dos := e.dosname
		if dos == "" {
			dos = "-"
		}
		target := e.target
		if target == "" {
			target = "-"
		}
		fmt.Fprintf(w, "%c\t%s\t%d\t%s\t%s\t0x%08x\t%s\t%s\n", e.kind, e.path, size, sum, dos, e.attrs, target, e.sd)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (t *tree) writeFixups(name string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, e := range t.sorted() {
		p := strings.ReplaceAll(e.path, `\`, "/")
		if e.dosname != "" {
			fmt.Fprintf(w, "dosname\t%s\t%s\n", p, e.dosname)
		}
	}
	// Reparse data before attributes: ntfs-3g sets the reparse attribute bit
	// itself, and the attribute line then states the final value.
	for _, e := range t.sorted() {
		p := strings.ReplaceAll(e.path, `\`, "/")
		if e.reparse != nil {
			fmt.Fprintf(w, "reparse\t%s\t%s\n", p, base64.StdEncoding.EncodeToString(e.reparse))
		}
	}
	b64 := base64.StdEncoding.EncodeToString
	fmt.Fprintf(w, "acl\t.\t%s\n", b64(t.templates["root"]))
	for _, e := range t.sorted() {
		fmt.Fprintf(w, "acl\t%s\t%s\n", strings.ReplaceAll(e.path, `\`, "/"), b64(t.templates[e.sd]))
	}
	for _, e := range t.sorted() {
		p := strings.ReplaceAll(e.path, `\`, "/")
		if e.attrs != 0 {
			fmt.Fprintf(w, "attrib\t%s\t0x%08x\n", p, e.attrs)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// assignDOSNames gives every entry whose name is not a legal 8.3 name a
// unique 8.3 alias within its folder, the way NTFS does with 8.3 name
// creation on: BASE~N.EXT for the first four, then two characters, four
// hex digits of a hash and ~N. (Windows' hash function is its own; ours
// differs, but the shapes are the same.)
func (t *tree) assignDOSNames() {
	byDir := map[string][]*entry{}
	for _, e := range t.sorted() {
		dir := ""
		if i := strings.LastIndexByte(e.path, '\\'); i >= 0 {
			dir = strings.ToUpper(e.path[:i])
		}
		byDir[dir] = append(byDir[dir], e)
	}
	for _, es := range byDir {
		taken := map[string]bool{}
		for _, e := range es {
			taken[strings.ToUpper(base(e.path))] = true
		}
		for _, e := range es {
			name := base(e.path)
			if legal83(name) {
				continue
			}
			e.dosname = shortName(name, taken)
			taken[e.dosname] = true
		}
	}
}

func base(path string) string { return path[strings.LastIndexByte(path, '\\')+1:] }

// legal83 reports whether name is a legal MS-DOS 8.3 name (in any case).
func legal83(name string) bool {
	b, ext, hasDot := strings.Cut(name, ".")
	if len(b) == 0 || len(b) > 8 || len(ext) > 3 || (hasDot && len(ext) == 0) || strings.Contains(ext, ".") {
		return false
	}
	for _, r := range b + ext {
		if !valid83(r) {
			return false
		}
	}
	return true
}

func valid83(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	case strings.ContainsRune("!#$%&'()-@^_`{}~", r):
		return true
	}
	return false
}

// shortName generates the alias of name not in taken.
func shortName(name string, taken map[string]bool) string {
	trimmed := strings.TrimLeft(name, ".")
	stem, ext := trimmed, ""
	if i := strings.LastIndexByte(trimmed, '.'); i >= 0 {
		stem, ext = trimmed[:i], trimmed[i+1:]
	}
	clean := func(s string, n int) string {
		var b strings.Builder
		for _, r := range strings.ToUpper(s) {
			if b.Len() == n {
				break
			}
			switch {
			case r == ' ' || r == '.':
			case r < 0x80 && valid83(r):
				b.WriteRune(r)
			default:
				b.WriteByte('_')
			}
		}
		return b.String()
	}
	b6, e3 := clean(stem, 6), clean(ext, 3)
	dotExt := ""
	if e3 != "" {
		dotExt = "." + e3
	}
	if b6 != "" && strings.Trim(b6, "_") != "" {
		for n := 1; n <= 4; n++ {
			s := fmt.Sprintf("%s~%d%s", b6, n, dotExt)
			if !taken[s] {
				return s
			}
		}
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	sum := h.Sum32()
	b2 := b6
	if len(b2) > 2 {
		b2 = b2[:2]
	}
	for n := 1; ; n++ {
		s := fmt.Sprintf("%s%04X~%d%s", b2, (sum+uint32(n-1))&0xffff, n, dotExt)
		if !taken[s] {
			return s
		}
	}
}
