package ntfs

import (
	"bytes"
	"encoding/binary"
)

// bootSector holds what the reader needs from the NTFS boot sector ($Boot,
// the first sector of the volume).
type bootSector struct {
	sectorSize     int   // 0x0B bytes per sector
	clusterSize    int64 // 0x0D sectors per cluster × sector size
	totalSectors   int64 // 0x28
	mftLCN         int64 // 0x30 first cluster of $MFT
	mftMirrLCN     int64 // 0x38 first cluster of $MFTMirr
	recordSize     int   // 0x40 clusters (or 2^-n bytes) per MFT record
	indexBlockSize int   // 0x44 clusters (or 2^-n bytes) per index block
	serial         uint64
}

// Limits on the geometry this package accepts. Windows formats clusters of
// 512 B to 2 MiB and records of 1 or 4 KiB; anything outside is refused
// before it can drive an allocation.
const (
	maxClusterSize = 2 << 20
	minRecordSize  = 512
	maxRecordSize  = 64 << 10
)

var ntfsOEMID = []byte("NTFS    ")

// parseBootSector decodes and validates a boot sector.
func parseBootSector(b []byte) (bootSector, error) {
	var bs bootSector
	if len(b) < 512 {
		return bs, corrupt(0, "boot sector: %d bytes", len(b))
	}
	if !bytes.Equal(b[3:11], ntfsOEMID) {
		return bs, corrupt(3, "boot sector: OEM ID %q, want %q", b[3:11], ntfsOEMID)
	}
	if sig := binary.LittleEndian.Uint16(b[0x1FE:]); sig != 0xAA55 {
		return bs, corrupt(0x1FE, "boot sector: signature 0x%04x, want 0xaa55", sig)
	}
	bs.sectorSize = int(binary.LittleEndian.Uint16(b[0x0B:]))
	if bs.sectorSize < 256 || bs.sectorSize > 4096 || bs.sectorSize&(bs.sectorSize-1) != 0 {
		return bs, corrupt(0x0B, "boot sector: %d bytes per sector", bs.sectorSize)
	}
	spc := int64(b[0x0D])
	switch {
	case spc == 0:
		return bs, corrupt(0x0D, "boot sector: 0 sectors per cluster")
	case spc > 0x80:
		// Large clusters: 2^(256-v) sectors (Windows 10 1709 and later).
		shift := 256 - spc
		if shift > 20 {
			return bs, corrupt(0x0D, "boot sector: sectors per cluster 2^%d", shift)
		}
		spc = 1 << shift
	case spc&(spc-1) != 0:
		return bs, corrupt(0x0D, "boot sector: %d sectors per cluster is not a power of two", spc)
	}
	bs.clusterSize = spc * int64(bs.sectorSize)
	if bs.clusterSize > maxClusterSize {
		return bs, corrupt(0x0D, "boot sector: cluster size %d over %d", bs.clusterSize, maxClusterSize)
	}
	bs.totalSectors = int64(binary.LittleEndian.Uint64(b[0x28:]))
	bs.mftLCN = int64(binary.LittleEndian.Uint64(b[0x30:]))
	bs.mftMirrLCN = int64(binary.LittleEndian.Uint64(b[0x38:]))
	if bs.totalSectors <= 0 || bs.totalSectors > 1<<48 {
		return bs, corrupt(0x28, "boot sector: %d total sectors", bs.totalSectors)
	}
	clusters := bs.totalSectors * int64(bs.sectorSize) / bs.clusterSize
	if bs.mftLCN <= 0 || bs.mftLCN >= clusters {
		return bs, corrupt(0x30, "boot sector: $MFT at cluster %d of %d", bs.mftLCN, clusters)
	}
	if bs.mftMirrLCN <= 0 || bs.mftMirrLCN >= clusters {
		return bs, corrupt(0x38, "boot sector: $MFTMirr at cluster %d of %d", bs.mftMirrLCN, clusters)
	}
	var err error
	if bs.recordSize, err = unitSize(int8(b[0x40]), bs.clusterSize, 0x40, "MFT record"); err != nil {
		return bs, err
	}
	if bs.indexBlockSize, err = unitSize(int8(b[0x44]), bs.clusterSize, 0x44, "index block"); err != nil {
		return bs, err
	}
	bs.serial = binary.LittleEndian.Uint64(b[0x48:])
	return bs, nil
}

// unitSize decodes the size of an MFT record or index block: a positive
// value counts clusters, a negative one -n means 2^n bytes.
func unitSize(v int8, clusterSize int64, off int64, what string) (int, error) {
	var n int64
	switch {
	case v > 0:
		n = int64(v) * clusterSize
	case v < 0 && v >= -31:
		n = 1 << -v
	default:
		return 0, corrupt(off, "boot sector: %s size code %d", what, v)
	}
	if n < minRecordSize || n > maxRecordSize || n&(n-1) != 0 {
		return 0, corrupt(off, "boot sector: %s size %d", what, n)
	}
	return int(n), nil
}

// clusters returns the number of clusters of the volume.
func (bs *bootSector) clusters() int64 {
	return bs.totalSectors * int64(bs.sectorSize) / bs.clusterSize
}
