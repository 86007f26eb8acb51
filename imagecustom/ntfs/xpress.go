package ntfs

// XPRESS Huffman is the compression of the XPRESS4K, XPRESS8K and
// XPRESS16K formats of system-compressed (WOF) files, specified in
// [MS-XCA] §2.1-2.2 "LZ77+Huffman"; the bit-level order of the fields
// follows wimlib's and ntfs-3g-system-compression's xpress_decompress.c
// (read for the facts, not copied), whose compressor, libwim's, the tests
// decode.
//
// Each WOF chunk (at most 16 KiB, so under the format's 64 KiB block) is
// compressed alone:
//
//	256 bytes   the codeword lengths of the 512 symbols, 4 bits each, the
//	            low nibble of byte i for symbol 2i, the high one for 2i+1
//	then        a bit stream of 16-bit little-endian units, high bit first
//
// A symbol below 256 is a literal byte. Symbol 256+s is a match: its
// length is 3 + (s & 15), and when s & 15 is 15 an interleaved byte adds to
// it (and when that byte is 255, an interleaved 16-bit little-endian value
// replaces the length before the 3 is added); the offset is
// 1<<(s>>4) plus the next s>>4 bits. Sixteen bits are made available before
// the offset is read, which is where the interleaved bytes sit.
const (
	xpressSymbols   = 512
	xpressMaxLen    = 15
	xpressTableSize = xpressSymbols / 2
	xpressMinMatch  = 3
)

// decompressXpress decodes one XPRESS Huffman chunk from src into all of
// dst, whose length is the chunk's uncompressed size. Errors are
// [*CorruptError] values with Offset −1, for the caller to place.
func decompressXpress(h *huffman, dst, src []byte) error {
	if len(src) < xpressTableSize {
		return corrupt(-1, "XPRESS chunk of %d bytes is shorter than its %d-byte code table", len(src), xpressTableSize)
	}
	var lens [xpressSymbols]uint8
	for i, b := range src[:xpressTableSize] {
		lens[2*i], lens[2*i+1] = b&15, b>>4
	}
	if msg, ok := h.build(lens[:], xpressMaxLen); !ok {
		return corrupt(-1, "XPRESS chunk: %s", msg)
	}
	b := &bitReader{src: src[xpressTableSize:]}
	out := 0
	for out < len(dst) {
		sym, ok := h.decode(b)
		if !ok {
			return corrupt(-1, "XPRESS chunk: empty Huffman code at output byte %d", out)
		}
		if sym < 256 {
			dst[out] = byte(sym)
			out++
			continue
		}
		length := sym & 15
		lg := uint(sym>>4) & 15
		b.ensure(16)
		offset := 1<<lg | int(b.peek(lg))
		b.skip(lg)
		if length == 15 {
			x, ok := b.byte()
			if !ok {
				return corrupt(-1, "XPRESS chunk: match length byte past the end at output byte %d", out)
			}
			length += int(x)
			if length == 15+255 {
				lo, ok1 := b.byte()
				hi, ok2 := b.byte()
				if !ok1 || !ok2 {
					return corrupt(-1, "XPRESS chunk: match length past the end at output byte %d", out)
				}
				length = int(lo) | int(hi)<<8
			}
		}
		length += xpressMinMatch
		if offset > out {
			return corrupt(-1, "XPRESS chunk: match at output byte %d reaches %d bytes back", out, offset)
		}
		if length > len(dst)-out {
			return corrupt(-1, "XPRESS chunk: match of %d bytes at output byte %d overruns the %d-byte chunk", length, out, len(dst))
		}
		lzCopy(dst, out, offset, length)
		out += length
	}
	if b.overrun() {
		return corrupt(-1, "XPRESS chunk: bit stream ends before the %d-byte chunk is complete", len(dst))
	}
	return nil
}

// lzCopy copies length bytes from offset bytes back to dst[out:], byte by
// byte in effect, so that an offset smaller than the length repeats.
func lzCopy(dst []byte, out, offset, length int) {
	if offset >= length {
		copy(dst[out:out+length], dst[out-offset:])
		return
	}
	for i := range length {
		dst[out+i] = dst[out-offset+i]
	}
}
