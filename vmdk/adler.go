package vmdk

import "encoding/binary"

// adler32Sum returns the Adler-32 checksum (RFC 1950) of p, as hash/adler32
// does, faster: sixteen bytes a step, their plain and weighted
// sums taken with two multiplications over 16-bit lanes, where the
// standard loop adds byte after byte in one dependency chain. Checking
// every compressed grain's checksum is then a small part of inflating it.
func adler32Sum(p []byte) uint32 {
	const (
		mod  = 65521
		nmax = 5552 // the most bytes before s2 could overflow; a multiple of 8
		even = 0x00FF00FF00FF00FF
		ones = 0x0001000100010001
		// Weights of the even bytes 0, 2, 4, 6 (8, 6, 4, 2) and of the odd
		// bytes 1, 3, 5, 7 (7, 5, 3, 1) in s2, lined up so that each
		// product's top lane holds the weighted sum.
		wEven = 0x0008000600040002
		wOdd  = 0x0007000500030001
	)
	s1, s2 := uint32(1), uint32(0)
	for len(p) > 0 {
		n := min(len(p), nmax)
		q := p[:n]
		p = p[n:]
		for len(q) >= 16 {
			x, y := binary.LittleEndian.Uint64(q), binary.LittleEndian.Uint64(q[8:])
			ex, ox, ey, oy := x&even, x>>8&even, y&even, y>>8&even
			sx := uint32(((ex + ox) * ones) >> 48)
			s2 += 16*s1 + 8*sx + uint32((ex*wEven)>>48) + uint32((ox*wOdd)>>48) +
				uint32((ey*wEven)>>48) + uint32((oy*wOdd)>>48)
			s1 += sx + uint32(((ey+oy)*ones)>>48)
			q = q[16:]
		}
		for len(q) >= 8 {
			x := binary.LittleEndian.Uint64(q)
			e, o := x&even, x>>8&even
			s2 += 8*s1 + uint32((e*wEven)>>48) + uint32((o*wOdd)>>48)
			s1 += uint32(((e + o) * ones) >> 48)
			q = q[8:]
		}
		for _, b := range q {
			s1 += uint32(b)
			s2 += s1
		}
		s1 %= mod
		s2 %= mod
	}
	return s2<<16 | s1
}
