package search

import (
	_ "embed"
	"strings"

	"github.com/medcode-dev/medcode/internal/textnorm"
)

//go:embed abbreviations.txt
var abbreviationsTxt string

// abbreviations parses the embedded abbreviation table into a map from
// the folded abbreviation to its folded expansion words.
func abbreviations() map[string][]string {
	m := make(map[string][]string)
	for line := range strings.Lines(abbreviationsTxt) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		abbr, exp, ok := strings.Cut(line, "\t")
		if !ok {
			continue // the table is ours; TestAbbreviations checks its form
		}
		var words []string
		textnorm.EachWord(exp, func(w textnorm.Word) { words = append(words, w.Norm) })
		m[textnorm.Fold(strings.TrimSpace(abbr))] = words
	}
	return m
}
