package main

import (
	"fmt"
	"os"

	"github.com/imagecustom/go-imagecustom/hive"
	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/imagecustom/ntfs"
)

// isHiveFile reports whether target is a registry hive file; anything
// else is taken as a disk image.
func isHiveFile(target string) (bool, error) {
	f, err := os.Open(target)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var magic [4]byte
	n, _ := f.ReadAt(magic[:], 0)
	return n == 4 && string(magic[:]) == "regf", nil
}

// checkImageFlags refuses flags that apply to hive files only.
func (rf *regFlags) checkImageFlags() error {
	if rf.prefix != "" {
		return usagef("--prefix applies to hive files; the keys of a disk image are full paths (HKLM\\SYSTEM\\…, HKU\\.DEFAULT\\…)")
	}
	if rf.partition < 0 {
		return usagef("--partition %d: partitions are numbered from 1", rf.partition)
	}
	return nil
}

// readImageRegistry opens IMAGE for reading and the registry of its
// Windows install. The caller closes the image.
func readImageRegistry(image string, rf *regFlags) (*imagecustom.Image, *imagecustom.Registry, error) {
	if err := rf.checkImageFlags(); err != nil {
		return nil, nil, err
	}
	img, err := imagecustom.Open(image)
	if err != nil {
		return nil, nil, err
	}
	v, _, err := img.OpenNTFS(rf.partition)
	if err == nil {
		var r *imagecustom.Registry
		if r, err = imagecustom.OpenRegistry(v, ""); err == nil {
			return img, r, nil
		}
		err = fmt.Errorf("%s is not a hive file, and the disk image holds no Windows registry: %w", image, err)
	}
	img.Close()
	return nil, nil, err
}

// writeImageRegistry runs fn on the registry of IMAGE's Windows install,
// then saves the hives it changed and commits the image as every writing
// command does (journal, --dry-run, --out).
func (a *app) writeImageRegistry(image string, rf *regFlags, fn func(r *imagecustom.Registry) error) error {
	if err := rf.checkImageFlags(); err != nil {
		return err
	}
	wf := &writeFlags{volumeFlags: volumeFlags{partition: rf.partition}, dryRun: rf.dryRun, out: rf.out}
	return a.writeVolume(image, wf, func(v *ntfs.Volume) error {
		r, err := imagecustom.OpenRegistry(v, "")
		if err != nil {
			return fmt.Errorf("%s is not a hive file, and the disk image holds no Windows registry: %w", image, err)
		}
		if err := fn(r); err != nil {
			return err
		}
		_, err = r.Save()
		return err
	})
}

// openTarget opens the key t, creating it and its parents.
func createTarget(t hive.Target) (hive.Key, error) {
	if t.Path == "" {
		return t.Hive.Root(), nil
	}
	return t.Hive.CreateKey(t.Path)
}

// lookupKey finds KEY in TARGET, a hive file or a disk image, and returns
// it with its path as shown to the user and a function that releases the
// target.
func lookupKey(target, key string, rf *regFlags) (hive.Key, string, func(), error) {
	isHive, err := isHiveFile(target)
	if err != nil {
		return hive.Key{}, "", nil, err
	}
	if isHive {
		h, err := openHiveTarget(target)
		if err != nil {
			return hive.Key{}, "", nil, err
		}
		p, err := hivePath(h, key, rf.prefix)
		if err != nil {
			return hive.Key{}, "", nil, err
		}
		k, err := h.Key(p)
		return k, p, func() {}, err
	}
	img, r, err := readImageRegistry(target, rf)
	if err != nil {
		return hive.Key{}, "", nil, err
	}
	k, err := r.Key(key)
	if err != nil {
		img.Close()
		return hive.Key{}, "", nil, err
	}
	return k, key, func() { img.Close() }, nil
}
