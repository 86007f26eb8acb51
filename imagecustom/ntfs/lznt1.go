package ntfs

import (
	"encoding/binary"
	"math/bits"
)

// LZNT1 is the compression NTFS applies to a compressed attribute, one
// compression unit (16 clusters) at a time. It is specified in [MS-XCA]
// §2.5 "LZNT1 Algorithm Details", with a worked example in §3.3; libyal's
// libfwnt "Compression methods" document and the Linux-NTFS documentation
// (ntfs/concepts/compression.html, and ntfsprogs doc/compression.txt)
// describe the same format.
//
// The stored data of a unit is a sequence of chunks. Each chunk starts with
// a little-endian 16-bit header:
//
//	bits  0-11  chunk data size − 1 (the data after the header; so the whole
//	            chunk, header included, is (header & 0xFFF) + 3 bytes)
//	bits 12-14  signature, always 3
//	bit     15  set: the data is compressed; clear: it is stored raw
//
// A header of zero, or the end of the stored clusters, ends the data. Chunk
// k decompresses to block k of the unit, the 4096 bytes at k×4096, and no
// chunk sees the output of another.
//
// Compressed data is a series of flag groups: one flag byte, then up to
// eight tokens, bit 0 of the flag describing the first. A clear bit is a
// literal byte; a set bit is a little-endian 16-bit back-reference whose
// high bits hold displacement − 1 and low bits length − 3. How the 16 bits
// are split depends on U, the number of bytes already produced in the
// block: the displacement field has M = max(4, ⌈log₂ U⌉) bits, the largest
// M ≤ 12 with 2^(M−1) < U or else 4 (MS-XCA §3.3), growing from 4 bits for
// U ≤ 16 to 12 bits for U > 2048; the length field has the other 16 − M. A
// back-reference copies length bytes starting displacement bytes back, one
// byte at a time, so a length larger than the displacement repeats the
// last displacement bytes.
const (
	lznt1BlockSize      = 4096   // uncompressed bytes per chunk
	lznt1SizeMask       = 0x0fff // header: chunk data size − 1
	lznt1SignatureMask  = 0x7000 // header: signature bits
	lznt1Signature      = 0x3000 // header: signature 3 in bits 12-14
	lznt1CompressedFlag = 0x8000 // header: the chunk's data is compressed
)

// decompressLZNT1 decompresses the stored data of one NTFS compression unit.
//
// src holds the unit's stored clusters; it may have slack after the last
// chunk. dst has room for the whole uncompressed unit (16 clusters: 64 KiB
// for 4 KiB clusters). Chunk k of src is decoded into block k of dst,
// dst[k×4096 : (k+1)×4096] (cut short by len(dst)). Decoding stops at a zero
// chunk header, at the end of src, or at a lone zero byte at the end of src.
//
// A chunk that yields fewer than 4096 bytes is followed by zeros up to its
// block boundary if and only if another chunk follows it; the last chunk is
// not padded. This is what RtlDecompressBuffer does (Wine's lznt1_decompress
// in dlls/ntdll/rtl.c: "fill space with padding when the previous chunk was
// decompressed to less than 4096 bytes. no padding is needed for the last
// chunk") and, for NTFS, it agrees with ntfs-3g's ntfs_decompress
// (libntfs-3g/compress.c), which zero-fills every short block and then the
// rest of the unit.
//
// It returns n, the number of bytes of dst written: all blocks before the
// last chunk's (padded as above) plus what the last chunk yielded. dst[n:]
// is left untouched; the uncompressed unit is dst[:n] followed by
// len(dst)−n zero bytes, so the caller must clear dst[n:] (or read it as
// zeros) before using it. n is 0 when src starts with a zero header.
//
// Uncompressed chunks are copied whatever their size (1 to 4096 bytes), as
// RtlDecompressBuffer does; ntfs-3g writes them full-size, padding a short
// last block with zeros, and rejects shorter ones.
//
// Input is untrusted: every header, token, back-reference and length is
// checked, nothing is allocated, and nothing panics. A chunk header with a
// signature other than 3, a chunk that overruns src, a chunk beyond the end
// of dst, a truncated token, a back-reference before the start of its block
// (including one at the block start) or past the end of its block, a
// literal past the end of its block, or one non-zero byte left over where
// a header should be, is reported as a [*CorruptError] (Offset −1) naming
// the chunk's offset in src; n is then 0 and dst holds partial output.
func decompressLZNT1(dst, src []byte) (int, error) {
	n := 0     // end of the output written so far
	block := 0 // start in dst of the next chunk's block
	off := 0   // offset in src of the next chunk header
	for off < len(src) {
		if len(src)-off < 2 {
			if src[off] == 0 {
				break
			}
			return 0, corrupt(-1, "LZNT1 chunk at 0x%x of the compression unit: truncated chunk header (1 byte 0x%02x)", off, src[off])
		}
		hdr := binary.LittleEndian.Uint16(src[off:])
		if hdr == 0 {
			break
		}
		if hdr&lznt1SignatureMask != lznt1Signature {
			return 0, corrupt(-1, "LZNT1 chunk at 0x%x of the compression unit: header 0x%04x has signature %d, want 3", off, hdr, hdr&lznt1SignatureMask>>12)
		}
		size := int(hdr&lznt1SizeMask) + 1
		data := off + 2
		if size > len(src)-data {
			return 0, corrupt(-1, "LZNT1 chunk at 0x%x of the compression unit: data size %d overruns the %d stored bytes left", off, size, len(src)-data)
		}
		if block >= len(dst) {
			return 0, corrupt(-1, "LZNT1 chunk at 0x%x of the compression unit: chunk %d is past the end of the %d-byte unit", off, block/lznt1BlockSize, len(dst))
		}
		// Another chunk follows the previous one: pad its short block.
		clear(dst[n:block])
		out := dst[block:min(block+lznt1BlockSize, len(dst))]
		in := src[data : data+size]
		var m int
		if hdr&lznt1CompressedFlag == 0 {
			if len(in) > len(out) {
				return 0, corrupt(-1, "LZNT1 chunk at 0x%x of the compression unit: %d uncompressed bytes overrun the %d-byte block", off, len(in), len(out))
			}
			m = copy(out, in)
		} else {
			var err error
			if m, err = decompressLZNT1Chunk(out, in, off); err != nil {
				return 0, err
			}
		}
		n = block + m
		block += lznt1BlockSize
		off = data + size
	}
	return n, nil
}

