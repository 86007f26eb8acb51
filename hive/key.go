package hive

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
)

// nk flags.
const (
	keyHiveEntry = 0x0004
	keyNoDelete  = 0x0008
	keyCompName  = 0x0020
)

// nk field offsets (relative to the cell data, after the size).
const (
	nkFlags        = 2
	nkTime         = 4
	nkParent       = 16
	nkSubkeys      = 20
	nkSubkeyList   = 28
	nkValues       = 36
	nkValueList    = 40
	nkSecurity     = 44
	nkClass        = 48
	nkMaxNameLen   = 52
	nkMaxClassLen  = 56
	nkMaxValueName = 60
	nkMaxValueData = 64
	nkNameLen      = 72
	nkClassLen     = 74
	nkName         = 76
)

const nilOffset = 0xFFFFFFFF

// maxDepth bounds key nesting when walking: Windows allows 512 levels.
const maxDepth = 512

// Key is a registry key of a [Hive].
type Key struct {
	h   *Hive
	off uint32
}

// nk returns the key record at off, checked.
func (h *Hive) nk(off uint32) ([]byte, error) {
	b, err := h.record(off, "nk", nkName)
	if err != nil {
		return nil, err
	}
	if n := int(binary.LittleEndian.Uint16(b[nkNameLen:])); nkName+n > len(b) {
		return nil, corrupt(int64(off)+baseBlockSize, "nk cell at 0x%x: name of %d bytes exceeds the cell's %d", off, n, len(b)-nkName)
	}
	return b, nil
}

// name decodes an nk record's name.
func nkNameOf(b []byte) string {
	n := int(binary.LittleEndian.Uint16(b[nkNameLen:]))
	return decodeName(b[nkName:nkName+n], binary.LittleEndian.Uint16(b[nkFlags:])&keyCompName != 0)
}

// Name returns the key's name (the root key's is whatever the file says,
// often "ROOT" or "$$$PROTO.HIV").
func (k Key) Name() string {
	b, err := k.h.nk(k.off)
	if err != nil {
		return ""
	}
	return nkNameOf(b)
}

// Modified returns the key's last-written time.
func (k Key) Modified() time.Time {
	b, err := k.h.nk(k.off)
	if err != nil {
		return time.Time{}
	}
	return filetime(binary.LittleEndian.Uint64(b[nkTime:]))
}

// Class returns the key's class name, "" if it has none.
func (k Key) Class() (string, error) {
	b, err := k.h.nk(k.off)
	if err != nil {
		return "", err
	}
	off := binary.LittleEndian.Uint32(b[nkClass:])
	n := int(binary.LittleEndian.Uint16(b[nkClassLen:]))
	if off == nilOffset || n == 0 {
		return "", nil
	}
	c, err := k.h.cell(off)
	if err != nil {
		return "", fmt.Errorf("class of key %q: %w", nkNameOf(b), err)
	}
	if n > len(c) {
		return "", corrupt(int64(off)+baseBlockSize, "class name of %d bytes in a %d-byte cell", n, len(c))
	}
	return decodeName(c[:n], false), nil
}

// SecurityDescriptor returns the key's self-relative security descriptor,
// from its sk record.
func (k Key) SecurityDescriptor() ([]byte, error) {
	b, err := k.h.nk(k.off)
	if err != nil {
		return nil, err
	}
	sk, err := k.h.record(binary.LittleEndian.Uint32(b[nkSecurity:]), "sk", 20)
	if err != nil {
		return nil, fmt.Errorf("security of key %q: %w", nkNameOf(b), err)
	}
	n := int(binary.LittleEndian.Uint32(sk[16:]))
	if 20+n > len(sk) {
		return nil, corrupt(-1, "sk record: descriptor of %d bytes in a %d-byte cell", n, len(sk))
	}
	return sk[20 : 20+n], nil
}

// upcase upper-cases a UTF-16 code unit one to one, as key name
// comparisons do.
func upcase(c uint16) uint16 {
	if c < 0x80 {
		if 'a' <= c && c <= 'z' {
			return c - 32
		}
		return c
	}
	if utf16.IsSurrogate(rune(c)) {
		return c
	}
	u := unicode.ToUpper(rune(c))
	if u > 0xFFFF {
		return c
	}
	return uint16(u)
}

// nameUnits returns a name's UTF-16 code units.
func nameUnits(s string) []uint16 { return utf16.Encode([]rune(s)) }

