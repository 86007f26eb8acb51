package vmdk

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
)

// ConvertOptions tunes [Convert].
type ConvertOptions struct {
	// Type is the destination's createType (see [Create]) or [Raw]; ""
	// keeps the source's: raw for a raw image; for a VMDK its createType,
	// with vmfs flat disks written as monolithicFlat and other sparse
	// kinds (vmfsSparse, seSparse) as monolithicSparse.
	Type string
	// Progress, when not nil, is called from one goroutine with the bytes
	// of the virtual disk done so far, never decreasing, up to total.
	Progress func(done, total int64)
	// Workers is the number of goroutines reading and compressing; 0
	// means [runtime.NumCPU].
	Workers int
	// Sync flushes the new files to stable storage before Convert
	// returns. Without it, as with qemu-img convert, the operating system
	// writes them back in its own time.
	Sync bool
}

// Convert copies the disk at src into a new disk at dst, which must not
// exist. src is anything [Open] accepts (a delta disk is flattened with
// its parents) or, when its content is not a VMDK, a raw image. Only
// data is copied: unallocated and all-zero grains are skipped, so raw
// destinations are sparse files and sparse ones leave those grains
// unallocated, and the work is in proportion to the data, not the
// capacity. A VMDK destination of a raw source whose size is not a
// multiple of 512 is rounded up to one.
//
// Reading (and, for streamOptimized, compressing) runs on
// opts.Workers goroutines; one writer writes in order, and at most a few
// megabytes per worker are in flight. On error or cancellation of ctx,
// the files Convert created are removed.
func Convert(ctx context.Context, src, dst string, opts *ConvertOptions) (err error) {
	if opts == nil {
		opts = &ConvertOptions{}
	}
	in, err := openSource(src)
	if err != nil {
		return err
	}
	defer in.close()
	typ := opts.Type
	if typ == "" {
		typ = in.defaultType()
	}
	out, err := newTarget(dst, typ, in)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			out.abort()
		}
	}()
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	if err := pump(ctx, in, out, workers, opts.Progress); err != nil {
		return err
	}
	return out.finish(opts.Sync)
}

// source is what Convert reads: a VMDK disk or a raw file.
type source struct {
	name string
	size int64
	disk *Disk    // a VMDK
	raw  *os.File // a raw image
}

// openSource opens src as a VMDK when its content is one, else as raw.
func openSource(src string) (*source, error) {
	f, err := os.Open(src)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	head := make([]byte, sectorSize)
	n, _ := f.ReadAt(head, 0)
	head = head[:n]
	isVMDK := n >= 4 && (string(head[:4]) == sparseMagic || string(head[:4]) == "COWD")
	if !isVMDK && fi.Size() <= maxDescriptor && fi.Mode().IsRegular() {
		b, err := io.ReadAll(io.NewSectionReader(f, 0, fi.Size()))
		if err != nil {
			f.Close()
			return nil, err
		}
		_, perr := ParseDescriptor(b, src)
		isVMDK = perr == nil
	}
	if !isVMDK {
		return &source{name: src, size: fi.Size(), raw: f}, nil
	}
	f.Close()
	d, err := Open(src, nil)
	if err != nil {
		return nil, err
	}
	return &source{name: src, size: d.Size(), disk: d}, nil
}

func (s *source) close() {
	if s.disk != nil {
		s.disk.Close()
	}
	if s.raw != nil {
		s.raw.Close()
	}
}

// defaultType is the destination type that keeps the source's.
func (s *source) defaultType() string {
	if s.disk == nil {
		return Raw
	}
	switch ct := s.disk.desc.CreateType; {
	case strings.HasPrefix(strings.ToLower(ct), "vmfssparse"), strings.EqualFold(ct, "seSparse"):
		return MonolithicSparse
	case strings.HasPrefix(strings.ToLower(ct), "vmfs"):
		return MonolithicFlat
	default:
		return ct
	}
}

// readAt fills p with the virtual disk at off; past the source's end it
// reads zeros.
func (s *source) readAt(p []byte, off int64) error {
	n := int(max(0, min(int64(len(p)), s.size-off)))
	clear(p[n:])
	var err error
	if s.disk != nil {
		_, err = s.disk.ReadAt(p[:n], off)
	} else {
		_, err = s.raw.ReadAt(p[:n], off)
	}
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return err
}

