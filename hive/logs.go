package hive

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
)

// Transaction log replay.
//
// Windows writes a hive's changes to its transaction logs before it writes
// them to the primary file, and marks the primary dirty (base-block
// sequence numbers unequal, or a bad checksum) while the primary is being
// written. Replaying the logs brings a dirty primary to the state Windows
// itself would recover at the next load. This file follows Maxim Suhanov's
// "Windows registry file format specification" (sections "Format of
// transaction log files", "Dirty state of a hive" and "Multiple transaction
// log files") and the recovery logic of his yarp (RegistryFile.py).
//
// Two formats exist, told apart by the file type in the log's base block:
//
//   - old (type 1, or 2 on NT 4/2000; Windows XP to 8): a base block copy,
//     then at 512 "DIRT" and a bitmap with one bit per 512-byte page of the
//     hive bins, then, from the next 512-byte boundary, the dirty pages in
//     bitmap order;
//   - new (type 6; Windows 8.1 and later): a base block copy, then from 512
//     a chain of HvLE entries, each protected by two Marvin32 hashes and
//     carrying a sequence number, the bins size and a list of dirty pages.

// Layout of the files, in bytes.
const (
	hbinsStart     = 4096    // file offset of the hive bins data in a primary file
	logHeaderSize  = 512     // a log starts with the first sector of a base block copy
	oldPageSize    = 512     // old format: one bitmap bit per 512 bytes of bins
	hvleHeaderSize = 40      // fixed part of an HvLE entry, before the page references
	hvleAlign      = 512     // HvLE entries start on 512-byte boundaries
	binsUnit       = 4096    // the bins size is a multiple of 4096
	maxBinsSize    = 1 << 31 // cell offsets have 31 bits: no hive exceeds 2 GiB of bins
)

// Base block fields: file offsets (msuhanov, "Base block").
const (
	bbSeq1     = 4   // primary sequence number
	bbSeq2     = 8   // secondary sequence number
	bbTime     = 12  // last written timestamp (FILETIME)
	bbMinor    = 24  // minor version
	bbType     = 28  // file type, see fileType*
	bbRoot     = 36  // root cell offset
	bbBinsSize = 40  // hive bins data size
	bbFlags    = 144 // flags (Windows 10); bit 0: KTM locked
	bbChecksum = 508 // XOR-32 of the 508 bytes before it
)

// binTime is the offset of the timestamp in a hive bin header: in the
// first bin, a backup of the base block's last written timestamp.
const binTime = 20

// File types (base block offset 28).
const (
	fileTypePrimary = 0 // primary hive file
	fileTypeLogOld  = 1 // transaction log, old format (XP to 8)
	fileTypeLogNT   = 2 // transaction log, old format with NT 4/2000's number
	fileTypeLogNew  = 6 // transaction log, new format (8.1 and later)
)

// HvLE entry fields: offsets from the start of the entry (msuhanov, "Log
// entries").
const (
	hvleSize     = 4  // size of the entry, a multiple of 512
	hvleFlags    = 8  // copy of the base block's flags
	hvleSeq      = 12 // sequence number
	hvleBinsSize = 16 // hive bins data size when the entry was written
	hvlePages    = 20 // number of dirty pages
	hvleHash1    = 24 // Marvin32 of bytes [40, size)
	hvleHash2    = 32 // Marvin32 of bytes [0, 32)
)

// marvinSeed seeds the Marvin32 hashes of HvLE entries: 0x82EF4D887A4E55C5,
// yarp's MARVIN32_SEED and the "82 EF 4D 88 7A 4E 55 C5" of msuhanov's
// current text, so the state starts as low 0x7A4E55C5, high 0x82EF4D88.
// (An older version of the spec gave the decimal 14219357686671994754,
// the same bytes in the other order; hashes in real logs match only this.)
const marvinSeed = 0x82EF4D887A4E55C5

