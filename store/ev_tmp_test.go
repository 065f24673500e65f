package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"akconn/seal"
	"gorm.io/gorm"
)

func BenchmarkEventInsertTmp(b *testing.B) {
	for _, variant := range []string{"as-is", "no-secondary"} {
		b.Run(variant, func(b *testing.B) {
			keys, _ := seal.New("deferred-test-secret-key-0123456789")
			s, err := Open(filepath.Join(b.TempDir(), "t.db"), Options{Keyring: keys})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if variant == "no-secondary" {
				for _, ix := range []string{"created", "user", "action", "username", "model_pk", "client_ip", "model_name", "model_app", "expires"} {
					s.db.Exec("DROP INDEX idx_events_" + ix)
				}
			}
			pk := int64(1)
			ip := "127.0.0.1"
			a := &Audit{User: map[string]any{"pk": 1, "username": "admin", "email": "a@example.com"}, UserPK: &pk, Username: "admin", ClientIP: &ip,
				HTTPRequest: map[string]any{"path": "/api/v3/sources/user_connections/oauth/", "method": "POST", "args": map[string]any{}, "user_agent": "bench", "request_id": "0123456789abcdef0123456789abcdef"}}
			b.ResetTimer()
			for i := 0; i < b.N; i += 32 {
				err := s.transaction(context.Background(), func(tx *gorm.DB) error {
					if variant == "cache64m" {
						tx.Exec("PRAGMA cache_size = -65536")
					}
					var evs []*Event
					for j := 0; j < 32; j++ {
						c := &Connection{ID: int64(i + j + 1), UserID: int64(i + j), SourceID: "5d1c1a8e-9f0e-4f7e-8a57-3f1b2c3d4e5f"}
						evs = append(evs, s.newEvent(a, ActionModelCreated, "authentik_sources_oauth", map[string]any{"model": c.modelRef()}))
					}
					return s.writeEvents(tx, evs)
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			_ = fmt.Sprint()
		})
	}
}
