package ntfs

import "encoding/binary"

// LZX is the compression of the LZX format of system-compressed (WOF)
// files: 32 KiB chunks, each compressed alone with a 32 KiB window, in the
// variant WIM files use ([MS-PATCH] §2 describes LZX DELTA, of which this
// is the plain-window subset). The facts below are from wimlib's and
// ntfs-3g-system-compression's lzx_decompress.c and lzx_common.c (read for
// the facts, not copied):
//
//   - No stream header: the E8 (x86 CALL) translation is always on, with
//     the translation size fixed at 12000000.
//   - A block header is 3 bits of type (1 verbatim, 2 aligned offset,
//     3 uncompressed) and a bit that, set, means a block of 32768 bytes,
//     else 16 more bits give the size.
//   - Aligned offset blocks then hold 8 codeword lengths of 3 bits. Both
//     compressed types then hold the main code's lengths, the 256 literals'
//     and the 240 match symbols' (30 offset slots × 8 length headers) each
//     sent through its own pre-code, and the 249 length-code lengths. A
//     pre-code is 20 lengths of 4 bits; its symbols 0-16 give a length as
//     (previous − symbol) mod 17, 17 is 4 + 4 bits zeros, 18 is 20 + 5
//     bits zeros, 19 is 4 + 1 bit copies of the length the next pre-code
//     symbol gives. The previous lengths are those of the block before in
//     the same chunk, zeros at the chunk's start.
//   - Uncompressed blocks: the bit stream is aligned to 16 bits, 16 zero
//     bits being skipped when it already is, then the three recent offsets
//     as 32-bit little-endian values, the bytes, and a pad byte after an
//     odd count.
//   - A main symbol 256+s is a match with length header s % 8 (7 adds a
//     length-code symbol) plus 2, and offset slot s / 8: slots 0-2 take a
//     recent offset R0-R2 (swapping it with R0), the others base + extra
//     bits − 2, the low 3 extra bits of an aligned offset block being an
//     aligned-code symbol when the slot has 3 or more. R0 = R1 = R2 = 1 at
//     each chunk's start.
const (
	lzxChars       = 256
	lzxLenHeaders  = 8
	lzxSlots       = 30
	lzxMainSymbols = lzxChars + lzxSlots*lzxLenHeaders
	lzxLenSymbols  = 249
	lzxPreSymbols  = 20
	lzxMinMatch    = 2
	lzxBlockSize   = 32768
	lzxE8FileSize  = 12000000

	lzxVerbatim     = 1
	lzxAligned      = 2
	lzxUncompressed = 3
)

// lzxSlotBase and lzxExtraBits give each offset slot's first formatted
// offset and its number of extra bits, for the 32 KiB window.
var (
	lzxSlotBase  [lzxSlots]uint32
	lzxExtraBits [lzxSlots]uint8
)

func init() {
	base := uint32(0)
	for s := range lzxSlots {
		extra := uint8(0)
		if s >= 4 {
			extra = uint8(s/2 - 1)
		}
		lzxSlotBase[s], lzxExtraBits[s] = base, extra
		base += 1 << extra
	}
}

// lzxDecoder holds the tables of an LZX decode, reused across chunks.
type lzxDecoder struct {
	pre, main, length, aligned huffman
	mainLens                   [lzxMainSymbols]uint8
	lenLens                    [lzxLenSymbols]uint8
}

// decompressLZX decodes one LZX chunk from src into all of dst, whose
// length is the chunk's uncompressed size (at most 32 KiB). Errors are
// [*CorruptError] values with Offset −1, for the caller to place.
func (d *lzxDecoder) decompress(dst, src []byte) error {
	if len(dst) > lzxBlockSize {
		return corrupt(-1, "LZX chunk of %d bytes exceeds the 32 KiB window", len(dst))
	}
	d.mainLens = [lzxMainSymbols]uint8{}
	d.lenLens = [lzxLenSymbols]uint8{}
	recent := [3]uint32{1, 1, 1}
	b := &bitReader{src: src}
	out := 0
	for out < len(dst) {
		b.ensure(4)
		typ := b.bits(3)
		size := lzxBlockSize
		if b.bits(1) == 0 {
			size = int(b.bits(16))
		}
		if size < 1 || size > len(dst)-out {
			return corrupt(-1, "LZX chunk: block of %d bytes at output byte %d, %d left", size, out, len(dst)-out)
		}
		switch typ {
		case lzxAligned, lzxVerbatim:
			if typ == lzxAligned {
				var al [8]uint8
				for i := range al {
					al[i] = uint8(b.bits(3))
				}
				if msg, ok := d.aligned.build(al[:], 7); !ok {
					return corrupt(-1, "LZX chunk: aligned offset code: %s", msg)
				}
			}
			if err := d.readLens(b, d.mainLens[:lzxChars]); err != nil {
				return err
			}
			if err := d.readLens(b, d.mainLens[lzxChars:]); err != nil {
				return err
			}
			if msg, ok := d.main.build(d.mainLens[:], 16); !ok {
				return corrupt(-1, "LZX chunk: main code: %s", msg)
			}
			if err := d.readLens(b, d.lenLens[:]); err != nil {
				return err
			}
			if msg, ok := d.length.build(d.lenLens[:], 16); !ok {
				return corrupt(-1, "LZX chunk: length code: %s", msg)
			}
			if err := d.block(b, dst, out, out+size, typ == lzxAligned, &recent); err != nil {
				return err
			}
		case lzxUncompressed:
			b.ensure(1)
			b.align()
			for i := range recent {
				if len(b.src)-b.pos < 4 {
					return corrupt(-1, "LZX chunk: uncompressed block header past the end at output byte %d", out)
				}
				recent[i] = binary.LittleEndian.Uint32(b.src[b.pos:])
				b.pos += 4
				if recent[i] == 0 {
					return corrupt(-1, "LZX chunk: uncompressed block at output byte %d has a recent offset of 0", out)
				}
			}
			if b.pad > 0 || len(b.src)-b.pos < size {
				return corrupt(-1, "LZX chunk: uncompressed block of %d bytes at output byte %d overruns the chunk", size, out)
			}
			copy(dst[out:], b.src[b.pos:b.pos+size])
			b.pos += size
			if size&1 != 0 && b.pos < len(b.src) {
				b.pos++
			}
		default:
			return corrupt(-1, "LZX chunk: block type %d at output byte %d", typ, out)
		}
		out += size
	}
	if b.overrun() {
		return corrupt(-1, "LZX chunk: bit stream ends before the %d-byte chunk is complete", len(dst))
	}
	lzxUndoE8(dst)
	return nil
}

