package vmdk

import (
	"bytes"
	"compress/flate"
	"math/rand/v2"
	"testing"
)

// TestInflateStored checks the stored-block fast path against
// compress/flate, and that it declines streams with other blocks.
func TestInflateStored(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 65536)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	text := bytes.Repeat([]byte("compressible text "), 4000)[:65536]
	for _, c := range []struct {
		name   string
		data   []byte
		level  int
		stored bool
	}{
		{"random, no compression", random, flate.NoCompression, true},
		{"random, best speed", random, flate.BestSpeed, true},
		{"text, no compression", text, flate.NoCompression, true},
		{"text, best speed", text, flate.BestSpeed, false},
		{"half and half", append(append([]byte(nil), text[:32768]...), random[:32768]...), flate.BestSpeed, false},
	} {
		var z bytes.Buffer
		w, _ := flate.NewWriter(&z, c.level)
		w.Write(c.data)
		w.Close()
		dst := make([]byte, len(c.data))
		n, ok := inflateStored(dst, z.Bytes())
		if ok != c.stored {
			t.Errorf("%s: ok = %v, want %v", c.name, ok, c.stored)
			continue
		}
		if ok && (n != len(c.data) || !bytes.Equal(dst, c.data)) {
			t.Errorf("%s: %d bytes, differ from the input", c.name, n)
		}
		// A truncated or damaged stream is declined, never a panic.
		if ok {
			if _, ok := inflateStored(dst, z.Bytes()[:z.Len()/2]); ok {
				t.Errorf("%s: truncated stream accepted", c.name)
			}
			bad := append([]byte(nil), z.Bytes()...)
			bad[3] ^= 0xFF // NLEN no longer LEN's complement
			if _, ok := inflateStored(dst, bad); ok {
				t.Errorf("%s: damaged NLEN accepted", c.name)
			}
		}
	}
}
