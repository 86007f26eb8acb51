package ntfs

import "encoding/binary"

// fixupStride is the span each update sequence number protects: always 512
// bytes, whatever the sector size.
const fixupStride = 512

// applyFixups checks and undoes the multi-sector protection of an MFT
// record, index block or restart page held in b (a private copy). The last
// two bytes of every 512-byte stride must equal the update sequence number;
// they are replaced with the saved values. off is b's offset in the
// volume, for errors; what names the structure.
func applyFixups(b []byte, off int64, what string) error {
	if len(b) < fixupStride || len(b)%fixupStride != 0 {
		return corrupt(off, "%s: size %d is not a multiple of %d", what, len(b), fixupStride)
	}
	usaOff := int(binary.LittleEndian.Uint16(b[4:]))
	usaCount := int(binary.LittleEndian.Uint16(b[6:]))
	strides := len(b) / fixupStride
	if usaCount != strides+1 {
		return corrupt(off+6, "%s: update sequence array of %d entries, want %d", what, usaCount, strides+1)
	}
	if usaOff < 8 || usaOff%2 != 0 || usaOff+2*usaCount > fixupStride-2 {
		return corrupt(off+4, "%s: update sequence array at 0x%x out of place", what, usaOff)
	}
	usn := b[usaOff : usaOff+2]
	for i := 0; i < strides; i++ {
		end := (i+1)*fixupStride - 2
		if b[end] != usn[0] || b[end+1] != usn[1] {
			return corrupt(off+int64(end), "%s: torn write: stride %d ends 0x%02x%02x, update sequence number 0x%02x%02x",
				what, i, b[end+1], b[end], usn[1], usn[0])
		}
	}
	for i := 0; i < strides; i++ {
		end := (i+1)*fixupStride - 2
		copy(b[end:end+2], b[usaOff+2+2*i:])
	}
	return nil
}