// replayResult tells what [replayLogs] did, for callers to log.
type replayResult struct {
	Applied        int      // log entries (new format) or 512-byte dirty pages (old format) applied
	Format         string   // "new", "old", or "" when nothing was applied
	FromSeq, ToSeq uint32   // first and last entry applied, ToSeq being the result's sequence number (old format: the primary's secondary number, and the result's)
	Logs           []string // the logs used, in order of use: "LOG1", "LOG2", "LOG"
	PerLog         []int    // entries (or pages) applied from each of Logs
}

// String describes the replay in one line.
func (r replayResult) String() string {
	if r.Applied == 0 {
		return "no transaction log applied"
	}
	unit := "log entries"
	if r.Format == "old" {
		unit = "dirty pages"
	}
	return fmt.Sprintf("replayed %d %s (%s format) from %s: sequence %d to %d",
		r.Applied, unit, r.Format, strings.Join(r.Logs, "+"), r.FromSeq, r.ToSeq)
}

// checksumBaseBlock returns the checksum of a base block: the XOR of the
// 127 little-endian 32-bit words at bytes 0..507, except that 0 becomes 1
// and 0xFFFFFFFF becomes 0xFFFFFFFE (as yarp computes it; hivex omits the
// two fix-ups). b must hold at least 508 bytes.
func checksumBaseBlock(b []byte) uint32 {
	var x uint32
	for i := 0; i < bbChecksum; i += 4 {
		x ^= binary.LittleEndian.Uint32(b[i:])
	}
	switch x {
	case 0:
		return 1
	case 0xFFFFFFFF:
		return 0xFFFFFFFE
	}
	return x
}

// baseBlockValid reports whether b starts with a usable base block (or a
// log's 512-byte copy of one): the "regf" signature and a right checksum.
func baseBlockValid(b []byte) bool {
	return len(b) >= logHeaderSize && string(b[:4]) == "regf" &&
		binary.LittleEndian.Uint32(b[bbChecksum:]) == checksumBaseBlock(b)
}

// hiveDirty reports whether a primary hive file needs its transaction logs
// replayed: its base block is invalid (bad signature or checksum) or its
// two sequence numbers differ, meaning a write did not complete.
func hiveDirty(primary []byte) bool {
	return !baseBlockValid(primary) ||
		binary.LittleEndian.Uint32(primary[bbSeq1:]) != binary.LittleEndian.Uint32(primary[bbSeq2:])
}

// marvin32 returns the 64-bit Marvin32 hash of b with the given seed, as
// SymCrypt computes it (lib/marvin32.c): the seed's low and high halves
// are the state; each little-endian 32-bit word of b is added to the low
// half and mixed; the 0 to 3 remaining bytes followed by a 0x80 byte make
// a last word; then one more mixing round. The result is high<<32 | low.
func marvin32(seed uint64, b []byte) uint64 {
	lo, hi := uint32(seed), uint32(seed>>32)
	for ; len(b) >= 4; b = b[4:] {
		lo += binary.LittleEndian.Uint32(b)
		lo, hi = marvinBlock(lo, hi)
	}
	last := uint32(0x80) << (8 * len(b))
	for i, c := range b {
		last |= uint32(c) << (8 * i)
	}
	lo += last
	lo, hi = marvinBlock(lo, hi)
	lo, hi = marvinBlock(lo, hi)
	return uint64(hi)<<32 | uint64(lo)
}

// marvinBlock is Marvin32's mixing function on the state (lo, hi).
func marvinBlock(lo, hi uint32) (uint32, uint32) {
	hi ^= lo
	lo = bits.RotateLeft32(lo, 20) + hi
	hi = bits.RotateLeft32(hi, 9) ^ lo
	lo = bits.RotateLeft32(lo, 27) + hi
	hi = bits.RotateLeft32(hi, 19)
	return lo, hi
}

// seqBefore reports whether sequence number a comes before b, counting
// with 32-bit wraparound (a is before b when b is less than 2³¹ ahead).
func seqBefore(a, b uint32) bool { return int32(a-b) < 0 }

