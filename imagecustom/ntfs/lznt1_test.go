package ntfs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// lznt1UnitSize is the uncompressed size of a compression unit of 16 4-KiB
// clusters, the dst size the NTFS read path passes.
const lznt1UnitSize = 16 * 4096

// lznt1Cases are the compression units ntfs-3g wrote (testdata/lznt1, made
// by gen.sh), with the n decompressLZNT1 must return for each.
var lznt1Cases = []struct {
	name  string
	wantN int
	what  string
}{
	{"text", 65536, "a full unit of text: 16 compressed chunks"},
	{"text-tail", 18928, "a file's last unit, 18928 bytes: the last chunk yields 2544 bytes"},
	{"zeros", 33000, "text, 28000 zeros, text: zero chunks are one literal and one 4095-byte reference"},
	{"mixed", 20384, "random and text blocks: raw chunks, then compressed ones"},
	{"rawtail", 12288, "text then a 3900-byte random tail, stored as a raw chunk padded to 4096"},
	{"pattern", 24000, "short repeating patterns: overlapping references"},
}

// readLZNT1Case returns the stored unit and the plain bytes of a test case.
func readLZNT1Case(tb testing.TB, name string) (unit, plain []byte) {
	tb.Helper()
	unit, err := os.ReadFile(filepath.Join("testdata", "lznt1", name+".unit"))
	if err != nil {
		tb.Fatal(err)
	}
	plain, err = os.ReadFile(filepath.Join("testdata", "lznt1", name+".plain"))
	if err != nil {
		tb.Fatal(err)
	}
	return unit, plain
}

// lznt1Filled returns a slice of n bytes set to the sentinel 0xa5, so tests can
// see which bytes a decoder left untouched.
func lznt1Filled(n int) []byte {
	return bytes.Repeat([]byte{0xa5}, n)
}

// lznt1IndexNot returns the index of the first byte of b that is not c, or -1.
func lznt1IndexNot(b []byte, c byte) int {
	for i, x := range b {
		if x != c {
			return i
		}
	}
	return -1
}

// lznt1FirstDiff returns the index of the first byte where a and b differ, or
// -1 if they are equal.
func lznt1FirstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// TestLZNT1NTFS3G decompresses units written by ntfs-3g and compares them
// with the file contents ntfscat read back.
func TestLZNT1NTFS3G(t *testing.T) {
	for _, tc := range lznt1Cases {
		t.Run(tc.name, func(t *testing.T) {
			unit, plain := readLZNT1Case(t, tc.name)
			dst := lznt1Filled(lznt1UnitSize)
			n, err := decompressLZNT1(dst, unit)
			if err != nil {
				t.Fatalf("%s: %v", tc.what, err)
			}
			if n != tc.wantN {
				t.Errorf("%s: n = %d, want %d", tc.what, n, tc.wantN)
			}
			if n < len(plain) {
				t.Fatalf("n = %d, shorter than the %d plain bytes", n, len(plain))
			}
			if i := lznt1FirstDiff(dst[:len(plain)], plain); i >= 0 {
				t.Errorf("output differs from ntfscat at byte %d: got 0x%02x, want 0x%02x", i, dst[i], plain[i])
			}
			// Bytes past the file's end but before n are block padding.
			if i := lznt1IndexNot(dst[len(plain):n], 0); i >= 0 {
				t.Errorf("byte %d, past the file's end, is not zero", len(plain)+i)
			}
			if i := lznt1IndexNot(dst[n:], 0xa5); i >= 0 {
				t.Errorf("byte %d, past n, was written", n+i)
			}
			wantDst := lznt1Filled(lznt1UnitSize)
			wantN, ok := refLZNT1(wantDst, unit)
			if !ok || wantN != n || !bytes.Equal(wantDst, dst) {
				t.Errorf("the reference decoder disagrees: n = %d, ok = %v", wantN, ok)
			}
		})
	}
}

