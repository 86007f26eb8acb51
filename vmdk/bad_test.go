package vmdk_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
	"github.com/imagecustom/go-imagecustom/vmdk"
)

// openRead opens the disk at path and reads all of it (at most max
// bytes), returning the first error and the bytes read.
func openRead(path string, max int64) ([]byte, error) {
	d, err := vmdk.Open(path, nil)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	if d.Size() > max {
		return nil, fmt.Errorf("disk of %d bytes", d.Size())
	}
	out := make([]byte, d.Size())
	for off := int64(0); off < d.Size(); off += 1 << 20 {
		n := min(1<<20, d.Size()-off)
		if _, err := d.ReadAt(out[off:off+n], off); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
	}
	return out, nil
}

// allocated returns the bytes allocated while fn ran.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// maxAlloc is what opening and reading one of the small test disks may
// allocate: the disk itself is a few MiB.
const maxAlloc = 64 << 20

// wantCorrupt fails the test unless err is a *CorruptError about file
// (and at offset, unless offset is -2).
func wantCorrupt(t *testing.T, err error, file string, offset int64) {
	t.Helper()
	var ce *vmdk.CorruptError
	switch {
	case !errors.Is(err, vmdk.ErrCorrupt):
		t.Fatalf("error %v, want vmdk.ErrCorrupt", err)
	case !errors.As(err, &ce):
		t.Fatalf("error %v is no *vmdk.CorruptError", err)
	case ce.File != file:
		t.Fatalf("error %v names %s, want %s", err, ce.File, file)
	case offset != -2 && ce.Offset != offset:
		t.Fatalf("error %v at offset %d, want %d", err, ce.Offset, offset)
	}
}

// TestTruncated cuts copies of disks of every sparse subformat and of a
// flat extent at many points: opening and reading each either fails with
// ErrCorrupt naming the cut file, or (when only padding was cut) reads
// the same disk. Check agrees: it finds a problem exactly when reading fails.
func TestTruncated(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	srcDir := t.TempDir()
	const size = 1<<20 + 512
	src, want := makeRaw(t, srcDir, size, 60)
	wantSum := sha256.Sum256(want)
	type disk struct {
		sub  string
		file string // the file to cut, in the folder of disk.vmdk
	}
	for _, c := range []disk{
		{"monolithicSparse", "disk.vmdk"},
		{"streamOptimized", "disk.vmdk"},
		{"twoGbMaxExtentSparse", "disk-s001.vmdk"},
		{"monolithicFlat", "disk-flat.vmdk"},
		{"monolithicFlat", "disk.vmdk"},
	} {
		t.Run(c.sub+"/"+c.file, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "disk.vmdk")
			testimg.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat="+c.sub, src, path)
			victim := filepath.Join(dir, c.file)
			orig, err := os.ReadFile(victim)
			if err != nil {
				t.Fatal(err)
			}
			// Every 512 bytes through the metadata, every 509 bytes
			// (so cuts land inside sectors too) through the rest.
			var cuts []int64
			for cut := int64(0); cut < int64(len(orig)); {
				cuts = append(cuts, cut)
				switch {
				case cut < 4:
					cut++
				case cut < 80<<10:
					cut += 512
				default:
					cut += 509 * 7
				}
			}
			failed := 0
			for _, cut := range cuts {
				if err := os.WriteFile(victim, orig[:cut], 0o644); err != nil {
					t.Fatal(err)
				}
				var got []byte
				n := allocated(func() { got, err = openRead(path, 1<<30) })
				if n > maxAlloc {
					t.Errorf("cut at %d: %d bytes allocated", cut, n)
				}
				ps, cerr := vmdk.Check(path)
				if err != nil && cerr == nil && len(ps) == 0 {
					t.Errorf("cut at %d: Check finds nothing wrong, reading fails: %v", cut, err)
				}
				if err == nil && (cerr != nil || len(ps) > 0) {
					t.Errorf("cut at %d: the disk reads, Check says %v%s", cut, cerr, problemsText(ps))
				}
				if err != nil {
					failed++
					if c.file == "disk.vmdk" && c.sub == "monolithicFlat" {
						// A cut descriptor: corrupt or some lines lost.
						if !errors.Is(err, vmdk.ErrCorrupt) {
							t.Fatalf("cut at %d: %v, want ErrCorrupt", cut, err)
						}
						continue
					}
					wantCorrupt(t, err, victim, -2)
					continue
				}
				if sha256.Sum256(got) != wantSum {
					t.Fatalf("cut at %d: read a different disk without an error (first difference at %d)", cut, firstDiff(got, want))
				}
			}
			if failed == 0 {
				t.Fatalf("no cut failed")
			}
			t.Logf("%d cuts, %d failed", len(cuts), failed)
		})
	}
}

