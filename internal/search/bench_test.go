package search

import "testing"

func BenchmarkBuild(b *testing.B) {
	cm, _ := realReleases(b)
	b.ResetTimer()
	var s *Searcher
	for b.Loop() {
		s = New(cm)
	}
	b.ReportMetric(float64(s.Len()), "entries")
	b.ReportMetric(float64(s.Vocabulary()), "words")
}
