package ntfs

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// cleanVolume is a fixture volume Check must find clean.
type cleanVolume struct {
	name string
	open func(t *testing.T) (io.ReaderAt, int64)
}

// fileRange opens a file and returns a section of it (the whole file when
// size is 0).
func fileRange(t *testing.T, path string, off, size int64) (io.ReaderAt, int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if size == 0 {
		fi, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		size = fi.Size()
	}
	return io.NewSectionReader(f, off, size), size
}

func cleanVolumes() []cleanVolume {
	var out []cleanVolume
	for _, d := range testimg.Disks() {
		out = append(out, cleanVolume{d.Name, func(t *testing.T) (io.ReaderAt, int64) {
			return fileRange(t, testimg.Path(t, d.Name), d.System.Offset, d.System.Size)
		}})
	}
	for _, name := range []string{"ntfs/tiny.raw", "ntfs/features-c512.raw", "ntfs/features-c4096.raw", "ntfs/features-c65536.raw"} {
		out = append(out, cleanVolume{name, func(t *testing.T) (io.ReaderAt, int64) {
			if _, err := os.Stat(filepath.Join(testimg.Dir(t), name+".xz")); err != nil {
				t.Skipf("%s not present", name)
			}
			return fileRange(t, testimg.Path(t, name), 0, 0)
		}})
	}
	out = append(out, cleanVolume{"real/ntfs/windows_volume.qcow2", func(t *testing.T) (io.ReaderAt, int64) {
		qemu := testimg.Oracle(t, "qemu-img")
		raw := filepath.Join(t.TempDir(), "windows_volume.raw")
		if out, err := exec.Command(qemu, "convert", "-O", "raw", testimg.Path(t, "real/ntfs/windows_volume.qcow2"), raw).CombinedOutput(); err != nil {
			t.Fatalf("qemu-img convert: %v\n%s", err, out)
		}
		return fileRange(t, raw, 0, 0)
	}})
	return out
}

func TestCheckClean(t *testing.T) {
	for _, cv := range cleanVolumes() {
		t.Run(filepath.Base(cv.name), func(t *testing.T) {
			dev, size := cv.open(t)
			v, err := Open(dev, size)
			if err != nil {
				t.Fatal(err)
			}
			problems, err := Check(context.Background(), v, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Errorf("%v", p)
			}
		})
	}
}

// tvol is a private, writable copy of the Windows XP fixture's system
// volume, with helpers that corrupt it the way a bug or a torn write
// would. They locate structures from the raw bytes themselves, not
// through the checker.
type tvol struct {
	t    *testing.T
	path string
	f    *os.File
	size int64
	v    *Volume
}

func newTvol(t *testing.T) *tvol {
	t.Helper()
	path := testimg.Volume(t, testimg.WinXP())
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	x := &tvol{t: t, path: path, f: f, size: fi.Size()}
	x.reopen()
	return x
}

func (x *tvol) reopen() {
	x.t.Helper()
	v, err := Open(x.f, x.size)
	if err != nil {
		x.t.Fatal(err)
	}
	x.v = v
}

func (x *tvol) check() []Problem {
	x.t.Helper()
	x.reopen()
	problems, err := Check(context.Background(), x.v, nil)
	if err != nil {
		x.t.Fatal(err)
	}
	return problems
}

func (x *tvol) stat(path string) *FileStat {
	x.t.Helper()
	fi, err := x.v.Stat(path)
	if err != nil {
		x.t.Fatal(err)
	}
	return fi.Sys().(*FileStat)
}

func (x *tvol) read(off int64, n int) []byte {
	x.t.Helper()
	b := make([]byte, n)
	if _, err := x.f.ReadAt(b, off); err != nil {
		x.t.Fatal(err)
	}
	return b
}

func (x *tvol) write(off int64, b []byte) {
	x.t.Helper()
	if _, err := x.f.WriteAt(b, off); err != nil {
		x.t.Fatal(err)
	}
}

func (x *tvol) cs() int64 { return x.v.boot.clusterSize }

// record returns MFT record num with its fixups undone, and its offset.
func (x *tvol) record(num uint64) ([]byte, int64) {
	x.t.Helper()
	rs := int64(x.v.boot.recordSize)
	b := make([]byte, rs)
	if _, err := x.v.mft.ReadAt(b, int64(num)*rs); err != nil {
		x.t.Fatal(err)
	}
	off := x.v.mft.volumeOffset(int64(num) * rs)
	if err := applyFixups(b, off, "test"); err != nil {
		x.t.Fatal(err)
	}
	return b, off
}

// putRecord protects b and writes it as MFT record num.
func (x *tvol) putRecord(num uint64, b []byte) {
	x.t.Helper()
	rs := int64(x.v.boot.recordSize)
	x.putProtected(x.v.mft, int64(num)*rs, b)
}

