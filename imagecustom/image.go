package imagecustom

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
	"github.com/imagecustom/go-imagecustom/vmdk"
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
	r          io.ReaderAt // the virtual disk: the raw file, or disk
	file       *os.File    // Open of a raw image: the file
	disk       *vmdk.Disk  // a VMDK image
	size       int64
	format     string
	scheme     string
	partitions []Partition

	// Set by OpenRW.
	path       string
	hosts      *hostSet // the host files, written through the undo journal
	ov         *overlay // writes not yet in the host files
	dryRun     bool
	committed  bool
	diskClosed bool     // disk was closed (its files stay open in hosts)
	changed    []Change // ranges already written to the image
	failAfter  int      // test seam: fail the failAfter-th host write (0: never)
	created    []string // WriteOptions.Child: the files made for it, removed unless committed
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
	Active bool   // MBR: the boot indicator (0x80) is set
	// FS names the file system found: "ntfs", "fat32", "fat", "exfat",
	// "refs", "bitlocker", or "" when not recognised.
	FS string
}

// Open opens the disk image at path for reading. The format is detected
// from the content, not from the name: a raw disk or volume, or a VMDK
// (path being its descriptor or its monolithic sparse file).
func Open(path string) (*Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	img, err := openReadOnly(path, f)
	if err != nil {
		return nil, fmt.Errorf("imagecustom: %s: %w", path, err)
	}
	return img, nil
}

func openReadOnly(path string, f *os.File) (*Image, error) {
	isVMDK, err := detectVMDK(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if !isVMDK {
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		img, err := newImage(f, fi.Size(), "raw")
		if err != nil {
			f.Close()
			return nil, err
		}
		img.file = f
		return img, nil
	}
	f.Close()
	d, err := vmdk.Open(path, nil)
	if err != nil {
		return nil, vmdkError(err)
	}
	img, err := newImage(d, d.Size(), "vmdk/"+d.Descriptor().CreateType)
	if err != nil {
		d.Close()
		return nil, err
	}
	img.disk = d
	return img, nil
}

// maxDescriptorFile is the largest file taken for a VMDK descriptor.
const maxDescriptorFile = 1 << 20

// detectVMDK reports whether r starts a VMDK: a hosted sparse extent
// (KDMV) with its embedded descriptor, or a descriptor file. A vmfsSparse
// (COWD) extent is recognised and refused with [ErrUnsupported].
func detectVMDK(r interface {
	io.ReaderAt
	Stat() (fs.FileInfo, error)
}) (bool, error) {
	head := make([]byte, 4096)
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("KDMV")):
		return true, nil
	case bytes.HasPrefix(head, []byte("COWD")):
		return false, fmt.Errorf("%w: a vmfsSparse (COWD) VMDK extent, as ESX redo logs are: open the descriptor that names it (vmfsSparse disks are not supported yet)", ErrUnsupported)
	case bytes.Contains(head, []byte("# Disk DescriptorFile")):
		return true, nil
	}
	fi, err := r.Stat()
	if err != nil {
		return false, err
	}
	return fi.Size() <= maxDescriptorFile && bytes.Contains(head, []byte("createType")) &&
		bytes.Contains(head, []byte("\n")) && !bytes.Contains(head, []byte{0}), nil
}

// vmdkError adds this package's sentinels to an error of package vmdk.
func vmdkError(err error) error {
	switch {
	case errors.Is(err, vmdk.ErrUnsupported):
		return fmt.Errorf("%w: %w", ErrUnsupported, err)
	case errors.Is(err, vmdk.ErrUnclean):
		return fmt.Errorf("%w: %w", ErrUnsafe, err)
	}
	return err
}

// newImage reads the partitions of the virtual disk r.
func newImage(r io.ReaderAt, size int64, format string) (*Image, error) {
	img := &Image{r: r, size: size, format: format}
	var err error
	if img.scheme, img.partitions, err = readPartitions(r, size); err != nil {
		return nil, err
	}
	for i := range img.partitions {
		p := &img.partitions[i]
		p.FS = detectFS(io.NewSectionReader(r, p.Offset, p.Size))
	}
	return img, nil
}

// Close closes the image. For an image opened with [OpenRW], writes not
// committed are dropped; if some had already reached the image, the undo
// journal stays, and the next writer is refused until [Recover] restores
// the original.
func (img *Image) Close() error {
	var first error
	if img.disk != nil && !img.diskClosed {
		// For an image opened with OpenRW, whatever the disk writes as
		// it closes stays in memory: the host files are closed below.
		first = img.disk.Close()
		img.diskClosed = true
	}
	if img.hosts != nil {
		if err := img.hosts.close(); err != nil && first == nil {
			first = err
		}
	}
	if img.file != nil {
		if err := img.file.Close(); err != nil && first == nil {
			first = err
		}
	}
	if img.created != nil && !img.committed {
		// An abandoned child disk goes, with any journal of its writes:
		// the base was never written.
		os.Remove(JournalPath(img.path))
		if err := removeCreated(img.created); err != nil && first == nil {
			first = err
		}
		img.created = nil
	}
	return first
}

// Size returns the virtual disk's size in bytes.
func (img *Image) Size() int64 { return img.size }

// Format returns the container format: "raw", or "vmdk/" and the VMDK's
// createType ("vmdk/monolithicSparse", "vmdk/twoGbMaxExtentFlat"…).
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
	return img.r.ReadAt(p, off)
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
