package vmdk

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
)

// WriteAt writes len(p) bytes of the virtual disk at off, as
// [io.WriterAt]. A sparse extent gets new grains appended (the grain
// written before the grain table entries that point at it, both copies
// of the table updated); an all-zero write to a grain that reads zeros
// anyway allocates nothing. The first write of a session marks the sparse
// extents unclean and gives the disk a new content ID, as VMware does;
// [Disk.Close] marks them clean again.
func (d *Disk) WriteAt(p []byte, off int64) (int, error) {
	if !d.write {
		return 0, fmt.Errorf("%w: %s is open read-only", ErrReadOnly, d.path)
	}
	if off < 0 || off+int64(len(p)) > d.size {
		return 0, fmt.Errorf("vmdk: write of %d bytes at %d outside the %d-byte disk", len(p), off, d.size)
	}
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if !d.touched {
		if err := d.touch(); err != nil {
			return 0, err
		}
	}
	n := len(p)
	for len(p) > 0 {
		e := d.extents[d.extentAt(off)]
		within := off - e.start
		k := int(min(int64(len(p)), e.size-within))
		if err := d.writeExtent(e, p[:k], within, off); err != nil {
			return n - len(p), err
		}
		p, off = p[k:], off+int64(k)
	}
	return n, nil
}

func (d *Disk) writeExtent(e *extent, p []byte, within, virt int64) error {
	switch {
	case e.line.Access != "RW":
		return fmt.Errorf("%w: extent %q of %s is %s", ErrReadOnly, e.line.File, d.path, e.line.Access)
	case e.flat != nil:
		if _, err := e.flat.WriteAt(p, e.offset+within); err != nil {
			return fmt.Errorf("vmdk: %s: %w", e.name, err)
		}
		return nil
	case e.sparse == nil:
		return fmt.Errorf("%w: %s: a ZERO extent holds no data", ErrReadOnly, d.path)
	}
	s := e.sparse
	gb := s.hdr.grainSize * sectorSize
	for len(p) > 0 {
		g := within / gb
		gw := within % gb
		k := int(min(int64(len(p)), gb-gw))
		if err := d.writeGrain(s, p[:k], g, gw, virt); err != nil {
			return err
		}
		p, within, virt = p[k:], within+int64(k), virt+int64(k)
	}
	return nil
}

// writeGrain writes p at offset gw of grain g of sparse extent s.
func (d *Disk) writeGrain(s *sparseExtent, p []byte, g, gw, virt int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	state, gte, err := s.lookup(g)
	if err != nil {
		return err
	}
	if state == grainAllocated {
		off := int64(gte)*sectorSize + gw
		if _, err := s.f.WriteAt(p, off); err != nil {
			return fmt.Errorf("vmdk: %s: %w", s.name, err)
		}
		return nil
	}
	if isZero(p) && (state == grainZero || d.parent == nil) {
		return nil // reads as zeros already
	}
	// A new grain: what the grain reads as now, with p laid over it.
	gb := s.hdr.grainSize * sectorSize
	buf := make([]byte, gb)
	grainVirt := virt - gw
	if state == grainUnallocated && d.parent != nil {
		if err := d.readParent(buf[:min(gb, d.size-grainVirt)], grainVirt, true); err != nil {
			return err
		}
	}
	copy(buf[gw:], p)
	// Grains start on a grain boundary after the end of the file.
	at := (s.next + s.hdr.grainSize - 1) / s.hdr.grainSize * s.hdr.grainSize
	if at > 0xFFFFFFFF-s.hdr.grainSize {
		return fmt.Errorf("%w: %s would pass the 2 TiB a sparse extent can address", ErrUnsupported, s.name)
	}
	if _, err := s.f.WriteAt(buf, at*sectorSize); err != nil {
		return fmt.Errorf("vmdk: %s: write grain %d: %w", s.name, g, err)
	}
	s.next = at + s.hdr.grainSize
	s.size = max(s.size, s.next*sectorSize) // reads check against it
	return s.setGTE(g, uint32(at))
}

// setGTE points grain g at sector: in the grain table and, when the extent
// keeps one, the redundant table; a missing table is appended first.
func (s *sparseExtent) setGTE(g int64, sector uint32) error {
	gi, ti := g/s.hdr.numGTEs, g%s.hdr.numGTEs
	if s.gd[gi] == 0 {
		if err := s.newGT(gi); err != nil {
			return err
		}
	}
	t, err := s.gt(gi)
	if err != nil {
		return err
	}
	t[ti] = sector
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], sector)
	if _, err := s.f.WriteAt(b[:], int64(s.gd[gi])*sectorSize+4*ti); err != nil {
		return fmt.Errorf("vmdk: %s: grain table: %w", s.name, err)
	}
	if s.rgd != nil && s.rgd[gi] != 0 {
		if _, err := s.f.WriteAt(b[:], int64(s.rgd[gi])*sectorSize+4*ti); err != nil {
			return fmt.Errorf("vmdk: %s: redundant grain table: %w", s.name, err)
		}
	}
	return nil
}