// compareUpper orders two names as Windows sorts subkey lists: by
// upper-cased UTF-16 code units, a prefix first.
func compareUpper(a, b []uint16) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		ca, cb := upcase(a[i]), upcase(b[i])
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}

// nkUnits returns an nk record's name as UTF-16 code units.
func nkUnits(b []byte) []uint16 {
	n := int(binary.LittleEndian.Uint16(b[nkNameLen:]))
	name := b[nkName : nkName+n]
	if binary.LittleEndian.Uint16(b[nkFlags:])&keyCompName != 0 {
		u := make([]uint16, n)
		for i, c := range name {
			u[i] = uint16(c)
		}
		return u
	}
	u := make([]uint16, n/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(name[2*i:])
	}
	return u
}

// leaves returns the offsets of the leaf lists (li, lf, lh) under a subkey
// list, which is a leaf itself or an ri index of leaves.
func (h *Hive) leaves(list uint32) ([]uint32, error) {
	b, err := h.cell(list)
	if err != nil {
		return nil, err
	}
	if len(b) < 4 {
		return nil, corrupt(int64(list)+baseBlockSize, "subkey list cell of %d bytes", len(b))
	}
	switch string(b[:2]) {
	case "li", "lf", "lh":
		return []uint32{list}, nil
	case "ri":
		n := int(binary.LittleEndian.Uint16(b[2:]))
		if 4+4*n > len(b) {
			return nil, corrupt(int64(list)+baseBlockSize, "ri list of %d entries in %d bytes", n, len(b))
		}
		out := make([]uint32, n)
		for i := range out {
			out[i] = binary.LittleEndian.Uint32(b[4+4*i:])
		}
		return out, nil
	}
	return nil, corrupt(int64(list)+baseBlockSize, "subkey list signature %q", b[:2])
}

// leafEntries returns the nk offsets of a leaf list (li, lf or lh).
func (h *Hive) leafEntries(leaf uint32) ([]uint32, error) {
	b, err := h.cell(leaf)
	if err != nil {
		return nil, err
	}
	if len(b) < 4 {
		return nil, corrupt(int64(leaf)+baseBlockSize, "leaf list cell of %d bytes", len(b))
	}
	n := int(binary.LittleEndian.Uint16(b[2:]))
	stride := 8
	switch string(b[:2]) {
	case "li":
		stride = 4
	case "lf", "lh":
	default:
		return nil, corrupt(int64(leaf)+baseBlockSize, "leaf list signature %q (an ri under an ri?)", b[:2])
	}
	if 4+stride*n > len(b) {
		return nil, corrupt(int64(leaf)+baseBlockSize, "%s list of %d entries in %d bytes", b[:2], n, len(b))
	}
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[4+stride*i:])
	}
	return out, nil
}

// leafView returns a leaf list's cell bytes, entry stride and count,
// checked, for reading entries in place.
func (h *Hive) leafView(leaf uint32) (b []byte, stride, n int, err error) {
	if b, err = h.cell(leaf); err != nil {
		return nil, 0, 0, err
	}
	if len(b) < 4 {
		return nil, 0, 0, corrupt(int64(leaf)+baseBlockSize, "leaf list cell of %d bytes", len(b))
	}
	switch string(b[:2]) {
	case "li":
		stride = 4
	case "lf", "lh":
		stride = 8
	default:
		return nil, 0, 0, corrupt(int64(leaf)+baseBlockSize, "leaf list signature %q (an ri under an ri?)", b[:2])
	}
	n = int(binary.LittleEndian.Uint16(b[2:]))
	if 4+stride*n > len(b) {
		return nil, 0, 0, corrupt(int64(leaf)+baseBlockSize, "%s list of %d entries in %d bytes", b[:2], n, len(b))
	}
	return b, stride, n, nil
}

// leafEntry returns entry i of a leaf viewed with leafView.
func leafEntry(b []byte, stride, i int) uint32 { return binary.LittleEndian.Uint32(b[4+stride*i:]) }

