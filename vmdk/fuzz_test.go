package vmdk

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// memFile is a read-only host file in memory.
type memFile struct {
	name string
	b    []byte
}

func (m *memFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if off+int64(n) == int64(len(m.b)) {
		// Also a full read that ends at the end of the file: io.ReaderAt
		// allows it, bytes.Reader does it, and callers must cope.
		return n, io.EOF
	}
	return n, nil
}

func (m *memFile) WriteAt([]byte, int64) (int, error) { return 0, fs.ErrPermission }
func (m *memFile) Close() error                       { return nil }
func (m *memFile) Truncate(int64) error               { return fs.ErrPermission }
func (m *memFile) Sync() error                        { return nil }
func (m *memFile) Stat() (fs.FileInfo, error)         { return memInfo{m}, nil }

type memInfo struct{ m *memFile }

func (i memInfo) Name() string       { return filepath.Base(i.m.name) }
func (i memInfo) Size() int64        { return int64(len(i.m.b)) }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

// memOptions opens the named in-memory files and nothing else.
func memOptions(files map[string][]byte) *Options {
	return &Options{OpenFile: func(name string, flag int) (File, error) {
		b, ok := files[name]
		if !ok || flag != os.O_RDONLY {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		return &memFile{name: name, b: b}, nil
	}}
}

// fuzzDisk is where the fuzzed file lives in memory.
const fuzzDisk = "/fuzz/disk.vmdk"

// readCapped opens the in-memory disk and reads up to 8 MiB of it, in
// pieces that cross grain boundaries, returning the first error.
func readCapped(opts *Options) error {
	d, err := Open(fuzzDisk, opts)
	if err != nil {
		return err
	}
	defer d.Close()
	buf := make([]byte, 96<<10)
	for off := int64(0); off < min(d.Size(), 8<<20); off += int64(len(buf)) {
		if _, err := d.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
	}
	if d.Size() > 8<<20 { // and the end
		if _, err := d.ReadAt(buf, d.Size()-int64(len(buf))); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
	}
	return nil
}

// checkTyped fails the test on an error that matches none of the
// package's sentinels (and is no missing file).
func checkTyped(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []error{ErrCorrupt, ErrUnsupported, ErrChain, ErrUnclean, ErrReadOnly, fs.ErrNotExist} {
		if errors.Is(err, s) {
			var ce *CorruptError
			if errors.Is(err, ErrCorrupt) && !errors.As(err, &ce) {
				t.Fatalf("ErrCorrupt without a *CorruptError: %v", err)
			}
			return
		}
	}
	t.Fatalf("untyped error: %v", err)
}

// fuzzSparseFile opens, reads and checks b as a monolithic sparse file.
func fuzzSparseFile(t *testing.T, b []byte) {
	opts := memOptions(map[string][]byte{fuzzDisk: b})
	rerr := readCapped(opts)
	checkTyped(t, rerr)
	ps, cerr := check(fuzzDisk, opts)
	if cerr != nil {
		checkTyped(t, cerr)
		return
	}
	if len(ps) > maxProblems+1 {
		t.Fatalf("%d problems", len(ps))
	}
	if rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && !errors.Is(rerr, ErrUnsupported) && len(ps) == 0 {
		t.Fatalf("Check finds nothing wrong; reading fails: %v", rerr)
	}
}

// Builders of small disks, for seeds.

const (
	seedGrain    = 8  // sectors
	seedCapacity = 64 // sectors: 8 grains
)

// seedData returns the content of a seed disk: grains of data, of zeros,
// of a pattern, and an unwritten one.
func seedData() []byte {
	b := make([]byte, seedCapacity*sectorSize)
	for i := range b {
		switch i / (seedGrain * sectorSize) {
		case 0, 5:
			b[i] = byte(i*7 + i>>9)
		case 2:
			b[i] = byte(i / 512)
		case 7:
			if i%1000 == 0 {
				b[i] = 1
			}
		}
	}
	return b
}

func putHeader(b []byte, flags uint32, version uint32, gd, rgd, overhead int64, compression uint16, createType string) {
	le := binary.LittleEndian
	copy(b, sparseMagic)
	le.PutUint32(b[4:], version)
	le.PutUint32(b[8:], flags)
	le.PutUint64(b[12:], seedCapacity)
	le.PutUint64(b[20:], seedGrain)
	le.PutUint64(b[28:], 1)
	le.PutUint64(b[36:], 1)
	le.PutUint32(b[44:], 512)
	le.PutUint64(b[48:], uint64(rgd))
	le.PutUint64(b[56:], uint64(gd))
	le.PutUint64(b[64:], uint64(overhead))
	copy(b[73:], "\n \r\n")
	le.PutUint16(b[77:], compression)
	desc := fmt.Sprintf("# Disk DescriptorFile\nversion=1\nCID=1234abcd\nparentCID=ffffffff\ncreateType=%q\nRW %d SPARSE \"disk.vmdk\"\nddb.adapterType = \"ide\"\n", createType, seedCapacity)
	copy(b[sectorSize:2*sectorSize], desc)
}

// buildSparse builds a monolithicSparse file holding data, laid out as
// qemu does: header, descriptor, redundant directory and table,
// directory and table, grains.
func buildSparse(data []byte) []byte {
	const rgd, rgt, gd, gt, overhead = 2, 3, 7, 8, 16
	out := make([]byte, overhead*sectorSize)
	putHeader(out, flagNewlineTest|flagRedundantGT, 1, gd, rgd, overhead, 0, "monolithicSparse")
	le := binary.LittleEndian
	le.PutUint32(out[rgd*sectorSize:], rgt)
	le.PutUint32(out[gd*sectorSize:], gt)
	for g := 0; g < seedCapacity/seedGrain; g++ {
		grain := data[g*seedGrain*sectorSize : (g+1)*seedGrain*sectorSize]
		if g == 4 || bytes.Count(grain, []byte{0}) == len(grain) && g != 3 {
			continue // unwritten
		}
		at := uint32(len(out) / sectorSize)
		out = append(out, grain...)
		le.PutUint32(out[gt*sectorSize+4*g:], at)
		le.PutUint32(out[rgt*sectorSize+4*g:], at)
	}
	return out
}

// buildStream builds a streamOptimized file holding data as VMware
// streams it: header with the directory at the end, descriptor, grain
// records, grain table, directory, footer and end-of-stream markers.
func buildStream(data []byte) []byte {
	const overhead = 2
	out := make([]byte, overhead*sectorSize)
	flags := uint32(flagNewlineTest | flagCompressed | flagMarkers)
	putHeader(out, flags, 3, int64(-1), 0, overhead, 1, "streamOptimized")
	le := binary.LittleEndian
	pad := func() { out = append(out, make([]byte, (sectorSize-len(out)%sectorSize)%sectorSize)...) }
	marker := func(n uint64, typ uint32) {
		m := make([]byte, sectorSize)
		le.PutUint64(m, n)
		le.PutUint32(m[12:], typ)
		out = append(out, m...)
	}
	gt := make([]byte, 4*sectorSize)
	for g := 0; g < seedCapacity/seedGrain; g++ {
		grain := data[g*seedGrain*sectorSize : (g+1)*seedGrain*sectorSize]
		if bytes.Count(grain, []byte{0}) == len(grain) {
			continue
		}
		var z bytes.Buffer
		w := zlib.NewWriter(&z)
		w.Write(grain)
		w.Close()
		le.PutUint32(gt[4*g:], uint32(len(out)/sectorSize))
		rec := make([]byte, 12)
		le.PutUint64(rec, uint64(g*seedGrain))
		le.PutUint32(rec[8:], uint32(z.Len()))
		out = append(append(out, rec...), z.Bytes()...)
		pad()
	}
	marker(4, markerGT)
	gtAt := len(out) / sectorSize
	out = append(out, gt...)
	marker(1, markerGD)
	gdAt := len(out) / sectorSize
	gd := make([]byte, sectorSize)
	le.PutUint32(gd, uint32(gtAt))
	out = append(out, gd...)
	marker(1, markerFooter)
	footer := make([]byte, 2*sectorSize) // putHeader writes a descriptor too
	putHeader(footer, flags, 3, int64(gdAt), 0, overhead, 1, "streamOptimized")
	out = append(out, footer[:sectorSize]...)
	marker(0, markerEOS)
	return out
}

// TestSeedBuilders: the seed builders make sound disks, as this package,
// Check and qemu-img read them.
func TestSeedBuilders(t *testing.T) {
	want := seedData()
	for name, b := range map[string][]byte{"sparse": buildSparse(want), "stream": buildStream(want)} {
		t.Run(name, func(t *testing.T) {
			opts := memOptions(map[string][]byte{fuzzDisk: b})
			d, err := Open(fuzzDisk, opts)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, d.Size())
			if _, err := d.ReadAt(got, 0); err != nil {
				t.Fatal(err)
			}
			d.Close()
			if !bytes.Equal(got, want) {
				t.Fatalf("reads other data")
			}
			ps, err := check(fuzzDisk, opts)
			if err != nil || len(ps) != 0 {
				t.Fatalf("Check: %v %v", err, ps)
			}
			path := filepath.Join(t.TempDir(), "disk.vmdk")
			os.WriteFile(path, b, 0o644)
			raw := filepath.Join(t.TempDir(), "disk.raw")
			testimg.Run(t, "qemu-img", "convert", "-f", "vmdk", "-O", "raw", path, raw)
			q, _ := os.ReadFile(raw)
			if !bytes.Equal(q, want) {
				t.Fatalf("qemu-img reads other data")
			}
		})
	}
}

