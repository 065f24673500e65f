package store

import (
	"context"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// identifierSample holds some connections' identifiers, folded, with
// which PostgreSQL's search tells the words of a term that most
// identifiers contain from those few do (rarePart).
type identifierSample struct {
	mu         sync.Mutex
	folded     []string
	taken      time.Time
	refreshing bool
}

const (
	// sampleSize bounds the identifiers a sample holds.
	sampleSize = 5000
	// sampleMaxAge is how long a sample serves before it is taken again
	// (in the background).
	sampleMaxAge = 10 * time.Minute
	// minSample is the fewest identifiers a sample must hold to be used:
	// a small table's every search is cheap anyway.
	minSample = 200
	// maxWeighedWords bounds the words of a term rarePart weighs (each
	// against every sampled identifier): a longer term is looked up whole.
	maxWeighedWords = 16
)

// identifiersSampled returns the sample of identifiers: taken now when
// there is none yet, taken again in the background when it is old.
func (s *Store) identifiersSampled(ctx context.Context) []string {
	smp := &s.search.sample
	smp.mu.Lock()
	if smp.taken.IsZero() {
		smp.mu.Unlock()
		s.takeSample(ctx)
		smp.mu.Lock()
	} else if !smp.refreshing && time.Since(smp.taken) > sampleMaxAge {
		smp.refreshing = true
		go s.takeSample(context.WithoutCancel(ctx))
	}
	defer smp.mu.Unlock()
	return smp.folded
}

// takeSample reads about sampleSize identifiers from pages picked at
// random (TABLESAMPLE SYSTEM: a hundredth of the table's pages, or all of
// a small table's) and keeps them, folded. A failure keeps the sample
// there was, until the next attempt.
func (s *Store) takeSample(ctx context.Context) {
	var folded []string
	err := s.db.WithContext(ctx).Raw("SELECT LOWER(identifier) FROM connections TABLESAMPLE SYSTEM (1) LIMIT ?", sampleSize).
		Scan(&folded).Error
	if err == nil && len(folded) < minSample {
		err = s.db.WithContext(ctx).Raw("SELECT LOWER(identifier) FROM connections LIMIT ?", sampleSize).Scan(&folded).Error
	}
	smp := &s.search.sample
	smp.mu.Lock()
	defer smp.mu.Unlock()
	smp.taken, smp.refreshing = time.Now(), false
	if err == nil {
		smp.folded = folded
	}
}

// rarePart returns what of a folded search term a trigram index should
// look up: the term itself, or, when the term has a word (a run of
// letters and digits, as pg_trgm splits) that at least half of the sampled
// identifiers contain and another that at most one in twenty does, the
// rarest word with the characters that border it in the term. The
// index's posting lists of a common word's trigrams span the whole table,
// while a rare word's find the same candidates in a fraction of the reads
// (docs/QUERY_PLANS.md). The caller checks the whole term on every candidate, so the result is the
// same whichever part is looked up.
func rarePart(term string, sampled func() []string) string {
	type word struct {
		start, end int
		freq       float64
	}
	var words []word
	start := -1
	for i, r := range term + " " {
		inWord := unicode.IsLetter(r) || unicode.IsDigit(r)
		switch {
		case inWord && start < 0:
			start = i
		case !inWord && start >= 0:
			words = append(words, word{start: start, end: i})
			start = -1
		}
	}
	if len(words) < 2 || len(words) > maxWeighedWords {
		return term
	}
	sample := sampled()
	if len(sample) < minSample {
		return term
	}
	rarest, common := -1, false
	for i := range words {
		w := term[words[i].start:words[i].end]
		n := 0
		for _, id := range sample {
			if strings.Contains(id, w) {
				n++
			}
		}
		words[i].freq = float64(n) / float64(len(sample))
		common = common || words[i].freq >= 0.5
		if utf8.RuneCountInString(w) >= 3 && (rarest < 0 || words[i].freq < words[rarest].freq) {
			rarest = i
		}
	}
	if !common || rarest < 0 || words[rarest].freq > 0.05 {
		return term
	}
	from, to := words[rarest].start, words[rarest].end
	if from > 0 {
		_, size := utf8.DecodeLastRuneInString(term[:from])
		from -= size
	}
	if to < len(term) {
		_, size := utf8.DecodeRuneInString(term[to:])
		to += size
	}
	return term[from:to]
}
