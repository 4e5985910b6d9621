package guidelines

import (
	"testing"

	"github.com/medcode-dev/medcode/internal/shareddata"
)

// The FY2025 guidelines as published (PDF) and as poppler renders them
// (text); see PROVENANCE.md beside them.
const (
	fy2025PDF  = "guidelines/cm-fy2025/fy-2025-icd-10-cm-coding-guidelines.pdf"
	fy2025Text = "guidelines/cm-fy2025/fy-2025-icd-10-cm-coding-guidelines.layout.txt"
)

func importShared(tb testing.TB, rel string) *Document {
	tb.Helper()
	d, err := Import(shareddata.Path(tb, rel), "2025")
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func TestImportPDFMatchesText(t *testing.T) {
	pdf, text := importShared(t, fy2025PDF), importShared(t, fy2025Text)
	// The FY2025 outline has 483 numbered headings from Section I to
	// Section IV; far fewer means headings were lost or cut.
	if len(text.Sections) < 480 {
		t.Fatalf("text rendering: %d sections, want at least 480", len(text.Sections))
	}
	if len(pdf.Sections) != len(text.Sections) {
		t.Errorf("PDF gives %d sections, text %d", len(pdf.Sections), len(text.Sections))
	}
	for i := range min(len(pdf.Sections), len(text.Sections)) {
		p, x := pdf.Sections[i], text.Sections[i]
		if p.ID != x.ID || p.Title != x.Title {
			t.Errorf("section %d: PDF %s %q, text %s %q", i, p.ID, p.Title, x.ID, x.Title)
		}
	}
	// Headings a coder cites, as printed.
	for _, tt := range []struct{ id, title string }{
		{"I.A.5", "7th Characters"},
		{"I.C.2", "Chapter 2: Neoplasms (C00-D49)"},
		{"I.C.9.a.2", "Hypertensive Chronic Kidney Disease"},
		{"II.H", "Uncertain Diagnosis"},
	} {
		for _, d := range []*Document{pdf, text} {
			s := d.Section(tt.id)
			if s == nil || s.Title != tt.title {
				t.Errorf("%s: section %s = %+v, want title %q", d.Source, tt.id, s, tt.title)
			}
		}
	}
}

// BenchmarkImportPDF times reading the FY2025 PDF into sections.
func BenchmarkImportPDF(b *testing.B) {
	path := shareddata.Path(b, fy2025PDF)
	for b.Loop() {
		if _, err := Import(path, "2025"); err != nil {
			b.Fatal(err)
		}
	}
}
