package vmdk

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// streamLevel is the zlib level of the grains [Convert] writes. Measured
// on bench.sh's disk (CPU seconds to compress / to inflate back, size):
// level 1 2.1 / 0.66 / 142 MB, level 2 3.8 / 0.55 / 140 MB, level 4 4.4 /
// 0.53 / 137 MB, level 6 (zlib's default, qemu's) 12.6 / 0.50 / 133 MB.
// Level 4 keeps compression about twice as fast as qemu-img's (CPU) and
// makes grains that inflate nearly as fast as the best, with room for
// checking each grain's Adler-32 on the way back. Any level is a plain
// zlib stream every reader inflates.
const streamLevel = 4

// streamFlags are the flags of a streamOptimized header as VMware writes
// them: newline test, compressed grains, markers.
const streamFlags = flagNewlineTest | flagCompressed | flagMarkers

// streamWriter writes a streamOptimized extent front to back, in the
// layout of VMware's technical note: header (directory "at the end"),
// descriptor, padding to the first grain; grain records in ascending
// order, each block of 512 grains followed by a grain table marker and its
// table (omitted when the block holds no grain); the grain directory
// marker and directory; the footer marker and footer (the header with the
// directory's real offset); the end-of-stream marker. Memory is one grain
// table and the directory (4 bytes per 32 MiB of capacity).
type streamWriter struct {
	w     io.Writer
	hdr   sparseHeader
	pos   int64    // sectors written
	gd    []uint32 // grain directory
	gt    []uint32 // the current block's grain table
	block int64    // the current block, -1 before the first grain
	dirty bool     // gt has an entry
}

// newStreamWriter writes the head of a stream of size bytes to w and
// returns the writer for its grains. desc is the embedded descriptor.
func newStreamWriter(w io.Writer, size int64, desc []byte) (*streamWriter, error) {
	s := &streamWriter{w: w, block: -1}
	s.hdr = sparseHeader{
		version: 3, flags: streamFlags, capacity: size / sectorSize,
		grainSize: newGrainSectors, numGTEs: newGTEs,
		descOffset: 1, descSize: newDescSectors,
		gdOffset: -1, // gdAtEnd
		overhead: newGrainSectors, compression: 1,
	}
	if int64(len(desc)) > s.hdr.descSize*sectorSize {
		return nil, fmt.Errorf("vmdk: descriptor of %d bytes does not fit %d sectors", len(desc), s.hdr.descSize)
	}
	s.gd = make([]uint32, s.hdr.gdEntries())
	s.gt = make([]uint32, newGTEs)
	head := make([]byte, s.hdr.overhead*sectorSize)
	copy(head, s.hdr.marshal())
	copy(head[s.hdr.descOffset*sectorSize:], desc)
	if err := s.write(head); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *streamWriter) write(b []byte) error {
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("vmdk: write stream: %w", err)
	}
	s.pos += int64(len(b)) / sectorSize
	return nil
}

// streamRecord places one grain record in a buffer of records.
type streamRecord struct {
	grain int64
	off   int // byte offset of the record in the buffer
}

// writeRecords appends buf, grain records built by appendGrainRecord for
// grains of one 512-grain block, in ascending grain order, after every
// grain written before.
func (s *streamWriter) writeRecords(buf []byte, recs []streamRecord) error {
	if len(recs) == 0 {
		return nil
	}
	block := recs[0].grain / newGTEs
	if block != s.block {
		if block < s.block {
			return fmt.Errorf("vmdk: stream grains out of order (block %d after %d)", block, s.block)
		}
		if err := s.flushGT(); err != nil {
			return err
		}
		s.block = block
	}
	for _, r := range recs {
		if r.grain/newGTEs != block {
			return fmt.Errorf("vmdk: stream records of grains %d and %d in one write", recs[0].grain, r.grain)
		}
		s.gt[r.grain%newGTEs] = uint32(s.pos + int64(r.off)/sectorSize)
		s.dirty = true
	}
	if s.pos+int64(len(buf))/sectorSize > 0xFFFFFFFF {
		return fmt.Errorf("%w: a stream of more than 2 TiB of compressed grains", ErrUnsupported)
	}
	return s.write(buf)
}

