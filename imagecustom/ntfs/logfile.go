package ntfs

// Pre-flight safety checks: the state of $LogFile's restart area and of
// /hiberfil.sys. Nothing may be written to a volume whose log holds
// transactions Windows would replay, or whose metadata Windows keeps cached
// in a hibernation (fast startup) image: replaying or resuming would undo or
// corrupt our writes.
//
// Facts (layouts, validity rules, what "clean" means) come from:
//   - ntfs-3g include/ntfs-3g/logfile.h (RESTART_PAGE_HEADER, RESTART_AREA,
//     LOG_CLIENT_RECORD) and libntfs-3g/logfile.c (ntfs_check_logfile,
//     ntfs_check_restart_page_header, ntfs_check_restart_area,
//     ntfs_check_log_client_array, ntfs_is_logfile_clean);
//   - ntfs-3g libntfs-3g/volume.c (ntfs_volume_check_logfile: version 2.0 is
//     refused with EPERM; ntfs_volume_check_hiberfile; ntfs_logfile_reset)
//     and libntfs-3g/mst.c (multi-sector fixups);
//   - Microsoft, "Windows 8 volume compatibility considerations with prior
//     versions of Windows" (TechNet wiki 15645): Windows 8 changed the log
//     format from 1.1 to 2.0 together with hybrid boot (fast startup); a full
//     shutdown or restart dismounts and writes the version older Windows read;
//   - libyal libhibr, "Windows Hibernation File (hiberfil.sys) format"
//     (signatures, zeroed header page when not hibernated);
//   - (obs) real Windows logs: plaso's vsstest volume (committed as
//     testdata/logfile/vsstest-clean.rstr) and the dfir_ntfs test data
//     (Windows 7 and 10: LogFile_7.bin, LogFile_10.bin,
//     LogFile_10_downgraded.bin, LogFile_10_large.bin; GPL, not
//     committed), read with this code and with ntfs-3g.probe.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
)

// Restart page signatures ($LogFile/$DATA at 0 and at the system page size).
const (
	rstrMagicRSTR = "RSTR" // restart page
	rstrMagicCHKD = "CHKD" // restart page rewritten by chkdsk
	rstrMagicRCRD = "RCRD" // log record page: no restart page can follow it
)

// Restart page geometry and bounds.
const (
	// rstrBlockSize is NTFS_BLOCK_SIZE: the fixup stride, the smallest
	// legal page size, and the unit ntfs-3g probes the log in.
	rstrBlockSize = 512
	// rstrMaxPageSize bounds the system page size we accept, so a restart
	// page costs at most 64 KiB to read. The format itself implies it for
	// protected pages: the update sequence array has page/512+1 entries,
	// starts at or after 0x1E and must end before the first sector's last
	// word (0x1FE) — at most 240 entries, 239 sectors, and the largest power
	// of two below 239×512 is 64 KiB. Windows itself uses the processor page
	// size: 4 KiB (x86, x64, ARM), 8 KiB (IA-64, Alpha).
	rstrMaxPageSize = 64 << 10
	// rstrEmptyScan is how much of the log's head readLogFileState checks is
	// all 0xFF before calling it emptied: both restart pages at the largest
	// page size; beyond it only the probe positions are checked.
	rstrEmptyScan = 2 * rstrMaxPageSize
)

// Offsets in RESTART_PAGE_HEADER (logfile.h).
const (
	rstrOffUSAOffset   = 0x04 // usa_ofs
	rstrOffUSACount    = 0x06 // usa_count
	rstrOffChkdskLSN   = 0x08 // chkdsk_lsn: only in CHKD pages
	rstrOffSysPageSize = 0x10 // system_page_size
	rstrOffLogPageSize = 0x14 // log_page_size
	rstrOffRAOffset    = 0x18 // restart_area_offset
	rstrOffMinorVer    = 0x1A // minor_ver (s16)
	rstrOffMajorVer    = 0x1C // major_ver (s16)
	rstrHeaderSize     = 0x1E // offset of usn: the USA cannot start before it
)

