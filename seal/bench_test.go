package seal

import (
	"strings"
	"testing"
)

// A typical value: an OAuth access token, bound to a connection row.
var benchPlaintext = "gho_" + strings.Repeat("16C7e42F292c6912E7710c838347Ae178B4a", 1)

func BenchmarkSeal(b *testing.B) {
	k := mustKeyring(b, secretA)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Seal(benchPlaintext, adConn); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	k := mustKeyring(b, secretA, secretB)
	s := mustSeal(b, k, benchPlaintext, adConn)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Open(s, adConn); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSealParallel(b *testing.B) {
	k := mustKeyring(b, secretA)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := k.Seal(benchPlaintext, adConn); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkNew is the one-time cost of building a keyring (at start).
func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(secretA); err != nil {
			b.Fatal(err)
		}
	}
}
