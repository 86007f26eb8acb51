package vmdk

import (
	"bytes"
	"hash/adler32"
	"math/rand/v2"
	"testing"
)

func TestAdler32(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 8, 9, 5551, 5552, 5553, 65536, 65536 + 3, 1 << 20} {
		for _, fill := range []string{"random", "0xff", "zero"} {
			p := make([]byte, n)
			switch fill {
			case "random":
				for i := range p {
					p[i] = byte(r.Uint32())
				}
			case "0xff": // the largest sums: overflow would show here
				copy(p, bytes.Repeat([]byte{0xff}, n))
			}
			if got, want := adler32Sum(p), adler32.Checksum(p); got != want {
				t.Errorf("%d bytes of %s: ours %08x, hash/adler32 %08x", n, fill, got, want)
			}
		}
	}
}

func FuzzAdler32(f *testing.F) {
	f.Add([]byte("Wikipedia"))
	f.Add(bytes.Repeat([]byte{0xff}, 6000))
	f.Fuzz(func(t *testing.T, p []byte) {
		if got, want := adler32Sum(p), adler32.Checksum(p); got != want {
			t.Fatalf("ours %08x, hash/adler32 %08x", got, want)
		}
	})
}