// putProtected applies fixups to b and writes it at byte pos of s.
func (x *tvol) putProtected(s *stream, pos int64, b []byte) {
	x.t.Helper()
	disk, err := protect(b)
	if err != nil {
		x.t.Fatal(err)
	}
	for i := 0; i < len(disk); i += fixupStride {
		x.write(s.volumeOffset(pos+int64(i)), disk[i:i+fixupStride])
	}
}

// attr returns the position in record b of its nth (from 0) attribute of
// type typ, or fails.
func (x *tvol) attr(b []byte, typ uint32, nth int) int {
	x.t.Helper()
	for p := int(binary.LittleEndian.Uint16(b[0x14:])); p+8 <= len(b); {
		at := binary.LittleEndian.Uint32(b[p:])
		if at == attrEnd {
			break
		}
		if at == typ {
			if nth == 0 {
				return p
			}
			nth--
		}
		p += int(binary.LittleEndian.Uint32(b[p+4:]))
	}
	x.t.Fatalf("no attribute 0x%x", typ)
	return -1
}

// valuePos returns the position of a resident attribute's value.
func valuePos(b []byte, attr int) int {
	return attr + int(binary.LittleEndian.Uint16(b[attr+0x14:]))
}

func (x *tvol) stream(num uint64, typ uint32, name string) *stream {
	x.t.Helper()
	f, err := x.v.loadFile(fileRef(num))
	if err != nil {
		x.t.Fatal(err)
	}
	s, err := x.v.stream(f, typ, name)
	if err != nil {
		x.t.Fatal(err)
	}
	return s
}

// setBits sets (or clears) bits [from, from+n) of a non-resident bitmap
// stream and returns the volume offset of the byte holding bit from.
func (x *tvol) setBits(s *stream, from, n int64, set bool) int64 {
	x.t.Helper()
	for i := from; i < from+n; i++ {
		off := s.volumeOffset(i / 8)
		b := x.read(off, 1)
		if set {
			b[0] |= 1 << (i % 8)
		} else {
			b[0] &^= 1 << (i % 8)
		}
		x.write(off, b)
	}
	return s.volumeOffset(from / 8)
}

// tnode is an $I30 node as stored: the root (in its MFT record) or an
// INDX block, fixups undone.
type tnode struct {
	dir     uint64
	vcn     int64  // -1 for the root
	buf     []byte // the MFT record or the block
	off     int64  // volume offset of buf[0]
	hdr     int    // position of the index header in buf
	entries []tentry
}

type tentry struct {
	pos, len int // in buf
	name     string
	ns       uint8
	ref      fileRef
	flags    uint32
}

func (n *tnode) entryOff(i int) int64 { return n.off + int64(n.entries[i].pos) }

func (n *tnode) parse() {
	n.entries = nil
	h := n.hdr
	end := h + int(binary.LittleEndian.Uint32(n.buf[h+4:]))
	for p := h + int(binary.LittleEndian.Uint32(n.buf[h:])); p < end; {
		e := tentry{pos: p, len: int(binary.LittleEndian.Uint16(n.buf[p+8:])), flags: binary.LittleEndian.Uint32(n.buf[p+0x0C:]),
			ref: fileRef(binary.LittleEndian.Uint64(n.buf[p:]))}
		if e.flags&entryLast == 0 {
			k := n.buf[p+0x10:]
			e.ns = k[0x41]
			e.name = decodeUTF16(k[0x42 : 0x42+2*int(k[0x40])])
		}
		n.entries = append(n.entries, e)
		if e.flags&entryLast != 0 {
			break
		}
		p += e.len
	}
}

// nodes returns the root and every block in use of directory dir's $I30.
func (x *tvol) nodes(dir uint64) []*tnode {
	x.t.Helper()
	b, off := x.record(dir)
	root := &tnode{dir: dir, vcn: -1, buf: b, off: off, hdr: valuePos(b, x.attr(b, attrIndexRoot, 0)) + 0x10}
	root.parse()
	out := []*tnode{root}
	f, err := x.v.loadFile(fileRef(dir))
	if err != nil {
		x.t.Fatal(err)
	}
	if len(f.extents(attrIndexAllocation, "$I30")) == 0 {
		return out
	}
	alloc := x.stream(dir, attrIndexAllocation, "$I30")
	bm, err := x.v.readAll(f, attrBitmap, "$I30", 1<<20)
	if err != nil {
		x.t.Fatal(err)
	}
	bs := int64(x.v.boot.indexBlockSize)
	for i := int64(0); i < alloc.size/bs; i++ {
		if !bitSet(bm, i) {
			continue
		}
		blk := make([]byte, bs)
		if _, err := alloc.ReadAt(blk, i*bs); err != nil {
			x.t.Fatal(err)
		}
		off := alloc.volumeOffset(i * bs)
		if err := applyFixups(blk, off, "test"); err != nil {
			x.t.Fatal(err)
		}
		n := &tnode{dir: dir, vcn: int64(binary.LittleEndian.Uint64(blk[0x10:])), buf: blk, off: off, hdr: 0x18}
		n.parse()
		out = append(out, n)
	}
	return out
}

