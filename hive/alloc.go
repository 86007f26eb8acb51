package hive

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"sort"
)

// freeList tracks the free cells of a hive being edited: a map from
// offset to size (the truth) and buckets by size for finding one, whose
// entries may be stale and are checked against the map when taken.
type freeList struct {
	size    map[uint32]uint32
	buckets [33][]uint32
}

func bucketOf(n uint32) int { return bits.Len32(n) }

func (f *freeList) add(off, size uint32) {
	f.size[off] = size
	b := bucketOf(size)
	f.buckets[b] = append(f.buckets[b], off)
}

func (f *freeList) remove(off uint32) { delete(f.size, off) }

// blocksEditing reports the problems that make a hive unsafe to edit: an
// edit could hand out a cell something still points at, or misplace a key
// in a list it cannot search. Leaks, stale counts, wrong hashes and the
// like are left for Check to report; editing does not make them worse.
func blocksEditing(k ProblemKind) bool {
	switch k {
	case BaseBlock, BinLayout, CellTiling, CellOutOfBounds, FreeCellReferenced, CellShared,
		BadRecord, Parent, ListCount, ListUnsorted, DuplicateName, SecurityRing:
		return true
	}
	return false
}

// writable prepares the hive for editing: it refuses a read-only hive, or
// one whose structure Check finds unsafe to edit (ErrCorrupt), and
// indexes the free cells, checking on the way that cells tile every bin.
func (h *Hive) writable() error {
	if h.readOnly != nil {
		return h.readOnly
	}
	if h.free != nil {
		return nil
	}
	problems, err := Check(h)
	if err != nil {
		return err
	}
	for _, p := range problems {
		if blocksEditing(p.Kind) {
			h.readOnly = &CorruptError{Offset: p.Offset, What: "not safe to edit: " + p.String()}
			return h.readOnly
		}
	}
	f := &freeList{size: map[uint32]uint32{}}
	for i, bin := range h.bins {
		end := uint32(len(h.buf) - baseBlockSize)
		if i+1 < len(h.bins) {
			end = h.bins[i+1]
		}
		for off := bin + binHeaderSize; off < end; {
			abs := int64(off) + baseBlockSize
			size := int32(binary.LittleEndian.Uint32(h.buf[abs:]))
			n := uint32(size)
			if size < 0 {
				n = uint32(-size)
			}
			if n < 8 || n%8 != 0 || off+n > end {
				return corrupt(abs, "cell at 0x%x of size %d does not tile its bin (0x%x..0x%x)", off, size, bin, end)
			}
			if size > 0 {
				f.add(off, n)
			}
			off += n
		}
	}
	h.free = f
	return nil
}

// cellSize returns the size of the cell at off and whether it is in use.
func (h *Hive) cellSize(off uint32) (uint32, bool) {
	size := int32(binary.LittleEndian.Uint32(h.buf[int64(off)+baseBlockSize:]))
	if size < 0 {
		return uint32(-size), true
	}
	return uint32(size), false
}

func (h *Hive) setCellSize(off uint32, n uint32, used bool) {
	v := int32(n)
	if used {
		v = -v
	}
	binary.LittleEndian.PutUint32(h.buf[int64(off)+baseBlockSize:], uint32(v))
}

// alloc returns a new zeroed cell holding n bytes of data: the first free
// cell big enough (split when the rest can be a cell), or a new bin.
func (h *Hive) alloc(n int) (uint32, error) {
	need := uint32(n+4+7) &^ 7
	if need < 8 {
		need = 8
	}
	if uint64(n)+4 > maxHiveSize {
		return 0, fmt.Errorf("%w: cell of %d bytes", ErrUnsupported, n)
	}
	for b := bucketOf(need); b < len(h.free.buckets); b++ {
		list := h.free.buckets[b]
		for i := 0; i < len(list); i++ {
			off := list[i]
			size, ok := h.free.size[off]
			if !ok || bucketOf(size) != b {
				// Stale: taken or merged since.
				list[i] = list[len(list)-1]
				list = list[:len(list)-1]
				i--
				continue
			}
			if size < need {
				continue
			}
			list[i] = list[len(list)-1]
			h.free.buckets[b] = list[:len(list)-1]
			h.free.remove(off)
			h.take(off, size, need)
			return off, nil
		}
		h.free.buckets[b] = list
	}
	return h.appendBin(need)
}

