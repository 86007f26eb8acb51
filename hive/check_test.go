package hive

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// Check's tests are internal: the corruption table finds its targets
// (lists, sk records, free cells) through the package's own readers,
// and the corrupted real hive, which Open refuses, is checked as raw
// bytes.

// cleanHives are the hives Windows (or hivex, for the fixtures) left
// consistent: Check must find nothing in them.
var cleanHives = []string{
	"real/hives/BCD",
	"real/hives/NTUSER-WSL.DAT",
	"real/hives/NTUSER.DAT",
	"real/hives/SAM",
	"real/hives/SYSTEM",
	"real/hives/XP_NTUSER.DAT",
	"real/hives/dfwinreg_NTUSER.DAT",
	"real/hives/ez_Acronis_0x52_Usrclass.dat",
	"real/hives/ez_BCD",
	"real/hives/ez_SAM_hasBigEndianDWord",
	"real/hives/ntuser_software_partial",
	"real/hives/pyreg_REORGANIZED_VALUES_TESTS",
	"real/hives/pyreg_UNICODE_TESTS",
	"real/hives/pyreg_issue22.hive",
	"hives/winxp/NTUSER.DAT",
	"hives/winxp/SAM",
	"hives/winxp/SECURITY",
	"hives/winxp/SOFTWARE",
	"hives/winxp/SYSTEM",
	"hives/winxp/default",
	"hives/win10/DEFAULT",
	"hives/win10/NTUSER.DAT",
	"hives/win10/SAM",
	"hives/win10/SECURITY",
	"hives/win10/SOFTWARE",
	"hives/win10/SYSTEM",
}

// dirtyHives were copied while Windows had a write in flight: their
// sequence numbers differ, and that is all that is wrong with them.
var dirtyHives = []string{
	"real/hives/SECURITY",
	"real/hives/amcache.hve",
	"real/hives/transactions_NTUSER.DAT",
}

// openBytes opens a hive from its bytes, failing the test on an error.
func openBytes(t testing.TB, b []byte) *Hive {
	t.Helper()
	h, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return h
}

// mustCheck runs Check, failing the test on an error.
func mustCheck(t testing.TB, h *Hive) []Problem {
	t.Helper()
	ps, err := Check(h)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return ps
}

// expectClean fails the test with the problems Check finds, if any.
func expectClean(t testing.TB, h *Hive, when string) {
	t.Helper()
	ps := mustCheck(t, h)
	for i, p := range ps {
		if i == 20 {
			t.Errorf("%s: … %d problems in all", when, len(ps))
			break
		}
		t.Errorf("%s: %v", when, p)
	}
	if len(ps) > 0 {
		t.FailNow()
	}
}

// TestCheckRealHivesClean checks the consistent hives: no problem at all.
func TestCheckRealHivesClean(t *testing.T) {
	for _, name := range cleanHives {
		t.Run(name, func(t *testing.T) {
			expectClean(t, openBytes(t, testimg.Bytes(t, name)), name)
		})
	}
}