func (x *tvol) putNode(n *tnode) {
	x.t.Helper()
	if n.vcn < 0 {
		x.putRecord(n.dir, n.buf)
		return
	}
	alloc := x.stream(n.dir, attrIndexAllocation, "$I30")
	bs := int64(x.v.boot.indexBlockSize)
	vcnBytes := x.cs()
	if bs < vcnBytes {
		vcnBytes = 512
	}
	x.putProtected(alloc, n.vcn*vcnBytes, n.buf)
}

// leaf returns a leaf block of dir with at least min entries besides the
// last one.
func (x *tvol) leaf(dir uint64, min int) *tnode {
	x.t.Helper()
	for _, n := range x.nodes(dir) {
		if n.vcn >= 0 && len(n.entries) > min && n.entries[0].flags&entryHasChild == 0 {
			return n
		}
	}
	x.t.Fatalf("directory %d: no leaf block with %d entries", dir, min)
	return nil
}

// entryOf returns the node and index of dir's entry for name.
func (x *tvol) entryOf(dir uint64, name string) (*tnode, int) {
	x.t.Helper()
	for _, n := range x.nodes(dir) {
		for i, e := range n.entries {
			if e.flags&entryLast == 0 && e.name == name {
				return n, i
			}
		}
	}
	x.t.Fatalf("directory %d: no entry %q", dir, name)
	return nil, 0
}

// nameAttr returns the volume offset of record num's $FILE_NAME name.
func (x *tvol) nameAttr(num uint64, name string) int64 {
	x.t.Helper()
	b, off := x.record(num)
	for i := 0; ; i++ {
		p := x.attr(b, attrFileName, i)
		v := b[valuePos(b, p):]
		if decodeUTF16(v[0x42:0x42+2*int(v[0x40])]) == name {
			return off + int64(p)
		}
	}
}

// oracleFails runs a third-party tool on the volume (argument "VOL"; "TMP"
// is a scratch file name) and fails the test if it succeeds: it must see
// the corruption too.
func (x *tvol) oracleFails(tool string, args ...string) {
	x.t.Helper()
	x.f.Sync()
	args = slices.Clone(args)
	for i, a := range args {
		switch a {
		case "VOL":
			args[i] = x.path
		case "TMP":
			args[i] = filepath.Join(x.t.TempDir(), "out")
		}
	}
	out, err := testimg.RunErr(x.t, tool, args...)
	if err == nil {
		x.t.Errorf("%s %v accepts the corrupted volume:\n%s", tool, args, out)
		return
	}
	x.t.Logf("%v\n%s", err, lastLine(out))
}

// lastLine returns the last non-empty line of a tool's output.
func lastLine(out []byte) string {
	lines := strings.FieldsFunc(string(out), func(r rune) bool { return r == '\n' || r == '\r' })
	if len(lines) == 0 {
		return ""
	}
	return lines[len(lines)-1]
}

// want is what a test expects of a Problem.
type want struct {
	Kind           ProblemKind
	Record, Offset int64
}