// txLog is a transaction log whose base block passed the checks.
type txLog struct {
	name string // "LOG", "LOG1" or "LOG2"
	b    []byte // the whole file
	seq  uint32 // the base block's sequence number (both are equal)
	typ  uint32 // fileTypeLogOld, fileTypeLogNT or fileTypeLogNew
}

// logNames are the accepted log names, in the order old-format logs are
// tried (the dual-logging files first, as yarp does).
var logNames = []string{"LOG1", "LOG2", "LOG"}

// logName maps a key of replayLogs' map to "LOG", "LOG1" or "LOG2": the
// part after the last dot, in any case, so "NTUSER.DAT.log1" works too.
func logName(key string) (string, bool) {
	s := strings.ToUpper(key)
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = s[i+1:]
	}
	return s, slices.Contains(logNames, s)
}

// openLog checks the base block of a log: signature, checksum, equal
// sequence numbers (a log whose own write did not complete is unusable)
// and a log file type. It returns nil for an unusable log.
func openLog(name string, b []byte) *txLog {
	if !baseBlockValid(b) {
		return nil
	}
	seq := binary.LittleEndian.Uint32(b[bbSeq1:])
	if seq != binary.LittleEndian.Uint32(b[bbSeq2:]) {
		return nil
	}
	typ := binary.LittleEndian.Uint32(b[bbType:])
	switch typ {
	case fileTypeLogOld, fileTypeLogNT, fileTypeLogNew:
		return &txLog{name: name, b: b, seq: seq, typ: typ}
	}
	return nil
}

// replayLogs applies transaction logs to a copy of a primary hive file and
// returns the recovered file, its base block made clean: sequence numbers
// equal, file type 0, bins size updated, checksum recomputed.
//
// logs holds the contents of the logs by name: "LOG1" and "LOG2" (or a
// file name ending in .LOG1, .LOG2, in any case) for the dual logs of
// Windows Vista and later, "LOG" for the single log of earlier versions;
// an empty or invalid log is skipped, whatever its format. When the primary
// is not dirty, replayLogs returns primary itself and applies nothing, as
// Windows ignores the logs of a clean hive: in particular the stale logs
// left next to a hive that was written cleanly afterwards.
//
// A dirty primary that no log can recover yields an error matching
// [ErrDirty]; a primary too short to hold a base block, [ErrCorrupt].
// Replay stops, as Windows' does, at the first log entry that is damaged
// or out of sequence, keeping the entries before it.
//
// Allocation is bounded by the inputs: the result is never larger than
// the primary plus all the logs, since every byte of a grown hive must
// come from a page in a log; a log claiming more is damaged.
func replayLogs(primary []byte, logs map[string][]byte) ([]byte, replayResult, error) {
	var res replayResult
	if len(primary) < hbinsStart {
		return nil, res, corrupt(0, "primary hive file of %d bytes: shorter than its %d-byte base block", len(primary), hbinsStart)
	}
	byName := map[string]*txLog{}
	limit := int64(len(primary))
	for key, b := range logs {
		name, ok := logName(key)
		if !ok {
			return nil, res, fmt.Errorf("hive: transaction log %q: want a name ending in LOG, LOG1 or LOG2", key)
		}
		if _, dup := byName[name]; dup {
			return nil, res, fmt.Errorf("hive: transaction log %q given twice", name)
		}
		byName[name] = openLog(name, b)
		limit += int64(len(b))
	}
	if !hiveDirty(primary) {
		return primary, res, nil
	}
	// Bound the result: everything in it comes from the inputs, and a hive
	// holds at most 2 GiB of bins.
	limit = min(limit, hbinsStart+maxBinsSize, math.MaxInt)

	var newLogs []*txLog
	for _, name := range []string{"LOG1", "LOG2"} {
		if l := byName[name]; l != nil && l.typ == fileTypeLogNew {
			newLogs = append(newLogs, l)
		}
	}
	if l := byName["LOG"]; len(newLogs) == 0 && l != nil && l.typ == fileTypeLogNew {
		newLogs = append(newLogs, l)
	}
	if len(newLogs) > 0 {
		if out, res, ok := replayNew(primary, newLogs, limit); ok {
			return out, res, nil
		}
	}
	for _, name := range logNames {
		if l := byName[name]; l != nil && l.typ != fileTypeLogNew {
			if out, res, ok := replayOld(primary, l, limit); ok {
				return out, res, nil
			}
		}
	}
	what := "no usable transaction log"
	if len(logs) == 0 {
		what = "no transaction logs"
	}
	return nil, res, fmt.Errorf("%w: sequence numbers %d/%d, checksum valid %t: %s",
		ErrDirty, binary.LittleEndian.Uint32(primary[bbSeq1:]), binary.LittleEndian.Uint32(primary[bbSeq2:]),
		baseBlockValid(primary), what)
}