// TestBadHeader damages single header fields of a sparse disk, among them
// sizes and offsets that overflow when multiplied by the sector size:
// Open, or the read after it, fails with a typed error naming the field,
// without a panic or a large allocation.
func TestBadHeader(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	srcDir := t.TempDir()
	const size = 3<<20 + 512
	src, _ := makeRaw(t, srcDir, size, 61)
	le := func(b []byte, off int, v uint64, n int) {
		for i := 0; i < n; i++ {
			b[off+i] = byte(v >> (8 * i))
		}
	}
	cases := []struct {
		name   string
		sub    string
		field  int
		width  int
		value  uint64
		want   error
		offset int64 // of the CorruptError; -2 any
	}{
		{"grain size 0", "monolithicSparse", 20, 8, 0, vmdk.ErrCorrupt, 20},
		{"grain size 3", "monolithicSparse", 20, 8, 3, vmdk.ErrCorrupt, 20},
		{"grain size 2^40", "monolithicSparse", 20, 8, 1 << 40, vmdk.ErrCorrupt, 20},
		{"grain size 2^63", "monolithicSparse", 20, 8, 1 << 63, vmdk.ErrCorrupt, 20},
		{"capacity 0", "monolithicSparse", 12, 8, 0, vmdk.ErrCorrupt, 12},
		{"capacity overflows bytes", "monolithicSparse", 12, 8, 1<<54 + 1, vmdk.ErrCorrupt, 12},
		{"capacity negative", "monolithicSparse", 12, 8, 1<<64 - 1, vmdk.ErrCorrupt, 12},
		{"capacity 2^40", "monolithicSparse", 12, 8, 1 << 40, vmdk.ErrCorrupt, -2},
		{"capacity smaller than the descriptor", "monolithicSparse", 12, 8, 6000, vmdk.ErrCorrupt, 12},
		{"entries per table 0", "monolithicSparse", 44, 4, 0, vmdk.ErrCorrupt, 44},
		{"entries per table huge", "monolithicSparse", 44, 4, 1<<32 - 1, vmdk.ErrCorrupt, 44},
		{"entries per table 4096", "monolithicSparse", 44, 4, 4096, vmdk.ErrCorrupt, 44},
		{"directory past EOF", "monolithicSparse", 56, 8, 1 << 30, vmdk.ErrCorrupt, 56},
		{"directory overflows bytes", "monolithicSparse", 56, 8, 1<<54 + 1, vmdk.ErrCorrupt, 56},
		{"directory at sector 0", "monolithicSparse", 56, 8, 0, vmdk.ErrCorrupt, -2},
		{"redundant directory past EOF", "monolithicSparse", 48, 8, 1 << 40, vmdk.ErrCorrupt, 48},
		{"descriptor size overflows bytes", "monolithicSparse", 36, 8, 1<<54 + 1, vmdk.ErrCorrupt, 28},
		{"descriptor size huge", "monolithicSparse", 36, 8, 1 << 40, vmdk.ErrCorrupt, 28},
		{"descriptor past EOF", "monolithicSparse", 28, 8, 1 << 40, vmdk.ErrCorrupt, 28},
		{"descriptor offset overflows bytes", "monolithicSparse", 28, 8, 1<<54 + 1, vmdk.ErrCorrupt, 28},
		{"descriptor offset negative", "monolithicSparse", 28, 8, 1<<63 + 1, vmdk.ErrCorrupt, 28},
		{"descriptor across EOF", "monolithicSparse", 28, 8, 5880, vmdk.ErrCorrupt, 28},
		{"version 4", "monolithicSparse", 4, 4, 4, vmdk.ErrUnsupported, 0},
		{"incompatible flag", "monolithicSparse", 8, 4, 0x80003, vmdk.ErrUnsupported, 0},
		{"compression 7", "streamOptimized", 77, 2, 7, vmdk.ErrUnsupported, 0},
		{"stream grain size 2^21", "streamOptimized", 20, 8, 1 << 21, nil, -2},
		{"stream grain size 2^20", "streamOptimized", 20, 8, 1 << 20, nil, -2},
		{"stream without markers, grain size 2^21", "streamOptimized", -1, 0, 0, nil, -2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "disk.vmdk")
			testimg.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat="+c.sub, src, path)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if c.field < 0 {
				le(b, 8, 0x10003, 4) // compressed, no markers
				le(b, 20, 1<<21, 8)
			} else {
				le(b, c.field, c.value, c.width)
			}
			os.WriteFile(path, b, 0o644)
			var rerr error
			n := allocated(func() { _, rerr = openRead(path, 1<<30) })
			if n > maxAlloc {
				t.Errorf("%d bytes allocated", n)
			}
			if rerr == nil && c.want != nil {
				t.Fatalf("read the damaged disk without an error")
			}
			switch {
			case c.want == nil: // no error, or a typed one
				if rerr != nil && !errors.Is(rerr, vmdk.ErrCorrupt) && !errors.Is(rerr, vmdk.ErrUnsupported) {
					t.Fatalf("error %v, want ErrCorrupt or ErrUnsupported", rerr)
				}
			case c.want == vmdk.ErrCorrupt:
				wantCorrupt(t, rerr, path, c.offset)
			default:
				if !errors.Is(rerr, c.want) {
					t.Fatalf("error %v, want %v", rerr, c.want)
				}
			}
			t.Log(rerr)
		})
	}
}

