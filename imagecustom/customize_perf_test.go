package imagecustom_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/imagecustom/go-imagecustom/imagecustom"
	"github.com/imagecustom/go-imagecustom/internal/testimg"
	"github.com/imagecustom/go-imagecustom/sysprep"
	"github.com/imagecustom/go-imagecustom/vmdk"
)

// sparseXP returns a monolithicSparse VMDK of gib GiB capacity whose
// first 256 MiB are the XP fixture's disk.
func sparseXP(tb testing.TB, gib int64) string {
	tb.Helper()
	raw := testimg.Copy(tb, testimg.WinXP().Name)
	if err := os.Truncate(raw, gib<<30); err != nil {
		tb.Fatal(err)
	}
	out := filepath.Join(tb.TempDir(), "xp.vmdk")
	if err := vmdk.Convert(context.Background(), raw, out, &vmdk.ConvertOptions{Type: "monolithicSparse"}); err != nil {
		tb.Fatal(err)
	}
	os.Remove(raw)
	return out
}

// TestCustomizeHostGrowth: customize into a child of a 4 GiB and of a 64
// GiB sparse VMDK, and in place on them: the host files grow by no more
// than the artifacts written plus 4 MiB (grain tables, hives, metadata).
func TestCustomizeHostGrowth(t *testing.T) {
	for _, gib := range []int64{4, 64} {
		for _, child := range []bool{true, false} {
			disk := sparseXP(t, gib)
			spec, dir := customizeSpec(t, "i386")
			opts := &imagecustom.CustomizeOptions{SpecDir: dir}
			if child {
				opts.Child = filepath.Join(t.TempDir(), "c.vmdk")
			}
			before := hostBytes(t, disk)
			res, err := imagecustom.Customize(context.Background(), disk, spec, opts)
			if err != nil {
				t.Fatal(err)
			}
			var artifacts int64
			for _, f := range res.Plan.Files {
				artifacts += f.Size
			}
			artifacts += res.Plan.Hook.Size
			grew := hostBytes(t, disk) - before
			if child {
				if hostBytes(t, disk) != before {
					t.Errorf("%d GiB: the base grew", gib)
				}
				// A new delta disk holds its grain tables from the start
				// (as VMware's and qemu-img's do): 8 MiB for 64 GiB. What
				// the customization adds comes on top.
				empty := filepath.Join(t.TempDir(), "empty.vmdk")
				d, err := vmdk.Snapshot(disk, empty)
				if err != nil {
					t.Fatal(err)
				}
				d.Close()
				grew = hostBytes(t, opts.Child) - hostBytes(t, empty)
			}
			t.Logf("%d GiB, child %v: host files grew %d bytes for %d bytes of artifacts", gib, child, grew, artifacts)
			if grew > artifacts+4<<20 {
				t.Errorf("%d GiB, child %v: host files grew %d bytes, more than the %d of the artifacts plus 4 MiB", gib, child, grew, artifacts)
			}
		}
	}
}

// hostBytes returns the bytes a file holds on the host (its size; the
// sparse VMDKs here have no holes in their files).
func hostBytes(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// BenchmarkCustomize runs the whole job into a child disk: on the
// streamOptimized XP fixture, and on 4 GiB and 64 GiB sparse VMDKs (the
// 64 GiB one should cost at most 1.2 times the 4 GiB one).
func BenchmarkCustomize(b *testing.B) {
	images := []struct {
		name string
		path func(b *testing.B) string
	}{
		{"streamOptimized", func(b *testing.B) string { return testimg.Copy(b, "vmdk/winxp-streamOptimized.vmdk") }},
		{"sparse-4GiB", func(b *testing.B) string { return sparseXP(b, 4) }},
		{"sparse-64GiB", func(b *testing.B) string { return sparseXP(b, 64) }},
	}
	for _, im := range images {
		b.Run(im.name, func(b *testing.B) {
			disk := im.path(b)
			spec, dir := customizeSpec(b, "i386")
			tmp := b.TempDir()
			var res *imagecustom.CustomizeResult
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				child := filepath.Join(tmp, "c.vmdk")
				var err error
				res, err = imagecustom.Customize(context.Background(), disk, spec, &imagecustom.CustomizeOptions{SpecDir: dir, Child: child})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				os.Remove(child)
				b.StartTimer()
			}
			b.ReportMetric(float64(res.Bytes), "bytes-written/op")
		})
	}
}

// ExampleCustomize customizes the bundled XP image into a child disk.
func ExampleCustomize() {
	spec, err := sysprep.Decode([]byte(`
identity: {computerName: EXAMPLE01, fullName: Example}
membership: {workgroup: LAB}
`))
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	res, err := imagecustom.Customize(context.Background(), "../testdata/vmdk/winxp-streamOptimized.vmdk", spec,
		&imagecustom.CustomizeOptions{Child: filepath.Join(dir, "child.vmdk")})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Plan.Windows.Name, res.Plan.Family, res.Plan.ComputerName)
	for _, f := range res.Plan.Files {
		fmt.Println(f.Path, f.Size)
	}
	fmt.Println("verified in the", res.Final.Where+":", res.Final.Files, "files,", res.Final.Values, "values")
	// Output:
	// Windows XP winxp EXAMPLE01
	// \Sysprep\sysprep.inf 339
	// \Sysprep\i386\$OEM$\cmdlines.txt 61
	// \WINDOWS\imagecustom\final.cmd 235
	// verified in the child: 3 files, 4 values
}