// hvle is a validated HvLE entry of a new-format log.
type hvle struct {
	log      *txLog
	off      int    // offset of the entry in the log
	size     int    // size of the entry
	seq      uint32 // sequence number
	flags    uint32 // base block flags at the time of the entry
	binsSize uint32 // hive bins size after the entry
	pages    int    // number of dirty pages
}

// readEntry returns the HvLE entry at off in l if it is sound: signature,
// size (a multiple of 512 within the file), the expected sequence number,
// a bins size that is a non-zero multiple of 4096 and fits in limit (as a
// file size), at least one page, page references within the entry and
// within the bins, and both hashes right. Anything else ends the log.
func readEntry(l *txLog, off int, want uint32, limit int64) (hvle, bool) {
	b := l.b[off:]
	if len(b) < hvleHeaderSize || string(b[:4]) != "HvLE" {
		return hvle{}, false
	}
	size := uint64(binary.LittleEndian.Uint32(b[hvleSize:]))
	if size < hvleAlign || size%hvleAlign != 0 || size > uint64(len(b)) {
		return hvle{}, false
	}
	b = b[:size]
	e := hvle{
		log:      l,
		off:      off,
		size:     int(size),
		seq:      binary.LittleEndian.Uint32(b[hvleSeq:]),
		flags:    binary.LittleEndian.Uint32(b[hvleFlags:]),
		binsSize: binary.LittleEndian.Uint32(b[hvleBinsSize:]),
	}
	if e.seq != want {
		return hvle{}, false
	}
	if e.binsSize == 0 || e.binsSize%binsUnit != 0 || hbinsStart+int64(e.binsSize) > limit {
		return hvle{}, false
	}
	count := uint64(binary.LittleEndian.Uint32(b[hvlePages:]))
	if count == 0 || hvleHeaderSize+8*count > size {
		return hvle{}, false
	}
	e.pages = int(count)
	if binary.LittleEndian.Uint64(b[hvleHash2:]) != marvin32(marvinSeed, b[:hvleHash2]) ||
		binary.LittleEndian.Uint64(b[hvleHash1:]) != marvin32(marvinSeed, b[hvleHeaderSize:]) {
		return hvle{}, false
	}
	data := hvleHeaderSize + 8*count // where the first page's bytes start
	for i := range count {
		ref := b[hvleHeaderSize+8*i:]
		pageOff := uint64(binary.LittleEndian.Uint32(ref))
		pageSize := uint64(binary.LittleEndian.Uint32(ref[4:]))
		if pageSize == 0 || pageOff+pageSize > uint64(e.binsSize) || data+pageSize > size {
			return hvle{}, false
		}
		data += pageSize
	}
	return e, true
}

// walkLog returns the sound entries of a new-format log, in order: the
// chain that starts at the log's base-block sequence number and goes up by
// one per entry, up to the first entry that is not sound.
func walkLog(l *txLog, limit int64) []hvle {
	var entries []hvle
	want := l.seq
	for off := logHeaderSize; off < len(l.b); {
		e, ok := readEntry(l, off, want, limit)
		if !ok {
			break
		}
		entries = append(entries, e)
		off += e.size
		want++
	}
	return entries
}

