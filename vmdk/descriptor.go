package vmdk

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// maxDescriptor bounds a descriptor's size: real ones are a few hundred
// bytes; an embedded one takes descriptorSize sectors (20 by default).
const maxDescriptor = 1 << 20

// Descriptor is a parsed VMDK descriptor: the text that names the disk's
// type, content ID, parent and extents, and its disk database (ddb.*
// keys). Keys this package does not know are kept and written back.
type Descriptor struct {
	Version            int
	Encoding           string
	CID                uint32
	ParentCID          uint32 // 0xFFFFFFFF: no parent
	CreateType         string
	ParentFileNameHint string // delta disks: the parent's descriptor, relative to this one
	Extents            []Extent
	// Header holds other header keys (isNativeSnapshot…) in order.
	Header []KeyValue
	// DDB holds the disk database, "ddb.adapterType" and the like, in order.
	DDB []KeyValue
}

// KeyValue is one key = "value" line of a descriptor.
type KeyValue struct {
	Key, Value string
}

// Extent is one extent line: access, size, type, file and (for FLAT) the
// offset in the file.
type Extent struct {
	Access  string // RW, RDONLY or NOACCESS
	Sectors int64  // virtual size in 512-byte sectors
	Type    string // FLAT, SPARSE, ZERO, VMFS, VMFSSPARSE, SESPARSE…
	File    string // relative to the descriptor; "" for ZERO
	Offset  int64  // FLAT: sectors into the file
}

// NoParent is the parentCID of a disk without a parent.
const NoParent = 0xFFFFFFFF

var extentLine = regexp.MustCompile(`^(RW|RDONLY|NOACCESS)\s+(\d+)\s+([A-Za-z]+)(?:\s+"([^"]*)"(?:\s+(\d+))?)?\s*$`)

// ParseDescriptor parses descriptor text. name locates it in errors.
func ParseDescriptor(b []byte, name string) (*Descriptor, error) {
	if len(b) > maxDescriptor {
		return nil, corrupt(name, 0, "descriptor of %d bytes", len(b))
	}
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		b = b[:i] // an embedded descriptor ends at its first NUL
	}
	d := &Descriptor{ParentCID: NoParent, Version: 1, Encoding: "UTF-8"}
	seen := map[string]bool{}
	off := int64(0)
	for _, line := range strings.Split(string(b), "\n") {
		lineOff := off
		off += int64(len(line)) + 1
		line = strings.TrimSpace(strings.TrimSuffix(line, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if m := extentLine.FindStringSubmatch(line); m != nil {
			e := Extent{Access: m[1], Type: strings.ToUpper(m[3]), File: m[4]}
			var err error
			if e.Sectors, err = strconv.ParseInt(m[2], 10, 64); err != nil || e.Sectors <= 0 || e.Sectors > 1<<42 {
				return nil, corrupt(name, lineOff, "extent of %s sectors", m[2])
			}
			if m[5] != "" {
				if e.Offset, err = strconv.ParseInt(m[5], 10, 64); err != nil || e.Offset < 0 || e.Offset > 1<<42 {
					return nil, corrupt(name, lineOff, "extent offset %s", m[5])
				}
			}
			if e.Type != "ZERO" && e.File == "" {
				return nil, corrupt(name, lineOff, "%s extent without a file", e.Type)
			}
			d.Extents = append(d.Extents, e)
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return nil, corrupt(name, lineOff, "descriptor line %q", line)
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		// Values are quoted, not escaped: a Windows path keeps its
		// backslashes ("C:\new\base.vmdk").
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		if strings.HasPrefix(strings.ToLower(key), "ddb.") {
			d.DDB = append(d.DDB, KeyValue{key, val})
			continue
		}
		lk := strings.ToLower(key)
		if seen[lk] {
			return nil, corrupt(name, lineOff, "descriptor key %s given twice", key)
		}
		seen[lk] = true
		switch lk {
		case "version":
			v, err := strconv.Atoi(val)
			if err != nil || v < 1 || v > 3 {
				return nil, fmt.Errorf("%w: descriptor version %q", ErrUnsupported, val)
			}
			d.Version = v
		case "encoding":
			d.Encoding = val
		case "cid":
			v, err := strconv.ParseUint(val, 16, 32)
			if err != nil {
				return nil, corrupt(name, lineOff, "CID %q", val)
			}
			d.CID = uint32(v)
		case "parentcid":
			v, err := strconv.ParseUint(val, 16, 32)
			if err != nil {
				return nil, corrupt(name, lineOff, "parentCID %q", val)
			}
			d.ParentCID = uint32(v)
		case "createtype":
			d.CreateType = val
		case "parentfilenamehint":
			d.ParentFileNameHint = val
		default:
			d.Header = append(d.Header, KeyValue{key, val})
		}
	}
	if d.CreateType == "" {
		return nil, corrupt(name, -1, "descriptor without createType")
	}
	if len(d.Extents) == 0 {
		return nil, corrupt(name, -1, "descriptor without extents")
	}
	return d, nil
}

// DDBValue returns the value of a disk database key ("ddb.adapterType"),
// compared without regard to case, or "".
func (d *Descriptor) DDBValue(key string) string {
	for _, kv := range d.DDB {
		if strings.EqualFold(kv.Key, key) {
			return kv.Value
		}
	}
	return ""
}

// SetDDB sets a disk database key, adding it when absent.
func (d *Descriptor) SetDDB(key, value string) {
	for i, kv := range d.DDB {
		if strings.EqualFold(kv.Key, key) {
			d.DDB[i].Value = value
			return
		}
	}
	d.DDB = append(d.DDB, KeyValue{key, value})
}

// Capacity returns the total size of the extents in sectors.
func (d *Descriptor) Capacity() int64 {
	var n int64
	for _, e := range d.Extents {
		n += e.Sectors
	}
	return n
}

// Bytes renders the descriptor as VMware and qemu write it: keys in
// canonical case with no spaces around '=' in the header (qemu finds them
// so), extents, then the disk database.
func (d *Descriptor) Bytes() []byte {
	var b strings.Builder
	b.WriteString("# Disk DescriptorFile\n")
	fmt.Fprintf(&b, "version=%d\n", d.Version)
	fmt.Fprintf(&b, "encoding=\"%s\"\n", d.Encoding)
	fmt.Fprintf(&b, "CID=%08x\n", d.CID)
	fmt.Fprintf(&b, "parentCID=%08x\n", d.ParentCID)
	for _, kv := range d.Header {
		fmt.Fprintf(&b, "%s=\"%s\"\n", kv.Key, kv.Value)
	}
	fmt.Fprintf(&b, "createType=\"%s\"\n", d.CreateType)
	if d.ParentFileNameHint != "" {
		fmt.Fprintf(&b, "parentFileNameHint=\"%s\"\n", d.ParentFileNameHint)
	}
	b.WriteString("\n# Extent description\n")
	for _, e := range d.Extents {
		fmt.Fprintf(&b, "%s %d %s", e.Access, e.Sectors, e.Type)
		if e.Type != "ZERO" || e.File != "" || e.Offset != 0 {
			fmt.Fprintf(&b, " \"%s\"", e.File)
			if e.Type == "FLAT" || e.Offset != 0 { // kept as read
				fmt.Fprintf(&b, " %d", e.Offset)
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\n# The Disk Data Base\n#DDB\n\n")
	for _, kv := range d.DDB {
		fmt.Fprintf(&b, "%s = \"%s\"\n", kv.Key, kv.Value)
	}
	return []byte(b.String())
}
