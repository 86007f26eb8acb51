package imagecustom

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// TestBlocksModel checks the block map against a plain byte slice under
// random writes, truncations and reads, over a base of random bytes: what
// the overlay and every journaled host file rest on.
func TestBlocksModel(t *testing.T) {
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		baseSize := int64(rng.IntN(5 * blockSize))
		base := make([]byte, baseSize)
		for i := range base {
			base[i] = byte(rng.Uint32())
		}
		// readBase serves the base and zeros past its end, as a host
		// file cut shorter does.
		readBase := func(p []byte, off int64) error {
			clear(p)
			if off < baseSize {
				copy(p, base[off:baseSize])
			}
			return nil
		}
		model := bytes.Clone(base)
		b := newBlocks(baseSize)
		for op := range 200 {
			switch rng.IntN(4) {
			case 0, 1:
				off := int64(rng.IntN(6 * blockSize))
				p := make([]byte, rng.IntN(3*blockSize))
				for i := range p {
					p[i] = byte(rng.Uint32())
				}
				if n, err := b.writeAt(p, off, readBase); err != nil || n != len(p) {
					t.Fatalf("seed %d op %d: writeAt = %d, %v", seed, op, n, err)
				}
				if end := off + int64(len(p)); end > int64(len(model)) {
					model = append(model, make([]byte, end-int64(len(model)))...)
				}
				copy(model[off:], p)
			case 2:
				size := int64(rng.IntN(6 * blockSize))
				b.truncate(size)
				if size <= int64(len(model)) {
					model = model[:size]
				} else {
					model = append(model, make([]byte, size-int64(len(model)))...)
				}
				// What was cut off and not rewritten reads as zeros:
				// shorten the base view too, as hostFile's low mark does.
				if size < baseSize {
					baseSize = size
				}
			case 3:
				off := int64(rng.IntN(6 * blockSize))
				p := make([]byte, rng.IntN(3*blockSize))
				n, err := b.readAt(p, off, readBase)
				want := 0
				if off < int64(len(model)) {
					want = min(len(p), len(model)-int(off))
				}
				if n != want {
					t.Fatalf("seed %d op %d: readAt(%d bytes at %d) = %d, want %d (size %d)", seed, op, len(p), off, n, want, len(model))
				}
				if n < len(p) && !errors.Is(err, io.EOF) {
					t.Fatalf("seed %d op %d: short read without EOF: %v", seed, op, err)
				}
				if n > 0 && !bytes.Equal(p[:n], model[off:off+int64(n)]) {
					t.Fatalf("seed %d op %d: readAt(%d bytes at %d) differs from the model", seed, op, len(p), off)
				}
			}
			if b.size != int64(len(model)) {
				t.Fatalf("seed %d op %d: size %d, model %d", seed, op, b.size, len(model))
			}
		}
	}
}
