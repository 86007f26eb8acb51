package ntfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// System compression ("Compact OS", `compact /exe`) is served by the
// Windows Overlay Filter (WOF) driver, not by NTFS. A system-compressed
// file has (facts from ntfs-3g-system-compression's system_compression.c,
// and Microsoft's WOF_FILE_COMPRESSION_INFO_V1 documentation for the
// algorithm numbers):
//
//   - a reparse point with tag IO_REPARSE_TAG_WOF (0x80000017) whose data
//     is WOF_EXTERNAL_INFO {version 1, provider} and, for the file provider
//     (2), WOF_FILE_PROVIDER_EXTERNAL_INFO_V1 {version 1, algorithm}:
//     0 XPRESS4K, 1 LZX, 2 XPRESS8K, 3 XPRESS16K (chunks of 4, 32, 8, 16
//     KiB). Provider 1 is WIMBoot: the data is in a WIM file elsewhere;
//   - a sparse unnamed $DATA whose size is the uncompressed size (its
//     contents, zeros, are a placeholder);
//   - a $DATA stream named WofCompressedData: a table of (chunks − 1)
//     little-endian offsets, 4 bytes each (8 when the uncompressed size is
//     4 GiB or more), chunk i+1 starting that many bytes after the table,
//     then the chunks. A chunk whose stored size equals its uncompressed
//     size (the chunk size, or what remains for the last) is stored raw.
const (
	reparseTagWOF     = 0x80000017
	wofStreamName     = "WofCompressedData"
	wofProviderWIM    = 1
	wofProviderFile   = 2
	wofReparseDataLen = 16 // WOF_EXTERNAL_INFO + WOF_FILE_PROVIDER_EXTERNAL_INFO_V1
)

// WOFAlgorithm is the compression of a system-compressed file.
type WOFAlgorithm uint32

// The algorithms of the WOF file provider.
const (
	WOFXpress4K  WOFAlgorithm = 0 // XPRESS Huffman, 4 KiB chunks
	WOFLZX       WOFAlgorithm = 1 // LZX, 32 KiB chunks
	WOFXpress8K  WOFAlgorithm = 2 // XPRESS Huffman, 8 KiB chunks
	WOFXpress16K WOFAlgorithm = 3 // XPRESS Huffman, 16 KiB chunks
)

// String returns the algorithm's name as compact.exe spells it.
func (a WOFAlgorithm) String() string {
	switch a {
	case WOFXpress4K:
		return "XPRESS4K"
	case WOFLZX:
		return "LZX"
	case WOFXpress8K:
		return "XPRESS8K"
	case WOFXpress16K:
		return "XPRESS16K"
	}
	return fmt.Sprintf("WOFAlgorithm(%d)", uint32(a))
}

// chunkSize returns the uncompressed chunk size, 0 for an unknown
// algorithm.
func (a WOFAlgorithm) chunkSize() int {
	switch a {
	case WOFXpress4K:
		return 4 << 10
	case WOFXpress8K:
		return 8 << 10
	case WOFXpress16K:
		return 16 << 10
	case WOFLZX:
		return 32 << 10
	}
	return 0
}

// SystemCompression describes a file the Windows Overlay Filter serves:
// a system-compressed file, or a WIMBoot file.
type SystemCompression struct {
	Provider       uint32       // 2: compressed file ("Compact OS"); 1: WIMBoot (data in a WIM file)
	Algorithm      WOFAlgorithm // for provider 2
	ChunkSize      int          // uncompressed bytes per chunk; 0 when the provider or algorithm is unknown
	CompressedSize int64        // size of the WofCompressedData stream, -1 if there is none
	// Supported tells whether this package reads the file's content.
	Supported bool
}

