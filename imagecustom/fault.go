package imagecustom

import (
	"errors"
	"sort"
)

// errInjected is the failure the test seam (Image.failAfter) injects: a
// host write fails (a WriteAt torn after half its bytes) after the writes
// before it were done, as a crash or a full disk would make it.
var errInjected = errors.New("imagecustom: injected write failure")

func sortChanges(c []Change) {
	sort.Slice(c, func(i, k int) bool { return c[i].Offset < c[k].Offset })
}