// take marks free cell off (size bytes) used for need bytes, splitting the
// rest off as a free cell when it is at least 8 bytes.
func (h *Hive) take(off, size, need uint32) {
	if size-need >= 8 {
		h.setCellSize(off+need, size-need, false)
		h.free.add(off+need, size-need)
		size = need
	}
	h.setCellSize(off, size, true)
	abs := int64(off) + baseBlockSize
	clear(h.buf[abs+4 : abs+int64(size)])
}

// appendBin adds a bin after the last one, big enough for a cell of need
// bytes, and returns that cell; the rest of the bin is one free cell.
func (h *Hive) appendBin(need uint32) (uint32, error) {
	binOff := uint32(len(h.buf) - baseBlockSize)
	// 4 KiB bins, as Windows makes them, unless the cell needs more:
	// freeing a cell walks its bin to merge with the cell before it, so
	// bins stay small.
	size := (need + binHeaderSize + binAlign - 1) &^ (binAlign - 1)
	if int64(len(h.buf))+int64(size) > maxHiveSize {
		return 0, fmt.Errorf("%w: the hive would pass 2 GiB", ErrUnsupported)
	}
	if cap(h.buf)-len(h.buf) < int(size) {
		// Grow by half at least, so appending bins costs amortized O(1).
		nb := make([]byte, len(h.buf), len(h.buf)+max(int(size), len(h.buf)/2))
		copy(nb, h.buf)
		h.buf = nb
	}
	h.buf = h.buf[:len(h.buf)+int(size)]
	clear(h.buf[len(h.buf)-int(size):])
	b := h.buf[int64(binOff)+baseBlockSize:]
	copy(b, "hbin")
	binary.LittleEndian.PutUint32(b[4:], binOff)
	binary.LittleEndian.PutUint32(b[8:], size)
	h.bins = append(h.bins, binOff)
	cell := binOff + binHeaderSize
	h.setCellSize(cell, size-binHeaderSize, false)
	h.take(cell, size-binHeaderSize, need)
	return cell, nil
}

// release frees the cell at off and merges it with free neighbours in its
// bin, so that space is reused and the file does not grow without bound.
// An offset that is not the start of an allocated cell (a corrupt
// reference) is left alone: freeing it would damage the bin.
func (h *Hive) release(off uint32) {
	if off == nilOffset || off%8 != 0 || int64(off)+baseBlockSize+4 > int64(len(h.buf)) || len(h.bins) == 0 {
		return
	}
	// The bin holding it, and where the next bin starts.
	i := sort.Search(len(h.bins), func(i int) bool { return h.bins[i] > off }) - 1
	if i < 0 {
		return
	}
	bin := h.bins[i]
	end := uint32(len(h.buf) - baseBlockSize)
	if i+1 < len(h.bins) {
		end = h.bins[i+1]
	}
	// Walk the bin to the cell, which must start exactly at off, noting the
	// cell before it.
	prev := uint32(nilOffset)
	p := bin + binHeaderSize
	for p < off {
		ps, _ := h.cellSize(p)
		if ps < 8 || p+ps > end {
			return
		}
		prev = p
		p += ps
	}
	if p != off {
		return
	}
	size, used := h.cellSize(off)
	if !used || size < 8 || off+size > end {
		return
	}
	// Merge with the next cell if free.
	if next := off + size; next < end {
		if ns, nused := h.cellSize(next); !nused && ns >= 8 && next+ns <= end {
			h.free.remove(next)
			size += ns
		}
	}
	// Merge with the previous cell if free.
	if prev != nilOffset {
		if ps, pused := h.cellSize(prev); !pused {
			h.free.remove(prev)
			off, size = prev, size+ps
		}
	}
	h.setCellSize(off, size, false)
	h.free.add(off, size)
}