// Offsets in RESTART_AREA, relative to restart_area_offset.
const (
	raOffCurrentLSN     = 0x00 // current_lsn
	raOffLogClients     = 0x08 // log_clients
	raOffFreeList       = 0x0A // client_free_list
	raOffInUseList      = 0x0C // client_in_use_list
	raOffFlags          = 0x0E // flags
	raOffSeqNumberBits  = 0x10 // seq_number_bits
	raOffLength         = 0x14 // restart_area_length
	raOffClientArray    = 0x16 // client_array_offset
	raOffFileSize       = 0x18 // file_size (s64)
	raOffRecordHdrLen   = 0x24 // log_record_header_length
	raOffPageDataOffset = 0x26 // log_page_data_offset
	raSize              = 0x30 // sizeof(RESTART_AREA)
)

// Offsets in LOG_CLIENT_RECORD.
const (
	lcrOffPrevClient = 0x10 // prev_client
	lcrOffNextClient = 0x12 // next_client
	lcrSize          = 0xA0 // sizeof(LOG_CLIENT_RECORD)
)

const (
	// logNoClient (LOGFILE_NO_CLIENT) ends a client list: no client.
	logNoClient = 0xFFFF
	// raVolumeIsClean (RESTART_VOLUME_IS_CLEAN) is set by Windows XP and
	// later when they dismount the volume cleanly, cleared at mount.
	raVolumeIsClean = 0x0002
)

// logFileState is what the restart area of $LogFile says.
type logFileState struct {
	// Clean is ntfs-3g's verdict (ntfs_is_logfile_clean): the log was
	// emptied, or no log client is in use (client_in_use_list is
	// LOGFILE_NO_CLIENT: how Windows 2000 and earlier close the log), or
	// RESTART_VOLUME_IS_CLEAN is set (Windows XP and later keep the client
	// open and set this bit at a clean dismount).
	Clean bool
	// Emptied says the log's head is all 0xFF and so are the magics at
	// every position ntfs-3g probes: mkntfs writes it so, and ntfs-3g
	// (ntfs_logfile_reset, on a recovering mount) and ntfsfix reset it so.
	// Nothing can be replayed; Windows re-initialises the log at mount.
	// The other fields are zero.
	Emptied bool
	// Chkdsk says the restart page used is "CHKD": chkdsk rewrote it.
	Chkdsk bool
	// Major and Minor are the log version: 1.1 for Windows NT 4 to 7 and
	// for Windows 8+ after a full shutdown; 2.0 for Windows 8+ while
	// mounted or after a fast-startup shutdown or hibernation.
	Major, Minor int16
	// CurrentLSN is the restart area's current_lsn.
	CurrentLSN uint64
	// ChkdskLSN is chkdsk_lsn, set only in CHKD pages; for them it is the
	// LSN compared to pick the newer page (as in ntfs-3g).
	ChkdskLSN uint64
	// PageSize is the system page size from the restart page header: the
	// restart pages' size and the second page's offset.
	PageSize uint32
	// LogPageSize is the size of the log record pages.
	LogPageSize uint32
	// Page is the offset in $LogFile of the restart page used: 0 or
	// PageSize.
	Page int64
	// InUseList is client_in_use_list: the first log client in use, or
	// 0xFFFF (LOGFILE_NO_CLIENT) for none.
	InUseList uint16
	// ClientsInUse is the length of the in-use client list (0 when
	// InUseList is 0xFFFF or the page is CHKD, whose list is not walked).
	ClientsInUse int
	// Flags is the restart area's flags; 0x2 is RESTART_VOLUME_IS_CLEAN.
	Flags uint16
	// Torn says the other restart page failed its fixups: a restart area
	// write was interrupted, as by a crash or power loss. The state is the
	// valid page's, but checkWrite refuses (ntfs-3g may instead use the
	// torn page when its restart area lies in the first sector).
	Torn bool
}

// restartPage is one decoded, validated restart page.
type restartPage struct {
	pos          int64 // offset in $LogFile
	chkd         bool  // magic "CHKD"
	chkdskLSN    uint64
	sysPageSize  uint32
	logPageSize  uint32
	major, minor int16
	currentLSN   uint64
	inUseList    uint16
	clientsInUse int
	flags        uint16
}

