package imagecustom

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/imagecustom/go-imagecustom/vmdk"
)

// createChild makes child, a VMDK delta disk on top of the image at base,
// and returns the files it created. A VMDK base is the child's parent as
// it is. A raw base is wrapped first by a monolithicFlat descriptor
// beside the child, CHILD-base.vmdk, naming the raw file as its one
// extent: the child's parent is that descriptor, and the raw file is only
// read. Neither base nor any file of it is opened for writing.
func createChild(base, child string) (created []string, err error) {
	if _, err := os.Lstat(child); err == nil {
		return nil, fmt.Errorf("imagecustom: %s: the child disk exists: %w", child, fs.ErrExist)
	}
	img, err := Open(base)
	if err != nil {
		return nil, err
	}
	format, size := img.Format(), img.Size()
	img.Close()
	defer func() {
		if err != nil {
			for _, f := range created {
				os.Remove(f)
			}
			created = nil
		}
	}()
	parent := base
	if format == "raw" {
		if size%512 != 0 {
			return nil, fmt.Errorf("%w: %s is %d bytes, not a whole number of 512-byte sectors: a VMDK cannot wrap it", ErrUnsupported, base, size)
		}
		parent = strings.TrimSuffix(child, filepath.Ext(child)) + "-base.vmdk"
		if _, err := os.Lstat(parent); err == nil {
			return nil, fmt.Errorf("imagecustom: %s, the descriptor that would wrap the raw base, exists: %w", parent, fs.ErrExist)
		}
		desc, err := flatDescriptor(base, parent, size)
		if err != nil {
			return nil, err
		}
		f, err := os.OpenFile(parent, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return nil, err
		}
		created = append(created, parent)
		_, err = f.Write(desc)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return created, err
		}
	}
	d, err := vmdk.Snapshot(parent, child)
	if err != nil {
		return created, err
	}
	created = append(created, child)
	if err := d.Close(); err != nil {
		return created, err
	}
	return created, nil
}

// flatDescriptor returns a monolithicFlat descriptor, to be written at
// desc, whose one extent is the raw file at raw (named relative to desc's
// folder when possible), size bytes.
func flatDescriptor(raw, desc string, size int64) ([]byte, error) {
	name := raw
	if ar, err := filepath.Abs(raw); err == nil {
		name = ar
		if ad, err := filepath.Abs(desc); err == nil {
			if rel, err := filepath.Rel(filepath.Dir(ad), ar); err == nil {
				name = rel
			}
		}
	}
	if strings.ContainsAny(name, "\"\n\r") {
		return nil, fmt.Errorf("%w: the raw base's path %q cannot be written into a VMDK descriptor", ErrUnsupported, name)
	}
	var cid [4]byte
	rand.Read(cid[:])
	sectors := size / 512
	heads, spt := int64(255), int64(63)
	text := fmt.Sprintf(`# Disk DescriptorFile
version=1
CID=%02x%02x%02x%02x
parentCID=ffffffff
createType="monolithicFlat"

# Extent description
RW %d FLAT "%s" 0

# The Disk Data Base
#DDB

ddb.virtualHWVersion = "4"
ddb.geometry.cylinders = "%d"
ddb.geometry.heads = "%d"
ddb.geometry.sectors = "%d"
ddb.adapterType = "lsilogic"
`, cid[0], cid[1], cid[2], cid[3], sectors, filepath.ToSlash(name), min(sectors/(heads*spt), 16383), heads, spt)
	return []byte(text), nil
}

// removeCreated removes the files of a child disk a failed or abandoned
// run created.
func removeCreated(files []string) error {
	var errs []error
	for i := len(files) - 1; i >= 0; i-- {
		if err := os.Remove(files[i]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