// findLeaf returns the index of the leaf among leaves where a name sorts:
// the first whose last entry is not before it (by binary search over the
// leaves' last entries), or len(leaves)-1.
func (h *Hive) findLeaf(leaves []uint32, want []uint16) (int, error) {
	lo, hi := 0, len(leaves)
	for lo < hi {
		mid := (lo + hi) / 2
		b, stride, n, err := h.leafView(leaves[mid])
		if err != nil {
			return 0, err
		}
		if n == 0 {
			lo = mid + 1
			continue
		}
		last, err := h.nk(leafEntry(b, stride, n-1))
		if err != nil {
			return 0, err
		}
		if compareUpper(want, nkUnits(last)) <= 0 {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return min(lo, len(leaves)-1), nil
}

// Subkeys returns the key's subkeys in the order of its sorted lists.
func (k Key) Subkeys() ([]Key, error) {
	b, err := k.h.nk(k.off)
	if err != nil {
		return nil, err
	}
	list := binary.LittleEndian.Uint32(b[nkSubkeyList:])
	count := binary.LittleEndian.Uint32(b[nkSubkeys:])
	if list == nilOffset || count == 0 {
		return nil, nil
	}
	leaves, err := k.h.leaves(list)
	if err != nil {
		return nil, fmt.Errorf("subkeys of %q: %w", nkNameOf(b), err)
	}
	out := make([]Key, 0, min(int(count), len(k.h.buf)/80))
	for _, leaf := range leaves {
		entries, err := k.h.leafEntries(leaf)
		if err != nil {
			return nil, fmt.Errorf("subkeys of %q: %w", nkNameOf(b), err)
		}
		for _, e := range entries {
			out = append(out, Key{h: k.h, off: e})
		}
	}
	if uint32(len(out)) != count {
		return nil, corrupt(int64(k.off)+baseBlockSize, "key %q: %d subkeys listed, count says %d", nkNameOf(b), len(out), count)
	}
	return out, nil
}

// Subkey returns the subkey with the given name, compared without regard
// to case, found by binary search of the sorted subkey lists.
func (k Key) Subkey(name string) (Key, error) {
	b, err := k.h.nk(k.off)
	if err != nil {
		return Key{}, err
	}
	list := binary.LittleEndian.Uint32(b[nkSubkeyList:])
	if list == nilOffset || binary.LittleEndian.Uint32(b[nkSubkeys:]) == 0 {
		return Key{}, fmt.Errorf("%w: key %q has no subkey %q", ErrNotFound, nkNameOf(b), name)
	}
	want := nameUnits(name)
	leaves, err := k.h.leaves(list)
	if err != nil {
		return Key{}, err
	}
	li, err := k.h.findLeaf(leaves, want)
	if err != nil {
		return Key{}, err
	}
	lb, stride, n, err := k.h.leafView(leaves[li])
	if err != nil {
		return Key{}, err
	}
	lo, hi := 0, n
	for lo < hi {
		mid := (lo + hi) / 2
		off := leafEntry(lb, stride, mid)
		nb, err := k.h.nk(off)
		if err != nil {
			return Key{}, err
		}
		switch c := compareUpper(want, nkUnits(nb)); {
		case c == 0:
			return Key{h: k.h, off: off}, nil
		case c < 0:
			hi = mid
		default:
			lo = mid + 1
		}
	}
	return Key{}, fmt.Errorf("%w: key %q has no subkey %q", ErrNotFound, nkNameOf(b), name)
}

// splitPath splits a key path at backslashes, ignoring leading, trailing
// and doubled ones.
func splitPath(path string) []string {
	var out []string
	for _, p := range strings.Split(path, `\`) {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Key returns the key at path, backslash-separated from the root key (the
// root's own name is not part of it); "" is the root.
func (h *Hive) Key(path string) (Key, error) {
	k := h.Root()
	for _, p := range splitPath(path) {
		var err error
		if k, err = k.Subkey(p); err != nil {
			return Key{}, err
		}
	}
	return k, nil
}

// Walk calls fn for the key and every key under it, depth first, parents
// before children, with each key's path relative to k (k itself has
// path ""). A key reached twice (a corrupt hive whose lists loop) is an
// error.
func (k Key) Walk(fn func(path string, key Key) error) error {
	seen := map[uint32]bool{}
	var walk func(path string, key Key, depth int) error
	walk = func(path string, key Key, depth int) error {
		if depth > maxDepth {
			return corrupt(-1, "keys nested deeper than %d at %q", maxDepth, path)
		}
		if seen[key.off] {
			return corrupt(int64(key.off)+baseBlockSize, "key at 0x%x reached twice", key.off)
		}
		seen[key.off] = true
		if err := fn(path, key); err != nil {
			return err
		}
		subs, err := key.Subkeys()
		if err != nil {
			return err
		}
		for _, s := range subs {
			p := s.Name()
			if path != "" {
				p = path + `\` + p
			}
			if err := walk(p, s, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk("", k, 0)
}

// Equal reports whether k and o are the same key of the same hive.
func (k Key) Equal(o Key) bool { return k.h == o.h && k.off == o.off }
