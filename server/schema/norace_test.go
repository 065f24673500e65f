//go:build !race

package schema_test

// raceEnabled tells whether the race detector is on: sync.Pool then drops
// items at random.
const raceEnabled = false