func TestCheckCorruptions(t *testing.T) {
	const (
		ntuserIni = "Documents and Settings/Administrator/ntuser.ini" // resident, one name
		ntdetect  = "NTDETECT.COM"                                    // non-resident, one run
		ntldr     = "NTLDR"                                           // non-resident, one run, longer
		system32  = "WINDOWS/system32"                                // a multi-level index
	)
	var (
		ntfsclone  = []string{"ntfsclone", "--save-image", "-O", "/dev/null", "VOL"}
		ntfsresize = []string{"ntfsresize", "-i", "-f", "VOL"}
		wimcapture = []string{"wimcapture", "VOL", "TMP"}
		ntfsinfo   = []string{"ntfsinfo", "-m", "VOL"}
		bitmap     = [][]string{ntfsclone, ntfsresize}
	)
	tests := []struct {
		name    string
		corrupt func(x *tvol) []want
		oracles [][]string // tools that must fail on the corrupted volume too (ORACLES.md)
	}{
		{"cleared $Bitmap bit of a used cluster", func(x *tvol) []want {
			st := x.stat(ntdetect)
			lcn := st.Streams[0].Runs[0].LCN + 3
			x.setBits(x.stream(recBitmap, attrData, ""), lcn, 1, false)
			return []want{{ClusterNotMarked, int64(st.Record), lcn * x.cs()}}
		}, bitmap},
		{"set $Bitmap bit of a free cluster", func(x *tvol) []want {
			bm := x.stream(recBitmap, attrData, "")
			b := make([]byte, bm.size)
			bm.ReadAt(b, 0)
			free := int64(-1)
			for i := x.v.boot.clusters() / 2; free < 0; i++ {
				if !bitSet(b, i) {
					free = i
				}
			}
			x.setBits(bm, free, 1, true)
			return []want{{ClusterLeaked, -1, free * x.cs()}}
		}, bitmap},
		{"two files' runs overlap", func(x *tvol) []want {
			a, b := x.stat(ntdetect), x.stat(ntldr)
			ra, rb := a.Streams[0].Runs[0], b.Streams[0].Runs[0]
			rec, off := x.record(a.Record)
			p := x.attr(rec, attrData, 0)
			runs := p + int(binary.LittleEndian.Uint16(rec[p+0x20:]))
			// One run: length ra.Length (1 byte), LCN rb.LCN (3 bytes).
			copy(rec[runs:], []byte{0x31, byte(ra.Length), byte(rb.LCN), byte(rb.LCN >> 8), byte(rb.LCN >> 16), 0})
			x.putRecord(a.Record, rec)
			_ = off
			// Free the clusters it had, so that only the overlap remains.
			x.setBits(x.stream(recBitmap, attrData, ""), ra.LCN, ra.Length, false)
			return []want{{ClusterDoublyAllocated, int64(max(a.Record, b.Record)), rb.LCN * x.cs()}}
		}, bitmap},
		{"bits past the last cluster cleared", func(x *tvol) []want {
			clusters := x.v.boot.clusters()
			if clusters%8 == 0 {
				x.t.Skip("no bits past the last cluster")
			}
			bm := x.stream(recBitmap, attrData, "")
			off := x.setBits(bm, clusters, 8-clusters%8, false)
			return []want{{ClusterOutOfRange, recBitmap, off}}
		}, nil},
		{"a run past the last cluster", func(x *tvol) []want {
			st := x.stat(ntdetect)
			r := st.Streams[0].Runs[0]
			rec, off := x.record(st.Record)
			p := x.attr(rec, attrData, 0)
			runs := p + int(binary.LittleEndian.Uint16(rec[p+0x20:]))
			lcn := x.v.boot.clusters() - 2
			copy(rec[runs:], []byte{0x31, byte(r.Length), byte(lcn), byte(lcn >> 8), byte(lcn >> 16), 0})
			x.putRecord(st.Record, rec)
			x.setBits(x.stream(recBitmap, attrData, ""), r.LCN, r.Length, false)
			x.setBits(x.stream(recBitmap, attrData, ""), lcn, 2, true)
			return []want{{ClusterOutOfRange, int64(st.Record), off + int64(p)}}
		}, nil},
		{"$MFT bitmap bit set for a free record", func(x *tvol) []want {
			free := uint64(0)
			for n := uint64(recFirstUser); free == 0; n++ {
				if b, _ := x.record(n); binary.LittleEndian.Uint16(b[0x16:])&recordInUse == 0 {
					free = n
				}
			}
			_, off := x.record(free)
			x.setBits(x.stream(recMFT, attrBitmap, ""), int64(free), 1, true)
			return []want{{RecordBitmapMismatch, int64(free), off}}
		}, nil},
		{"$MFT bitmap bit cleared for a record in use", func(x *tvol) []want {
			st := x.stat(ntuserIni)
			_, off := x.record(st.Record)
			x.setBits(x.stream(recMFT, attrBitmap, ""), int64(st.Record), 1, false)
			return []want{{RecordBitmapMismatch, int64(st.Record), off}}
		}, nil},
		{"torn MFT record", func(x *tvol) []want {
			st := x.stat(ntuserIni)
			_, off := x.record(st.Record)
			b := x.read(off+fixupStride-2, 1)
			x.write(off+fixupStride-2, []byte{b[0] ^ 0xFF})
			return []want{{Fixup, int64(st.Record), off + fixupStride - 2}}
		}, nil},
		{"attribute overruns its record", func(x *tvol) []want {
			st := x.stat(ntuserIni)
			rec, off := x.record(st.Record)
			p := x.attr(rec, attrFileName, 0)
			binary.LittleEndian.PutUint32(rec[p+4:], 0x7000)
			x.putRecord(st.Record, rec)
			return []want{{RecordCorrupt, int64(st.Record), off + int64(p)}}
		}, nil},
		{"record says it is another", func(x *tvol) []want {
			st := x.stat(ntuserIni)
			rec, off := x.record(st.Record)
			binary.LittleEndian.PutUint32(rec[0x2C:], 7)
			x.putRecord(st.Record, rec)
			return []want{{RecordCorrupt, int64(st.Record), off + 0x2C}}
		}, nil},
		{"torn INDX block", func(x *tvol) []want {
			n := x.leaf(x.stat(system32).Record, 3)
			b := x.read(n.off+fixupStride-2, 1)
			x.write(n.off+fixupStride-2, []byte{b[0] ^ 0xFF})
			return []want{{Fixup, int64(n.dir), n.off + fixupStride - 2}}
		}, [][]string{wimcapture}},
		{"INDX block says it is another VCN", func(x *tvol) []want {
			n := x.leaf(x.stat(system32).Record, 3)
			binary.LittleEndian.PutUint64(n.buf[0x10:], uint64(n.vcn+1))
			x.putNode(n)
			return []want{{IndexCorrupt, int64(n.dir), n.off + 0x10}}
		}, nil},
		{"INDX block in use, clear in the index bitmap", func(x *tvol) []want {
			dir := x.stat(system32).Record
			n := x.leaf(dir, 3)
			rec, _ := x.record(dir)
			p := x.attr(rec, attrBitmap, 0)
			if rec[p+8] != 0 {
				x.t.Skip("non-resident $I30 bitmap")
			}
			vcnBytes := x.cs()
			if int64(x.v.boot.indexBlockSize) < vcnBytes {
				vcnBytes = 512
			}
			blk := n.vcn * vcnBytes / int64(x.v.boot.indexBlockSize)
			rec[valuePos(rec, p)+int(blk/8)] &^= 1 << (blk % 8)
			x.putRecord(dir, rec)
			return []want{{IndexBitmap, int64(dir), n.off}}
		}, nil},
		{"two index entries swapped", func(x *tvol) []want {
			n := x.leaf(x.stat(system32).Record, 3)
			e1, e2 := n.entries[1], n.entries[2]
			a := append([]byte(nil), n.buf[e1.pos:e1.pos+e1.len]...)
			b := append([]byte(nil), n.buf[e2.pos:e2.pos+e2.len]...)
			copy(n.buf[e1.pos:], append(b, a...))
			x.putNode(n)
			return []want{{IndexOrder, int64(n.dir), n.off + int64(e1.pos+e2.len)}}
		}, nil},
		{"two names equal ignoring case", func(x *tvol) []want {
			// Rename a file, in its record and its entry, to its
			// predecessor's name in another case.
			for _, n := range x.nodes(x.stat(system32).Record) {
				for i := 1; i+1 < len(n.entries); i++ {
					p, e := n.entries[i-1], n.entries[i]
					if p.flags&entryHasChild != 0 {
						break
					}
					up := []rune(p.name)
					for j, r := range up {
						if r >= 'a' && r <= 'z' {
							up[j] = r - 32
						} else if r >= 'A' && r <= 'Z' {
							up[j] = r + 32
						}
					}
					if len(p.name) != len(e.name) || p.ref == e.ref || p.ns == namespacePOSIX || e.ns == namespacePOSIX || string(up) == p.name {
						continue
					}
					newName := utf16.Encode(up)
					fnOff := x.nameAttr(e.ref.record(), e.name)
					rec, recOff := x.record(e.ref.record())
					fnPos := valuePos(rec, int(fnOff-recOff))
					for j, u := range newName {
						binary.LittleEndian.PutUint16(rec[fnPos+0x42+2*j:], u)
						binary.LittleEndian.PutUint16(n.buf[e.pos+0x10+0x42+2*j:], u)
					}
					x.putRecord(e.ref.record(), rec)
					x.putNode(n)
					return []want{{IndexDuplicateName, int64(n.dir), n.entryOff(i)}}
				}
			}
			x.t.Fatal("no pair of entries to rename")
			return nil
		}, nil},
		{"an entry copied over its neighbour", func(x *tvol) []want {
			n := x.leaf(x.stat(system32).Record, 3)
			for i := 1; i+1 < len(n.entries); i++ {
				p, e := n.entries[i-1], n.entries[i]
				if p.len != e.len || p.ref.record() == e.ref.record() {
					continue
				}
				copy(n.buf[e.pos:e.pos+e.len], n.buf[p.pos:p.pos+p.len])
				x.putNode(n)
				return []want{
					{IndexDuplicateName, int64(n.dir), n.entryOff(i)},
					{NameIndexedTwice, int64(p.ref.record()), x.nameAttr(p.ref.record(), p.name)},
					{NameNotIndexed, int64(e.ref.record()), x.nameAttr(e.ref.record(), e.name)},
				}
			}
			x.t.Fatal("no pair of entries of one length")
			return nil
		}, nil},
		{"entry removed", func(x *tvol) []want {
			n := x.leaf(x.stat(system32).Record, 3)
			e := n.entries[1]
			used := binary.LittleEndian.Uint32(n.buf[n.hdr+4:])
			end := n.hdr + int(used)
			copy(n.buf[e.pos:], n.buf[e.pos+e.len:end])
			binary.LittleEndian.PutUint32(n.buf[n.hdr+4:], used-uint32(e.len))
			x.putNode(n)
			return []want{{NameNotIndexed, int64(e.ref.record()), x.nameAttr(e.ref.record(), e.name)}}
		}, nil},
		{"entry to a record freed", func(x *tvol) []want {
			st := x.stat(ntuserIni)
			rec, _ := x.record(st.Record)
			binary.LittleEndian.PutUint16(rec[0x16:], binary.LittleEndian.Uint16(rec[0x16:])&^recordInUse)
			x.putRecord(st.Record, rec)
			x.setBits(x.stream(recMFT, attrBitmap, ""), int64(st.Record), 1, false)
			n, i := x.entryOf(st.Names[0].Parent, st.Names[0].Name)
			return []want{{IndexDangling, int64(n.dir), n.entryOff(i)}}
		}, nil},
		{"entry pointing to a free record", func(x *tvol) []want {
			st := x.stat(ntuserIni)
			free := uint64(0)
			for r := uint64(recFirstUser); free == 0; r++ {
				if b, _ := x.record(r); binary.LittleEndian.Uint16(b[0x16:])&recordInUse == 0 {
					free = r
				}
			}
			n, i := x.entryOf(st.Names[0].Parent, st.Names[0].Name)
			binary.LittleEndian.PutUint64(n.buf[n.entries[i].pos:], uint64(free)|uint64(st.Sequence)<<48)
			x.putNode(n)
			// The file's name is then indexed nowhere: that is the second
			// problem, not an echo.
			return []want{
				{IndexDangling, int64(n.dir), n.entryOff(i)},
				{NameNotIndexed, int64(st.Record), x.nameAttr(st.Record, st.Names[0].Name)},
			}
		}, nil},
		{"entry with a stale sequence number", func(x *tvol) []want {
			st := x.stat(ntuserIni)
			rec, _ := x.record(st.Record)
			binary.LittleEndian.PutUint16(rec[0x10:], st.Sequence+1)
			x.putRecord(st.Record, rec)
			n, i := x.entryOf(st.Names[0].Parent, st.Names[0].Name)
			return []want{{IndexDangling, int64(n.dir), n.entryOff(i)}}
		}, nil},
		{"entry key in another namespace", func(x *tvol) []want {
			st := x.stat(ntuserIni)
			n, i := x.entryOf(st.Names[0].Parent, st.Names[0].Name)
			n.buf[n.entries[i].pos+0x10+0x41] = namespacePOSIX
			if n.entries[i].ns == namespacePOSIX {
				n.buf[n.entries[i].pos+0x10+0x41] = namespaceWin32
			}
			x.putNode(n)
			return []want{
				{IndexNameMismatch, int64(n.dir), n.entryOff(i)},
				{NameNotIndexed, int64(st.Record), x.nameAttr(st.Record, st.Names[0].Name)},
			}
		}, nil},
		{"name with a stale parent sequence number", func(x *tvol) []want {
			st := x.stat(ntuserIni)
			rec, off := x.record(st.Record)
			p := x.attr(rec, attrFileName, 0)
			v := valuePos(rec, p)
			binary.LittleEndian.PutUint16(rec[v+6:], binary.LittleEndian.Uint16(rec[v+6:])+1)
			x.putRecord(st.Record, rec)
			return []want{{NameParentInvalid, int64(st.Record), off + int64(p)}}
		}, nil},
		{"link count changed", func(x *tvol) []want {
			st := x.stat(ntuserIni)
			rec, off := x.record(st.Record)
			binary.LittleEndian.PutUint16(rec[0x12:], uint16(st.Links+1))
			x.putRecord(st.Record, rec)
			return []want{{LinkCount, int64(st.Record), off + 0x12}}
		}, nil},
		{"directory flag cleared", func(x *tvol) []want {
			st := x.stat("WINDOWS/system32/config")
			rec, off := x.record(st.Record)
			binary.LittleEndian.PutUint16(rec[0x16:], binary.LittleEndian.Uint16(rec[0x16:])&^recordDirectory)
			x.putRecord(st.Record, rec)
			return []want{{DirectoryFlag, int64(st.Record), off + 0x16}}
		}, nil},
		{"one byte of $MFTMirr", func(x *tvol) []want {
			m, err := x.v.mirror()
			if err != nil {
				x.t.Fatal(err)
			}
			off := m.volumeOffset(2*int64(x.v.boot.recordSize) + 0x100)
			b := x.read(off, 1)
			x.write(off, []byte{b[0] ^ 0x55})
			return []want{{MirrorMismatch, 2, off}}
		}, [][]string{ntfsinfo}},
		{"security id not in $SII", func(x *tvol) []want {
			st := x.stat(ntuserIni)
			rec, off := x.record(st.Record)
			v := valuePos(rec, x.attr(rec, attrStandardInformation, 0))
			binary.LittleEndian.PutUint32(rec[v+0x34:], 0x7777)
			x.putRecord(st.Record, rec)
			return []want{{SecurityIDMissing, int64(st.Record), off + int64(v) + 0x34}}
		}, nil},
		{"data size over allocated size", func(x *tvol) []want {
			st := x.stat(ntdetect)
			rec, off := x.record(st.Record)
			p := x.attr(rec, attrData, 0)
			binary.LittleEndian.PutUint64(rec[p+0x30:], uint64(st.Streams[0].Allocated+1))
			x.putRecord(st.Record, rec)
			return []want{{AttributeCorrupt, int64(st.Record), off + int64(p)}}
		}, nil},
		{"two attributes with one instance", func(x *tvol) []want {
			st := x.stat(ntuserIni)
			rec, off := x.record(st.Record)
			first := x.attr(rec, attrStandardInformation, 0)
			p := x.attr(rec, attrFileName, 0)
			copy(rec[p+0x0E:p+0x10], rec[first+0x0E:first+0x10])
			x.putRecord(st.Record, rec)
			return []want{{AttributeInstance, int64(st.Record), off + int64(p)}}
		}, nil},
		{"attribute list entry to a missing instance", func(x *tvol) []want {
			// Find a file whose list names an attribute in an extension record.
			for num := uint64(recFirstUser); num < x.v.nrecs; num++ {
				r, err := x.v.readRecord(num)
				if err != nil || r.flags&recordInUse == 0 || r.base != 0 || r.find(attrAttributeList, "") == nil {
					continue
				}
				list := x.stream(num, attrAttributeList, "")
				b := make([]byte, list.size)
				list.ReadAt(b, 0)
				for p := 0; p < len(b); p += int(binary.LittleEndian.Uint16(b[p+4:])) {
					ref := fileRef(binary.LittleEndian.Uint64(b[p+0x10:]))
					if ref.record() == num {
						continue
					}
					ext, err := x.v.readRecord(ref.record())
					if err != nil {
						x.t.Fatal(err)
					}
					typ, inst := binary.LittleEndian.Uint32(b[p:]), binary.LittleEndian.Uint16(b[p+0x18:])
					var target *attribute
					for _, a := range ext.attrs {
						if a.typ == typ && a.instance == inst {
							target = a
						}
					}
					x.write(list.volumeOffset(int64(p+0x18)), []byte{0x77, 0x77})
					return []want{
						{AttributeList, int64(num), r.find(attrAttributeList, "").off},
						{AttributeList, int64(num), target.off},
					}
				}
			}
			x.t.Fatal("no file with an extension record")
			return nil
		}, nil},
	}
	// The oracles accept the volume before it is corrupted: their failures
	// below are the corruption's.
	t.Run("oracles accept the fixture", func(t *testing.T) {
		x := newTvol(t)
		for _, o := range [][]string{ntfsclone, ntfsresize, wimcapture, ntfsinfo} {
			args := slices.Clone(o[1:])
			for i, a := range args {
				switch a {
				case "VOL":
					args[i] = x.path
				case "TMP":
					args[i] = filepath.Join(t.TempDir(), "out")
				}
			}
			testimg.Run(t, o[0], args...)
		}
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newTvol(t)
			if p := x.check(); len(p) != 0 {
				t.Fatalf("fresh copy: %v", p)
			}
			wants := tt.corrupt(x)
			var got []want
			problems := x.check()
			for _, p := range problems {
				got = append(got, want{p.Kind, p.Record, p.Offset})
				t.Logf("%v", p)
			}
			sortWants(wants)
			sortWants(got)
			if diff := gocmp.Diff(wants, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			for _, o := range tt.oracles {
				x.oracleFails(o[0], o[1:]...)
			}
		})
	}
}

