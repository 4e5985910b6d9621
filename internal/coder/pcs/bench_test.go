package pcs

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/note"
	"github.com/medcode-dev/medcode/internal/note/assert"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

// BenchmarkCodeNote codes the English CodiEsp dev notes (about 2-3 KB
// each), one note per iteration: parse, assertion analysis and PCS coding,
// as the offline coder runs them.
func BenchmarkCodeNote(b *testing.B) {
	c := testCoder(b)
	dir := shareddata.Path(b, filepath.Join(codiespDir, "dev", "text_files_en"))
	ents, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	var notes []string
	size := 0
	for _, e := range ents {
		src, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		notes = append(notes, string(src))
		size += len(src)
	}
	p := note.NewParser()
	cls := assert.New()
	b.SetBytes(int64(size / len(notes)))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		n, err := p.Parse(notes[i%len(notes)])
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Code(context.Background(), n, cls.Analyze(n)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCodeOnly measures the PCS stage alone on a parsed note.
func BenchmarkCodeOnly(b *testing.B) {
	c := testCoder(b)
	src := strings.Repeat("Laparoscopic appendectomy was performed. CT of the abdomen without contrast showed no abscess. The patient has diabetes and hypertension and was seen in clinic. ", 15)
	n, err := note.NewParser().Parse(src)
	if err != nil {
		b.Fatal(err)
	}
	an := assert.New().Analyze(n)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := c.Code(context.Background(), n, an); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNew measures building a coder from a loaded release.
func BenchmarkNew(b *testing.B) {
	r := release(b)
	for b.Loop() {
		if _, err := New(r, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
