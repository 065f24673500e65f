package server

import (
	"testing"
	"time"
)

// TestTimedeltaFromString: count steps read as authentik's
// timedelta_from_string reads them; what it refuses (authentik's 400, or
// its 500 for a timedelta Python cannot hold) is an error.
func TestTimedeltaFromString(t *testing.T) {
	day := 24 * time.Hour
	for s, want := range map[string]time.Duration{
		"hours=24":                   day,
		"weeks=3;days=2":             23 * day,
		"Hours=1;MINUTES=30":         90 * time.Minute,
		"hours=1;hours=2":            2 * time.Hour,
		"days=0.5":                   12 * time.Hour,
		"seconds= 1_000 ":            1000 * time.Second,
		"microseconds=1.5":           2 * time.Microsecond, // rounded half to even
		"microseconds=2.5":           2 * time.Microsecond,
		"hours=-3":                   -3 * time.Hour,
		"milliseconds=1e3":           time.Second,
		"days=1;foo=bar;x=":          day,
		"days=.5":                    12 * time.Hour,
		"weeks=100000":               time.Duration(1<<63 - 1), // Python holds it; longer than a Duration
		"days=-999999999":            time.Duration(-1 << 63),
		"days=2;minutes=3;seconds=4": 2*day + 3*time.Minute + 4*time.Second,
	} {
		got, err := timedeltaFromString(s)
		if err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{
		"", "24d", "hours=3,seconds=2", "weeks=3;days=2;hours=3,seconds=2", "hours=1;", "hours=", "hours=x",
		"foo=1", " hours=1", "hours=1=2", "hours=nan", "hours=inf", "hours=0x10", "hours=1__0", "hours=_1",
		"days=1000000000",
	} {
		if got, err := timedeltaFromString(s); err == nil {
			t.Errorf("%q: %v, want an error", s, got)
		}
	}
}

// TestCountStepKey: a step's key is Django's slugify of it, dashes made
// underscores.
func TestCountStepKey(t *testing.T) {
	for step, want := range map[string]string{
		"hours=24":             "hours24",
		"days=7":               "days7",
		"weeks=3;days=2":       "weeks3days2",
		"Hours=1; Minutes=30":  "hours1_minutes30",
		"hours=-3":             "hours_3",
		"days=0.5":             "days05",
		"--days=1__":           "days1",
		"hours=1 -  minutes=2": "hours1_minutes2",
		"dáys=1":               "days1",
		"hours=1\x1fminutes=2": "hours1_minutes2",
		"hours=1;ﬁ=2":          "hours1fi2",
	} {
		if got := countStepKey(step); got != want {
			t.Errorf("%q: %q, want %q", step, got, want)
		}
	}
	if got := timedeltaFormatError("24d"); got != "24d is not in the correct format of 'hours=3;minutes=1'." {
		t.Errorf("error message %q", got)
	}
}