// TestCheckDirtyHives checks hives copied during a write: their sequence
// numbers differ, and nothing else is wrong.
func TestCheckDirtyHives(t *testing.T) {
	for _, name := range dirtyHives {
		t.Run(name, func(t *testing.T) {
			got := kindsAt(mustCheck(t, openBytes(t, testimg.Bytes(t, name))))
			if diff := cmp.Diff([]found{{SequenceMismatch, 4}}, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheckCorruptedHive checks the damaged SYSTEM hive (pages of
// memory where bins should be): Open refuses it, and Check, given its
// raw bytes, reports the damage without panicking.
func TestCheckCorruptedHive(t *testing.T) {
	b := testimg.Bytes(t, "real/hives/corrupted_system_hive")
	if _, err := Open(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Open: %v, want ErrCorrupt", err)
	}
	size := binary.LittleEndian.Uint32(b[40:])
	h := &Hive{buf: b[:baseBlockSize+size], minor: binary.LittleEndian.Uint32(b[24:]), root: binary.LittleEndian.Uint32(b[36:])}
	ps := mustCheck(t, h)
	kinds := map[ProblemKind]int{}
	for _, p := range ps {
		kinds[p.Kind]++
	}
	t.Logf("%d problems: %v", len(ps), kinds)
	if kinds[BinLayout] == 0 || kinds[CellOutOfBounds] == 0 {
		t.Errorf("want bin-layout and cell-out-of-bounds problems, got %v", kinds)
	}
	if ps[0].Kind != BinLayout || ps[0].Offset != 0x1a000 {
		t.Errorf("first problem %v, want bin-layout at 0x1a000 (bin 0x19000 is followed by zeros)", ps[0])
	}
}

// found is a problem's kind and offset, what the tables compare.
type found struct {
	Kind   ProblemKind
	Offset int64
}

// kindsAt reduces problems to what the tables compare.
func kindsAt(ps []Problem) []found {
	var out []found
	for _, p := range ps {
		out = append(out, found{p.Kind, p.Offset})
	}
	return out
}

// ---------------------------------------------------------------------------
// After edits

// checkSaved checks h, then its saved bytes opened again.
func checkSaved(t *testing.T, h *Hive, when string) *Hive {
	t.Helper()
	expectClean(t, h, when)
	b, err := h.Bytes()
	if err != nil {
		t.Fatalf("%s: Bytes: %v", when, err)
	}
	expectClean(t, h, when+", after Bytes")
	h2 := openBytes(t, b)
	expectClean(t, h2, when+", saved and opened again")
	return h2
}

// TestCheckNewHiveEdits edits a new hive in batches (keys, values of
// every size class up to 1 MiB, classes, replacements, deletions) and
// checks it after each, saved and opened again too.
func TestCheckNewHiveEdits(t *testing.T) {
	h := New("ROOT")
	expectClean(t, h, "new hive")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Keys, values of every size class, classes.
	for i := 0; i < 300; i++ {
		k, err := h.CreateKey(fmt.Sprintf(`Software\Vendor %d\Product\Key%03d`, i%7, i))
		must(err)
		must(k.SetValue("", String, EncodeString(fmt.Sprintf("default %d", i))))
		must(k.SetValue("small", DWord, EncodeUint32(uint32(i))))
		must(k.SetValue("tiny", Binary, []byte{byte(i)}))
		must(k.SetValue("empty", Binary, nil))
		must(k.SetValue("medium", Binary, bytes.Repeat([]byte{byte(i)}, 100+i)))
		if i%50 == 0 {
			must(k.SetClass(fmt.Sprintf("class %d", i)))
		}
	}
	uni, err := h.CreateKey(`Ünïcödé ключ 日本\ß\ǅ`)
	must(err)
	must(uni.SetValue("значение", String, EncodeString("текст")))
	expectClean(t, h, "keys and values")
	big, err := h.CreateKey(`Big`)
	must(err)
	must(big.SetValue("1MiB", Binary, bytes.Repeat([]byte("0123456789abcdef"), 1<<16)))
	must(big.SetValue("edge", Binary, make([]byte, bigDataSegment)))
	must(big.SetValue("edge+1", Binary, make([]byte, bigDataSegment+1)))
	expectClean(t, h, "big values")
	h = checkSaved(t, h, "new hive")

	// Replace values with other sizes, delete some, remove classes.
	k, err := h.Key(`Software\Vendor 3\Product\Key003`)
	must(err)
	must(k.SetValue("medium", Binary, make([]byte, 40000))) // to big data
	must(k.SetValue("small", Binary, make([]byte, 3)))      // stays inline
	must(k.DeleteValue("tiny"))
	must(k.DeleteValue(""))
	must(k.SetClass(""))
	big, err = h.Key(`Big`)
	must(err)
	must(big.SetValue("1MiB", DWord, EncodeUint32(1))) // big data to inline
	must(big.DeleteValue("edge+1"))
	expectClean(t, h, "values replaced and deleted")

	// Delete trees and single keys; the root's security record loses
	// references.
	must(h.DeleteKey(`Software\Vendor 1`))
	must(h.DeleteKey(`Ünïcödé ключ 日本\ß`))
	for i := 0; i < 300; i += 3 {
		err := h.DeleteKey(fmt.Sprintf(`Software\Vendor %d\Product\Key%03d`, i%7, i))
		if err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
	}
	expectClean(t, h, "keys deleted")
	h = checkSaved(t, h, "after deletions")

	// Everything gone but the root.
	must(h.DeleteKey(`Software`))
	must(h.DeleteKey(`Big`))
	must(h.DeleteKey(`Ünïcödé ключ 日本`))
	checkSaved(t, h, "all deleted")
}

// TestCheckBigList grows one key past the point where its subkeys need
// several leaves under an ri, then shrinks it back.
func TestCheckBigList(t *testing.T) {
	h := New("ROOT")
	for i := 0; i < 3000; i++ {
		// An order that inserts all over the list.
		if _, err := h.CreateKey(fmt.Sprintf(`Many\k%05d`, (i*7919)%3000)); err != nil {
			t.Fatal(err)
		}
	}
	h = checkSaved(t, h, "3000 subkeys")
	for i := 0; i < 3000; i++ {
		if i%4 != 0 {
			if err := h.DeleteKey(fmt.Sprintf(`Many\k%05d`, (i*7919)%3000)); err != nil {
				t.Fatal(err)
			}
		}
	}
	checkSaved(t, h, "750 subkeys left")
}

// TestCheckRealHiveEdits edits real hives of both versions (1.3 with lf
// lists, 1.5 with lh and ri lists and db records) in bulk.
func TestCheckRealHiveEdits(t *testing.T) {
	for _, name := range []string{"real/hives/NTUSER.DAT", "real/hives/SYSTEM", "real/hives/XP_NTUSER.DAT"} {
		t.Run(name, func(t *testing.T) {
			h := openBytes(t, testimg.Bytes(t, name))
			const keys, vals = 2000, 5
			for i := 0; i < keys; i++ {
				k, err := h.CreateKey(fmt.Sprintf(`ImageCustom\Key %05d\Sub`, (i*7919)%keys))
				if err != nil {
					t.Fatal(err)
				}
				for j := 0; j < vals; j++ {
					data := EncodeString(strings.Repeat("x", i%40*j))
					if err := k.SetValue(fmt.Sprintf("v%d", j), String, data); err != nil {
						t.Fatal(err)
					}
				}
			}
			// Into existing keys too: the root and a key with many
			// subkeys already.
			for i := 0; i < 200; i++ {
				if _, err := h.CreateKey(fmt.Sprintf(`zz%03d`, i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := h.Root().SetValue("big", Binary, make([]byte, 100000)); err != nil {
				t.Fatal(err)
			}
			expectClean(t, h, "created")
			h = checkSaved(t, h, "created")
			for i := 0; i < keys; i += 2 {
				if err := h.DeleteKey(fmt.Sprintf(`ImageCustom\Key %05d`, i)); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < 200; i += 3 {
				if err := h.DeleteKey(fmt.Sprintf(`zz%03d`, i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := h.Root().DeleteValue("big"); err != nil {
				t.Fatal(err)
			}
			expectClean(t, h, "half deleted")
			h = checkSaved(t, h, "half deleted")
			if err := h.DeleteKey(`ImageCustom`); err != nil {
				t.Fatal(err)
			}
			checkSaved(t, h, "all deleted")
		})
	}
}

// ---------------------------------------------------------------------------
// Corruptions

// target finds structures to corrupt in an opened hive.
type target struct {
	t *testing.T
	h *Hive
}

var errFound = errors.New("found")

// key returns the first key (depth first) for which ok is true.
func (g target) key(what string, ok func(k Key, nk []byte) bool) Key {
	g.t.Helper()
	var found Key
	g.h.Root().Walk(func(_ string, k Key) error {
		b, err := g.h.nk(k.off)
		if err == nil && ok(k, b) {
			found = k
			return errFound
		}
		return nil
	})
	if found.h == nil {
		g.t.Fatalf("no %s in the hive", what)
	}
	return found
}

// leafKey returns a key whose subkey list is one leaf of the given
// signature with at least n entries, and that leaf.
func (g target) leafKey(sig string, n int) (Key, uint32) {
	k := g.key(sig+" list", func(k Key, nk []byte) bool {
		list := binary.LittleEndian.Uint32(nk[nkSubkeyList:])
		if list == nilOffset {
			return false
		}
		c, err := g.h.cell(list)
		return err == nil && string(c[:2]) == sig && int(binary.LittleEndian.Uint16(c[2:])) >= n
	})
	nk, _ := g.h.nk(k.off)
	return k, binary.LittleEndian.Uint32(nk[nkSubkeyList:])
}

// sk returns the offset of the sk record of a key that is not the root.
func (g target) sk() uint32 {
	root, _ := g.h.nk(g.h.root)
	rootSK := binary.LittleEndian.Uint32(root[nkSecurity:])
	k := g.key("key with its own sk", func(k Key, nk []byte) bool {
		return binary.LittleEndian.Uint32(nk[nkSecurity:]) != rootSK
	})
	nk, _ := g.h.nk(k.off)
	return binary.LittleEndian.Uint32(nk[nkSecurity:])
}

// dataValue returns a value whose data is in one cell of its own.
func (g target) dataValue() uint32 {
	var off uint32
	g.key("value with a data cell", func(k Key, _ []byte) bool {
		vals, _ := k.Values()
		for _, v := range vals {
			b, _ := g.h.vk(v.off)
			size := binary.LittleEndian.Uint32(b[vkSize:])
			if size&inlineData == 0 && size > 4 && size <= bigDataSegment {
				off = v.off
				return true
			}
		}
		return false
	})
	return off
}

// cells lists the hive's cells: offset, size, allocated.
func (g target) cells() (offs, sizes []uint32, used []bool) {
	c := &checker{h: g.h, skRefs: map[uint32]*skUse{}, loose: map[uint32]bool{}}
	c.scanCells()
	for i := range c.offs {
		offs = append(offs, c.offs[i])
		sizes = append(sizes, c.sizes[i])
		used = append(used, c.state[i]&cellUsed != 0)
	}
	return offs, sizes, used
}

// freeCell returns the offset of a free cell.
func (g target) freeCell() uint32 {
	offs, _, used := g.cells()
	for i := range offs {
		if !used[i] {
			return offs[i]
		}
	}
	g.t.Fatal("no free cell")
	return 0
}

// put32 writes v at relative offset off (+ field) of the file b.
func put32(b []byte, off uint32, field int, v uint32) {
	binary.LittleEndian.PutUint32(b[baseBlockSize+int(off)+4+field:], v)
}

// get32 reads the field at relative offset off (+ field) of the file b.
func get32(b []byte, off uint32, field int) uint32 {
	return binary.LittleEndian.Uint32(b[baseBlockSize+int(off)+4+field:])
}

// corruption mutates a copy b of the hive h was opened from and returns
// the problems Check must find.
type corruption struct {
	name string
	// oracles lists the third-party readers (of hivexml, regfinfo and
	// reglookup) that refuse the result.
	oracles []string
	mutate  func(g target, b []byte) []found
}

var corruptions = []corruption{
	{"bad checksum", []string{"hivexml", "regfinfo"}, func(g target, b []byte) []found {
		b[508] ^= 0x40
		return []found{{Checksum, 508}}
	}},
	{"sequence mismatch", nil, func(g target, b []byte) []found {
		binary.LittleEndian.PutUint32(b[4:], binary.LittleEndian.Uint32(b[4:])+1)
		binary.LittleEndian.PutUint32(b[508:], checksumBaseBlock(b))
		return []found{{SequenceMismatch, 4}}
	}},
	{"swapped subkey entries", nil, func(g target, b []byte) []found {
		sig := g.h.newLeafSig()
		_, leaf := g.leafKey(sig, 2)
		e0, e1 := baseBlockSize+int(leaf)+8, baseBlockSize+int(leaf)+16
		var tmp [8]byte
		copy(tmp[:], b[e0:e0+8])
		copy(b[e0:e0+8], b[e1:e1+8])
		copy(b[e1:e1+8], tmp[:])
		return []found{{ListUnsorted, abs(leaf)}}
	}},
	{"wrong hash", nil, func(g target, b []byte) []found {
		sig := g.h.newLeafSig()
		_, leaf := g.leafKey(sig, 1)
		put32(b, leaf, 8, get32(b, leaf, 8)^0x01000000)
		return []found{{ListHash, abs(leaf)}}
	}},
	{"subkey count off by one", []string{"hivexml"}, func(g target, b []byte) []found {
		k, _ := g.leafKey(g.h.newLeafSig(), 2)
		put32(b, k.off, nkSubkeys, get32(b, k.off, nkSubkeys)+1)
		return []found{{ListCount, abs(k.off)}}
	}},
	{"sk reference count", nil, func(g target, b []byte) []found {
		sk := g.sk()
		put32(b, sk, 12, get32(b, sk, 12)-1)
		return []found{{SecurityRefCount, abs(sk)}}
	}},
	{"sk blink", nil, func(g target, b []byte) []found {
		sk := g.sk()
		put32(b, sk, 8, sk+8)
		return []found{{SecurityRing, abs(sk)}}
	}},
	{"sk flink skips a record", nil, func(g target, b []byte) []found {
		// prev → sk → next becomes prev → next: next's blink is
		// wrong, and sk, still used, is out of the ring.
		sk := g.sk()
		prev, next := get32(b, sk, 8), get32(b, sk, 4)
		put32(b, prev, 4, next)
		return []found{{SecurityRing, abs(next)}, {SecurityRing, abs(sk)}}
	}},
	{"cell crossing its bin", []string{"hivexml", "regfinfo"}, func(g target, b []byte) []found {
		// The last cell of a bin, allocated, grows by 8 bytes.
		offs, sizes, used := g.cells()
		for i := range offs {
			end := offs[i] + sizes[i]
			if used[i] && end%binAlign == 0 && (i+1 == len(offs) || offs[i+1] > end) {
				put32(b, offs[i], -4, uint32(-int32(sizes[i]+8)))
				return []found{{CellTiling, abs(offs[i])}}
			}
		}
		g.t.Fatal("no allocated cell ends a bin")
		return nil
	}},
	{"cell crossing its bin, mid-bin", []string{"hivexml", "regfinfo"}, func(g target, b []byte) []found {
		// An allocated cell followed by others in its bin reaches past
		// the bin's end: the cells after it can no longer be told
		// apart by walking the bin, but are still found by reference.
		offs, sizes, used := g.cells()
		for i := 0; i+2 < len(offs); i++ {
			if !used[i] || offs[i+1] != offs[i]+sizes[i] || !used[i+1] {
				continue
			}
			end := offs[i+1]
			for j := i + 1; j < len(offs) && offs[j] == end; j++ {
				end += sizes[j]
			}
			if end%binAlign == 0 {
				put32(b, offs[i], -4, uint32(-int32(end-offs[i]+8)))
				return []found{{CellTiling, abs(offs[i])}}
			}
		}
		g.t.Fatal("no two allocated cells side by side")
		return nil
	}},
	{"free cell size not a multiple of 8", []string{"hivexml", "regfinfo"}, func(g target, b []byte) []found {
		off := g.freeCell()
		put32(b, off, -4, get32(b, off, -4)+4)
		return []found{{CellTiling, abs(off)}}
	}},
	{"security descriptor revision", nil, func(g target, b []byte) []found {
		sk := g.sk()
		b[baseBlockSize+int(sk)+4+20] = 2
		return []found{{BadRecord, abs(sk)}}
	}},
	{"no data with a data offset", nil, func(g target, b []byte) []found {
		vk := g.dataValue()
		put32(b, vk, vkSize, 0)
		return []found{{ValueData, abs(vk)}}
	}},
	{"value data in a free cell", []string{"hivexml"}, func(g target, b []byte) []found {
		vk := g.dataValue()
		put32(b, vk, vkData, g.freeCell())
		return []found{{FreeCellReferenced, abs(vk)}}
	}},
	{"parent pointer", nil, func(g target, b []byte) []found {
		_, leaf := g.leafKey(g.h.newLeafSig(), 1)
		child := get32(b, leaf, 4)
		put32(b, child, nkParent, leaf)
		return []found{{Parent, abs(child)}}
	}},
	{"duplicate subkey name", nil, func(g target, b []byte) []found {
		// Two neighbours with compressed names of one length: the
		// second is renamed to the first in lower case (and its hash
		// fixed, as a writer would).
		var second uint32
		g.key("two neighbours with names of one length", func(k Key, nk []byte) bool {
			list := binary.LittleEndian.Uint32(nk[nkSubkeyList:])
			if list == nilOffset {
				return false
			}
			c, err := g.h.cell(list)
			if err != nil || string(c[:2]) == "ri" || string(c[:2]) == "li" {
				return false
			}
			entries, _ := g.h.leafEntries(list)
			for i := 0; i+1 < len(entries); i++ {
				a, _ := g.h.nk(entries[i])
				z, _ := g.h.nk(entries[i+1])
				if binary.LittleEndian.Uint16(a[nkNameLen:]) == binary.LittleEndian.Uint16(z[nkNameLen:]) &&
					binary.LittleEndian.Uint16(a[nkFlags:])&keyCompName != 0 && binary.LittleEndian.Uint16(z[nkFlags:])&keyCompName != 0 {
					second = entries[i+1]
					n := int(binary.LittleEndian.Uint16(z[nkNameLen:]))
					name := []byte(strings.ToLower(string(a[nkName : nkName+n])))
					copy(b[baseBlockSize+int(second)+4+nkName:], name)
					units := make([]uint16, n)
					for j, ch := range name {
						units[j] = uint16(ch)
					}
					put32(b, list, 8+8*(i+1), hintFor(string(c[:2]), units))
					return true
				}
			}
			return false
		})
		return []found{{DuplicateName, abs(second)}}
	}},
	{"duplicate value name", nil, func(g target, b []byte) []found {
		var dup uint32
		g.key("two values with names of one length", func(k Key, _ []byte) bool {
			vals, _ := k.Values()
			for i := 0; i < len(vals); i++ {
				for j := i + 1; j < len(vals); j++ {
					a, _ := g.h.vk(vals[i].off)
					z, _ := g.h.vk(vals[j].off)
					if n := binary.LittleEndian.Uint16(a[vkNameLen:]); n > 0 && n == binary.LittleEndian.Uint16(z[vkNameLen:]) &&
						binary.LittleEndian.Uint16(a[vkFlags:]) == binary.LittleEndian.Uint16(z[vkFlags:]) {
						copy(b[baseBlockSize+int(vals[j].off)+4+vkName:], strings.ToUpper(string(a[vkName:vkName+int(n)])))
						dup = vals[j].off
						return true
					}
				}
			}
			return false
		})
		return []found{{DuplicateName, abs(dup)}}
	}},
	{"leaked cell", nil, func(g target, b []byte) []found {
		off := g.freeCell()
		put32(b, off, -4, -get32(b, off, -4))
		return []found{{CellLeak, abs(off)}}
	}},
	{"value listed twice", nil, func(g target, b []byte) []found {
		k := g.key("key with two values", func(k Key, nk []byte) bool {
			return binary.LittleEndian.Uint32(nk[nkValues:]) >= 2
		})
		nk, _ := g.h.nk(k.off)
		list := binary.LittleEndian.Uint32(nk[nkValueList:])
		first := get32(b, list, 0)
		put32(b, list, 4, first)
		return []found{{CellShared, abs(first)}}
	}},
	{"nk signature", []string{"hivexml", "regfinfo"}, func(g target, b []byte) []found {
		_, leaf := g.leafKey(g.h.newLeafSig(), 1)
		child := get32(b, leaf, 4)
		b[baseBlockSize+int(child)+5] = 'x'
		return []found{{BadRecord, abs(child)}}
	}},
	{"inline data of 5 bytes", []string{"hivexml", "regfinfo"}, func(g target, b []byte) []found {
		var off uint32
		g.key("value with inline data", func(k Key, _ []byte) bool {
			vals, _ := k.Values()
			for _, v := range vals {
				vb, _ := g.h.vk(v.off)
				if binary.LittleEndian.Uint32(vb[vkSize:])&inlineData != 0 {
					off = v.off
					return true
				}
			}
			return false
		})
		put32(b, off, vkSize, inlineData|5)
		return []found{{ValueData, abs(off)}}
	}},
	{"value list inside a cell", []string{"hivexml", "regfinfo"}, func(g target, b []byte) []found {
		// At least 3 values: the list's cell has 16 bytes or more.
		k := g.key("key with values", func(k Key, nk []byte) bool {
			return binary.LittleEndian.Uint32(nk[nkValues:]) >= 3
		})
		put32(b, k.off, nkValueList, get32(b, k.off, nkValueList)+8)
		return []found{{CellOutOfBounds, abs(k.off)}}
	}},
	{"ri under ri", []string{"hivexml", "regfinfo"}, func(g target, b []byte) []found {
		// The first leaf under an ri is relabelled ri: its keys are
		// lost to the count.
		if g.h.minor < 5 {
			return nil // no ri lists in the 1.3 hive
		}
		k, ri := g.leafKey("ri", 2)
		leaf := get32(b, ri, 4)
		copy(b[baseBlockSize+int(leaf)+4:], "ri")
		return []found{{BadRecord, abs(leaf)}, {ListCount, abs(k.off)}}
	}},
}

// corruptionHives are the real hives the table runs on: version 1.5
// with lh lists, version 1.3 with lf lists.
var corruptionHives = []string{"real/hives/SYSTEM", "real/hives/NTUSER.DAT"}

// TestCheckCorruptions corrupts copies of real hives one way each and
// expects exactly the problems (kind and offset) the corruption makes.
func TestCheckCorruptions(t *testing.T) {
	for _, name := range corruptionHives {
		orig := testimg.Bytes(t, name)
		g := target{h: openBytes(t, orig)}
		for _, tc := range corruptions {
			t.Run(filepath.Base(name)+"/"+tc.name, func(t *testing.T) {
				g.t = t
				b := bytes.Clone(orig)
				want := tc.mutate(g, b)
				if want == nil {
					t.Skip("nothing to corrupt here")
				}
				h, err := Open(bytes.NewReader(b), int64(len(b)))
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				ps := mustCheck(t, h)
				if diff := cmp.Diff(want, kindsAt(ps)); diff != "" {
					for _, p := range ps {
						t.Log(p)
					}
					t.Errorf("problems (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestCheckCorruptionOracles runs the third-party readers over the
// corrupted hives, to record what they catch: hivexml and regfinfo
// refuse a bad checksum, cells that do not tile their bin, and records
// they cannot read (a bad signature, a reference into a cell, inline
// data over 4 bytes); hivexml also a wrong subkey count and data in a
// free cell. None notices unsorted lists, wrong hashes, duplicate names,
// a wrong parent, sk reference counts, ring links or descriptors, leaked
// or shared cells, a data offset without data, or differing sequence
// numbers; reglookup refuses nothing at all.
func TestCheckCorruptionOracles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the readers over 20 hives")
	}
	testimg.Oracle(t, "hivexml")
	testimg.Oracle(t, "regfinfo")
	testimg.Oracle(t, "reglookup")
	// The 1.3 hive: the readers take minutes over the 12 MB one.
	name := corruptionHives[1]
	orig := testimg.Bytes(t, name)
	g := target{h: openBytes(t, orig)}
	dir := t.TempDir()
	for _, tc := range corruptions {
		t.Run(tc.name, func(t *testing.T) {
			g.t = t
			b := bytes.Clone(orig)
			if tc.mutate(g, b) == nil {
				t.Skip("nothing to corrupt")
			}
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, tool := range []string{"hivexml", "regfinfo", "reglookup"} {
				_, err := testimg.RunErr(t, tool, p)
				refuses := false
				for _, o := range tc.oracles {
					refuses = refuses || o == tool
				}
				if (err != nil) != refuses {
					t.Errorf("%s: refused %v, want %v (%v)", tool, err != nil, refuses, err)
				}
			}
		})
	}
}

// TestCheckEditLimits holds edits to the rule the other edit tests
// follow: what an edit accepts, Check finds nothing wrong with. These two
// fail for now: the editing code accepts what Windows refuses to load.
func TestCheckEditLimits(t *testing.T) {
	t.Run("empty root name", func(t *testing.T) {
		// Windows' registry check refuses a key without a name
		// (ReactOS cmcheck.c, CM_CHECK_REGISTRY_KEY_NAME_LENGTH_ZERO),
		// the root included.
		expectClean(t, New(""), `New("")`)
	})
	t.Run("deeper than 512 levels", func(t *testing.T) {
		// "A registry tree can be 512 levels deep" (Registry element
		// size limits); CreateKey should refuse the 513th level.
		h := New("ROOT")
		if _, err := h.CreateKey(strings.Repeat(`k\`, maxDepth+1)); err != nil {
			return
		}
		expectClean(t, h, "keys 513 levels deep")
	})
}

// TestCheckDepth builds keys nested deeper than Windows allows.
func TestCheckDepth(t *testing.T) {
	h := New("ROOT")
	path := strings.Repeat(`k\`, maxDepth+1)
	if _, err := h.CreateKey(path); err != nil {
		t.Skipf("CreateKey refuses %d levels: %v", maxDepth+1, err)
	}
	ps := mustCheck(t, h)
	if len(ps) == 0 || ps[0].Kind != Depth {
		t.Fatalf("problems %v, want a depth problem first", ps)
	}
}

// TestCheckFreeIndex damages the allocator's index of free cells.
func TestCheckFreeIndex(t *testing.T) {
	h := New("ROOT")
	if _, err := h.CreateKey(`a\b\c`); err != nil {
		t.Fatal(err)
	}
	expectClean(t, h, "new")
	// Forget a free cell, then index an allocated one as free.
	var off, size uint32
	for o, n := range h.free.size {
		off, size = o, n
	}
	delete(h.free.size, off)
	want := []found{{FreeIndex, abs(off)}}
	if got := kindsAt(mustCheck(t, h)); !cmp.Equal(want, got) {
		t.Errorf("forgotten free cell: got %v, want %v", got, want)
	}
	h.free.size[off] = size
	h.free.size[h.root] = 8
	want = []found{{FreeIndex, abs(h.root)}}
	if got := kindsAt(mustCheck(t, h)); !cmp.Equal(want, got) {
		t.Errorf("allocated cell indexed as free: got %v, want %v", got, want)
	}
}

// TestProblemString checks how problems and kinds print.
func TestProblemString(t *testing.T) {
	p := Problem{Kind: ListUnsorted, Offset: 0x1020, Path: `\Software`, Detail: "d"}
	if got, want := p.String(), `list-unsorted at 0x1020 key "\\Software": d`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := (Problem{Kind: Checksum, Offset: -1, Detail: "d"}).String(); got != "checksum: d" {
		t.Errorf("String() = %q", got)
	}
	for k := Checksum; k <= FreeIndex; k++ {
		if s := k.String(); s == "" || strings.HasPrefix(s, "ProblemKind(") {
			t.Errorf("kind %d has no name", int(k))
		}
	}
	if s := ProblemKind(0).String(); s != "ProblemKind(0)" {
		t.Errorf("ProblemKind(0).String() = %q", s)
	}
}

// FuzzCheck checks mutated small hives: one region of a real hive is
// overwritten, the result opened and checked. Nothing may panic, loop or
// take long.
func FuzzCheck(f *testing.F) {
	seeds := []string{"real/hives/pyreg_UNICODE_TESTS", "real/hives/pyreg_issue22.hive",
		"real/hives/pyreg_REORGANIZED_VALUES_TESTS", "real/hives/BCD", "real/hives/SAM", "hives/winxp/SAM"}
	bases := make([][]byte, len(seeds))
	for i, name := range seeds {
		bases[i] = testimg.Bytes(f, name)
		f.Add(uint8(i), uint32(0x1000+0x20), []byte{0xff, 0xff, 0xff, 0x7f})
		f.Add(uint8(i), uint32(0x1000+0x24), []byte("ri\x02\x00"))
		f.Add(uint8(i), uint32(508), []byte{0})
	}
	f.Fuzz(func(t *testing.T, which uint8, at uint32, patch []byte) {
		base := bases[int(which)%len(bases)]
		if len(patch) > 64 {
			patch = patch[:64]
		}
		b := bytes.Clone(base)
		at %= uint32(len(b))
		copy(b[at:], patch)
		h, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		ps, err := Check(h)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.Kind < Checksum || p.Kind > FreeIndex || p.Offset >= int64(len(b)) {
				t.Fatalf("bad problem %+v", p)
			}
		}
		// An unchanged hive checks clean.
		if bytes.Equal(b, base) && len(ps) > 0 {
			t.Fatalf("unchanged hive: %v", ps)
		}
	})
}

// BenchmarkCheck checks the 12 MB Windows 7 SYSTEM hive.
func BenchmarkCheck(b *testing.B) {
	buf := testimg.Bytes(b, "real/hives/SYSTEM")
	h := openBytes(b, buf)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if ps, err := Check(h); err != nil || len(ps) != 0 {
			b.Fatalf("%v %v", ps, err)
		}
	}
}

func ExampleCheck() {
	h := New("ROOT")
	k, _ := h.CreateKey(`Software\Example`)
	k.SetValue("Version", DWord, EncodeUint32(1))
	problems, err := Check(h)
	fmt.Println(len(problems), err)
	// Output: 0 <nil>
}

// TestCheckRecoveredHive checks a dirty Windows 10 hive once its
// transaction logs are replayed by OpenFile.
func TestCheckRecoveredHive(t *testing.T) {
	dir := testimg.CopyAll(t, "real/hives/transactions_NTUSER.DAT",
		"real/hives/transactions_ntuser.dat.log1", "real/hives/transactions_ntuser.dat.log2")
	h, err := OpenFile(filepath.Join(dir, "transactions_NTUSER.DAT"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if h.Dirty() {
		t.Skip("the logs were not replayed")
	}
	expectClean(t, h, "recovered")
}
