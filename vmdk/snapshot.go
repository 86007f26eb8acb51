package vmdk

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Snapshot creates child, a new monolithicSparse delta disk over the disk
// at base, and returns it open for writing: reads fall through to base
// where the child has no grain, writes go to the child only. The child
// records base's content ID as its parentCID and base's path in
// parentFileNameHint, relative to the child's folder when both share a
// volume. base is only ever opened read-only; child must not exist.
func Snapshot(base, child string) (*Disk, error) {
	b, err := Open(base, nil)
	if err != nil {
		return nil, err
	}
	size, parent := b.Size(), b.Descriptor()
	b.Close()
	hint := base
	if ab, err := filepath.Abs(base); err == nil {
		hint = ab
		if ac, err := filepath.Abs(child); err == nil {
			if rel, err := filepath.Rel(filepath.Dir(ac), ab); err == nil {
				hint = rel
			}
		}
	}
	files, err := createDisk(child, MonolithicSparse, size, func(d *Descriptor) {
		d.ParentCID = parent.CID
		d.ParentFileNameHint = hint
		for _, kv := range parent.DDB {
			k := strings.ToLower(kv.Key)
			if k == "ddb.adaptertype" || strings.HasPrefix(k, "ddb.geometry.") || k == "ddb.virtualhwversion" {
				d.SetDDB(kv.Key, kv.Value)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	d, err := Open(child, &Options{Write: true})
	if err != nil {
		removeAll(files)
		return nil, fmt.Errorf("vmdk: snapshot %s: %w", child, err)
	}
	return d, nil
}
