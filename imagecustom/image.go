package imagecustom

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
)

// Sentinel errors, matched with [errors.Is].
var (
	// ErrNoVolume reports that the image has no partition or volume that
	// fits the request.
	ErrNoVolume = errors.New("imagecustom: no such volume")
	// ErrAmbiguous reports that several volumes fit and none was named.
	ErrAmbiguous = errors.New("imagecustom: ambiguous volume")
	// ErrUnsupported reports a recognised but unsupported image format.
	ErrUnsupported = errors.New("imagecustom: unsupported")
)

// Image is an opened disk image. It is an [io.ReaderAt] over the virtual
// disk, safe for concurrent use.
type Image struct {
	f          *os.File
	size       int64
	format     string
	scheme     string
	partitions []Partition

	// Set by OpenRW.
	path      string
	ov        *overlay // writes not yet in the image
	journal   *journal // created at the first flush
	dryRun    bool
	committed bool
	changed   []Change // ranges already written to the image
	unlock    func()
	failAfter int // test seam: fail the image write after this many blocks (0: never)
}

// Partition is a partition of an image, or the whole image when it is a
// bare volume.
type Partition struct {
	Index  int    // 1-based number, as --partition takes it
	Offset int64  // bytes from the start of the disk
	Size   int64  // bytes
	Type   string // MBR type byte ("0x07"), GPT type GUID, or "" for a bare volume
	Name   string // GPT partition name
	GUID   string // GPT unique partition GUID
	// FS names the file system found: "ntfs", "fat32", "fat", "exfat",
	// "refs", "bitlocker", or "" when not recognised.
	FS string
}

// Open opens the disk image at path for reading. The format is detected
// from the content, not from the name.
func Open(path string) (*Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	img, err := newImage(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("imagecustom: %s: %w", path, err)
	}
	return img, nil
}

func newImage(f *os.File) (*Image, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	img := &Image{f: f, size: fi.Size(), format: "raw"}
	head := make([]byte, 512)
	if _, err := f.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if bytes.HasPrefix(head, []byte("KDMV")) || bytes.HasPrefix(head, []byte("COWD")) ||
		bytes.Contains(head, []byte("# Disk DescriptorFile")) {
		return nil, fmt.Errorf("%w: VMDK images (support arrives with the vmdk package; convert to raw with qemu-img meanwhile)", ErrUnsupported)
	}
	if img.scheme, img.partitions, err = readPartitions(f, img.size); err != nil {
		return nil, err
	}
	for i := range img.partitions {
		p := &img.partitions[i]
		p.FS = detectFS(io.NewSectionReader(f, p.Offset, p.Size))
	}
	return img, nil
}

// Close closes the image. For an image opened with [OpenRW], writes not
// committed are dropped; if some had already reached the image, the undo
// journal stays, and the next writer is refused until [Recover] restores
// the original.
func (img *Image) Close() error {
	if img.journal != nil && !img.committed {
		img.journal.f.Close()
	}
	if img.unlock != nil {
		img.unlock()
	}
	return img.f.Close()
}

// Size returns the virtual disk's size in bytes.
func (img *Image) Size() int64 { return img.size }

// Format returns the container format: "raw".
func (img *Image) Format() string { return img.format }

// Scheme returns the partitioning scheme: "gpt", "mbr", or "none" for a
// bare volume.
func (img *Image) Scheme() string { return img.scheme }

// ReadAt reads from the virtual disk, as [io.ReaderAt]; for an image
// opened with [OpenRW], with its writes.
func (img *Image) ReadAt(p []byte, off int64) (int, error) {
	if img.ov != nil {
		return img.ov.ReadAt(p, off)
	}
	return img.f.ReadAt(p, off)
}

// Partitions returns the partitions found, in table order.
func (img *Image) Partitions() []Partition { return append([]Partition(nil), img.partitions...) }

// Section returns a reader of partition p's bytes.
func (img *Image) Section(p Partition) *io.SectionReader {
	return io.NewSectionReader(img, p.Offset, p.Size)
}

