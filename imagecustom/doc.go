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
// [Customize] is the whole job: a [sysprep.Spec] applied to an image's
// install — detected, validated, rendered, planned ([Plan]), probed on the
// dry-run overlay, written through the journal or into a child disk, and
// verified by reopening the result. Facts about Windows it rests on that
// nothing here can test (no Windows boots here) are cited in its doc
// comments and marked unverified: setupcl.exe registered in BootExecute
// as "sysprep -reseal" registers it, the Generalize opt-in's
// SYSTEM\Setup CmdLine running sysprep as SYSTEM before the logon screen,
// the system drive being C:.
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
//
// [sysprep.Spec]: https://pkg.go.dev/github.com/imagecustom/go-imagecustom/sysprep#Spec
package imagecustom
