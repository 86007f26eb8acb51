package vmdk_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
	"github.com/imagecustom/go-imagecustom/vmdk"
)

// problemsText renders problems one a line, for failure messages.
func problemsText(ps []vmdk.Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("\n\t" + p.String())
	}
	return b.String()
}

// checkClean fails the test unless Check finds nothing wrong at path.
func checkClean(t *testing.T, path string) {
	t.Helper()
	ps, err := vmdk.Check(path)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if len(ps) != 0 {
		t.Fatalf("Check found %d problems in a sound disk:%s", len(ps), problemsText(ps))
	}
}

// TestCheckQemuMade checks disks qemu-img made, in every subformat it
// writes, empty and full, with zeroed-grain entries, as a delta disk, and
// after this package wrote to them: none has a problem.
func TestCheckQemuMade(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	dir := t.TempDir()
	for i, size := range []int64{64 << 10, 3<<20 + 512} {
		src, _ := makeRaw(t, dir, size, uint64(40+i))
		for _, sub := range testimg.VMDKSubformats() {
			t.Run(fmt.Sprintf("%s/%d", sub, size), func(t *testing.T) {
				dst := filepath.Join(t.TempDir(), "disk.vmdk")
				testimg.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat="+sub, src, dst)
				checkClean(t, dst)
			})
			t.Run(fmt.Sprintf("%s/%d/empty", sub, size), func(t *testing.T) {
				dst := filepath.Join(t.TempDir(), "disk.vmdk")
				testimg.Run(t, "qemu-img", "create", "-f", "vmdk", "-o", "subformat="+sub, dst, fmt.Sprint(size))
				checkClean(t, dst)
			})
		}
	}
	t.Run("zeroed_grain", func(t *testing.T) {
		tmp := t.TempDir()
		base := filepath.Join(tmp, "base.vmdk")
		testimg.Run(t, "qemu-img", "create", "-f", "vmdk", "-o", "zeroed_grain=on", base, "4M")
		checkClean(t, base)
	})
	t.Run("delta", func(t *testing.T) {
		tmp := t.TempDir()
		src, _ := makeRaw(t, tmp, 2<<20, 44)
		base := filepath.Join(tmp, "base.vmdk")
		child := filepath.Join(tmp, "child.vmdk")
		testimg.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", src, base)
		testimg.Run(t, "qemu-img", "create", "-f", "vmdk", "-b", "base.vmdk", "-F", "vmdk", child)
		checkClean(t, child)
	})
	t.Run("written", func(t *testing.T) {
		tmp := t.TempDir()
		const size = 5<<20 + 512
		src, _ := makeRaw(t, tmp, size, 45)
		for _, sub := range []string{"monolithicSparse", "twoGbMaxExtentSparse"} {
			dst := filepath.Join(tmp, sub+".vmdk")
			testimg.Run(t, "qemu-img", "create", "-f", "vmdk", "-o", "subformat="+sub, dst, fmt.Sprint(size))
			ref, err := os.Create(filepath.Join(tmp, sub+".raw"))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := os.ReadFile(src)
			ref.Write(raw)
			d, err := vmdk.Open(dst, &vmdk.Options{Write: true})
			if err != nil {
				t.Fatal(err)
			}
			writeRandom(t, d, ref, size, 40, 3)
			ref.Close()
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			checkClean(t, dst)
		}
	})
}