// OpenNTFS opens the NTFS volume of partition index (1-based), or with
// index 0 the Windows system volume as [Image.SystemPartition] picks it.
func (img *Image) OpenNTFS(index int) (*ntfs.Volume, Partition, error) {
	p, err := img.ntfsPartition(index)
	if err != nil {
		return nil, p, err
	}
	v, err := ntfs.Open(img.Section(p), p.Size)
	if err != nil {
		return nil, p, fmt.Errorf("partition %d: %w", p.Index, err)
	}
	return v, p, nil
}

// ntfsPartition picks partition index (0: the system volume), which must
// hold NTFS.
func (img *Image) ntfsPartition(index int) (Partition, error) {
	var p Partition
	var err error
	if index == 0 {
		p, err = img.SystemPartition()
	} else {
		p, err = img.partition(index)
	}
	if err == nil && p.FS != "ntfs" {
		err = fmt.Errorf("%w: partition %d holds %s, not NTFS", ErrNoVolume, p.Index, fsName(p.FS))
	}
	return p, err
}

func (img *Image) partition(index int) (Partition, error) {
	for _, p := range img.partitions {
		if p.Index == index {
			return p, nil
		}
	}
	return Partition{}, fmt.Errorf("%w: no partition %d (the image has %d)", ErrNoVolume, index, len(img.partitions))
}

func fsName(fs string) string {
	if fs == "" {
		return "no recognised file system"
	}
	return fs
}

// systemRoots are the folders a Windows install lives in, as libguestfs
// looks for them.
var systemRoots = []string{"Windows", "WINNT"}

// SystemPartition picks the Windows system volume: the NTFS volume holding
// Windows\System32\config\SYSTEM (or WINNT\…); failing that, the only NTFS
// volume. Several candidates give an error matching [ErrAmbiguous] that
// lists them.
func (img *Image) SystemPartition() (Partition, error) {
	var ntfsParts, system []Partition
	for _, p := range img.partitions {
		if p.FS != "ntfs" {
			continue
		}
		ntfsParts = append(ntfsParts, p)
		v, err := ntfs.Open(img.Section(p), p.Size)
		if err != nil {
			continue
		}
		for _, root := range systemRoots {
			if _, err := v.Stat(root + "/System32/config/SYSTEM"); err == nil {
				system = append(system, p)
				break
			}
		}
	}
	switch {
	case len(system) == 1:
		return system[0], nil
	case len(system) > 1:
		return Partition{}, fmt.Errorf("%w: Windows installs on partitions %s; pick one with --partition", ErrAmbiguous, indexes(system))
	case len(ntfsParts) == 1:
		return ntfsParts[0], nil
	case len(ntfsParts) > 1:
		return Partition{}, fmt.Errorf("%w: NTFS volumes on partitions %s and none holds Windows; pick one with --partition", ErrAmbiguous, indexes(ntfsParts))
	}
	return Partition{}, fmt.Errorf("%w: no NTFS volume in the image", ErrNoVolume)
}

func indexes(ps []Partition) string {
	var s []string
	for _, p := range ps {
		s = append(s, fmt.Sprint(p.Index))
	}
	return strings.Join(s, ", ")
}

// detectFS names the file system whose boot sector starts r.
func detectFS(r io.ReaderAt) string {
	b := make([]byte, 512)
	if n, _ := r.ReadAt(b, 0); n < 512 {
		return ""
	}
	switch {
	case bytes.Equal(b[3:11], []byte("NTFS    ")):
		return "ntfs"
	case bytes.Equal(b[3:11], []byte("EXFAT   ")):
		return "exfat"
	case bytes.Equal(b[3:11], []byte("-FVE-FS-")):
		return "bitlocker"
	case bytes.Equal(b[3:7], []byte("ReFS")):
		return "refs"
	case bytes.Equal(b[0x52:0x5A], []byte("FAT32   ")):
		return "fat32"
	case bytes.HasPrefix(b[0x36:], []byte("FAT1")):
		return "fat"
	}
	return ""
}
