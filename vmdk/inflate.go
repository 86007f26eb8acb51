package vmdk

import (
	"encoding/binary"
	"math/bits"
	"sync"
)

// inflater decodes raw DEFLATE data (RFC 1951) held in memory straight
// into a grain buffer, which is also its window: a grain's stream starts
// afresh, so no distance reaches before the buffer. It is the fast path
// of inflateTo; on anything it does not accept (a corrupt stream, a
// stream longer than its input) it says so, and compress/flate decodes
// the grain instead and reports the error. compress/flate goes through an
// io.ByteReader and a separate 32 KiB window, which costs it about twice
// the time on a grain.
type inflater struct {
	lit, dist, clen huffTable
	lens            [286 + 30]uint8
	// end is, after inflate, the offset in its input just past the final
	// block (where zlib's Adler-32 follows), or -1 when decoding stopped
	// before the final block ended.
	end int
}

// huffTable is a canonical Huffman code as lookup tables: a primary table
// indexed by the next huffPrimary bits of input, whose entries give a
// symbol and its code length, or point to a subtable for longer codes.
// Entry: symbol (or subtable offset) << 8 | subtable flag (16) | length
// (or the subtable's index bits).
type huffTable struct {
	t []uint32
}

const (
	huffPrimary = 9
	huffSub     = 16
)

// build makes the table for the code of the given lengths (0 = symbol
// unused); false for an over-subscribed or incomplete code, except, as
// zlib and compress/flate accept them, an empty code and a single code of
// one bit (its missing code, and any code of an empty one, decodes as an
// error).
func (h *huffTable) build(lengths []uint8) bool {
	var count [16]int
	for _, l := range lengths {
		count[l]++
	}
	count[0] = 0
	left, total := 1, 0
	for l := 1; l <= 15; l++ {
		left = left<<1 - count[l]
		total += count[l]
		if left < 0 {
			return false
		}
	}
	if left != 0 && total != 0 && !(total == 1 && count[1] == 1) {
		return false
	}
	var next [16]int
	code := 0
	for l := 1; l <= 15; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	if cap(h.t) < 1<<huffPrimary {
		h.t = make([]uint32, 1<<huffPrimary, 1<<(huffPrimary+3))
	}
	h.t = h.t[:1<<huffPrimary]
	clear(h.t)
	// Subtables: for each primary slot, the longest code behind it.
	var subLen [1 << huffPrimary]uint8
	first := next
	for _, l := range lengths {
		if l > huffPrimary {
			r := int(bits.Reverse16(uint16(first[l])) >> (16 - l))
			first[l]++
			p := r & (1<<huffPrimary - 1)
			subLen[p] = max(subLen[p], l)
		} else if l > 0 {
			first[l]++
		}
	}
	for p, l := range subLen {
		if l == 0 {
			continue
		}
		sb := l - huffPrimary
		off := len(h.t)
		for range 1 << sb {
			h.t = append(h.t, 0)
		}
		h.t[p] = uint32(off)<<8 | huffSub | uint32(sb)
	}
	for sym, l := range lengths {
		if l == 0 {
			continue
		}
		r := int(bits.Reverse16(uint16(next[l])) >> (16 - l))
		next[l]++
		e := uint32(sym)<<8 | uint32(l)
		if l <= huffPrimary {
			for i := r; i < 1<<huffPrimary; i += 1 << l {
				h.t[i] = e
			}
			continue
		}
		pe := h.t[r&(1<<huffPrimary-1)]
		off, sb := int(pe>>8), int(pe&15)
		for i := r >> huffPrimary; i < 1<<sb; i += 1 << (int(l) - huffPrimary) {
			h.t[off+i] = e
		}
	}
	return true
}

