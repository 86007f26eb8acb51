package ntfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// wofAlgorithms are the fixtures' algorithms, by the suffix of their files
// under testdata/wof (made by testdata/gen/wofcompress.py with libwim).
var wofAlgorithms = []struct {
	name string
	alg  WOFAlgorithm
}{
	{"xpress4k", WOFXpress4K}, {"xpress8k", WOFXpress8K}, {"xpress16k", WOFXpress16K}, {"lzx", WOFLZX},
}

// memStream is a resident stream over b, as the chunk reader sees the
// WofCompressedData stream.
func memStream(b []byte) *stream {
	return &stream{what: "test", resident: true, value: b, size: int64(len(b)), initSize: int64(len(b)), allocSize: int64(len(b))}
}

func readWOFFixture(t testing.TB, name string) (plain, comp []byte) {
	t.Helper()
	plain, err := os.ReadFile(filepath.Join("testdata", "wof", "mixed.plain"))
	if err != nil {
		t.Fatal(err)
	}
	comp, err = os.ReadFile(filepath.Join("testdata", "wof", "mixed."+name))
	if err != nil {
		t.Fatal(err)
	}
	return plain, comp
}

// TestWOFChunks decodes streams whose chunks libwim compressed, whole and
// at odd offsets, and compares with the original bytes.
func TestWOFChunks(t *testing.T) {
	for _, tt := range wofAlgorithms {
		t.Run(tt.name, func(t *testing.T) {
			plain, comp := readWOFFixture(t, tt.name)
			d, err := newWOFData("test", memStream(comp), tt.alg, int64(len(plain)))
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(plain))
			if err := d.readAt(got, 0); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("decoded content differs from the original at byte %d", firstDiff(got, plain))
			}
			for _, r := range [][2]int{{1, 10}, {4095, 2}, {32767, 40000}, {len(plain) - 5, 5}, {12345, 1}} {
				p := make([]byte, r[1])
				if err := d.readAt(p, int64(r[0])); err != nil {
					t.Fatalf("read %d at %d: %v", r[1], r[0], err)
				}
				if !bytes.Equal(p, plain[r[0]:r[0]+r[1]]) {
					t.Errorf("read %d at %d differs", r[1], r[0])
				}
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestWOFDamagedChunk damages each fixture's first chunk and expects a
// CorruptError naming the chunk, never wrong bytes.
func TestWOFDamagedChunk(t *testing.T) {
	for _, tt := range wofAlgorithms {
		t.Run(tt.name, func(t *testing.T) {
			plain, comp := readWOFFixture(t, tt.name)
			d, err := newWOFData("test", memStream(comp), tt.alg, int64(len(plain)))
			if err != nil {
				t.Fatal(err)
			}
			// Chunk 0 starts right after the table: its first bytes are the
			// XPRESS code lengths or the LZX block header.
			for i := range 8 {
				comp[d.table+int64(i)] = 0xFF
			}
			got := make([]byte, d.chunk)
			err = d.readAt(got, 0)
			var ce *CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("read of a damaged chunk: %v, want a CorruptError", err)
			}
			t.Log(err)
			// A chunk table entry past the stream.
			comp[0], comp[1], comp[2], comp[3] = 0xFF, 0xFF, 0xFF, 0x7F
			if err := d.readAt(got, 0); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("read with a bad chunk table: %v, want ErrCorrupt", err)
			}
		})
	}
}

// wofChunkSeeds returns the fixtures' stored chunks of one algorithm and
// their uncompressed sizes.
func wofChunkSeeds(t testing.TB, name string, alg WOFAlgorithm) (chunks [][]byte, sizes []int) {
	plain, comp := readWOFFixture(t, name)
	d, err := newWOFData("seed", memStream(comp), alg, int64(len(plain)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.chunks {
		s, e, err := d.chunkAt(i)
		if err != nil {
			t.Fatal(err)
		}
		chunks = append(chunks, comp[s:e])
		sizes = append(sizes, int(min(d.chunk, d.size-i*d.chunk)))
	}
	return chunks, sizes
}

// FuzzXpress decodes arbitrary XPRESS Huffman chunks: no panic, and a
// success fills exactly the chunk.
func FuzzXpress(f *testing.F) {
	for _, tt := range wofAlgorithms[:3] {
		chunks, sizes := wofChunkSeeds(f, tt.name, tt.alg)
		for i, c := range chunks[:min(len(chunks), 6)] {
			f.Add(c, uint16(sizes[i]))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte, size uint16) {
		dst := make([]byte, int(size)%(16<<10)+1)
		var h huffman
		_ = decompressXpress(&h, dst, src)
	})
}

// FuzzLZX decodes arbitrary LZX chunks: no panic, no out-of-range copy.
func FuzzLZX(f *testing.F) {
	chunks, sizes := wofChunkSeeds(f, "lzx", WOFLZX)
	for i, c := range chunks {
		f.Add(c, uint16(sizes[i]))
	}
	f.Fuzz(func(t *testing.T, src []byte, size uint16) {
		dst := make([]byte, int(size)%(32<<10)+1)
		var d lzxDecoder
		_ = d.decompress(dst, src)
	})
}

// FuzzWOFStream reads a WofCompressedData stream of arbitrary chunk table
// and chunks.
func FuzzWOFStream(f *testing.F) {
	for _, tt := range wofAlgorithms {
		plain, comp := readWOFFixture(f, tt.name)
		f.Add(comp[:min(len(comp), 9000)], uint8(tt.alg), uint32(len(plain)))
	}
	f.Fuzz(func(t *testing.T, comp []byte, alg uint8, size uint32) {
		d, err := newWOFData("fuzz", memStream(comp), WOFAlgorithm(alg%5), int64(size%(1<<20)))
		if err != nil {
			return
		}
		p := make([]byte, min(d.size, 70000))
		_ = d.readAt(p, 0)
	})
}

// TestWOFLibwimBinary compresses a real x86-64 program (this test's own
// binary, its first MiB) with libwim in every algorithm and decodes it:
// machine code exercises LZX's E8 translation and aligned-offset blocks.
func TestWOFLibwimBinary(t *testing.T) {
	py := testimg.Oracle(t, "python3")
	if _, err := os.Stat("/usr/lib/x86_64-linux-gnu/libwim.so.15"); err != nil {
		if os.Getenv(testimg.OraclesEnv) == "require" {
			t.Fatal("libwim15 is required: ", err)
		}
		t.Skip("libwim15 not installed")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	plain := b[:min(len(b), 1<<20+333)]
	dir := t.TempDir()
	in := filepath.Join(dir, "plain")
	if err := os.WriteFile(in, plain, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range wofAlgorithms {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, tt.name)
			testimg.Run(t, py, filepath.Join("..", "..", "testdata", "gen", "wofcompress.py"), tt.name, in, out)
			comp, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			d, err := newWOFData("test", memStream(comp), tt.alg, int64(len(plain)))
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(plain))
			if err := d.readAt(got, 0); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("decoded content differs at byte %d", firstDiff(got, plain))
			}
			t.Logf("%d bytes in %d compressed", len(plain), len(comp))
		})
	}
}

