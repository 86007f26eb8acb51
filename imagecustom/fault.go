package imagecustom

import (
	"errors"
	"sort"
)

// errInjected is the failure the test seam (Image.failAfter) injects: the
// image write of a block fails after some blocks were written, as a crash
// or a full disk would make it.
var errInjected = errors.New("imagecustom: injected write failure")

func sortChanges(c []Change) {
	sort.Slice(c, func(i, k int) bool { return c[i].Offset < c[k].Offset })
}
