package store

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/coding"
)

func openSQLite(t *testing.T) *Store {
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "medcode.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSQLite and TestPostgres run the same contract against both backends.
func TestSQLite(t *testing.T)   { contract(t, openSQLite(t)) }
func TestPostgres(t *testing.T) { contract(t, openPostgres(t)) }

const note = "Assessment: community acquired pneumonia. Hypertension, well controlled. Café au lait spots."

func span(text, quote string) coding.Evidence {
	i := strings.Index(text, quote)
	return coding.Evidence{Start: i, End: i + len(quote), Text: quote}
}

func sampleCodes() []*Code {
	return FromResult([]coding.Code{
		{Code: "J18.9", System: "icd10cm", Kind: coding.Diagnosis, Title: "Pneumonia, unspecified organism",
			Evidence: []coding.Evidence{span(note, "pneumonia")}, Confidence: 0.9,
			Trail: []coding.Step{{Kind: coding.StepIndex, Detail: "Index: Pneumonia", Ref: "Pneumonia"}}},
		{Code: "I10", System: "icd10cm", Kind: coding.Diagnosis, Title: "Essential (primary) hypertension",
			Evidence: []coding.Evidence{span(note, "Hypertension")}, Confidence: 0.95},
	}, [][]string{nil, {"example warning"}})
}

func contract(t *testing.T, s *Store) {
	ctx := context.Background()
	tenant := strings.ReplaceAll(t.Name(), "/", "-")
	alice := Actor{Tenant: tenant, Name: "alice"}

	t.Run("migrations are idempotent", func(t *testing.T) {
		if err := s.migrate(ctx); err != nil {
			t.Fatal(err)
		}
		v, err := s.SchemaVersion(ctx)
		if err != nil || v != len(migrations) {
			t.Fatalf("schema version %d, %v; want %d", v, err, len(migrations))
		}
	})

	t.Run("tokens", func(t *testing.T) {
		secret, tok, err := s.CreateToken(ctx, tenant, "alice", Coder)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, TokenPrefix) || len(secret) < 40 {
			t.Fatalf("secret %q too short", secret)
		}
		var stored int
		if err := s.db.QueryRow(s.q(`SELECT COUNT(*) FROM tokens WHERE hash = ? OR hash = ?`), secret, tok.ID).Scan(&stored); err != nil || stored != 0 {
			t.Fatalf("secret stored in clear: %d %v", stored, err)
		}
		got, err := s.Authenticate(ctx, secret)
		if err != nil || got.ID != tok.ID || got.Role != Coder || got.Tenant != tenant {
			t.Fatalf("Authenticate = %+v, %v", got, err)
		}
		if _, err := s.Authenticate(ctx, secret+"x"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("wrong secret: %v", err)
		}
		if err := s.RevokeToken(ctx, alice, tenant, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, secret); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revoked token authenticates: %v", err)
		}
		if err := s.RevokeToken(ctx, alice, "other-tenant", tok.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revoke from another tenant: %v", err)
		}
		if _, _, err := s.CreateToken(ctx, tenant, "bob", "root"); err == nil {
			t.Fatal("unknown role accepted")
		}
	})

	var docID string
	t.Run("document round trip", func(t *testing.T) {
		d := &Document{Source: "text", Text: note, Setting: coding.Outpatient}
		run := &Run{Reasoner: "test", Releases: []string{"icd10cm-2021"}, Setting: coding.Outpatient, Duration: 1500 * time.Microsecond,
			Queries: []coding.Query{{About: "x", Question: "which organism?"}},
			Model:   "openai:fake", PromptVersion: "p7", Transcript: json.RawMessage(`{"stages":[{"name":"analyze"}]}`),
			Usage: coding.Usage{Calls: 3, InputTokens: 900, CachedTokens: 100, OutputTokens: 60, Cost: 0.0025}}
		if err := s.CreateDocument(ctx, alice, d, run, sampleCodes()); err != nil {
			t.Fatal(err)
		}
		docID = d.ID
		got, err := s.GetDocument(ctx, tenant, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Text != note || got.Hash != HashText(note) || got.Status != StatusCoded || got.Coder != "alice" || got.Setting != coding.Outpatient {
			t.Fatalf("document = %+v", got)
		}
		if len(got.Codes) != 2 || got.Codes[0].Code != "J18.9" || got.Codes[1].Code != "I10" {
			t.Fatalf("codes = %+v", got.Codes)
		}
		ev := got.Codes[0].Evidence[0]
		if note[ev.Start:ev.End] != "pneumonia" || got.Codes[0].Trail[0].Ref != "Pneumonia" || got.Codes[1].Warnings[0] != "example warning" {
			t.Fatalf("code details lost: %+v", got.Codes)
		}
		if len(got.Runs) != 1 || got.Runs[0].Duration != 1500*time.Microsecond || got.Runs[0].Queries[0].Question != "which organism?" || got.Runs[0].CodeCount != 2 {
			t.Fatalf("runs = %+v", got.Runs[0])
		}
		// An LLM run's accounting and transcript are kept for the auditor.
		r := got.Runs[0]
		if r.Model != "openai:fake" || r.PromptVersion != "p7" || string(r.Transcript) != `{"stages":[{"name":"analyze"}]}` ||
			r.Usage.Calls != 3 || r.Usage.InputTokens != 900 || r.Usage.CachedTokens != 100 || r.Usage.OutputTokens != 60 || r.Usage.Cost != 0.0025 {
			t.Fatalf("run accounting lost: %+v", r)
		}
		if _, err := s.GetDocument(ctx, "other-tenant", d.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("other tenant reads document: %v", err)
		}
	})

	t.Run("decisions", func(t *testing.T) {
		d, _ := s.GetDocument(ctx, tenant, docID)
		j18, i10 := d.Codes[0], d.Codes[1]
		if _, _, err := s.Decide(ctx, alice, docID, j18.ID, Decision{Action: "reject"}); err == nil {
			t.Fatal("reject without reason accepted")
		}
		if _, _, err := s.Decide(ctx, Actor{Tenant: "other-tenant", Name: "mallory"}, docID, j18.ID, Decision{Action: "accept"}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("other tenant decides: %v", err)
		}
		c, _, err := s.Decide(ctx, alice, docID, i10.ID, Decision{Action: "accept"})
		if err != nil || c.Status != CodeAccepted || c.DecidedBy != "alice" {
			t.Fatalf("accept: %+v %v", c, err)
		}
		if d, _ := s.GetDocument(ctx, tenant, docID); d.Status != StatusInReview {
			t.Fatalf("status after one decision = %s", d.Status)
		}
		repl := &Code{Code: "J15.9", System: "icd10cm", Kind: coding.Diagnosis, Title: "Unspecified bacterial pneumonia"}
		old, added, err := s.Decide(ctx, alice, docID, j18.ID, Decision{Action: "replace", Reason: "culture positive", Replacement: repl})
		if err != nil || old.Status != CodeReplaced || added.Replaces != j18.ID || len(added.Evidence) != 1 {
			t.Fatalf("replace: %+v %+v %v", old, added, err)
		}
		if _, _, err := s.Decide(ctx, alice, docID, j18.ID, Decision{Action: "accept"}); !errors.Is(err, ErrConflict) {
			t.Fatalf("deciding a replaced code: %v", err)
		}
		d, _ = s.GetDocument(ctx, tenant, docID)
		if d.Status != StatusReviewed || len(d.Codes) != 3 || d.Codes[1].Code != "J15.9" {
			t.Fatalf("after replace: status %s, codes %v", d.Status, codeList(d.Codes))
		}
		add := &Code{Code: "L81.3", System: "icd10cm", Kind: coding.Diagnosis, Title: "Cafe au lait spots", Evidence: []coding.Evidence{span(note, "Café au lait spots")}}
		if err := s.AddCode(ctx, alice, docID, add); err != nil {
			t.Fatal(err)
		}
		d, _ = s.GetDocument(ctx, tenant, docID)
		if got := codeList(d.Codes); strings.Join(got, " ") != "J18.9 J15.9 I10 L81.3" {
			t.Fatalf("codes = %v", got)
		}
	})

	t.Run("re-coding supersedes pending codes only", func(t *testing.T) {
		d := &Document{Source: "text", Text: note}
		if err := s.CreateDocument(ctx, alice, d, &Run{Reasoner: "test"}, sampleCodes()); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Decide(ctx, alice, d.ID, d.Codes[0].ID, Decision{Action: "accept"}); err != nil {
			t.Fatal(err)
		}
		if err := s.AddRun(ctx, alice, d.ID, &Run{Reasoner: "test"}, sampleCodes()[1:]); err != nil {
			t.Fatal(err)
		}
		got, _ := s.GetDocument(ctx, tenant, d.ID)
		if len(got.Codes) != 2 || got.Codes[0].Status != CodeAccepted || got.Codes[1].Status != CodePending || len(got.Runs) != 2 {
			t.Fatalf("after re-coding: %v runs %d", codeList(got.Codes), len(got.Runs))
		}
	})

	t.Run("re-coding merges with the decisions made", func(t *testing.T) {
		// A tenant of their own, so that the listings below count only
		// theirs.
		m := Actor{Tenant: tenant + "-merge", Name: "alice"}
		d := &Document{Source: "text", Text: note}
		if err := s.CreateDocument(ctx, m, d, &Run{Reasoner: "test"}, sampleCodes()); err != nil {
			t.Fatal(err)
		}
		j18, i10 := d.Codes[0], d.Codes[1]
		repl := &Code{Code: "J15.9", System: "icd10cm", Kind: coding.Diagnosis, Title: "Unspecified bacterial pneumonia"}
		if _, _, err := s.Decide(ctx, m, d.ID, j18.ID, Decision{Action: "replace", Reason: "culture", Replacement: repl}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Decide(ctx, m, d.ID, i10.ID, Decision{Action: "reject", Reason: "not documented"}); err != nil {
			t.Fatal(err)
		}
		// The engine proposes the same codes again, the replacement
		// itself, and one twice.
		again := append(sampleCodes(), FromResult([]coding.Code{{Code: "J15.9", System: "icd10cm", Kind: coding.Diagnosis}}, nil)...)
		if err := s.AddRun(ctx, m, d.ID, &Run{Reasoner: "test"}, again); err != nil {
			t.Fatal(err)
		}
		got, _ := s.GetDocument(ctx, m.Tenant, d.ID)
		if got.Status != StatusReviewed || len(got.Codes) != 3 {
			t.Fatalf("nothing new, yet status %s codes %v", got.Status, codeList(got.Codes))
		}
		for _, c := range got.Codes {
			if c.Status == CodePending {
				t.Fatalf("decided code %s came back pending", c.Code)
			}
		}
		if r := got.Runs[len(got.Runs)-1]; r.CodeCount != 3 {
			t.Fatalf("run code count %d, want the 3 proposed", r.CodeCount)
		}
		// Something new arrives pending, once, and reopens the review.
		news := FromResult([]coding.Code{
			{Code: "E11.9", System: "icd10cm", Kind: coding.Diagnosis},
			{Code: "E11.9", System: "icd10cm", Kind: coding.Diagnosis},
			{Code: "I10", System: "icd10cm", Kind: coding.Diagnosis},
		}, nil)
		if err := s.AddRun(ctx, m, d.ID, &Run{Reasoner: "test"}, news); err != nil {
			t.Fatal(err)
		}
		got, _ = s.GetDocument(ctx, m.Tenant, d.ID)
		var pending []string
		for _, c := range got.Codes {
			if c.Status == CodePending {
				pending = append(pending, c.Code)
			}
		}
		if got.Status != StatusInReview || strings.Join(pending, " ") != "E11.9" || len(got.Codes) != 4 {
			t.Fatalf("after a new code: status %s pending %v codes %v", got.Status, pending, codeList(got.Codes))
		}
	})

	t.Run("adding a code present is refused", func(t *testing.T) {
		// A tenant of their own, so that the listings below count only
		// theirs.
		m := Actor{Tenant: tenant + "-merge", Name: "alice"}
		d := &Document{Source: "text", Text: note}
		if err := s.CreateDocument(ctx, m, d, &Run{Reasoner: "test"}, sampleCodes()); err != nil {
			t.Fatal(err)
		}
		repl := &Code{Code: "J15.9", System: "icd10cm", Kind: coding.Diagnosis}
		if _, _, err := s.Decide(ctx, m, d.ID, d.Codes[0].ID, Decision{Action: "replace", Reason: "culture", Replacement: repl}); err != nil {
			t.Fatal(err)
		}
		for _, code := range []string{"I10", "J15.9", "j15.9"} {
			c := &Code{Code: code, System: "icd10cm", Kind: coding.Diagnosis, Evidence: []coding.Evidence{span(note, "pneumonia")}}
			if err := s.AddCode(ctx, m, d.ID, c); !errors.Is(err, ErrDuplicate) {
				t.Fatalf("adding %s again: %v", code, err)
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- s.AddCode(ctx, m, d.ID, &Code{Code: "E11.9", System: "icd10cm", Kind: coding.Diagnosis})
			}()
		}
		wg.Wait()
		close(errs)
		added := 0
		for err := range errs {
			switch {
			case err == nil:
				added++
			case !errors.Is(err, ErrDuplicate):
				t.Fatal(err)
			}
		}
		if added != 1 {
			t.Fatalf("%d concurrent adds of one code succeeded, want 1", added)
		}
	})

	t.Run("audit log", func(t *testing.T) {
		log, err := s.Audit(ctx, tenant, AuditFilter{DocumentID: docID})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range log {
			actions = append(actions, e.Action)
			if strings.Contains(string(e.Before)+string(e.After), "community acquired") {
				t.Errorf("audit entry %d holds note text", e.Seq)
			}
		}
		want := "document.create coding.run code.accept code.replace code.add"
		if strings.Join(actions, " ") != want {
			t.Fatalf("audit actions = %v, want %s", actions, want)
		}
		var before map[string]any
		json.Unmarshal(log[3].Before, &before)
		if before["code"] != "J18.9" || before["status"] != CodePending || log[3].Actor != "alice" {
			t.Fatalf("replace entry = %s / %s", log[3].Before, log[3].After)
		}
		if other, _ := s.Audit(ctx, "other-tenant", AuditFilter{DocumentID: docID}); len(other) != 0 {
			t.Fatalf("other tenant sees %d audit entries", len(other))
		}
		if _, err := s.db.Exec(s.q(`UPDATE audit SET actor = 'mallory' WHERE seq = ?`), log[0].Seq); err == nil {
			t.Fatal("audit entry updated")
		}
		if _, err := s.db.Exec(s.q(`DELETE FROM audit WHERE seq = ?`), log[0].Seq); err == nil {
			t.Fatal("audit entry deleted")
		}
	})

	t.Run("list filters", func(t *testing.T) {
		bob := Actor{Tenant: tenant, Name: "bob"}
		d := &Document{Source: "text", Text: "bob's note"}
		if err := s.CreateDocument(ctx, bob, d, &Run{Reasoner: "test"}, nil); err != nil {
			t.Fatal(err)
		}
		all, err := s.ListDocuments(ctx, tenant, Filter{})
		if err != nil || len(all) != 3 || all[0].ID != d.ID || all[0].Text != "" {
			t.Fatalf("list = %d docs, %v", len(all), err)
		}
		byBob, _ := s.ListDocuments(ctx, tenant, Filter{Coder: "bob"})
		reviewed, _ := s.ListDocuments(ctx, tenant, Filter{Status: StatusReviewed})
		future, _ := s.ListDocuments(ctx, tenant, Filter{From: time.Now().Add(time.Hour)})
		page, _ := s.ListDocuments(ctx, tenant, Filter{Limit: 1, Before: d.ID})
		if len(byBob) != 1 || len(reviewed) != 1 || reviewed[0].ID != docID || len(future) != 0 || len(page) != 1 || page[0].ID == d.ID {
			t.Fatalf("filters: bob %d reviewed %d future %d page %v", len(byBob), len(reviewed), len(future), page)
		}
	})

	t.Run("concurrent writers", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := Actor{Tenant: tenant + "-conc", Name: "c"}
				d := &Document{Source: "text", Text: strings.Repeat("x", i)}
				if err := s.CreateDocument(ctx, a, d, &Run{Reasoner: "test"}, sampleCodes()); err != nil {
					errs <- err
					return
				}
				_, _, err := s.Decide(ctx, a, d.ID, d.Codes[0].ID, Decision{Action: "accept"})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, _ := s.ListDocuments(ctx, tenant+"-conc", Filter{Limit: 100})
		if len(got) != 40 {
			t.Fatalf("%d documents, want 40", len(got))
		}
	})
}

// TestSchemaVersion: reopening a database keeps its data and version;
// a database written by a newer medcode is refused, untouched.
func TestSchemaVersion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "medcode.db")
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	version := func(s *Store) int {
		var v int
		if err := s.db.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := version(s); v != migrations[len(migrations)-1].version {
		t.Fatalf("schema version %d, want %d", v, migrations[len(migrations)-1].version)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE schema_version SET version = 999`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := OpenSQLite(ctx, path); err == nil || !strings.Contains(err.Error(), "newer than this program knows") {
		t.Fatalf("open a newer database: %v", err)
	}
}
