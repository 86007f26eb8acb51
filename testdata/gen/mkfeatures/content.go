package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf16"
)

// filler is the fixed tail of every 512-byte sector of text content.
var filler = func() string {
	words := strings.Fields("lorem ipsum dolor sit amet consectetur adipiscing elit sed do " +
		"eiusmod tempor incididunt ut labore et dolore magna aliqua ut enim ad minim veniam " +
		"quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat")
	var b strings.Builder
	for i := 0; b.Len() < 512; i++ {
		b.WriteString(words[i%len(words)])
		if i%9 == 8 {
			b.WriteString("\r\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()[:512]
}()

// text returns n bytes of compressible content: every 512-byte sector
// starts with a line naming tag and the sector's offset, then a fixed
// filler. A reader that mixes up sectors, runs or files reads a wrong
// header.
func text(tag string, n int) []byte {
	return textAt(tag, 0, n)
}

// textAt is text for the bytes [off, off+n) of a stream whose sectors
// are numbered from 0.
func textAt(tag string, off int64, n int) []byte {
	out := make([]byte, 0, n+512)
	for sec := off &^ 511; sec < off+int64(n); sec += 512 {
		line := fmt.Sprintf("%s @%08x\r\n", tag, sec)
		buf := []byte(line + filler[len(line):])
		lo, hi := int64(0), int64(512)
		if sec < off {
			lo = off - sec
		}
		if sec+512 > off+int64(n) {
			hi = off + int64(n) - sec
		}
		out = append(out, buf[lo:hi]...)
	}
	return out
}

// random returns n incompressible bytes, the same for the same tag.
func random(tag string, n int) []byte {
	r := rand.NewChaCha8(sha256.Sum256([]byte("go-imagecustom features " + tag)))
	b := make([]byte, n)
	r.Read(b)
	return b
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// segment is data at an offset of a sparse file.
type segment struct {
	off  int64
	data []byte
}

// sparseSum is the SHA-256 of a file of size bytes holding segs (in
// ascending order, not overlapping) and zeros elsewhere.
func sparseSum(size int64, segs []segment) string {
	h := sha256.New()
	var pos int64
	for _, s := range segs {
		zeros(h, s.off-pos)
		h.Write(s.data)
		pos = s.off + int64(len(s.data))
	}
	zeros(h, size-pos)
	return hex.EncodeToString(h.Sum(nil))
}

var zeroBuf = make([]byte, 1<<20)

func zeros(h hash.Hash, n int64) {
	for n > 0 {
		k := min(n, int64(len(zeroBuf)))
		h.Write(zeroBuf[:k])
		n -= k
	}
}

// --- security descriptors ---------------------------------------------------

// sidBytes encodes a SID given as "S-1-5-32-544".
func sidBytes(s string) []byte {
	p := strings.Split(s, "-")
	auth, _ := strconv.ParseUint(p[2], 10, 48)
	b := []byte{1, byte(len(p) - 3), 0, 0, 0, 0, 0, 0}
	for i := 0; i < 6; i++ {
		b[2+i] = byte(auth >> (8 * (5 - i)))
	}
	for _, x := range p[3:] {
		v, _ := strconv.ParseUint(x, 10, 32)
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	return b
}

type allow struct {
	flags byte // ACE flags: 1 object inherit, 2 container inherit
	mask  uint32
	sid   string
}

// securityDescriptor is a self-relative descriptor: owner, group, and a
// DACL of access-allowed ACEs.
func securityDescriptor(owner, group string, aces ...allow) []byte {
	var body []byte
	for _, a := range aces {
		s := sidBytes(a.sid)
		body = append(body, 0, a.flags)
		body = binary.LittleEndian.AppendUint16(body, uint16(8+len(s)))
		body = binary.LittleEndian.AppendUint32(body, a.mask)
		body = append(body, s...)
	}
	acl := []byte{2, 0}
	acl = binary.LittleEndian.AppendUint16(acl, uint16(8+len(body)))
	acl = binary.LittleEndian.AppendUint16(acl, uint16(len(aces)))
	acl = append(acl, 0, 0)
	acl = append(acl, body...)
	o, g := sidBytes(owner), sidBytes(group)
	sd := []byte{1, 0}
	sd = binary.LittleEndian.AppendUint16(sd, 0x8004) // self-relative, DACL present
	sd = binary.LittleEndian.AppendUint32(sd, 20)
	sd = binary.LittleEndian.AppendUint32(sd, uint32(20+len(o)))
	sd = binary.LittleEndian.AppendUint32(sd, 0)
	sd = binary.LittleEndian.AppendUint32(sd, uint32(20+len(o)+len(g)))
	sd = append(sd, o...)
	sd = append(sd, g...)
	return append(sd, acl...)
}

const (
	sidAdmins   = "S-1-5-32-544"
	sidUsers    = "S-1-5-32-545"
	sidSystem   = "S-1-5-18"
	sidEveryone = "S-1-1-0"
)

// securityTemplates are the descriptors set with system.ntfs_acl.
var securityTemplates = map[string][]byte{
	"admins-only": securityDescriptor(sidAdmins, sidSystem,
		allow{0, 0x001F01FF, sidAdmins}, allow{0, 0x001F01FF, sidSystem}),
	"users-read": securityDescriptor(sidAdmins, sidUsers,
		allow{0, 0x001F01FF, sidAdmins}, allow{0, 0x001200A9, sidUsers}),
	"inherit-dir": securityDescriptor(sidAdmins, sidSystem,
		allow{3, 0x001F01FF, sidAdmins}, allow{3, 0x001200A9, sidEveryone}),
}

// --- reparse points ----------------------------------------------------------

const (
	tagMountPoint = 0xA0000003
	tagSymlink    = 0xA000000C
)

func utf16le(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// reparseBuffer is a reparse point buffer: a junction to an absolute
// path, or a symbolic link (relative when the target does not start with
// a drive letter).
func reparseBuffer(tag uint32, target string) []byte {
	relative := tag == tagSymlink && !(len(target) > 1 && target[1] == ':')
	subst := utf16le(target)
	if !relative {
		subst = utf16le(`\??\` + target)
	}
	print := utf16le(target)
	var body []byte
	body = binary.LittleEndian.AppendUint16(body, 0)
	body = binary.LittleEndian.AppendUint16(body, uint16(len(subst)))
	body = binary.LittleEndian.AppendUint16(body, uint16(len(subst)+2))
	body = binary.LittleEndian.AppendUint16(body, uint16(len(print)))
	if tag == tagSymlink {
		var flags uint32
		if relative {
			flags = 1 // SYMLINK_FLAG_RELATIVE
		}
		body = binary.LittleEndian.AppendUint32(body, flags)
	}
	body = append(body, subst...)
	body = append(body, 0, 0)
	body = append(body, print...)
	body = append(body, 0, 0)
	out := binary.LittleEndian.AppendUint32(nil, tag)
	out = binary.LittleEndian.AppendUint16(out, uint16(len(body)))
	out = binary.LittleEndian.AppendUint16(out, 0)
	return append(out, body...)
}

// parseReparse decodes a junction or symbolic link buffer: tag, the
// print name, and whether a symlink is relative.
func parseReparse(b []byte) (tag uint32, target string, relative bool, err error) {
	if len(b) < 16 {
		return 0, "", false, fmt.Errorf("reparse buffer of %d bytes", len(b))
	}
	tag = binary.LittleEndian.Uint32(b)
	body := b[8:]
	po, pl := int(binary.LittleEndian.Uint16(body[4:])), int(binary.LittleEndian.Uint16(body[6:]))
	paths := body[8:]
	if tag == tagSymlink {
		relative = binary.LittleEndian.Uint32(body[8:])&1 != 0
		paths = body[12:]
	} else if tag != tagMountPoint {
		return tag, "", false, nil
	}
	if po+pl > len(paths) {
		return tag, "", false, fmt.Errorf("reparse print name out of range")
	}
	u := make([]uint16, pl/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(paths[po+2*i:])
	}
	return tag, string(utf16.Decode(u)), relative, nil
}
