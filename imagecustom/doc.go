// Package imagecustom opens Windows disk images — raw files now, VMDK
// when the vmdk package lands — finds their partitions and file systems,
// and gives access to the NTFS volumes inside through package
// [github.com/imagecustom/go-imagecustom/imagecustom/ntfs].
//
// Partition tables are read with go-diskfs (GPT, and the four primary MBR
// entries), plus the chain of extended boot records of an MBR extended
// partition, which go-diskfs does not follow. A disk without a partition
// table that starts with an NTFS boot sector is a bare volume: one
// partition covering the whole image.
package imagecustom
