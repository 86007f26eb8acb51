package ntfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf16"
)

// recFirstFree is the first record number given to new files: 16–23 are
// reserved for $MFT's own extension records, as Windows keeps them.
const recFirstFree = 24

// mftBitmap returns the stream of $MFT's $BITMAP: one bit per record.
func (v *Volume) mftBitmap() (*file, *stream, error) {
	f, err := v.loadFile(recMFT)
	if err != nil {
		return nil, nil, err
	}
	s, err := v.stream(f, attrBitmap, "")
	if err != nil {
		return nil, nil, fmt.Errorf("ntfs: $MFT $BITMAP: %w", err)
	}
	return f, s, nil
}

// allocRecord finds a free MFT record from recFirstFree on, marks it in
// $MFT's $BITMAP and returns its number, growing $MFT when every record is
// in use.
func (v *Volume) allocRecord() (uint64, error) {
	for grown := false; ; grown = true {
		num, ok, err := v.findFreeRecord()
		if err != nil || ok {
			return num, err
		}
		if grown {
			return 0, corrupt(-1, "$MFT: no free record after growing it")
		}
		if err := v.growMFT(); err != nil {
			return 0, err
		}
	}
}

// findFreeRecord marks and returns the first free record, if any.
func (v *Volume) findFreeRecord() (uint64, bool, error) {
	f, bm, err := v.mftBitmap()
	if err != nil {
		return 0, false, err
	}
	limit := min(v.nrecs, uint64(bm.size)*8)
	buf := make([]byte, 4096)
	for base := uint64(recFirstFree) &^ 7; base < limit; base += uint64(len(buf)) * 8 {
		n := int(min(uint64(len(buf)), (limit-base+7)/8))
		if _, err := bm.ReadAt(buf[:n], int64(base/8)); err != nil {
			return 0, false, err
		}
		for i, b := range buf[:n] {
			if b == 0xFF {
				continue
			}
			for bit := 0; bit < 8; bit++ {
				num := base + uint64(i)*8 + uint64(bit)
				if b&(1<<bit) != 0 || num < recFirstFree || num >= limit {
					continue
				}
				if err := v.setRecordBit(f, bm, num, true); err != nil {
					return 0, false, err
				}
				return num, true, nil
			}
		}
	}
	return 0, false, nil
}

// setRecordBit sets or clears record num's bit in $MFT's $BITMAP.
func (v *Volume) setRecordBit(mft *file, bm *stream, num uint64, used bool) error {
	var b [1]byte
	if _, err := bm.ReadAt(b[:], int64(num/8)); err != nil {
		return err
	}
	mask := byte(1) << (num % 8)
	if (b[0]&mask != 0) == used {
		return corrupt(-1, "$MFT $BITMAP: record %d is already marked %v", num, used)
	}
	b[0] ^= mask
	if !bm.resident {
		return bm.writeAt(b[:], int64(num/8))
	}
	// A resident bitmap lives in record 0: change it there.
	ext := mft.extents(attrBitmap, "")
	if len(ext) != 1 || ext[0].rec != mft.rec.num {
		return unsupported("$MFT's resident $BITMAP outside its base record")
	}
	ext[0].value[num/8] = b[0]
	return v.writeRecord(mft.rec)
}

// now returns the current time as a FILETIME.
func nowFiletime() uint64 { return toFiletime(time.Now()) }

// toFiletime converts a time to a FILETIME (100 ns since 1601 UTC).
func toFiletime(t time.Time) uint64 {
	return uint64(t.Unix()+filetimeEpoch)*1e7 + uint64(t.Nanosecond()/100)
}

// align8 rounds n up to a multiple of 8.
func align8(n int) int { return (n + 7) &^ 7 }

