package seal

import (
	"errors"
	"testing"
)

// FuzzOpen feeds arbitrary text to Open: it must never panic, must fail
// with one of the documented errors, and must agree with IsSealed.
func FuzzOpen(f *testing.F) {
	k := mustKeyring(f, secretA, secretB)
	s, _ := k.Seal("seed plaintext", adConn)
	_, check := k.CheckValue()
	for _, seed := range []string{s, check, s[:len(s)-1], s + "A", "v1:00000000:" + s[headerLen:], "", "v1:", "plaintext", "v1:deadbeef:====", "v1:7b3a68d5:\n\n"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		pt, err := k.Open(in, adConn)
		if err == nil {
			if pt != "seed plaintext" {
				t.Fatalf("Open(%q) opened to an unexpected plaintext", in)
			}
			return
		}
		if pt != "" {
			t.Fatalf("Open failed but returned a plaintext: %v", err)
		}
		if errors.Is(err, ErrNotSealed) == IsSealed(in) {
			t.Fatalf("Open error %v disagrees with IsSealed = %v", err, IsSealed(in))
		}
		if !errors.Is(err, ErrNotSealed) && !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrTampered) {
			t.Fatalf("Open: undocumented error %v", err)
		}
		_ = k.Verify(k.SealingKeyID(), in)
		_ = k.NeedsReseal(in)
	})
}

// FuzzRoundTrip seals arbitrary plaintexts under arbitrary associated data.
func FuzzRoundTrip(f *testing.F) {
	k := mustKeyring(f, secretA)
	f.Add("token", "connections", "access_token", "1")
	f.Add("", "a", "b\x00", "c")
	f.Fuzz(func(t *testing.T, pt, table, column, id string) {
		ad := AssociatedData{table, column, id}
		s, err := k.Seal(pt, ad)
		if !ad.valid() {
			if !errors.Is(err, ErrAssociatedData) {
				t.Fatalf("Seal with %+v: %v", ad, err)
			}
			return
		}
		if err != nil || !IsSealed(s) {
			t.Fatalf("Seal: %q, %v", s, err)
		}
		if got, err := k.Open(s, ad); err != nil || got != pt {
			t.Fatalf("Open = %q, %v", got, err)
		}
		other := AssociatedData{table + "x", column, id}
		if _, err := k.Open(s, other); !errors.Is(err, ErrTampered) {
			t.Fatalf("Open with other table: %v", err)
		}
	})
}
