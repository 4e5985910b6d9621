package coder

import (
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// TestTermsNotInIndex checks that every row of terms.tsv covers wording
// the Alphabetic Index lacks: a row whose code and words a path of the
// Index (read as the coder reads it) already gives is redundant.
func TestTermsNotInIndex(t *testing.T) {
	c := realCoder(t)
	ix := testRef.Tables.Index
	equiv, err := parseEquivalences(wordsTSV)
	if err != nil {
		t.Fatal(err)
	}
	lx := newLexicon(equiv, parseWordList(vagueTXT))
	lx.addIndex(ix, "index", &indexReading{skip: c.skipIndexCode, agrees: c.titleNames,
		optional: map[string]bool{}, resolved: map[string][]*codesys.Term{}})
	have := map[string]bool{}
	for _, e := range lx.entries {
		have[entryKey(e.code, e.words)] = true
	}
	terms, err := parseTerms(termsTSV)
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range terms {
		var ids []uint32
		for _, s := range phraseWords(tm.text) {
			id, _ := lx.stemID(s, true)
			ids = append(ids, id)
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
		if have[entryKey(tm.code, ids)] {
			t.Errorf("terms.tsv: %s\t%s is a path of the Alphabetic Index", tm.code, tm.text)
		}
	}
}

func entryKey(code string, words []uint32) string {
	var b strings.Builder
	b.WriteString(code)
	for _, w := range words {
		b.WriteByte(' ')
		b.WriteString(string(rune(w)))
	}
	return b.String()
}
