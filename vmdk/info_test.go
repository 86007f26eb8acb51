package vmdk_test

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
	"github.com/imagecustom/go-imagecustom/vmdk"
)

// qemuVMDKInfo is the part of qemu-img info's JSON that Info must agree
// with.
type qemuVMDKInfo struct {
	VirtualSize    int64 `json:"virtual-size"`
	FormatSpecific struct {
		Data struct {
			CID        uint32 `json:"cid"`
			ParentCID  uint32 `json:"parent-cid"`
			CreateType string `json:"create-type"`
			Extents    []struct {
				VirtualSize int64  `json:"virtual-size"`
				Filename    string `json:"filename"`
				ClusterSize int64  `json:"cluster-size"`
				Format      string `json:"format"`
				Compressed  bool   `json:"compressed"`
			} `json:"extents"`
		} `json:"data"`
	} `json:"format-specific"`
}

type qemuMapEntry struct {
	Start, Length int64
	Depth         int
	Present, Data bool
}

// TestInfo compares Info with what qemu-img info and qemu-img map say of
// disks qemu-img made: type, CIDs, capacity, extents, grain sizes, and
// allocated bytes (the data qemu-img maps at depth 0).
func TestInfo(t *testing.T) {
	testimg.Oracle(t, "qemu-img")
	dir := t.TempDir()
	const size = 6<<20 + 512
	src, _ := makeRaw(t, dir, size, 21)
	for _, sub := range []string{"monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse", "twoGbMaxExtentFlat", "streamOptimized"} {
		t.Run(sub, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "d.vmdk")
			testimg.Run(t, "qemu-img", "convert", "-f", "raw", "-O", "vmdk", "-o", "subformat="+sub+",adapter_type=lsilogic", src, dst)
			d, err := vmdk.Open(dst, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			in, err := d.Info()
			if err != nil {
				t.Fatal(err)
			}
			var q qemuVMDKInfo
			if err := json.Unmarshal(testimg.Run(t, "qemu-img", "info", "--output=json", dst), &q); err != nil {
				t.Fatal(err)
			}
			qd := q.FormatSpecific.Data
			if in.CreateType != qd.CreateType || in.CID != qd.CID || in.ParentCID != qd.ParentCID || in.Capacity != q.VirtualSize {
				t.Errorf("Info: %s cid %08x parent %08x %d bytes; qemu-img: %s %08x %08x %d",
					in.CreateType, in.CID, in.ParentCID, in.Capacity, qd.CreateType, qd.CID, qd.ParentCID, q.VirtualSize)
			}
			if in.Adapter != "lsilogic" || in.Heads == 0 || in.Sectors == 0 {
				t.Errorf("adapter %q geometry %d/%d/%d", in.Adapter, in.Cylinders, in.Heads, in.Sectors)
			}
			type ext struct {
				File       string
				Size       int64
				Grain      int64
				Type       string
				Compressed bool
			}
			var got, want []ext
			for _, e := range in.Extents {
				got = append(got, ext{e.File, e.Size, e.GrainSize, e.Type, e.Compressed})
			}
			for _, e := range qd.Extents {
				g := e.ClusterSize
				switch e.Format {
				case "FLAT":
					g = 0
				case "": // qemu-img leaves the format out for a monolithic sparse file
					e.Format = "SPARSE"
				}
				want = append(want, ext{filepath.Base(e.Filename), e.VirtualSize, g, e.Format, e.Compressed})
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("extents (-qemu-img +Info):\n%s", diff)
			}
			var m []qemuMapEntry
			if err := json.Unmarshal(testimg.Run(t, "qemu-img", "map", "--output=json", dst), &m); err != nil {
				t.Fatal(err)
			}
			var mapped int64
			for _, e := range m {
				if e.Depth == 0 && e.Present && e.Data {
					mapped += e.Length
				}
			}
			if in.Allocated != mapped {
				t.Errorf("Allocated %d bytes, qemu-img map says %d", in.Allocated, mapped)
			}
			if in.HostBytes <= 0 {
				t.Errorf("HostBytes %d", in.HostBytes)
			}
		})
	}
}
