package coder

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"maps"
	"math"
	"slices"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/flatfile"
	packs "github.com/medcode-dev/medcode/internal/rules"
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
const lexiconFormat = "lexicon-11"

// cacheKey names the lexicon built from ref and the rule packs of set:
// the releases it reads, what identifies their content (ref.Lexicon's
// key, else what the releases hold), and the content of the packs the
// lexicon is built from, so that an overriding pack builds it again.
func cacheKey(ref Reference, set *packs.Set) string {
	h := sha256.New()
	fmt.Fprintln(h, lexiconFormat)
	for _, r := range []*codesys.Release{ref.CM, ref.Tables} {
		if ref.Lexicon != nil {
			if r != nil {
				fmt.Fprintln(h, r.ID())
			}
			continue
		}
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
	if ref.Lexicon != nil {
		fmt.Fprintln(h, "releases", ref.Lexicon.Key)
	}
	fmt.Fprintln(h, "packs", set.Digest(lexiconPacks()...))
	return lexiconFormat + "-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// The cached lexicon is a flat binary file rather than gob: gob gave every
// string and word list of the two hundred thousand entries an allocation
// of its own, and decoding it took as long as the rest of a one-note run.
// Here every string is a slice of one block and every entry's words a
// slice of one array.
//
// The file is lexiconMagic, then these sections, every number an unsigned
// varint:
//
//	strings  count, each one's length, then their bytes one after another
//	words    count, then per word (stem, id), stems as string numbers
//	canon    count, then per pair (stem, canonical stem)
//	vague    count, then the word ids
//	df       count, then the document frequencies
//	entries  count n and total words w, then nine columns of n
//	         fixed-width little-endian uint32: code, text, release, form
//	         and manif (string numbers), key, number of words, origin with
//	         other (1<<8), and the Drug table row; then the w words of all
//	         entries, likewise
//	by key   count, then per key word (word, length of its list), then
//	         the lists of entry numbers as fixed-width uint32
//	by code  likewise, the keys string numbers of codes
//	family   count, then per entry code, path, the number of words and the
//	         words
//	drugs    count, then per row of the Table of Drugs the number of its
//	         codes and the codes (string numbers); then the number of
//	         its column headings and the headings
//
// and ends with the CRC-32C of all that precedes it, little-endian, so
// that a damaged file is told from a lexicon.
const lexiconMagic = "medcode lexicon\x00"

// entryColumns is the number of fixed-width columns of the entries.
const entryColumns = 9

func checksum(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

// encodeLexicon writes a finished lexicon and the family entries.
func encodeLexicon(lx *lexicon, family []familyEntry) ([]byte, error) {
	var f flatfile.Writer
	str, put := f.String, f.Uint

	// Maps are written in key order, so that one lexicon always makes the
	// same file.
	put(uint64(len(lx.words)))
	for _, w := range slices.Sorted(maps.Keys(lx.words)) {
		put(str(w))
		put(uint64(lx.words[w]))
	}
	put(uint64(len(lx.canon)))
	for _, w := range slices.Sorted(maps.Keys(lx.canon)) {
		put(str(w))
		put(str(lx.canon[w]))
	}
	vague := slices.Sorted(maps.Keys(lx.vague))
	put(uint64(len(vague)))
	for _, w := range vague {
		put(uint64(w))
	}
	put(uint64(len(lx.df)))
	for _, n := range lx.df {
		if n < 0 {
			return nil, fmt.Errorf("word with a negative frequency %d", n)
		}
		put(uint64(n))
	}
	// The entries are columns of fixed-width numbers, which read faster
	// than varints: there are millions of them.
	total := 0
	for _, e := range lx.entries {
		total += len(e.words)
	}
	put(uint64(len(lx.entries)))
	put(uint64(total))
	u32 := f.Uint32
	for _, col := range []func(e *entry) uint32{
		func(e *entry) uint32 { return uint32(str(e.code)) },
		func(e *entry) uint32 { return uint32(str(e.text)) },
		func(e *entry) uint32 { return uint32(str(e.release)) },
		func(e *entry) uint32 { return uint32(str(e.form)) },
		func(e *entry) uint32 { return uint32(str(e.manif)) },
		func(e *entry) uint32 { return e.key },
		func(e *entry) uint32 { return uint32(len(e.words)) },
		func(e *entry) uint32 {
			if e.other {
				return uint32(e.origin) | 1<<8
			}
			return uint32(e.origin)
		},
		func(e *entry) uint32 { return uint32(e.row) },
	} {
		for i := range lx.entries {
			u32(col(&lx.entries[i]))
		}
	}
	for _, e := range lx.entries {
		for _, w := range e.words {
			u32(w)
		}
	}
	// The entries' lists by key word and by code are stored too: making
	// them again takes a map update per entry.
	writeLists(&f, lx.byKey, func(k uint32) uint64 { return uint64(k) })
	writeLists(&f, lx.indexByCode, str)
	put(uint64(len(family)))
	for _, fe := range family {
		put(str(fe.code))
		put(str(fe.path))
		words := slices.Sorted(maps.Keys(fe.words))
		put(uint64(len(words)))
		for _, w := range words {
			put(uint64(w))
		}
	}
	put(uint64(len(lx.drugRows)))
	for _, row := range lx.drugRows {
		put(uint64(len(row)))
		for _, c := range row {
			put(str(c))
		}
	}
	put(uint64(len(lx.drugHeadings)))
	for _, h := range lx.drugHeadings {
		put(str(h))
	}

	b := f.Bytes([]byte(lexiconMagic))
	return binary.LittleEndian.AppendUint32(b, checksum(b)), nil
}

// writeLists writes a map from keys to lists of entry numbers as
// readLists reads it: the number of keys, each key (as key gives it) and
// the length of its list, in key order, then the lists one after another.
func writeLists[K cmp.Ordered](f *flatfile.Writer, m map[K][]int32, key func(K) uint64) {
	keys := slices.Sorted(maps.Keys(m))
	f.Uint(uint64(len(keys)))
	for _, k := range keys {
		f.Uint(key(k))
		f.Uint(uint64(len(m[k])))
	}
	for _, k := range keys {
		for _, i := range m[k] {
			f.Uint32(uint32(i))
		}
	}
}

// readLists reads a map from keys to lists of entry numbers below n, as
// encodeLexicon writes it: the number of keys, each key and the length of
// its list, then the lists one after another. The lists are slices of one
// array, capped so that an append never reaches the next.
func readLists[K comparable](r *flatfile.Reader, key func() K, n int) (map[K][]int32, error) {
	type list struct {
		k K
		n int
	}
	lists := make([]list, r.Count(2))
	total := 0
	for i := range lists {
		lists[i] = list{key(), r.Count(4)}
		total += lists[i].n
	}
	all := r.Uint32s(total)
	if r.Err() != nil {
		return nil, r.Err()
	}
	flat := make([]int32, len(all))
	for i, v := range all {
		if v >= uint32(n) {
			return nil, fmt.Errorf("entry %d of %d", v, n)
		}
		flat[i] = int32(v)
	}
	m := make(map[K][]int32, len(lists))
	at := 0
	for _, l := range lists {
		m[l.k] = flat[at : at+l.n : at+l.n]
		at += l.n
	}
	return m, nil
}

// decodeLexicon reads what encodeLexicon wrote, as a finished lexicon.
func decodeLexicon(data []byte) (*lexicon, []familyEntry, error) {
	if len(data) < len(lexiconMagic)+4 || string(data[:len(lexiconMagic)]) != lexiconMagic {
		return nil, nil, fmt.Errorf("not a cached lexicon")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if checksum(body) != sum {
		return nil, nil, fmt.Errorf("checksum mismatch: the file is damaged")
	}
	r, err := flatfile.NewReader(body[len(lexiconMagic):])
	if err != nil {
		return nil, nil, err
	}
	ns := uint32(r.Strings())
	str := r.Str

	lx := &lexicon{}
	nw := r.Count(2)
	lx.words = make(map[string]uint32, nw)
	for range nw {
		w := str("word string")
		lx.words[w] = uint32(r.Uint())
	}
	nc := r.Count(2)
	lx.canon = make(map[string]string, nc)
	for range nc {
		w := str("canon string")
		lx.canon[w] = str("canon string")
	}
	if r.Err() != nil {
		return nil, nil, fmt.Errorf("vocabulary: %w", r.Err())
	}
	vague := make([]uint64, r.Count(1))
	for i := range vague {
		vague[i] = r.Uint()
	}
	lx.df = make([]int32, r.Count(1))
	for i := range lx.df {
		v := r.Uint()
		if v > math.MaxInt32 {
			r.Fail("frequency %d", v)
		}
		lx.df[i] = int32(v)
	}
	if r.Err() != nil {
		return nil, nil, fmt.Errorf("frequencies: %w", r.Err())
	}
	nwords := len(lx.df)
	lx.vague = make(map[uint32]bool, len(vague))
	for _, w := range vague {
		if w >= uint64(nwords) {
			return nil, nil, fmt.Errorf("vague word %d of %d", w, nwords)
		}
		lx.vague[uint32(w)] = true
	}

	n, total := r.Count(4*entryColumns+4), r.Count(4)
	cols := r.Uint32s(entryColumns * n)
	words := r.Uint32s(total)
	if r.Err() != nil {
		return nil, nil, fmt.Errorf("entries: %w", r.Err())
	}
	lx.entries = make([]entry, n)
	col := func(i int) []uint32 { return cols[i*n : (i+1)*n] }
	code, text, release, form, manif := col(0), col(1), col(2), col(3), col(4)
	key, count, flags, row := col(5), col(6), col(7), col(8)
	at := 0
	for i := range lx.entries {
		e := &lx.entries[i]
		if code[i] >= ns || text[i] >= ns || release[i] >= ns || form[i] >= ns || manif[i] >= ns {
			return nil, nil, fmt.Errorf("entry %d names a string beyond %d", i, ns)
		}
		e.code, e.text, e.release, e.form, e.manif = r.StringAt(code[i]), r.StringAt(text[i]), r.StringAt(release[i]), r.StringAt(form[i]), r.StringAt(manif[i])
		if row[i] > math.MaxInt32 {
			return nil, nil, fmt.Errorf("entry %d: drug row %d", i, row[i])
		}
		e.row = int32(row[i])
		if key[i] >= uint32(nwords) {
			return nil, nil, fmt.Errorf("entry %d: key word %d of %d", i, key[i], nwords)
		}
		e.key = key[i]
		o, other := origin(flags[i]&0xff), flags[i]>>8
		if o < fromTerms || o > fromVariant || other > 1 {
			return nil, nil, fmt.Errorf("entry %d: flags %#x", i, flags[i])
		}
		e.origin, e.other = o, other == 1
		c := int(count[i])
		if c == 0 || c > len(words)-at {
			return nil, nil, fmt.Errorf("entry %d: %d words, %d left", i, c, len(words)-at)
		}
		// Each entry's words are a slice of the one array, capped so that
		// an append never reaches the next entry's.
		e.words = words[at : at+c : at+c]
		for _, w := range e.words {
			if w >= uint32(nwords) {
				return nil, nil, fmt.Errorf("entry %d names word %d of %d", i, w, nwords)
			}
		}
		at += c
	}
	if at != len(words) {
		return nil, nil, fmt.Errorf("entries: %d words left over", len(words)-at)
	}
	if lx.byKey, err = readLists(r, func() uint32 { return uint32(r.Below(nwords, "key word")) }, n); err != nil {
		return nil, nil, fmt.Errorf("entries by key: %w", err)
	}
	if lx.indexByCode, err = readLists(r, func() string { return str("code string") }, n); err != nil {
		return nil, nil, fmt.Errorf("entries by code: %w", err)
	}

	family := make([]familyEntry, r.Count(3))
	for i := range family {
		fe := &family[i]
		fe.code, fe.path = str("family code"), str("family path")
		n := r.Count(1)
		fe.words = make(map[uint32]bool, n)
		for range n {
			fe.words[uint32(r.Below(nwords, "family word"))] = true
		}
	}
	if r.Err() != nil {
		return nil, nil, fmt.Errorf("family history: %w", r.Err())
	}
	lx.drugRows = make([][]string, r.Count(1))
	for i := range lx.drugRows {
		codes := make([]string, r.Count(1))
		for j := range codes {
			codes[j] = str("drug code")
		}
		lx.drugRows[i] = codes
	}
	if n := r.Count(1); n > 0 {
		lx.drugHeadings = make([]string, n)
		for i := range lx.drugHeadings {
			lx.drugHeadings[i] = str("drug heading")
		}
	}
	if r.Err() != nil {
		return nil, nil, fmt.Errorf("drug rows: %w", r.Err())
	}
	for i := range lx.entries {
		// A drug entry's row is its row in drugRows plus one; 0 is none.
		if int(lx.entries[i].row) > len(lx.drugRows) {
			return nil, nil, fmt.Errorf("entry %d: drug row %d of %d", i, lx.entries[i].row, len(lx.drugRows))
		}
	}
	if r.Left() != 0 {
		return nil, nil, fmt.Errorf("%d bytes after the lexicon", r.Left())
	}
	return lx, family, nil
}
