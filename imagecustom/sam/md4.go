package sam

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
)

// md4 returns the MD4 digest of msg, as RFC 1320 defines it. MD4 is
// broken as a hash; it is here only because the NT one-way function is
// MD4 of the UTF-16LE password, and Go's x/crypto is not a dependency.
func md4(msg []byte) [16]byte {
	s := [4]uint32{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476}
	// Pad: 0x80, zeros to 56 mod 64, then the bit length, little-endian.
	n := len(msg)
	padded := make([]byte, (n+8)/64*64+64)
	copy(padded, msg)
	padded[n] = 0x80
	binary.LittleEndian.PutUint64(padded[len(padded)-8:], uint64(n)*8)
	var x [16]uint32
	for off := 0; off < len(padded); off += 64 {
		for i := range x {
			x[i] = binary.LittleEndian.Uint32(padded[off+4*i:])
		}
		a, b, c, d := s[0], s[1], s[2], s[3]
		// Round 1: F(x,y,z) = xy | ~xz.
		for _, i := range [16]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15} {
			f := (b & c) | (^b & d)
			a, b, c, d = d, bits.RotateLeft32(a+f+x[i], [4]int{3, 7, 11, 19}[i%4]), b, c
		}
		// Round 2: G(x,y,z) = xy | xz | yz, constant 0x5a827999.
		for k, i := range [16]int{0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15} {
			g := (b & c) | (b & d) | (c & d)
			a, b, c, d = d, bits.RotateLeft32(a+g+x[i]+0x5a827999, [4]int{3, 5, 9, 13}[k%4]), b, c
		}
		// Round 3: H(x,y,z) = x ^ y ^ z, constant 0x6ed9eba1.
		for k, i := range [16]int{0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15} {
			h := b ^ c ^ d
			a, b, c, d = d, bits.RotateLeft32(a+h+x[i]+0x6ed9eba1, [4]int{3, 9, 11, 15}[k%4]), b, c
		}
		s[0] += a
		s[1] += b
		s[2] += c
		s[3] += d
	}
	var out [16]byte
	for i, v := range s {
		binary.LittleEndian.PutUint32(out[4*i:], v)
	}
	return out
}

// NTHash returns the NT one-way function of password: MD4 of its UTF-16LE
// encoding ([MS-NLMP] 3.3.1, NTOWFv1). The empty password's is
// 31d6cfe0d16ae931b73c59d7e0c089c0.
func NTHash(password string) [16]byte {
	units := utf16.Encode([]rune(password))
	b := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(b[2*i:], u)
	}
	h := md4(b)
	clear(b)
	return h
}
