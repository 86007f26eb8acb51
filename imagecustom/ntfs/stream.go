package ntfs

import (
	"fmt"
	"io"
	"sort"
)

// stream reads the value of an attribute — usually a $DATA stream — as an
// io.ReaderAt: resident bytes, or clusters through its run list, with
// sparse runs and the bytes past the initialized size reading as zeros.
// It is safe for concurrent use.
type stream struct {
	v    *Volume
	what string // for errors: "MFT record 35 $DATA"

	resident bool
	value    []byte // resident value

	runs      []run
	size      int64 // data size
	initSize  int64 // initialized size: bytes past it read as zeros
	allocSize int64
	// compUnit is the number of clusters per compression unit of a
	// compressed attribute, 0 if not compressed.
	compUnit   int64
	sparse     bool
	compressed bool
	encrypted  bool
	// wof, when set, serves the reads: the stream is the content of a
	// system-compressed file, decoded from its WofCompressedData chunks.
	wof *wofData
}

// newStream builds the reader of an attribute from its extents (one for
// a resident attribute; for a non-resident one every extent, from the
// base record and extension records).
func (v *Volume) newStream(what string, extents []*attribute) (*stream, error) {
	if len(extents) == 0 {
		return nil, fmt.Errorf("ntfs: %s: no attribute", what)
	}
	first := extents[0]
	s := &stream{v: v, what: what}
	if first.resident {
		if len(extents) > 1 {
			return nil, corrupt(first.off, "%s: resident attribute in %d extents", what, len(extents))
		}
		s.resident = true
		s.value = first.value
		s.size = int64(len(first.value))
		s.initSize = s.size
		s.allocSize = s.size
		return s, nil
	}
	sort.SliceStable(extents, func(i, j int) bool { return extents[i].lowVCN < extents[j].lowVCN })
	first = extents[0]
	if first.lowVCN != 0 {
		return nil, corrupt(first.off, "%s: first extent starts at VCN %d", what, first.lowVCN)
	}
	s.size, s.initSize, s.allocSize = first.dataSize, first.initSize, first.allocSize
	s.sparse = first.flags&attrFlagSparse != 0
	s.compressed = first.flags&attrFlagCompressed != 0
	s.encrypted = first.flags&attrFlagEncrypted != 0
	if s.compressed {
		if first.compUnit == 0 {
			return nil, corrupt(first.off, "%s: compressed without a compression unit", what)
		}
		s.compUnit = 1 << first.compUnit
	}
	next := int64(0)
	clusters := v.boot.clusters()
	for _, e := range extents {
		if e.resident || e.lowVCN != next {
			return nil, corrupt(e.off, "%s: extent at VCN %d, want %d", what, e.lowVCN, next)
		}
		for _, r := range e.runs {
			if r.lcn != sparseLCN && r.lcn+r.length > clusters {
				return nil, corrupt(e.off, "%s: run of %d clusters at cluster %d past the volume's %d", what, r.length, r.lcn, clusters)
			}
		}
		s.runs = append(s.runs, e.runs...)
		next = e.highVCN + 1
	}
	cs := v.boot.clusterSize
	if s.allocSize > next*cs || s.allocSize%cs != 0 && !s.compressed {
		return nil, corrupt(first.off, "%s: allocated size %d, runs cover %d bytes", what, s.allocSize, next*cs)
	}
	if !s.compressed && s.size > s.allocSize {
		return nil, corrupt(first.off, "%s: data size %d over allocated size %d", what, s.size, s.allocSize)
	}
	return s, nil
}

// Size returns the data size.
func (s *stream) Size() int64 { return s.size }

// ReadAt reads len(p) bytes at off, as io.ReaderAt.
func (s *stream) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("ntfs: %s: negative offset %d", s.what, off)
	}
	if off >= s.size {
		return 0, io.EOF
	}
	var eof error
	if int64(len(p)) > s.size-off {
		p = p[:s.size-off]
		eof = io.EOF
	}
	n := len(p)
	if s.wof != nil {
		if err := s.wof.readAt(p, off); err != nil {
			return 0, err
		}
		return n, eof
	}
	if s.resident {
		copy(p, s.value[off:])
		return n, eof
	}
	if s.encrypted {
		return 0, unsupported("%s: EFS-encrypted data", s.what)
	}
	// Bytes past the initialized size read as zeros.
	if end := off + int64(len(p)); end > s.initSize {
		z := max(s.initSize-off, 0)
		clear(p[z:])
		p = p[:z]
	}
	var err error
	if s.compressed {
		err = s.readCompressed(p, off)
	} else {
		err = s.readRuns(p, off)
	}
	if err != nil {
		return 0, err
	}
	return n, eof
}