// lsn returns the LSN ntfs-3g compares to pick the newer restart page:
// chkdsk_lsn for a CHKD page, current_lsn otherwise, both signed (LSN is
// an s64 there).
func (p *restartPage) lsn() int64 {
	if p.chkd {
		return int64(p.chkdskLSN)
	}
	return int64(p.currentLSN)
}

// readLogFileState reads the two restart pages at the start of the
// $LogFile stream r (of size bytes), verifies their fixups, picks the valid
// one with the larger current LSN, and reports the state. A restart page
// that is neither valid nor all-0xFF is ErrCorrupt.
//
// The first page is at 0, the second at the first's system page size; when
// the first is unusable the second is looked for where ntfs-3g looks, at
// 512, 1 KiB, 2 KiB … 64 KiB, and must sit at its own page size. One valid
// page is enough: the other may be torn, garbage or 0xFF. With no valid
// page the log must be emptied (see [logFileState.Emptied]); otherwise the
// error is a [*CorruptError] for the first page (its Err the second's
// problem), whose Offset is relative to the start of the $LogFile stream,
// not the volume. Read errors are returned wrapped, not as ErrCorrupt.
//
// Unlike ntfs-3g, a page whose fixups fail is never used, even when its
// restart area lies within the first sector: that is what the second copy
// is for; the state then says Torn, which checkWrite refuses. Reads are
// bounded: one 512-byte header, then at most one 64 KiB page, at a time,
// and 4 KiB at a time for the emptiness check.
func readLogFileState(r io.ReaderAt, size int64) (logFileState, error) {
	if size < 2*rstrBlockSize {
		return logFileState{}, corrupt(0, "$LogFile of %d bytes is too small for its restart pages", size)
	}
	p0, err0 := readRestartPage(r, size, 0)
	if err0 != nil && !errors.Is(err0, ErrCorrupt) {
		return logFileState{}, err0
	}
	var p1 *restartPage
	var err1 error
	if p0 != nil {
		if pos := int64(p0.sysPageSize); pos+int64(p0.sysPageSize) <= size {
			p1, err1 = readRestartPage(r, size, pos)
			if err1 != nil && !errors.Is(err1, ErrCorrupt) {
				return logFileState{}, err1
			}
		}
	} else {
		var magic [4]byte
	probe:
		for pos := int64(rstrBlockSize); pos <= rstrMaxPageSize && pos+rstrBlockSize <= size; pos *= 2 {
			if err := readLogFileAt(r, magic[:], pos); err != nil {
				return logFileState{}, err
			}
			switch string(magic[:]) {
			case rstrMagicRCRD:
				break probe
			case rstrMagicRSTR, rstrMagicCHKD:
				p, err := readRestartPage(r, size, pos)
				if err != nil && !errors.Is(err, ErrCorrupt) {
					return logFileState{}, err
				}
				if p != nil {
					p1 = p
					break probe
				}
				if err1 == nil {
					err1 = err
				}
			}
		}
	}

	torn := errors.Is(err0, errLogFileTorn) || errors.Is(err1, errLogFileTorn)
	var p *restartPage
	switch {
	case p0 != nil && p1 != nil:
		p = p0
		if p1.lsn() > p0.lsn() {
			p = p1
		}
	case p0 != nil:
		p = p0
	case p1 != nil:
		p = p1
	default:
		notFF, err := logFileFirstNotFF(r, size)
		if err != nil {
			return logFileState{}, err
		}
		if notFF < 0 {
			return logFileState{Clean: true, Emptied: true}, nil
		}
		var ce *CorruptError
		if errors.As(err0, &ce) && !errors.Is(err0, errLogFileFF) {
			if err1 != nil {
				ce.Err = errors.Join(ce.Err, err1)
			}
			return logFileState{}, ce
		}
		if err1 != nil {
			return logFileState{}, err1
		}
		return logFileState{}, corrupt(notFF, "$LogFile has no valid restart page and is not empty (0xFF)")
	}
	return logFileState{
		Clean:        p.inUseList == logNoClient || p.flags&raVolumeIsClean != 0,
		Chkdsk:       p.chkd,
		Major:        p.major,
		Minor:        p.minor,
		CurrentLSN:   p.currentLSN,
		ChkdskLSN:    p.chkdskLSN,
		PageSize:     p.sysPageSize,
		LogPageSize:  p.logPageSize,
		Page:         p.pos,
		InUseList:    p.inUseList,
		ClientsInUse: p.clientsInUse,
		Flags:        p.flags,
		Torn:         torn,
	}, nil
}