// decompressLZNT1Chunk decodes the data of one compressed chunk, in, into
// its block, out (at most 4096 bytes), and returns the number of bytes it
// produced. chunkOff is the offset in the unit's stored data of the chunk
// header, which in follows, for error messages.
func decompressLZNT1Chunk(out, in []byte, chunkOff int) (int, error) {
	base := chunkOff + 2 // offset of in[0] in the stored data
	pos := 0             // bytes produced in the block
	i := 0               // next byte of in
	for i < len(in) {
		flags := in[i]
		i++
		// Eight literals in a row, with room for them: copy them at once.
		if flags == 0 && len(in)-i >= 8 && len(out)-pos >= 8 {
			binary.LittleEndian.PutUint64(out[pos:], binary.LittleEndian.Uint64(in[i:]))
			pos += 8
			i += 8
			continue
		}
		for t := 0; t < 8 && i < len(in); t++ {
			if flags&1 == 0 {
				if pos >= len(out) {
					return 0, corrupt(-1, "LZNT1 chunk at 0x%x of the compression unit: literal at 0x%x is past the end of its %d-byte block", chunkOff, base+i, len(out))
				}
				out[pos] = in[i]
				pos++
				i++
			} else {
				if len(in)-i < 2 {
					return 0, corrupt(-1, "LZNT1 chunk at 0x%x of the compression unit: back-reference at 0x%x is cut off by the end of the chunk", chunkOff, base+i)
				}
				if pos == 0 {
					return 0, corrupt(-1, "LZNT1 chunk at 0x%x of the compression unit: back-reference at 0x%x is the first token of its block", chunkOff, base+i)
				}
				tok := uint(in[i]) | uint(in[i+1])<<8
				// Displacement bits: max(4, ⌈log₂ pos⌉); pos ≤ 4096 keeps it ≤ 12.
				lenBits := 12
				if pos > 16 {
					lenBits = 16 - bits.Len(uint(pos-1))
				}
				length := int(tok&(1<<lenBits-1)) + 3
				disp := int(tok>>lenBits) + 1
				if disp > pos {
					return 0, corrupt(-1, "LZNT1 chunk at 0x%x of the compression unit: back-reference at 0x%x reaches %d bytes back from block byte %d", chunkOff, base+i, disp, pos)
				}
				if length > len(out)-pos {
					return 0, corrupt(-1, "LZNT1 chunk at 0x%x of the compression unit: back-reference at 0x%x copies %d bytes at block byte %d, past the end of its %d-byte block", chunkOff, base+i, length, pos, len(out))
				}
				i += 2
				lznt1Copy(out[pos-disp:pos+length], disp)
				pos += length
			}
			flags >>= 1
		}
	}
	return pos, nil
}

// lznt1Copy performs one back-reference in b = out[pos−disp : pos+length]:
// it sets b[disp+j] = b[j] for j = 0, 1, …, length−1 in that order, so when
// length > disp the bytes it writes are read again (the last disp bytes
// repeat).
func lznt1Copy(b []byte, disp int) {
	if len(b) <= 2*disp {
		// No overlap: the source b[:length] ends before the destination.
		copy(b[disp:], b[:len(b)-disp])
		return
	}
	// Overlap: the result repeats b[:disp]. b[:w] always holds whole
	// periods (w is a multiple of disp), so copying it to b[w:] extends the
	// repetition correctly, doubling w each time.
	w := disp
	for w < len(b) {
		w += copy(b[w:], b[:w])
	}
}