// readLens reads a pre-code and, through it, the new codeword lengths of
// lens, which hold the previous ones.
func (d *lzxDecoder) readLens(b *bitReader, lens []uint8) error {
	var pl [lzxPreSymbols]uint8
	for i := range pl {
		pl[i] = uint8(b.bits(4))
	}
	if msg, ok := d.pre.build(pl[:], 15); !ok {
		return corrupt(-1, "LZX chunk: pre-code: %s", msg)
	}
	delta := func(old uint8, sym int) uint8 { return uint8((int(old) - sym + 17) % 17) }
	for i := 0; i < len(lens); {
		sym, ok := d.pre.decode(b)
		if !ok {
			return corrupt(-1, "LZX chunk: empty pre-code")
		}
		run, val := 1, uint8(0)
		switch {
		case sym < 17:
			val = delta(lens[i], sym)
		case sym == 17:
			run = 4 + int(b.bits(4))
		case sym == 18:
			run = 20 + int(b.bits(5))
		default:
			run = 4 + int(b.bits(1))
			s, ok := d.pre.decode(b)
			if !ok || s > 17 {
				return corrupt(-1, "LZX chunk: pre-code symbol %d after a repeat", s)
			}
			val = delta(lens[i], s)
		}
		if run > len(lens)-i {
			return corrupt(-1, "LZX chunk: codeword length run of %d overruns the %d lengths left", run, len(lens)-i)
		}
		for k := range run {
			lens[i+k] = val
		}
		i += run
	}
	return nil
}

// block decodes the literals and matches of a compressed block into
// dst[out:end].
func (d *lzxDecoder) block(b *bitReader, dst []byte, out, end int, aligned bool, recent *[3]uint32) error {
	for out < end {
		sym, ok := d.main.decode(b)
		if !ok {
			return corrupt(-1, "LZX chunk: empty main code at output byte %d", out)
		}
		if sym < lzxChars {
			dst[out] = byte(sym)
			out++
			continue
		}
		sym -= lzxChars
		length := sym%lzxLenHeaders + lzxMinMatch
		if sym%lzxLenHeaders == lzxLenHeaders-1 {
			l, ok := d.length.decode(b)
			if !ok {
				return corrupt(-1, "LZX chunk: long match with an empty length code at output byte %d", out)
			}
			length += l
		}
		slot := sym / lzxLenHeaders
		var offset uint32
		if slot < 3 {
			offset = recent[slot]
			recent[slot] = recent[0]
			recent[0] = offset
		} else {
			extra := uint(lzxExtraBits[slot])
			offset = lzxSlotBase[slot]
			if aligned && extra >= 3 {
				offset += b.bits(extra-3) << 3
				a, ok := d.aligned.decode(b)
				if !ok {
					return corrupt(-1, "LZX chunk: empty aligned offset code at output byte %d", out)
				}
				offset += uint32(a)
			} else {
				offset += b.bits(extra)
			}
			offset -= 2
			recent[2], recent[1], recent[0] = recent[1], recent[0], offset
		}
		if length > end-out {
			return corrupt(-1, "LZX chunk: match of %d bytes at output byte %d overruns its block", length, out)
		}
		if offset == 0 || int64(offset) > int64(out) {
			return corrupt(-1, "LZX chunk: match at output byte %d reaches %d bytes back", out, offset)
		}
		lzCopy(dst, out, int(offset), length)
		out += length
	}
	return nil
}

// lzxUndoE8 reverses the E8 translation: each 0xE8 byte at position i <
// len−10 (skipping the 4 bytes after a translated one) is followed by an
// absolute target the compressor made from the relative one.
func lzxUndoE8(b []byte) {
	for i := 0; i < len(b)-10; i++ {
		if b[i] != 0xE8 {
			continue
		}
		abs := int32(binary.LittleEndian.Uint32(b[i+1:]))
		pos := int32(i)
		switch {
		case abs >= 0 && abs < lzxE8FileSize:
			binary.LittleEndian.PutUint32(b[i+1:], uint32(abs-pos))
		case abs < 0 && abs >= -pos:
			binary.LittleEndian.PutUint32(b[i+1:], uint32(abs+lzxE8FileSize))
		}
		i += 4
	}
}
