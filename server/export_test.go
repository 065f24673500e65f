package server

import "bytes"

// CountBodyDecodes counts the request bodies decoded, from now until stop
// is called, whose text holds marker.
func CountBodyDecodes(marker string) (count func() int, stop func()) {
	n := 0
	decodeHook = func(raw []byte) {
		if bytes.Contains(raw, []byte(marker)) {
			n++
		}
	}
	return func() int { return n }, func() { decodeHook = nil }
}