// TestBadTables damages grain directories, grain tables and grain records:
// Open succeeds and reading the disk fails with ErrCorrupt at the damage.
func TestBadTables(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	srcDir := t.TempDir()
	src, _ := makeRaw(t, srcDir, 3<<20+512, 62)
	cases := []struct {
		name string
		sub  string
		mod  func(l *sparseLayout) int64 // returns the expected offset, -2 any
	}{
		{"directory entry past EOF", "monolithicSparse", func(l *sparseLayout) int64 {
			l.put32(l.gde(0, false), 0x7FFFFFFF)
			return l.gde(0, false)
		}},
		{"directory entry at the last sector", "monolithicSparse", func(l *sparseLayout) int64 {
			l.put32(l.gde(0, false), uint32(len(l.b)/512-1))
			return l.gde(0, false)
		}},
		{"grain past EOF", "monolithicSparse", func(l *sparseLayout) int64 {
			l.put32(l.gte(0, 0, false), 0xFFFFFFFF)
			return 0xFFFFFFFF * 512
		}},
		{"grain across EOF", "monolithicSparse", func(l *sparseLayout) int64 {
			s := uint32(len(l.b)/512 - 1)
			l.put32(l.gte(0, 0, false), s)
			return int64(s) * 512
		}},
		{"record LBA", "streamOptimized", func(l *sparseLayout) int64 {
			at := int64(l.u32(l.gte(0, 1, false))) * 512
			l.put64(at, 12345)
			return at
		}},
		{"record size huge", "streamOptimized", func(l *sparseLayout) int64 {
			at := int64(l.u32(l.gte(0, 1, false))) * 512
			l.put32(at+8, 0xFFFFFFFF)
			return at + 8
		}},
		{"record size 0", "streamOptimized", func(l *sparseLayout) int64 {
			at := int64(l.u32(l.gte(0, 1, false))) * 512
			l.put32(at+8, 0)
			return at + 8
		}},
		{"record past EOF", "streamOptimized", func(l *sparseLayout) int64 {
			l.put32(l.gte(0, 1, false), uint32(len(l.b)/512))
			return int64(len(l.b))
		}},
		{"record not zlib", "streamOptimized", func(l *sparseLayout) int64 {
			at := int64(l.u32(l.gte(0, 1, false))) * 512
			copy(l.b[at+12:], bytes.Repeat([]byte{0xAB}, 64))
			return at + 12
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "disk.vmdk")
			testimg.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat="+c.sub, src, path)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			off := c.mod(layout(t, b))
			os.WriteFile(path, b, 0o644)
			d, err := vmdk.Open(path, nil)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer d.Close()
			_, err = openRead(path, 1<<30)
			wantCorrupt(t, err, path, off)
		})
	}
}

