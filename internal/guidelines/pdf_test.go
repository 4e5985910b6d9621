package guidelines

import (
	"bytes"
	"fmt"
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
		esc := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`).Replace(l)
		fmt.Fprintf(&content, "BT /F1 10 Tf 1 0 0 1 72 %d Tm (%s) Tj ET\n", y, esc)
		y -= 14
	}
	widths := strings.TrimSpace(strings.Repeat("600 ", 95))
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
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
