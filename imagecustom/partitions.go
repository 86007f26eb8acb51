package imagecustom

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/diskfs/go-diskfs/partition/gpt"
	"github.com/diskfs/go-diskfs/partition/mbr"
)

// sectorSize is the logical sector size of the images handled: 512 bytes,
// as every VMDK and virtual disk has.
const sectorSize = 512

// maxLogical bounds the chain of extended boot records, so that a chain
// that loops or never ends is an error, not a hang.
const maxLogical = 128

// readPartitions finds the partitions of a disk: a bare NTFS volume, a GPT,
// or an MBR with its extended partition's logical drives.
func readPartitions(r io.ReaderAt, size int64) (string, []Partition, error) {
	head := make([]byte, sectorSize)
	if _, err := r.ReadAt(head, 0); err != nil {
		return "", nil, fmt.Errorf("read sector 0: %w", err)
	}
	if bytes.Equal(head[3:11], []byte("NTFS    ")) {
		return "none", []Partition{{Index: 1, Offset: 0, Size: size}}, nil
	}
	f := &readerFile{r: r, size: size}
	if t, err := gpt.Read(f, sectorSize, sectorSize); err == nil {
		var parts []Partition
		for _, p := range t.Partitions {
			if p.Type == gpt.Unused {
				continue
			}
			parts = append(parts, Partition{
				Index:  p.Index,
				Offset: int64(p.Start) * sectorSize,
				Size:   int64(p.End-p.Start+1) * sectorSize,
				Type:   strings.ToUpper(string(p.Type)),
				Name:   p.Name,
				GUID:   strings.ToUpper(p.GUID),
			})
		}
		return "gpt", clip(parts, size), nil
	}
	t, err := mbr.Read(f, sectorSize, sectorSize)
	if err != nil {
		return "", nil, fmt.Errorf("%w: no partition table and no NTFS volume at the start of the disk", ErrNoVolume)
	}
	var parts []Partition
	for _, p := range t.Partitions {
		switch p.Type {
		case mbr.Empty:
			continue
		case 0x05, 0x0F, 0x85: // extended partitions (CHS, LBA, Linux)
			logical, err := readExtended(r, int64(p.Start))
			if err != nil {
				return "", nil, err
			}
			parts = append(parts, logical...)
			continue
		}
		parts = append(parts, Partition{
			Index:  p.Index,
			Offset: int64(p.Start) * sectorSize,
			Size:   int64(p.Size) * sectorSize,
			Type:   fmt.Sprintf("0x%02x", byte(p.Type)),
			Active: p.Bootable,
		})
	}
	return "mbr", clip(parts, size), nil
}

// readExtended follows the chain of extended boot records of the extended
// partition starting at sector base. Each EBR's first entry is a logical
// drive relative to the EBR; its second points to the next EBR relative to
// base. Logical drives are numbered from 5, as Linux does.
func readExtended(r io.ReaderAt, base int64) ([]Partition, error) {
	var parts []Partition
	seen := map[int64]bool{}
	for ebr := base; ; {
		if seen[ebr] || len(seen) >= maxLogical {
			return nil, fmt.Errorf("%w: extended partition: the chain of boot records loops or exceeds %d", ErrNoVolume, maxLogical)
		}
		seen[ebr] = true
		b := make([]byte, sectorSize)
		if _, err := r.ReadAt(b, ebr*sectorSize); err != nil {
			return nil, fmt.Errorf("extended boot record at sector %d: %w", ebr, err)
		}
		if b[510] != 0x55 || b[511] != 0xAA {
			return nil, fmt.Errorf("%w: extended boot record at sector %d has no signature", ErrNoVolume, ebr)
		}
		entry := func(i int) (typ byte, start, count int64) {
			e := b[446+16*i:]
			return e[4], int64(binary.LittleEndian.Uint32(e[8:])), int64(binary.LittleEndian.Uint32(e[12:]))
		}
		if typ, start, count := entry(0); typ != 0 && count > 0 {
			parts = append(parts, Partition{
				Index:  5 + len(parts),
				Offset: (ebr + start) * sectorSize,
				Size:   count * sectorSize,
				Type:   fmt.Sprintf("0x%02x", typ),
			})
		}
		typ, next, _ := entry(1)
		if typ == 0 || next == 0 {
			return parts, nil
		}
		ebr = base + next
	}
}

// clip drops partitions that start past the end of the disk and shortens
// those that run past it, so that no read goes out of the image.
func clip(parts []Partition, size int64) []Partition {
	out := parts[:0]
	for _, p := range parts {
		if p.Offset >= size || p.Size <= 0 {
			continue
		}
		p.Size = min(p.Size, size-p.Offset)
		out = append(out, p)
	}
	return out
}

// readerFile presents an io.ReaderAt of known size as the backend.File
// go-diskfs reads partition tables from. Only ReadAt and the size matter
// to it; the rest is the interface's due.
type readerFile struct {
	r    io.ReaderAt
	size int64
	pos  int64
}

func (f *readerFile) ReadAt(p []byte, off int64) (int, error) { return f.r.ReadAt(p, off) }

func (f *readerFile) Read(p []byte) (int, error) {
	n, err := f.r.ReadAt(p, f.pos)
	f.pos += int64(n)
	return n, err
}

func (f *readerFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += f.pos
	case io.SeekEnd:
		off += f.size
	default:
		return 0, errors.New("imagecustom: bad whence")
	}
	if off < 0 {
		return 0, errors.New("imagecustom: negative position")
	}
	f.pos = off
	return off, nil
}

func (f *readerFile) Close() error               { return nil }
func (f *readerFile) Stat() (fs.FileInfo, error) { return sizeInfo(f.size), nil }

// sizeInfo is the FileInfo of a disk: only its size means anything.
type sizeInfo int64

func (s sizeInfo) Name() string       { return "disk" }
func (s sizeInfo) Size() int64        { return int64(s) }
func (s sizeInfo) Mode() fs.FileMode  { return 0o444 }
func (s sizeInfo) ModTime() time.Time { return time.Time{} }
func (s sizeInfo) IsDir() bool        { return false }
func (s sizeInfo) Sys() any           { return nil }