// wofInfo decodes a WOF reparse point, nil if f has none. A reparse point
// with the WOF tag but not a WOF layout is corrupt.
func (v *Volume) wofInfo(f *file) (*SystemCompression, error) {
	rp, err := v.reparse(f)
	if err != nil || rp == nil || rp.Tag != reparseTagWOF {
		return nil, err
	}
	b := rp.Data
	if len(b) < 16 || int(binary.LittleEndian.Uint16(b[4:])) < 8 {
		return nil, corrupt(-1, "MFT record %d: WOF reparse point of %d bytes", f.rec.num, len(b))
	}
	sc := &SystemCompression{Provider: binary.LittleEndian.Uint32(b[12:]), CompressedSize: -1}
	if ext := f.extents(attrData, wofStreamName); len(ext) > 0 {
		s, err := v.newStream(fmt.Sprintf("MFT record %d $DATA %s", f.rec.num, wofStreamName), ext)
		if err != nil {
			return nil, err
		}
		sc.CompressedSize = s.size
	}
	if sc.Provider != wofProviderFile || binary.LittleEndian.Uint32(b[8:]) != 1 || len(b) < 8+wofReparseDataLen {
		return sc, nil
	}
	if binary.LittleEndian.Uint32(b[16:]) != 1 {
		return sc, nil
	}
	sc.Algorithm = WOFAlgorithm(binary.LittleEndian.Uint32(b[20:]))
	sc.ChunkSize = sc.Algorithm.chunkSize()
	sc.Supported = sc.ChunkSize > 0 && sc.CompressedSize >= 0
	return sc, nil
}

// describeWOF names what of a WOF file this package cannot read.
func describeWOF(rec uint64, sc *SystemCompression, rp []byte) string {
	switch {
	case sc.Provider == wofProviderWIM:
		return fmt.Sprintf("MFT record %d: WIMBoot file (WOF provider 1): its data is in a WIM file outside the volume", rec)
	case sc.Provider != wofProviderFile:
		return fmt.Sprintf("MFT record %d: WOF provider %d", rec, sc.Provider)
	case binary.LittleEndian.Uint32(rp[8:]) != 1 || len(rp) < 8+wofReparseDataLen || binary.LittleEndian.Uint32(rp[16:]) != 1:
		return fmt.Sprintf("MFT record %d: WOF file provider of an unknown version", rec)
	case sc.ChunkSize == 0:
		return fmt.Sprintf("MFT record %d: system compression algorithm %d", rec, uint32(sc.Algorithm))
	}
	return fmt.Sprintf("MFT record %d: system-compressed file without a %s stream", rec, wofStreamName)
}

// wofData reads a system-compressed file's content through its chunks.
type wofData struct {
	what      string
	alg       WOFAlgorithm
	chunk     int64   // uncompressed chunk size
	size      int64   // uncompressed size
	chunks    int64   // number of chunks
	entry     int64   // bytes per chunk table entry
	table     int64   // chunk table size
	comp      *stream // the WofCompressedData stream
	unsupport error   // set when the file cannot be read
}

// openWOF returns the content of a WOF file as a stream whose reads go
// through the compressed chunks, or, when this package cannot read it, a
// stream whose reads fail with ErrUnsupported naming why. placeholder is
// the unnamed $DATA, whose size is the uncompressed size.
func (v *Volume) openWOF(f *file, sc *SystemCompression, placeholder *stream) (*stream, error) {
	out := &stream{v: v, what: placeholder.what, resident: true, size: placeholder.size,
		initSize: placeholder.size, allocSize: placeholder.allocSize}
	d := &wofData{what: fmt.Sprintf("MFT record %d %s", f.rec.num, wofStreamName), size: placeholder.size}
	out.wof = d
	if !sc.Supported {
		rp, err := v.reparse(f)
		if err != nil {
			return nil, err
		}
		d.unsupport = unsupported("%s", describeWOF(f.rec.num, sc, rp.Data))
		return out, nil
	}
	comp, err := v.stream(f, attrData, wofStreamName)
	if err != nil {
		return nil, err
	}
	if out.wof, err = newWOFData(d.what, comp, sc.Algorithm, d.size); err != nil {
		return nil, err
	}
	return out, nil
}