// TestCheckReal checks the files in testdata/real/vmdk and the disk
// fixtures: the sound ones have no problem, the broken ones exactly the
// problem they have.
func TestCheckReal(t *testing.T) {
	cases := []struct {
		name  string
		files []string
		want  []string // substrings of the expected problems, in order
	}{
		{"monolithicSparse.vmdk", nil, nil},
		{"streamOptimized.vmdk", nil, nil},
		{"streamOptimizedWithMarkers.vmdk", nil, nil},
		{"plaso_image.vmdk", nil, nil},
		{"twoGbMaxExtentSparse.vmdk", []string{"twoGbMaxExtentSparse-s001.vmdk"}, nil},
		{"vmfs_thick.vmdk", []string{"vmfs_thick-flat.vmdk"}, nil},
		// A 30 MiB stream cut after 1 MiB: its footer is gone.
		{"govmomi_ttylinux-disk1-truncated.vmdk", nil, []string{"does not end with footer marker"}},
		// The snapshot came without its extent files.
		{"monolithicFlat.vmdk", nil, []string{"extent file monolithicFlat-flat.vmdk"}},
		{"twoGbMaxExtentFlat.vmdk", nil, []string{"extent file twoGbMaxExtentFlat-f001.vmdk"}},
		{"vmfs_thick-000001.vmdk", []string{"vmfs_thick.vmdk", "vmfs_thick-flat.vmdk"}, []string{"extent file vmfs_thick-000001-delta.vmdk"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			names := []string{"real/vmdk/" + c.name}
			for _, f := range c.files {
				names = append(names, "real/vmdk/"+f)
			}
			dir := testimg.CopyAll(t, names...)
			path := filepath.Join(dir, c.name)
			ps, err := vmdk.Check(path)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if len(ps) != len(c.want) {
				t.Fatalf("Check found %d problems, want %d %q:%s", len(ps), len(c.want), c.want, problemsText(ps))
			}
			for i, w := range c.want {
				if !strings.Contains(ps[i].What, w) || ps[i].File != path {
					t.Errorf("problem %d = %s; want one in %s saying %q", i, ps[i], path, w)
				}
			}
		})
	}
	for _, f := range []string{"vmdk/win10-monolithicSparse.vmdk", "vmdk/winxp-monolithicSparse.vmdk", "vmdk/winxp-streamOptimized.vmdk"} {
		t.Run(f, func(t *testing.T) { checkClean(t, testimg.Path(t, f)) })
	}
}

// sparseLayout is where the structures of a qemu-made sparse file are.
type sparseLayout struct {
	b              []byte
	gd, rgd        int64 // byte offsets
	grainSize      int64 // sectors
	desc, descSize int64 // bytes
	le             binary.ByteOrder
	capacity       int64
	compressed     bool
}

func layout(t *testing.T, b []byte) *sparseLayout {
	t.Helper()
	if string(b[:4]) != "KDMV" {
		t.Fatalf("not a sparse file")
	}
	le := binary.LittleEndian
	l := &sparseLayout{b: b, le: le,
		capacity:   int64(le.Uint64(b[12:])),
		grainSize:  int64(le.Uint64(b[20:])),
		desc:       int64(le.Uint64(b[28:])) * 512,
		descSize:   int64(le.Uint64(b[36:])) * 512,
		rgd:        int64(le.Uint64(b[48:])) * 512,
		gd:         int64(le.Uint64(b[56:])) * 512,
		compressed: le.Uint32(b[8:])&(1<<16) != 0,
	}
	return l
}

// gde returns the byte offset of grain directory entry i (redundant: of
// the redundant directory).
func (l *sparseLayout) gde(i int, redundant bool) int64 {
	if redundant {
		return l.rgd + 4*int64(i)
	}
	return l.gd + 4*int64(i)
}

// gte returns the byte offset of grain table entry k of table i.
func (l *sparseLayout) gte(i, k int, redundant bool) int64 {
	return int64(l.le.Uint32(l.b[l.gde(i, redundant):]))*512 + 4*int64(k)
}

func (l *sparseLayout) u32(off int64) uint32      { return l.le.Uint32(l.b[off:]) }
func (l *sparseLayout) put32(off int64, v uint32) { l.le.PutUint32(l.b[off:], v) }
func (l *sparseLayout) put64(off int64, v uint64) { l.le.PutUint64(l.b[off:], v) }

// setDesc rewrites the embedded descriptor's text in its area.
func (l *sparseLayout) setDesc(t *testing.T, fn func(string) string) {
	t.Helper()
	area := l.b[l.desc : l.desc+l.descSize]
	text := string(area)
	if i := strings.IndexByte(text, 0); i >= 0 {
		text = text[:i]
	}
	text = fn(text)
	if len(text) > len(area) {
		t.Fatalf("descriptor of %d bytes does not fit", len(text))
	}
	clear(area)
	copy(area, text)
}

func (l *sparseLayout) replace(t *testing.T, old, new string) {
	t.Helper()
	i := bytes.Index(l.b, []byte(old))
	if i < 0 {
		t.Fatalf("%q not in the file", old)
	}
	copy(l.b[i:], new)
}

