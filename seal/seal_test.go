package seal

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

// Test keys (never used outside tests).
const (
	secretA = "test-key-A-0123456789abcdefghijklmnopqrstuv"
	secretB = "test-key-B-0123456789abcdefghijklmnopqrstuv"
)

var adConn = AssociatedData{Table: "connections", Column: "access_token", ID: "42"}

func mustKeyring(t testing.TB, secrets ...string) *Keyring {
	t.Helper()
	k, err := New(secrets...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return k
}

func mustSeal(t testing.TB, k *Keyring, pt string, ad AssociatedData) string {
	t.Helper()
	s, err := k.Seal(pt, ad)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	k := mustKeyring(t, secretA)
	for _, tc := range []struct {
		name      string
		plaintext string
		ad        AssociatedData
	}{
		{"access token", "gho_16C7e42F292c6912E7710c838347Ae178B4a", adConn},
		{"empty", "", adConn},
		{"consumer secret", "s3cr3t", AssociatedData{"oauth_sources", "consumer_secret", "5f0c6a8e-3b0e-4a4e-9e7e-1b1a2c3d4e5f"}},
		{"token key", strings.Repeat("k", 60), AssociatedData{"tokens", "key", "0b6f3f2e-8a7c-4a1b-9f0e-2d3c4b5a6978"}},
		{"unicode and NUL", "päßwörd\x00🔑", adConn},
		{"long", strings.Repeat("x", 64<<10), adConn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustSeal(t, k, tc.plaintext, tc.ad)
			if !IsSealed(s) {
				t.Fatalf("IsSealed(%q) = false", s)
			}
			if id, ok := KeyID(s); !ok || id != k.SealingKeyID() {
				t.Fatalf("KeyID = %q, %v; want %q", id, ok, k.SealingKeyID())
			}
			if want := "v1:" + k.SealingKeyID() + ":"; !strings.HasPrefix(s, want) {
				t.Fatalf("sealed value %.20q does not start with %q", s, want)
			}
			if len(tc.plaintext) >= 4 && strings.Contains(s, tc.plaintext) {
				t.Fatal("sealed value contains the plaintext")
			}
			got, err := k.Open(s, tc.ad)
			if err != nil || got != tc.plaintext {
				t.Fatalf("Open = %.40q, %v; want the plaintext", got, err)
			}
			if again := mustSeal(t, k, tc.plaintext, tc.ad); again == s {
				t.Fatal("sealing twice gave the same value (nonce reused)")
			}
		})
	}
}

func TestSealedLengthFitsTokenColumn(t *testing.T) {
	// tokens.key is VARCHAR(255); a 60-character key must fit sealed.
	k := mustKeyring(t, secretA)
	if s := mustSeal(t, k, strings.Repeat("k", 60), AssociatedData{"tokens", "key", "x"}); len(s) != 130 {
		t.Fatalf("sealed 60-character key has %d characters, want 130", len(s))
	}
}

func TestAssociatedDataMismatch(t *testing.T) {
	k := mustKeyring(t, secretA)
	s := mustSeal(t, k, "secret", adConn)
	for _, tc := range []struct {
		name string
		ad   AssociatedData
	}{
		{"other row", AssociatedData{"connections", "access_token", "43"}},
		{"other column", AssociatedData{"connections", "identifier", "42"}},
		{"other table", AssociatedData{"tokens", "access_token", "42"}},
		{"fields shifted", AssociatedData{"connectionsa", "ccess_token", "42"}},
		{"row id prefix", AssociatedData{"connections", "access_token", "4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := k.Open(s, tc.ad); !errors.Is(err, ErrTampered) || got != "" {
				t.Fatalf("Open = %q, %v; want ErrTampered", got, err)
			}
		})
	}
}

func TestEmptyAssociatedDataRefused(t *testing.T) {
	k := mustKeyring(t, secretA)
	s := mustSeal(t, k, "secret", adConn)
	for _, ad := range []AssociatedData{{}, {"", "c", "1"}, {"t", "", "1"}, {"t", "c", ""}} {
		if _, err := k.Seal("x", ad); !errors.Is(err, ErrAssociatedData) {
			t.Errorf("Seal with %+v: %v; want ErrAssociatedData", ad, err)
		}
		if _, err := k.Open(s, ad); !errors.Is(err, ErrAssociatedData) {
			t.Errorf("Open with %+v: %v; want ErrAssociatedData", ad, err)
		}
	}
}

