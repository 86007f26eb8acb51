package ntfs

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
)

// ProblemKind classifies a [Problem] found by [Check].
type ProblemKind int

// The kinds of problem [Check] reports. Each names one rule of NTFS's
// consistency; the Detail of the [Problem] says what broke it.
const (
	// RecordCorrupt: an MFT record in use does not parse — bad magic
	// ("BAAD" included), header, attribute layout, run list, or its own
	// number at 0x2C differs from its position.
	RecordCorrupt ProblemKind = iota + 1
	// Fixup: a multi-sector protected structure (MFT record or INDX
	// block) is torn: a 512-byte stride does not end with the update
	// sequence number, or the update sequence array is malformed.
	Fixup
	// RecordBitmapMismatch: $MFT's $BITMAP bit of a record disagrees with
	// the in-use flag of its header, or the bitmap is too short.
	RecordBitmapMismatch
	// ClusterNotMarked: a cluster some attribute's runs use is clear in
	// $Bitmap.
	ClusterNotMarked
	// ClusterLeaked: a cluster set in $Bitmap is used by no attribute.
	ClusterLeaked
	// ClusterDoublyAllocated: the runs of two attributes (or two runs of
	// one) share clusters.
	ClusterDoublyAllocated
	// ClusterOutOfRange: a run goes past the volume's last cluster, or
	// $Bitmap is shorter than the volume or its bits past the last cluster
	// are not set.
	ClusterOutOfRange
	// AttributeCorrupt: an attribute breaks a rule beyond the parser's:
	// a resident-only type stored non-resident (or $INDEX_ALLOCATION
	// resident), sizes that disagree with each other or with the runs,
	// extents that do not chain, a base record without
	// $STANDARD_INFORMATION, an unreadable $FILE_NAME.
	AttributeCorrupt
	// AttributeInstance: two attributes of one record share an instance
	// number, or one has an instance not below the record's next
	// attribute instance.
	AttributeInstance
	// AttributeList: an $ATTRIBUTE_LIST entry names an attribute or
	// extension record that does not exist or does not belong to the
	// file, an attribute of the file is not listed, or an extension
	// record belongs to no base record's list.
	AttributeList
	// LinkCount: the link count of a record's header differs from its
	// number of $FILE_NAME attributes (a Win32 and DOS pair counting 2).
	LinkCount
	// DirectoryFlag: a record's directory flag disagrees with its having
	// an $I30 index root, or a $FILE_NAME's directory bit disagrees with
	// the record.
	DirectoryFlag
	// IndexCorrupt: an index (a directory's $I30 or $Secure's $SII) is
	// malformed: root, INDX magic, own VCN, node sizes, entries, child
	// pointers, loops, depth, leaves at different depths.
	IndexCorrupt
	// IndexBitmap: an index block in use is clear in the index's $BITMAP,
	// or a block marked there is not part of the tree.
	IndexBitmap
	// IndexOrder: index entries are not in collation order ($UpCase
	// file-name order for $I30, numeric for $SII).
	IndexOrder
	// IndexDuplicateName: one directory indexes two names equal ignoring
	// case (outside the POSIX namespace, where case distinguishes names).
	IndexDuplicateName
	// IndexDangling: an index entry points to a record that is free, an
	// extension record, past the end of $MFT, or has another sequence
	// number.
	IndexDangling
	// IndexNameMismatch: an index entry's key is not one of its target's
	// $FILE_NAME attributes (same parent, name and namespace).
	IndexNameMismatch
	// NameNotIndexed: a $FILE_NAME of a file in use is missing from its
	// parent directory's index.
	NameNotIndexed
	// NameIndexedTwice: a $FILE_NAME is indexed more than once in its
	// parent directory.
	NameIndexedTwice
	// NameParentInvalid: a $FILE_NAME's parent is not a directory in use
	// with the sequence number the reference has.
	NameParentInvalid
	// MirrorMismatch: $MFTMirr differs from the first records of $MFT, or
	// is not where the boot sector says.
	MirrorMismatch
	// SecurityIDMissing: a $STANDARD_INFORMATION security_id is not in
	// $Secure's $SII index.
	SecurityIDMissing
	// ReparseIndex: a file's reparse point is missing from the $R index of
	// $Extend\$Reparse, an $R entry names a file that does not have that
	// reparse point (free, other sequence number, other tag), $R is out of
	// order, or the file's reparse attribute bit disagrees with its having
	// a reparse point.
	ReparseIndex
	// WOFStreams: a system-compressed (WOF) file lacks its
	// unnamed $DATA or its WofCompressedData stream, or the stream's
	// chunk table does not fit it.
	WOFStreams
)

var problemKindNames = [...]string{
	RecordCorrupt:          "record-corrupt",
	Fixup:                  "fixup",
	RecordBitmapMismatch:   "record-bitmap-mismatch",
	ClusterNotMarked:       "cluster-not-marked",
	ClusterLeaked:          "cluster-leaked",
	ClusterDoublyAllocated: "cluster-doubly-allocated",
	ClusterOutOfRange:      "cluster-out-of-range",
	AttributeCorrupt:       "attribute-corrupt",
	AttributeInstance:      "attribute-instance",
	AttributeList:          "attribute-list",
	LinkCount:              "link-count",
	DirectoryFlag:          "directory-flag",
	IndexCorrupt:           "index-corrupt",
	IndexBitmap:            "index-bitmap",
	IndexOrder:             "index-order",
	IndexDuplicateName:     "index-duplicate-name",
	IndexDangling:          "index-dangling",
	IndexNameMismatch:      "index-name-mismatch",
	NameNotIndexed:         "name-not-indexed",
	NameIndexedTwice:       "name-indexed-twice",
	NameParentInvalid:      "name-parent-invalid",
	MirrorMismatch:         "mirror-mismatch",
	SecurityIDMissing:      "security-id-missing",
	ReparseIndex:           "reparse-index",
	WOFStreams:             "wof-streams",
}

// String returns the kind's name, e.g. "cluster-leaked".
func (k ProblemKind) String() string {
	if k > 0 && int(k) < len(problemKindNames) {
		return problemKindNames[k]
	}
	return fmt.Sprintf("ProblemKind(%d)", int(k))
}

// Problem is one inconsistency [Check] found.
type Problem struct {
	Kind   ProblemKind
	Record int64  // MFT record concerned, -1 if none
	Offset int64  // byte offset in the volume of the faulty structure, -1 if none
	Detail string // what is wrong and where, for people
}

// String formats the problem on one line: kind, record, offset, detail.
func (p Problem) String() string {
	s := p.Kind.String()
	if p.Record >= 0 {
		s += fmt.Sprintf(" record %d", p.Record)
	}
	if p.Offset >= 0 {
		s += fmt.Sprintf(" at 0x%x", p.Offset)
	}
	return s + ": " + p.Detail
}

// CheckOptions tunes [Check]. A nil *CheckOptions checks silently.
type CheckOptions struct {
	// Progress, when set, is called now and then from Check's goroutine
	// with the MFT records examined so far and their total.
	Progress func(done, total int64)
	// Logger, when set, receives a debug message as each phase starts.
	Logger *slog.Logger
}