// TestCheckCorrupt damages copies of sound disks, one way each, and
// expects Check to name the damage: the file, and what. Where qemu-img
// check also catches it, it must fail too.
func TestCheckCorrupt(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	srcDir := t.TempDir()
	const size = 3<<20 + 512 // 49 grains and a sector
	src, _ := makeRaw(t, srcDir, size, 50)
	mk := func(t *testing.T, sub string) (string, string) {
		dir := t.TempDir()
		dst := filepath.Join(dir, "disk.vmdk")
		testimg.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat="+sub, src, dst)
		return dir, dst
	}
	// edit applies fn to the bytes of file and writes them back.
	edit := func(t *testing.T, file string, fn func(l *sparseLayout)) {
		t.Helper()
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		fn(layout(t, b))
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		sub  string
		fix  string                                      // the fixture to start from instead of a qemu-img conversion
		mod  func(t *testing.T, dir, path string) string // returns the file the problem is in
		what string
		off  int64 // expected offset, -2 for any
		qemu bool  // qemu-img check fails too
	}{
		{name: "grain directory entry past EOF", sub: "monolithicSparse", what: "grain table 0 at sector 2147483647 past the end", // qemu-img check misses it
			mod: func(t *testing.T, dir, path string) string {
				edit(t, path, func(l *sparseLayout) { l.put32(l.gde(0, false), 0x7FFFFFFF) })
				return path
			}},
		{name: "grain table entry past EOF", sub: "monolithicSparse", what: "grain 3 at sector 1000000 past the end", qemu: true,
			mod: func(t *testing.T, dir, path string) string {
				edit(t, path, func(l *sparseLayout) { l.put32(l.gte(0, 3, false), 1000000); l.put32(l.gte(0, 3, true), 1000000) })
				return path
			}},
		{name: "two grain table entries to the same grain", sub: "monolithicSparse", what: "grain 5 at sector",
			mod: func(t *testing.T, dir, path string) string {
				edit(t, path, func(l *sparseLayout) {
					v := l.u32(l.gte(0, 1, false))
					if v == 0 {
						t.Fatal("grain 1 unallocated")
					}
					l.put32(l.gte(0, 5, false), v)
					l.put32(l.gte(0, 5, true), v)
				})
				return path
			}},
		{name: "grain inside the metadata", sub: "monolithicSparse", what: "inside the 128 sectors of metadata",
			mod: func(t *testing.T, dir, path string) string {
				edit(t, path, func(l *sparseLayout) { l.put32(l.gte(0, 2, false), 21); l.put32(l.gte(0, 2, true), 21) })
				return path
			}},
		{name: "redundant grain table differs", sub: "monolithicSparse", what: "redundant grain table 0 differs from the grain table in 1 entries (first: entry 7 is 4242",
			mod: func(t *testing.T, dir, path string) string {
				edit(t, path, func(l *sparseLayout) { l.put32(l.gte(0, 7, true), 4242) })
				return path
			}},
		{name: "redundant directory differs", sub: "monolithicSparse", what: "redundant grain directory entry 0 is 0",
			mod: func(t *testing.T, dir, path string) string {
				edit(t, path, func(l *sparseLayout) { l.put32(l.gde(0, true), 0) })
				return path
			}},
		{name: "grain directory over the header", sub: "monolithicSparse", what: "grain directory at sector 0", // qemu-img check misses it
			mod: func(t *testing.T, dir, path string) string {
				edit(t, path, func(l *sparseLayout) { l.put64(56, 0) })
				return path
			}},
		{name: "unclean shutdown", sub: "monolithicSparse", what: "uncleanShutdown flag set", off: 72,
			mod: func(t *testing.T, dir, path string) string {
				edit(t, path, func(l *sparseLayout) { l.b[72] = 1 })
				return path
			}},
		{name: "newline test", sub: "monolithicSparse", what: "newline test bytes", off: 73,
			mod: func(t *testing.T, dir, path string) string {
				edit(t, path, func(l *sparseLayout) { l.b[75] = '\n' })
				return path
			}},
		{name: "grain size not a power of two", sub: "monolithicSparse", what: "grain size of 96 sectors", off: 20, // qemu-img check misses it
			mod: func(t *testing.T, dir, path string) string {
				edit(t, path, func(l *sparseLayout) { l.put64(20, 96) })
				return path
			}},
		{name: "entries per grain table", sub: "monolithicSparse", what: "256 entries per grain table", off: 44,
			mod: func(t *testing.T, dir, path string) string {
				edit(t, path, func(l *sparseLayout) { l.put32(44, 256) })
				return path
			}},
		{name: "embedded extent size", sub: "monolithicSparse", what: "extent of 6144 sectors, the sparse header's capacity is 6145",
			mod: func(t *testing.T, dir, path string) string {
				edit(t, path, func(l *sparseLayout) { l.replace(t, "RW 6145 SPARSE", "RW 6144 SPARSE") })
				return path
			}},
		{name: "descriptor extent size", sub: "twoGbMaxExtentSparse", what: "extent disk-s001.vmdk of 6144 sectors, its sparse header's capacity is 6145",
			mod: func(t *testing.T, dir, path string) string {
				edit2(t, path, "RW 6145 SPARSE", "RW 6144 SPARSE")
				return path
			}},
		{name: "flat extent too small", sub: "monolithicFlat", what: "extent file disk-flat.vmdk has 3145728 bytes, the extent needs 3146240", // qemu-img check misses it
			mod: func(t *testing.T, dir, path string) string {
				if err := os.Truncate(filepath.Join(dir, "disk-flat.vmdk"), 3<<20); err != nil {
					t.Fatal(err)
				}
				return path
			}},
		{name: "missing extent file", sub: "twoGbMaxExtentSparse", what: "extent file disk-s001.vmdk: open", qemu: true,
			mod: func(t *testing.T, dir, path string) string {
				if err := os.Remove(filepath.Join(dir, "disk-s001.vmdk")); err != nil {
					t.Fatal(err)
				}
				return path
			}},
		{name: "unknown createType", sub: "monolithicFlat", what: `unknown createType "monolithicFlut"`, qemu: true,
			mod: func(t *testing.T, dir, path string) string {
				edit2(t, path, `createType="monolithicFlat"`, `createType="monolithicFlut"`)
				return path
			}},
		{name: "CID format", sub: "monolithicFlat", what: `CID "0012345678" is not 1 to 8 hex digits`,
			mod: func(t *testing.T, dir, path string) string {
				b, _ := os.ReadFile(path)
				i := bytes.Index(b, []byte("CID=")) + 4
				j := i + bytes.IndexByte(b[i:], '\n')
				b = append(b[:i], append([]byte("0012345678"), b[j:]...)...)
				os.WriteFile(path, b, 0o644)
				return path
			}},
		{name: "stream grain record LBA", sub: "streamOptimized", what: "grain record says LBA 999, its grain table entry (grain 2) wants 256",
			mod: func(t *testing.T, dir, path string) string {
				edit(t, path, func(l *sparseLayout) { l.put64(int64(l.u32(l.gte(0, 2, false)))*512, 999) })
				return path
			}},
		{name: "stream record size", sub: "streamOptimized", what: "grain record 1 of 4000000000 compressed bytes",
			mod: func(t *testing.T, dir, path string) string {
				edit(t, path, func(l *sparseLayout) { l.put32(int64(l.u32(l.gte(0, 1, false)))*512+8, 4000000000) })
				return path
			}},
		{name: "stream record not zlib", sub: "streamOptimized", what: "grain record 0 does not start a zlib stream",
			mod: func(t *testing.T, dir, path string) string {
				edit(t, path, func(l *sparseLayout) { l.b[int64(l.u32(l.gte(0, 0, false)))*512+12] = 0x55 })
				return path
			}},
		{name: "stream grain checksum", sub: "streamOptimized", what: "grain 1: zlib: invalid checksum",
			mod: func(t *testing.T, dir, path string) string {
				edit(t, path, func(l *sparseLayout) {
					at := int64(l.u32(l.gte(0, 1, false))) * 512
					l.b[at+12+int64(l.u32(at+8))-1] ^= 0xFF
				})
				return path
			}},
		{name: "stream marker type", sub: "streamOptimized", what: "marker of unknown type 9",
			mod: func(t *testing.T, dir, path string) string {
				// qemu ends its stream with an end-of-stream marker: the
				// last all-zero sector after the last record.
				edit(t, path, func(l *sparseLayout) {
					end := int64(len(l.b))
					for end >= 1024 && bytes.Count(l.b[end-1024:end-512], []byte{0}) == 512 {
						end -= 512
					}
					l.put32(end-512+12, 9)
				})
				return path
			}},
		{name: "footer capacity", fix: "real/vmdk/streamOptimizedWithMarkers.vmdk", what: "footer's capacity is 4096, the header's 2048",
			mod: func(t *testing.T, dir, path string) string {
				edit(t, path, func(l *sparseLayout) { l.put64(int64(len(l.b))-1024+12, 4096) })
				return path
			}},
		{name: "footer grain directory", fix: "real/vmdk/streamOptimizedWithMarkers.vmdk", what: "footer's grain directory at sector 2190, the header's at 2198",
			mod: func(t *testing.T, dir, path string) string {
				edit(t, path, func(l *sparseLayout) { l.put64(int64(len(l.b))-1024+56, 2190) })
				return path
			}},
		{name: "no end-of-stream marker", fix: "real/vmdk/streamOptimizedWithMarkers.vmdk", what: "no end-of-stream marker after the footer",
			mod: func(t *testing.T, dir, path string) string {
				edit(t, path, func(l *sparseLayout) { l.b[len(l.b)-3] = 1 })
				return path
			}},
		{name: "parent CID", sub: "delta", what: "parentCID 0badcafe, the parent base.vmdk has CID",
			mod: func(t *testing.T, dir, path string) string {
				b, _ := os.ReadFile(path)
				i := bytes.Index(b, []byte("parentCID="))
				copy(b[i+10:], "0badcafe")
				os.WriteFile(path, b, 0o644)
				return path
			}},
		{name: "missing parent", sub: "delta", what: "parent base.vmdk: open", qemu: true,
			mod: func(t *testing.T, dir, path string) string {
				os.Remove(filepath.Join(dir, "base.vmdk"))
				return path
			}},
		{name: "parent loop", sub: "delta", what: "parent chain loops",
			mod: func(t *testing.T, dir, path string) string {
				b, _ := os.ReadFile(path)
				cid := string(b[bytes.Index(b, []byte("CID="))+4:][:8])
				base := filepath.Join(dir, "base.vmdk")
				edit(t, base, func(l *sparseLayout) {
					l.setDesc(t, func(s string) string {
						return strings.Replace(s, "parentCID=ffffffff", "parentCID="+cid+"\nparentFileNameHint=\"disk.vmdk\"", 1)
					})
				})
				return base
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var dir, path string
			switch {
			case c.fix != "":
				path = testimg.Copy(t, c.fix)
				dir = filepath.Dir(path)
			case c.sub == "delta":
				dir = t.TempDir()
				testimg.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", src, filepath.Join(dir, "base.vmdk"))
				path = filepath.Join(dir, "disk.vmdk")
				testimg.Run(t, "qemu-img", "create", "-f", "vmdk", "-b", "base.vmdk", "-F", "vmdk", path)
			default:
				dir, path = mk(t, c.sub)
			}
			checkClean(t, path)
			file := c.mod(t, dir, path)
			ps, err := vmdk.Check(path)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			found := false
			for _, p := range ps {
				if strings.Contains(p.What, c.what) && p.File == file && (c.off == 0 || p.Offset == c.off) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no problem in %s saying %q; Check found:%s", file, c.what, problemsText(ps))
			}
			if c.qemu {
				out, err := testimg.RunErr(t, "qemu-img", "check", path)
				if err == nil {
					t.Errorf("qemu-img check passes what Check reports: %s", out)
				}
			}
		})
	}
}