// BenchmarkWOF decodes the mixed fixture in each algorithm.
func BenchmarkWOF(b *testing.B) {
	for _, tt := range wofAlgorithms {
		b.Run(tt.name, func(b *testing.B) {
			plain, comp := readWOFFixture(b, tt.name)
			d, err := newWOFData("bench", memStream(comp), tt.alg, int64(len(plain)))
			if err != nil {
				b.Fatal(err)
			}
			got := make([]byte, len(plain))
			b.SetBytes(int64(len(plain)))
			for b.Loop() {
				if err := d.readAt(got, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// openWOFVolume opens a private copy of testdata/ntfs/wof.raw (made by
// testdata/gen/mkwof.sh through ntfs-3g) for writing.
func openWOFVolume(t testing.TB) (*Volume, string) {
	t.Helper()
	p := testimg.Copy(t, "ntfs/wof.raw")
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	v, err := OpenRW(f, fi.Size(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return v, p
}

// TestWOFVolume reads the system-compressed files ntfs-3g wrote, and
// refuses, naming why, those this package cannot decode.
func TestWOFVolume(t *testing.T) {
	v, _ := openWOFVolume(t)
	plain, _ := readWOFFixture(t, "lzx")
	for _, tt := range wofAlgorithms {
		t.Run(tt.name, func(t *testing.T) {
			name := "Windows/System32/" + tt.name + ".dll"
			got, err := v.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("content differs from the original at byte %d", firstDiff(got, plain))
			}
			fi, err := v.Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			st := fi.Sys().(*FileStat)
			want := &SystemCompression{Provider: 2, Algorithm: tt.alg, ChunkSize: tt.alg.chunkSize(), Supported: true}
			if st.System == nil {
				t.Fatal("FileStat.System is nil")
			}
			want.CompressedSize = st.System.CompressedSize
			if diff := cmp.Diff(want, st.System); diff != "" {
				t.Errorf("FileStat.System (-want +got):\n%s", diff)
			}
			if st.System.CompressedSize <= 0 || st.System.CompressedSize >= int64(len(plain)) {
				t.Errorf("compressed size %d", st.System.CompressedSize)
			}
			if fi.Size() != int64(len(plain)) {
				t.Errorf("size %d, want %d", fi.Size(), len(plain))
			}
		})
	}
	for _, name := range []string{"unknown.dll", "wimboot.dll"} {
		t.Run(name, func(t *testing.T) {
			_, err := v.ReadFile("Windows/System32/" + name)
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("read: %v, want ErrUnsupported", err)
			}
			t.Log(err)
		})
	}
}

// TestWOFVolumeDamagedChunk damages the first LZX chunk on the volume: the
// read fails with a CorruptError at the chunk's byte offset in the volume.
func TestWOFVolumeDamagedChunk(t *testing.T) {
	v, p := openWOFVolume(t)
	fi, err := v.Stat("Windows/System32/lzx.dll")
	if err != nil {
		t.Fatal(err)
	}
	var runs []Run
	for _, s := range fi.Sys().(*FileStat).Streams {
		if s.Name == wofStreamName {
			runs = s.Runs
		}
	}
	if len(runs) == 0 || runs[0].LCN < 0 {
		t.Fatalf("no clusters for %s: %+v", wofStreamName, runs)
	}
	const table = (200001/32768 + 1 - 1) * 4 // 7 chunks, 6 entries
	off := runs[0].LCN*v.boot.clusterSize + table
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(bytes.Repeat([]byte{0xFF}, 8), off); err != nil {
		t.Fatal(err)
	}
	fi2, _ := f.Stat()
	rv, err := Open(f, fi2.Size())
	if err != nil {
		t.Fatal(err)
	}
	_, err = rv.ReadFile("Windows/System32/lzx.dll")
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("read: %v, want a CorruptError", err)
	}
	if ce.Offset != off {
		t.Errorf("error at 0x%x, want the chunk's offset 0x%x: %v", ce.Offset, off, err)
	}
}

// reparseIDs lists the file ids ntfsinfo (ntfs-3g) reads from the $R
// index of $Extend\$Reparse.
func reparseIDs(t *testing.T, vol string) []string {
	t.Helper()
	out := testimg.Run(t, "ntfsinfo", "-v", "-F", "/$Extend/$Reparse", vol)
	var ids []string
	for _, line := range strings.Split(string(out), "\n") {
		if _, id, ok := strings.Cut(line, "Key file id:"); ok {
			ids = append(ids, strings.TrimSpace(id))
		}
	}
	return ids
}

// TestWOFReplace writes over a system-compressed file: it becomes a plain
// file (no reparse point, no WofCompressedData, its clusters free), its
// $Extend\$Reparse entry goes, the others stay, and ntfs-3g, sleuthkit and
// Check agree.
func TestWOFReplace(t *testing.T) {
	for _, tt := range wofAlgorithms {
		t.Run(tt.name, func(t *testing.T) {
			v, p := openWOFVolume(t)
			before := reparseIDs(t, p)
			name := "Windows/System32/" + tt.name + ".dll"
			fi, err := v.Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			rec := fi.Sys().(*FileStat).Record
			want := content("replaced "+tt.name, 70000)
			if err := v.WriteFile(name, want, nil); err != nil {
				t.Fatal(err)
			}
			got, err := v.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatal("content read back differs")
			}
			fi, err = v.Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			st := fi.Sys().(*FileStat)
			if st.System != nil || st.Reparse != nil || len(st.Streams) != 1 || st.Attributes&(fileAttrReparse|fileAttrSparse) != 0 {
				t.Errorf("after the write: System %+v, Reparse %+v, %d streams, attributes 0x%x", st.System, st.Reparse, len(st.Streams), st.Attributes)
			}
			probs, err := Check(context.Background(), v, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, pr := range probs {
				t.Errorf("Check: %v", pr)
			}
			after := reparseIDs(t, p)
			if len(after) != len(before)-1 {
				t.Errorf("$R: %d entries before, %d after, want one fewer", len(before), len(after))
			}
			for _, id := range after {
				if id == fmt.Sprint(uint64(1)<<48|rec) {
					t.Errorf("$R still lists record %d", rec)
				}
			}
			out := string(testimg.Run(t, "ntfsinfo", "-F", "/"+name, p))
			if strings.Contains(out, "$REPARSE_POINT") || strings.Contains(out, wofStreamName) {
				t.Errorf("ntfsinfo still shows the reparse point or stream:\n%s", out)
			}
			if b := testimg.Run(t, "ntfscat", p, "/"+name); !bytes.Equal(b, want) {
				t.Error("ntfscat reads other content")
			}
			if b := testimg.Run(t, "icat", p, fmt.Sprint(rec)); !bytes.Equal(b, want) {
				t.Error("icat reads other content")
			}
			testimg.Run(t, "ntfsfix", "-n", p)
			testimg.Run(t, "ntfsresize", "-i", "-f", p)
			testimg.Run(t, "ntfsclone", "--save-image", "-O", "/dev/null", p)
		})
	}
}

// TestCheckWOF: Check finds the WOF volume clean, and reports a reparse
// point missing from $R, a stale $R entry, and a WOF file without its
// stream.
func TestCheckWOF(t *testing.T) {
	kinds := func(t *testing.T, v *Volume) map[ProblemKind]int {
		t.Helper()
		probs, err := Check(context.Background(), v, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := map[ProblemKind]int{}
		for _, p := range probs {
			got[p.Kind]++
			t.Log(p)
		}
		return got
	}
	lookup := func(t *testing.T, v *Volume, name string) *file {
		t.Helper()
		n, err := v.resolve("open", "Windows/System32/"+name)
		if err != nil {
			t.Fatal(err)
		}
		return n.f
	}
	ref := func(f *file) fileRef { return fileRef(uint64(f.rec.seq)<<48 | f.rec.num) }
	t.Run("clean", func(t *testing.T) {
		v, _ := openWOFVolume(t)
		if got := kinds(t, v); len(got) != 0 {
			t.Errorf("problems on the fixture: %v", got)
		}
	})
	t.Run("not indexed", func(t *testing.T) {
		v, _ := openWOFVolume(t)
		if err := v.removeReparseEntry(reparseTagWOF, ref(lookup(t, v, "lzx.dll"))); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[ProblemKind]int{ReparseIndex: 1}, kinds(t, v)); diff != "" {
			t.Errorf("problems (-want +got):\n%s", diff)
		}
	})
	t.Run("stale entry", func(t *testing.T) {
		v, _ := openWOFVolume(t)
		f := lookup(t, v, "plain.txt")
		ix, _, err := v.reparseIndex()
		if err != nil {
			t.Fatal(err)
		}
		if err := ix.insert(reparseKey(reparseTagWOF, ref(f)), fileRef(0x10+reparseKeySize)); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[ProblemKind]int{ReparseIndex: 1}, kinds(t, v)); diff != "" {
			t.Errorf("problems (-want +got):\n%s", diff)
		}
	})
	t.Run("no stream", func(t *testing.T) {
		v, _ := openWOFVolume(t)
		f := lookup(t, v, "xpress8k.dll")
		if err := v.rewriteRecord(f.rec, replaceAttr(f.rec, attrData, wofStreamName, nil)); err != nil {
			t.Fatal(err)
		}
		got := kinds(t, v)
		if got[WOFStreams] != 1 {
			t.Errorf("problems %v, want one %v", got, WOFStreams)
		}
	})
}

// TestWOFRemove removes system-compressed files and a junction-free
// volume stays consistent: their $R entries go with them.
func TestWOFRemove(t *testing.T) {
	v, p := openWOFVolume(t)
	before := reparseIDs(t, p)
	for _, name := range []string{"lzx.dll", "wimboot.dll"} {
		if err := v.Remove("Windows/System32/" + name); err != nil {
			t.Fatal(err)
		}
	}
	probs, err := Check(context.Background(), v, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range probs {
		t.Errorf("Check: %v", pr)
	}
	if after := reparseIDs(t, p); len(after) != len(before)-2 {
		t.Errorf("$R: %d entries before, %d after, want two fewer", len(before), len(after))
	}
	testimg.Run(t, "ntfsfix", "-n", p)
	testimg.Run(t, "ntfsresize", "-i", "-f", p)
}
