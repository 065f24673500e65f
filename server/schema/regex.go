package schema

import (
	"math"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// matcher matches a regular expression as Go's regexp does. An anchored
// expression made of character sets whose repetitions cannot overlap
// (^[0-9a-f]{8}-...$, ^[-a-zA-Z0-9_]+$, ^$|^[^@]+@[^@\s]+$) is matched
// by a greedy walk over the string; any other goes to regexp.
type matcher struct {
	alts [][]item // nil: use re
	re   *regexp.Regexp
}

// item is a character set repeated min to max times.
type item struct {
	set      *runeSet
	min, max int
}

// runeSet is a set of runes: a bitmap for ASCII, ranges for the rest.
type runeSet struct {
	ascii  [2]uint64
	ranges []rune // lo, hi pairs, as syntax.Regexp.Rune
}

// has reports whether c is in r.
func (r *runeSet) has(c rune) bool {
	if c < utf8.RuneSelf {
		return r.ascii[c>>6]&(1<<(c&63)) != 0
	}
	for k := 0; k+1 < len(r.ranges); k += 2 {
		if r.ranges[k] <= c && c <= r.ranges[k+1] {
			return true
		}
	}
	return false
}

// newRuneSet makes a set of lo, hi range pairs.
func newRuneSet(ranges []rune) *runeSet {
	s := &runeSet{ranges: ranges}
	for k := 0; k+1 < len(ranges); k += 2 {
		for c := ranges[k]; c <= ranges[k+1] && c < utf8.RuneSelf; c++ {
			s.ascii[c>>6] |= 1 << (c & 63)
		}
	}
	return s
}

// overlaps reports whether two sets share a rune.
func (r *runeSet) overlaps(o *runeSet) bool {
	for a := 0; a+1 < len(r.ranges); a += 2 {
		for b := 0; b+1 < len(o.ranges); b += 2 {
			if r.ranges[a] <= o.ranges[b+1] && o.ranges[b] <= r.ranges[a+1] {
				return true
			}
		}
	}
	return false
}

// kinPattern rewrites a schema pattern as kin-openapi does before
// compiling it (openapi3/schema_pattern.go, intoGoRegexp): \uXXXX, with
// upper-case hex digits only, becomes \x{XXXX}.
func kinPattern(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); {
		if i+6 <= len(p) && p[i] == '\\' && p[i+1] == 'u' && upperHex(p[i+2:i+6]) {
			b.WriteString(`\x{` + p[i+2:i+6] + `}`)
			i += 6
			continue
		}
		b.WriteByte(p[i])
		i++
	}
	return b.String()
}

