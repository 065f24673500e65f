package store_test

import (
	"context"
	"testing"
	"time"

	"akconn/store"
	"akconn/testenv"
)

// seeded opens a store with 10,000 seeded connections.
func seeded(b *testing.B) *store.Store {
	st := testenv.OpenStore(b)
	if err := st.Seed(context.Background(), store.SeedOptions{Users: 1000, Sources: 10, Connections: 10000}); err != nil {
		b.Fatal(err)
	}
	return st
}

func BenchmarkGetConnection(b *testing.B) {
	st := seeded(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := st.GetConnection(ctx, store.Scope{All: true}, int64(1+i%10000)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkListConnections(b *testing.B) {
	st := seeded(b)
	ctx := context.Background()
	slug := "seed-src-3"
	for name, f := range map[string]store.ConnectionFilter{
		"default":      {Scope: store.Scope{All: true}},
		"source__slug": {Scope: store.Scope{All: true}, SourceSlug: &slug},
		"owner":        {Scope: store.Scope{UserID: 42}},
		"search":       {Scope: store.Scope{All: true}, Search: "ext-42"},
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, _, err := st.ListConnections(ctx, f, store.Page{Limit: 100}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	st := testenv.OpenStore(b)
	ctx := context.Background()
	if err := st.Bootstrap(ctx, "bench-key-0123456789"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := st.Authenticate(ctx, "bench-key-0123456789", time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
