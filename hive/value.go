package hive

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
)

// ValueType is a registry value's type.
type ValueType uint32

// Value types. Any other number is legal too and is kept as it is.
const (
	None                     ValueType = 0
	String                   ValueType = 1 // REG_SZ
	ExpandString             ValueType = 2 // REG_EXPAND_SZ
	Binary                   ValueType = 3 // REG_BINARY
	DWord                    ValueType = 4 // REG_DWORD, little-endian
	DWordBigEndian           ValueType = 5 // REG_DWORD_BIG_ENDIAN
	Link                     ValueType = 6 // REG_LINK
	MultiString              ValueType = 7 // REG_MULTI_SZ
	ResourceList             ValueType = 8 // REG_RESOURCE_LIST
	FullResourceDescriptor   ValueType = 9 // REG_FULL_RESOURCE_DESCRIPTOR
	ResourceRequirementsList ValueType = 10
	QWord                    ValueType = 11 // REG_QWORD, little-endian
)

var typeNames = [...]string{"REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD",
	"REG_DWORD_BIG_ENDIAN", "REG_LINK", "REG_MULTI_SZ", "REG_RESOURCE_LIST",
	"REG_FULL_RESOURCE_DESCRIPTOR", "REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD"}

// String returns the type's Windows name, or "REG_0x…" for others.
func (t ValueType) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("REG_0x%x", uint32(t))
}

// vk field offsets.
const (
	vkNameLen = 2
	vkSize    = 4
	vkData    = 8
	vkType    = 12
	vkFlags   = 16
	vkName    = 20

	vkCompName = 0x0001
	inlineData = 0x80000000
)

// Value is a value of a registry key.
type Value struct {
	h   *Hive
	off uint32
}

// vk returns the value record at off, checked.
func (h *Hive) vk(off uint32) ([]byte, error) {
	b, err := h.record(off, "vk", vkName)
	if err != nil {
		return nil, err
	}
	if n := int(binary.LittleEndian.Uint16(b[vkNameLen:])); vkName+n > len(b) {
		return nil, corrupt(int64(off)+baseBlockSize, "vk cell at 0x%x: name of %d bytes exceeds the cell's %d", off, n, len(b)-vkName)
	}
	return b, nil
}

func vkNameOf(b []byte) string {
	n := int(binary.LittleEndian.Uint16(b[vkNameLen:]))
	return decodeName(b[vkName:vkName+n], binary.LittleEndian.Uint16(b[vkFlags:])&vkCompName != 0)
}

// Name returns the value's name; "" is the key's default value.
func (v Value) Name() string {
	b, err := v.h.vk(v.off)
	if err != nil {
		return ""
	}
	return vkNameOf(b)
}

// Type returns the value's type.
func (v Value) Type() ValueType {
	b, err := v.h.vk(v.off)
	if err != nil {
		return None
	}
	return ValueType(binary.LittleEndian.Uint32(b[vkType:]))
}

// valueList returns the vk offsets of a key's values.
func (h *Hive) valueList(nk []byte) ([]uint32, error) {
	count := int(binary.LittleEndian.Uint32(nk[nkValues:]))
	list := binary.LittleEndian.Uint32(nk[nkValueList:])
	if count == 0 || list == nilOffset {
		return nil, nil
	}
	b, err := h.cell(list)
	if err != nil {
		return nil, fmt.Errorf("values of key %q: %w", nkNameOf(nk), err)
	}
	if 4*count > len(b) {
		return nil, corrupt(int64(list)+baseBlockSize, "value list of %d entries in %d bytes", count, len(b))
	}
	out := make([]uint32, count)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return out, nil
}

// Values returns the key's values, in the order of its value list.
func (k Key) Values() ([]Value, error) {
	b, err := k.h.nk(k.off)
	if err != nil {
		return nil, err
	}
	offs, err := k.h.valueList(b)
	if err != nil {
		return nil, err
	}
	out := make([]Value, len(offs))
	for i, o := range offs {
		out[i] = Value{h: k.h, off: o}
	}
	return out, nil
}

// Value returns the value with the given name, compared without regard to
// case; "" names the default value.
func (k Key) Value(name string) (Value, error) {
	off, found, err := k.h.findValue(k.off, nameUnits(name))
	if err != nil {
		return Value{}, err
	}
	if !found {
		return Value{}, fmt.Errorf("%w: key %q has no value %q", ErrNotFound, k.Name(), name)
	}
	return Value{h: k.h, off: off}, nil
}