// Check verifies the consistency of the volume as chkdsk and ntfs-3g's
// checks understand it, and returns every problem found, nil for a clean
// volume. It reads only; err reports failures to read at all (device
// errors, or ctx being done), never inconsistencies.
//
// It checks:
//   - every MFT record in use has good fixups and parses, and its $MFT
//     $BITMAP bit matches its in-use flag;
//   - $Bitmap is exactly the union of the runs of every non-resident
//     attribute of every record in use (base and extension records), no
//     cluster used twice, and its bits past the last cluster are set;
//   - every directory's $I30: INDX fixups, own VCN and sizes, the index
//     $BITMAP, $UpCase collation order without names equal ignoring case
//     (POSIX names excepted), each entry pointing to a base record in use
//     with its sequence number and one of its $FILE_NAMEs; conversely each
//     $FILE_NAME of each file in use is indexed once in its parent, and
//     the directory flag matches the $I30 root;
//   - link counts, $MFTMirr, security ids against $Secure's $SII, and
//     attribute sanity: sizes, instances, resident-only types, extents,
//     $ATTRIBUTE_LIST entries.
//
// A problem that makes later checks unreliable silences their echoes
// rather than reporting one corruption many times: the clusters of a
// record that cannot be parsed are unknown, so no cluster is reported
// leaked while such a record exists; the names of a directory whose index
// could not be walked whole are not reported missing from it.
//
// Memory grows with the volume's metadata, not its size: a few bytes per
// MFT record, the names of files in use, one entry per run of every
// non-resident attribute (so no per-cluster structure), and a fixed 1 MiB
// window onto $Bitmap. Time is linear in the metadata plus one pass over
// $Bitmap.
//
// Check reads through v like any reader and is safe to run concurrently
// with other reads; the volume must not be written meanwhile.
func Check(ctx context.Context, v *Volume, opts *CheckOptions) ([]Problem, error) {
	if opts == nil {
		opts = &CheckOptions{}
	}
	c := &checker{v: v, ctx: ctx, opts: opts, listed: map[uint64]uint64{}, partialIndex: map[uint64]bool{}}
	phases := []struct {
		name string
		run  func() error
	}{
		{"$Secure $SII", c.loadSecurity},
		{"MFT records", c.scanMFT},
		{"extension records", c.checkExtensions},
		{"clusters", c.checkClusters},
		{"directory indexes", c.checkIndexes},
		{"names", c.checkNames},
		{"$MFTMirr", c.checkMirror},
		{"$Extend\\$Reparse", c.checkReparseIndex},
	}
	for _, ph := range phases {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("ntfs: check: %w", err)
		}
		if opts.Logger != nil {
			opts.Logger.Debug("ntfs check", "phase", ph.name, "problems", len(c.problems))
		}
		if err := ph.run(); err != nil {
			return nil, fmt.Errorf("ntfs: check %s: %w", ph.name, err)
		}
	}
	return c.problems, nil
}

// Record states of the checker, one byte per MFT record.
const (
	stInUse   = 1 << iota // the header's in-use flag is set (and the magic is FILE)
	stBase                // a base record (else an extension record)
	stBad                 // in use but unreadable: its content is unknown
	stDir                 // a base record with an $I30 index root
	stPartial             // a base record whose attributes could not all be gathered
)

// checker holds the state of one Check run.
type checker struct {
	v        *Volume
	ctx      context.Context
	opts     *CheckOptions
	problems []Problem

	n         uint64   // records examined: $MFT's, bounded by the volume's size
	state     []uint8  // per record: st* bits
	seq       []uint16 // per record: sequence number
	extBase   []fileRef
	extRecs   []uint64          // extension records in use, in order
	listed    map[uint64]uint64 // extension record → the base whose list names it
	names     []nameSlot        // $FILE_NAMEs of base records, by record
	nameStart []int32           // per record (and one past): first index in names
	claims    []claim
	dirs      []uint64 // base records with an $I30 root

	unreadable   bool            // some record in use could not be parsed
	partialIndex map[uint64]bool // directories whose $I30 could not be walked whole

	reparse []reparseFile // base records with a reparse point

	secIDs []uint32 // $SII keys, ascending
	secOK  bool     // secIDs is complete
	secWhy string   // why not, when !secOK
}

// nameSlot is one $FILE_NAME of a base record in use.
type nameSlot struct {
	rec    uint64
	parent fileRef
	ns     uint8
	attrs  uint32
	name   []uint16
	off    int64 // the attribute's offset, for reports
	found  int32 // times its parent's index holds it
}

// claim is one run of clusters an attribute uses.
type claim struct {
	lcn, n int64
	rec    uint64
	typ    uint32
	name   string
}

func (c *checker) report(kind ProblemKind, rec int64, off int64, format string, args ...any) {
	c.problems = append(c.problems, Problem{Kind: kind, Record: rec, Offset: off, Detail: fmt.Sprintf(format, args...)})
}

// reportErr reports a corruption error as a problem of kind, at the
// error's offset, and returns nil; any other error (a failing device) is
// returned.
func (c *checker) reportErr(kind ProblemKind, rec int64, err error) error {
	var ce *CorruptError
	if errors.As(err, &ce) {
		c.report(kind, rec, ce.Offset, "%s", ce.What)
		return nil
	}
	if errors.Is(err, ErrCorrupt) {
		c.report(kind, rec, -1, "%v", err)
		return nil
	}
	// A feature this package cannot read (an encrypted or compressed
	// stream) where NTFS's own metadata must be plain is a corruption too,
	// and so is a directory without its index.
	if errors.Is(err, ErrUnsupported) || errors.Is(err, errNotDir) {
		c.report(kind, rec, -1, "%v", err)
		return nil
	}
	return err
}

var attrTypeNames = map[uint32]string{
	attrStandardInformation: "$STANDARD_INFORMATION", attrAttributeList: "$ATTRIBUTE_LIST",
	attrFileName: "$FILE_NAME", attrObjectID: "$OBJECT_ID", attrSecurityDescriptor: "$SECURITY_DESCRIPTOR",
	attrVolumeName: "$VOLUME_NAME", attrVolumeInformation: "$VOLUME_INFORMATION", attrData: "$DATA",
	attrIndexRoot: "$INDEX_ROOT", attrIndexAllocation: "$INDEX_ALLOCATION", attrBitmap: "$BITMAP",
	attrReparsePoint: "$REPARSE_POINT", 0xD0: "$EA_INFORMATION", 0xE0: "$EA", 0x100: "$LOGGED_UTILITY_STREAM",
}

// attrWhat names an attribute in messages: "$DATA", "$I30 $INDEX_ROOT",
// or the type in hex when it is not one NTFS defines.
func attrWhat(typ uint32, name string) string {
	s, ok := attrTypeNames[typ]
	if !ok {
		s = fmt.Sprintf("attribute 0x%x", typ)
	}
	if name != "" {
		s = name + " " + s
	}
	return s
}

// ---------------------------------------------------------------------------
// MFT records

// recordChunk is how many bytes of $MFT the scan reads at once.
const recordChunk = 256 << 10

// scanMFT reads every record of $MFT in order: fixups, parsing, the $MFT
// bitmap, and, for records in use, their attributes, clusters and names.
func (c *checker) scanMFT() error {
	v := c.v
	rs := int64(v.boot.recordSize)
	// No volume holds more records than fit in it: this bounds the scan
	// of a $MFT whose sizes claim more.
	c.n = min(v.nrecs, uint64(v.boot.clusters()*v.boot.clusterSize/rs))
	if c.n < v.nrecs {
		c.report(AttributeCorrupt, recMFT, -1, "$MFT: %d records of %d bytes do not fit in the volume; checking the first %d", v.nrecs, rs, c.n)
	}
	c.state = make([]uint8, c.n)
	c.seq = make([]uint16, c.n)
	c.nameStart = make([]int32, c.n+1)

	bitmap, err := c.mftBitmap()
	if err != nil {
		return err
	}
	perChunk := max(recordChunk/rs, 1)
	buf := make([]byte, perChunk*rs)
	for first := uint64(0); first < c.n; first += uint64(perChunk) {
		if err := c.ctx.Err(); err != nil {
			return err
		}
		if c.opts.Progress != nil {
			c.opts.Progress(int64(first), int64(c.n))
		}
		k := min(uint64(perChunk), c.n-first)
		chunk := buf[:int64(k)*rs]
		if _, err := v.mft.ReadAt(chunk, int64(first)*rs); err != nil && !errors.Is(err, io.EOF) {
			if !errors.Is(err, ErrCorrupt) {
				return fmt.Errorf("read $MFT: %w", err)
			}
			// Read record by record to find which are unreadable.
			for i := uint64(0); i < k; i++ {
				b := chunk[int64(i)*rs : int64(i+1)*rs]
				if _, err := v.mft.ReadAt(b, int64(first+i)*rs); err != nil && !errors.Is(err, io.EOF) {
					if err := c.reportErr(RecordCorrupt, int64(first+i), err); err != nil {
						return err
					}
					clear(b)
				}
			}
		}
		for i := uint64(0); i < k; i++ {
			num := first + i
			c.nameStart[num] = int32(len(c.names))
			if err := c.scanRecord(num, chunk[int64(i)*rs:int64(i+1)*rs], bitmap); err != nil {
				return err
			}
		}
	}
	c.nameStart[c.n] = int32(len(c.names))
	if c.opts.Progress != nil {
		c.opts.Progress(int64(c.n), int64(c.n))
	}
	// Records past the end of $MFT must not be marked in use.
	for num := c.n; num < uint64(len(bitmap))*8; num++ {
		if num >= v.nrecs && bitSet(bitmap, int64(num)) {
			c.report(RecordBitmapMismatch, int64(num), -1, "$MFT $BITMAP marks record %d in use, past the %d records of $MFT", num, v.nrecs)
		}
	}
	return nil
}