// lznt1Builder builds one LZNT1 chunk token by token for hand-made input.
// It encodes back-references with the split MS-XCA gives for the number of
// bytes the chunk has produced so far.
type lznt1Builder struct {
	data []byte // the chunk data: flag bytes and tokens
	flag int    // index in data of the current flag byte
	ntok int    // tokens after the current flag byte (8: start a new one)
	pos  int    // bytes the chunk yields so far
}

// newLZNT1Builder returns a builder for an empty compressed chunk.
func newLZNT1Builder() *lznt1Builder {
	return &lznt1Builder{ntok: 8}
}

// token appends one token, a reference if ref is set, else a literal.
func (b *lznt1Builder) token(ref bool, tok ...byte) {
	if b.ntok == 8 {
		b.flag = len(b.data)
		b.data = append(b.data, 0)
		b.ntok = 0
	}
	if ref {
		b.data[b.flag] |= 1 << b.ntok
	}
	b.ntok++
	b.data = append(b.data, tok...)
}

// lit appends the bytes of s as literals.
func (b *lznt1Builder) lit(s string) *lznt1Builder {
	for i := range len(s) {
		b.token(false, s[i])
		b.pos++
	}
	return b
}

// ref appends a back-reference of length bytes from disp bytes back. It
// panics if the pair cannot be encoded at the current position.
func (b *lznt1Builder) ref(disp, length int) *lznt1Builder {
	m := 4 // displacement bits: the least m ≥ 4 with 2^m ≥ pos (MS-XCA §3.3)
	for m < 12 && 1<<m < b.pos {
		m++
	}
	if disp < 1 || disp > 1<<m || length < 3 || length > 1<<(16-m)+2 {
		panic(fmt.Sprintf("lznt1Builder: reference %d/%d does not fit at position %d", disp, length, b.pos))
	}
	tok := (disp-1)<<(16-m) | (length - 3)
	b.token(true, byte(tok), byte(tok>>8))
	b.pos += length
	return b
}

// rawRef appends a back-reference token with the value tok, valid or not.
func (b *lznt1Builder) rawRef(tok uint16) *lznt1Builder {
	b.token(true, byte(tok), byte(tok>>8))
	return b
}

// chunk returns the chunk, header and data.
func (b *lznt1Builder) chunk() []byte {
	h := 0xb000 | (len(b.data) - 1)
	return append([]byte{byte(h), byte(h >> 8)}, b.data...)
}

// lznt1RawChunk returns an uncompressed chunk holding p.
func lznt1RawChunk(p []byte) []byte {
	h := 0x3000 | (len(p) - 1)
	return append([]byte{byte(h), byte(h >> 8)}, p...)
}

// lznt1Cat concatenates its arguments.
func lznt1Cat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}