// Causes in a restart page's CorruptError that readLogFileState tells
// apart: a page whose first block is all 0xFF is not valid but not damage
// either; a torn page shows an interrupted write.
var (
	errLogFileFF   = errors.New("all 0xFF")
	errLogFileTorn = errors.New("torn write")
)

// readLogFileAt fills b from $LogFile offset off; a short read is an error
// (the caller has checked off+len(b) against the stream size).
func readLogFileAt(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("ntfs: reading $LogFile at 0x%x: %w", off, err)
}

// readRestartPage reads and checks the restart page at pos. It returns the
// page, or a *CorruptError saying what is wrong (offsets relative to the
// stream; errLogFileFF as its cause when the page's first block is all
// 0xFF), or a read error. The checks are ntfs-3g's
// (ntfs_check_restart_page_header, ntfs_check_restart_area,
// ntfs_check_log_client_array), plus the 64 KiB bound, fixups that must
// verify, a restart area that must fit the page whole, and a client array
// that must not overlap it.
func readRestartPage(r io.ReaderAt, size, pos int64) (*restartPage, error) {
	bad := func(field int, format string, args ...any) error {
		return corrupt(pos+int64(field), "$LogFile restart page at 0x%x: %s", pos, fmt.Sprintf(format, args...))
	}
	var hdr [rstrBlockSize]byte
	if err := readLogFileAt(r, hdr[:], pos); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	p := &restartPage{pos: pos}
	switch string(hdr[:4]) {
	case rstrMagicRSTR:
	case rstrMagicCHKD:
		p.chkd = true
	default:
		if bytes.Count(hdr[:], []byte{0xFF}) == len(hdr) {
			return nil, &CorruptError{Offset: pos, What: fmt.Sprintf("$LogFile restart page at 0x%x: not written", pos), Err: errLogFileFF}
		}
		return nil, bad(0, "signature %q is not RSTR or CHKD", hdr[:4])
	}

	// Page sizes: powers of two of at least 512 (logfile.h); our bound.
	p.sysPageSize = le.Uint32(hdr[rstrOffSysPageSize:])
	p.logPageSize = le.Uint32(hdr[rstrOffLogPageSize:])
	sps := int64(p.sysPageSize)
	if sps < rstrBlockSize || bits.OnesCount32(p.sysPageSize) != 1 {
		return nil, bad(rstrOffSysPageSize, "system page size %d is not a power of two ≥ 512", sps)
	}
	if sps > rstrMaxPageSize {
		return nil, bad(rstrOffSysPageSize, "system page size %d exceeds %d", sps, rstrMaxPageSize)
	}
	if p.logPageSize < rstrBlockSize || bits.OnesCount32(p.logPageSize) != 1 {
		return nil, bad(rstrOffLogPageSize, "log page size %d is not a power of two ≥ 512", p.logPageSize)
	}
	// The first page is at 0, the second at the system page size.
	if pos != 0 && pos != sps {
		return nil, bad(rstrOffSysPageSize, "system page size %d does not match the page's position", sps)
	}
	if pos+sps > size {
		return nil, bad(rstrOffSysPageSize, "page of %d bytes overruns the %d-byte $LogFile", sps, size)
	}
	p.minor = int16(le.Uint16(hdr[rstrOffMinorVer:]))
	p.major = int16(le.Uint16(hdr[rstrOffMajorVer:]))

	// Update sequence array. chkdsk may leave a CHKD page unprotected.
	usaOff := int(le.Uint16(hdr[rstrOffUSAOffset:]))
	usaCount := int(le.Uint16(hdr[rstrOffUSACount:]))
	haveUSA := !(p.chkd && usaCount == 0)
	raMin := rstrHeaderSize
	if haveUSA {
		if want := int(sps/rstrBlockSize) + 1; usaCount != want {
			return nil, bad(rstrOffUSACount, "update sequence array has %d entries, want %d", usaCount, want)
		}
		if usaOff < rstrHeaderSize || usaOff%2 != 0 || usaOff+2*usaCount > rstrBlockSize-2 {
			return nil, bad(rstrOffUSAOffset, "update sequence array at 0x%x out of place", usaOff)
		}
		raMin = usaOff + 2*usaCount
	}

	// Restart area: 8-aligned, after the USA, wholly inside the page, and
	// (logfile.c) everything up to file_size and the client array offset
	// before the first protected word.
	raOff := int(le.Uint16(hdr[rstrOffRAOffset:]))
	if raOff%8 != 0 || raOff < raMin || int64(raOff+raSize) > sps || raOff+raOffFileSize > rstrBlockSize-2 {
		return nil, bad(rstrOffRAOffset, "restart area offset 0x%x out of place", raOff)
	}
	p.chkdskLSN = le.Uint64(hdr[rstrOffChkdskLSN:])
	if !p.chkd && p.chkdskLSN != 0 {
		return nil, bad(rstrOffChkdskLSN, "chkdsk LSN 0x%x in a page chkdsk did not write", p.chkdskLSN)
	}

	// Whole page, fixups undone. The header checks above bound sps.
	page := make([]byte, sps)
	if err := readLogFileAt(r, page, pos); err != nil {
		return nil, err
	}
	if haveUSA {
		usn := page[usaOff : usaOff+2]
		for i := 1; i < usaCount; i++ {
			end := i*rstrBlockSize - 2
			if page[end] != usn[0] || page[end+1] != usn[1] {
				return nil, &CorruptError{
					Offset: pos + int64(end),
					What: fmt.Sprintf("$LogFile restart page at 0x%x: sector %d ends 0x%02x%02x, update sequence number 0x%02x%02x",
						pos, i-1, page[end+1], page[end], usn[1], usn[0]),
					Err: errLogFileTorn,
				}
			}
		}
		for i := 1; i < usaCount; i++ {
			end := i*rstrBlockSize - 2
			copy(page[end:end+2], page[usaOff+2*i:])
		}
	}

	ra := page[raOff:]
	at := func(field int) int { return raOff + field }
	p.currentLSN = le.Uint64(ra[raOffCurrentLSN:])
	clients := int(le.Uint16(ra[raOffLogClients:]))
	free := le.Uint16(ra[raOffFreeList:])
	p.inUseList = le.Uint16(ra[raOffInUseList:])
	p.flags = le.Uint16(ra[raOffFlags:])
	caOff := int(le.Uint16(ra[raOffClientArray:]))
	raLen := int(le.Uint16(ra[raOffLength:]))
	if caOff%8 != 0 || caOff < raSize || raOff+caOff > rstrBlockSize-2 {
		return nil, bad(at(raOffClientArray), "client array offset 0x%x out of place", caOff)
	}
	if need := caOff + clients*lcrSize; int64(raOff+need) > sps || need > raLen {
		return nil, bad(at(raOffLogClients), "%d log clients at 0x%x overrun the restart area (%d bytes) or page", clients, caOff, raLen)
	}
	if int64(raOff+raLen) > sps {
		return nil, bad(at(raOffLength), "restart area length %d overruns the page", raLen)
	}
	if free != logNoClient && int(free) >= clients {
		return nil, bad(at(raOffFreeList), "free client list starts at %d of %d clients", free, clients)
	}
	if p.inUseList != logNoClient && int(p.inUseList) >= clients {
		return nil, bad(at(raOffInUseList), "in-use client list starts at %d of %d clients", p.inUseList, clients)
	}
	// seq_number_bits = 67 - bits(file_size) (logfile.h).
	fileSize := le.Uint64(ra[raOffFileSize:])
	if sb := le.Uint32(ra[raOffSeqNumberBits:]); sb != uint32(67-bits.Len64(fileSize)) {
		return nil, bad(at(raOffSeqNumberBits), "sequence number bits %d do not match file size 0x%x", sb, fileSize)
	}
	if v := le.Uint16(ra[raOffRecordHdrLen:]); v%8 != 0 {
		return nil, bad(at(raOffRecordHdrLen), "log record header length %d is not a multiple of 8", v)
	}
	if v := le.Uint16(ra[raOffPageDataOffset:]); v%8 != 0 {
		return nil, bad(at(raOffPageDataOffset), "log page data offset %d is not a multiple of 8", v)
	}

	// Client lists (only for RSTR pages with a client in use, as in
	// ntfs-3g): every index inside the array, no loop — at most
	// log_clients records over both lists — and no prev_client on a
	// list's first record.
	if !p.chkd && p.inUseList != logNoClient {
		budget := clients
		for list, idx := range []uint16{free, p.inUseList} {
			for first := true; idx != logNoClient; first = false {
				if budget == 0 || int(idx) >= clients {
					return nil, bad(at(caOff), "log client lists loop or overrun the %d clients", clients)
				}
				budget--
				rec := raOff + caOff + int(idx)*lcrSize
				if first && le.Uint16(page[rec+lcrOffPrevClient:]) != logNoClient {
					return nil, bad(rec+lcrOffPrevClient, "first log client %d has a previous client", idx)
				}
				if list == 1 {
					p.clientsInUse++
				}
				idx = le.Uint16(page[rec+lcrOffNextClient:])
			}
		}
	}
	return p, nil
}

