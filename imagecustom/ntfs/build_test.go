package ntfs

import (
	"testing"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"
)

func TestRunsRoundTrip(t *testing.T) {
	for _, runs := range [][]run{
		{{0, 0x5634, 0x18}},
		{{0, 100, 1}, {1, sparseLCN, 15}, {16, 90, 16}},   // negative delta after a hole
		{{0, 0x7f, 1}, {1, 0xff, 1}, {2, 0x80 + 0xff, 1}}, // deltas needing a sign byte
		{{0, 1 << 40, 1 << 33}, {1 << 33, 1, 1}},          // wide fields
		{{0, sparseLCN, 1 << 20}},                         // all hole
	} {
		b := encodeRuns(runs)
		got, err := decodeRuns(b, 0, 0)
		if err != nil {
			t.Fatalf("decode(encode(%v)): %v", runs, err)
		}
		if diff := cmp.Diff(runs, got, cmp.AllowUnexported(run{})); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
	// Known encodings (Linux-NTFS documentation's examples).
	if b := encodeRuns([]run{{0, 0x5634, 0x18}}); string(b) != "\x21\x18\x34\x56\x00" {
		t.Errorf("encoding % x", b)
	}
}

func FuzzRunsRoundTrip(f *testing.F) {
	f.Add(int64(5), int64(100), int64(3), int64(-50), int64(7), true)
	f.Fuzz(func(t *testing.T, l1, lcn1, l2, d2, l3 int64, hole bool) {
		if l1 <= 0 || l2 <= 0 || l3 <= 0 || l1 > maxVCN/4 || l2 > maxVCN/4 || l3 > maxVCN/4 || lcn1 < 0 || lcn1 > maxVCN || lcn1+d2 < 0 || lcn1+d2 > maxVCN {
			return
		}
		runs := []run{{0, lcn1, l1}, {l1, lcn1 + d2, l2}}
		if hole {
			runs = append(runs, run{l1 + l2, sparseLCN, l3})
		}
		got, err := decodeRuns(encodeRuns(runs), 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(runs, got, cmp.AllowUnexported(run{})); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
	})
}

func TestAttributeEncodersParse(t *testing.T) {
	name := utf16.Encode([]rune("Ünïcode name.txt"))
	fn := fileName{parent: fileRef(5 | 5<<48), created: 1, modified: 2, changed: 3, accessed: 4,
		allocSize: 4096, dataSize: 10, attrs: 0x20, namespace: namespaceWin32, name: name}
	val := encodeFileName(fn)
	a, err := parseAttribute(encodeResident(attrFileName, "", 3, val, true), 7, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseFileName(a.value, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fn, got, cmp.AllowUnexported(fileName{})); diff != "" || a.instance != 3 || !a.resident {
		t.Errorf("$FILE_NAME round trip (-want +got):\n%s", diff)
	}
	runs := []run{{0, 1000, 4}, {4, sparseLCN, 12}}
	na, err := parseAttribute(encodeNonResident(attrData, "stream", 5, runs, 16*4096, 60000, 50000, attrFlagSparse), 7, 0)
	if err != nil {
		t.Fatal(err)
	}
	if na.name != "stream" || na.dataSize != 60000 || na.initSize != 50000 || na.allocSize != 16*4096 ||
		na.highVCN != 15 || na.flags != attrFlagSparse || len(na.runs) != 2 {
		t.Errorf("non-resident attribute %+v", na)
	}
}
