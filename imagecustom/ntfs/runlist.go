package ntfs

import "sort"

// run maps a range of virtual clusters of an attribute to logical clusters
// of the volume.
type run struct {
	vcn    int64 // first virtual cluster
	lcn    int64 // first logical cluster, or sparseLCN for a hole
	length int64 // clusters
}

// sparseLCN marks a run without clusters on disk: it reads as zeros.
const sparseLCN = -1

// maxVCN bounds virtual cluster numbers so that byte offsets computed from
// them (times a cluster size of at most 2 MiB) cannot overflow an int64.
const maxVCN = 1 << 41

// decodeRuns decodes a mapping-pairs array (an NTFS run list) starting at
// virtual cluster vcn. Each item is a header byte whose low nibble gives
// the size of the run length and high nibble the size of the signed LCN
// delta (0: a sparse run), then those fields, little-endian; a zero byte
// ends the list. off is b's offset in the volume, for errors.
func decodeRuns(b []byte, vcn int64, off int64) ([]run, error) {
	var runs []run
	lcn := int64(0)
	for i := 0; ; {
		if i >= len(b) {
			return nil, corrupt(off+int64(i), "run list: no end marker")
		}
		h := b[i]
		if h == 0 {
			return runs, nil
		}
		nl, no := int(h&0x0F), int(h>>4)
		if nl == 0 || nl > 8 || no > 8 {
			return nil, corrupt(off+int64(i), "run list: header 0x%02x", h)
		}
		if i+1+nl+no > len(b) {
			return nil, corrupt(off+int64(i), "run list: run overruns the attribute")
		}
		length := signedLE(b[i+1 : i+1+nl])
		if length <= 0 || length > maxVCN {
			return nil, corrupt(off+int64(i), "run list: run length %d", length)
		}
		r := run{vcn: vcn, length: length, lcn: sparseLCN}
		if no > 0 {
			lcn += signedLE(b[i+1+nl : i+1+nl+no])
			if lcn < 0 || lcn > maxVCN {
				return nil, corrupt(off+int64(i), "run list: cluster %d", lcn)
			}
			r.lcn = lcn
		}
		if vcn+length > maxVCN {
			return nil, corrupt(off+int64(i), "run list: virtual cluster %d out of range", vcn+length)
		}
		runs = append(runs, r)
		vcn += length
		i += 1 + nl + no
	}
}

// signedLE decodes a little-endian two's complement integer of 1 to 8 bytes.
func signedLE(b []byte) int64 {
	var v int64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | int64(b[i])
	}
	if shift := 64 - 8*uint(len(b)); shift > 0 {
		v = v << shift >> shift // sign-extend
	}
	return v
}

// findRun returns the index of the run holding virtual cluster vcn, or -1.
func findRun(runs []run, vcn int64) int {
	i := sort.Search(len(runs), func(i int) bool { return runs[i].vcn+runs[i].length > vcn })
	if i < len(runs) && runs[i].vcn <= vcn {
		return i
	}
	return -1
}