// logFileFirstNotFF returns -1 if the log looks emptied — its first
// rstrEmptyScan bytes are all 0xFF, and so is the 4-byte magic at every
// later position ntfs-3g probes (doubling from there to the end) — or else
// the offset of the first byte found that is not 0xFF.
func logFileFirstNotFF(r io.ReaderAt, size int64) (int64, error) {
	buf := make([]byte, 4096)
	end := min(size, rstrEmptyScan)
	for off := int64(0); off < end; off += int64(len(buf)) {
		b := buf[:min(int64(len(buf)), end-off)]
		if err := readLogFileAt(r, b, off); err != nil {
			return 0, err
		}
		for i, c := range b {
			if c != 0xFF {
				return off + int64(i), nil
			}
		}
	}
	for pos := int64(rstrEmptyScan); pos+4 <= size; pos *= 2 {
		b := buf[:4]
		if err := readLogFileAt(r, b, pos); err != nil {
			return 0, err
		}
		for i, c := range b {
			if c != 0xFF {
				return pos + int64(i), nil
			}
		}
	}
	return -1, nil
}

// checkWrite returns nil if the log allows writing, else an error wrapping
// ErrUnsafe that says why. Version 2.0 is refused first, clean or not, as
// ntfs-3g does (EPERM): Windows 8 and later write it while the volume is
// mounted and keep it over a fast-startup shutdown or hibernation (and a
// power cut, says ntfs-3g), when the metadata in the hibernation image may
// be newer than the disk; a full shutdown or restart rewrites 1.1. A version other than 1.1 or 2.0 is also
// refused (and wraps ErrUnsupported). Then the log must be clean, and
// neither restart page torn; an emptied log is clean whatever else.
func (s logFileState) checkWrite() error {
	switch {
	case s.Emptied:
		return nil
	case s.Major == 2 && s.Minor == 0:
		return fmt.Errorf("%w: $LogFile version 2.0: Windows was shut down with fast startup, hibernated, "+
			"or cut off while running, and may hold this volume's metadata in its hibernation image — "+
			"boot Windows and shut it down fully (Restart, or shutdown /s /t 0), then retry", ErrUnsafe)
	case s.Major != 1 || s.Minor != 1:
		return fmt.Errorf("%w: $LogFile version %d.%d is neither 1.1 nor 2.0 (%w)", ErrUnsafe, s.Major, s.Minor, ErrUnsupported)
	case !s.Clean:
		return fmt.Errorf("%w: $LogFile has unreplayed transactions — boot Windows and shut it down cleanly, or run chkdsk", ErrUnsafe)
	case s.Torn:
		return fmt.Errorf("%w: a $LogFile restart page is torn: a write to it was interrupted (crash or power loss) — "+
			"boot Windows and shut it down cleanly, or run chkdsk", ErrUnsafe)
	}
	return nil
}

