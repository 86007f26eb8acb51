package ntfs

// The bit reader and canonical Huffman decoder the XPRESS Huffman and LZX
// decoders of system-compressed (WOF) files share. Both formats store bits
// in little-endian 16-bit coding units, each read from its high bit down
// ([MS-XCA] §2.2.4; the LZX DELTA format [MS-PATCH] §2.1, as WIM and WOF
// use it without its header), and both assign canonical codes: shorter
// codewords first and, among codewords of one length, smaller symbols
// first (the "canonical Huffman" of [MS-XCA] §2.1.4.1).

// bitReader reads a bit stream of 16-bit little-endian units, with bytes
// that are not part of the bit stream interleaved (XPRESS's long match
// lengths, LZX's uncompressed blocks). A unit is loaded only when a read
// needs more bits than are held, which fixes where the interleaved bytes
// sit: right after the last unit loaded. Past the end of src the stream
// reads as zero bits, since a decoder peeks at up to 16 bits for a
// codeword that may be shorter; consumed tells whether any of those
// padding bits were actually used.
type bitReader struct {
	src []byte
	pos int    // next byte of src to load
	buf uint32 // bits held, left-justified: the next bit is bit 31
	n   uint   // number of bits held
	pad uint   // zero bits loaded past the end of src
}

// ensure makes at least k ≤ 16 bits available.
func (b *bitReader) ensure(k uint) {
	if b.n >= k {
		return
	}
	var w uint32
	if len(b.src)-b.pos >= 2 {
		w = uint32(b.src[b.pos]) | uint32(b.src[b.pos+1])<<8
		b.pos += 2
	} else {
		b.pad += 16
	}
	b.buf |= w << (16 - b.n)
	b.n += 16
}

// peek returns the next k bits, which must be available, without using
// them.
func (b *bitReader) peek(k uint) uint32 {
	if k == 0 {
		return 0
	}
	return b.buf >> (32 - k)
}

// skip drops k available bits.
func (b *bitReader) skip(k uint) {
	b.buf <<= k
	b.n -= k
}

// bits reads k ≤ 16 bits.
func (b *bitReader) bits(k uint) uint32 {
	b.ensure(k)
	v := b.peek(k)
	b.skip(k)
	return v
}

// overrun reports whether bits past the end of src were used.
func (b *bitReader) overrun() bool { return b.pad > b.n }

// byte reads the next interleaved byte.
func (b *bitReader) byte() (byte, bool) {
	if b.pos >= len(b.src) {
		return 0, false
	}
	b.pos++
	return b.src[b.pos-1], true
}

// align drops the bits held, so that the next read starts at a unit
// boundary.
func (b *bitReader) align() { b.buf, b.n = 0, 0 }

// huffTableBits is the width of the fast lookup table: codewords up to
// this length decode with one lookup, longer ones bit by bit.
const huffTableBits = 10

// huffman is a canonical Huffman decoder built from codeword lengths.
type huffman struct {
	maxLen uint
	// fast maps the next huffTableBits bits to symbol<<5 | length for
	// codewords no longer than huffTableBits; 0 marks a longer codeword.
	fast [1 << huffTableBits]uint32
	// count[l] is the number of codewords of length l; syms lists the
	// symbols in canonical order.
	count [17]uint16
	syms  []uint16
	empty bool // no symbol has a codeword
}

// build makes the decoder for lens (each ≤ maxLen ≤ 16). The lengths must
// describe a complete prefix code, or be all zero (an empty code, which
// LZX uses for a length or aligned-offset code a block does not need);
// anything else is corrupt. build reports the problem as text for its
// caller to place.
func (h *huffman) build(lens []uint8, maxLen uint) (string, bool) {
	h.maxLen = maxLen
	h.count = [17]uint16{}
	for _, l := range lens {
		if uint(l) > maxLen {
			return "codeword length over the maximum", false
		}
		h.count[l]++
	}
	h.count[0] = 0
	left := 1
	for l := uint(1); l <= maxLen; l++ {
		left = left<<1 - int(h.count[l])
		if left < 0 {
			return "over-subscribed Huffman code", false
		}
	}
	h.fast = [1 << huffTableBits]uint32{}
	h.syms = h.syms[:0]
	if left == 1<<maxLen {
		h.empty = true
		return "", true
	}
	if left != 0 {
		return "incomplete Huffman code", false
	}
	h.empty = false
	for l := uint(1); l <= maxLen; l++ {
		for s, sl := range lens {
			if uint(sl) == l {
				h.syms = append(h.syms, uint16(s))
			}
		}
	}
	// Fill the fast table: canonical codes in order.
	code, i := uint32(0), 0
	for l := uint(1); l <= maxLen; l++ {
		for k := 0; k < int(h.count[l]); k++ {
			if l <= huffTableBits {
				sh := huffTableBits - l
				for j := uint32(0); j < 1<<sh; j++ {
					h.fast[code<<sh|j] = uint32(h.syms[i])<<5 | uint32(l)
				}
			}
			code++
			i++
		}
		code <<= 1
	}
	return "", true
}

// decode reads one symbol; ok is false for an empty code.
func (h *huffman) decode(b *bitReader) (int, bool) {
	if h.empty {
		return 0, false
	}
	b.ensure(h.maxLen)
	if e := h.fast[b.peek(huffTableBits)]; e != 0 {
		b.skip(uint(e & 31))
		return int(e >> 5), true
	}
	// Canonical decoding one bit at a time past the table's width.
	v := b.peek(h.maxLen)
	code, first, index := uint32(0), uint32(0), uint32(0)
	for l := uint(1); l <= h.maxLen; l++ {
		code |= v >> (h.maxLen - l) & 1
		c := uint32(h.count[l])
		if code-first < c {
			b.skip(l)
			return int(h.syms[index+code-first]), true
		}
		index += c
		first = (first + c) << 1
		code <<= 1
	}
	return 0, false // unreachable for a complete code
}
