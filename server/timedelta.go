package server

import (
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// authentik 2026.8's events stats takes its count steps as timedelta
// strings ("weeks=3;days=2", authentik/lib/utils/time.py) and answers
// each under a key made of it (count_step).

// timedeltaUnits are the keys a timedelta string may set, in microseconds.
var timedeltaUnits = map[string]float64{
	"microseconds": 1,
	"milliseconds": 1e3,
	"seconds":      1e6,
	"minutes":      60e6,
	"hours":        3600e6,
	"days":         86400e6,
	"weeks":        7 * 86400e6,
}

// pythonFloat is the text Python's float() reads, but for the infinities
// and NaN, which no timedelta holds: digits with single underscores
// between them, an optional fraction and exponent.
var pythonFloat = regexp.MustCompile(`^[+-]?(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?$`)

// maxTimedeltaDays bounds the days of Python's timedelta: a longer one
// fails to be made (authentik then answers 500).
const maxTimedeltaDays = 999_999_999

// errTimedelta is a count step that is not a timedelta string.
var errTimedelta = errors.New("not a timedelta string")

// timedeltaFromString reads a timedelta string as authentik's function of
// that name does (parseTimedelta, the token lifetime's, is stricter):
// "key=value" pairs separated by ';' (',' is no separator:
// "hours=3,seconds=2" is one malformed pair), each key one of
// timedeltaUnits in any case (later ones win, unknown ones are skipped,
// values and all), each value a number, at least one known key.
// The sum is rounded to the microsecond, as Python's timedelta; one longer
// than a time.Duration holds is the longest Duration of its sign.
func timedeltaFromString(s string) (time.Duration, error) {
	values := map[string]float64{}
	for _, pair := range strings.Split(s, ";") {
		parts := strings.Split(pair, "=")
		if len(parts) != 2 {
			return 0, errTimedelta
		}
		key := strings.ToLower(parts[0])
		if _, ok := timedeltaUnits[key]; !ok {
			continue
		}
		text := strings.TrimFunc(parts[1], unicode.IsSpace)
		if !pythonFloat.MatchString(text) {
			return 0, errTimedelta
		}
		v, err := strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, errTimedelta
		}
		values[key] = v
	}
	if len(values) == 0 {
		return 0, errTimedelta
	}
	var micros float64
	for key, v := range values {
		micros += v * timedeltaUnits[key]
	}
	micros = math.RoundToEven(micros)
	if days := math.Floor(micros / 86400e6); math.IsNaN(micros) || math.Abs(days) > maxTimedeltaDays {
		return 0, errTimedelta
	}
	switch limit := float64(math.MaxInt64 / int64(time.Microsecond)); {
	case micros > limit:
		return math.MaxInt64, nil
	case micros < -limit:
		return math.MinInt64, nil
	}
	return time.Duration(micros) * time.Microsecond, nil
}

// timedeltaFormatError is authentik's message for a count step that is
// not a timedelta string.
func timedeltaFormatError(s string) string {
	return s + " is not in the correct format of 'hours=3;minutes=1'."
}

var (
	slugDrop     = regexp.MustCompile(`[^a-z0-9_\s-]`)
	slugCollapse = regexp.MustCompile(`[-\s]+`)
)

// countStepKey is the key a count step's count is answered under:
// Django's slugify (NFKD, ASCII only, lower case, only letters, digits,
// '_', '-' and spaces kept, each run of spaces and dashes one dash, no
// leading or trailing dash or underscore), with its dashes made
// underscores: "weeks=3;days=2" -> "weeks3days2".
func countStepKey(step string) string {
	var ascii strings.Builder
	for _, r := range norm.NFKD.String(step) {
		if r < 0x80 {
			ascii.WriteRune(r)
		}
	}
	// Python's \s also matches the ASCII separators 0x1c-0x1f.
	s := strings.Map(func(r rune) rune {
		if r >= 0x1c && r <= 0x1f {
			return ' '
		}
		return r
	}, strings.ToLower(ascii.String()))
	s = slugCollapse.ReplaceAllString(slugDrop.ReplaceAllString(s, ""), "-")
	return strings.ReplaceAll(strings.Trim(s, "-_"), "-", "_")
}