// Length and distance bases and extra bits (RFC 1951 3.2.5).
var (
	lenBase   = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra  = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase  = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// Order of the code length code lengths (RFC 1951 3.2.7).
	clenOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// The fixed codes of block type 1.
var (
	fixedOnce          sync.Once
	fixedLit, fixedDst huffTable
)

func fixedTables() (*huffTable, *huffTable) {
	fixedOnce.Do(func() {
		var l [288]uint8
		for i := range l {
			switch {
			case i < 144:
				l[i] = 8
			case i < 256:
				l[i] = 9
			case i < 280:
				l[i] = 7
			default:
				l[i] = 8
			}
		}
		fixedLit.build(l[:])
		var d [32]uint8 // 30 and 31 complete the code; decoding refuses them
		for i := range d {
			d[i] = 5
		}
		fixedDst.build(d[:])
	})
	return &fixedLit, &fixedDst
}

// bitReader reads bits LSB first from in, then zeros: whether a stream
// read past its end is told by consumed, at the end.
type bitReader struct {
	in  []byte
	pos int    // next byte to load (past len(in): zeros were loaded)
	b   uint64 // bits loaded, not consumed
	n   uint   // how many
}

// fill loads bits until at least 56 are held.
func (r *bitReader) fill() {
	if r.pos+8 <= len(r.in) {
		r.b |= binary.LittleEndian.Uint64(r.in[r.pos:]) << r.n
		k := (63 - r.n) >> 3
		r.pos += int(k)
		r.n += k << 3
		return
	}
	for r.n <= 56 {
		if r.pos < len(r.in) {
			r.b |= uint64(r.in[r.pos]) << r.n
		}
		r.pos++
		r.n += 8
	}
}

// consumed reports whether the bits used so far all came from in.
func (r *bitReader) consumed() bool {
	return r.pos*8-int(r.n) <= len(r.in)*8
}

func (r *bitReader) bits(k uint) uint32 {
	v := uint32(r.b & (1<<k - 1))
	r.b >>= k
	r.n -= k
	return v
}

// decode reads one symbol of h; -1 for a missing code. The caller has
// filled at least 15 bits.
func (r *bitReader) decode(h *huffTable) int {
	e := h.t[r.b&(1<<huffPrimary-1)]
	if e&huffSub != 0 {
		e = h.t[int(e>>8)+int(r.b>>huffPrimary)&(1<<(e&15)-1)]
	}
	l := uint(e & 15)
	if l == 0 {
		return -1
	}
	r.b >>= l
	r.n -= l
	return int(e >> 8)
}

// inflate decodes the raw DEFLATE stream in into dst, stopping when dst
// is full or the stream ends, and returns the bytes written; ok is false
// for a stream it cannot decode.
func (f *inflater) inflate(dst, in []byte) (o int, ok bool) {
	r := bitReader{in: in}
	end := len(in)
	f.end = -1
	for {
		if r.n < 48 {
			r.fill()
		}
		final := r.bits(1) == 1
		var lit, dist *huffTable
		switch r.bits(2) {
		case 0: // stored: whole bytes from the next byte boundary
			r.bits(r.n & 7)
			p := r.pos - int(r.n/8) // first byte not consumed
			r.b, r.n = 0, 0
			if p+4 > end {
				return 0, false
			}
			l := int(binary.LittleEndian.Uint16(in[p:]))
			if binary.LittleEndian.Uint16(in[p+2:]) != ^uint16(l) || p+4+l > end {
				return 0, false
			}
			if o+l > len(dst) {
				o += copy(dst[o:], in[p+4:p+4+l])
				return o, true // the grain is full before the block ends
			}
			o += copy(dst[o:], in[p+4:p+4+l])
			r.pos = p + 4 + l
			if final {
				f.end = r.pos
			}
			if o == len(dst) || final {
				return o, true
			}
			continue
		case 1:
			lit, dist = fixedTables()
		case 2:
			if !f.readTables(&r) {
				return 0, false
			}
			lit, dist = &f.lit, &f.dist
		default:
			return 0, false
		}
		var st blockEnd
		o, st = decodeBlock(&r, dst, o, lit, dist)
		switch st {
		case blockBad:
			return 0, false
		case blockFull:
			return o, r.consumed()
		}
		if !r.consumed() {
			return 0, false
		}
		if final {
			f.end = r.pos - int(r.n/8) // the next byte boundary
		}
		if final || o == len(dst) {
			return o, true
		}
	}
}

// readTables reads a dynamic block's code lengths and builds its tables.
func (f *inflater) readTables(r *bitReader) bool {
	if r.n < 48 {
		r.fill()
	}
	nlit := int(r.bits(5)) + 257
	ndist := int(r.bits(5)) + 1
	nclen := int(r.bits(4)) + 4
	if nlit > 286 || ndist > 30 {
		return false
	}
	var cl [19]uint8
	for i := range nclen {
		if r.n < 3 {
			r.fill()
		}
		cl[clenOrder[i]] = uint8(r.bits(3))
	}
	if !f.clen.build(cl[:]) {
		return false
	}
	lens := f.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		if r.n < 32 {
			r.fill()
		}
		sym := r.decode(&f.clen)
		var rep int
		var v uint8
		switch {
		case sym < 0:
			return false
		case sym < 16:
			lens[i] = uint8(sym)
			i++
			continue
		case sym == 16:
			if i == 0 {
				return false
			}
			v, rep = lens[i-1], 3+int(r.bits(2))
		case sym == 17:
			rep = 3 + int(r.bits(3))
		default:
			rep = 11 + int(r.bits(7))
		}
		if i+rep > len(lens) {
			return false
		}
		for range rep {
			lens[i] = v
			i++
		}
	}
	if lens[256] == 0 { // no end of block
		return false
	}
	return f.lit.build(lens[:nlit]) && f.dist.build(lens[nlit:]) && r.consumed()
}