// marker returns a metadata marker sector.
func marker(sectors int64, typ uint32) []byte {
	b := make([]byte, sectorSize)
	binary.LittleEndian.PutUint64(b, uint64(sectors))
	binary.LittleEndian.PutUint32(b[12:], typ)
	return b
}

// flushGT writes the current block's grain table, when it has entries.
func (s *streamWriter) flushGT() error {
	if !s.dirty {
		return nil
	}
	b := marker(gtSectors, markerGT)
	b = append(b, make([]byte, gtSectors*sectorSize)...)
	for i, v := range s.gt {
		binary.LittleEndian.PutUint32(b[sectorSize+4*i:], v)
	}
	s.gd[s.block] = uint32(s.pos + 1)
	clear(s.gt)
	s.dirty = false
	return s.write(b)
}

// close writes the last grain table, the directory, the footer and the
// end-of-stream marker.
func (s *streamWriter) close() error {
	if err := s.flushGT(); err != nil {
		return err
	}
	n := s.hdr.gdSectors()
	b := marker(n, markerGD)
	b = append(b, make([]byte, n*sectorSize)...)
	for i, v := range s.gd {
		binary.LittleEndian.PutUint32(b[sectorSize+4*i:], v)
	}
	footer := s.hdr
	footer.gdOffset = s.pos + 1
	b = append(b, marker(1, markerFooter)...)
	b = append(b, footer.marshal()...)
	b = append(b, make([]byte, sectorSize)...) // end of stream
	return s.write(b)
}

// sliceWriter appends to a byte slice.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// zlibWriters recycles compressors: each holds about a megabyte.
var zlibWriters sync.Pool

// appendGrainRecord appends to dst the record of a compressed grain: the
// grain's first sector, the compressed length, the zlib stream of data,
// zeros to the next sector boundary.
func appendGrainRecord(dst []byte, lba int64, data []byte) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, 12)...)
	sw := &sliceWriter{b: dst}
	zw, _ := zlibWriters.Get().(*zlib.Writer)
	if zw == nil {
		zw, _ = zlib.NewWriterLevel(sw, streamLevel) // the level is valid
	} else {
		zw.Reset(sw)
	}
	zw.Write(data) // writes to a slice cannot fail
	zw.Close()
	zlibWriters.Put(zw)
	dst = sw.b
	binary.LittleEndian.PutUint64(dst[start:], uint64(lba))
	binary.LittleEndian.PutUint32(dst[start+8:], uint32(len(dst)-start-12))
	if pad := (len(dst) - start) % sectorSize; pad != 0 {
		dst = append(dst, make([]byte, sectorSize-pad)...)
	}
	return dst
}

// inflateState is what one inflation needs, recycled through a pool.
type inflateState struct {
	src []byte
	br  bytes.Reader
	fr  io.ReadCloser
	inf inflater
}

var inflaters sync.Pool

// inflateFirstRead is how much of a grain record inflateTo reads at
// first: most compressed grains fit, and the rest takes a second read.
const inflateFirstRead = 32 << 10

