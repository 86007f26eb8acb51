package ntfs

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// ErrNoSpace reports that the volume has too few free clusters or MFT
// records for a write. Nothing of the failed operation is left behind.
var ErrNoSpace = errors.New("ntfs: no space left on the volume")

// bitmapScanChunk is how much of a bitmap is read at a time while searching
// it: memory stays bounded whatever the volume's size.
const bitmapScanChunk = 64 << 10

// clusterBitmap returns the $Bitmap stream: one bit per cluster.
func (v *Volume) clusterBitmap() (*stream, error) {
	f, err := v.loadFile(recBitmap)
	if err != nil {
		return nil, err
	}
	s, err := v.stream(f, attrData, "")
	if err != nil {
		return nil, fmt.Errorf("ntfs: $Bitmap: %w", err)
	}
	if need := (v.boot.clusters() + 7) / 8; s.size < need {
		return nil, corrupt(f.rec.off, "$Bitmap: %d bytes for %d clusters", s.size, v.boot.clusters())
	}
	return s, nil
}

// extent is a range of clusters.
type extent struct{ lcn, length int64 }

// freeExtents calls fn for every run of free clusters of $Bitmap from
// cluster start on, in order, until fn returns false.
func (v *Volume) freeExtents(bm *stream, start int64, fn func(e extent) bool) error {
	total := v.boot.clusters()
	buf := make([]byte, bitmapScanChunk)
	runStart := int64(-1)
	for base := start &^ 7; base < total; base += int64(len(buf)) * 8 {
		n := int(min(int64(len(buf)), (total-base+7)/8))
		if _, err := bm.ReadAt(buf[:n], base/8); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		for i := 0; i < n; i++ {
			b := buf[i]
			c := base + int64(i)*8
			if b == 0xFF && runStart < 0 {
				continue
			}
			if b == 0 && runStart >= 0 {
				continue
			}
			for bit := 0; bit < 8; bit++ {
				lcn := c + int64(bit)
				if lcn < start || lcn >= total {
					continue
				}
				free := b&(1<<bit) == 0
				switch {
				case free && runStart < 0:
					runStart = lcn
				case !free && runStart >= 0:
					if !fn(extent{runStart, lcn - runStart}) {
						return nil
					}
					runStart = -1
				}
			}
		}
	}
	if runStart >= 0 {
		fn(extent{runStart, total - runStart})
	}
	return nil
}

// allocClusters finds n free clusters, marks them in $Bitmap and returns
// them as runs from VCN vcn. It prefers one contiguous extent at or after
// hint, then anywhere; failing that it takes the first free extents in
// order. The bitmap is written before the caller records the clusters
// anywhere, so a crash leaves at worst leaked clusters, never clusters
// claimed twice.
func (v *Volume) allocClusters(n, vcn, hint int64) ([]run, error) {
	if n <= 0 {
		return nil, nil
	}
	bm, err := v.clusterBitmap()
	if err != nil {
		return nil, err
	}
	var pick []extent
	if hint < 0 || hint >= v.boot.clusters() {
		hint = 0
	}
	// One extent big enough, from the hint, then from the start.
	for _, from := range []int64{hint, 0} {
		err := v.freeExtents(bm, from, func(e extent) bool {
			if e.length >= n {
				pick = []extent{{e.lcn, n}}
				return false
			}
			return true
		})
		if err != nil {
			return nil, err
		}
		if pick != nil || from == 0 {
			break
		}
	}
	if pick == nil {
		got := int64(0)
		err := v.freeExtents(bm, 0, func(e extent) bool {
			take := min(e.length, n-got)
			pick = append(pick, extent{e.lcn, take})
			got += take
			return got < n
		})
		if err != nil {
			return nil, err
		}
		if got < n {
			return nil, fmt.Errorf("%w: need %d clusters of %d bytes, %d free", ErrNoSpace, n, v.boot.clusterSize, got)
		}
	}
	if err := v.markClusters(bm, pick, true); err != nil {
		return nil, err
	}
	runs := make([]run, len(pick))
	for i, e := range pick {
		runs[i] = run{vcn: vcn, lcn: e.lcn, length: e.length}
		vcn += e.length
	}
	return runs, nil
}

// freeRuns clears the clusters of runs in $Bitmap (sparse runs skipped).
func (v *Volume) freeRuns(runs []run) error {
	var ext []extent
	for _, r := range runs {
		if r.lcn != sparseLCN {
			ext = append(ext, extent{r.lcn, r.length})
		}
	}
	if len(ext) == 0 {
		return nil
	}
	bm, err := v.clusterBitmap()
	if err != nil {
		return err
	}
	return v.markClusters(bm, ext, false)
}

// markClusters sets (or clears) the bits of the extents in $Bitmap. A bit
// already in the wanted state means the allocation state is not what the
// caller believed: the volume is corrupt, and nothing is written.
func (v *Volume) markClusters(bm *stream, ext []extent, used bool) error {
	for _, e := range ext {
		first, last := e.lcn/8, (e.lcn+e.length-1)/8
		buf := make([]byte, last-first+1)
		if _, err := bm.ReadAt(buf, first); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		for c := e.lcn; c < e.lcn+e.length; c++ {
			i, mask := c/8-first, byte(1)<<(c%8)
			if (buf[i]&mask != 0) == used {
				return corrupt(-1, "$Bitmap: cluster %d is already %s", c, map[bool]string{true: "in use", false: "free"}[used])
			}
			buf[i] ^= mask
		}
		if err := bm.writeAt(buf, first); err != nil {
			return err
		}
	}
	return nil
}

// FreeBytes returns the free space of the volume: its free clusters, as
// $Bitmap says, times the cluster size.
func (v *Volume) FreeBytes() (int64, error) {
	bm, err := v.clusterBitmap()
	if err != nil {
		return 0, err
	}
	total := v.boot.clusters()
	buf := make([]byte, bitmapScanChunk)
	var used int64
	for off := int64(0); off*8 < total; off += int64(len(buf)) {
		n := int(min(int64(len(buf)), (total+7)/8-off))
		if _, err := bm.ReadAt(buf[:n], off); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		for i, b := range buf[:n] {
			if c := (off + int64(i)) * 8; c+8 > total {
				b &= byte(1<<(total-c)) - 1
			}
			used += int64(bits.OnesCount8(b))
		}
	}
	return (total - used) * v.boot.clusterSize, nil
}