// TestBadDescriptor opens disks whose descriptors or chains are wrong:
// missing extent and parent files, loops, content ID mismatches, extents
// whose sizes overflow.
func TestBadDescriptor(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	srcDir := t.TempDir()
	src, _ := makeRaw(t, srcDir, 2<<20, 63)
	// chain makes base.vmdk (monolithicSparse) and child.vmdk (its delta
	// disk) in a new folder.
	chain := func(t *testing.T) string {
		dir := t.TempDir()
		testimg.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", src, filepath.Join(dir, "base.vmdk"))
		testimg.Run(t, "qemu-img", "create", "-f", "vmdk", "-b", "base.vmdk", "-F", "vmdk", filepath.Join(dir, "child.vmdk"))
		return dir
	}
	// setDesc rewrites the embedded descriptor of a sparse file.
	setDesc := func(t *testing.T, path string, fn func(string) string) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		layout(t, b).setDesc(t, fn)
		os.WriteFile(path, b, 0o644)
	}
	cid := func(t *testing.T, path string) string {
		b, _ := os.ReadFile(path)
		i := bytes.Index(b, []byte("\nCID=")) + 5
		return string(b[i : i+bytes.IndexByte(b[i:], '\n')])
	}
	cases := []struct {
		name  string
		setup func(t *testing.T) string // returns the path to open
		want  []error
	}{
		{"missing extent file", func(t *testing.T) string {
			dir := t.TempDir()
			path := filepath.Join(dir, "disk.vmdk")
			testimg.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", src, path)
			os.Remove(filepath.Join(dir, "disk-s001.vmdk"))
			return path
		}, []error{fs.ErrNotExist}},
		{"missing flat file", func(t *testing.T) string {
			dir := t.TempDir()
			path := filepath.Join(dir, "disk.vmdk")
			testimg.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=monolithicFlat", src, path)
			os.Remove(filepath.Join(dir, "disk-flat.vmdk"))
			return path
		}, []error{fs.ErrNotExist}},
		{"missing disk", func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "none.vmdk")
		}, []error{fs.ErrNotExist}},
		{"missing parent", func(t *testing.T) string {
			dir := chain(t)
			os.Remove(filepath.Join(dir, "base.vmdk"))
			return filepath.Join(dir, "child.vmdk")
		}, []error{vmdk.ErrChain, fs.ErrNotExist}},
		{"parent CID mismatch", func(t *testing.T) string {
			dir := chain(t)
			child := filepath.Join(dir, "child.vmdk")
			setDesc(t, child, func(s string) string {
				i := strings.Index(s, "parentCID=") + 10
				return s[:i] + "0badcafe" + s[i+strings.IndexByte(s[i:], '\n'):]
			})
			return child
		}, []error{vmdk.ErrChain}},
		{"parent is itself", func(t *testing.T) string {
			dir := chain(t)
			child := filepath.Join(dir, "child.vmdk")
			c := cid(t, child)
			setDesc(t, child, func(s string) string {
				s = strings.Replace(s, `parentFileNameHint="base.vmdk"`, `parentFileNameHint="child.vmdk"`, 1)
				i := strings.Index(s, "parentCID=") + 10
				return s[:i] + c + s[i+strings.IndexByte(s[i:], '\n'):]
			})
			return child
		}, []error{vmdk.ErrChain}},
		{"parent loop", func(t *testing.T) string {
			dir := chain(t)
			child := filepath.Join(dir, "child.vmdk")
			c := cid(t, child)
			setDesc(t, filepath.Join(dir, "base.vmdk"), func(s string) string {
				return strings.Replace(s, "parentCID=ffffffff", "parentCID="+c+"\nparentFileNameHint=\"child.vmdk\"", 1)
			})
			return child
		}, []error{vmdk.ErrChain}},
		{"parent loop through another name", func(t *testing.T) string {
			dir := chain(t)
			child := filepath.Join(dir, "child.vmdk")
			c := cid(t, child)
			setDesc(t, filepath.Join(dir, "base.vmdk"), func(s string) string {
				return strings.Replace(s, "parentCID=ffffffff", "parentCID="+c+"\nparentFileNameHint=\"./sub/../child.vmdk\"", 1)
			})
			os.Mkdir(filepath.Join(dir, "sub"), 0o755)
			return child
		}, []error{vmdk.ErrChain}},
		{"parentCID without a hint", func(t *testing.T) string {
			dir := chain(t)
			child := filepath.Join(dir, "child.vmdk")
			setDesc(t, child, func(s string) string {
				return strings.Replace(s, `parentFileNameHint="base.vmdk"`, "", 1)
			})
			return child
		}, []error{vmdk.ErrChain}},
		{"extents overflow", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "disk.vmdk")
			var b strings.Builder
			b.WriteString("version=1\nCID=12345678\nparentCID=ffffffff\ncreateType=\"custom\"\n")
			for i := 0; i < 5000; i++ {
				b.WriteString("RW 4398046511104 ZERO\n")
			}
			os.WriteFile(path, []byte(b.String()), 0o644)
			return path
		}, []error{vmdk.ErrCorrupt}},
		{"sparse extent that is a descriptor", func(t *testing.T) string {
			dir := t.TempDir()
			path := filepath.Join(dir, "disk.vmdk")
			os.WriteFile(path, []byte("version=1\nCID=12345678\nparentCID=ffffffff\ncreateType=\"twoGbMaxExtentSparse\"\nRW 100 SPARSE \"disk.vmdk\"\n"), 0o644)
			return path
		}, []error{vmdk.ErrCorrupt}},
		{"sparse extent without a header", func(t *testing.T) string {
			dir := t.TempDir()
			path := filepath.Join(dir, "disk.vmdk")
			os.WriteFile(path, []byte("version=1\nCID=12345678\nparentCID=ffffffff\ncreateType=\"twoGbMaxExtentSparse\"\nRW 100 SPARSE \"x.vmdk\"\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "x.vmdk"), []byte("KDMV"), 0o644)
			return path
		}, []error{vmdk.ErrCorrupt}},
		{"empty file", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "disk.vmdk")
			os.WriteFile(path, nil, 0o644)
			return path
		}, []error{vmdk.ErrCorrupt}},
		{"descriptor too big", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "disk.vmdk")
			os.WriteFile(path, bytes.Repeat([]byte("# createType\n"), 1<<17), 0o644)
			return path
		}, []error{vmdk.ErrCorrupt}},
		{"parent is a folder", func(t *testing.T) string {
			dir := chain(t)
			os.Remove(filepath.Join(dir, "base.vmdk"))
			os.Mkdir(filepath.Join(dir, "base.vmdk"), 0o755)
			return filepath.Join(dir, "child.vmdk")
		}, []error{vmdk.ErrChain}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.setup(t)
			var err error
			n := allocated(func() { _, err = openRead(path, 1<<30) })
			if n > maxAlloc {
				t.Errorf("%d bytes allocated", n)
			}
			for _, w := range c.want {
				if !errors.Is(err, w) {
					t.Errorf("error %v, want %v", err, w)
				}
			}
			// Check lists what is wrong rather than failing, except for a
			// missing disk.
			ps, cerr := vmdk.Check(path)
			if c.name == "missing disk" {
				if !errors.Is(cerr, fs.ErrNotExist) {
					t.Errorf("Check: %v, want fs.ErrNotExist", cerr)
				}
				return
			}
			if cerr == nil && len(ps) == 0 {
				t.Errorf("Check found nothing wrong")
			}
		})
	}
}