// valueIndex maps the upper-cased value names of one key to their vk
// offsets: editing many values of one key (a .reg import) looks each up
// in constant time instead of scanning the list.
type valueIndex struct {
	key   uint32
	names map[string]uint32
}

// indexedValue looks a value up through the index of the key being
// edited, building it when another key was indexed.
func (h *Hive) indexedValue(nkOff uint32, want []uint16) (uint32, bool, error) {
	if h.vindex == nil || h.vindex.key != nkOff {
		nk, err := h.nk(nkOff)
		if err != nil {
			return 0, false, err
		}
		offs, err := h.valueList(nk)
		if err != nil {
			return 0, false, err
		}
		ix := &valueIndex{key: nkOff, names: make(map[string]uint32, len(offs))}
		for _, o := range offs {
			b, err := h.vk(o)
			if err != nil {
				return 0, false, err
			}
			ix.names[upperKey(nameUnits(vkNameOf(b)))] = o
		}
		h.vindex = ix
	}
	o, ok := h.vindex.names[upperKey(want)]
	return o, ok, nil
}

// findValue looks a value up by name in key nkOff's list, in place.
func (h *Hive) findValue(nkOff uint32, want []uint16) (uint32, bool, error) {
	nk, err := h.nk(nkOff)
	if err != nil {
		return 0, false, err
	}
	count := int(binary.LittleEndian.Uint32(nk[nkValues:]))
	list := binary.LittleEndian.Uint32(nk[nkValueList:])
	if count == 0 || list == nilOffset {
		return 0, false, nil
	}
	lb, err := h.cell(list)
	if err != nil {
		return 0, false, fmt.Errorf("values of key %q: %w", nkNameOf(nk), err)
	}
	if 4*count > len(lb) {
		return 0, false, corrupt(int64(list)+baseBlockSize, "value list of %d entries in %d bytes", count, len(lb))
	}
	for i := 0; i < count; i++ {
		o := binary.LittleEndian.Uint32(lb[4*i:])
		b, err := h.vk(o)
		if err != nil {
			return 0, false, err
		}
		if vkNameEquals(b, want) {
			return o, true, nil
		}
	}
	return 0, false, nil
}

// vkNameEquals compares a vk record's stored name with want, ignoring
// case, without decoding it.
func vkNameEquals(vk []byte, want []uint16) bool {
	n := int(binary.LittleEndian.Uint16(vk[vkNameLen:]))
	name := vk[vkName : vkName+n]
	if binary.LittleEndian.Uint16(vk[vkFlags:])&vkCompName != 0 {
		if len(name) != len(want) {
			return false
		}
		for i, c := range name {
			if upcase(uint16(c)) != upcase(want[i]) {
				return false
			}
		}
		return true
	}
	if len(name) != 2*len(want) {
		return false
	}
	for i, w := range want {
		if upcase(binary.LittleEndian.Uint16(name[2*i:])) != upcase(w) {
			return false
		}
	}
	return true
}

// Data returns the value's raw data: inline, in one cell, or gathered
// from the segments of a big-data ("db") record.
func (v Value) Data() ([]byte, error) {
	b, err := v.h.vk(v.off)
	if err != nil {
		return nil, err
	}
	size := binary.LittleEndian.Uint32(b[vkSize:])
	if size&inlineData != 0 {
		n := size &^ inlineData
		if n > 4 {
			return nil, corrupt(int64(v.off)+baseBlockSize, "value %q: inline data of %d bytes", vkNameOf(b), n)
		}
		return append([]byte(nil), b[vkData:vkData+n]...), nil
	}
	if size == 0 {
		return []byte{}, nil
	}
	off := binary.LittleEndian.Uint32(b[vkData:])
	c, err := v.h.cell(off)
	if err != nil {
		return nil, fmt.Errorf("value %q: %w", vkNameOf(b), err)
	}
	if v.h.minor >= 4 && size > bigDataSegment && len(c) >= 8 && string(c[:2]) == "db" {
		return v.h.bigData(c, size, off)
	}
	if int(size) > len(c) {
		// The cell is the truth when the declared size is larger.
		return append([]byte(nil), c...), nil
	}
	return append([]byte(nil), c[:size]...), nil
}

