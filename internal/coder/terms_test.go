package coder

import (
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// TestTermsNotInIndex checks that every row of terms.tsv covers wording
// the Alphabetic Index lacks: a row whose code and words a path of the
// Index (read as the coder reads it) already gives is redundant, and one
// whose words the Index reads to another code contradicts the Index unless
// its third column says why the Index's reading does not apply.
func TestTermsNotInIndex(t *testing.T) {
	c := realCoder(t)
	ix := testRef.Tables.Index
	equiv, err := parseEquivalences(c.pack(packWords))
	if err != nil {
		t.Fatal(err)
	}
	_, vague := c.pack(packVague)
	lx := newLexicon(equiv, parseWordList(vague), c.wd)
	lx.addIndex(ix, "index", &indexReading{skip: c.skipIndexCode, agrees: c.titleNames,
		optional: map[string]bool{}, resolved: map[string][]*codesys.Term{}})
	have := map[string]bool{}
	for _, e := range lx.entries {
		have[entryKey(e.code, e.words)] = true
	}
	// The paths the Index gives, each with its code, whether or not this
	// Tabular List names the code by the path's word (the list of the
	// release coded with may).
	all := newLexicon(equiv, parseWordList(vague), c.wd)
	all.addIndex(ix, "index", &indexReading{skip: c.skipIndexCode, agrees: func(string, string) bool { return true },
		optional: map[string]bool{}, resolved: map[string][]*codesys.Term{}})
	other := map[string]string{}
	allStems := stemsOf(all)
	for _, e := range all.entries {
		other[stemsKey(allStems, e.words)] = e.code
	}
	stems := stemsOf(lx)
	terms, err := parseTerms(c.pack(packTerms))
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range terms {
		var ids []uint32
		for _, s := range c.wd.phraseWords(tm.text) {
			id, _ := lx.stemID(s, true)
			ids = append(ids, id)
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
		if have[entryKey(tm.code, ids)] {
			t.Errorf("terms.tsv: %s\t%s is a path of the Alphabetic Index", tm.code, tm.text)
		} else if code, ok := other[stemsKey(stems, ids)]; ok && code != tm.code && tm.overrides == "" {
			t.Errorf("terms.tsv: %s\t%s: the Alphabetic Index reads these words to %s, and the row does not say why it overrides the Index", tm.code, tm.text, code)
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

// stemsOf maps the word ids of lx to their stems.
func stemsOf(lx *lexicon) map[uint32]string {
	stem := make(map[uint32]string, len(lx.words))
	for s, id := range lx.words {
		stem[id] = s
	}
	return stem
}

// stemsKey names a set of lexicon words by their stems, sorted, so that
// the entries of two lexicons can be compared.
func stemsKey(stem map[uint32]string, ids []uint32) string {
	ws := make([]string, 0, len(ids))
	for _, id := range ids {
		ws = append(ws, stem[id])
	}
	slices.Sort(ws)
	return strings.Join(ws, " ")
}
