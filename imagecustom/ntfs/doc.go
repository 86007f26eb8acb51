// Package ntfs reads and writes NTFS volumes in pure Go, without FUSE,
// root or the ntfs-3g library.
//
// A volume is opened from any [io.ReaderAt] holding it (a partition of a
// disk image, a bare volume file). Reading goes through [io/fs]: paths are
// slash-separated, case-insensitive by the volume's own $UpCase table, and
// found by descending the directories' $I30 B+trees.
//
// Layouts and algorithms follow the NTFS documentation of the Linux-NTFS
// project, libfsntfs's format notes and ntfs-3g's behaviour; the project's
// notes with sources are in the steering repository's reference/ntfs.md.
//
// [OpenRW] opens a volume for writing once it has checked that writing is
// safe ($LogFile clean, not hibernated, not marked dirty, $MFTMirr
// intact). [Volume.WriteFile], [Volume.Mkdir], [Volume.Rename] and
// [Volume.Remove] order their disk writes so that a crash leaves at worst
// leaked clusters or a name too many, which [Check] reports and chkdsk
// repairs; [Volume.SetDirty] asks Windows to run chkdsk at the next boot.
//
// It does not build on go-ntfs (www.velocidex.com/golang/go-ntfs): writing
// needs its own record, run-list and index codecs anyway, and go-ntfs's
// reader lower-cases names with Go's case folding instead of $UpCase,
// trusts stale index entries, assumes 4 KiB index blocks and caches
// across writes; one set of parsers serves both directions here.
//
// Files whose attributes spill into extension records through an
// $ATTRIBUTE_LIST (many hard links, as WinSxS makes; many fragments) are
// removed, renamed and rewritten like others: the list is rewritten first
// when attributes go (an attribute no list names is harmless), last when
// they come (written to their record before the list names them), and a
// file whose attributes outgrow its base record gets a list, with its run
// list cut into extents in new extension records. $MFT's own data does not
// get one here.
//
// System-compressed files (the Windows Overlay Filter's reparse tag
// 0x80000017 and WofCompressedData stream, as Compact OS leaves them) read
// as their content through this package's XPRESS Huffman and LZX chunk
// decoders; [FileStat].System describes them. Writing over one leaves a
// plain file and removes its $Extend\$Reparse entry. The format facts come
// from ntfs-3g-system-compression and wimlib, and the tests decode chunks
// libwim compressed; that Windows reads such volumes the same way, and
// that it keeps no other trace of the compression, is unverified here
// (nothing boots Windows).
//
// The package treats every volume as hostile: sizes and offsets read from
// disk are bounded before use, loops over on-disk lists are bounded, and
// inconsistencies are reported as [*CorruptError] values (matching
// [ErrCorrupt]) naming the structure and its byte offset.
package ntfs
