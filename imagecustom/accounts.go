package imagecustom

import (
	"fmt"

	"github.com/imagecustom/go-imagecustom/imagecustom/sam"
)

// Accounts returns the local accounts of the install (see package
// [github.com/imagecustom/go-imagecustom/imagecustom/sam]): its SAM hive
// (HKEY_LOCAL_MACHINE\SAM), with the SYSTEM hive whose boot key decrypts
// the password hashes. Edits go to the registry's hives in memory; on a
// volume opened for writing, [Registry.Save] then writes them back and
// [Image.Commit] commits the image, through the journal as every write.
func (r *Registry) Accounts() (*sam.SAM, error) {
	samHive, _, _, err := r.Hive(`HKEY_LOCAL_MACHINE\SAM`)
	if err != nil {
		return nil, err
	}
	system, _, _, err := r.Hive(`HKEY_LOCAL_MACHINE\SYSTEM`)
	if err != nil {
		return nil, err
	}
	s, err := sam.Open(samHive, system)
	if err != nil {
		return nil, fmt.Errorf("HKEY_LOCAL_MACHINE\\SAM: %w", err)
	}
	return s, nil
}
