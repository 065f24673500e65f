package store

import (
	"fmt"
	"strings"
	"testing"
)

// rarePart keeps a term whole unless it has a word most identifiers hold
// beside a rare one; then it is the rare word with what borders it.
func TestRarePart(t *testing.T) {
	var seeded []string
	for i := 0; i < 1000; i++ {
		seeded = append(seeded, fmt.Sprintf("seed-ext-%d", i))
	}
	sampled := func() []string { return seeded }
	for term, want := range map[string]string{
		"ext-777":        "-777", // "ext" in all, "777" in one
		"seed-ext-123":   "-123",
		"ext-7":          "ext-7",        // the rare word is under three characters
		"seed-ext":       "seed-ext",     // every word common
		"alice":          "alice",        // one word
		"élodie-ext-999": "élodie-",      // the rarest word: in none sampled
		"github|12345":   "github|12345", // no word common
	} {
		if got := rarePart(term, sampled); got != want {
			t.Errorf("rarePart(%q) = %q, want %q", term, got, want)
		}
	}
	many := "ext-777" + strings.Repeat("-ext", maxWeighedWords)
	if got := rarePart(many, sampled); got != many {
		t.Errorf("with %d words: %q, want the term whole", maxWeighedWords+2, got)
	}
	if got := rarePart("ext-777", func() []string { return seeded[:10] }); got != "ext-777" {
		t.Errorf("with a sample of 10: %q, want the term whole", got)
	}
}