// mftBitmap reads $MFT's $BITMAP (the first bytes that cover its records,
// plus any bytes past them up to 8-byte alignment and a little slack).
func (c *checker) mftBitmap() ([]byte, error) {
	f, err := c.v.loadFile(recMFT)
	if err != nil {
		return nil, c.reportErr(RecordCorrupt, recMFT, err)
	}
	s, err := c.v.stream(f, attrBitmap, "")
	if err != nil {
		if errors.Is(err, errNoAttribute) {
			c.report(RecordBitmapMismatch, recMFT, f.rec.off, "$MFT has no $BITMAP")
			return nil, nil
		}
		return nil, c.reportErr(AttributeCorrupt, recMFT, err)
	}
	need := int64((c.v.nrecs + 7) / 8)
	if s.size < need {
		c.report(RecordBitmapMismatch, recMFT, -1, "$MFT $BITMAP of %d bytes covers %d records of %d", s.size, s.size*8, c.v.nrecs)
	}
	b := make([]byte, min(s.size, need+4096))
	if _, err := s.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, c.reportErr(AttributeCorrupt, recMFT, err)
	}
	return b, nil
}

func bitSet(b []byte, i int64) bool {
	return i>>3 < int64(len(b)) && b[i>>3]&(1<<(i&7)) != 0
}

// scanRecord checks record num, whose raw bytes (fixups not applied) are b.
func (c *checker) scanRecord(num uint64, b []byte, bitmap []byte) error {
	v := c.v
	off := v.mft.volumeOffset(int64(num) * int64(v.boot.recordSize))
	marked := bitSet(bitmap, int64(num))
	if bitmap == nil {
		marked = binary.LittleEndian.Uint16(b[0x16:])&recordInUse != 0 // no bitmap: reported once
	}
	magic := string(b[:4])
	inUse := magic == "FILE" && binary.LittleEndian.Uint16(b[0x16:])&recordInUse != 0
	c.seq[num] = binary.LittleEndian.Uint16(b[0x10:])
	if !inUse {
		switch {
		case !marked:
		case magic == "FILE" || magic == "\x00\x00\x00\x00":
			c.report(RecordBitmapMismatch, int64(num), off, "$MFT $BITMAP marks record %d in use, its header does not", num)
		default:
			c.report(RecordCorrupt, int64(num), off, "MFT record %d, marked in use in $MFT $BITMAP: magic %q, want FILE", num, magic)
			c.state[num] = stInUse | stBad
			c.unreadable = true
		}
		return nil
	}
	if !marked {
		c.report(RecordBitmapMismatch, int64(num), off, "MFT record %d in use, clear in $MFT $BITMAP", num)
	}
	c.state[num] = stInUse
	what := fmt.Sprintf("MFT record %d", num)
	if err := applyFixups(b, off, what); err != nil {
		c.state[num] |= stBad
		c.unreadable = true
		return c.reportErr(Fixup, int64(num), err)
	}
	r, err := parseRecord(b, num, off)
	if err == nil {
		if usa := binary.LittleEndian.Uint16(b[4:]); usa >= 0x30 {
			if own := binary.LittleEndian.Uint32(b[0x2C:]); own != uint32(num) {
				err = corrupt(off+0x2C, "%s: says it is record %d", what, own)
			}
		}
	}
	if err != nil {
		c.state[num] |= stBad
		c.unreadable = true
		return c.reportErr(RecordCorrupt, int64(num), err)
	}
	c.checkRecordAttrs(r)
	if r.base != 0 {
		c.extRecs = append(c.extRecs, num)
		c.extBase = append(c.extBase, r.base)
		return nil
	}
	c.state[num] |= stBase
	return c.checkFile(r)
}

// resident-only and never-resident attribute types ($AttrDef flags of
// Windows and mkntfs).
var residentOnly = map[uint32]bool{
	attrStandardInformation: true, attrFileName: true, attrObjectID: true,
	attrVolumeName: true, attrVolumeInformation: true, attrIndexRoot: true,
}

// checkRecordAttrs checks what concerns one record's own attributes:
// instances, residency, and the clusters of its runs (recorded as claims).
func (c *checker) checkRecordAttrs(r *record) {
	next := binary.LittleEndian.Uint16(r.buf[0x28:])
	clusters := c.v.boot.clusters()
	for i, a := range r.attrs {
		what := func() string { return attrWhat(a.typ, a.name) }
		for _, b := range r.attrs[:i] {
			if b.instance == a.instance {
				c.report(AttributeInstance, int64(r.num), a.off, "MFT record %d: %s has instance %d, as an attribute before it", r.num, what(), a.instance)
				break
			}
		}
		if a.instance >= next {
			c.report(AttributeInstance, int64(r.num), a.off, "MFT record %d: %s has instance %d, next attribute instance is %d", r.num, what(), a.instance, next)
		}
		if !a.resident && residentOnly[a.typ] {
			c.report(AttributeCorrupt, int64(r.num), a.off, "MFT record %d: %s is non-resident", r.num, what())
		}
		if a.resident && a.typ == attrIndexAllocation {
			c.report(AttributeCorrupt, int64(r.num), a.off, "MFT record %d: %s is resident", r.num, what())
		}
		for _, run := range a.runs {
			if run.lcn == sparseLCN {
				continue
			}
			n := run.length
			if run.lcn+n > clusters {
				c.report(ClusterOutOfRange, int64(r.num), a.off, "MFT record %d: %s: run of %d clusters at cluster %d passes the volume's last cluster %d",
					r.num, what(), run.length, run.lcn, clusters-1)
				n = max(clusters-run.lcn, 0)
			}
			if n > 0 {
				c.claims = append(c.claims, claim{lcn: run.lcn, n: n, rec: r.num, typ: a.typ, name: a.name})
			}
		}
	}
}

// checkFile checks a base record in use with every attribute of the file:
// attribute list, sizes, link count, directory flag, names, security id.
func (c *checker) checkFile(r *record) error {
	num := r.num
	attrs, complete, err := c.gather(r)
	if err != nil {
		return err
	}
	if !complete {
		c.state[num] |= stPartial
	}
	var (
		si        *attribute
		hasI30    bool
		fileNames int
	)
	type key struct {
		typ  uint32
		name string
	}
	groups := map[key][]*attribute{}
	var order []key
	for _, a := range attrs {
		switch a.typ {
		case attrStandardInformation:
			if si == nil {
				si = a
			}
		case attrIndexRoot:
			hasI30 = hasI30 || a.name == "$I30"
		case attrFileName:
			fileNames++
			c.addName(r, a)
		}
		if !a.resident {
			k := key{a.typ, a.name}
			if groups[k] == nil {
				order = append(order, k)
			}
			groups[k] = append(groups[k], a)
		}
	}
	for _, k := range order {
		c.checkExtents(r, groups[k])
	}
	// Only one unnamed or same-named resident attribute of a type may
	// exist, FILE_NAME aside (one per link).
	dup := map[key]bool{}
	for _, a := range attrs {
		if a.typ == attrFileName || !a.resident {
			continue
		}
		k := key{a.typ, a.name}
		if dup[k] || groups[k] != nil {
			c.report(AttributeCorrupt, int64(num), a.off, "MFT record %d: a second %s", num, attrWhat(a.typ, a.name))
		}
		dup[k] = true
	}
	if si == nil {
		c.report(AttributeCorrupt, int64(num), r.off, "MFT record %d: base record without $STANDARD_INFORMATION", num)
	} else if si.rec != num {
		c.report(AttributeCorrupt, int64(num), si.off, "MFT record %d: $STANDARD_INFORMATION in extension record %d", num, si.rec)
	} else if std, err := parseStandardInformation(si.value, si.off); err != nil {
		if err := c.reportErr(AttributeCorrupt, int64(num), err); err != nil {
			return err
		}
	} else {
		if std.securityID != 0 {
			c.checkSecurityID(r, si, std.securityID)
		}
		c.checkReparse(r, attrs, std.attrs, complete)
	}
	isDir := r.flags&recordDirectory != 0
	if isDir != hasI30 {
		if isDir {
			c.report(DirectoryFlag, int64(num), r.off+0x16, "MFT record %d: directory flag set, no $I30 index root", num)
		} else {
			c.report(DirectoryFlag, int64(num), r.off+0x16, "MFT record %d: $I30 index root, directory flag clear", num)
		}
	}
	for i := c.nameStart[num]; i < int32(len(c.names)); i++ {
		if s := &c.names[i]; s.attrs&fileAttrDirectory != 0 != hasI30 {
			c.report(DirectoryFlag, int64(num), s.off, "MFT record %d: $FILE_NAME %q: directory bit %v, $I30 index root %v",
				num, nameString(s.name), !hasI30, hasI30)
		}
	}
	if hasI30 {
		c.state[num] |= stDir
		c.dirs = append(c.dirs, num)
	}
	if complete && int(r.links) != fileNames {
		c.report(LinkCount, int64(num), r.off+0x12, "MFT record %d: link count %d, %d $FILE_NAME attributes", num, r.links, fileNames)
	}
	return nil
}

