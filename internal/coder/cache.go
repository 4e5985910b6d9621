package coder

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// Cache keeps what New builds from a reference set (the lexicon of the
// Tabular List, the indexes and the tables) from one run to the next, so
// that a command coding one note does not rebuild it. Load returns nil data
// and no error for a key it does not hold. internal/catalog's Cache keeps
// them in the data directory.
type Cache interface {
	Load(key string) ([]byte, error)
	Store(key string, data []byte) error
}

// lexiconFormat changes whenever the lexicon's build or its encoding
// does, so that a cached lexicon of another version is never read.
const lexiconFormat = "lexicon-6"

// cacheKey names the lexicon built from ref and the embedded tables: the
// releases it reads, what identifies their content, and the tables'
// bytes.
func cacheKey(ref Reference) string {
	h := sha256.New()
	fmt.Fprintln(h, lexiconFormat)
	for _, r := range []*codesys.Release{ref.CM, ref.Tables} {
		if r == nil {
			fmt.Fprintln(h, "-")
			continue
		}
		fmt.Fprintln(h, r.ID(), r.Source)
		if t := r.Tabular; t != nil {
			fmt.Fprintln(h, "tabular", t.Version, t.NotesFrom, len(t.Nodes))
		}
		for _, ix := range []*codesys.Index{r.Index, r.External, r.Neoplasm, r.Drug} {
			if ix == nil {
				fmt.Fprintln(h, "no index")
				continue
			}
			n := 0
			ix.Walk(func([]*codesys.Term) bool { n++; return true })
			fmt.Fprintln(h, ix.Part, ix.Version, n)
		}
	}
	for _, data := range []string{wordsTSV, synonymsTSV, termsTSV, vagueTXT, encounterTXT, optionalTXT, suffixesTXT} {
		fmt.Fprintln(h, len(data))
		io.WriteString(h, data)
	}
	return lexiconFormat + "-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// lexiconFile is the cached form of a built lexicon and the family
// history entries read with it.
type lexiconFile struct {
	Words map[string]uint32
	Canon map[string]string
	Vague []uint32
	Df    []int32
	// Strings holds each code, text, release and form once: entries
	// repeat them (the variants of a title, the readings of a path).
	Strings []string
	Entries []entryFile
	Family  []familyFile
	// DrugRows are the lexicon's drugRows.
	DrugRows [][]string
}

// entryFile is an entry with its strings as indexes in Strings.
type entryFile struct {
	Code, Text, Release, Form uint32
	Manif                     uint32
	Words                     []uint32
	Key                       uint32
	Origin                    uint8
	Other                     bool
	Row                       int32
}

type familyFile struct {
	Words      []uint32
	Code, Path string
}

// encodeLexicon writes a finished lexicon and the family entries.
func encodeLexicon(lx *lexicon, family []familyEntry) ([]byte, error) {
	f := lexiconFile{Words: lx.words, Canon: lx.canon, Df: lx.df, Entries: make([]entryFile, len(lx.entries)), DrugRows: lx.drugRows}
	for w := range lx.vague {
		f.Vague = append(f.Vague, w)
	}
	ids := map[string]uint32{}
	str := func(s string) uint32 {
		id, ok := ids[s]
		if !ok {
			id = uint32(len(f.Strings))
			ids[s] = id
			f.Strings = append(f.Strings, s)
		}
		return id
	}
	for i, e := range lx.entries {
		f.Entries[i] = entryFile{Code: str(e.code), Text: str(e.text), Release: str(e.release), Form: str(e.form), Manif: str(e.manif),
			Words: e.words, Key: e.key, Origin: uint8(e.origin), Other: e.other, Row: e.row}
	}
	for _, fe := range family {
		ff := familyFile{Code: fe.code, Path: fe.path}
		for w := range fe.words {
			ff.Words = append(ff.Words, w)
		}
		f.Family = append(f.Family, ff)
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(&f); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// decodeLexicon reads what encodeLexicon wrote, as a finished lexicon.
func decodeLexicon(data []byte) (*lexicon, []familyEntry, error) {
	var f lexiconFile
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&f); err != nil {
		return nil, nil, err
	}
	lx := &lexicon{words: f.Words, canon: f.Canon, df: f.Df, vague: map[uint32]bool{},
		entries: make([]entry, len(f.Entries)), byKey: map[uint32][]int32{}, indexByCode: map[string][]int32{},
		drugRows: f.DrugRows}
	if lx.words == nil || lx.canon == nil {
		return nil, nil, fmt.Errorf("no vocabulary")
	}
	for _, w := range f.Vague {
		lx.vague[w] = true
	}
	n := uint32(len(f.Strings))
	for i, e := range f.Entries {
		if len(e.Words) == 0 || int(e.Key) >= len(lx.df) || origin(e.Origin) < fromTerms || origin(e.Origin) > fromVariant ||
			e.Code >= n || e.Text >= n || e.Release >= n || e.Form >= n || e.Manif >= n || e.Row < 0 || int(e.Row) > len(f.DrugRows) {
			return nil, nil, fmt.Errorf("entry %d is malformed", i)
		}
		for _, w := range e.Words {
			if int(w) >= len(lx.df) {
				return nil, nil, fmt.Errorf("entry %d names word %d of %d", i, w, len(lx.df))
			}
		}
		lx.entries[i] = entry{code: f.Strings[e.Code], words: e.Words, key: e.Key, origin: origin(e.Origin),
			text: f.Strings[e.Text], release: f.Strings[e.Release], other: e.Other, form: f.Strings[e.Form], manif: f.Strings[e.Manif], row: e.Row}
		lx.index(int32(i))
	}
	family := make([]familyEntry, len(f.Family))
	for i, ff := range f.Family {
		family[i] = familyEntry{words: map[uint32]bool{}, code: ff.Code, path: ff.Path}
		for _, w := range ff.Words {
			family[i].words[w] = true
		}
	}
	return lx, family, nil
}