// newGT appends an empty grain table (and its redundant twin) for
// directory entry gi and points the directories at them.
func (s *sparseExtent) newGT(gi int64) error {
	gtSectors := (s.hdr.numGTEs*4 + sectorSize - 1) / sectorSize
	zero := make([]byte, gtSectors*sectorSize)
	alloc := func() (uint32, error) {
		at := s.next
		if _, err := s.f.WriteAt(zero, at*sectorSize); err != nil {
			return 0, fmt.Errorf("vmdk: %s: new grain table: %w", s.name, err)
		}
		s.next += gtSectors
		s.size = max(s.size, s.next*sectorSize)
		return uint32(at), nil
	}
	at, err := alloc()
	if err != nil {
		return err
	}
	var b [4]byte
	if s.rgd != nil {
		rat, err := alloc()
		if err != nil {
			return err
		}
		binary.LittleEndian.PutUint32(b[:], rat)
		if _, err := s.f.WriteAt(b[:], s.hdr.rgdOffset*sectorSize+4*gi); err != nil {
			return err
		}
		s.rgd[gi] = rat
	}
	binary.LittleEndian.PutUint32(b[:], at)
	if _, err := s.f.WriteAt(b[:], s.hdr.gdOffset*sectorSize+4*gi); err != nil {
		return err
	}
	s.gd[gi] = at
	s.gts[gi] = make([]uint32, s.hdr.numGTEs)
	s.gtLRU = append(s.gtLRU, gi)
	return nil
}

func isZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// newCID returns a random content ID, never the values that mean "none".
func newCID() uint32 {
	for {
		var b [4]byte
		rand.Read(b[:])
		if v := binary.LittleEndian.Uint32(b[:]); v < 0xFFFFFFFE {
			return v
		}
	}
}

// touch prepares the first write: the sparse extents marked unclean, the
// descriptor given a new CID.
func (d *Disk) touch() error {
	for _, e := range d.extents {
		if e.sparse != nil && e.line.Access == "RW" {
			if _, err := e.sparse.f.WriteAt([]byte{1}, 72); err != nil {
				return fmt.Errorf("vmdk: %s: mark unclean: %w", e.sparse.name, err)
			}
			e.sparse.hdr.unclean = true
		}
	}
	d.desc.CID = newCID()
	if err := d.writeDescriptor(); err != nil {
		return err
	}
	d.touched = true
	return nil
}

// markClean clears the uncleanShutdown flag of the sparse extents after
// syncing them.
func (d *Disk) markClean() error {
	for _, e := range d.extents {
		if e.sparse == nil || !e.sparse.hdr.unclean || e.line.Access != "RW" {
			continue
		}
		if err := e.sparse.f.Sync(); err != nil {
			return err
		}
		if _, err := e.sparse.f.WriteAt([]byte{0}, 72); err != nil {
			return fmt.Errorf("vmdk: %s: mark clean: %w", e.sparse.name, err)
		}
		e.sparse.hdr.unclean = false
		if err := e.sparse.f.Sync(); err != nil {
			return err
		}
	}
	for _, e := range d.extents {
		if e.flat != nil && e.line.Access == "RW" {
			if err := e.flat.Sync(); err != nil {
				return err
			}
		}
	}
	d.touched = false
	return nil
}

// writeDescriptor writes the descriptor back: into its area of the sparse
// file when embedded (it must fit), else the descriptor file, replaced
// atomically.
func (d *Disk) writeDescriptor() error {
	b := d.desc.Bytes()
	if d.embedded {
		s := d.extents[0].sparse
		area := s.hdr.descSize * sectorSize
		if int64(len(b)) > area {
			return fmt.Errorf("vmdk: %s: descriptor of %d bytes does not fit its %d-byte area", d.path, len(b), area)
		}
		buf := make([]byte, area)
		copy(buf, b)
		if _, err := s.f.WriteAt(buf, s.hdr.descOffset*sectorSize); err != nil {
			return fmt.Errorf("vmdk: %s: descriptor: %w", d.path, err)
		}
		return nil
	}
	if d.opts.OpenFile == nil {
		return writeFileAtomic(d.path, b)
	}
	f, err := d.opts.OpenFile(d.path, os.O_RDWR)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(b, 0)
	if err == nil {
		err = f.Truncate(int64(len(b)))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("vmdk: %s: descriptor: %w", d.path, err)
	}
	return nil
}

// writeFileAtomic replaces path with b through a synced temporary file.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if fi, err := os.Stat(path); err == nil {
		os.Chmod(tmp.Name(), fi.Mode().Perm())
	}
	return os.Rename(tmp.Name(), path)
}