// newWOFData checks the chunk table of a WofCompressedData stream against
// the uncompressed size.
func newWOFData(what string, comp *stream, alg WOFAlgorithm, size int64) (*wofData, error) {
	d := &wofData{what: what, comp: comp, alg: alg, chunk: int64(alg.chunkSize()), size: size}
	if d.chunk == 0 {
		return nil, unsupported("%s: system compression algorithm %d", what, uint32(alg))
	}
	if d.size < 0 {
		return nil, corrupt(-1, "%s: negative uncompressed size %d", d.what, d.size)
	}
	d.chunks = (d.size + d.chunk - 1) / d.chunk
	d.entry = 4
	if d.size > 0xFFFFFFFF {
		d.entry = 8
	}
	if d.chunks > 0 {
		d.table = (d.chunks - 1) * d.entry
	}
	if d.table > comp.size {
		return nil, corrupt(comp.volumeOffset(0), "%s: chunk table of %d chunks (%d bytes) exceeds the %d-byte stream", d.what, d.chunks, d.table, comp.size)
	}
	return d, nil
}

// chunkAt returns where chunk i's stored bytes are in the compressed
// stream.
func (d *wofData) chunkAt(i int64) (start, end int64, err error) {
	var e [16]byte
	entry := func(k int64) (int64, error) { // offset of chunk k after the table
		if k == 0 {
			return 0, nil
		}
		if k == d.chunks {
			return d.comp.size - d.table, nil
		}
		p := e[:d.entry]
		if _, err := d.comp.ReadAt(p, (k-1)*d.entry); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if d.entry == 4 {
			return int64(binary.LittleEndian.Uint32(p)), nil
		}
		return int64(binary.LittleEndian.Uint64(p) & (1<<62 - 1)), nil
	}
	s, err := entry(i)
	if err != nil {
		return 0, 0, err
	}
	t, err := entry(i + 1)
	if err != nil {
		return 0, 0, err
	}
	if s > t || t > d.comp.size-d.table {
		return 0, 0, corrupt(d.comp.volumeOffset(max(i-1, 0)*d.entry), "%s: chunk %d at stream bytes %d-%d, outside the %d bytes after the chunk table", d.what, i, s, t, d.comp.size-d.table)
	}
	return d.table + s, d.table + t, nil
}

// readChunk decodes chunk i into dst, which holds its uncompressed size.
func (d *wofData) readChunk(i int64, dst, src []byte, h *huffman, lzx **lzxDecoder) error {
	start, end, err := d.chunkAt(i)
	if err != nil {
		return err
	}
	n := end - start
	if n > int64(len(dst)) {
		return corrupt(d.comp.volumeOffset(start), "%s: chunk %d stores %d bytes for %d", d.what, i, n, len(dst))
	}
	src = src[:n]
	if _, err := d.comp.ReadAt(src, start); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if n == int64(len(dst)) {
		copy(dst, src)
		return nil
	}
	if d.alg == WOFLZX {
		if *lzx == nil {
			*lzx = &lzxDecoder{}
		}
		err = (*lzx).decompress(dst, src)
	} else {
		err = decompressXpress(h, dst, src)
	}
	if err != nil {
		return &CorruptError{Offset: d.comp.volumeOffset(start),
			What: fmt.Sprintf("%s: %s chunk %d (stream bytes %d-%d)", d.what, d.alg, i, start, end), Err: err}
	}
	return nil
}

// readAt fills p from byte off of the uncompressed content; p lies within
// the content's size.
func (d *wofData) readAt(p []byte, off int64) error {
	if d.unsupport != nil {
		return d.unsupport
	}
	var (
		h   huffman
		lzx *lzxDecoder
		tmp []byte
		src = make([]byte, d.chunk)
	)
	for len(p) > 0 {
		i := off / d.chunk
		within := off - i*d.chunk
		clen := min(d.chunk, d.size-i*d.chunk)
		n := int(min(int64(len(p)), clen-within))
		dst, direct := p[:n], within == 0 && int64(n) == clen
		if !direct {
			if tmp == nil {
				tmp = make([]byte, d.chunk)
			}
			dst = tmp[:clen]
		}
		if err := d.readChunk(i, dst, src, &h, &lzx); err != nil {
			return err
		}
		if !direct {
			copy(p[:n], dst[within:])
		}
		p = p[n:]
		off += int64(n)
	}
	return nil
}
