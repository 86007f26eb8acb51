// Command bench is the Go side of bench.sh: it builds the benchmark disk
// and times the vmdk package on it, printing seconds (or nanoseconds per
// read) on stdout.
//
//	bench gen out.raw            1 GiB raw disk, ~300 MB of mixed data
//	bench convert TYPE src dst   time vmdk.Convert to TYPE
//	bench readat N path          time N random 4 KiB ReadAts (vmdk.Open, or os.Open for a .raw):
//	                             elapsed and CPU nanoseconds per read
//	                             (BENCH_DATA=raw-file: only where that file has data, Linux)
//
// BENCH_CPUPROFILE=file writes a CPU profile of the run; BENCH_WORKERS=n
// sets ConvertOptions.Workers.
package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/imagecustom/go-imagecustom/vmdk"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench gen|convert|readat ...")
		os.Exit(2)
	}
	if p := os.Getenv("BENCH_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2])
	case "convert":
		start := time.Now()
		workers, _ := strconv.Atoi(os.Getenv("BENCH_WORKERS"))
		err = vmdk.Convert(context.Background(), os.Args[3], os.Args[4], &vmdk.ConvertOptions{Type: os.Args[2], Workers: workers})
		fmt.Printf("%.3f\n", time.Since(start).Seconds())
	case "readat":
		err = readAt(os.Args[3], os.Args[2])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// gen writes a 1 GiB disk: 16 regions of 64 MiB, each holding about
// 18 MiB: 6 of random bytes, 9 of text, 3 of written zeros, the rest a
// hole.
func gen(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	src := rand.NewChaCha8([32]byte{'v', 'm', 'd', 'k'})
	r := rand.New(src)
	words := strings.Fields("the quick brown fox jumps over a lazy dog while registry hives " +
		"and volumes of windows system32 drivers etc config software sam security default " +
		"user profile program files 0123 4567 89ab cdef <xml version=1.0> </unattend>")
	const region = 64 << 20
	for i := int64(0); i < 16; i++ {
		base := i * region
		rnd := make([]byte, 6<<20)
		src.Read(rnd)
		var text strings.Builder
		for text.Len() < 9<<20 {
			text.WriteString(words[r.IntN(len(words))])
			if r.IntN(12) == 0 {
				text.WriteString("\r\n")
			} else {
				text.WriteByte(' ')
			}
		}
		off := base + int64(r.IntN(8<<20))&^4095
		for _, b := range [][]byte{rnd, []byte(text.String())[:9<<20], make([]byte, 3<<20)} {
			if _, err := f.WriteAt(b, off); err != nil {
				return err
			}
			off += int64(len(b)) + int64(r.IntN(4<<20))&^4095
		}
	}
	return f.Truncate(16 * region)
}

// readAt times n random aligned 4 KiB reads of the disk at path.
func readAt(path, count string) error {
	n, err := strconv.Atoi(count)
	if err != nil {
		return err
	}
	var ra io.ReaderAt
	var size int64
	if strings.HasSuffix(path, ".raw") {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		ra, size = f, fi.Size()
	} else {
		d, err := vmdk.Open(path, nil)
		if err != nil {
			return err
		}
		defer d.Close()
		ra, size = d, d.Size()
	}
	// Offsets drawn at random, and, with BENCH_DATA=raw-file, kept only
	// where that file has data allocated (as lseek's SEEK_DATA says, so
	// that nothing is read, and cached, before the timing): reads of holes
	// cost a raw file a page of zeros and a sparse disk nothing, which
	// flatters the disk.
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 4096)
	offs := make([]int64, 0, n)
	var data [][2]int64
	if p := os.Getenv("BENCH_DATA"); p != "" {
		if data, err = dataRanges(p); err != nil {
			return err
		}
	}
	for len(offs) < n {
		off := r.Int64N(size/4096) * 4096
		if data != nil {
			i := sort.Search(len(data), func(i int) bool { return data[i][1] > off })
			if i == len(data) || off < data[i][0] || off+4096 > data[i][1] {
				continue
			}
		}
		offs = append(offs, off)
	}
	cpu0 := cpuTime()
	start := time.Now()
	for _, off := range offs {
		if _, err := ra.ReadAt(buf, off); err != nil {
			return err
		}
	}
	elapsed := time.Since(start)
	fmt.Printf("%.0f %.0f\n", float64(elapsed.Nanoseconds())/float64(n), float64((cpuTime()-cpu0).Nanoseconds())/float64(n))
	return nil
}

// cpuTime returns the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// dataRanges returns the allocated ranges of the file at path.
func dataRanges(path string) ([][2]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	const seekData, seekHole = 3, 4 // Linux
	var rs [][2]int64
	for off := int64(0); ; {
		start, err := f.Seek(off, seekData)
		if err != nil {
			break // ENXIO: no data after off
		}
		end, err := f.Seek(start, seekHole)
		if err != nil {
			return nil, err
		}
		rs = append(rs, [2]int64{start, end})
		off = end
	}
	return rs, nil
}