// hiberHeaderSize is how much of hiberfil.sys checkHiberfil looks at, and
// the smallest size ntfs-3g accepts (NTFS_HIBERFILE_HEADER_SIZE): the
// PO_MEMORY_IMAGE header page.
const hiberHeaderSize = 4096

// hiberSignatures are the hibernation image header signatures, the first
// four bytes of hiberfil.sys, and what each means. Any of them means Windows
// has, or may still resume, a memory image holding this volume's state.
var hiberSignatures = []struct{ sig, meaning string }{
	// libhibr: valid image, Windows XP and earlier (ntfs-3g refuses it).
	{"hibr", "Windows (XP or earlier) is hibernated"},
	// libhibr: valid image, Windows Vista and later; Windows 8 and later
	// also write it at a fast-startup shutdown (ntfs-3g refuses it).
	{"HIBR", "Windows is hibernated or shut down with fast startup"},
	// libhibr: "invalid" image, a resume was attempted. The loader then
	// offers to try again ("The last attempt to restart the system from its
	// previous location failed. Attempt to restart again?", XP, seen in the
	// field), and Volatility still reads a "wake" file as an image, so the
	// state may yet be resumed. ntfs-3g accepts these three; we do not.
	{"wake", "a resume from hibernation was attempted and may be retried"},
	{"WAKE", "a resume from hibernation was attempted and may be retried"},
	// libhibr: set while an image is being restored.
	{"RSTR", "Windows was resuming from hibernation"},
	// Windows Embedded "Hibernate Once/Resume Many": the same image is
	// resumed at every boot, so a write would be lost or clash with it.
	{"HORM", "Windows Embedded resumes this hibernation image at every boot (HORM)"},
	// Further PO_MEMORY_IMAGE signatures of the NT 5 era, kept in the
	// header of a resumable image: "link" points to the image on another
	// volume, "brkp" asks for a debugger break on resume [unverified: no
	// public specification].
	{"link", "a hibernation image on another volume is linked from here"},
	{"brkp", "Windows is hibernated (image set to break into the debugger on resume)"},
}

