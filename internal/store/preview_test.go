package store

import (
	"context"
	"strings"
	"testing"
)

// TestPreview: a listing shows each document's first line that is not
// blank, cut at PreviewLen characters, and never the text.
func TestPreview(t *testing.T) {
	long := strings.Repeat("é", PreviewLen+20)
	tests := []struct{ text, want string }{
		{"Discharge summary\nAssessment: pneumonia.", "Discharge summary"},
		{"\n  \n\tHistory of present illness  \r\nrest", "History of present illness"},
		{long, strings.Repeat("é", PreviewLen-1) + "…"},
		{"   ", ""},
	}
	s := openSQLite(t)
	ctx := context.Background()
	a := Actor{Tenant: "north", Name: "alice"}
	for _, tt := range tests {
		if got := preview(tt.text); got != tt.want {
			t.Errorf("preview(%.30q) = %q, want %q", tt.text, got, tt.want)
		}
		if err := s.CreateDocument(ctx, a, &Document{Source: "text", Text: tt.text}, &Run{Reasoner: "test"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	docs, err := s.ListDocuments(ctx, "north", Filter{})
	if err != nil || len(docs) != len(tests) {
		t.Fatalf("list: %d, %v", len(docs), err)
	}
	for i, d := range docs {
		// Newest first.
		if want := tests[len(tests)-1-i].want; d.Preview != want || d.Text != "" {
			t.Errorf("listed preview %q text %.20q, want %q and no text", d.Preview, d.Text, want)
		}
	}
}
