package imagecustom

import (
	"errors"
	"io"
	"slices"
)

// errNegativeOffset reports a read or write before the start of a file.
var errNegativeOffset = errors.New("imagecustom: negative offset")

// blockSize is the unit of change tracking and journaling.
const blockSize = 4096

// blocks holds changed 4 KiB blocks of a file in memory, laid over a base
// that reads the rest. One type serves both layers that keep changes
// before they are written: the image's overlay of the virtual disk (the
// dry run, and the writes not yet flushed) and each journaled host file
// (the raw image, a VMDK's descriptor and extents), so the block logic
// that reads through runs of clean blocks and fills partial blocks from
// the base exists once.
//
// The base is a function that fills p with the base content at off,
// which must lie below size; its bytes at or past its own end read as
// zeros (or are left as they are, where a caller's base never ends
// before size).
type blocks struct {
	dirty map[int64][]byte // block index -> content
	size  int64            // logical size with the changes
}

func newBlocks(size int64) blocks {
	return blocks{dirty: map[int64][]byte{}, size: size}
}

// held returns how many bytes of blocks are held in memory.
func (b *blocks) held() int64 { return int64(len(b.dirty)) * blockSize }

// readAt reads len(p) bytes at off, the changed blocks over the base,
// returning io.EOF (with the bytes before it) at size.
func (b *blocks) readAt(p []byte, off int64, base func(p []byte, off int64) error) (int, error) {
	if off < 0 {
		return 0, errNegativeOffset
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		if pos >= b.size {
			return n, io.EOF
		}
		blk := pos / blockSize
		within := int(pos % blockSize)
		chunk := int(min(int64(len(p)-n), int64(blockSize-within), b.size-pos))
		if d, ok := b.dirty[blk]; ok {
			copy(p[n:n+chunk], d[within:])
		} else {
			// Read the whole run of clean blocks from the base at once.
			end := n + chunk
			for end < len(p) {
				next := off + int64(end)
				if _, ok := b.dirty[next/blockSize]; ok || next >= b.size {
					break
				}
				end = int(min(int64(len(p)), int64(end)+blockSize, b.size-off))
			}
			if err := base(p[n:end], pos); err != nil {
				return n, err
			}
			chunk = end - n
		}
		n += chunk
	}
	return n, nil
}

// writeAt records a write of p at off, growing size when it ends past
// it. A block first written in part is filled from the base.
func (b *blocks) writeAt(p []byte, off int64, base func(p []byte, off int64) error) (int, error) {
	if off < 0 {
		return 0, errNegativeOffset
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		blk := pos / blockSize
		within := int(pos % blockSize)
		chunk := min(len(p)-n, blockSize-within)
		d, ok := b.dirty[blk]
		if !ok {
			d = make([]byte, blockSize)
			if start := blk * blockSize; chunk < blockSize && start < b.size {
				if err := base(d[:min(blockSize, b.size-start)], start); err != nil {
					return n, err
				}
			}
			b.dirty[blk] = d
		}
		copy(d[within:], p[n:n+chunk])
		n += chunk
	}
	b.size = max(b.size, off+int64(len(p)))
	return n, nil
}

// truncate changes the size: blocks past it are dropped, the block it
// cuts is zeroed past it, so that growing again reads zeros there.
func (b *blocks) truncate(size int64) {
	if size < b.size {
		for blk, d := range b.dirty {
			switch start := blk * blockSize; {
			case start >= size:
				delete(b.dirty, blk)
			case start+blockSize > size:
				clear(d[size-start:])
			}
		}
	}
	b.size = size
}

// sorted returns the indexes of the held blocks in order.
func (b *blocks) sorted() []int64 {
	out := make([]int64, 0, len(b.dirty))
	for blk := range b.dirty {
		out = append(out, blk)
	}
	slices.Sort(out)
	return out
}
