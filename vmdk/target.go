package vmdk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// target is what Convert writes: it takes the chunks of the virtual disk
// in ascending order, then finishes, or is aborted and removed.
type target interface {
	size() int64      // virtual bytes to fill
	compressed() bool // wants grain records (streamOptimized)
	write(j *job) error
	finish(sync bool) error // sync: flush the files to stable storage
	abort()
}

// newTarget creates the files of a destination of type typ for in.
func newTarget(dst, typ string, in *source) (target, error) {
	if _, err := os.Lstat(dst); err == nil {
		return nil, fmt.Errorf("vmdk: convert to %s: %w", dst, fs.ErrExist)
	}
	if typ == Raw {
		f, err := os.OpenFile(dst, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return nil, err
		}
		t := &flatTarget{virt: in.size, created: []string{dst}}
		t.files = []flatFile{{f: f, start: 0, size: in.size}}
		return t, nil
	}
	capacity := (in.size + sectorSize - 1) / sectorSize * sectorSize
	edit := func(d *Descriptor) {
		if in.disk == nil {
			return
		}
		for _, kv := range in.disk.desc.DDB {
			k := strings.ToLower(kv.Key)
			if k == "ddb.adaptertype" || strings.HasPrefix(k, "ddb.geometry.") {
				d.SetDDB(kv.Key, kv.Value)
			}
		}
	}
	if typ == StreamOptimized {
		l, err := newLayout(dst, typ, capacity)
		if err != nil {
			return nil, err
		}
		edit(l.desc)
		f, err := os.OpenFile(dst, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return nil, err
		}
		t := &streamTarget{f: f, name: dst, virt: capacity}
		if t.w, err = newStreamWriter(f, capacity, l.desc.Bytes()); err != nil {
			t.abort()
			return nil, err
		}
		return t, nil
	}
	l, err := newLayout(dst, typ, capacity)
	if err != nil {
		return nil, err
	}
	created, err := createDisk(dst, typ, capacity, edit)
	if err != nil {
		return nil, err
	}
	if l.files[0].sparse {
		t := &sparseTarget{virt: capacity, created: created}
		for _, lf := range l.files {
			f, err := os.OpenFile(lf.path, os.O_RDWR, 0)
			if err != nil {
				t.abort()
				return nil, err
			}
			w := &sparseWriter{f: f, start: lf.start, size: lf.size, hdr: newSparseHeader(lf.size/sectorSize, l.embedded()), block: -1}
			w.next = w.hdr.overhead
			t.files = append(t.files, w)
			// Unclean until finished, as any writer marks it.
			if _, err := f.WriteAt([]byte{1}, 72); err != nil {
				t.abort()
				return nil, err
			}
		}
		return t, nil
	}
	t := &flatTarget{virt: capacity, created: created}
	for _, lf := range l.files {
		f, err := os.OpenFile(lf.path, os.O_RDWR, 0)
		if err != nil {
			t.abort()
			return nil, err
		}
		t.files = append(t.files, flatFile{f: f, start: lf.start, size: lf.size})
	}
	return t, nil
}

// runs calls fn for each run of consecutive non-zero grains of j: the
// virtual offset and the bytes.
func (j *job) runs(fn func(off int64, p []byte) error) error {
	for i := 0; i < chunkGrains; {
		if !j.nonzero[i] {
			i++
			continue
		}
		k := i
		for k < chunkGrains && j.nonzero[k] {
			k++
		}
		lo, hi := int64(i)*grainBytes, min(int64(k)*grainBytes, j.n)
		if err := fn(j.off+lo, j.buf[lo:hi]); err != nil {
			return err
		}
		i = k
	}
	return nil
}

// flatFile is one file of a flat target: a virtual range.
type flatFile struct {
	f           *os.File
	start, size int64
}

// flatTarget writes raw images and flat extents: data at its offset,
// zeros left as holes.
type flatTarget struct {
	virt    int64
	files   []flatFile
	created []string
}

func (t *flatTarget) size() int64      { return t.virt }
func (t *flatTarget) compressed() bool { return false }

func (t *flatTarget) write(j *job) error {
	return j.runs(func(off int64, p []byte) error {
		for _, ff := range t.files {
			if off >= ff.start+ff.size || off+int64(len(p)) <= ff.start {
				continue
			}
			lo := max(off, ff.start)
			hi := min(off+int64(len(p)), ff.start+ff.size)
			if _, err := ff.f.WriteAt(p[lo-off:hi-off], lo-ff.start); err != nil {
				return fmt.Errorf("vmdk: convert: %w", err)
			}
		}
		return nil
	})
}

func (t *flatTarget) finish(sync bool) error {
	var first error
	for _, ff := range t.files {
		err := ff.f.Truncate(ff.size) // a raw image's trailing hole
		if err == nil && sync {
			err = ff.f.Sync()
		}
		if cerr := ff.f.Close(); err == nil {
			err = cerr
		}
		if err != nil && first == nil {
			first = fmt.Errorf("vmdk: convert: %w", err)
		}
	}
	if first != nil {
		removeAll(t.created)
	}
	return first
}

