package ntfs

import (
	"encoding/binary"
	"io/fs"
	"time"
)

// Times are the four time stamps of a file's $STANDARD_INFORMATION, those
// [FileStat] reports and Windows shows.
type Times struct {
	Created, Modified, Changed, Accessed time.Time
}

// SetTimes sets the $STANDARD_INFORMATION time stamps of the named file or
// directory; a zero field keeps that stamp. The copies in its $FILE_NAME
// attributes and index entries are left as they are: Windows, too,
// updates those only when a name changes. Restoring a file's times
// exactly (a backup put back, a boot hook removed) is what it is for.
func (v *Volume) SetTimes(name string, t Times) error {
	if v.w == nil {
		return &fs.PathError{Op: "settimes", Path: name, Err: errReadOnly}
	}
	n, err := v.resolve("settimes", name)
	if err != nil {
		return err
	}
	f := n.f
	si := f.rec.find(attrStandardInformation, "")
	if si == nil || !si.resident || len(si.value) < 0x20 {
		return &fs.PathError{Op: "settimes", Path: name, Err: corrupt(f.rec.off, "MFT record %d: no $STANDARD_INFORMATION in its base record", f.rec.num)}
	}
	val := append([]byte(nil), si.value...)
	for i, tm := range []time.Time{t.Created, t.Modified, t.Changed, t.Accessed} {
		if !tm.IsZero() {
			binary.LittleEndian.PutUint64(val[8*i:], toFiletime(tm))
		}
	}
	attrs := replaceAttr(f.rec, attrStandardInformation, "", encodeResident(attrStandardInformation, "", si.instance, val, false))
	if err := v.rewriteRecord(f.rec, attrs); err != nil {
		return &fs.PathError{Op: "settimes", Path: name, Err: err}
	}
	return nil
}
