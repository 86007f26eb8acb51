package vmdk

// maxRunGrains bounds the grains one dataRun call inspects, so that a
// caller checking for cancellation between calls is never kept waiting.
const maxRunGrains = 1 << 16

// dataRun says what the virtual disk holds from byte off on, for a run
// of n ≥ 1 bytes: data (flat extents, and grains allocated in this disk or
// a parent, which may still read as zeros) or nothing but zeros
// (unallocated everywhere, zeroed grains, ZERO extents). Runs of
// sparse extents end on grain boundaries. The cost is one grain table
// entry per grain, and nothing for a grain table left unallocated, so
// walking a mostly empty disk costs in proportion to its grain tables,
// not its capacity.
func (d *Disk) dataRun(off int64) (data bool, n int64, err error) {
	e := d.extents[d.extentAt(off)]
	within := off - e.start
	rest := e.size - within
	switch {
	case e.flat != nil:
		return true, rest, nil
	case e.sparse == nil: // ZERO
		return d.parentRun(off, rest)
	}
	state, n, err := e.sparse.run(within)
	if err != nil {
		return false, 0, err
	}
	n = min(n, rest)
	switch state {
	case grainAllocated:
		return true, n, nil
	case grainZero:
		return false, n, nil
	}
	return d.parentRun(off, n)
}

// parentRun is dataRun for a range this disk leaves to its parent.
func (d *Disk) parentRun(off, n int64) (bool, int64, error) {
	if d.parent == nil {
		return false, n, nil
	}
	data, m, err := d.parent.dataRun(off)
	return data, min(n, m), err
}

// run returns the state of the grain holding byte within of the extent
// and the bytes from within to the end of the run of grains in the same
// state (at most maxRunGrains grains).
func (s *sparseExtent) run(within int64) (grainState, int64, error) {
	gb := s.hdr.grainSize * sectorSize
	g := within / gb
	grains := (s.capacityBytes() + gb - 1) / gb
	s.mu.Lock()
	defer s.mu.Unlock()
	first, _, err := s.lookup(g)
	if err != nil {
		return 0, 0, err
	}
	n := int64(1)
	for g+n < grains && n < maxRunGrains {
		next := g + n
		gi := next / s.hdr.numGTEs
		t, err := s.gt(gi)
		if err != nil {
			return 0, 0, err
		}
		if t == nil { // a whole table unallocated
			if first != grainUnallocated {
				break
			}
			n += s.hdr.numGTEs - next%s.hdr.numGTEs
			continue
		}
		i := next % s.hdr.numGTEs
		for ; i < s.hdr.numGTEs && n < maxRunGrains; i++ {
			st := grainAllocated
			switch {
			case t[i] == 0:
				st = grainUnallocated
			case t[i] == 1 && s.zeroGTEs:
				st = grainZero
			}
			if st != first {
				break
			}
			n++
		}
		if i < s.hdr.numGTEs && n < maxRunGrains {
			break // the state changed within the table
		}
	}
	end := min((g+n)*gb, s.capacityBytes())
	return first, end - within, nil
}