func TestTampered(t *testing.T) {
	k := mustKeyring(t, secretA)
	s := mustSeal(t, k, "a secret access token", adConn)
	flip := func(i int) string { // change one base64url character of the body
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for _, tc := range []struct {
		name   string
		sealed string
	}{
		{"nonce", flip(headerLen)},
		{"ciphertext", flip(headerLen + 20)},
		{"tag", flip(len(s) - 2)},
		{"truncated", s[:len(s)-4]},
		{"appended", s + "AAAA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !IsSealed(tc.sealed) {
				t.Skip("no longer well-formed; covered by TestIsSealed")
			}
			if got, err := k.Open(tc.sealed, adConn); !errors.Is(err, ErrTampered) || got != "" {
				t.Fatalf("Open = %q, %v; want ErrTampered", got, err)
			}
		})
	}
	// The header is authenticated too: another key id is refused, even
	// when the keyring holds that key.
	k2 := mustKeyring(t, secretA, secretB)
	other := "v1:" + k2.KeyIDs()[1] + ":" + s[headerLen:]
	if _, err := k2.Open(other, adConn); !errors.Is(err, ErrTampered) {
		t.Fatalf("Open with swapped key id: %v; want ErrTampered", err)
	}
}

func TestUnknownKey(t *testing.T) {
	a, b := mustKeyring(t, secretA), mustKeyring(t, secretB)
	s := mustSeal(t, a, "secret", adConn)
	_, err := b.Open(s, adConn)
	var uk *UnknownKeyError
	if !errors.As(err, &uk) || uk.KeyID != a.SealingKeyID() || !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("Open with another keyring: %v; want *UnknownKeyError for %s", err, a.SealingKeyID())
	}
	if !strings.Contains(err.Error(), a.SealingKeyID()) {
		t.Fatalf("error %q does not name key %s", err, a.SealingKeyID())
	}
}

func TestRotation(t *testing.T) {
	oldK := mustKeyring(t, secretA)
	rotated := mustKeyring(t, secretB, secretA) // [new, old]
	oldVal := mustSeal(t, oldK, "old secret", adConn)
	newVal := mustSeal(t, rotated, "new secret", adConn)

	if id, _ := KeyID(newVal); id != rotated.SealingKeyID() || id == oldK.SealingKeyID() {
		t.Fatalf("rotated keyring sealed with %s, want the new key %s", id, rotated.SealingKeyID())
	}
	for _, tc := range []struct {
		name        string
		sealed      string
		want        string
		needsReseal bool
	}{
		{"value of the old key", oldVal, "old secret", true},
		{"value of the new key", newVal, "new secret", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rotated.Open(tc.sealed, adConn)
			if err != nil || got != tc.want {
				t.Fatalf("Open = %q, %v; want %q", got, err, tc.want)
			}
			if r := rotated.NeedsReseal(tc.sealed); r != tc.needsReseal {
				t.Fatalf("NeedsReseal = %v, want %v", r, tc.needsReseal)
			}
		})
	}
	if !rotated.NeedsReseal("plaintext") {
		t.Fatal("NeedsReseal(plaintext) = false; plaintext needs sealing")
	}
	if oldK.NeedsReseal(oldVal) {
		t.Fatal("old keyring: NeedsReseal of its own value = true")
	}
	// Re-sealing an old value moves it to the new key.
	pt, _ := rotated.Open(oldVal, adConn)
	resealed := mustSeal(t, rotated, pt, adConn)
	if rotated.NeedsReseal(resealed) {
		t.Fatal("re-sealed value still needs resealing")
	}
	if _, err := oldK.Open(resealed, adConn); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("old keyring opened a value of the new key: %v", err)
	}
	if got := rotated.KeyIDs(); len(got) != 2 || got[0] != rotated.SealingKeyID() || got[1] != oldK.SealingKeyID() {
		t.Fatalf("KeyIDs = %v", got)
	}
}

