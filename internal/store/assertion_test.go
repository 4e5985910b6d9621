package store

import (
	"context"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/coding"
)

func TestAssertionsSQLite(t *testing.T)   { assertionContract(t, openSQLite(t)) }
func TestAssertionsPostgres(t *testing.T) { assertionContract(t, openPostgres(t)) }

// assertionContract: every assertion is stored and read back as itself,
// on codes and on a run's dropped codes, and the migration to typed
// assertions rewrites the spellings stored before it.
func assertionContract(t *testing.T, s *Store) {
	ctx := context.Background()
	actor := Actor{Tenant: strings.ReplaceAll(t.Name(), "/", "-"), Name: "alice"}
	all := append(coding.Assertions(), "")

	t.Run("round trip", func(t *testing.T) {
		var in []coding.Code
		for _, a := range all {
			in = append(in, coding.Code{Code: "I10", System: "icd10cm", Kind: coding.Diagnosis, Title: "Essential (primary) hypertension",
				Evidence: []coding.Evidence{span(note, "Hypertension")}, Assertion: a, Confidence: 0.5})
		}
		d := &Document{Source: "text", Text: note}
		run := &Run{Reasoner: "test", Releases: []string{"icd10cm-2021"}, Dropped: in}
		if err := s.CreateDocument(ctx, actor, d, run, FromResult(in, nil)); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetDocument(ctx, actor.Tenant, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Codes) != len(all) || len(got.Runs) != 1 || len(got.Runs[0].Dropped) != len(all) {
			t.Fatalf("read %d codes, %d runs; want %d codes, 1 run", len(got.Codes), len(got.Runs), len(all))
		}
		for i, a := range all {
			if got.Codes[i].Assertion != a {
				t.Errorf("code %d: assertion %q, want %q", i, got.Codes[i].Assertion, a)
			}
			if got.Runs[0].Dropped[i].Assertion != a {
				t.Errorf("dropped code %d: assertion %q, want %q", i, got.Runs[0].Dropped[i].Assertion, a)
			}
		}
	})

	t.Run("migration", func(t *testing.T) {
		tests := []struct {
			stored string
			want   coding.Assertion
			// noted: the stored value is kept in the trail.
			noted bool
		}{
			{"affirmed", coding.Affirmed, false},
			{"resolved", coding.Resolved, false},
			{"other person", coding.OtherPerson, false},
			{"", "", false},
			{"other", coding.OtherPerson, false},
			{"affirmed/recent/patient", coding.Affirmed, false},
			{"negated/recent/patient", coding.Negated, false},
			{"affirmed/hypothetical/patient", coding.Hypothetical, false},
			{"affirmed/recent/family", coding.Family, false},
			{"probably present (chronic)", "", true},
		}
		d := &Document{Source: "text", Text: note}
		if err := s.CreateDocument(ctx, actor, d, &Run{Reasoner: "test"}, nil); err != nil {
			t.Fatal(err)
		}
		// Codes as a database of schema version 1 holds them.
		for i, tt := range tests {
			_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO codes (id, document_id, seq, code, system, kind, title, evidence, assertion, trail, confidence, warnings, origin, status)
				VALUES (?, ?, ?, 'I10', 'icd10cm', 'diagnosis', 'Essential (primary) hypertension', '[]', ?, '[]', 0.5, '[]', 'engine', 'pending')`),
				"code_m"+strings.Repeat("x", i), d.ID, i+1, tt.stored)
			if err != nil {
				t.Fatal(err)
			}
		}
		// And the schema as version 1 has it: without the later
		// migrations' columns.
		for _, stmt := range []string{`DROP INDEX documents_batch`, `ALTER TABLE documents DROP COLUMN coding_error`,
			`ALTER TABLE documents DROP COLUMN batch_id`, `UPDATE schema_version SET version = 1`} {
			if _, err := s.db.ExecContext(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.migrate(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetDocument(ctx, actor.Tenant, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Codes) != len(tests) {
			t.Fatalf("read %d codes, want %d", len(got.Codes), len(tests))
		}
		for i, tt := range tests {
			c := got.Codes[i]
			if c.Assertion != tt.want {
				t.Errorf("stored %q: read %q, want %q", tt.stored, c.Assertion, tt.want)
			}
			noted := len(c.Trail) > 0 && strings.Contains(c.Trail[len(c.Trail)-1].Detail, "\""+tt.stored+"\"")
			if noted != tt.noted {
				t.Errorf("stored %q: trail %+v, want the stored value noted: %v", tt.stored, c.Trail, tt.noted)
			}
		}
	})
}
