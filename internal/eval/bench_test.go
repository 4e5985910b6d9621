package eval

import (
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// benchDocs makes n documents shaped like CodiEsp's (about 14 gold codes
// each, from a vocabulary of 2,000) with predictions that find half of them
// and add a few wrong ones.
func benchDocs(n int) []DocResult {
	rng := rand.New(rand.NewPCG(1, 2))
	code := func() string { return fmt.Sprintf("A%02d.%d", rng.IntN(100), rng.IntN(20)) }
	docs := make([]DocResult, n)
	for i := range docs {
		var g []GoldCode
		var p []Prediction
		for range 14 {
			c := code()
			g = append(g, GoldCode{Code: c, System: cm})
			if rng.IntN(2) == 0 {
				p = append(p, Prediction{Code: c, System: cm})
			}
		}
		for range 3 {
			p = append(p, Prediction{Code: code(), System: cm})
		}
		docs[i] = DocResult{ID: fmt.Sprint(i), Gold: g, Predictions: p}
	}
	return docs
}

// BenchmarkScoreBootstrap scores a CodiEsp-dev-sized run (250 documents)
// with 1,000 bootstrap resamples, the default of "medcode eval".
func BenchmarkScoreBootstrap(b *testing.B) {
	docs := benchDocs(250)
	for b.Loop() {
		Score(docs, ScoreOptions{Bootstrap: 1000, Seed: 1})
	}
}

// BenchmarkWriteHTML writes the HTML report of a CodiEsp-dev-sized run
// (250 documents) with 1,000 bootstrap resamples for the per-chapter and
// per-frequency intervals.
func BenchmarkWriteHTML(b *testing.B) {
	docs := benchDocs(250)
	for i := range docs {
		for j := range docs[i].Predictions {
			docs[i].Predictions[j].Score = float64((i+j)%10) / 10
		}
		docs[i].Seconds = 0.001 * float64(i%7+1)
	}
	rep := &Report{Meta: Meta{Format: FormatVersion, Dataset: "bench", Split: "dev", Coder: "offline", Bootstrap: 1000, Seed: 1,
		Documents: len(docs)}, Documents: docs}
	rep.Scores = Score(docs, ScoreOptions{Seed: 1})
	for b.Loop() {
		if err := rep.WriteHTML(io.Discard, HTMLOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
