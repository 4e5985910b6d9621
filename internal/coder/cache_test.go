package coder

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/coding"
)

// memCache is a Cache in memory, counting what it is asked.
type memCache struct {
	data          map[string][]byte
	loads, stores int
}

func (m *memCache) Load(key string) ([]byte, error) { m.loads++; return m.data[key], nil }
func (m *memCache) Store(key string, b []byte) error {
	m.stores++
	m.data[key] = b
	return nil
}

// TestLexiconCache checks that a coder whose lexicon comes from the cache
// codes exactly as the one that built it, and that a corrupt entry is
// reported and rebuilt.
func TestLexiconCache(t *testing.T) {
	realCoder(t)
	cache := &memCache{data: map[string][]byte{}}
	built, err := New(testRef, Options{Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if built.cached || cache.stores != 1 {
		t.Fatalf("first coder: cached=%v, %d stores; want a built lexicon, stored once", built.cached, cache.stores)
	}
	loaded, err := New(testRef, Options{Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.cached || cache.stores != 1 {
		t.Fatalf("second coder: cached=%v, %d stores; want the lexicon read from the cache", loaded.cached, cache.stores)
	}
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no notes in testdata")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := codeJSON(t, built, string(b)), codeJSON(t, loaded, string(b)); a != b {
			t.Errorf("%s: the cached lexicon codes differently:\nbuilt  %s\ncached %s", f, a, b)
		}
	}
	for k := range cache.data {
		cache.data[k] = []byte("not a lexicon")
	}
	again, err := New(testRef, Options{Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if again.cached || !strings.Contains(strings.Join(again.Warnings(), "\n"), "lexicon cache") || cache.stores != 2 {
		t.Errorf("corrupt entry: cached=%v, %d stores, warnings %q; want it reported and rebuilt", again.cached, cache.stores, again.Warnings())
	}
}

func codeJSON(t *testing.T, c *Coder, text string) string {
	t.Helper()
	res, err := c.Code(t.Context(), coding.Request{ID: "n", Text: text})
	if err != nil {
		t.Fatal(err)
	}
	res.Usage = coding.Usage{}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// FuzzDecodeLexicon checks that a damaged cache file is an error, never a
// panic or a lexicon whose entries name words it lacks.
func FuzzDecodeLexicon(f *testing.F) {
	lx := newLexicon(map[string]string{}, []string{"tumor"})
	lx.add("K12.2", []string{"ludwig", "angina"}, fromIndex, "Angina > Ludwig's", "test")
	lx.add("R50.9", []string{"fever"}, fromTerms, "fever", "test")
	lx.finish()
	good, err := encodeLexicon(lx, []familyEntry{{words: map[uint32]bool{0: true}, code: "Z83.3", path: "History > family"}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		lx, _, err := decodeLexicon(data)
		if err != nil {
			return
		}
		for _, e := range lx.entries {
			for _, w := range e.words {
				if int(w) >= len(lx.df) {
					t.Fatalf("entry %s names word %d of %d", e.code, w, len(lx.df))
				}
			}
		}
	})
}