// readRuns fills p from the clusters at byte offset off of the stream.
func (s *stream) readRuns(p []byte, off int64) error {
	cs := s.v.boot.clusterSize
	for len(p) > 0 {
		vcn := off / cs
		i := findRun(s.runs, vcn)
		if i < 0 {
			return corrupt(-1, "%s: no run maps byte %d (VCN %d)", s.what, off, vcn)
		}
		r := s.runs[i]
		within := off - r.vcn*cs
		n := int(min(int64(len(p)), r.length*cs-within))
		if r.lcn == sparseLCN {
			clear(p[:n])
		} else if _, err := s.v.dev.ReadAt(p[:n], r.lcn*cs+within); err != nil {
			return fmt.Errorf("ntfs: %s: read %d bytes at cluster %d: %w", s.what, n, r.lcn, err)
		}
		p = p[n:]
		off += int64(n)
	}
	return nil
}

// readCompressed fills p from byte offset off of a compressed stream. The
// stream is cut in compression units (16 clusters, usually): a unit whose
// clusters are all on disk is stored raw, one whose clusters are all
// sparse is zeros, and one with some of each holds LZNT1-compressed data
// in its first clusters.
func (s *stream) readCompressed(p []byte, off int64) error {
	unit := s.compUnit * s.v.boot.clusterSize
	var tmp []byte
	for len(p) > 0 {
		u := off / unit
		within := off - u*unit
		n := int(min(int64(len(p)), unit-within))
		if within == 0 && n == int(unit) {
			if err := s.readUnit(p[:n], u); err != nil {
				return err
			}
		} else {
			if tmp == nil {
				tmp = make([]byte, unit)
			}
			if err := s.readUnit(tmp, u); err != nil {
				return err
			}
			copy(p[:n], tmp[within:])
		}
		p = p[n:]
		off += int64(n)
	}
	return nil
}

// readUnit decodes compression unit u into dst, which is one unit long.
func (s *stream) readUnit(dst []byte, u int64) error {
	cs := s.v.boot.clusterSize
	start, end := u*s.compUnit, (u+1)*s.compUnit
	var stored, holes int64
	for vcn := start; vcn < end; {
		i := findRun(s.runs, vcn)
		if i < 0 {
			return corrupt(-1, "%s: no run maps VCN %d of compression unit %d", s.what, vcn, u)
		}
		r := s.runs[i]
		n := min(r.vcn+r.length, end) - vcn
		if r.lcn == sparseLCN {
			holes += n
		} else {
			if holes > 0 {
				return corrupt(-1, "%s: compression unit %d has clusters after its hole", s.what, u)
			}
			stored += n
		}
		vcn += n
	}
	switch {
	case holes == 0:
		return s.readRuns(dst, start*cs)
	case stored == 0:
		clear(dst)
		return nil
	}
	src := make([]byte, stored*cs)
	if err := s.readRuns(src, start*cs); err != nil {
		return err
	}
	n, err := decompressLZNT1(dst, src)
	if err != nil {
		return fmt.Errorf("ntfs: %s: compression unit %d: %w", s.what, u, err)
	}
	clear(dst[n:])
	return nil
}

// volumeOffset returns the byte offset in the volume of byte off of the
// stream, or -1 when it has none (resident, sparse, unmapped).
func (s *stream) volumeOffset(off int64) int64 {
	if s.resident {
		return -1
	}
	cs := s.v.boot.clusterSize
	i := findRun(s.runs, off/cs)
	if i < 0 || s.runs[i].lcn == sparseLCN {
		return -1
	}
	return s.runs[i].lcn*cs + off - s.runs[i].vcn*cs
}
