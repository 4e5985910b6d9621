package guidelines

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// makePDF writes a minimal one-page PDF showing lines in Courier, a font
// whose glyphs are all 600 units wide, with one text object per line as
// word processors emit them.
func makePDF(lines []string) []byte {
	var content bytes.Buffer
	y := 760
	for _, l := range lines {
		fmt.Fprintf(&content, "BT /F1 10 Tf 1 0 0 1 72 %d Tm (%s) Tj ET\n", y, pdfEscape(l))
		y -= 14
	}
	return makePDFContent(content.String())
}

func pdfEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`).Replace(s)
}

// makePDFContent wraps a page content stream into a minimal PDF whose
// font F1 is Courier.
func makePDFContent(content string) []byte {
	widths := strings.TrimSpace(strings.Repeat("600 ", 95))
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(content), content),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding /FirstChar 32 /LastChar 126 /Widths [" + widths + "] >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

func TestPDFText(t *testing.T) {
	lines := []string{
		"Section I. Conventions and general rules",
		"A. Conventions",
		"1. Index and list (see also the list)",
		"Look a term up in the index first.",
	}
	pdf := makePDF(lines)
	got, err := PDFText(bytes.NewReader(pdf), int64(len(pdf)))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(got) != strings.Join(lines, "\n") {
		t.Fatalf("PDFText =\n%s\nwant\n%s", got, strings.Join(lines, "\n"))
	}
	d, err := Parse(strings.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	if s := d.Section("I.A.1"); s == nil || s.Text != "Look a term up in the index first." {
		t.Fatalf("section I.A.1 from the PDF = %+v", s)
	}
}

func TestPDFTextMalformed(t *testing.T) {
	bad := []byte("%PDF-1.4\nnot really a pdf\n")
	if _, err := PDFText(bytes.NewReader(bad), int64(len(bad))); err == nil {
		t.Fatal("PDFText of a malformed file: want an error")
	}
}

func TestPDFTextLines(t *testing.T) {
	// Courier glyphs are 0.6 of the font size wide, so each text object
	// below starts where the one before it ends.
	tests := []struct {
		name, content, want string
	}{
		{
			name: "one printed line from several text objects",
			content: "BT /F1 10 Tf 1 0 0 1 72 700 Tm (CKD sh) Tj ET\n" +
				"BT /F1 10 Tf 1 0 0 1 108 700 Tm (ould not be coded) Tj ET\n",
			want: "CKD should not be coded",
		},
		{
			name: "superscript ordinal",
			content: "BT /F1 10 Tf 1 0 0 1 72 700 Tm (5. 7) Tj ET\n" +
				"BT /F1 6 Tf 1 0 0 1 96 704.5 Tm (th) Tj ET\n" +
				"BT /F1 10 Tf 1 0 0 1 103.2 700 Tm ( Characters) Tj ET\n",
			want: "5. 7th Characters",
		},
		{
			name: "small print on a line of its own stays there",
			content: "BT /F1 10 Tf 1 0 0 1 72 700 Tm (Body text here) Tj ET\n" +
				"BT /F1 6 Tf 1 0 0 1 300 704 Tm (note) Tj ET\n",
			want: "note\nBody text here",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A title line keeps the page above the letters minimum.
			p := makePDFContent("BT /F1 10 Tf 1 0 0 1 72 760 Tm (Official guidelines for coding) Tj ET\n" + tt.content)
			got, err := PDFText(bytes.NewReader(p), int64(len(p)))
			if err != nil {
				t.Fatal(err)
			}
			got = strings.TrimSpace(strings.TrimPrefix(got, "Official guidelines for coding\n"))
			if got != tt.want {
				t.Errorf("PDFText = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPDFTextNoText(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
	}{
		{"empty page", nil},
		{"numbers only", []string{"1 2 3", "4 5 6 7 8 9 10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := makePDF(tt.lines)
			_, err := PDFText(bytes.NewReader(p), int64(len(p)))
			if !errors.Is(err, ErrNoText) {
				t.Fatalf("PDFText: err = %v, want ErrNoText", err)
			}
		})
	}
}

func TestImportUnreadablePDF(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scan.pdf")
	if err := os.WriteFile(path, makePDF(nil), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Import(path, "2025")
	if !errors.Is(err, ErrNoText) || !strings.Contains(err.Error(), "scan.pdf") || !strings.Contains(err.Error(), "pdftotext") {
		t.Fatalf("Import of a PDF without text: err = %v, want ErrNoText naming the file and the way out", err)
	}
}

func TestReadable(t *testing.T) {
	tests := []struct {
		good, bad int
		ok        bool
	}{
		{0, 0, false},
		{minLetters - 1, 0, false},
		{minLetters, 0, true},
		{1000, 100, true},
		{1000, 101, false},
		{10, 500, false},
	}
	for _, tt := range tests {
		if err := readable(tt.good, tt.bad); (err == nil) != tt.ok {
			t.Errorf("readable(%d, %d) = %v, want ok=%v", tt.good, tt.bad, err, tt.ok)
		}
	}
}

func TestLetterCounts(t *testing.T) {
	tests := []struct {
		s         string
		good, bad int
	}{
		{"I.C.9.a.2", 3, 0},
		{"Hypertensive", 12, 0},
		{"\ufffd\ufffd x", 1, 2},
		{"\ue000ab", 2, 1},
	}
	for _, tt := range tests {
		if g, b := letterCounts(tt.s); g != tt.good || b != tt.bad {
			t.Errorf("letterCounts(%q) = %d, %d, want %d, %d", tt.s, g, b, tt.good, tt.bad)
		}
	}
}