// realSeed returns a fixture's bytes for a seed, nil if it is missing.
func realSeed(f *testing.F, name string) []byte {
	dir := testimg.Dir(f)
	for _, codec := range []string{"", ".xz"} {
		if _, err := os.Stat(filepath.Join(dir, name+codec)); err == nil {
			return testimg.Bytes(f, name)
		}
	}
	return nil
}

// FuzzDescriptor parses descriptor text; what parses renders to text that
// parses to the same descriptor and renders the same again.
func FuzzDescriptor(f *testing.F) {
	for _, name := range []string{"monolithicFlat.vmdk", "twoGbMaxExtentFlat.vmdk", "twoGbMaxExtentSparse.vmdk", "vmfs_thick.vmdk", "vmfs_thick-000001.vmdk"} {
		if b := realSeed(f, "real/vmdk/"+name); b != nil {
			f.Add(b)
		}
	}
	seed := buildSparse(seedData())
	f.Add(seed[sectorSize : 2*sectorSize])
	f.Add([]byte("version=1\r\nCID=fffffffe\r\nparentCID=12345678\r\nparentFileNameHint=\"C:\\new\\base.vmdk\"\r\ncreateType=\"vmfsSparse\"\r\nRDONLY 100 VMFSSPARSE \"a b-delta.vmdk\"\r\nNOACCESS 5 ZERO\r\nRW 7 FLAT \"f.img\" 3\r\nddb.uuid = \"60 00\"\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDescriptor(b, "fuzz")
		if err != nil {
			checkTyped(t, err)
			return
		}
		text := d.Bytes()
		d2, err := ParseDescriptor(text, "fuzz")
		if err != nil {
			t.Fatalf("rendered descriptor does not parse: %v\n%s", err, text)
		}
		if diff := cmp.Diff(d, d2); diff != "" {
			t.Fatalf("round trip changed the descriptor (-parsed +reparsed):\n%s\n%s", diff, text)
		}
		if text2 := d2.Bytes(); !bytes.Equal(text, text2) {
			t.Fatalf("rendering is not stable:\n%s\n%s", text, text2)
		}
	})
}