// dataRun is [Disk.dataRun] for either kind of source; a raw file asks
// the host file system for its holes where it can.
func (s *source) dataRun(off int64) (bool, int64, error) {
	if off >= s.size {
		return false, 1 << 62, nil
	}
	if s.disk != nil {
		return s.disk.dataRun(off)
	}
	return fileDataRun(s.raw, off, s.size)
}

// Convert moves data in chunks of whole grains, aligned.
const (
	chunkBytes  = 1 << 20
	grainBytes  = newGrainSectors * sectorSize
	chunkGrains = chunkBytes / grainBytes
)

// job is one chunk of the virtual disk on its way from source to target.
type job struct {
	off, n  int64 // virtual range; n is a whole number of grains but at the end
	hole    bool  // nothing but zeros: nothing to read or write
	buf     []byte
	nonzero [chunkGrains]bool
	recs    []streamRecord // compressed grain records in out (streamOptimized)
	out     []byte
	err     error
	done    chan struct{}
}

var jobPool = sync.Pool{New: func() any { return &job{buf: make([]byte, chunkBytes)} }}

// pump runs the conversion: a producer walking the source's data, workers
// reading (and compressing) chunks, this goroutine writing them in order.
func pump(ctx context.Context, in *source, out target, workers int, progress func(int64, int64)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	total := out.size()
	jobs := make(chan *job, workers)
	order := make(chan *job, 2*workers+2)
	var wg sync.WaitGroup
	var produceErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(order)
		defer close(jobs)
		produceErr = produce(ctx, in, total, func(j *job) bool {
			select {
			case order <- j:
			case <-ctx.Done():
				return false
			}
			if j.hole {
				return true
			}
			select {
			case jobs <- j:
				return true
			case <-ctx.Done():
				j.err = ctx.Err()
				close(j.done)
				return false
			}
		})
	}()
	compress := out.compressed()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if ctx.Err() != nil {
					j.err = ctx.Err()
				} else {
					j.err = work(in, j, compress)
				}
				close(j.done)
			}
		}()
	}
	var err error
	for j := range order {
		<-j.done
		if err == nil {
			err = j.err
			if err == nil && !j.hole {
				err = out.write(j)
			}
			if err == nil {
				err = ctx.Err()
			}
			if err != nil {
				cancel()
			} else if progress != nil {
				progress(j.off+j.n, total)
			}
		}
		j.recs, j.out = j.recs[:0], j.out[:0]
		jobPool.Put(j)
	}
	wg.Wait()
	if err == nil {
		err = produceErr
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// produce walks the disk up to total in chunk-aligned jobs: a hole job
// for each run of whole chunks without data, a job per chunk with some.
func produce(ctx context.Context, in *source, total int64, emit func(*job) bool) error {
	newJob := func(off, end int64, hole bool) *job {
		j := jobPool.Get().(*job)
		j.off, j.n, j.hole, j.err = off, end-off, hole, nil
		j.done = make(chan struct{})
		if hole {
			close(j.done)
		}
		return j
	}
	for pos := int64(0); pos < total; {
		if err := ctx.Err(); err != nil {
			return err
		}
		data, n, err := in.dataRun(pos)
		if err != nil {
			return err
		}
		if !data {
			if next := min(total, (pos+n)/chunkBytes*chunkBytes); next > pos {
				if !emit(newJob(pos, next, true)) {
					return ctx.Err()
				}
				pos = next
				continue
			}
		}
		end := min(total, (pos/chunkBytes+1)*chunkBytes)
		if !emit(newJob(pos, end, false)) {
			return ctx.Err()
		}
		pos = end
	}
	return nil
}

// work reads a chunk, notes its non-zero grains and, for a compressed
// target, builds their grain records.
func work(in *source, j *job, compress bool) error {
	buf := j.buf[:j.n]
	if err := in.readAt(buf, j.off); err != nil {
		return err
	}
	j.recs, j.out = j.recs[:0], j.out[:0]
	for i := range chunkGrains {
		lo := int64(i) * grainBytes
		if lo >= j.n {
			j.nonzero[i] = false
			continue
		}
		g := buf[lo:min(lo+grainBytes, j.n)]
		j.nonzero[i] = !isZero(g)
		if compress && j.nonzero[i] {
			if int64(len(g)) < grainBytes { // the disk's last, partial grain
				full := make([]byte, grainBytes)
				copy(full, g)
				g = full
			}
			grain := (j.off + lo) / grainBytes
			j.recs = append(j.recs, streamRecord{grain: grain, off: len(j.out)})
			j.out = appendGrainRecord(j.out, grain*newGrainSectors, g)
		}
	}
	return nil
}