// TestLZNT1Edges runs hand-made input through decompressLZNT1: valid edge
// cases with their exact output, and corrupt input that must fail.
func TestLZNT1Edges(t *testing.T) {
	abc := []byte(strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789", 114)[:4096])
	// Two literals then references only, across the 16/17 and 32/33
	// positions where the displacement field widens.
	refs := newLZNT1Builder().lit("ab").
		ref(2, 14).  // pos 2 → 16: "abab…"
		ref(16, 3).  // pos 16: largest 4-bit displacement → 19
		ref(17, 4).  // pos 19: 5-bit displacement → 23
		ref(23, 10). // → 33
		ref(33, 31). // pos 33: 6-bit displacement → 64
		ref(64, 64). // → 128
		ref(1, 100)  // overlapping run of the last byte → 228
	wantRefs := func() []byte {
		var o []byte
		o = append(o, "ab"...)
		for _, r := range [][2]int{{2, 14}, {16, 3}, {17, 4}, {23, 10}, {33, 31}, {64, 64}, {1, 100}} {
			for range r[1] {
				o = append(o, o[len(o)-r[0]])
			}
		}
		return o
	}()

	tests := []struct {
		name   string
		dstLen int // len(dst): 0 means a whole unit, -1 an empty dst
		src    []byte
		wantN  int
		want   []byte // dst[:wantN], when set
		errs   bool   // the input is corrupt
	}{
		{name: "empty src", src: nil, wantN: 0},
		{name: "zero header first", src: []byte{0, 0, 0x41, 0x42}, wantN: 0},
		{name: "lone zero byte", src: []byte{0}, wantN: 0},
		{name: "uncompressed chunk", src: lznt1RawChunk(abc), wantN: 4096, want: abc},
		{name: "short uncompressed chunk last", src: lznt1RawChunk(abc[:100]), wantN: 100, want: abc[:100]},
		{name: "short uncompressed chunk padded",
			src:   lznt1Cat(lznt1RawChunk(abc[:100]), newLZNT1Builder().lit("Z").chunk()),
			wantN: 4097, want: lznt1Cat(abc[:100], make([]byte, 3996), []byte("Z"))},
		{name: "literals only", src: newLZNT1Builder().lit("hello, world").chunk(), wantN: 12, want: []byte("hello, world")},
		{name: "references across displacement widths", src: refs.chunk(), wantN: len(wantRefs), want: wantRefs},
		{name: "max-length reference", src: newLZNT1Builder().lit("q").ref(1, 4095).chunk(),
			wantN: 4096, want: bytes.Repeat([]byte("q"), 4096)},
		{name: "largest displacement, back to the block start",
			src:   newLZNT1Builder().lit("A").ref(1, 2999).lit(string(abc[:1093])).ref(4093, 3).chunk(),
			wantN: 4096, want: lznt1Cat(bytes.Repeat([]byte("A"), 3000), abc[:1093], []byte("AAA"))},
		{name: "compressed chunk yields nothing, then one byte",
			src:   lznt1Cat([]byte{0x00, 0xb0, 0x00}, newLZNT1Builder().lit("Z").chunk()),
			wantN: 4097, want: lznt1Cat(make([]byte, 4096), []byte("Z"))},
		{name: "short chunk padded before the next",
			src:   lznt1Cat(newLZNT1Builder().lit("abc").chunk(), newLZNT1Builder().lit("def").chunk()),
			wantN: 4099, want: lznt1Cat([]byte("abc"), make([]byte, 4093), []byte("def"))},
		{name: "zero header in the middle ends the data",
			src:   lznt1Cat(newLZNT1Builder().lit("abc").chunk(), []byte{0, 0}, newLZNT1Builder().lit("def").chunk()),
			wantN: 3, want: []byte("abc")},
		{name: "lone zero byte after a chunk",
			src:   lznt1Cat(newLZNT1Builder().lit("abc").chunk(), []byte{0}),
			wantN: 3, want: []byte("abc")},
		{name: "trailing slack after the end marker",
			src:   lznt1Cat(newLZNT1Builder().lit("abc").chunk(), make([]byte, 4000)),
			wantN: 3, want: []byte("abc")},
		{name: "dst not a multiple of the block size", dstLen: 4096 + 10,
			src:   lznt1Cat(lznt1RawChunk(abc), newLZNT1Builder().lit("0123456789").chunk()),
			wantN: 4106, want: lznt1Cat(abc, []byte("0123456789"))},

		{name: "reference at the block start", src: newLZNT1Builder().rawRef(0).chunk(), errs: true},
		{name: "reference at the start of the second block",
			src: lznt1Cat(newLZNT1Builder().lit("abc").chunk(), newLZNT1Builder().rawRef(0).chunk()), errs: true},
		{name: "reference before the block start", src: newLZNT1Builder().lit("abc").rawRef(3 << 12).chunk(), errs: true},
		{name: "reference does not see the previous block",
			src: lznt1Cat(lznt1RawChunk(abc), newLZNT1Builder().lit("a").rawRef(1<<12).chunk()), errs: true},
		{name: "literal past the block end", src: newLZNT1Builder().lit("q").ref(1, 4095).lit("r").chunk(), errs: true},
		{name: "reference past the block end", src: newLZNT1Builder().lit("q").ref(1, 4089).ref(1, 18).chunk(), errs: true},
		{name: "longest encodable reference overruns the block", src: newLZNT1Builder().lit("q").rawRef(0x0fff).chunk(), errs: true},
		{name: "truncated reference", src: func() []byte {
			c := newLZNT1Builder().lit("ab").rawRef(0x1000).chunk()
			c = c[:len(c)-1]
			c[0]-- // one byte less of data
			return c
		}(), errs: true},
		{name: "truncated header", src: lznt1Cat(newLZNT1Builder().lit("abc").chunk(), []byte{0x01}), errs: true},
		{name: "header size past src end", src: newLZNT1Builder().lit("abcdef").chunk()[:6], errs: true},
		{name: "header size past src end, raw", src: lznt1RawChunk(abc)[:4000], errs: true},
		{name: "bad signature", src: []byte{0x02, 0xa0, 0x00, 0x41, 0x42}, errs: true},
		{name: "zero signature", src: []byte{0x02, 0x80, 0x00, 0x41, 0x42}, errs: true},
		{name: "more chunks than the unit holds", dstLen: 8192,
			src: lznt1Cat(lznt1RawChunk(abc), lznt1RawChunk(abc), newLZNT1Builder().lit("x").chunk()), errs: true},
		{name: "raw chunk larger than a short last block", dstLen: 4096 + 10,
			src: lznt1Cat(lznt1RawChunk(abc), lznt1RawChunk(abc[:11])), errs: true},
		{name: "chunk into an empty dst", dstLen: -1, src: newLZNT1Builder().lit("x").chunk(), errs: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dstLen := tc.dstLen
			switch dstLen {
			case 0:
				dstLen = lznt1UnitSize
			case -1:
				dstLen = 0
			}
			dst := lznt1Filled(dstLen)
			n, err := decompressLZNT1(dst, tc.src)
			refDst := lznt1Filled(dstLen)
			refN, refOK := refLZNT1(refDst, tc.src)
			if tc.errs {
				var ce *CorruptError
				if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) || ce.Offset != -1 {
					t.Fatalf("err = %v, want a *CorruptError with offset -1", err)
				}
				if n != 0 {
					t.Errorf("n = %d on error, want 0", n)
				}
				if refOK {
					t.Errorf("the reference decoder accepts the input")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.wantN {
				t.Errorf("n = %d, want %d", n, tc.wantN)
			}
			if tc.want != nil {
				if diff := cmp.Diff(tc.want, dst[:n]); diff != "" {
					t.Errorf("output (-want +got):\n%s", diff)
				}
			}
			if i := lznt1IndexNot(dst[n:], 0xa5); i >= 0 {
				t.Errorf("byte %d, past n, was written", n+i)
			}
			if !refOK || refN != n || !bytes.Equal(refDst, dst) {
				t.Errorf("the reference decoder disagrees: n = %d, ok = %v", refN, refOK)
			}
		})
	}
}

// refLZNT1 is a deliberately plain LZNT1 decoder with the contract of
// decompressLZNT1, written separately from it (byte-at-a-time copies, no
// fast paths, the displacement width found by MS-XCA's search) so the tests
// and the fuzzer can check the fast one against it. It reports success
// instead of an error.
func refLZNT1(dst, src []byte) (int, bool) {
	n, blk := 0, 0
	for p := 0; p < len(src); {
		if p+1 == len(src) {
			if src[p] != 0 {
				return 0, false
			}
			break
		}
		h := int(src[p]) | int(src[p+1])<<8
		if h == 0 {
			break
		}
		if h>>12&7 != 3 {
			return 0, false
		}
		size := h&0xfff + 1
		if p+2+size > len(src) || blk*4096 >= len(dst) {
			return 0, false
		}
		for i := n; i < blk*4096; i++ {
			dst[i] = 0
		}
		start := blk * 4096
		limit := min(start+4096, len(dst))
		w := start
		d := src[p+2 : p+2+size]
		if h&0x8000 == 0 {
			for _, c := range d {
				if w >= limit {
					return 0, false
				}
				dst[w] = c
				w++
			}
		} else {
			for j := 0; j < len(d); {
				flag := d[j]
				j++
				for bit := 0; bit < 8 && j < len(d); bit++ {
					if flag>>bit&1 == 0 {
						if w >= limit {
							return 0, false
						}
						dst[w] = d[j]
						w++
						j++
						continue
					}
					if j+1 >= len(d) {
						return 0, false
					}
					tok := int(d[j]) | int(d[j+1])<<8
					j += 2
					u := w - start
					m := 4
					for m < 12 && 1<<m < u {
						m++
					}
					disp := tok>>(16-m) + 1
					length := tok&(1<<(16-m)-1) + 3
					if u == 0 || disp > u || w+length > limit {
						return 0, false
					}
					for range length {
						dst[w] = dst[w-disp]
						w++
					}
				}
			}
		}
		n = w
		blk++
		p += 2 + size
	}
	return n, true
}

// TestLZNT1Corrupt mangles ntfs-3g units in ways the format must catch and
// expects a *CorruptError, not a panic and not a silent success.
func TestLZNT1Corrupt(t *testing.T) {
	tests := []struct {
		name   string
		unit   string
		mangle func(b []byte) []byte
		dstLen int
	}{
		// zeros.unit: chunk 0 is text (header b63d: 0x640 bytes with the header); chunk 1,
		// at 0x640, is a zero block: header b003, flag 02, literal 00,
		// reference fc 0f (displacement 1, length 4095).
		{"signature 2 in the first header", "text", func(b []byte) []byte { b[1] = 0xa6; return b }, 0},
		{"signature 7 in the first header", "text", func(b []byte) []byte { b[1] = 0xf6; return b }, 0},
		{"reference made the first token", "zeros", func(b []byte) []byte { b[0x640+2] = 0x03; return b }, 0},
		{"reference one byte too long", "zeros", func(b []byte) []byte { b[0x640+4] = 0xfd; return b }, 0},
		{"reference reaching before the block", "zeros", func(b []byte) []byte { b[0x640+5] = 0x1f; return b }, 0},
		{"zero-block chunk one byte short", "zeros", func(b []byte) []byte { b[0x640] = 0x02; return b }, 0},
		{"first header 0xffff", "mixed", func(b []byte) []byte { b[0], b[1] = 0xff, 0xff; return b }, 0},
		{"raw chunk one byte short", "mixed", func(b []byte) []byte { b[0] = 0xfe; return b }, 0},
		{"cut in the middle of a chunk", "text", func(b []byte) []byte { return b[:10000] }, 0},
		{"cut in the middle of a header", "text", func(b []byte) []byte {
			h := int(b[0]) | int(b[1])<<8
			return b[:2+h&0xfff+1+1]
		}, 0},
		{"16 chunks into a 15-block dst", "text", func(b []byte) []byte { return b }, 15 * 4096},
		{"raw tail block cut short by dst", "rawtail", func(b []byte) []byte { return b }, 12092},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			unit, _ := readLZNT1Case(t, tc.unit)
			src := tc.mangle(bytes.Clone(unit))
			dstLen := tc.dstLen
			if dstLen == 0 {
				dstLen = lznt1UnitSize
			}
			n, err := decompressLZNT1(make([]byte, dstLen), src)
			var ce *CorruptError
			if !errors.Is(err, ErrCorrupt) || !errors.As(err, &ce) || ce.Offset != -1 {
				t.Fatalf("n = %d, err = %v, want a *CorruptError with offset -1", n, err)
			}
			if _, ok := refLZNT1(make([]byte, dstLen), src); ok {
				t.Errorf("the reference decoder accepts the input")
			}
		})
	}
}