// blockEnd is how decodeBlock stopped.
type blockEnd int

const (
	blockDone blockEnd = iota // end-of-block code
	blockFull                 // dst is full
	blockBad                  // a code or distance the stream cannot have
)

// decodeBlock decodes the symbols of one Huffman-coded block into dst
// from o on, and returns the new o. The bit reader's state lives in
// locals (registers) here, the hot loop of grain reading.
func decodeBlock(r *bitReader, dst []byte, o int, lit, dist *huffTable) (int, blockEnd) {
	const mask = 1<<huffPrimary - 1
	in, lt, dt := r.in, lit.t, dist.t
	b, n, pos := r.b, r.n, r.pos
	end := blockDone
	for {
		if n < 48 {
			if pos+8 <= len(in) {
				b |= binary.LittleEndian.Uint64(in[pos:]) << n
				k := (63 - n) >> 3
				pos += int(k)
				n += k << 3
			} else {
				r.b, r.n, r.pos = b, n, pos
				r.fill()
				b, n, pos = r.b, r.n, r.pos
			}
		}
		e := lt[b&mask]
		if e&huffSub != 0 {
			e = lt[int(e>>8)+int(b>>huffPrimary)&(1<<(e&15)-1)]
		}
		l := uint(e & 15)
		if l == 0 {
			end = blockBad
			break
		}
		b >>= l
		n -= l
		sym := int(e >> 8)
		if sym < 256 {
			if o >= len(dst) {
				end = blockFull
				break
			}
			dst[o] = byte(sym)
			o++
			continue
		}
		if sym == 256 {
			break
		}
		if sym > 285 {
			end = blockBad
			break
		}
		s := sym - 257
		eb := uint(lenExtra[s])
		length := int(lenBase[s]) + int(b&(1<<eb-1))
		b >>= eb
		n -= eb
		e = dt[b&mask]
		if e&huffSub != 0 {
			e = dt[int(e>>8)+int(b>>huffPrimary)&(1<<(e&15)-1)]
		}
		l = uint(e & 15)
		ds := int(e >> 8)
		if l == 0 || ds > 29 {
			end = blockBad
			break
		}
		b >>= l
		n -= l
		eb = uint(distExtra[ds])
		d := int(distBase[ds]) + int(b&(1<<eb-1))
		b >>= eb
		n -= eb
		if d > o {
			end = blockBad
			break
		}
		length = min(length, len(dst)-o)
		switch {
		case d >= 8 && length <= 16 && o+16 <= len(dst):
			// Short matches, the most common: two words, no call. Bytes
			// past the match are rewritten by what follows (or cleared by
			// the caller, past the stream's end).
			le := binary.LittleEndian
			le.PutUint64(dst[o:], le.Uint64(dst[o-d:]))
			if length > 8 {
				le.PutUint64(dst[o+8:], le.Uint64(dst[o-d+8:]))
			}
		case d >= length:
			copy(dst[o:o+length], dst[o-d:])
		default:
			for i := range length { // overlapping: byte by byte
				dst[o+i] = dst[o-d+i]
			}
		}
		o += length
		if o == len(dst) {
			end = blockFull
			break
		}
	}
	r.b, r.n, r.pos = b, n, pos
	return o, end
}