func sortWants(w []want) {
	slices.SortFunc(w, func(a, b want) int {
		return cmp.Compare(fmt.Sprint(a.Kind, a.Record, a.Offset), fmt.Sprint(b.Kind, b.Record, b.Offset))
	})
}

// FuzzCheck mutates a small real volume at one place, as FuzzVolume does,
// and checks it: Check must return (problems or an error), never panic,
// loop or allocate without bound.
func FuzzCheck(f *testing.F) {
	vol := tinyVolume(f)
	v, err := Open(bytes.NewReader(vol), int64(len(vol)))
	if err != nil {
		f.Fatal(err)
	}
	mftOff := uint32(v.boot.mftLCN * v.boot.clusterSize)
	rs := uint32(v.boot.recordSize)
	f.Add(uint32(0x0D), []byte{0x81})
	f.Add(mftOff+0x14, []byte{0x00})
	f.Add(mftOff+5*rs+0x100, []byte{0xff, 0xff})
	f.Add(mftOff+9*rs+0x120, []byte{0x01, 0x00, 0x00, 0x00})
	f.Add(mftOff+16*rs+0x16, []byte{0x00})
	for i := uint32(0); i < 64; i += 4 {
		f.Add(mftOff+i*rs+0x80, []byte{0x20, 0x00})
		f.Add(mftOff+i*rs+0x12, []byte{0x03})
	}
	// The bitmaps and every index block.
	for _, num := range []uint64{recMFT, recBitmap} {
		file, err := v.loadFile(fileRef(num))
		if err != nil {
			f.Fatal(err)
		}
		for _, a := range file.attrs {
			for _, r := range a.runs {
				if r.lcn != sparseLCN {
					f.Add(uint32(r.lcn*v.boot.clusterSize), []byte{0xff, 0x00})
				}
			}
		}
	}
	for num := uint64(0); num < v.nrecs; num++ {
		file, err := v.loadFile(fileRef(num))
		if err != nil {
			continue
		}
		for _, a := range file.extents(attrIndexAllocation, "$I30") {
			for _, r := range a.runs {
				off := uint32(r.lcn * v.boot.clusterSize)
				f.Add(off+0x1FE, []byte{0x00})
				f.Add(off+0x10, []byte{0x05})
				f.Add(off+0x60, []byte{0x41, 0x00, 0x42})
			}
		}
	}
	f.Fuzz(func(t *testing.T, off uint32, patch []byte) {
		if len(patch) > 64 {
			return
		}
		b := append([]byte(nil), vol...)
		copy(b[int(off)%len(b):], patch)
		v, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		problems, err := Check(context.Background(), v, nil)
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Check of an in-memory volume: %v", err)
		}
		for _, p := range problems {
			if p.Kind.String() == "" || p.Detail == "" {
				t.Fatalf("empty problem %+v", p)
			}
		}
	})
}