// inflateTo decompresses the grain record of grain g at sector gte into
// dst (a grain, or less for the disk's last partial grain; bytes the
// stream does not hold read as zeros). Unlike inflate it shares no state:
// concurrent calls are safe.
//
// The zlib stream's header is checked and its deflate data inflated
// directly by the package's inflater, then its Adler-32 checked, as zlib
// (and so qemu) does: a damaged grain is an error, not wrong data. A
// stream the inflater declines goes through compress/zlib, which checks
// it likewise or says what is wrong.
func (e *sparseExtent) inflateTo(dst []byte, g int64, gte uint32) error {
	grainBytes := e.hdr.grainSize * sectorSize
	off := int64(gte) * sectorSize
	hdrLen := int64(12)
	if e.hdr.flags&flagMarkers == 0 {
		hdrLen = 0
	}
	if off+hdrLen+2 > e.size {
		return corrupt(e.name, off, "grain record %d past the %d-byte file", g, e.size)
	}
	st, _ := inflaters.Get().(*inflateState)
	if st == nil {
		st = &inflateState{src: make([]byte, 2*grainBytes+2*sectorSize)}
	}
	defer inflaters.Put(st)
	if int64(cap(st.src)) < 2*grainBytes+2*sectorSize {
		st.src = make([]byte, 2*grainBytes+2*sectorSize)
	}
	// One read for the record header and, usually, all its data.
	first := min(e.size-off, hdrLen+inflateFirstRead, int64(cap(st.src)))
	buf := st.src[:first]
	if err := readFull(e.f, buf, off); err != nil {
		return fmt.Errorf("vmdk: %s: read grain record %d: %w", e.name, g, err)
	}
	var n int64
	if hdrLen > 0 {
		if lba := int64(binary.LittleEndian.Uint64(buf)); lba != g*e.hdr.grainSize {
			return corrupt(e.name, off, "grain record says LBA %d, the grain table %d", lba, g*e.hdr.grainSize)
		}
		n = int64(binary.LittleEndian.Uint32(buf[8:]))
	} else {
		// No record header: the zlib stream ends itself; take what it can.
		n = min(2*grainBytes, e.size-off)
	}
	if n <= 2 || n > 2*grainBytes+sectorSize || off+hdrLen+n > e.size {
		return corrupt(e.name, off+8, "compressed grain %d of %d bytes", g, n)
	}
	if hdrLen+n > first {
		buf = st.src[:hdrLen+n]
		if err := readFull(e.f, buf[first:], off+first); err != nil {
			return fmt.Errorf("vmdk: %s: read grain record %d: %w", e.name, g, err)
		}
	}
	z := buf[hdrLen : hdrLen+n]
	// RFC 1950: deflate (method 8), window ≤ 32 KiB, no preset
	// dictionary, header check.
	if z[0]&0x0F != 8 || z[0]>>4 > 7 || z[1]&0x20 != 0 || (uint16(z[0])<<8|uint16(z[1]))%31 != 0 {
		return corrupt(e.name, off+hdrLen, "grain %d: not a zlib stream (header %02x%02x)", g, z[0], z[1])
	}
	if m, ok := st.inf.inflate(dst, z[2:]); ok && st.inf.end >= 0 && st.inf.end+6 <= len(z) {
		if adler32Sum(dst[:m]) != binary.BigEndian.Uint32(z[2+st.inf.end:]) {
			return &CorruptError{File: e.name, Offset: off + hdrLen, What: fmt.Sprintf("grain %d", g), Err: zlib.ErrChecksum}
		}
		clear(dst[m:])
		return nil
	}
	// Not decoded by the fast path, or longer than a grain, or cut short
	// before its checksum: compress/zlib decodes it or says what is wrong.
	st.br.Reset(z)
	if st.fr == nil {
		zr, err := zlib.NewReader(&st.br)
		if err != nil {
			return &CorruptError{File: e.name, Offset: off + hdrLen, What: fmt.Sprintf("grain %d", g), Err: err}
		}
		st.fr = zr
	} else if err := st.fr.(zlib.Resetter).Reset(&st.br, nil); err != nil {
		return &CorruptError{File: e.name, Offset: off + hdrLen, What: fmt.Sprintf("grain %d", g), Err: err}
	}
	m, err := io.ReadFull(st.fr, dst)
	if err == nil {
		// A full grain: read on to the stream's end, where the checksum is.
		var one [1]byte
		var k int
		if k, err = st.fr.Read(one[:]); k > 0 {
			err = errors.New("more data than a grain")
		} else if errors.Is(err, io.EOF) {
			err = nil
		}
	} else if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		err = nil // the disk's last, partial grain
	}
	if err != nil {
		return &CorruptError{File: e.name, Offset: off + hdrLen, What: fmt.Sprintf("grain %d", g), Err: err}
	}
	clear(dst[m:])
	return nil
}