// TestLZNT1Mangled flips bytes all over the ntfs-3g units: whatever the
// result, decompressLZNT1 must not panic, must keep n within dst and must
// agree with the reference decoder.
func TestLZNT1Mangled(t *testing.T) {
	stride := 29
	if testing.Short() {
		stride = 101
	}
	dst := make([]byte, lznt1UnitSize)
	ref := make([]byte, lznt1UnitSize)
	for _, tc := range lznt1Cases {
		unit, _ := readLZNT1Case(t, tc.name)
		src := bytes.Clone(unit)
		for i := 0; i < len(src); i += stride {
			for _, x := range []byte{0x01, 0x80, 0xff} {
				src[i] ^= x
				n, err := decompressLZNT1(dst, src)
				refN, refOK := refLZNT1(ref, src)
				switch {
				case err != nil && !errors.Is(err, ErrCorrupt):
					t.Fatalf("%s: byte 0x%x ^ 0x%02x: error %v is not ErrCorrupt", tc.name, i, x, err)
				case (err == nil) != refOK || err == nil && (n != refN || !bytes.Equal(dst[:n], ref[:n])):
					t.Fatalf("%s: byte 0x%x ^ 0x%02x: n, err = %d, %v; the reference decoder: %d, %v", tc.name, i, x, n, err, refN, refOK)
				case n > len(dst):
					t.Fatalf("%s: byte 0x%x ^ 0x%02x: n = %d > len(dst)", tc.name, i, x, n)
				}
				src[i] ^= x
			}
		}
	}
}

