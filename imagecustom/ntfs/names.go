package ntfs

import (
	"encoding/binary"
	"time"
	"unicode/utf16"
)

// File name namespaces of $FILE_NAME.
const (
	namespacePOSIX    = 0
	namespaceWin32    = 1
	namespaceDOS      = 2
	namespaceWin32DOS = 3
)

// Windows file attribute bits used by the reader.
const (
	fileAttrReadOnly   = 0x0001
	fileAttrDirectory  = 0x10000000 // in $FILE_NAME: the file has an $I30 index
	fileAttrReparse    = 0x0400
	fileAttrCompressed = 0x0800
	fileAttrSparse     = 0x0200
)

// fileName is a decoded $FILE_NAME value (also the key of $I30 entries).
type fileName struct {
	parent                               fileRef
	created, modified, changed, accessed uint64 // FILETIME
	allocSize, dataSize                  int64
	attrs                                uint32
	reparseTag                           uint32 // 0x3C: EA size, or the reparse tag of a reparse point
	namespace                            uint8
	name                                 []uint16
}

// parseFileName decodes a $FILE_NAME value. off locates it, for errors.
func parseFileName(b []byte, off int64) (fileName, error) {
	var fn fileName
	if len(b) < 0x42 {
		return fn, corrupt(off, "$FILE_NAME of %d bytes", len(b))
	}
	n := int(b[0x40])
	if 0x42+2*n > len(b) {
		return fn, corrupt(off, "$FILE_NAME: name of %d characters overruns %d bytes", n, len(b))
	}
	fn.parent = fileRef(binary.LittleEndian.Uint64(b))
	fn.created = binary.LittleEndian.Uint64(b[0x08:])
	fn.modified = binary.LittleEndian.Uint64(b[0x10:])
	fn.changed = binary.LittleEndian.Uint64(b[0x18:])
	fn.accessed = binary.LittleEndian.Uint64(b[0x20:])
	fn.allocSize = int64(binary.LittleEndian.Uint64(b[0x28:]))
	fn.dataSize = int64(binary.LittleEndian.Uint64(b[0x30:]))
	fn.attrs = binary.LittleEndian.Uint32(b[0x38:])
	fn.reparseTag = binary.LittleEndian.Uint32(b[0x3C:])
	fn.namespace = b[0x41]
	fn.name = make([]uint16, n)
	for i := range fn.name {
		fn.name[i] = binary.LittleEndian.Uint16(b[0x42+2*i:])
	}
	return fn, nil
}

func (fn *fileName) String() string { return string(utf16.Decode(fn.name)) }

// utf16Decode decodes UTF-16 code units into runes.
func utf16Decode(u []uint16) []rune { return utf16.Decode(u) }

// standardInformation is a decoded $STANDARD_INFORMATION value.
type standardInformation struct {
	created, modified, changed, accessed uint64
	attrs                                uint32
	securityID                           uint32 // 0 in the 48-byte (version 1) form
}

func parseStandardInformation(b []byte, off int64) (standardInformation, error) {
	var si standardInformation
	if len(b) < 0x30 {
		return si, corrupt(off, "$STANDARD_INFORMATION of %d bytes", len(b))
	}
	si.created = binary.LittleEndian.Uint64(b)
	si.modified = binary.LittleEndian.Uint64(b[0x08:])
	si.changed = binary.LittleEndian.Uint64(b[0x10:])
	si.accessed = binary.LittleEndian.Uint64(b[0x18:])
	si.attrs = binary.LittleEndian.Uint32(b[0x20:])
	if len(b) >= 0x38 {
		si.securityID = binary.LittleEndian.Uint32(b[0x34:])
	}
	return si, nil
}

// filetimeEpoch is 1601-01-01 in seconds before the Unix epoch.
const filetimeEpoch = 11644473600

// filetime converts a FILETIME (100 ns intervals since 1601 UTC) to a
// time.Time in UTC. Zero stays the zero time.
func filetime(ft uint64) time.Time {
	if ft == 0 {
		return time.Time{}
	}
	return time.Unix(int64(ft/1e7)-filetimeEpoch, int64(ft%1e7)*100).UTC()
}

// upcaseTable maps every UTF-16 code unit to its upper case, as the
// volume's $UpCase file says. All name comparisons use it, never Go's case
// folding, so that lookups agree with Windows on the same volume.
type upcaseTable []uint16

// compareNames orders two names as NTFS's $I30 collation
// (COLLATION_FILE_NAME) does: by upper-cased code units, a prefix first.
// It returns 0 for names equal ignoring case.
func (up upcaseTable) compareNames(a, b []uint16) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		ca, cb := up[a[i]], up[b[i]]
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}
