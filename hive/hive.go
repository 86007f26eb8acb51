package hive

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
	"unicode/utf16"
)

// Layout constants.
const (
	baseBlockSize = 4096 // the base block precedes the hive bins
	binHeaderSize = 32
	binAlign      = 4096
	// maxHiveSize bounds what Open reads: Windows limits a hive to 2 GiB.
	maxHiveSize = 2 << 30
	// bigDataSegment is the largest data a cell holds in a hive of version
	// 1.4 and later; bigger values are split through a "db" record.
	bigDataSegment = 16344
)

// Hive is a registry hive held in memory: the whole file, so that reading
// is a matter of slicing and editing a matter of managing cells. Key and
// Value values stay valid across edits of other keys and values.
//
// A Hive is not safe for concurrent use while it is being edited.
type Hive struct {
	buf      []byte // base block and bins
	minor    uint32 // format version 1.minor
	root     uint32 // offset of the root key's nk cell
	bins     []uint32
	free     *freeList // nil until the first edit
	readOnly error     // set: why edits are refused
	modified bool
	replayed string      // what log replay did at OpenFile, "" if nothing
	vindex   *valueIndex // value names of the key last edited
}

// Open reads the hive held in r, size bytes long, into memory. A hive
// whose last write did not complete (dirty) can still be read as it is
// on disk, but editing it fails with an error matching [ErrDirty]: use
// [OpenFile], which replays its transaction logs.
func Open(r io.ReaderAt, size int64) (*Hive, error) {
	if size < baseBlockSize+binAlign || size > maxHiveSize {
		return nil, corrupt(0, "hive of %d bytes", size)
	}
	buf := make([]byte, size)
	if _, err := r.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("hive: read: %w", err)
	}
	return parse(buf)
}

// parse checks the base block and the bins of a whole hive file.
func parse(buf []byte) (*Hive, error) {
	if string(buf[:4]) != "regf" {
		return nil, corrupt(0, "signature %q, want regf", buf[:4])
	}
	h := &Hive{buf: buf}
	major := binary.LittleEndian.Uint32(buf[20:])
	h.minor = binary.LittleEndian.Uint32(buf[24:])
	if major != 1 || h.minor < 3 || h.minor > 6 {
		return nil, fmt.Errorf("%w: hive format version %d.%d", ErrUnsupported, major, h.minor)
	}
	if typ := binary.LittleEndian.Uint32(buf[28:]); typ != 0 {
		return nil, corrupt(28, "file type %d: a transaction log, not a primary hive", typ)
	}
	binsSize := int64(binary.LittleEndian.Uint32(buf[40:]))
	if binsSize%binAlign != 0 || binsSize == 0 || baseBlockSize+binsSize > int64(len(buf)) {
		return nil, corrupt(40, "hive bins size %d in a %d-byte file", binsSize, len(buf))
	}
	h.buf = buf[:baseBlockSize+binsSize]
	h.root = binary.LittleEndian.Uint32(buf[36:])
	if err := h.scanBins(); err != nil {
		return nil, err
	}
	if _, err := h.nk(h.root); err != nil {
		return nil, fmt.Errorf("root key: %w", err)
	}
	if hiveDirty(buf) {
		h.readOnly = fmt.Errorf("%w: sequence numbers %d and %d differ or the checksum is wrong — open it with OpenFile to replay its logs",
			ErrDirty, binary.LittleEndian.Uint32(buf[4:]), binary.LittleEndian.Uint32(buf[8:]))
	}
	return h, nil
}

// scanBins checks that bins tile the hive and records where they start.
func (h *Hive) scanBins() error {
	end := uint32(len(h.buf) - baseBlockSize)
	for off := uint32(0); off < end; {
		abs := int64(off) + baseBlockSize
		b := h.buf[abs:]
		if len(b) < binHeaderSize || string(b[:4]) != "hbin" {
			return corrupt(abs, "no hbin at bin offset 0x%x", off)
		}
		if own := binary.LittleEndian.Uint32(b[4:]); own != off {
			return corrupt(abs+4, "hbin says it is at 0x%x, found at 0x%x", own, off)
		}
		size := binary.LittleEndian.Uint32(b[8:])
		if size < binAlign || size%binAlign != 0 || uint64(off)+uint64(size) > uint64(end) {
			return corrupt(abs+8, "hbin at 0x%x of size %d", off, size)
		}
		h.bins = append(h.bins, off)
		off += size
	}
	return nil
}

// cell returns the data of the allocated cell at offset off (relative to
// the first bin): the bytes after its size field, bounded by its size.
func (h *Hive) cell(off uint32) ([]byte, error) {
	abs := int64(off) + baseBlockSize
	if off == math.MaxUint32 || off%8 != 0 || abs+4 > int64(len(h.buf)) {
		return nil, corrupt(abs, "cell offset 0x%x out of the hive", off)
	}
	size := int32(binary.LittleEndian.Uint32(h.buf[abs:]))
	if size >= 0 {
		return nil, corrupt(abs, "cell at 0x%x is free (size %d)", off, size)
	}
	n := -int64(size)
	if n < 8 || abs+n > int64(len(h.buf)) {
		return nil, corrupt(abs, "cell at 0x%x of size %d overruns the hive", off, n)
	}
	return h.buf[abs+4 : abs+n], nil
}

// record returns the data of the cell at off, which must start with the
// two-letter signature sig and hold at least min bytes.
func (h *Hive) record(off uint32, sig string, min int) ([]byte, error) {
	b, err := h.cell(off)
	if err != nil {
		return nil, err
	}
	if len(b) < min || string(b[:2]) != sig {
		return nil, corrupt(int64(off)+baseBlockSize, "cell at 0x%x: want a %s record of at least %d bytes, found %q (%d bytes)",
			off, sig, min, b[:min2(len(b), 2)], len(b))
	}
	return b, nil
}

func min2(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// Minor returns the hive's format version: 1.Minor (3 for NT 4 and the
// files reg save writes, 5 for XP and later).
func (h *Hive) Minor() int { return int(h.minor) }

// Dirty reports whether the file was dirty when opened (sequence numbers
// differ or bad checksum) and no transaction log was replayed into it.
func (h *Hive) Dirty() bool { return errors.Is(h.readOnly, ErrDirty) }

// Root returns the root key.
func (h *Hive) Root() Key { return Key{h: h, off: h.root} }

// filetime converts a FILETIME to time.Time (UTC); 0 gives the zero time.
func filetime(ft uint64) time.Time {
	if ft == 0 {
		return time.Time{}
	}
	const epoch = 11644473600
	return time.Unix(int64(ft/1e7)-epoch, int64(ft%1e7)*100).UTC()
}

func toFiletime(t time.Time) uint64 {
	const epoch = 11644473600
	return uint64(t.Unix()+epoch)*1e7 + uint64(t.Nanosecond()/100)
}

// decodeName decodes a key or value name: Latin-1 bytes when compressed,
// else UTF-16LE.
func decodeName(b []byte, compressed bool) string {
	if compressed {
		ascii := true
		for _, c := range b {
			if c >= 0x80 {
				ascii = false
				break
			}
		}
		if ascii {
			return string(b)
		}
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// Modified reports whether the hive was changed in memory since it was
// read (or made by [New]).
func (h *Hive) Modified() bool { return h.modified }
