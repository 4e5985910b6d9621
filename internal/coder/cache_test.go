package coder

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
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

// TestLexiconSource checks that a coder given releases without the parts
// its lexicon is built from opens them only when the cache lacks the
// lexicon, codes as the coder given every part, and never reads a
// lexicon kept under another key.
func TestLexiconSource(t *testing.T) {
	full := realCoder(t)
	cache := &memCache{data: map[string][]byte{}}
	opens := 0
	ref := Reference{
		CM:     &codesys.Release{System: codesys.ICD10CM, Version: testRef.CM.Version, Tabular: testRef.CM.Tabular},
		Tables: &codesys.Release{System: codesys.ICD10CM, Version: testRef.Tables.Version},
		PCS:    testRef.PCS,
	}
	source := func(key string) *LexiconSource {
		return &LexiconSource{Key: key, Open: func() (*codesys.Release, *codesys.Release, error) {
			opens++
			return testRef.CM, testRef.Tables, nil
		}}
	}
	ref.Lexicon = source("releases-1")
	built, err := New(ref, Options{Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if opens != 1 || built.cached {
		t.Fatalf("empty cache: %d opens, cached=%v; want the releases opened once and the lexicon built", opens, built.cached)
	}
	loaded, err := New(ref, Options{Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	if opens != 1 || !loaded.cached {
		t.Fatalf("lexicon kept: %d opens, cached=%v; want no open", opens, loaded.cached)
	}
	text, err := os.ReadFile("testdata/discharge.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := codeJSON(t, full, string(text))
	for name, c := range map[string]*Coder{"built": built, "loaded": loaded} {
		if got := codeJSON(t, c, string(text)); got != want {
			t.Errorf("%s from a lexicon source codes differently:\ngot  %s\nwant %s", name, got, want)
		}
	}
	if !slices.Equal(loaded.Releases(), full.Releases()) {
		t.Errorf("releases %v, want %v", loaded.Releases(), full.Releases())
	}
	ref.Lexicon = source("releases-2")
	if _, err := New(ref, Options{Cache: cache}); err != nil {
		t.Fatal(err)
	}
	if opens != 2 {
		t.Errorf("another key: %d opens; want the lexicon built again", opens)
	}
	ref.Lexicon = &LexiconSource{Key: "releases-3", Open: func() (*codesys.Release, *codesys.Release, error) {
		return nil, nil, errors.New("cannot open")
	}}
	if _, err := New(ref, Options{Cache: cache}); err == nil || !strings.Contains(err.Error(), "cannot open") {
		t.Errorf("failing source: err %v; want its error", err)
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

// smallLexicon is a finished lexicon with an entry of every kind the
// cache stores: an Index path (listed by code), a term, a title of an
// "other" code, a single-word entry with its form, and a vague word.
func smallLexicon(t testing.TB) (*lexicon, []familyEntry) {
	lx := newLexicon(map[string]string{"tumour": "tumor"}, []string{"tumor"}, testWording(t))
	lx.add("K12.2", []string{"ludwig", "angina"}, fromIndex, "Angina > Ludwig's", "icd10cm-2025")
	lx.add("R50.9", []string{"fever"}, fromTerms, "fever", "terms.tsv")
	lx.add("D49.9", []string{"tumor", "brain"}, fromTitle, "Neoplasm of brain", "icd10cm-2025")
	lx.entries[len(lx.entries)-1].other = true
	lx.add("K08.9", []string{"teeth"}, fromIndex, "Teething", "icd10cm-2025")
	lx.entries[len(lx.entries)-1].form = "teething"
	lx.finish()
	return lx, []familyEntry{{words: map[uint32]bool{0: true, 2: true}, code: "Z83.3", path: "History > family > diabetes"}}
}

// TestLexiconRoundTrip checks that a decoded lexicon is the one encoded,
// field by field, and that encoding is deterministic.
func TestLexiconRoundTrip(t *testing.T) {
	lx, family := smallLexicon(t)
	data, err := encodeLexicon(lx, family)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := encodeLexicon(lx, family); !bytes.Equal(data, again) {
		t.Error("encoding the same lexicon twice gave different bytes")
	}
	got, gotFamily, err := decodeLexicon(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.words, lx.words) || !reflect.DeepEqual(got.canon, lx.canon) ||
		!reflect.DeepEqual(got.df, lx.df) || !reflect.DeepEqual(got.vague, lx.vague) {
		t.Errorf("vocabulary: got %v %v %v %v, want %v %v %v %v", got.words, got.canon, got.df, got.vague, lx.words, lx.canon, lx.df, lx.vague)
	}
	if !reflect.DeepEqual(got.entries, lx.entries) {
		t.Errorf("entries:\ngot  %+v\nwant %+v", got.entries, lx.entries)
	}
	if !reflect.DeepEqual(got.byKey, lx.byKey) || !reflect.DeepEqual(got.indexByCode, lx.indexByCode) {
		t.Errorf("lists: got %v %v, want %v %v", got.byKey, got.indexByCode, lx.byKey, lx.indexByCode)
	}
	if !reflect.DeepEqual(gotFamily, family) {
		t.Errorf("family: got %+v, want %+v", gotFamily, family)
	}
	// An entry's words are its own: appending to them leaves the next
	// entry's alone.
	before := slices.Clone(got.entries[1].words)
	got.entries[0].words = append(got.entries[0].words, 99)
	if !slices.Equal(got.entries[1].words, before) {
		t.Error("appending to an entry's words changed the next entry's")
	}
}

// TestLexiconDamaged checks that a cached lexicon with a byte changed,
// cut short or of the gob format before it is an error.
func TestLexiconDamaged(t *testing.T) {
	lx, family := smallLexicon(t)
	data, err := encodeLexicon(lx, family)
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		bad := slices.Clone(data)
		bad[i] ^= 0x20
		if _, _, err := decodeLexicon(bad); err == nil {
			t.Fatalf("byte %d of %d changed: decoded without error", i, len(data))
		}
	}
	for n := range len(data) {
		if _, _, err := decodeLexicon(data[:n]); err == nil {
			t.Fatalf("cut to %d of %d bytes: decoded without error", n, len(data))
		}
	}
}

// FuzzDecodeLexicon checks that a damaged cache file is an error, never a
// panic or a lexicon whose entries name words it lacks.
func FuzzDecodeLexicon(f *testing.F) {
	lx := newLexicon(map[string]string{}, []string{"tumor"}, testWording(f))
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
