package vmdk_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/imagecustom/go-imagecustom/vmdk"
)

// ExampleConvert turns a raw image into a streamOptimized disk, the form
// vSphere imports (OVF/OVA), and reads it back.
func ExampleConvert() {
	dir, err := os.MkdirTemp("", "vmdk-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	raw := filepath.Join(dir, "disk.img")
	data := bytes.Repeat([]byte("boot sector and more "), 100000) // about 2 MB
	if err := os.WriteFile(raw, data[:2<<20], 0o644); err != nil {
		fmt.Println(err)
		return
	}

	stream := filepath.Join(dir, "disk.vmdk")
	opts := &vmdk.ConvertOptions{Type: vmdk.StreamOptimized}
	if err := vmdk.Convert(context.Background(), raw, stream, opts); err != nil {
		fmt.Println(err)
		return
	}

	d, err := vmdk.Open(stream, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	b := make([]byte, 11)
	d.ReadAt(b, 0)
	fi, _ := os.Stat(stream)
	fmt.Println(d.Descriptor().CreateType, d.Size(), fi.Size() < d.Size()/10)
	fmt.Printf("%s\n", b)
	// Output:
	// streamOptimized 2097152 true
	// boot sector
}
