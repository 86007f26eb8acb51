package hive

import (
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"unicode/utf16"
)

// Bytes returns the hive file as saving writes it: the base block with
// both sequence numbers one past the highest before (equal: the hive is
// clean, and no transaction log older than it can be replayed over it),
// the bins size, the root, a fresh timestamp and checksum. The Hive keeps
// the new sequence number, so each save counts up.
func (h *Hive) Bytes() ([]byte, error) {
	if h.readOnly != nil && h.modified {
		return nil, h.readOnly
	}
	b := h.buf
	seq := max(binary.LittleEndian.Uint32(b[4:]), binary.LittleEndian.Uint32(b[8:])) + 1
	binary.LittleEndian.PutUint32(b[4:], seq)
	binary.LittleEndian.PutUint32(b[8:], seq)
	binary.LittleEndian.PutUint64(b[12:], now())
	binary.LittleEndian.PutUint32(b[28:], 0) // primary file
	binary.LittleEndian.PutUint32(b[36:], h.root)
	binary.LittleEndian.PutUint32(b[40:], uint32(len(b)-baseBlockSize))
	binary.LittleEndian.PutUint32(b[508:], checksumBaseBlock(b))
	return append([]byte(nil), b...), nil
}

// WriteTo writes the saved hive file to w, as [io.WriterTo].
func (h *Hive) WriteTo(w io.Writer) (int64, error) {
	b, err := h.Bytes()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	return int64(n), err
}

// SaveFile writes the hive to path atomically: a temporary file beside it,
// synced, then renamed over it. Transaction logs beside the file are left
// as they are: the saved hive is clean and newer than them, so Windows
// ignores them.
func (h *Hive) SaveFile(path string) error {
	b, err := h.Bytes()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if fi, err := os.Stat(path); err == nil {
		os.Chmod(tmp.Name(), fi.Mode().Perm())
	}
	return os.Rename(tmp.Name(), path)
}

// defaultSD returns the security descriptor of a new hive's root: owner
// Administrators, group SYSTEM; full control for SYSTEM and
// Administrators, read for Everyone, inherited by subkeys.
func defaultSD() []byte {
	sid := func(sub ...uint32) []byte {
		auth := byte(5)
		if len(sub) == 1 && sub[0] == 0 {
			auth = 1 // S-1-1-0
		}
		b := []byte{1, byte(len(sub)), 0, 0, 0, 0, 0, auth}
		for _, s := range sub {
			b = binary.LittleEndian.AppendUint32(b, s)
		}
		return b
	}
	ace := func(mask uint32, s []byte) []byte {
		b := []byte{0, 0x02, 0, 0} // ACCESS_ALLOWED, CONTAINER_INHERIT
		binary.LittleEndian.PutUint16(b[2:], uint16(8+len(s)))
		b = binary.LittleEndian.AppendUint32(b, mask)
		return append(b, s...)
	}
	system, admins, everyone := sid(18), sid(32, 544), sid(0)
	aces := append(append(ace(0xF003F, system), ace(0xF003F, admins)...), ace(0x20019, everyone)...)
	acl := []byte{2, 0, 0, 0, 3, 0, 0, 0}
	binary.LittleEndian.PutUint16(acl[2:], uint16(8+len(aces)))
	acl = append(acl, aces...)
	sd := make([]byte, 20)
	sd[0] = 1
	binary.LittleEndian.PutUint16(sd[2:], 0x8004) // SELF_RELATIVE | DACL_PRESENT
	binary.LittleEndian.PutUint32(sd[4:], 20)
	binary.LittleEndian.PutUint32(sd[8:], uint32(20+len(admins)))
	binary.LittleEndian.PutUint32(sd[16:], uint32(20+len(admins)+len(system)))
	sd = append(sd, admins...)
	sd = append(sd, system...)
	return append(sd, acl...)
}

// New returns an empty hive of format version 1.5 whose root key is named
// rootName ("ROOT" as Windows 10 names them, or "$$$PROTO.HIV"; an empty
// name, which Windows refuses, becomes "ROOT").
func New(rootName string) *Hive {
	if rootName == "" {
		rootName = "ROOT"
	}
	buf := make([]byte, baseBlockSize+binAlign)
	copy(buf, "regf")
	binary.LittleEndian.PutUint32(buf[20:], 1)
	binary.LittleEndian.PutUint32(buf[24:], 5)
	binary.LittleEndian.PutUint32(buf[32:], 1) // file format: direct memory load
	binary.LittleEndian.PutUint32(buf[44:], 1) // clustering factor
	for i, c := range utf16.Encode([]rune(rootName)) {
		if 48+2*i+2 > 112 {
			break
		}
		binary.LittleEndian.PutUint16(buf[48+2*i:], c)
	}
	bin := buf[baseBlockSize:]
	copy(bin, "hbin")
	binary.LittleEndian.PutUint32(bin[8:], binAlign)
	h := &Hive{buf: buf, minor: 5, bins: []uint32{0}}
	h.setCellSize(binHeaderSize, binAlign-binHeaderSize, false)
	h.free = &freeList{size: map[uint32]uint32{}}
	h.free.add(binHeaderSize, binAlign-binHeaderSize)
	// The root key and its security descriptor.
	enc, comp := encodeName(rootName)
	root, _ := h.alloc(nkName + len(enc))
	sd := defaultSD()
	sk, _ := h.alloc(20 + len(sd))
	s := h.data(sk)
	copy(s, "sk")
	binary.LittleEndian.PutUint32(s[4:], sk)
	binary.LittleEndian.PutUint32(s[8:], sk)
	binary.LittleEndian.PutUint32(s[12:], 1)
	binary.LittleEndian.PutUint32(s[16:], uint32(len(sd)))
	copy(s[20:], sd)
	b := h.data(root)
	copy(b, "nk")
	flags := uint16(keyHiveEntry | keyNoDelete)
	if comp {
		flags |= keyCompName
	}
	binary.LittleEndian.PutUint16(b[nkFlags:], flags)
	binary.LittleEndian.PutUint64(b[nkTime:], now())
	binary.LittleEndian.PutUint32(b[nkParent:], nilOffset)
	binary.LittleEndian.PutUint32(b[nkSubkeyList:], nilOffset)
	binary.LittleEndian.PutUint32(b[nkSubkeyList+4:], nilOffset)
	binary.LittleEndian.PutUint32(b[nkValueList:], nilOffset)
	binary.LittleEndian.PutUint32(b[nkSecurity:], sk)
	binary.LittleEndian.PutUint32(b[nkClass:], nilOffset)
	binary.LittleEndian.PutUint16(b[nkNameLen:], uint16(len(enc)))
	copy(b[nkName:], enc)
	h.root = root
	h.modified = true
	return h
}
