package vmdk

import "strconv"

// Info describes an open disk, as Disk.Info returns it.
type Info struct {
	Path       string // as given to Open
	CreateType string
	CID        uint32
	ParentCID  uint32 // NoParent when the disk has none
	Parent     string // parentFileNameHint, "" when the disk has none
	Capacity   int64  // bytes
	// Geometry is the BIOS geometry from the disk database, zero when
	// absent.
	Cylinders, Heads, Sectors int64
	Adapter                   string // ddb.adapterType: ide, lsilogic, buslogic, pvscsi…
	HWVersion                 string // ddb.virtualHWVersion
	// Allocated is how many bytes of the virtual disk this disk's own
	// extents hold data for: every byte of a flat extent, allocated grains
	// of a sparse one. A delta disk's parent is not counted.
	Allocated int64
	// HostBytes is the size of the disk's files on the host: descriptor
	// and extents.
	HostBytes int64
	Extents   []ExtentInfo
}

// ExtentInfo describes one extent of a disk.
type ExtentInfo struct {
	Access   string // RW, RDONLY or NOACCESS
	Type     string // SPARSE, FLAT, VMFS, ZERO
	File     string // as the descriptor names it; "" for ZERO
	Start    int64  // byte offset in the virtual disk
	Size     int64  // bytes of the virtual disk
	Offset   int64  // FLAT, VMFS: byte offset in the file
	HostSize int64  // the file's size

	// Sparse extents only.
	Version    int   // header version: 1, 2 or 3
	GrainSize  int64 // bytes
	Compressed bool  // streamOptimized: deflate-compressed grains
	Unclean    bool  // the uncleanShutdown flag is set
	Allocated  int64 // bytes of allocated grains (zero grains not counted)
	ZeroGrains int64 // grains marked zero (GTE 1), which hide the parent
}

// Info returns the disk's description. It walks every grain table of the
// sparse extents to count allocated grains: its cost grows with the size
// of the grain directory, not with the data.
func (d *Disk) Info() (*Info, error) {
	in := &Info{
		Path:       d.path,
		CreateType: d.desc.CreateType,
		CID:        d.desc.CID,
		ParentCID:  d.desc.ParentCID,
		Parent:     d.desc.ParentFileNameHint,
		Capacity:   d.size,
		Adapter:    d.desc.DDBValue("ddb.adapterType"),
		HWVersion:  d.desc.DDBValue("ddb.virtualHWVersion"),
	}
	in.Cylinders, _ = strconv.ParseInt(d.desc.DDBValue("ddb.geometry.cylinders"), 10, 64)
	in.Heads, _ = strconv.ParseInt(d.desc.DDBValue("ddb.geometry.heads"), 10, 64)
	in.Sectors, _ = strconv.ParseInt(d.desc.DDBValue("ddb.geometry.sectors"), 10, 64)
	if !d.embedded {
		if f, err := d.opts.openFile(d.path, 0); err == nil {
			if fi, err := f.Stat(); err == nil {
				in.HostBytes += fi.Size()
			}
			f.Close()
		}
	}
	for _, e := range d.extents {
		x := ExtentInfo{Access: e.line.Access, Type: e.line.Type, File: e.line.File, Start: e.start, Size: e.size}
		if e.file != nil {
			fi, err := e.file.Stat()
			if err != nil {
				return nil, err
			}
			x.HostSize = fi.Size()
			in.HostBytes += x.HostSize
		}
		switch {
		case e.flat != nil:
			x.Offset = e.offset
			x.Allocated = e.size
		case e.sparse != nil:
			s := e.sparse
			x.Version = int(s.hdr.version)
			x.GrainSize = s.hdr.grainSize * sectorSize
			x.Compressed = s.hdr.flags&flagCompressed != 0
			x.Unclean = s.hdr.unclean
			allocated, zeros, err := s.countGrains(e.size)
			if err != nil {
				return nil, err
			}
			x.Allocated = allocated
			x.ZeroGrains = zeros
		}
		in.Allocated += x.Allocated
		in.Extents = append(in.Extents, x)
	}
	return in, nil
}

// countGrains returns the bytes of the first size bytes of the extent that
// allocated grains hold, and the number of zero grains.
func (e *sparseExtent) countGrains(size int64) (allocated, zeros int64, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	grain := e.hdr.grainSize * sectorSize
	for i := range e.gd {
		t, err := e.gt(int64(i))
		if err != nil {
			return 0, 0, err
		}
		for k, gte := range t {
			start := (int64(i)*e.hdr.numGTEs + int64(k)) * grain
			switch {
			case gte == 0 || start >= size:
			case gte == 1 && e.zeroGTEs:
				zeros++
			default:
				allocated += min(grain, size-start)
			}
		}
	}
	return allocated, zeros, nil
}
