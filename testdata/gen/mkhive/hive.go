package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf16"
)

// Layout constants (regf.md §1–3).
const (
	baseBlockSize = 4096 // the base block; hive bins start here
	binSize       = 4096 // our single hive bin
	binHeaderSize = 32
	nkFixedSize   = 76 // nk record without its name
	skFixedSize   = 20 // sk record without its descriptor
	fileNameChars = 31 // UTF-16 characters kept in the base block's file name (+ NUL)
	checksumWords = 127

	nilOffset = 0xFFFFFFFF

	keyHiveEntry = 0x0004 // KEY_HIVE_ENTRY: the root key of the hive
	keyNoDelete  = 0x0008 // KEY_NO_DELETE
	keyCompName  = 0x0020 // KEY_COMP_NAME: name stored as 8-bit Latin-1
	rootKeyFlags = keyHiveEntry | keyNoDelete | keyCompName
)

// defaultTime is the fixed timestamp used when -time is not given.
var defaultTime = time.Date(2009, time.June, 15, 10, 30, 0, 0, time.UTC)

// options says what hive to build.
type options struct {
	Root  string    // root key name, ASCII/Latin-1
	Minor int       // regf minor version, 3 or 5
	File  string    // path whose last 31 characters go into the base block
	SD    string    // security descriptor profile, see securityDescriptor
	User  string    // user SID for the user-* profiles
	Time  time.Time // every timestamp in the file
}

// filetime converts t to a Windows FILETIME (100 ns ticks since 1601-01-01 UTC).
func filetime(t time.Time) uint64 {
	const epochDiff = 11644473600 // seconds from 1601-01-01 to 1970-01-01
	return uint64(t.Unix()+epochDiff)*10_000_000 + uint64(t.Nanosecond()/100)
}

// align8 rounds n up to a multiple of 8, the cell granularity.
func align8(n int) int { return (n + 7) &^ 7 }

// checksum is the base-block checksum: XOR of the 127 little-endian words at
// bytes 0..507, with Windows' fix-ups (0 → 1, 0xFFFFFFFF → 0xFFFFFFFE;
// ReactOS HvpHiveHeaderChecksum).
func checksum(base []byte) uint32 {
	var c uint32
	for i := 0; i < checksumWords; i++ {
		c ^= binary.LittleEndian.Uint32(base[4*i:])
	}
	switch c {
	case 0:
		return 1
	case 0xFFFFFFFF:
		return 0xFFFFFFFE
	}
	return c
}

// fileNameField returns the 64-byte base-block file name: the last 31
// UTF-16 code units of path, zero-padded (so always NUL-terminated).
func fileNameField(path string) [64]byte {
	u := utf16.Encode([]rune(path))
	if len(u) > fileNameChars {
		u = u[len(u)-fileNameChars:]
	}
	var f [64]byte
	for i, c := range u {
		binary.LittleEndian.PutUint16(f[2*i:], c)
	}
	return f
}

// build returns the bytes of an empty hive: base block + one hbin with the
// root nk, one sk and a free cell covering the rest of the bin.
func build(o options) ([]byte, error) {
	if o.Minor != 3 && o.Minor != 5 {
		return nil, fmt.Errorf("minor version %d: want 3 or 5", o.Minor)
	}
	if o.Root == "" || len(o.Root) > 255 {
		return nil, errors.New("root name must be 1..255 characters")
	}
	for _, r := range o.Root {
		if r > 0xFF {
			return nil, fmt.Errorf("root name %q: only Latin-1 names are written (KEY_COMP_NAME)", o.Root)
		}
	}
	sd, err := securityDescriptor(o.SD, o.User)
	if err != nil {
		return nil, err
	}
	ft := filetime(o.Time)
	le := binary.LittleEndian

	name := latin1(o.Root)
	nkOff := binHeaderSize // cell offsets are relative to the start of the bins
	nkCell := align8(4 + nkFixedSize + len(name))
	skOff := nkOff + nkCell
	skCell := align8(4 + skFixedSize + len(sd))
	freeOff := skOff + skCell
	if freeOff+8 > binSize {
		return nil, errors.New("root key and security descriptor do not fit in one bin")
	}

	b := make([]byte, baseBlockSize+binSize)

	// Base block.
	base := b[:baseBlockSize]
	copy(base[0:], "regf")
	le.PutUint32(base[4:], 1)   // primary sequence number
	le.PutUint32(base[8:], 1)   // secondary sequence number (== primary: clean)
	le.PutUint64(base[12:], ft) // last written
	le.PutUint32(base[20:], 1)  // major version
	le.PutUint32(base[24:], uint32(o.Minor))
	le.PutUint32(base[28:], 0) // file type: primary
	le.PutUint32(base[32:], 1) // file format: direct memory load
	le.PutUint32(base[36:], uint32(nkOff))
	le.PutUint32(base[40:], binSize) // hive bins data size
	le.PutUint32(base[44:], 1)       // clustering factor
	fn := fileNameField(o.File)
	copy(base[48:112], fn[:])
	le.PutUint32(base[508:], checksum(base))

	// Hive bin header.
	bin := b[baseBlockSize:]
	copy(bin[0:], "hbin")
	le.PutUint32(bin[4:], 0)       // offset of this bin
	le.PutUint32(bin[8:], binSize) // size of this bin
	le.PutUint64(bin[20:], ft)     // backup of the base block timestamp (first bin only)

	// Root key node.
	c := bin[nkOff:]
	le.PutUint32(c[0:], uint32(-int32(nkCell))) // allocated: negative size
	nk := c[4:]
	copy(nk[0:], "nk")
	le.PutUint16(nk[2:], rootKeyFlags)
	le.PutUint64(nk[4:], ft)
	le.PutUint32(nk[12:], 0)         // access bits (Windows 8+), spare before
	le.PutUint32(nk[16:], nilOffset) // parent (none: CmpCreateRootNode writes HCELL_NIL)
	le.PutUint32(nk[20:], 0)         // stable subkeys
	le.PutUint32(nk[24:], 0)         // volatile subkeys
	le.PutUint32(nk[28:], nilOffset) // stable subkey list
	le.PutUint32(nk[32:], nilOffset) // volatile subkey list
	le.PutUint32(nk[36:], 0)         // values
	le.PutUint32(nk[40:], nilOffset) // value list
	le.PutUint32(nk[44:], uint32(skOff))
	le.PutUint32(nk[48:], nilOffset) // class name
	// 52..71: largest subkey name/class, value name/data, WorkVar: all 0.
	le.PutUint16(nk[72:], uint16(len(name)))
	le.PutUint16(nk[74:], 0) // class name length
	copy(nk[76:], name)

	// Security cell: the only one, so the ring points at itself.
	c = bin[skOff:]
	le.PutUint32(c[0:], uint32(-int32(skCell)))
	sk := c[4:]
	copy(sk[0:], "sk")
	le.PutUint32(sk[4:], uint32(skOff)) // flink
	le.PutUint32(sk[8:], uint32(skOff)) // blink
	le.PutUint32(sk[12:], 1)            // reference count: the root key
	le.PutUint32(sk[16:], uint32(len(sd)))
	copy(sk[20:], sd)

	// The rest of the bin is one free cell (positive size).
	le.PutUint32(bin[freeOff:], uint32(binSize-freeOff))
	return b, nil
}

// latin1 returns s as one byte per character; build has checked that every
// character is below U+0100.
func latin1(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r))
	}
	return b
}