// bigData gathers the segments of a db record.
func (h *Hive) bigData(db []byte, size, off uint32) ([]byte, error) {
	n := int(binary.LittleEndian.Uint16(db[2:]))
	list, err := h.cell(binary.LittleEndian.Uint32(db[4:]))
	if err != nil {
		return nil, fmt.Errorf("db record at 0x%x: %w", off, err)
	}
	if 4*n > len(list) || int64(n)*bigDataSegment < int64(size) {
		return nil, corrupt(int64(off)+baseBlockSize, "db record of %d segments for %d bytes", n, size)
	}
	out := make([]byte, 0, size)
	for i := 0; i < n && uint32(len(out)) < size; i++ {
		seg, err := h.cell(binary.LittleEndian.Uint32(list[4*i:]))
		if err != nil {
			return nil, fmt.Errorf("db record at 0x%x, segment %d: %w", off, i, err)
		}
		take := min(len(seg), bigDataSegment, int(size)-len(out))
		out = append(out, seg[:take]...)
	}
	if uint32(len(out)) != size {
		return nil, corrupt(int64(off)+baseBlockSize, "db record: %d of %d bytes found", len(out), size)
	}
	return out, nil
}

// errType reports a value read as the wrong type.
var errType = errors.New("hive: value of another type")

// String returns a REG_SZ, REG_EXPAND_SZ or REG_LINK value as text, up to
// its first NUL.
func (v Value) String() (string, error) {
	switch v.Type() {
	case String, ExpandString, Link:
	default:
		return "", fmt.Errorf("%w: %s is %s", errType, v.Name(), v.Type())
	}
	b, err := v.Data()
	if err != nil {
		return "", err
	}
	s := decodeUTF16(b)
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return s, nil
}

// Strings returns a REG_MULTI_SZ value's strings (the empty string that
// ends the list is not one of them).
func (v Value) Strings() ([]string, error) {
	if v.Type() != MultiString {
		return nil, fmt.Errorf("%w: %s is %s", errType, v.Name(), v.Type())
	}
	b, err := v.Data()
	if err != nil {
		return nil, err
	}
	s := strings.TrimRight(decodeUTF16(b), "\x00")
	if s == "" {
		return []string{}, nil
	}
	return strings.Split(s, "\x00"), nil
}

// Uint32 returns a REG_DWORD or REG_DWORD_BIG_ENDIAN value.
func (v Value) Uint32() (uint32, error) {
	b, err := v.Data()
	if err != nil {
		return 0, err
	}
	switch t := v.Type(); {
	case len(b) < 4:
		return 0, fmt.Errorf("%w: %s has %d bytes", errType, v.Name(), len(b))
	case t == DWord:
		return binary.LittleEndian.Uint32(b), nil
	case t == DWordBigEndian:
		return binary.BigEndian.Uint32(b), nil
	default:
		return 0, fmt.Errorf("%w: %s is %s", errType, v.Name(), t)
	}
}

// Uint64 returns a REG_QWORD value.
func (v Value) Uint64() (uint64, error) {
	if v.Type() != QWord {
		return 0, fmt.Errorf("%w: %s is %s", errType, v.Name(), v.Type())
	}
	b, err := v.Data()
	if err != nil {
		return 0, err
	}
	if len(b) < 8 {
		return 0, fmt.Errorf("%w: %s has %d bytes", errType, v.Name(), len(b))
	}
	return binary.LittleEndian.Uint64(b), nil
}

// decodeUTF16 decodes little-endian UTF-16 (an odd last byte ignored).
func decodeUTF16(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// EncodeString encodes s as the data of a REG_SZ or REG_EXPAND_SZ value:
// UTF-16LE with a terminating NUL.
func EncodeString(s string) []byte {
	u := utf16.Encode([]rune(s + "\x00"))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// EncodeStrings encodes the data of a REG_MULTI_SZ value: each string
// NUL-terminated, then an empty one.
func EncodeStrings(ss []string) []byte {
	var b []byte
	for _, s := range ss {
		b = append(b, EncodeString(s)...)
	}
	return append(b, 0, 0)
}

// EncodeUint32 encodes a REG_DWORD value.
func EncodeUint32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// EncodeUint64 encodes a REG_QWORD value.
func EncodeUint64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