func (t *flatTarget) abort() {
	for _, ff := range t.files {
		ff.f.Close()
	}
	removeAll(t.created)
}

// sparseWriter appends grains to a new hosted sparse extent laid out by
// newSparseHeader, and writes each grain table (both copies) once its
// 512 grains are behind.
type sparseWriter struct {
	f           *os.File
	start, size int64 // virtual range
	hdr         sparseHeader
	next        int64 // sector of the next grain
	gt          [newGTEs]uint32
	block       int64 // the grain table being filled, -1 for none
	dirty       bool
}

func (w *sparseWriter) put(g int64, p []byte) error {
	if b := g / newGTEs; b != w.block {
		if err := w.flushGT(); err != nil {
			return err
		}
		w.block = b
	}
	n := int64(len(p)) / grainBytes
	if w.next+n*newGrainSectors > 0xFFFFFFFF {
		return fmt.Errorf("%w: %s would pass the 2 TiB a sparse extent can address", ErrUnsupported, w.f.Name())
	}
	if _, err := w.f.WriteAt(p, w.next*sectorSize); err != nil {
		return fmt.Errorf("vmdk: convert: %w", err)
	}
	for i := range n {
		w.gt[(g+i)%newGTEs] = uint32(w.next)
		w.next += newGrainSectors
	}
	w.dirty = true
	return nil
}

func (w *sparseWriter) flushGT() error {
	if !w.dirty {
		return nil
	}
	b := make([]byte, gtSectors*sectorSize)
	for i, v := range w.gt {
		binary.LittleEndian.PutUint32(b[4*i:], v)
	}
	for _, red := range []bool{false, true} {
		if _, err := w.f.WriteAt(b, w.hdr.gtSector(w.block, red)*sectorSize); err != nil {
			return fmt.Errorf("vmdk: convert: grain table: %w", err)
		}
	}
	clear(w.gt[:])
	w.dirty = false
	return nil
}

// sparseTarget writes monolithicSparse and twoGbMaxExtentSparse disks.
type sparseTarget struct {
	virt    int64
	files   []*sparseWriter
	created []string
	pad     []byte
}

func (t *sparseTarget) size() int64      { return t.virt }
func (t *sparseTarget) compressed() bool { return false }

func (t *sparseTarget) write(j *job) error {
	return j.runs(func(off int64, p []byte) error {
		for len(p) > 0 {
			w := t.files[0]
			for _, c := range t.files {
				if off >= c.start && off < c.start+c.size {
					w = c
				}
			}
			within := off - w.start
			k := min(int64(len(p)), w.size-within)
			q := p[:k]
			// Grains never straddle files (2 GiB is a whole number of them);
			// the disk's last grain may be partial: write it whole.
			if r := k % grainBytes; r != 0 {
				if t.pad == nil {
					t.pad = make([]byte, grainBytes)
				}
				if k > r {
					if err := w.put(within/grainBytes, q[:k-r]); err != nil {
						return err
					}
				}
				clear(t.pad)
				copy(t.pad, q[k-r:])
				if err := w.put((within+k-r)/grainBytes, t.pad); err != nil {
					return err
				}
			} else if err := w.put(within/grainBytes, q); err != nil {
				return err
			}
			p, off = p[k:], off+k
		}
		return nil
	})
}

func (t *sparseTarget) finish(sync bool) error {
	var errs []error
	for _, w := range t.files {
		err := w.flushGT()
		if err == nil && sync {
			err = w.f.Sync() // data and tables before the clean mark
		}
		if err == nil {
			_, err = w.f.WriteAt([]byte{0}, 72) // clean
		}
		if err == nil && sync {
			err = w.f.Sync()
		}
		if cerr := w.f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("vmdk: convert: %w", err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		removeAll(t.created)
		return err
	}
	return nil
}

func (t *sparseTarget) abort() {
	for _, w := range t.files {
		w.f.Close()
	}
	removeAll(t.created)
}

// streamTarget writes a streamOptimized disk.
type streamTarget struct {
	f    *os.File
	name string
	virt int64
	w    *streamWriter
}

func (t *streamTarget) size() int64      { return t.virt }
func (t *streamTarget) compressed() bool { return true }

func (t *streamTarget) write(j *job) error {
	return t.w.writeRecords(j.out, j.recs)
}

func (t *streamTarget) finish(sync bool) error {
	err := t.w.close()
	if err == nil && sync {
		err = t.f.Sync()
	}
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(t.name)
		return fmt.Errorf("vmdk: convert: %w", err)
	}
	return nil
}

func (t *streamTarget) abort() {
	t.f.Close()
	os.Remove(t.name)
}