// newRecordHeader lays out an empty, in-use MFT record num with sequence
// number seq and the update sequence number usn (incremented on write):
// update sequence array at 0x30, attributes after it, then the end marker.
func (v *Volume) newRecordHeader(num uint64, seq, usn uint16, dir bool) []byte {
	rs := v.boot.recordSize
	b := make([]byte, rs)
	copy(b, "FILE")
	usaCount := rs/fixupStride + 1
	binary.LittleEndian.PutUint16(b[4:], 0x30)
	binary.LittleEndian.PutUint16(b[6:], uint16(usaCount))
	binary.LittleEndian.PutUint16(b[0x30:], usn)
	binary.LittleEndian.PutUint16(b[0x10:], seq)
	first := align8(0x30 + 2*usaCount)
	binary.LittleEndian.PutUint16(b[0x14:], uint16(first))
	flags := uint16(recordInUse)
	if dir {
		flags |= recordDirectory
	}
	binary.LittleEndian.PutUint16(b[0x16:], flags)
	binary.LittleEndian.PutUint32(b[0x1C:], uint32(rs))
	binary.LittleEndian.PutUint32(b[0x2C:], uint32(num))
	binary.LittleEndian.PutUint32(b[first:], attrEnd)
	binary.LittleEndian.PutUint32(b[0x18:], uint32(first+8))
	return b
}

// errRecordFull reports attributes that do not fit one MFT record; the
// callers that can give the file an attribute list do.
var errRecordFull = errors.New("attributes do not fit the record")

// setAttributes replaces the attributes of record buffer b with attrs
// (each a complete attribute record, in the order NTFS requires), updating
// the bytes in use, the link count and the next instance number. It fails
// with ErrUnsupported when they do not fit: this package does not create
// attribute lists.
func (v *Volume) setAttributes(b []byte, attrs [][]byte) error {
	first := int(binary.LittleEndian.Uint16(b[0x14:]))
	need := first + 8
	for _, a := range attrs {
		need += len(a)
	}
	if need > len(b) {
		return fmt.Errorf("%w: %w: MFT record %d: %d bytes of attributes, a %d-byte record",
			ErrUnsupported, errRecordFull, binary.LittleEndian.Uint32(b[0x2C:]), need, len(b))
	}
	p := first
	links, next := uint16(0), uint16(0)
	for _, a := range attrs {
		copy(b[p:], a)
		if binary.LittleEndian.Uint32(a) == attrFileName {
			links++
		}
		next = max(next, binary.LittleEndian.Uint16(a[0x0E:])+1)
		p += len(a)
	}
	binary.LittleEndian.PutUint32(b[p:], attrEnd)
	binary.LittleEndian.PutUint32(b[p+4:], 0)
	clear(b[p+8:])
	binary.LittleEndian.PutUint32(b[0x18:], uint32(p+8))
	binary.LittleEndian.PutUint16(b[0x12:], links)
	binary.LittleEndian.PutUint16(b[0x28:], next)
	return nil
}

// encodeResident builds a resident attribute record.
func encodeResident(typ uint32, name string, instance uint16, value []byte, indexed bool) []byte {
	n := utf16.Encode([]rune(name))
	nameOff := 0x18
	valOff := align8(nameOff + 2*len(n))
	length := align8(valOff + len(value))
	b := make([]byte, length)
	binary.LittleEndian.PutUint32(b, typ)
	binary.LittleEndian.PutUint32(b[4:], uint32(length))
	b[9] = byte(len(n))
	binary.LittleEndian.PutUint16(b[0x0A:], uint16(nameOff))
	binary.LittleEndian.PutUint16(b[0x0E:], instance)
	binary.LittleEndian.PutUint32(b[0x10:], uint32(len(value)))
	binary.LittleEndian.PutUint16(b[0x14:], uint16(valOff))
	if indexed {
		b[0x16] = 1
	}
	for i, u := range n {
		binary.LittleEndian.PutUint16(b[nameOff+2*i:], u)
	}
	copy(b[valOff:], value)
	return b
}