// FuzzLZNT1 feeds arbitrary stored data and dst sizes to decompressLZNT1:
// it must not panic, must return n ≤ len(dst) on success and leave dst[n:]
// untouched, and must agree with the reference decoder. The seeds are the
// ntfs-3g units and a few hand-made chunks.
func FuzzLZNT1(f *testing.F) {
	for _, tc := range lznt1Cases {
		unit, _ := readLZNT1Case(f, tc.name)
		f.Add(unit, uint32(lznt1UnitSize))
	}
	f.Add(newLZNT1Builder().lit("abc").ref(3, 100).chunk(), uint32(lznt1UnitSize))
	f.Add(lznt1Cat(lznt1RawChunk([]byte("abc")), newLZNT1Builder().lit("q").ref(1, 4095).chunk()), uint32(8192))
	f.Add([]byte{0x01, 0xb0, 0x00, 0x41}, uint32(100))
	f.Fuzz(func(t *testing.T, src []byte, size uint32) {
		dstLen := int(size % (lznt1UnitSize + 4096 + 1))
		dst := lznt1Filled(dstLen)
		n, err := decompressLZNT1(dst, src)
		ref := lznt1Filled(dstLen)
		refN, refOK := refLZNT1(ref, src)
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not a *CorruptError", err)
			}
			if n != 0 || refOK {
				t.Fatalf("n, err = %d, %v; the reference decoder: %d, %v", n, err, refN, refOK)
			}
			return
		}
		if n < 0 || n > len(dst) {
			t.Fatalf("n = %d, len(dst) = %d", n, len(dst))
		}
		if !refOK || refN != n || !bytes.Equal(dst, ref) {
			t.Fatalf("n = %d; the reference decoder: %d, %v (outputs equal: %v)", n, refN, refOK, bytes.Equal(dst, ref))
		}
		if i := lznt1IndexNot(dst[n:], 0xa5); i >= 0 {
			t.Fatalf("byte %d, past n = %d, was written", n+i, n)
		}
	})
}

// BenchmarkLZNT1 decompresses whole ntfs-3g units; the MB/s figure is of
// uncompressed output.
func BenchmarkLZNT1(b *testing.B) {
	for _, name := range []string{"text", "mixed", "pattern", "zeros"} {
		b.Run(name, func(b *testing.B) {
			unit, _ := readLZNT1Case(b, name)
			dst := make([]byte, lznt1UnitSize)
			n, err := decompressLZNT1(dst, unit)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decompressLZNT1(dst, unit); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
