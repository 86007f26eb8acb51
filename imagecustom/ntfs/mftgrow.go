package ntfs

import (
	"encoding/binary"
	"fmt"
)

// mftGrowRecords is the least $MFT grows by when it is full: 64 records.
// It grows by an eighth of its size when that is more, so that its run
// list stays short (logarithmic in its size) however many files are made.
const mftGrowRecords = 64

// growMFT extends $MFT by mftGrowRecords records or an eighth: new clusters (after its
// last run when free), formatted as free records, then $MFT's $BITMAP
// grown to cover them, then record 0 (and its mirror) rewritten. A crash
// before the last step leaves leaked clusters, nothing else.
func (v *Volume) growMFT() error {
	mft, err := v.loadFile(recMFT)
	if err != nil {
		return err
	}
	r := mft.rec
	if r.find(attrAttributeList, "") != nil {
		return unsupported("growing a $MFT that has an attribute list")
	}
	data := r.find(attrData, "")
	bmAttr := r.find(attrBitmap, "")
	if data == nil || data.resident || bmAttr == nil {
		return corrupt(r.off, "MFT record 0: no non-resident $DATA and $BITMAP")
	}
	cs := v.boot.clusterSize
	rs := int64(v.boot.recordSize)
	oldRecs := data.dataSize / rs
	newRecs := oldRecs + max(mftGrowRecords, oldRecs/8)
	newSize := newRecs * rs
	needClusters := (newSize + cs - 1) / cs
	haveClusters := runsEnd(data.runs, 0)
	runs := append([]run(nil), data.runs...)
	if needClusters > haveClusters {
		last := runs[len(runs)-1]
		more, err := v.allocClusters(needClusters-haveClusters, haveClusters, last.lcn+last.length)
		if err != nil {
			return err
		}
		runs = mergeRuns(append(runs, more...))
	}
	// Format the new records: free, but valid, as mkntfs and ntfs-3g leave
	// them.
	grown, err := v.newStream("$MFT", []*attribute{{runs: runs, dataSize: newSize, initSize: newSize,
		allocSize: runsEnd(runs, 0) * cs, highVCN: runsEnd(runs, 0) - 1, off: data.off}})
	if err != nil {
		return err
	}
	for n := oldRecs; n < newRecs; n++ {
		b := v.newRecordHeader(uint64(n), 0, 0, false)
		binary.LittleEndian.PutUint16(b[0x16:], 0) // not in use
		disk, err := protect(b)
		if err != nil {
			return err
		}
		if err := grown.writeAt(disk, n*rs); err != nil {
			return err
		}
	}
	// $MFT's $BITMAP: one bit per record, in 8-byte steps.
	bmBytes := (newRecs + 63) / 64 * 8
	var bmNew []byte
	if bmAttr.resident {
		if int64(len(bmAttr.value)) < bmBytes {
			val := append(append([]byte(nil), bmAttr.value...), make([]byte, bmBytes-int64(len(bmAttr.value)))...)
			bmNew = encodeResident(attrBitmap, "", bmAttr.instance, val, false)
		}
	} else if bmAttr.dataSize < bmBytes {
		bmRuns := append([]run(nil), bmAttr.runs...)
		if bmAlloc := runsEnd(bmRuns, 0) * cs; bmAlloc < bmBytes {
			last := bmRuns[len(bmRuns)-1]
			more, err := v.allocClusters((bmBytes-bmAlloc+cs-1)/cs, runsEnd(bmRuns, 0), last.lcn+last.length)
			if err != nil {
				return err
			}
			bmRuns = mergeRuns(append(bmRuns, more...))
		}
		bs, err := v.newStream("$MFT $BITMAP", []*attribute{{runs: bmRuns, dataSize: bmBytes, initSize: bmBytes,
			allocSize: runsEnd(bmRuns, 0) * cs, highVCN: runsEnd(bmRuns, 0) - 1, off: bmAttr.off}})
		if err != nil {
			return err
		}
		// The bytes past the old size may hold anything: zero them.
		if err := bs.writeAt(make([]byte, bmBytes-bmAttr.initSize), bmAttr.initSize); err != nil {
			return err
		}
		bmNew = encodeNonResident(attrBitmap, "", bmAttr.instance, bmRuns, runsEnd(bmRuns, 0)*cs, bmBytes, bmBytes, 0)
	}
	attrs := replaceAttr(r, attrData, "", encodeNonResident(attrData, "", data.instance, runs, runsEnd(runs, 0)*cs, newSize, newSize, data.flags))
	if bmNew != nil {
		tmp, err := asRecord(attrs, r.num)
		if err != nil {
			return err
		}
		attrs = replaceAttr(tmp, attrBitmap, "", bmNew)
	}
	if err := v.rewriteRecord(r, attrs); err != nil {
		return fmt.Errorf("ntfs: grow $MFT: %w", err)
	}
	v.mft = grown
	v.nrecs = uint64(newRecs)
	return nil
}
