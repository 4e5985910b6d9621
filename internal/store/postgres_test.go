package store

import (
	"context"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/pgtest"
)

// postgresDSN returns the DSN of a real, empty PostgreSQL database
// (pgtest.DSN).
func postgresDSN(t *testing.T) string { return pgtest.DSN(t) }

func openPostgres(t *testing.T) *Store {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := OpenPostgres(ctx, postgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