// replayNew replays new-format logs (one, or LOG1 and LOG2) into a copy
// of primary. It reports false when no entry applies.
//
// Which entries apply (msuhanov, "New format" notes 5 to 7 and "Multiple
// transaction log files"; yarp's apply_new_log_files):
//
//   - The logs are put in order by their base-block sequence numbers,
//     counting with wraparound; each log's entries form a chain starting
//     at that number. The second log continues the first when it starts
//     right after the first log's last sound entry.
//   - Primary base block valid: entries before the primary's secondary
//     sequence number are already in the primary and are skipped; the
//     first entry applied must carry exactly that number (a gap means lost
//     entries: nothing is applied), and the following ones continue the
//     chain, from the first log into the second. When the first log holds
//     nothing to apply and the second does not continue it, the second
//     log is tried alone by the same rules.
//   - Primary base block invalid: there is no sequence number to trust, so
//     only the latest log is used, all its entries applied, and the base
//     block is rebuilt from that log's copy (as Windows does, per yarp).
func replayNew(primary []byte, logs []*txLog, limit int64) ([]byte, replayResult, bool) {
	if len(logs) == 2 && seqBefore(logs[1].seq, logs[0].seq) {
		logs = []*txLog{logs[1], logs[0]}
	}
	valid := baseBlockValid(primary)
	var apply []hvle
	if !valid {
		apply = walkLog(logs[len(logs)-1], limit)
	} else {
		secondary := binary.LittleEndian.Uint32(primary[bbSeq2:])
		var last *hvle // last entry of the chain walked so far
		for _, l := range logs {
			if last != nil && l.seq != last.seq+1 {
				if len(apply) > 0 {
					break // the second log does not continue the first
				}
				last = nil // nothing applied yet: try this log alone
			}
			for _, e := range walkLog(l, limit) {
				last = &e
				switch {
				case len(apply) == 0 && seqBefore(e.seq, secondary):
					continue // already in the primary
				case len(apply) == 0 && e.seq != secondary:
					return nil, replayResult{}, false // entries are missing
				}
				apply = append(apply, e)
			}
		}
	}
	if len(apply) == 0 {
		return nil, replayResult{}, false
	}

	// Size the result: never shrink the file, grow it to the largest
	// bins size an entry needs (limit bounded each).
	size := int64(len(primary))
	for _, e := range apply {
		size = max(size, hbinsStart+int64(e.binsSize))
	}
	out := make([]byte, size)
	copy(out, primary)
	res := replayResult{Format: "new", FromSeq: apply[0].seq}
	for _, e := range apply {
		b := e.log.b[e.off : e.off+e.size]
		data := hvleHeaderSize + 8*e.pages
		for i := range e.pages {
			ref := b[hvleHeaderSize+8*i:]
			pageOff := int(binary.LittleEndian.Uint32(ref))
			pageSize := int(binary.LittleEndian.Uint32(ref[4:]))
			copy(out[hbinsStart+pageOff:], b[data:data+pageSize])
			data += pageSize
		}
		if n := len(res.Logs); n == 0 || res.Logs[n-1] != e.log.name {
			res.Logs = append(res.Logs, e.log.name)
			res.PerLog = append(res.PerLog, 0)
		}
		res.PerLog[len(res.PerLog)-1]++
		res.Applied++
	}
	lastEntry := apply[len(apply)-1]
	res.ToSeq = lastEntry.seq

	bb := out[:hbinsStart]
	if !valid {
		clear(bb)
		copy(bb, logs[len(logs)-1].b[:logHeaderSize])
	}
	flags := binary.LittleEndian.Uint32(bb[bbFlags:])&^1 | lastEntry.flags&1
	binary.LittleEndian.PutUint32(bb[bbFlags:], flags)
	finishBaseBlock(bb, res.ToSeq, lastEntry.binsSize)
	return out, res, true
}

// finishBaseBlock makes a recovered base block clean: both sequence numbers
// seq, file type primary, the bins size, and the checksum.
func finishBaseBlock(bb []byte, seq, binsSize uint32) {
	binary.LittleEndian.PutUint32(bb[bbSeq1:], seq)
	binary.LittleEndian.PutUint32(bb[bbSeq2:], seq)
	binary.LittleEndian.PutUint32(bb[bbType:], fileTypePrimary)
	binary.LittleEndian.PutUint32(bb[bbBinsSize:], binsSize)
	binary.LittleEndian.PutUint32(bb[bbChecksum:], checksumBaseBlock(bb))
}

