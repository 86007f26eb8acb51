package hive

import "fmt"

// recoverHive replays logs into a dirty hive (until log replay lands, it
// recovers nothing).
func recoverHive(buf []byte, logs map[string][]byte) ([]byte, error) {
	return nil, fmt.Errorf("%w: transaction log replay not available", ErrDirty)
}