// TestDescriptorQuoting: descriptor values are quoted, not escaped (VMware
// writes Windows paths as they are), and what is read is written back.
func TestDescriptorQuoting(t *testing.T) {
	text := "version=1\nCID=0000abcd\nparentCID=12345678\nparentFileNameHint=\"C:\\new\\base.vmdk\"\n" +
		"createType=\"vmfs\"\nRW 100 VMFS \"x\\ty-flat.vmdk\" 4\nRW 5 ZERO\nddb.note = \"a \\\"b\\\" c\"\n"
	d, err := vmdk.ParseDescriptor([]byte(text), "d.vmdk")
	if err != nil {
		t.Fatal(err)
	}
	if d.ParentFileNameHint != `C:\new\base.vmdk` {
		t.Errorf("parentFileNameHint %q", d.ParentFileNameHint)
	}
	want := []vmdk.Extent{
		{Access: "RW", Sectors: 100, Type: "VMFS", File: `x\ty-flat.vmdk`, Offset: 4},
		{Access: "RW", Sectors: 5, Type: "ZERO"},
	}
	if fmt.Sprint(d.Extents) != fmt.Sprint(want) {
		t.Errorf("extents %+v, want %+v", d.Extents, want)
	}
	if v := d.DDBValue("ddb.note"); v != `a \"b\" c` {
		t.Errorf("ddb.note %q", v)
	}
	out := string(d.Bytes())
	for _, line := range []string{`parentFileNameHint="C:\new\base.vmdk"`, `RW 100 VMFS "x\ty-flat.vmdk" 4`, "RW 5 ZERO\n", `ddb.note = "a \"b\" c"`} {
		if !strings.Contains(out, line) {
			t.Errorf("Bytes() lacks %q:\n%s", line, out)
		}
	}
}
