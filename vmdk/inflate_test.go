package vmdk

import (
	"bytes"
	"compress/flate"
	"errors"
	"hash/adler32"
	"io"
	"math/rand/v2"
	"testing"
)

// flateRef decodes z with compress/flate into a buffer of n bytes, as
// the slow path of inflateTo does.
func flateRef(z []byte, n int) ([]byte, error) {
	out := make([]byte, n)
	m, err := io.ReadFull(flate.NewReader(bytes.NewReader(z)), out)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		err = nil
	}
	return out[:m], err
}

// testGrains returns grains of many kinds: random, text, runs, mixes.
func testGrains() [][]byte {
	r := rand.New(rand.NewPCG(3, 4))
	var gs [][]byte
	words := []string{"registry ", "hive ", "\x00\x00\x00\x00", "SYSTEM32\\", "a", "zz "}
	for k := range 8 {
		g := make([]byte, 65536)
		switch k % 4 {
		case 0:
			for i := range g {
				g[i] = byte(r.Uint32())
			}
		case 1:
			g = g[:0]
			for len(g) < 65536 {
				g = append(g, words[r.IntN(len(words))]...)
			}
			g = g[:65536]
		case 2:
			for i := range g {
				g[i] = byte(i / (1 + k*37))
			}
		case 3:
			for i := range g {
				if r.IntN(8) == 0 {
					g[i] = byte(r.Uint32() % 5)
				}
			}
		}
		gs = append(gs, g)
	}
	return gs
}

// TestInflater checks the fast inflater against compress/flate on grains
// compressed at every level, into buffers of the grain's size and less.
func TestInflater(t *testing.T) {
	var f inflater
	for gi, g := range testGrains() {
		for _, level := range []int{flate.NoCompression, flate.BestSpeed, 4, flate.DefaultCompression, flate.BestCompression, flate.HuffmanOnly} {
			var z bytes.Buffer
			w, _ := flate.NewWriter(&z, level)
			w.Write(g)
			w.Close()
			for _, n := range []int{len(g), len(g) - 1000, 100} {
				dst := make([]byte, n)
				m, ok := f.inflate(dst, z.Bytes())
				if !ok {
					t.Errorf("grain %d level %d: not decoded", gi, level)
					continue
				}
				if m != n || !bytes.Equal(dst, g[:n]) {
					t.Errorf("grain %d level %d into %d bytes: %d bytes, differ at %d", gi, level, n, m, firstDiffAt(dst[:m], g))
				}
			}
			// Cut short: never accepted.
			if _, ok := f.inflate(make([]byte, len(g)), z.Bytes()[:z.Len()*3/4]); ok {
				t.Errorf("grain %d level %d: truncated stream accepted", gi, level)
			}
		}
	}
}

func firstDiffAt(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// FuzzInflater feeds the fast inflater arbitrary streams (seeded with
// real ones and damaged copies): whatever it accepts, compress/flate
// decodes to the same bytes, and it never panics.
func FuzzInflater(f *testing.F) {
	for _, g := range testGrains()[:4] {
		for _, level := range []int{flate.BestSpeed, flate.DefaultCompression, flate.HuffmanOnly} {
			var z bytes.Buffer
			w, _ := flate.NewWriter(&z, level)
			w.Write(g[:4096])
			w.Close()
			f.Add(z.Bytes())
			bad := append([]byte(nil), z.Bytes()...)
			bad[len(bad)/2] ^= 0x10
			f.Add(bad)
		}
	}
	f.Fuzz(func(t *testing.T, z []byte) {
		var inf inflater
		dst := make([]byte, 4096)
		m, ok := inf.inflate(dst, z)
		if !ok {
			return
		}
		want, err := flateRef(z, len(dst))
		if err != nil {
			t.Fatalf("accepted a stream compress/flate rejects (%v)", err)
		}
		if !bytes.Equal(dst[:m], want) {
			t.Fatalf("%d bytes, compress/flate %d; differ at %d", m, len(want), firstDiffAt(dst[:m], want))
		}
	})
}

// BenchmarkInflate compares the fast inflater with compress/flate on
// text-like grains compressed at the level Convert writes.
func BenchmarkInflate(b *testing.B) {
	g := testGrains()[1]
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, streamLevel)
	w.Write(g)
	w.Close()
	dst := make([]byte, len(g))
	b.Run("ours", func(b *testing.B) {
		var f inflater
		b.SetBytes(int64(len(g)))
		for b.Loop() {
			if _, ok := f.inflate(dst, z.Bytes()); !ok {
				b.Fatal("not decoded")
			}
		}
	})
	b.Run("compress-flate", func(b *testing.B) {
		var br bytes.Reader
		fr := flate.NewReader(&br)
		b.SetBytes(int64(len(g)))
		for b.Loop() {
			br.Reset(z.Bytes())
			fr.(flate.Resetter).Reset(&br, nil)
			if _, err := io.ReadFull(fr, dst); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAdler32 is the cost inflateTo adds to each grain for the
// zlib checksum, to set against BenchmarkInflate.
func BenchmarkAdler32(b *testing.B) {
	g := testGrains()[1]
	b.Run("ours", func(b *testing.B) {
		b.SetBytes(int64(len(g)))
		for b.Loop() {
			adler32Sum(g)
		}
	})
	b.Run("hash-adler32", func(b *testing.B) {
		b.SetBytes(int64(len(g)))
		for b.Loop() {
			adler32.Checksum(g)
		}
	})
}
