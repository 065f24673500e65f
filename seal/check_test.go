package seal

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckValue(t *testing.T) {
	a := mustKeyring(t, secretA)
	idA, checkA := a.CheckValue()
	if idA != a.SealingKeyID() || !IsSealed(checkA) {
		t.Fatalf("CheckValue = %q, %q", idA, checkA)
	}
	if _, again := a.CheckValue(); again == checkA {
		t.Fatal("CheckValue reused a nonce")
	}
	b := mustKeyring(t, secretB)
	idB, checkB := b.CheckValue()
	rotated := mustKeyring(t, secretB, secretA)
	forged := "v1:" + idA + ":" + checkB[headerLen:] // B's check relabelled as A's
	for _, tc := range []struct {
		name    string
		keyring *Keyring
		keyID   string
		value   string
		want    error // nil, ErrUnknownKey, ErrTampered or ErrNotSealed
	}{
		{"right key", a, idA, checkA, nil},
		{"old key still in the keyring", rotated, idA, checkA, nil},
		{"new key", rotated, idB, checkB, nil},
		{"missing key", b, idA, checkA, ErrUnknownKey},
		{"wrong key with a forged id", a, idA, forged, ErrTampered},
		{"value of another key id", a, idB, checkA, ErrTampered},
		{"not sealed", a, idA, "check", ErrNotSealed},
		{"truncated", a, idA, checkA[:len(checkA)-4], ErrTampered},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.keyring.Verify(tc.keyID, tc.value)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify: %v; want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.keyID) {
				t.Fatalf("error %q does not name key %s", err, tc.keyID)
			}
			var uk *UnknownKeyError
			if errors.As(err, &uk) != (tc.want == ErrUnknownKey) || uk != nil && uk.KeyID != tc.keyID {
				t.Fatalf("UnknownKeyError = %+v", uk)
			}
		})
	}
}

func TestCheckValueIsNotAValue(t *testing.T) {
	// A check value opens only as a check value, and a value never
	// verifies as a check value.
	k := mustKeyring(t, secretA)
	id, check := k.CheckValue()
	if _, err := k.Open(check, AssociatedData{checkTable, "x", "x"}); !errors.Is(err, ErrTampered) {
		t.Fatalf("check value opened as a value: %v", err)
	}
	v := mustSeal(t, k, checkText, AssociatedData{checkTable, "check", "check"})
	if err := k.Verify(id, v); !errors.Is(err, ErrTampered) {
		t.Fatalf("a sealed value verified as a check value: %v", err)
	}
}

// TestStartupCheckFlow walks through what the store does at start with a
// table of (key_id, check_value) rows.
func TestStartupCheckFlow(t *testing.T) {
	stored := map[string]string{}
	start := func(k *Keyring) error {
		for id, v := range stored {
			if err := k.Verify(id, v); err != nil {
				return err
			}
		}
		if _, ok := stored[k.SealingKeyID()]; !ok {
			id, v := k.CheckValue()
			stored[id] = v
		}
		return nil
	}
	a := mustKeyring(t, secretA)
	if err := start(a); err != nil || len(stored) != 1 {
		t.Fatalf("first start: %v, %d rows", err, len(stored))
	}
	if err := start(a); err != nil || len(stored) != 1 {
		t.Fatalf("restart: %v, %d rows", err, len(stored))
	}
	var uk *UnknownKeyError
	if err := start(mustKeyring(t, secretB)); !errors.As(err, &uk) || uk.KeyID != a.SealingKeyID() || len(stored) != 1 {
		t.Fatalf("start with a wrong key: %v (must name %s and store nothing)", err, a.SealingKeyID())
	}
	rotated := mustKeyring(t, secretB, secretA)
	if err := start(rotated); err != nil || len(stored) != 2 {
		t.Fatalf("start after rotation: %v, %d rows", err, len(stored))
	}
	if err := start(mustKeyring(t, secretB)); !errors.As(err, &uk) || uk.KeyID != a.SealingKeyID() {
		t.Fatalf("start without the old key before it was retired: %v", err)
	}
}