// FuzzSparse treats the input as a monolithic sparse (or streamOptimized)
// file: Open, reading up to 8 MiB and Check must not panic, must fail
// with typed errors, and Check must see a problem where reading fails.
func FuzzSparse(f *testing.F) {
	data := seedData()
	f.Add(buildSparse(data))
	f.Add(buildSparse(make([]byte, len(data))))
	f.Add(buildStream(data))
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzSparseFile(t, b)
	})
}

// FuzzRealPatch overwrites bytes at one place of a real VMDK (plaso's
// monolithicSparse, VMware's streamOptimized, a VMDK-stream-converter
// stream with markers and a footer) and goes on as FuzzSparse: the
// inputs stay small, so the engine can minimize what it finds, while the
// files keep real layouts.
func FuzzRealPatch(f *testing.F) {
	names := []string{"real/vmdk/plaso_image.vmdk", "real/vmdk/streamOptimized.vmdk", "real/vmdk/streamOptimizedWithMarkers.vmdk"}
	var bases [][]byte
	for _, name := range names {
		if b := realSeed(f, name); b != nil {
			bases = append(bases, b)
		}
	}
	if len(bases) == 0 {
		f.Skip("no fixtures")
	}
	for i := range bases {
		le := binary.LittleEndian
		u64 := func(v uint64) []byte { return le.AppendUint64(nil, v) }
		f.Add(uint8(i), uint32(12), u64(1<<40))  // capacity
		f.Add(uint8(i), uint32(20), u64(1))      // grain size
		f.Add(uint8(i), uint32(56), u64(1<<63))  // grain directory
		f.Add(uint8(i), uint32(21*512), u64(7))  // a directory entry or grain table
		f.Add(uint8(i), uint32(128*512), u64(3)) // the first grain or record
		f.Add(uint8(i), uint32(len(bases[i])-1536), []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	}
	f.Fuzz(func(t *testing.T, which uint8, off uint32, patch []byte) {
		base := bases[int(which)%len(bases)]
		b := bytes.Clone(base)
		at := int(off % uint32(len(b)))
		copy(b[at:], patch)
		fuzzSparseFile(t, b)
	})
}

// FuzzStream fuzzes the grain records and markers of a streamOptimized
// file behind a fixed, sound header whose grain directory is in the
// footer: the input is everything after the header and descriptor.
func FuzzStream(f *testing.F) {
	data := seedData()
	whole := buildStream(data)
	head := whole[:2*sectorSize]
	f.Add(whole[2*sectorSize:])
	f.Add(buildStream(make([]byte, len(data)))[2*sectorSize:])
	f.Fuzz(func(t *testing.T, body []byte) {
		fuzzSparseFile(t, append(bytes.Clone(head), body...))
	})
}
