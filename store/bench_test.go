package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

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

// BenchmarkCreateConnection creates connections from 64 goroutines (the
// bench's durable creates without HTTP), each linking a seeded user to a
// source of its own run: with the audit trail on, plain and carrying an
// access token the store seals, and without the audit trail. Run with
// -benchtime=Nx, N at most 50,000 (the seeded users).
func BenchmarkCreateConnection(b *testing.B) {
	const users = 50000
	st := testenv.OpenStore(b)
	if err := st.Seed(context.Background(), store.SeedOptions{Users: users, Sources: 1, Connections: 1}); err != nil {
		b.Fatal(err)
	}
	pk := int64(1)
	audited := store.WithAudit(context.Background(), &store.Audit{User: map[string]any{"pk": 1, "username": "bench"}, UserPK: &pk, Username: "bench"})
	for _, run := range []struct {
		name   string
		ctx    context.Context
		sealed bool
	}{{"plain", audited, false}, {"access_token", audited, true}, {"no_audit", context.Background(), false}} {
		b.Run(run.name, func(b *testing.B) {
			if b.N > users {
				b.Skipf("-benchtime=%dx: at most %d creates", b.N, users)
			}
			id := uuid.NewString() // each run of the function has a source of its own
			src := &store.OAuthSource{ID: id, Name: run.name, Slug: id, ProviderType: "github",
				UserPropertyMappings: []string{}, GroupPropertyMappings: []string{}, OIDCJWKS: map[string]any{}}
			if err := st.CreateSource(run.ctx, src); err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			b.SetParallelism(32)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1)
					c := &store.Connection{UserID: i, SourceID: src.ID, Identifier: fmt.Sprintf("bench-%d", i)}
					if run.sealed {
						token := fmt.Sprintf("gho_bench%040d", i)
						c.SetAccessToken, c.AccessToken = true, &token
					}
					if err := st.CreateConnection(run.ctx, c); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