// addName records a $FILE_NAME of a base record.
func (c *checker) addName(r *record, a *attribute) {
	if !a.resident {
		return // reported as resident-only
	}
	fn, err := parseFileName(a.value, a.off)
	if err != nil {
		_ = c.reportErr(AttributeCorrupt, int64(r.num), err)
		return
	}
	if fn.namespace > namespaceWin32DOS {
		c.report(AttributeCorrupt, int64(r.num), a.off, "MFT record %d: $FILE_NAME %q in namespace %d", r.num, fn.String(), fn.namespace)
	}
	if len(fn.name) == 0 {
		c.report(AttributeCorrupt, int64(r.num), a.off, "MFT record %d: empty $FILE_NAME", r.num)
	}
	c.names = append(c.names, nameSlot{rec: r.num, parent: fn.parent, ns: fn.namespace, attrs: fn.attrs, name: fn.name, off: a.off})
}

// gather returns every attribute of the file whose base record is r,
// following and checking its $ATTRIBUTE_LIST. complete is false when some
// listed extension record cannot be read (its own scan reports why) or
// the list itself is unreadable.
func (c *checker) gather(r *record) (attrs []*attribute, complete bool, err error) {
	num := int64(r.num)
	list := r.find(attrAttributeList, "")
	if list == nil {
		return r.attrs, true, nil
	}
	s, err := c.v.newStream(fmt.Sprintf("MFT record %d $ATTRIBUTE_LIST", r.num), []*attribute{list})
	if err != nil {
		return r.attrs, false, c.reportErr(AttributeList, num, err)
	}
	if s.size > maxAttrListSize {
		c.report(AttributeList, num, list.off, "MFT record %d: attribute list of %d bytes", r.num, s.size)
		return r.attrs, false, nil
	}
	b := make([]byte, s.size)
	if _, err := s.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return r.attrs, false, c.reportErr(AttributeList, num, err)
	}
	complete = true
	ext := map[uint64]*record{r.num: r}
	bad := map[uint64]bool{}
	used := map[*attribute]bool{list: true}
	attrs = append(attrs, r.attrs...)
	for p := 0; p < len(b); {
		if p+0x1A > len(b) {
			c.report(AttributeList, num, list.off, "MFT record %d: attribute list entry at %d overruns the list", r.num, p)
			return attrs, false, nil
		}
		n := int(binary.LittleEndian.Uint16(b[p+4:]))
		if n < 0x1A || n%8 != 0 || p+n > len(b) {
			c.report(AttributeList, num, list.off, "MFT record %d: attribute list entry at %d of length %d", r.num, p, n)
			return attrs, false, nil
		}
		typ := binary.LittleEndian.Uint32(b[p:])
		nameLen, nameOff := int(b[p+6]), int(b[p+7])
		lowVCN := int64(binary.LittleEndian.Uint64(b[p+8:]))
		ref := fileRef(binary.LittleEndian.Uint64(b[p+0x10:]))
		instance := binary.LittleEndian.Uint16(b[p+0x18:])
		name := ""
		if nameLen > 0 {
			if nameOff+2*nameLen > n {
				c.report(AttributeList, num, list.off, "MFT record %d: attribute list entry at %d: name overruns it", r.num, p)
				return attrs, false, nil
			}
			name = decodeUTF16(b[p+nameOff : p+nameOff+2*nameLen])
		}
		entry := fmt.Sprintf("attribute list entry %s instance %d in record %d", attrWhat(typ, name), instance, ref.record())
		p += n
		x, ok := ext[ref.record()]
		if !ok {
			rn := ref.record()
			if bad[rn] {
				continue
			}
			if rn >= c.v.nrecs {
				c.report(AttributeList, num, list.off, "MFT record %d: %s: past the end of $MFT", r.num, entry)
				bad[rn] = true
				continue
			}
			x, err = c.v.readRecord(rn)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					return nil, false, err
				}
				// Reported by the record's own scan (if in use).
				complete = false
				bad[rn] = true
				if rn < c.n && c.state[rn]&stBad == 0 && rn < r.num {
					_ = c.reportErr(AttributeList, num, err)
				}
				continue
			}
			if x.flags&recordInUse == 0 || x.base.record() != r.num || x.base.seq() != r.seq || x.seq != ref.seq() {
				c.report(AttributeList, num, list.off, "MFT record %d: %s: record %d is not its extension record (in use %v, base %d seq %d, seq %d)",
					r.num, entry, rn, x.flags&recordInUse != 0, x.base.record(), x.base.seq(), x.seq)
				bad[rn] = true
				complete = false
				continue
			}
			ext[rn] = x
			c.listed[rn] = r.num
			attrs = append(attrs, x.attrs...)
		}
		var found *attribute
		for _, a := range x.attrs {
			if a.typ == typ && a.instance == instance {
				found = a
				break
			}
		}
		switch {
		case found == nil:
			c.report(AttributeList, num, list.off, "MFT record %d: %s: no such attribute", r.num, entry)
		case found.name != name:
			c.report(AttributeList, num, found.off, "MFT record %d: %s: the attribute is named %q", r.num, entry, found.name)
		case !found.resident && found.lowVCN != lowVCN || found.resident && lowVCN != 0:
			c.report(AttributeList, num, found.off, "MFT record %d: %s: lowest VCN %d, the attribute has %d", r.num, entry, lowVCN, found.lowVCN)
		case used[found]:
			c.report(AttributeList, num, found.off, "MFT record %d: %s: listed twice", r.num, entry)
		}
		if found != nil {
			used[found] = true
		}
	}
	for _, a := range attrs {
		if !used[a] {
			c.report(AttributeList, num, a.off, "MFT record %d: %s instance %d of record %d is not in the attribute list", r.num, attrWhat(a.typ, a.name), a.instance, a.rec)
		}
	}
	return attrs, complete, nil
}

// checkExtents checks the extents of one non-resident attribute of a
// file: they chain, and the sizes of the first agree with the runs.
func (c *checker) checkExtents(r *record, extents []*attribute) {
	first := extents[0]
	what := fmt.Sprintf("MFT record %d %s", r.num, attrWhat(first.typ, first.name))
	for _, e := range extents {
		if e.resident {
			c.report(AttributeCorrupt, int64(r.num), e.off, "%s: resident and non-resident extents", what)
			return
		}
	}
	sorted := slices.Clone(extents)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].lowVCN < sorted[j].lowVCN })
	first = sorted[0]
	next := int64(0)
	var stored int64 // clusters on disk
	for _, e := range sorted {
		if e.lowVCN != next {
			c.report(AttributeCorrupt, int64(r.num), e.off, "%s: extent starts at VCN %d, want %d", what, e.lowVCN, next)
			return
		}
		for _, run := range e.runs {
			if run.lcn != sparseLCN {
				stored += run.length
			}
		}
		next = e.highVCN + 1
	}
	cs := c.v.boot.clusterSize
	compressed := first.flags&attrFlagCompressed != 0
	switch {
	case first.allocSize != next*cs:
		c.report(AttributeCorrupt, int64(r.num), first.off, "%s: allocated size %d, runs cover %d bytes", what, first.allocSize, next*cs)
	case !compressed && first.dataSize > first.allocSize:
		c.report(AttributeCorrupt, int64(r.num), first.off, "%s: data size %d over allocated size %d", what, first.dataSize, first.allocSize)
	case first.initSize > first.dataSize:
		c.report(AttributeCorrupt, int64(r.num), first.off, "%s: initialized size %d over data size %d", what, first.initSize, first.dataSize)
	case compressed && first.compUnit == 0:
		c.report(AttributeCorrupt, int64(r.num), first.off, "%s: compressed without a compression unit", what)
	}
	// Compressed and sparse attributes carry the bytes actually stored.
	if first.flags&(attrFlagCompressed|attrFlagSparse) != 0 {
		if hdr := c.attrBytes(r, first); len(hdr) >= 0x48 && int(binary.LittleEndian.Uint16(hdr[0x20:])) >= 0x48 {
			if got := int64(binary.LittleEndian.Uint64(hdr[0x40:])); got != stored*cs {
				c.report(AttributeCorrupt, int64(r.num), first.off, "%s: compressed size %d, runs store %d bytes", what, got, stored*cs)
			}
		}
	}
}

