package testimg_test

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

// realSums reads testdata/real/SHA256SUMS: file name (without .xz) to the
// SHA-256 of its decompressed content.
func realSums(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testimg.Dir(t), "real", "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			t.Fatalf("SHA256SUMS: bad line %q", sc.Text())
		}
		sums[name] = sum
	}
	return sums
}

func TestRealDataChecksums(t *testing.T) {
	sums := realSums(t)
	if len(sums) < 40 {
		t.Fatalf("SHA256SUMS lists %d files", len(sums))
	}
	for name, want := range sums {
		if got := sum(testimg.Bytes(t, "real/"+name)); got != want {
			t.Errorf("real/%s: sha256 %s, want %s", name, got, want)
		}
	}
	// Every committed file is listed, so none escapes the check or the
	// attribution in README.md.
	root := filepath.Join(testimg.Dir(t), "real")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(p, root+string(filepath.Separator)))
		if rel == "README.md" || rel == "SHA256SUMS" {
			return nil
		}
		if _, ok := sums[strings.TrimSuffix(rel, ".xz")]; !ok {
			t.Errorf("real/%s is not in SHA256SUMS", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for name := range sums {
		if !bytes.Contains(readme, []byte("| "+name)) {
			t.Errorf("real/%s has no row in real/README.md", name)
		}
	}
}

func TestRealVMDKsOpenInQemu(t *testing.T) {
	// The VMware-made disks read in qemu-img as VMware made them; the
	// descriptors whose extents were never published are left to the vmdk
	// package's own tests.
	for _, tt := range []struct {
		files      []string // descriptor first, then its extents
		createType string
		size       int64
	}{
		{[]string{"monolithicSparse.vmdk"}, "monolithicSparse", 10 << 20},
		{[]string{"streamOptimized.vmdk"}, "streamOptimized", 10 << 20},
		{[]string{"twoGbMaxExtentSparse.vmdk", "twoGbMaxExtentSparse-s001.vmdk"}, "twoGbMaxExtentSparse", 10 << 20},
		{[]string{"vmfs_thick.vmdk", "vmfs_thick-flat.vmdk"}, "vmfs", 2 << 20},
		{[]string{"plaso_image.vmdk"}, "monolithicSparse", 200 * 512},
	} {
		t.Run(tt.files[0], func(t *testing.T) {
			var names []string
			for _, f := range tt.files {
				names = append(names, "real/vmdk/"+f)
			}
			dir := testimg.CopyAll(t, names...)
			info := testimg.QemuInfo(t, filepath.Join(dir, tt.files[0]))
			if info.Format != "vmdk" || info.VirtualSize != tt.size || info.FormatSpecific.Data.CreateType != tt.createType {
				t.Errorf("qemu-img info: %s %d %s, want vmdk %d %s", info.Format, info.VirtualSize,
					info.FormatSpecific.Data.CreateType, tt.size, tt.createType)
			}
		})
	}
}