// checkHiberfil decides from the first bytes of /hiberfil.sys's $DATA
// (head: up to its first 4096 bytes) and its size whether Windows is
// hibernated or fast-started. It returns nil when the header's signature is
// zero — Windows zeroes the header page when it is not hibernated
// (libhibr) — and otherwise an error wrapping ErrUnsafe: naming the
// signature for the known ones (hiberSignatures), or saying it is not
// recognised. A file shorter than 4096 bytes is refused as ntfs-3g does
// ("Hibernated non-system partition"). A missing hiberfil.sys is the
// caller's to treat as safe.
func checkHiberfil(head []byte, size int64) error {
	const advice = "boot Windows and shut it down fully (Restart, or shutdown /s /t 0; powercfg /h off deletes hiberfil.sys), then retry"
	if size < hiberHeaderSize {
		return fmt.Errorf("%w: hiberfil.sys is %d bytes, shorter than its %d-byte header page, which ntfs-3g takes for a hibernated volume — %s",
			ErrUnsafe, size, hiberHeaderSize, advice)
	}
	if len(head) < 4 {
		return fmt.Errorf("%w: hiberfil.sys header not read (%d bytes given)", ErrUnsafe, len(head))
	}
	sig := head[:4]
	if binary.LittleEndian.Uint32(sig) == 0 {
		return nil
	}
	for _, s := range hiberSignatures {
		if string(sig) == s.sig {
			return fmt.Errorf("%w: hiberfil.sys starts with %q: %s — %s", ErrUnsafe, s.sig, s.meaning, advice)
		}
	}
	return fmt.Errorf("%w: hiberfil.sys starts with unrecognised signature %q instead of zeros — %s", ErrUnsafe, sig, advice)
}