// checkExtensions checks that every extension record in use belongs to an
// in-use base record whose attribute list names it.
func (c *checker) checkExtensions() error {
	for i, num := range c.extRecs {
		base := c.extBase[i]
		b := base.record()
		switch {
		case b >= c.n || c.state[b]&stInUse == 0:
			c.report(AttributeList, int64(num), -1, "extension record %d of record %d, which is not in use", num, b)
		case c.state[b]&stBad != 0:
		case c.state[b]&stBase == 0:
			c.report(AttributeList, int64(num), -1, "extension record %d of record %d, itself an extension record", num, b)
		case base.seq() != c.seq[b]:
			c.report(AttributeList, int64(num), -1, "extension record %d of record %d with sequence number %d, the record has %d", num, b, base.seq(), c.seq[b])
		case c.state[b]&stPartial != 0:
		default:
			if owner, ok := c.listed[num]; !ok || owner != b {
				c.report(AttributeList, int64(num), -1, "extension record %d of record %d is not in its attribute list", num, b)
			}
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Clusters

// bitmapChunk is the window of $Bitmap compared at once: 8 Mi clusters.
const bitmapChunk = 1 << 20

// checkClusters finds clusters used twice, then compares $Bitmap with the
// union of the claims, one window at a time.
func (c *checker) checkClusters() error {
	v := c.v
	cs := v.boot.clusterSize
	clusters := v.boot.clusters()
	claims := c.claims
	slices.SortFunc(claims, func(a, b claim) int {
		switch {
		case a.lcn != b.lcn:
			return cmpInt(a.lcn, b.lcn)
		case a.rec != b.rec:
			return cmpInt(a.rec, b.rec)
		}
		return cmpInt(a.typ, b.typ)
	})
	// Overlaps: sweep by start, remembering the claim reaching furthest.
	far := -1
	for i, cl := range claims {
		if far >= 0 && cl.lcn < claims[far].lcn+claims[far].n {
			o := claims[far]
			end := min(cl.lcn+cl.n, o.lcn+o.n)
			a, b := o, cl
			if a.rec > b.rec {
				a, b = b, a
			}
			c.report(ClusterDoublyAllocated, int64(b.rec), cl.lcn*cs,
				"clusters %d to %d used by record %d %s and by record %d %s",
				cl.lcn, end-1, a.rec, attrWhat(a.typ, a.name), b.rec, attrWhat(b.typ, b.name))
		}
		if far < 0 || cl.lcn+cl.n > claims[far].lcn+claims[far].n {
			far = i
		}
	}

	f, err := v.loadFile(recBitmap)
	if err != nil {
		return c.reportErr(RecordCorrupt, recBitmap, err)
	}
	s, err := v.stream(f, attrData, "")
	if err != nil {
		return c.reportErr(AttributeCorrupt, recBitmap, err)
	}
	need := (clusters + 7) / 8
	if s.size < need {
		c.report(ClusterOutOfRange, recBitmap, -1, "$Bitmap of %d bytes covers %d clusters of %d", s.size, s.size*8, clusters)
	}
	var (
		leak     = [2]int64{-1, -1}    // open range of leaked clusters
		notMark  = map[int]*[2]int64{} // open range of unmarked clusters, per claim
		active   []int                 // claims reaching into the window
		next     int                   // next claim to activate
		actual   = make([]byte, bitmapChunk)
		expected = make([]byte, bitmapChunk)
	)
	flushLeak := func() {
		if leak[0] >= 0 && !c.unreadable {
			c.report(ClusterLeaked, -1, leak[0]*cs, "clusters %d to %d marked in $Bitmap, used by no attribute", leak[0], leak[1]-1)
		}
		leak = [2]int64{-1, -1}
	}
	flushNotMarked := func(i int) {
		if r := notMark[i]; r != nil {
			cl := claims[i]
			c.report(ClusterNotMarked, int64(cl.rec), r[0]*cs, "clusters %d to %d of record %d %s are free in $Bitmap",
				r[0], r[1]-1, cl.rec, attrWhat(cl.typ, cl.name))
			delete(notMark, i)
		}
	}
	for pos := int64(0); pos < need; pos += bitmapChunk {
		if err := c.ctx.Err(); err != nil {
			return err
		}
		w := min(int64(bitmapChunk), need-pos)
		a, e := actual[:w], expected[:w]
		clear(a)
		clear(e)
		if pos < s.size {
			if _, err := s.ReadAt(a[:min(w, s.size-pos)], pos); err != nil && !errors.Is(err, io.EOF) {
				return c.reportErr(AttributeCorrupt, recBitmap, err)
			}
		}
		lo, hi := pos*8, min((pos+w)*8, clusters)
		for next < len(claims) && claims[next].lcn < hi {
			active = append(active, next)
			next++
		}
		kept := active[:0]
		for _, i := range active {
			cl := claims[i]
			from, to := max(cl.lcn, lo)-lo, min(cl.lcn+cl.n, hi)-lo
			setBits(e, from, to)
			for k := nextBit(a, from, to, false); k < to; {
				end := nextBit(a, k, to, true)
				r := notMark[i]
				if r != nil && r[1] != lo+k {
					flushNotMarked(i)
					r = nil
				}
				if r == nil {
					r = &[2]int64{lo + k, lo + k}
					notMark[i] = r
				}
				r[1] = lo + end
				k = nextBit(a, end, to, false)
			}
			if cl.lcn+cl.n > hi {
				kept = append(kept, i)
			} else {
				flushNotMarked(i)
			}
		}
		active = kept
		// Leaks: set in $Bitmap, not expected.
		for j := range a {
			a[j] &^= e[j]
		}
		for k := nextBit(a, 0, hi-lo, true); k < hi-lo; {
			end := nextBit(a, k, hi-lo, false)
			if leak[0] >= 0 && leak[1] != lo+k {
				flushLeak()
			}
			if leak[0] < 0 {
				leak[0] = lo + k
			}
			leak[1] = lo + end
			k = nextBit(a, end, hi-lo, true)
		}
	}
	flushLeak()
	for _, i := range active {
		flushNotMarked(i)
	}
	// Bits past the last cluster, up to the end of $Bitmap's last byte,
	// are set (mkntfs and Windows both do so; ntfs-3g's ntfsresize checks).
	if tail := clusters % 8; tail != 0 && need <= s.size {
		last := make([]byte, 1)
		if _, err := s.ReadAt(last, need-1); err != nil && !errors.Is(err, io.EOF) {
			return c.reportErr(AttributeCorrupt, recBitmap, err)
		}
		if want := byte(0xFF) << tail; last[0]&want != want {
			c.report(ClusterOutOfRange, recBitmap, s.volumeOffset(need-1), "$Bitmap: bits past the last cluster %d are not set (byte 0x%02x)", clusters-1, last[0])
		}
	}
	return nil
}

// setBits sets bits [from, to) of b.
func setBits(b []byte, from, to int64) {
	for ; from < to && from&7 != 0; from++ {
		b[from>>3] |= 1 << (from & 7)
	}
	for ; from+8 <= to; from += 8 {
		b[from>>3] = 0xFF
	}
	for ; from < to; from++ {
		b[from>>3] |= 1 << (from & 7)
	}
}

// nextBit returns the first bit index in [from, to) of b whose value is
// set, or to if there is none.
func nextBit(b []byte, from, to int64, set bool) int64 {
	skip := byte(0)
	if !set {
		skip = 0xFF
	}
	for from < to {
		if from&7 == 0 && from+8 <= to && b[from>>3] == skip {
			from += 8
			continue
		}
		if (b[from>>3]&(1<<(from&7)) != 0) == set {
			return from
		}
		from++
	}
	return to
}

func cmpInt[T int64 | uint64 | uint32](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ---------------------------------------------------------------------------
// Indexes

// ixEntry is an index entry of either kind of index the checker walks.
type ixEntry struct {
	ref   fileRef // $I30: the file
	flags uint32
	key   []byte
	data  []byte // view indexes: the entry's data
	child int64
	off   int64
}

// ixTree walks one index B+tree, checking its structure; visit sees the
// entries in order.
type ixTree struct {
	c         *checker
	rec       uint64 // the record holding the index
	what      string // "MFT record 5 $I30"
	alloc     *stream
	bitmap    []byte
	blockSize int
	vcnShift  int64
	parse     func(b []byte, off int64, what string) ([]ixEntry, error)
	visit     func(e ixEntry) error

	visited   map[int64]bool // blocks reached
	leafDepth int
	complete  bool // every block reached was read and parsed
}

// openTree prepares the walk of the index named name of file f, whose
// root value is root. It reports problems with the allocation and bitmap
// and returns nil when the tree cannot be walked at all.
func (c *checker) openTree(f *file, name string, root []byte) (*ixTree, error) {
	t := &ixTree{c: c, rec: f.rec.num, what: fmt.Sprintf("MFT record %d %s", f.rec.num, name),
		visited: map[int64]bool{}, leafDepth: -1, complete: true}
	rec := int64(f.rec.num)
	t.blockSize = int(binary.LittleEndian.Uint32(root[8:]))
	if t.blockSize != c.v.boot.indexBlockSize {
		c.report(IndexCorrupt, rec, -1, "%s: block size %d, boot sector says %d", t.what, t.blockSize, c.v.boot.indexBlockSize)
		return nil, nil
	}
	t.vcnShift = c.v.boot.clusterSize
	if int64(t.blockSize) < c.v.boot.clusterSize {
		t.vcnShift = 512
	}
	if alloc := f.extents(attrIndexAllocation, name); len(alloc) > 0 {
		s, err := c.v.newStream(t.what+" $INDEX_ALLOCATION", alloc)
		if err != nil {
			return nil, c.reportErr(IndexCorrupt, rec, err)
		}
		t.alloc = s
		bm, err := c.v.readAll(f, attrBitmap, name, 1<<20)
		switch {
		case errors.Is(err, errNoAttribute):
			c.report(IndexBitmap, rec, -1, "%s: $INDEX_ALLOCATION without $BITMAP", t.what)
		case err != nil:
			if err := c.reportErr(IndexBitmap, rec, err); err != nil {
				return nil, err
			}
		}
		t.bitmap = bm
		if blocks := s.size / int64(t.blockSize); int64(len(bm))*8 < blocks {
			c.report(IndexBitmap, rec, -1, "%s: $BITMAP of %d bytes for %d blocks", t.what, len(bm), blocks)
		}
		if s.size%int64(t.blockSize) != 0 {
			c.report(IndexCorrupt, rec, -1, "%s: $INDEX_ALLOCATION of %d bytes, not a multiple of the %d-byte block", t.what, s.size, t.blockSize)
		}
	}
	return t, nil
}

// walkRoot walks the tree from its root node (b: the index header and
// entries of the $INDEX_ROOT value, off its volume offset or -1).
func (t *ixTree) walkRoot(hdr []byte, off int64) error {
	entries, err := t.parse(hdr, off, t.what+" root")
	if err != nil {
		t.complete = false
		return t.c.reportErr(IndexCorrupt, int64(t.rec), err)
	}
	if err := t.node(entries, binary.LittleEndian.Uint32(hdr[0x0C:]), 0, off, "root"); err != nil {
		return err
	}
	// Blocks marked in use that the tree does not reach.
	if t.complete && t.alloc != nil {
		blocks := t.alloc.size / int64(t.blockSize)
		for i := int64(0); i < blocks && i < int64(len(t.bitmap))*8; i++ {
			if bitSet(t.bitmap, i) && !t.visited[i] {
				t.c.report(IndexBitmap, int64(t.rec), t.alloc.volumeOffset(i*int64(t.blockSize)),
					"%s: block %d (VCN %d) marked in use in $BITMAP, not in the tree", t.what, i, i*int64(t.blockSize)/t.vcnShift)
			}
		}
	}
	return nil
}

// node checks and walks one node: its entries, in order, descending into
// children first.
func (t *ixTree) node(entries []ixEntry, hdrFlags uint32, depth int, off int64, where string) error {
	c := t.c
	children := 0
	for _, e := range entries {
		if e.child >= 0 {
			children++
		}
	}
	switch {
	case children != 0 && children != len(entries):
		c.report(IndexCorrupt, int64(t.rec), off, "%s %s: %d of %d entries have a child", t.what, where, children, len(entries))
	case children != 0 != (hdrFlags&1 != 0):
		c.report(IndexCorrupt, int64(t.rec), off, "%s %s: node flag %d, %d entries with a child", t.what, where, hdrFlags, children)
	}
	if children == 0 {
		switch {
		case t.leafDepth < 0:
			t.leafDepth = depth
		case t.leafDepth != depth:
			c.report(IndexCorrupt, int64(t.rec), off, "%s %s: leaf at depth %d, another at depth %d", t.what, where, depth, t.leafDepth)
		}
	}
	for _, e := range entries {
		if e.child >= 0 {
			if err := t.block(e.child, depth+1); err != nil {
				return err
			}
		}
		if e.flags&entryLast == 0 {
			if err := t.visit(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// block reads, checks and walks the index block at vcn.
func (t *ixTree) block(vcn int64, depth int) error {
	c := t.c
	rec := int64(t.rec)
	what := fmt.Sprintf("%s block at VCN %d", t.what, vcn)
	if depth > maxIndexDepth {
		t.complete = false
		c.report(IndexCorrupt, rec, -1, "%s: deeper than %d levels", what, maxIndexDepth)
		return nil
	}
	if t.alloc == nil {
		t.complete = false
		c.report(IndexCorrupt, rec, -1, "%s: a child, but no $INDEX_ALLOCATION", what)
		return nil
	}
	pos := vcn * t.vcnShift
	bs := int64(t.blockSize)
	if pos%bs != 0 || pos+bs > t.alloc.size {
		t.complete = false
		c.report(IndexCorrupt, rec, -1, "%s: not a block of $INDEX_ALLOCATION (%d bytes)", what, t.alloc.size)
		return nil
	}
	i := pos / bs
	if t.visited[i] {
		t.complete = false
		c.report(IndexCorrupt, rec, t.alloc.volumeOffset(pos), "%s: reached twice", what)
		return nil
	}
	t.visited[i] = true
	off := t.alloc.volumeOffset(pos)
	if !bitSet(t.bitmap, i) {
		c.report(IndexBitmap, rec, off, "%s: in use, clear in $BITMAP", what)
	}
	b := make([]byte, bs)
	if _, err := t.alloc.ReadAt(b, pos); err != nil && !errors.Is(err, io.EOF) {
		t.complete = false
		return c.reportErr(IndexCorrupt, rec, err)
	}
	if string(b[:4]) != "INDX" {
		t.complete = false
		c.report(IndexCorrupt, rec, off, "%s: magic %q, want INDX", what, b[:4])
		return nil
	}
	if err := applyFixups(b, off, what); err != nil {
		t.complete = false
		return c.reportErr(Fixup, rec, err)
	}
	if own := int64(binary.LittleEndian.Uint64(b[0x10:])); own != vcn {
		t.complete = false
		c.report(IndexCorrupt, rec, off+0x10, "%s: block says it is VCN %d", what, own)
		return nil
	}
	hdr := b[0x18:]
	if alloc := int64(binary.LittleEndian.Uint32(hdr[8:])); alloc != bs-0x18 {
		c.report(IndexCorrupt, rec, off+0x18+8, "%s: node of %d bytes allocated, block of %d", what, alloc, bs)
	}
	entries, err := t.parse(hdr, off+0x18, what)
	if err != nil {
		t.complete = false
		return c.reportErr(IndexCorrupt, rec, err)
	}
	return t.node(entries, binary.LittleEndian.Uint32(hdr[0x0C:]), depth, off, fmt.Sprintf("block at VCN %d", vcn))
}

// parseI30 parses the entries of an $I30 node.
func parseI30(b []byte, off int64, what string) ([]ixEntry, error) {
	es, err := parseIndexEntries(b, off, what)
	if err != nil {
		return nil, err
	}
	out := make([]ixEntry, len(es))
	for i, e := range es {
		out[i] = ixEntry{ref: e.ref, flags: e.flags, key: e.key, child: e.child, off: e.off}
	}
	return out, nil
}

// parseView parses the entries of a view index node ($SII, $SDH…): data
// offset and length replace the file reference, keys are at least
// minKey bytes.
func parseView(minKey int) func(b []byte, off int64, what string) ([]ixEntry, error) {
	return func(b []byte, off int64, what string) ([]ixEntry, error) {
		if len(b) < 0x10 {
			return nil, corrupt(off, "%s: index header of %d bytes", what, len(b))
		}
		first := int(binary.LittleEndian.Uint32(b))
		used := int(binary.LittleEndian.Uint32(b[4:]))
		if used > len(b) || first < 0x10 || first > used || first%8 != 0 {
			return nil, corrupt(off, "%s: entries at 0x%x, %d bytes used of %d", what, first, used, len(b))
		}
		var entries []ixEntry
		for p := first; ; {
			if p+0x10 > used {
				return nil, corrupt(off+int64(p), "%s: entry overruns the node (no last entry)", what)
			}
			length := int(binary.LittleEndian.Uint16(b[p+8:]))
			keyLen := int(binary.LittleEndian.Uint16(b[p+0x0A:]))
			flags := uint32(binary.LittleEndian.Uint16(b[p+0x0C:]))
			if length < 0x10 || length%8 != 0 || p+length > used {
				return nil, corrupt(off+int64(p), "%s: entry of length %d", what, length)
			}
			e := ixEntry{flags: flags, child: -1, off: off + int64(p)}
			limit := length
			if flags&entryHasChild != 0 {
				if length < 0x18 {
					return nil, corrupt(off+int64(p), "%s: entry with a child of length %d", what, length)
				}
				e.child = int64(binary.LittleEndian.Uint64(b[p+length-8:]))
				if e.child < 0 || e.child > maxVCN {
					return nil, corrupt(off+int64(p), "%s: child VCN %d", what, e.child)
				}
				limit -= 8
			}
			if flags&entryLast == 0 {
				dataOff := int(binary.LittleEndian.Uint16(b[p:]))
				dataLen := int(binary.LittleEndian.Uint16(b[p+2:]))
				if keyLen < minKey || 0x10+keyLen > limit || dataOff < 0x10+keyLen || dataOff+dataLen > limit {
					return nil, corrupt(off+int64(p), "%s: key of %d bytes, data of %d at 0x%x, in an entry of %d", what, keyLen, dataLen, dataOff, length)
				}
				e.key = b[p+0x10 : p+0x10+keyLen]
				e.data = b[p+dataOff : p+dataOff+dataLen]
			}
			entries = append(entries, e)
			p += length
			if flags&entryLast != 0 {
				return entries, nil
			}
		}
	}
}

// rootValue returns the $INDEX_ROOT value of the index name, with its
// volume offset (-1 when unknown), or reports why there is none.
func (c *checker) rootValue(f *file, name string) ([]byte, int64, bool) {
	rec := int64(f.rec.num)
	ext := f.extents(attrIndexRoot, name)
	if len(ext) != 1 || !ext[0].resident {
		c.report(IndexCorrupt, rec, -1, "MFT record %d: %d %s index roots, want one resident", f.rec.num, len(ext), name)
		return nil, -1, false
	}
	a := ext[0]
	if len(a.value) < 0x20 {
		c.report(IndexCorrupt, rec, a.off, "MFT record %d %s root: %d bytes", f.rec.num, name, len(a.value))
		return nil, -1, false
	}
	off := int64(-1)
	if a.off >= 0 {
		// The value follows the 0x18-byte header and the name.
		if b := c.attrBytes(f.rec, a); b != nil {
			off = a.off + int64(binary.LittleEndian.Uint16(b[0x14:]))
		}
	}
	return a.value, off, true
}

// attrBytes returns the bytes of attribute a, which base (or, when
// a.rec differs, an extension record read again) holds, or nil.
func (c *checker) attrBytes(base *record, a *attribute) []byte {
	r := base
	if a.rec != r.num {
		var err error
		if r, err = c.v.readRecord(a.rec); err != nil {
			return nil
		}
	}
	p := a.off - r.off
	if r.off < 0 || p < 0 || p+0x18 > int64(len(r.buf)) {
		return nil
	}
	n := int64(binary.LittleEndian.Uint32(r.buf[p+4:]))
	if p+n > int64(len(r.buf)) {
		return nil
	}
	return r.buf[p : p+n]
}

// checkIndexes walks the $I30 index of every directory.
func (c *checker) checkIndexes() error {
	for _, d := range c.dirs {
		if err := c.ctx.Err(); err != nil {
			return err
		}
		if err := c.checkDir(d); err != nil {
			return err
		}
	}
	return nil
}

// checkDir checks the $I30 index of directory d: structure, order, and
// that each entry names a $FILE_NAME of its target.
func (c *checker) checkDir(d uint64) error {
	f, err := c.v.loadFile(fileRef(d))
	if err != nil {
		c.partialIndex[d] = true
		return c.reportErr(IndexCorrupt, int64(d), err)
	}
	if _, err := c.v.openIndex(f); err != nil {
		c.partialIndex[d] = true
		return c.reportErr(IndexCorrupt, int64(d), err)
	}
	root, rootOff, ok := c.rootValue(f, "$I30")
	if !ok {
		c.partialIndex[d] = true
		return nil
	}
	t, err := c.openTree(f, "$I30", root)
	if err != nil || t == nil {
		c.partialIndex[d] = true
		return err
	}
	var prev *fileName
	var prevRef fileRef
	t.parse = parseI30
	t.visit = func(e ixEntry) error {
		fn, err := parseFileName(e.key, e.off)
		if err != nil {
			t.complete = false
			return c.reportErr(IndexCorrupt, int64(d), err)
		}
		if prev != nil {
			c.checkOrder(d, prev, &fn, prevRef, e)
		}
		prev, prevRef = &fn, e.ref
		c.checkEntry(d, e, &fn)
		return nil
	}
	rootHdrOff := int64(-1)
	if rootOff >= 0 {
		rootHdrOff = rootOff + 0x10
	}
	if err := t.walkRoot(root[0x10:], rootHdrOff); err != nil {
		return err
	}
	if !t.complete {
		c.partialIndex[d] = true
	}
	return nil
}

// checkOrder checks that fn follows prev in $I30 collation.
func (c *checker) checkOrder(d uint64, prev, fn *fileName, prevRef fileRef, e ixEntry) {
	up := c.v.upcase.compareNames(prev.name, fn.name)
	if up < 0 {
		return
	}
	if up > 0 {
		c.report(IndexOrder, int64(d), e.off, "MFT record %d $I30: %q after %q", d, fn.String(), prev.String())
		return
	}
	raw := compareRaw(prev.name, fn.name)
	posix := prev.namespace == namespacePOSIX || fn.namespace == namespacePOSIX
	switch {
	case raw == 0 || !posix && prevRef.record() != e.ref.record():
		c.report(IndexDuplicateName, int64(d), e.off, "MFT record %d $I30: %q (record %d) and %q (record %d) are equal ignoring case",
			d, prev.String(), prevRef.record(), fn.String(), e.ref.record())
	case raw > 0:
		c.report(IndexOrder, int64(d), e.off, "MFT record %d $I30: %q after %q", d, fn.String(), prev.String())
	}
}

// compareRaw orders names by their code units.
func compareRaw(a, b []uint16) int {
	for i := 0; i < min(len(a), len(b)); i++ {
		if a[i] != b[i] {
			return cmpInt(uint32(a[i]), uint32(b[i]))
		}
	}
	return cmpInt(int64(len(a)), int64(len(b)))
}

// checkEntry checks that an $I30 entry of directory d points to a file in
// use, whose $FILE_NAMEs include the key, and counts the match.
func (c *checker) checkEntry(d uint64, e ixEntry, fn *fileName) {
	rec := e.ref.record()
	name := fn.String()
	if p := fn.parent; p.record() != d || p.seq() != 0 && p.seq() != c.seq[d] {
		c.report(IndexNameMismatch, int64(d), e.off, "MFT record %d $I30: entry %q has parent record %d sequence %d", d, name, p.record(), p.seq())
		return
	}
	switch {
	case rec >= c.n:
		c.report(IndexDangling, int64(d), e.off, "MFT record %d $I30: entry %q points to record %d, past the end of $MFT", d, name, rec)
		return
	case c.state[rec]&stBad != 0:
		return // reported with the record
	case c.state[rec]&stInUse == 0:
		c.report(IndexDangling, int64(d), e.off, "MFT record %d $I30: entry %q points to record %d, which is not in use", d, name, rec)
		return
	case c.state[rec]&stBase == 0:
		c.report(IndexDangling, int64(d), e.off, "MFT record %d $I30: entry %q points to record %d, an extension record", d, name, rec)
		return
	}
	staleSeq := e.ref.seq() != c.seq[rec]
	if staleSeq {
		c.report(IndexDangling, int64(d), e.off, "MFT record %d $I30: entry %q points to record %d with sequence number %d, the record has %d",
			d, name, rec, e.ref.seq(), c.seq[rec])
	}
	for i := c.nameStart[rec]; i < c.nameStart[rec+1]; i++ {
		s := &c.names[i]
		if s.parent.record() == d && s.ns == fn.namespace && equalUTF16(s.name, fn.name) {
			// With a stale sequence number but the very name, the entry
			// is this name's: one fix mends both, so one problem.
			s.found++
			return
		}
	}
	if staleSeq || c.state[rec]&stPartial != 0 {
		return // some names could not be read
	}
	c.report(IndexNameMismatch, int64(d), e.off, "MFT record %d $I30: entry %q (namespace %d) is not a $FILE_NAME of record %d", d, name, fn.namespace, rec)
}

// checkNames checks that every $FILE_NAME of every file in use has a
// valid parent whose index holds it once.
func (c *checker) checkNames() error {
	for i := range c.names {
		s := &c.names[i]
		p := s.parent.record()
		name := nameString(s.name)
		switch {
		case p >= c.n || c.state[p]&stInUse == 0 || c.state[p]&stBase == 0:
			c.report(NameParentInvalid, int64(s.rec), s.off, "MFT record %d: $FILE_NAME %q: parent record %d is not a file in use", s.rec, name, p)
		case c.state[p]&stBad != 0:
		case s.parent.seq() != 0 && s.parent.seq() != c.seq[p]:
			c.report(NameParentInvalid, int64(s.rec), s.off, "MFT record %d: $FILE_NAME %q: parent record %d with sequence number %d, the record has %d",
				s.rec, name, p, s.parent.seq(), c.seq[p])
		case c.state[p]&stDir == 0:
			c.report(NameParentInvalid, int64(s.rec), s.off, "MFT record %d: $FILE_NAME %q: parent record %d is not a directory", s.rec, name, p)
		case c.partialIndex[p]:
		case s.found == 0:
			c.report(NameNotIndexed, int64(s.rec), s.off, "MFT record %d: $FILE_NAME %q is not in the index of directory %d", s.rec, name, p)
		case s.found > 1:
			c.report(NameIndexedTwice, int64(s.rec), s.off, "MFT record %d: $FILE_NAME %q is %d times in the index of directory %d", s.rec, name, s.found, p)
		}
	}
	return nil
}

func nameString(u []uint16) string {
	fn := fileName{name: u}
	return fn.String()
}

// ---------------------------------------------------------------------------
// Security

// maxSecurityIDs bounds the $SII keys read: far more descriptors than any
// volume holds (each takes at least 40 bytes of $SDS, twice).
const maxSecurityIDs = 1 << 22

// loadSecurity reads the keys of $Secure's $SII index (security ids, u32,
// collation 0x10), checking its structure and order as for $I30.
func (c *checker) loadSecurity() error {
	const recSecure = 9
	f, err := c.v.loadFile(recSecure)
	if err != nil {
		c.secWhy = fmt.Sprintf("$Secure (record %d) is unreadable", recSecure)
		if errors.Is(err, ErrCorrupt) {
			return nil // the record's scan reports it
		}
		return err
	}
	if len(f.extents(attrIndexRoot, "$SII")) == 0 {
		c.secWhy = "$Secure has no $SII index"
		return nil
	}
	root, rootOff, ok := c.rootValue(f, "$SII")
	if !ok {
		c.secWhy = "$Secure's $SII index root is unreadable"
		return nil
	}
	if typ, coll := binary.LittleEndian.Uint32(root), binary.LittleEndian.Uint32(root[4:]); typ != 0 || coll != 0x10 {
		c.report(IndexCorrupt, recSecure, rootOff, "$Secure $SII root: indexed type 0x%x collation 0x%x, want 0 and 0x10", typ, coll)
		c.secWhy = "$Secure's $SII index root is unreadable"
		return nil
	}
	t, err := c.openTree(f, "$SII", root)
	if err != nil || t == nil {
		c.secWhy = "$Secure's $SII index is unreadable"
		return err
	}
	t.parse = parseView(4)
	var prev int64 = -1
	t.visit = func(e ixEntry) error {
		id := binary.LittleEndian.Uint32(e.key)
		if int64(id) <= prev {
			c.report(IndexOrder, recSecure, e.off, "$Secure $SII: security id 0x%x after 0x%x", id, prev)
		}
		prev = int64(id)
		if len(e.data) < 20 || binary.LittleEndian.Uint32(e.data[4:]) != id {
			c.report(IndexCorrupt, recSecure, e.off, "$Secure $SII: entry of security id 0x%x: data does not name it", id)
		}
		if len(c.secIDs) >= maxSecurityIDs {
			t.complete = false
			return nil
		}
		c.secIDs = append(c.secIDs, id)
		return nil
	}
	hdrOff := int64(-1)
	if rootOff >= 0 {
		hdrOff = rootOff + 0x10
	}
	if err := t.walkRoot(root[0x10:], hdrOff); err != nil {
		return err
	}
	slices.Sort(c.secIDs)
	c.secOK = t.complete
	if !t.complete {
		c.secWhy = "$Secure's $SII index is partly unreadable"
	}
	return nil
}

// checkSecurityID checks that a $STANDARD_INFORMATION's security id is in
// $SII.
func (c *checker) checkSecurityID(r *record, si *attribute, id uint32) {
	off := int64(-1)
	if p := si.off - r.off; r.off >= 0 && p >= 0 && p+0x16 <= int64(len(r.buf)) {
		off = si.off + int64(binary.LittleEndian.Uint16(r.buf[p+0x14:])) + 0x34
	}
	if !c.secOK {
		// Without a whole $SII, say so once, for the first id used.
		if c.secWhy != "" {
			c.report(SecurityIDMissing, int64(r.num), off, "MFT record %d: security id 0x%x, but %s", r.num, id, c.secWhy)
			c.secWhy = ""
		}
		return
	}
	if _, found := slices.BinarySearch(c.secIDs, id); !found {
		c.report(SecurityIDMissing, int64(r.num), off, "MFT record %d: security id 0x%x is not in $Secure $SII", r.num, id)
	}
}

// ---------------------------------------------------------------------------
// Mirror

// checkMirror compares $MFTMirr with the first records of $MFT, byte for
// byte as stored.
func (c *checker) checkMirror() error {
	v := c.v
	m, err := v.mirror()
	if err != nil {
		if errors.Is(err, errNoAttribute) {
			c.report(MirrorMismatch, recMFTMirr, -1, "$MFTMirr has no $DATA")
			return nil
		}
		return c.reportErr(MirrorMismatch, recMFTMirr, err)
	}
	if got, want := m.volumeOffset(0), v.boot.mftMirrLCN*v.boot.clusterSize; got != want {
		c.report(MirrorMismatch, recMFTMirr, 0x38, "boot sector puts $MFTMirr at byte 0x%x, its $DATA starts at 0x%x", want, got)
	}
	rs := int64(v.boot.recordSize)
	n := int64(v.mirrorRecords())
	if m.size < n*rs {
		c.report(MirrorMismatch, recMFTMirr, -1, "$MFTMirr: %d bytes, need %d records of %d", m.size, n, rs)
		n = m.size / rs
	}
	a, b := make([]byte, rs), make([]byte, rs)
	for i := int64(0); i < n && uint64(i) < v.nrecs; i++ {
		if _, err := v.mft.ReadAt(a, i*rs); err != nil && !errors.Is(err, io.EOF) {
			return c.reportErr(MirrorMismatch, i, err)
		}
		if _, err := m.ReadAt(b, i*rs); err != nil && !errors.Is(err, io.EOF) {
			return c.reportErr(MirrorMismatch, i, err)
		}
		if bytes.Equal(a, b) {
			continue
		}
		j := int64(0)
		for a[j] == b[j] {
			j++
		}
		c.report(MirrorMismatch, i, m.volumeOffset(i*rs+j), "$MFTMirr differs from MFT record %d from byte 0x%x", i, j)
	}
	return nil
}
