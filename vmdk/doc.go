// Package vmdk reads and writes VMware virtual disks (VMDK) in pure Go:
// the hosted sparse formats (monolithicSparse, twoGbMaxExtentSparse),
// flat ones (monolithicFlat, twoGbMaxExtentFlat, vmfs), streamOptimized
// (read-only in place; written by conversion), ZERO extents and chains of
// delta (child) disks. A [Disk] is an [io.ReaderAt] over the virtual disk
// and, when opened for writing, an [io.WriterAt]. [Create] makes new
// disks, [Snapshot] delta disks over existing ones, and [Convert] copies a
// disk (or a raw image) into any subformat qemu-img writes, or raw,
// skipping unallocated and zero grains. [Check] verifies a disk's
// structure without changing it, [Disk.Info] describes it, and
// [Disk.Backend] hands it to go-diskfs.
//
// The format follows VMware's "Virtual Disk Format 5.0" technical note;
// what qemu and VMware's own tools write decides the details the note
// leaves open (the project's notes with sources are in the steering
// repository's reference/vmdk.md).
//
// Every file is treated as hostile: header fields are bounded before they
// size an allocation, grain tables are cached with a limit, and errors say
// which file and offset is wrong ([*CorruptError], matching [ErrCorrupt]).
package vmdk
