// Package imagecustom opens Windows disk images — raw disks and volumes,
// and VMDKs of every subformat package
// [github.com/imagecustom/go-imagecustom/vmdk] reads, the format detected
// from content — finds their partitions and file systems, and gives
// access to the NTFS volumes inside through package
// [github.com/imagecustom/go-imagecustom/imagecustom/ntfs].
//
// Partition tables are read with go-diskfs (GPT, and the four primary MBR
// entries), plus the chain of extended boot records of an MBR extended
// partition, which go-diskfs does not follow. A disk without a partition
// table that starts with an NTFS boot sector is a bare volume: one
// partition covering the whole image.
//
// [OpenRW] writes in place, never losing the original: writes collect in
// memory, and every write to a host file (the raw image; a VMDK's
// descriptor, extent headers, grain tables, appended grains) reaches it
// only after an undo journal beside the image holds the file's original
// bytes and size, durably. [Recover] rolls an interrupted write back from
// that journal. A streamOptimized VMDK, a VMDK not closed cleanly, an image
// with a pending journal or one another process writes are refused with
// [ErrUnsafe]. With [WriteOptions.DryRun] nothing reaches the image and
// [Image.Changes] lists what would; with [WriteOptions.Child] the image is
// only read and every write goes to a new VMDK delta disk on top of it.
//
// [Image.Windows] reports the Windows installs found (name by version and
// build, edition, architecture, system root, boot partition, control
// sets), and [Registry] opens an install's hives by their registry names
// (HKLM\SYSTEM, HKU\.DEFAULT…), edits them in memory, imports .reg text
// across them and writes them back into the volume.
//
// The direct settings change a Windows install without a setup cycle,
// editing the opened [Registry] in memory for the caller to save and
// commit, so that several compose in one transaction: [SetHostname],
// [SetTimeZone], [Adapters] and [SetAdapter], and first-boot commands
// ([AddFirstBoot], [FirstBootCommands], [RemoveFirstBoot]) run by
// Winlogon's setup hook. Each returns the values it wrote as [Edit]s.
// They follow what Windows itself writes (sources in their comments;
// checked against the real Windows 7 SYSTEM hive in testdata/real), but
// nothing here boots Windows: that they take effect at boot is
// unverified.
package imagecustom