// encodeNonResident builds a non-resident attribute record holding one
// extent: runs from VCN 0, with the given sizes.
func encodeNonResident(typ uint32, name string, instance uint16, runs []run, alloc, size, init int64, flags uint16) []byte {
	n := utf16.Encode([]rune(name))
	nameOff := 0x40
	mp := encodeRuns(runs)
	runsOff := align8(nameOff + 2*len(n))
	length := align8(runsOff + len(mp))
	b := make([]byte, length)
	binary.LittleEndian.PutUint32(b, typ)
	binary.LittleEndian.PutUint32(b[4:], uint32(length))
	b[8] = 1
	b[9] = byte(len(n))
	binary.LittleEndian.PutUint16(b[0x0A:], uint16(nameOff))
	binary.LittleEndian.PutUint16(b[0x0C:], flags)
	binary.LittleEndian.PutUint16(b[0x0E:], instance)
	binary.LittleEndian.PutUint64(b[0x10:], 0)
	binary.LittleEndian.PutUint64(b[0x18:], uint64(runsEnd(runs, 0)-1))
	binary.LittleEndian.PutUint16(b[0x20:], uint16(runsOff))
	binary.LittleEndian.PutUint64(b[0x28:], uint64(alloc))
	binary.LittleEndian.PutUint64(b[0x30:], uint64(size))
	binary.LittleEndian.PutUint64(b[0x38:], uint64(init))
	for i, u := range n {
		binary.LittleEndian.PutUint16(b[nameOff+2*i:], u)
	}
	copy(b[runsOff:], mp)
	return b
}

// encodeRuns encodes a run list as mapping pairs, ending with a zero
// byte. Each field takes the fewest bytes that hold it, keeping its sign.
func encodeRuns(runs []run) []byte {
	var out []byte
	prev := int64(0)
	for _, r := range runs {
		l := signedBytes(r.length)
		var d []byte
		if r.lcn != sparseLCN {
			d = signedBytes(r.lcn - prev)
			prev = r.lcn
		}
		out = append(out, byte(len(d))<<4|byte(len(l)))
		out = append(out, l...)
		out = append(out, d...)
	}
	return append(out, 0)
}

// signedBytes returns the shortest little-endian two's complement encoding
// of v.
func signedBytes(v int64) []byte {
	var b []byte
	for {
		b = append(b, byte(v))
		rest := v >> 8
		sign := byte(v) & 0x80
		if (rest == 0 && sign == 0) || (rest == -1 && sign != 0) {
			return b
		}
		v = rest
	}
}

// encodeStandardInformation builds a 72-byte (NTFS 3.x) $STANDARD_INFORMATION.
func encodeStandardInformation(t uint64, attrs, securityID uint32) []byte {
	b := make([]byte, 0x48)
	for i := 0; i < 4; i++ {
		binary.LittleEndian.PutUint64(b[8*i:], t)
	}
	binary.LittleEndian.PutUint32(b[0x20:], attrs)
	binary.LittleEndian.PutUint32(b[0x34:], securityID)
	return b
}

// encodeFileName builds a $FILE_NAME value.
func encodeFileName(fn fileName) []byte {
	b := make([]byte, 0x42+2*len(fn.name))
	binary.LittleEndian.PutUint64(b, uint64(fn.parent))
	binary.LittleEndian.PutUint64(b[0x08:], fn.created)
	binary.LittleEndian.PutUint64(b[0x10:], fn.modified)
	binary.LittleEndian.PutUint64(b[0x18:], fn.changed)
	binary.LittleEndian.PutUint64(b[0x20:], fn.accessed)
	binary.LittleEndian.PutUint64(b[0x28:], uint64(fn.allocSize))
	binary.LittleEndian.PutUint64(b[0x30:], uint64(fn.dataSize))
	binary.LittleEndian.PutUint32(b[0x38:], fn.attrs)
	binary.LittleEndian.PutUint32(b[0x3C:], fn.reparseTag)
	b[0x40] = byte(len(fn.name))
	b[0x41] = fn.namespace
	for i, u := range fn.name {
		binary.LittleEndian.PutUint16(b[0x42+2*i:], u)
	}
	return b
}