// upperHex reports whether s holds only digits and upper-case hex letters.
func upperHex(s string) bool {
	for k := 0; k < len(s); k++ {
		if c := s[k]; !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// compilePattern compiles p as regexp.Compile does.
func compilePattern(p string) (*matcher, error) {
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, err
	}
	m := &matcher{re: re}
	if tree, err := syntax.Parse(p, syntax.Perl); err == nil {
		if alts, ok := sequences(tree); ok && len(alts) > 0 {
			var items [][]item
			for _, a := range alts {
				it, ok := anchored(a)
				if !ok {
					return m, nil
				}
				items = append(items, it)
			}
			m.alts = items
		}
	}
	return m, nil
}

// match reports whether s matches m.
func (m *matcher) match(s []byte) bool {
	if m.alts == nil {
		return m.re.Match(s)
	}
	for _, a := range m.alts {
		if walk(a, s) {
			return true
		}
	}
	return false
}

// walk matches s against one sequence: as no item's set meets what may
// follow it, taking as many runes as possible at each item is the only
// way to match.
func walk(a []item, s []byte) bool {
	i := 0
	for _, it := range a {
		n := 0
		for n < it.max && i < len(s) {
			c, size := rune(s[i]), 1
			if c >= utf8.RuneSelf {
				c, size = utf8.DecodeRune(s[i:])
			}
			if !it.set.has(c) {
				break
			}
			i += size
			n++
		}
		if n < it.min {
			return false
		}
	}
	return i == len(s)
}

// elem is an item of a sequence, or an anchor (set nil): start or end of
// the text.
type elem struct {
	item
	anchor syntax.Op
}

// sequences expands re into the alternative sequences it matches, if it
// is made of the supported operators only.
func sequences(re *syntax.Regexp) ([][]elem, bool) {
	const limit = 16
	single := func(e elem) ([][]elem, bool) { return [][]elem{{e}}, true }
	switch re.Op {
	case syntax.OpBeginText, syntax.OpEndText:
		return single(elem{anchor: re.Op})
	case syntax.OpEmptyMatch:
		return [][]elem{{}}, true
	case syntax.OpCapture:
		return sequences(re.Sub[0])
	case syntax.OpLiteral, syntax.OpCharClass, syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		var out []elem
		for _, set := range charSets(re) {
			if set == nil {
				return nil, false
			}
			out = append(out, elem{item: item{set: set, min: 1, max: 1}})
		}
		return [][]elem{out}, true
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		sets := charSets(re.Sub[0])
		if len(sets) != 1 || sets[0] == nil {
			return nil, false
		}
		it := item{set: sets[0], max: math.MaxInt}
		switch re.Op {
		case syntax.OpPlus:
			it.min = 1
		case syntax.OpQuest:
			it.max = 1
		case syntax.OpRepeat:
			it.min = re.Min
			if re.Max >= 0 {
				it.max = re.Max
			}
		}
		return single(elem{item: it})
	case syntax.OpAlternate:
		var out [][]elem
		for _, sub := range re.Sub {
			s, ok := sequences(sub)
			if !ok || len(out)+len(s) > limit {
				return nil, false
			}
			out = append(out, s...)
		}
		return out, true
	case syntax.OpConcat:
		out := [][]elem{{}}
		for _, sub := range re.Sub {
			s, ok := sequences(sub)
			if !ok || len(out)*len(s) > limit {
				return nil, false
			}
			var next [][]elem
			for _, head := range out {
				for _, tail := range s {
					next = append(next, append(append([]elem{}, head...), tail...))
				}
			}
			out = next
		}
		return out, true
	}
	return nil, false
}

// charSets returns the one-rune sets re matches in a row, nil for an
// unsupported one.
func charSets(re *syntax.Regexp) []*runeSet {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return []*runeSet{nil}
		}
		out := make([]*runeSet, len(re.Rune))
		for k, r := range re.Rune {
			out[k] = newRuneSet([]rune{r, r})
		}
		return out
	case syntax.OpCharClass:
		return []*runeSet{newRuneSet(re.Rune)}
	case syntax.OpAnyCharNotNL:
		return []*runeSet{newRuneSet([]rune{0, '\n' - 1, '\n' + 1, utf8.MaxRune})}
	case syntax.OpAnyChar:
		return []*runeSet{newRuneSet([]rune{0, utf8.MaxRune})}
	}
	return []*runeSet{nil}
}

// anchored turns a sequence into items if it is ^items$ and no item with a
// varying count shares a rune with what may follow it.
func anchored(seq []elem) ([]item, bool) {
	if len(seq) < 2 || seq[0].anchor != syntax.OpBeginText || seq[len(seq)-1].anchor != syntax.OpEndText {
		return nil, false
	}
	var items []item
	for _, e := range seq[1 : len(seq)-1] {
		if e.set == nil {
			return nil, false
		}
		items = append(items, e.item)
	}
	for k, it := range items {
		if it.min == it.max {
			continue
		}
		for _, next := range items[k+1:] {
			if it.set.overlaps(next.set) {
				return nil, false
			}
			if next.min > 0 {
				break
			}
		}
	}
	return items, true
}