func BenchmarkCheck(b *testing.B) {
	d := testimg.WinXP()
	f, err := os.Open(testimg.Path(b, d.Name))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	v, err := Open(io.NewSectionReader(f, d.System.Offset, d.System.Size), d.System.Size)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		problems, err := Check(context.Background(), v, nil)
		if err != nil || len(problems) != 0 {
			b.Fatal(err, problems)
		}
	}
}

// TestCheckAfterWrites checks the volumes this package writes: after
// each kind of write, Check must find the volume clean (the write path's
// own tests run third-party oracles; this adds every rule of Check).
func TestCheckAfterWrites(t *testing.T) {
	for _, d := range testimg.Disks() {
		t.Run(d.Name, func(t *testing.T) {
			f, err := os.OpenFile(testimg.Volume(t, d), os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			v, err := OpenRW(f, d.System.Size, nil)
			if err != nil {
				t.Fatal(err)
			}
			step := func(what string, err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				r, err := Open(f, d.System.Size)
				if err != nil {
					t.Fatalf("after %s: %v", what, err)
				}
				problems, err := Check(context.Background(), r, nil)
				if err != nil {
					t.Fatalf("after %s: %v", what, err)
				}
				for _, p := range problems {
					t.Errorf("after %s: %v", what, p)
				}
			}
			big := bytes.Repeat([]byte("0123456789abcdef"), 3<<16)
			step("a small file", v.WriteFile("hello.txt", []byte("hi"), nil))
			step("a 3 MiB file", v.WriteFile("big.bin", big, nil))
			step("nested directories", v.MkdirAll("a/b/c", nil))
			for i := 0; i < 400; i++ {
				if err := v.WriteFile(fmt.Sprintf("a/b/Some Long File Name %03d.txt", i), []byte(fmt.Sprint(i)), nil); err != nil {
					t.Fatal(err)
				}
			}
			step("400 files in one directory", nil)
			for i := 0; i < 400; i += 3 {
				if err := v.Remove(fmt.Sprintf("a/b/Some Long File Name %03d.txt", i)); err != nil {
					t.Fatal(err)
				}
			}
			step("removals", nil)
			step("a rename across directories", v.Rename("big.bin", "a/big moved.bin", false))
			step("a content replaced", v.WriteFile("a/big moved.bin", big[:100<<10], nil))
			step("a tree removed", v.RemoveAll("a"))
		})
	}
}