func TestIsSealed(t *testing.T) {
	k := mustKeyring(t, secretA)
	good := mustSeal(t, k, "x", adConn)
	body := good[headerLen:]
	id := k.SealingKeyID()
	for _, tc := range []struct {
		name string
		s    string
		want bool
	}{
		{"sealed", good, true},
		{"sealed by an unknown key", "v1:00000000:" + body, true},
		{"empty", "", false},
		{"plaintext", "gho_16C7e42F292c6912E7710c838347Ae178B4a", false},
		{"prefix only", "v1:", false},
		{"no body", "v1:" + id + ":", false},
		{"short body", "v1:" + id + ":" + body[:minBodyLen-1], false},
		{"upper-case key id", "v1:" + strings.ToUpper("deadbeef") + ":" + body, false},
		{"short key id", "v1:deadbee:" + body, false},
		{"long key id", "v1:deadbeef0:" + body, false},
		{"non-hex key id", "v1:deadbeeg:" + body, false},
		{"other version", "v2:" + id + ":" + body, false},
		{"upper-case version", "V1:" + id + ":" + body, false},
		{"leading space", " " + good, false},
		{"trailing newline", good + "\n", false},
		{"newline inside", good[:headerLen+4] + "\n" + good[headerLen+4:], false},
		{"padding", good + "=", false},
		{"standard alphabet", "v1:" + id + ":" + strings.Repeat("+/", 20), false},
		{"impossible length", "v1:" + id + ":" + strings.Repeat("A", 41), false},
		{"nonzero trailing bits", "v1:" + id + ":" + strings.Repeat("A", 37) + "B", false},
		{"looks like a URL", "v1:deadbeef://example.com/" + strings.Repeat("a", 40), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsSealed(tc.s); got != tc.want {
				t.Fatalf("IsSealed(%q) = %v, want %v", tc.s, got, tc.want)
			}
			_, ok := KeyID(tc.s)
			_, err := k.Open(tc.s, adConn)
			if ok != tc.want || errors.Is(err, ErrNotSealed) == tc.want {
				t.Fatalf("KeyID ok = %v, Open error %v: disagree with IsSealed = %v", ok, err, tc.want)
			}
		})
	}
}

func TestErrorsHoldNoSecrets(t *testing.T) {
	k := mustKeyring(t, secretA)
	pt := "PLAINTEXT-must-not-leak"
	s := mustSeal(t, k, pt, adConn)
	body := s[headerLen:]
	var errs []error
	for _, v := range []string{s, s[:len(s)-3] + "AAA", "v1:00000000:" + body, pt} {
		_, err := k.Open(v, AssociatedData{"t", "c", "1"})
		errs = append(errs, err)
		errs = append(errs, k.Verify(k.SealingKeyID(), v))
	}
	_, err := New(secretA[:20])
	errs = append(errs, err)
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error")
		}
		for _, secret := range []string{pt, secretA, secretA[:20], body[:16]} {
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q holds a secret or ciphertext", err)
			}
		}
	}
	for _, f := range []string{k.String(), k.GoString()} {
		if strings.Contains(f, secretA) || !strings.Contains(f, k.SealingKeyID()) {
			t.Fatalf("String = %q", f)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	k := mustKeyring(t, secretA, secretB)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				ad := AssociatedData{"connections", "access_token", strings.Repeat("9", g+1)}
				pt := strings.Repeat("p", i)
				s, err := k.Seal(pt, ad)
				if err != nil {
					t.Error(err)
					return
				}
				if got, err := k.Open(s, ad); err != nil || got != pt {
					t.Errorf("Open = %q, %v", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestZeroKeyring(t *testing.T) {
	var k *Keyring
	if _, err := k.Seal("x", adConn); err == nil {
		t.Fatal("nil keyring sealed")
	}
	if _, err := (&Keyring{}).Seal("x", adConn); err == nil {
		t.Fatal("empty keyring sealed")
	}
	if _, err := k.Open("v1:00000000:"+strings.Repeat("A", 38), adConn); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("nil keyring Open: %v", err)
	}
	if id, v := k.CheckValue(); id != "" || v != "" || k.SealingKeyID() != "" || k.KeyIDs() != nil {
		t.Fatal("nil keyring has keys")
	}
}