// edit2 replaces old with new (of the same length) in a text file.
func edit2(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%q not in %s", old, path)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCheckBounded makes every grain table entry of a disk point at the
// same grain: Check lists 1000 problems and a last one counting the rest.
func TestCheckBounded(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	dir := t.TempDir()
	path := filepath.Join(dir, "disk.vmdk")
	// 4 GiB: 128 grain tables of 512 entries.
	testimg.Run(t, "qemu-img", "create", "-f", "vmdk", path, "4G")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l := layout(t, b)
	// One grain at the end of the file, and every entry pointing at it.
	grain := uint32(len(b) / 512)
	b = append(b, make([]byte, 64<<10)...)
	l.b = b
	for i := 0; i < 128; i++ {
		for k := 0; k < 512; k++ {
			l.put32(l.gte(i, k, false), grain)
			l.put32(l.gte(i, k, true), grain)
		}
	}
	os.WriteFile(path, b, 0o644)
	ps, err := vmdk.Check(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1001 {
		t.Fatalf("%d problems, want 1001", len(ps))
	}
	want := fmt.Sprintf("and %d more problems", 128*512-1-1000)
	if ps[1000].What != want {
		t.Errorf("last problem %q, want %q", ps[1000].What, want)
	}
	if !strings.Contains(ps[0].What, "grain 1 at sector") {
		t.Errorf("first problem %s", ps[0])
	}
}

// TestCheckCannot: a missing file and a file that is no VMDK are errors,
// not problems.
func TestCheckCannot(t *testing.T) {
	dir := t.TempDir()
	if _, err := vmdk.Check(filepath.Join(dir, "none.vmdk")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
	other := filepath.Join(dir, "other.vmdk")
	os.WriteFile(other, []byte("hello, world\n"), 0o644)
	var ce *vmdk.CorruptError
	if _, err := vmdk.Check(other); !errors.Is(err, vmdk.ErrCorrupt) || !errors.As(err, &ce) || ce.File != other {
		t.Errorf("text file: %v, want a CorruptError naming it", err)
	}
}

func TestProblemString(t *testing.T) {
	for _, c := range []struct {
		p    vmdk.Problem
		want string
	}{
		{vmdk.Problem{File: "a.vmdk", Offset: 0x48, What: "unclean"}, "a.vmdk@0x48: unclean"},
		{vmdk.Problem{File: "a.vmdk", Offset: -1, What: "no CID"}, "a.vmdk: no CID"},
	} {
		if got := c.p.String(); got != c.want {
			t.Errorf("String() = %q, want %q", got, c.want)
		}
	}
}

// Check lists what is wrong with a disk rather than failing on the first
// problem: here a VMware stream cut short in transfer.
func ExampleCheck() {
	problems, err := vmdk.Check("../testdata/real/vmdk/govmomi_ttylinux-disk1-truncated.vmdk")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range problems {
		fmt.Println(p)
	}
	// Output:
	// ../testdata/real/vmdk/govmomi_ttylinux-disk1-truncated.vmdk@0xffa00: the header defers the grain directory to a footer, and the file does not end with footer marker, footer and end-of-stream marker (truncated?)
}

// TestCheckHostileHeader gives Check headers and directories that claim
// far more than the file holds: it reports them with bounded memory.
func TestCheckHostileHeader(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	cases := []struct {
		name string
		mod  func(l *sparseLayout)
		what string
	}{
		{"capacity 2^40", func(l *sparseLayout) { l.put64(12, 1<<40) }, "-byte file holds"},
		{"capacity 2^30, grains of a sector", func(l *sparseLayout) { l.put64(12, 1<<30); l.put64(20, 1) }, "-byte file holds"},
		{"every directory entry the same table", func(l *sparseLayout) {
			for i := 1; i < 64; i++ {
				l.put32(l.gde(i, false), l.u32(l.gde(0, false)))
				l.put32(l.gde(i, true), l.u32(l.gde(0, true)))
			}
		}, "grain table 1 at sector"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "disk.vmdk")
			testimg.Run(t, "qemu-img", "create", "-f", "vmdk", path, "2G") // 64 grain tables
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c.mod(layout(t, b))
			os.WriteFile(path, b, 0o644)
			var ps []vmdk.Problem
			n := allocated(func() { ps, err = vmdk.Check(path) })
			if err != nil {
				t.Fatal(err)
			}
			if n > 16<<20 {
				t.Errorf("Check allocated %d bytes for a %d-byte file", n, len(b))
			}
			for _, p := range ps {
				if strings.Contains(p.What, c.what) {
					return
				}
			}
			t.Fatalf("no problem saying %q:%s", c.what, problemsText(ps))
		})
	}
}
