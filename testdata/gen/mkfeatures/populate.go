package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// builder writes the tree through an ntfs-3g mount and records it.
type builder struct {
	mnt   string
	specs []*spec
	index map[string]*spec
	err   error
}

func winPath(p string) string { return strings.ReplaceAll(p, "/", `\`) }

func (b *builder) host(p string) string { return filepath.Join(b.mnt, filepath.FromSlash(p)) }

func (b *builder) fail(err error) {
	if b.err == nil && err != nil {
		b.err = err
	}
}

func (b *builder) add(kind byte, p string, want []string) *spec {
	s := &spec{entry: entry{Kind: kind, Path: winPath(p)}, Want: want}
	if kind == 'f' || kind == 'd' || kind == 'l' || kind == 'j' {
		s.Links = 1
	}
	if _, dup := b.index[s.Path]; dup {
		b.fail(fmt.Errorf("duplicate path %s", p))
	}
	b.specs = append(b.specs, s)
	b.index[s.Path] = s
	return s
}

func (b *builder) mkdir(p string, want ...string) *spec {
	b.fail(os.Mkdir(b.host(p), 0o755))
	return b.add('d', p, want)
}

func (b *builder) write(p string, data []byte, want ...string) *spec {
	b.fail(os.WriteFile(b.host(p), data, 0o644))
	s := b.add('f', p, want)
	s.Size, s.SHA256 = int64(len(data)), sum(data)
	return s
}

// sparse writes segs at their offsets with seeks (no zeros written) and
// sets the size with truncate.
func (b *builder) sparse(p string, size int64, segs []segment, want ...string) *spec {
	f, err := os.OpenFile(b.host(p), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		b.fail(err)
		return b.add('f', p, want)
	}
	for _, sg := range segs {
		_, err := f.WriteAt(sg.data, sg.off)
		b.fail(err)
	}
	b.fail(f.Truncate(size))
	b.fail(f.Close())
	s := b.add('f', p, want)
	s.Size, s.SHA256 = size, sparseSum(size, segs)
	return s
}

// stream writes a named stream through streams_interface=windows.
func (b *builder) stream(p, name string, data []byte, want ...string) *spec {
	b.fail(os.WriteFile(b.host(p)+":"+name, data, 0o644))
	s := b.add('s', p+":"+name, want)
	s.Size, s.SHA256 = int64(len(data)), sum(data)
	return s
}

// link adds name newp to the file first named oldp.
func (b *builder) link(oldp, newp string) *spec {
	b.fail(os.Link(b.host(oldp), b.host(newp)))
	orig := b.index[winPath(oldp)]
	s := b.add('h', newp, nil)
	s.Size, s.SHA256, s.Target = orig.Size, orig.SHA256, orig.Path
	orig.Links++
	for _, o := range b.specs {
		if o.Kind == 'h' && o.Target == orig.Path {
			o.Links = orig.Links
		}
	}
	return s
}

// remove deletes a file, which stays in the manifest as kind x.
func (b *builder) remove(p string) {
	b.fail(os.Remove(b.host(p)))
	s := b.index[winPath(p)]
	s.Kind, s.Links, s.Want = 'x', 0, nil
}

// lsetxattr sets an extended attribute without following a symlink
// (setfattr -h): ntfs-3g shows reparse points as symlinks.
func lsetxattr(path, name string, val []byte) error {
	p, err := syscall.BytePtrFromString(path)
	if err != nil {
		return err
	}
	n, err := syscall.BytePtrFromString(name)
	if err != nil {
		return err
	}
	var v unsafe.Pointer
	if len(val) > 0 {
		v = unsafe.Pointer(&val[0])
	}
	_, _, e := syscall.Syscall6(syscall.SYS_LSETXATTR, uintptr(unsafe.Pointer(p)),
		uintptr(unsafe.Pointer(n)), uintptr(v), uintptr(len(val)), 0, 0)
	if e != 0 {
		return &os.PathError{Op: "lsetxattr " + name, Path: path, Err: e}
	}
	return nil
}

// attrib ORs bits into the Windows attributes (system.ntfs_attrib_be).
func (b *builder) attrib(p string, bits uint32) {
	cur := make([]byte, 4)
	if _, err := syscall.Getxattr(b.host(p), "system.ntfs_attrib_be", cur); err != nil {
		b.fail(fmt.Errorf("get attributes of %s: %v", p, err))
		return
	}
	v := binary.BigEndian.Uint32(cur) | bits
	b.fail(lsetxattr(b.host(p), "system.ntfs_attrib_be", binary.BigEndian.AppendUint32(nil, v)))
	b.index[winPath(p)].Attrs |= bits &^ 0x10
}

func (b *builder) security(p, template string) {
	b.fail(lsetxattr(b.host(p), "system.ntfs_acl", securityTemplates[template]))
	s := b.index[winPath(p)]
	s.Flags = append(s.Flags, "sd="+template)
}

func (b *builder) reparse(p string, tag uint32, target string) {
	b.fail(lsetxattr(b.host(p), "system.ntfs_reparse_data", reparseBuffer(tag, target)))
	s := b.index[winPath(p)]
	isDir := s.Kind == 'd'
	s.Kind, s.Target, s.Size, s.SHA256 = 'l', target, 0, ""
	if tag == tagMountPoint {
		s.Kind = 'j'
	} else if isDir {
		s.Flags = append(s.Flags, "dir")
	}
	if tag == tagSymlink && !(len(target) > 1 && target[1] == ':') {
		s.Flags = append(s.Flags, "relative")
	}
}

// Fixed timestamps (creation, modification, access) set on every entry
// at the end through system.ntfs_times; ntfs-3g sets the MFT-change time
// itself.
var (
	timeCreated  = time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)
	timeModified = time.Date(2024, 3, 1, 13, 30, 0, 500_000_000, time.UTC)
	timeAccessed = time.Date(2024, 3, 2, 14, 45, 0, 0, time.UTC)
)

func filetime(t time.Time) uint64 { return uint64(t.UnixNano()/100 + 116444736000000000) }

func (b *builder) fixTimes() {
	var v []byte
	for _, t := range []time.Time{timeCreated, timeModified, timeAccessed} {
		v = binary.LittleEndian.AppendUint64(v, filetime(t))
	}
	for _, s := range b.specs {
		switch s.Kind {
		case 'f', 'd', 'l', 'j':
			b.fail(lsetxattr(b.host(strings.ReplaceAll(s.Path, `\`, "/")), "system.ntfs_times", v))
		}
	}
}

func cmdPopulate(args []string) error {
	fs := flag.NewFlagSet("populate", flag.ExitOnError)
	mnt := fs.String("mnt", "", "ntfs-3g mount point (streams_interface=windows)")
	out := fs.String("spec", "", "specification file to write")
	fs.Parse(args)
	if *mnt == "" || *out == "" {
		return errors.New("populate: -mnt and -spec are required")
	}
	b := &builder{mnt: *mnt, index: map[string]*spec{}}
	populate(b)
	if b.err != nil {
		return b.err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, s := range b.specs {
		want := "-"
		if len(s.Want) > 0 {
			want = strings.Join(s.Want, ",")
		}
		fmt.Fprintf(w, "%s\t%s\n", s.line(), want)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func readSpec(name string) ([]spec, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var out []spec
	for n, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		i := strings.LastIndexByte(line, '\t')
		e, err := parseLine(line[:i])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, n+1, err)
		}
		s := spec{entry: e}
		if w := line[i+1:]; w != "-" {
			s.Want = strings.Split(w, ",")
		}
		out = append(out, s)
	}
	return out, nil
}

// smallVols qualifies a token that holds on the volumes with clusters of
// 4 KiB or less: where ntfs-3g compresses, and where 4 KiB chunks are
// whole clusters.
const smallVols = "@c512+c4096"

func populate(b *builder) {
	// --- NTFS compression: files created in a directory marked 0x800 ------
	b.mkdir("compressed")
	b.attrib("compressed", 0x800)
	cw := []string{"nonresident", "compressed" + smallVols}
	b.write("compressed/text-300001.txt", text("compressed/text", 300001), cw...)
	b.write("compressed/random-100000.bin", random("compressed/random", 100000), cw...)
	b.write("compressed/zeros-263144.bin", make([]byte, 263144), cw...)
	var mixed []byte
	mixed = append(mixed, text("mixed/u0", 65536)...)
	mixed = append(mixed, make([]byte, 65536)...)
	mixed = append(mixed, text("mixed/u2", 32768)...)
	mixed = append(mixed, make([]byte, 32768)...)
	mixed = append(mixed, random("mixed/u3", 4096)...)
	mixed = append(mixed, text("mixed/u3", 61440)...)
	mixed = append(mixed, random("mixed/u4", 20000)...)
	b.write("compressed/mixed-282144.bin", mixed, cw...)
	b.write("compressed/large-1234567.txt", text("compressed/large", 1234567), cw...)
	b.write("compressed/small-200.txt", text("compressed/small", 200), "resident")
	b.write("compressed/empty.txt", nil, "resident")
	b.sparse("compressed/gaps-400000.bin", 400000, []segment{
		{0, text("compressed/gaps-a", 10000)}, {200000, text("compressed/gaps-b", 10000)}}, cw...)
	b.write("compressed/with-stream.txt", text("compressed/with-stream", 5000), cw...)
	b.stream("compressed/with-stream.txt", "notes", text("compressed/with-stream:notes", 150000), "nonresident")
	b.mkdir("compressed/sub")
	b.write("compressed/sub/nested-70000.txt", text("compressed/sub/nested", 70000), cw...)

	// --- sparse files: holes made by seeking, never written --------------
	b.mkdir("sparse")
	sw := []string{"nonresident", "sparse"}
	b.sparse("sparse/hole-start.bin", 1<<20, []segment{{917504, text("sparse/hole-start", 131072)}}, sw...)
	b.sparse("sparse/hole-middle.bin", 936432, []segment{
		{0, text("sparse/hole-middle-a", 131072)}, {786432, text("sparse/hole-middle-b", 150000)}}, sw...)
	b.sparse("sparse/hole-end.bin", 1<<20, []segment{{0, text("sparse/hole-end", 100000)}}, "nonresident")
	b.sparse("sparse/all-hole.bin", 2<<20, nil, "nonresident")
	b.sparse("sparse/huge-1GiB.bin", 1<<30, []segment{
		{0, text("sparse/huge-a", 65536)}, {512 << 20, text("sparse/huge-b", 65536)},
		{1<<30 - 4096, text("sparse/huge-c", 4096)}}, sw...)
	b.write("sparse/zeros-written.bin", make([]byte, 131072), "nonresident")
	b.sparse("sparse/unaligned.bin", 300005, []segment{
		{1000, text("sparse/unaligned-a", 3000)}, {300000, []byte("tail!")}}, "nonresident")

	// --- alternate data streams ------------------------------------------
	b.mkdir("streams")
	b.write("streams/two-streams.txt", text("streams/two-streams", 100), "resident")
	b.stream("streams/two-streams.txt", "alpha", text("streams/two-streams:alpha", 30), "resident")
	b.stream("streams/two-streams.txt", "beta", text("streams/two-streams:beta", 2000), "nonresident")
	b.mkdir("streams/dir-with-stream")
	b.stream("streams/dir-with-stream", "dirinfo", text("streams/dir-with-stream:dirinfo", 60), "resident")
	b.write("streams/unicode-stream.txt", text("streams/unicode-stream", 10))
	b.stream("streams/unicode-stream.txt", "Δέλτα-ström-😀", text("streams/unicode-stream:delta", 40), "resident")
	b.write("streams/big-stream.txt", text("streams/big-stream", 1000))
	b.stream("streams/big-stream.txt", "big", text("streams/big-stream:big", 300000), "nonresident")
	b.write("streams/only-stream.txt", nil, "resident")
	b.stream("streams/only-stream.txt", "data", text("streams/only-stream:data", 5000), "nonresident")
	b.write("streams/empty-stream.txt", text("streams/empty-stream", 10))
	b.stream("streams/empty-stream.txt", "empty", nil, "resident")

	// --- hard links --------------------------------------------------------
	b.mkdir("hardlinks")
	b.mkdir("hardlinks/a")
	b.mkdir("hardlinks/b")
	b.write("hardlinks/a/original.txt", text("hardlinks/original", 5000))
	b.link("hardlinks/a/original.txt", "hardlinks/a/second.txt")
	b.link("hardlinks/a/original.txt", "hardlinks/b/third.txt")
	b.mkdir("hardlinks/many")
	b.write("hardlinks/many/target.txt", text("hardlinks/many", 300), "attrlist")
	for i := 1; i < 100; i++ {
		b.link("hardlinks/many/target.txt",
			fmt.Sprintf("hardlinks/many/link-%03d-with-a-long-name-so-that-the-names-overflow-the-record.txt", i))
	}

	// --- resident / non-resident threshold --------------------------------
	b.mkdir("resident")
	for n := 600; n <= 800; n += 8 {
		b.write(fmt.Sprintf("resident/size-%04d.bin", n), text(fmt.Sprintf("resident/%d", n), n))
	}

	// --- a directory of 5000 entries, with deleted ones between them ------
	b.mkdir("bigdir", "indexalloc")
	var gone []string
	for i := 0; i < 5000; i++ {
		b.write(fmt.Sprintf("bigdir/entry-%05d.txt", i), []byte(fmt.Sprintf("bigdir entry %05d\n", i)))
		if i%17 == 5 {
			p := fmt.Sprintf("bigdir/entry-%05d-deleted.txt", i)
			b.write(p, []byte(fmt.Sprintf("deleted bigdir entry %05d\n", i)))
			gone = append(gone, p)
		}
	}
	b.write("bigdir/zz-deleted-large.bin", text("bigdir/zz-deleted-large", 100000))
	gone = append(gone, "bigdir/zz-deleted-large.bin")
	for _, p := range gone {
		b.remove(p)
	}

	// --- a deep tree --------------------------------------------------------
	p := "deep"
	b.mkdir(p)
	for i := 1; i <= 40; i++ {
		p += fmt.Sprintf("/d%02d", i)
		b.mkdir(p)
	}
	b.write(p+"/leaf.txt", text("deep/leaf", 1500))

	// --- names ----------------------------------------------------------------
	b.mkdir("names")
	b.write("names/long-"+strings.Repeat("a", 246)+".txt", text("names/long-ascii", 255))
	greek := []rune(strings.Repeat("αβγδεζηθικλμνξοπρστυφχψω", 11))[:251]
	b.write("names/"+string(greek)+".txt", text("names/long-greek", 255))
	b.write("names/"+strings.Repeat("😀", 125)+"x.txt", text("names/long-astral", 255))
	b.write("names/emoji 😀 smile.txt", text("names/emoji", 20))
	b.write("names/music 𝄞 clef.txt", text("names/music", 20))
	b.write("names/cjk-ext-b 𠀋.txt", text("names/cjk", 20))
	b.write("names/gothic 𐌰𐌱𐌲.txt", text("names/gothic", 20))
	b.mkdir("names/folder 🗂")
	b.write("names/folder 🗂/inside.txt", text("names/folder-inside", 20))
	b.write("names/with  two spaces.txt", text("names/two-spaces", 20))
	b.write("names/space before dot .txt", text("names/space-dot", 20))
	b.write("names/+,;=[]{}'!@#$%^&().txt", text("names/punct", 20))
	b.write("names/.leading-dot", text("names/leading-dot", 20))
	b.write("names/no-extension", text("names/no-extension", 20))
	b.write("names/many.dots.in.the.name.txt", text("names/dots", 20))
	b.mkdir("names/case")
	for _, c := range [][2]string{{"lower", "readme.txt"}, {"upper", "README.TXT"}, {"mixed", "ReadMe.Txt"}} {
		b.mkdir("names/case/" + c[0])
		b.write("names/case/"+c[0]+"/"+c[1], text("names/case/"+c[0], 40))
	}
	b.mkdir("names/upcase")
	b.mkdir("names/upcase/lower")
	b.mkdir("names/upcase/upper")
	for _, n := range [][2]string{
		{"ωμέγα σίγμα.txt", "ΩΜΈΓΑ ΣΊΓΜΑ.TXT"},
		{"ς-final-sigma.txt", "Σ-FINAL-SIGMA.TXT"},
		{"привет ёж.txt", "ПРИВЕТ ЁЖ.TXT"},
		{"ı-dotless-i.txt", "I-DOTLESS-I.TXT"},
		{"i-dotted-i.txt", "İ-DOTTED-I.TXT"},
		{"straße.txt", "STRASSE.TXT"},
		{"ǆ-digraph.txt", "Ǆ-DIGRAPH.TXT"},
		{"µ-micro.txt", "Μ-MICRO.TXT"},
		{"ÿ-y-diaeresis.txt", "Ÿ-Y-DIAERESIS.TXT"},
		{"ａｂｃ-fullwidth.txt", "ＡＢＣ-FULLWIDTH.TXT"},
		{"ǉ-lj.txt", "ǈ-Lj-TITLECASE.TXT"},
	} {
		b.write("names/upcase/lower/"+n[0], text("names/upcase/lower/"+n[0], 30))
		b.write("names/upcase/upper/"+n[1], text("names/upcase/upper/"+n[1], 30))
	}

	// --- empty things -----------------------------------------------------------
	b.mkdir("empty")
	b.write("empty/empty-file.txt", nil, "resident")
	b.mkdir("empty/empty-dir")

	// --- reparse points -----------------------------------------------------
	b.mkdir("reparse")
	b.write("reparse/symlink-file-abs", nil)
	b.reparse("reparse/symlink-file-abs", tagSymlink, `C:\Windows\System32\drivers\etc\hosts`)
	b.mkdir("reparse/symlink-dir-abs")
	b.reparse("reparse/symlink-dir-abs", tagSymlink, `C:\Users\Public`)
	b.write("reparse/symlink-rel", nil)
	b.reparse("reparse/symlink-rel", tagSymlink, `..\names\no-extension`)
	b.mkdir("reparse/junction")
	b.reparse("reparse/junction", tagMountPoint, `C:\ProgramData`)

	// --- attribute bits -------------------------------------------------------
	b.mkdir("attrs")
	for _, a := range []struct {
		name string
		bits uint32
	}{{"readonly.txt", 0x1}, {"hidden.txt", 0x2}, {"system.txt", 0x4}, {"readonly-hidden-system.txt", 0x7}} {
		b.write("attrs/"+a.name, text("attrs/"+a.name, 50))
		b.attrib("attrs/"+a.name, a.bits)
	}
	b.mkdir("attrs/hidden-dir")
	b.attrib("attrs/hidden-dir", 0x2)

	// --- object ID and security descriptors --------------------------------
	b.mkdir("security")
	b.write("security/objid.txt", text("security/objid", 50))
	oid := []byte{0x6f, 0x62, 0x6a, 0x69, 0x64, 0x2d, 0x47, 0x55, 0x49, 0x44, 0x2d, 0x30, 0x30, 0x30, 0x30, 0x31}
	b.fail(lsetxattr(b.host("security/objid.txt"), "system.ntfs_object_id", oid))
	b.index[`security\objid.txt`].Flags = append(b.index[`security\objid.txt`].Flags, fmt.Sprintf("objid=%x", oid))
	b.write("security/admins-only.txt", text("security/admins-only", 50))
	b.security("security/admins-only.txt", "admins-only")
	b.write("security/users-read-1.txt", text("security/users-read-1", 50))
	b.security("security/users-read-1.txt", "users-read")
	b.write("security/users-read-2.txt", text("security/users-read-2", 50))
	b.security("security/users-read-2.txt", "users-read")
	b.mkdir("security/inherit-dir")
	b.security("security/inherit-dir", "inherit-dir")
	b.write("security/inherit-dir/child.txt", text("security/child", 50))

	// --- last: layouts that depend on the cluster size ------------------
	// (so that the records of everything above are the same on every volume)
	b.mkdir("fragmented")
	fragmentedPair(b)
	const holes = 300
	var segs []segment
	for i := int64(0); i < holes; i++ {
		segs = append(segs, segment{i * 131072, textAt("fragmented/many-holes", i*131072, 4096)})
	}
	b.sparse("fragmented/many-holes.bin", holes*131072, segs, "nonresident", "sparse", "attrlist")

	b.fixTimes()
}

// fragmentedPair makes two files whose clusters alternate. ntfs-3g
// extends a file at the cluster after its last one when that is free;
// else it searches from its allocation cursor (left 4096 clusters past
// its last allocation) for the largest free range. So: write the first
// chunk of both files, then four reserve files of 1/4 of the rest of both
// plus a little (each under 4096 clusters), fill the volume with a
// ballast file until ENOSPC, and append 4 KiB chunks to the two files in
// turn, deleting the next reserve whenever free space runs out: each
// append finds the cluster after its file's end taken by the other file
// and continues right after it. The ballast is deleted at the end. Each
// file gets about 400 runs on 512-byte and 4 KiB clusters (an
// $ATTRIBUTE_LIST and extension records), 25 on 64 KiB clusters.
func fragmentedPair(b *builder) {
	const chunks, chunk = 400, 4096
	fill := func(name string, size int64) error {
		f, err := os.Create(b.host(name))
		if err != nil {
			return err
		}
		buf := make([]byte, 1<<20)
		for size > 0 {
			n := min(size, int64(len(buf)))
			if _, err := f.Write(buf[:n]); err != nil {
				if errors.Is(err, syscall.ENOSPC) && len(buf) > 512 {
					buf = buf[:len(buf)/2]
					continue
				}
				f.Close()
				return err
			}
			size -= n
		}
		return f.Close()
	}
	names := []string{"fragmented/interleaved-a.txt", "fragmented/interleaved-b.txt"}
	var files []*os.File
	var data [2][]byte
	appendChunk := func(k int, i int64) {
		c := textAt(names[k], i*chunk, chunk)
		if _, err := files[k].WriteAt(c, i*chunk); err != nil {
			b.fail(fmt.Errorf("%s: %v", names[k], err))
		}
		data[k] = append(data[k], c...)
	}
	for k, n := range names {
		f, err := os.Create(b.host(n))
		if err != nil {
			b.fail(err)
			return
		}
		files = append(files, f)
		appendChunk(k, 0)
	}
	const reserves = 4
	for r := 0; r < reserves; r++ {
		b.fail(fill(fmt.Sprintf("reserve-%d.tmp", r), 2*chunks*chunk/reserves+64<<10))
	}
	if err := fill("ballast.tmp", 1<<62); !errors.Is(err, syscall.ENOSPC) {
		b.fail(fmt.Errorf("ballast: %v", err))
	}
	next := 0
	for i := int64(1); i < chunks && b.err == nil; i++ {
		for k := range files {
			var st syscall.Statfs_t
			b.fail(syscall.Statfs(b.mnt, &st))
			if int64(st.Bavail)*st.Bsize < 2*max(chunk, st.Bsize) {
				if next == reserves {
					b.fail(errors.New("fragmented: out of reserves"))
					return
				}
				b.fail(os.Remove(b.host(fmt.Sprintf("reserve-%d.tmp", next))))
				next++
			}
			appendChunk(k, i)
		}
	}
	for ; next < reserves; next++ {
		b.fail(os.Remove(b.host(fmt.Sprintf("reserve-%d.tmp", next))))
	}
	for k, f := range files {
		b.fail(f.Close())
		s := b.add('f', names[k], []string{"nonresident", "attrlist" + smallVols})
		s.Size, s.SHA256 = int64(len(data[k])), sum(data[k])
	}
	b.fail(os.Remove(b.host("ballast.tmp")))
}