// replayOld applies an old-format log to a copy of primary. It reports
// false when the log does not apply or is damaged.
//
// The log applies only when its last written timestamp equals the
// primary's: a log from another write is stale (msuhanov, "Old format",
// note 3; ReactOS's HvpRecoverHeaderFromLog compares the same way). When
// the primary's base block is invalid the spec compares with the first hive
// bin's copy of the timestamp, but Windows does not refresh that copy on
// every write (yarp's OldDirtyHive and BadBaseBlockHive samples: the bin's
// copy is older than the base block's), so, as yarp does, the log then
// applies when it is not older than the bin's copy. The log's base block
// gives the bins size, root cell and minor version (note 4, yarp's
// apply_old_log_file). The bitmap after "DIRT" has one bit
// per 512-byte page of the bins, least significant bit first; the dirty
// pages follow from the next 512-byte boundary, one per set bit; a log too
// short to hold them all is damaged and not applied at all.
//
// Unlike Windows, the dirty hive bins are not checked for a right
// signature and offset after replay: the reader checks every bin anyway.
func replayOld(primary []byte, l *txLog, limit int64) ([]byte, replayResult, bool) {
	valid := baseBlockValid(primary)
	logTime := binary.LittleEndian.Uint64(l.b[bbTime:])
	if valid {
		if logTime != binary.LittleEndian.Uint64(primary[bbTime:]) {
			return nil, replayResult{}, false
		}
	} else {
		if len(primary) < hbinsStart+binTime+8 || logTime < binary.LittleEndian.Uint64(primary[hbinsStart+binTime:]) {
			return nil, replayResult{}, false
		}
	}
	binsSize := binary.LittleEndian.Uint32(l.b[bbBinsSize:])
	if binsSize == 0 || binsSize%binsUnit != 0 || hbinsStart+int64(binsSize) > limit {
		return nil, replayResult{}, false
	}
	const dirt = logHeaderSize + 4 // the bitmap's offset
	bitmapLen := int(binsSize / (8 * oldPageSize))
	if len(l.b) < dirt+bitmapLen || string(l.b[logHeaderSize:dirt]) != "DIRT" {
		return nil, replayResult{}, false
	}
	bitmap := l.b[dirt : dirt+bitmapLen]
	pages := 0
	for _, c := range bitmap {
		pages += bits.OnesCount8(c)
	}
	start := (dirt + bitmapLen + oldPageSize - 1) / oldPageSize * oldPageSize
	if pages == 0 || int64(len(l.b)-start)/oldPageSize < int64(pages) {
		return nil, replayResult{}, false
	}

	out := make([]byte, max(int64(len(primary)), hbinsStart+int64(binsSize)))
	copy(out, primary)
	src := start
	for i, c := range bitmap {
		for ; c != 0; c &= c - 1 {
			page := 8*i + bits.TrailingZeros8(c)
			copy(out[hbinsStart+oldPageSize*page:], l.b[src:src+oldPageSize])
			src += oldPageSize
		}
	}

	bb := out[:hbinsStart]
	var seq, from uint32
	if valid {
		// The write in progress is now complete: its number becomes both.
		seq = binary.LittleEndian.Uint32(bb[bbSeq1:])
		from = binary.LittleEndian.Uint32(bb[bbSeq2:])
		for _, f := range []int{bbMinor, bbRoot} {
			copy(bb[f:f+4], l.b[f:f+4])
		}
	} else {
		clear(bb)
		copy(bb, l.b[:logHeaderSize])
		seq, from = l.seq, l.seq
	}
	finishBaseBlock(bb, seq, binsSize)
	return out, replayResult{Applied: pages, Format: "old", FromSeq: from, ToSeq: seq,
		Logs: []string{l.name}, PerLog: []int{pages}}, true
}
