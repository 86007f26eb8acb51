// Command unpack decompresses a fixture next to itself, keeping zero runs
// as holes, with nothing but Go installed:
//
//	go run ./testdata/gen/unpack testdata/winxp.raw.xz   # writes testdata/winxp.raw
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/imagecustom/go-imagecustom/internal/testimg"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: unpack FILE.xz|FILE.gz ...")
		os.Exit(2)
	}
	for _, src := range os.Args[1:] {
		dst := strings.TrimSuffix(strings.TrimSuffix(src, ".xz"), ".gz")
		if dst == src {
			fmt.Fprintf(os.Stderr, "unpack: %s: not .xz or .gz\n", src)
			os.Exit(1)
		}
		if err := testimg.Unpack(src, dst); err != nil {
			fmt.Fprintln(os.Stderr, "unpack:", err)
			os.Exit(1)
		}
		fmt.Println(dst)
	}
}
