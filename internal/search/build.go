package search

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/rules"
	"github.com/medcode-dev/medcode/internal/textnorm"
)

// vocab interns folded words and their stems.
type vocab struct {
	ids    map[string]uint32 // folded word -> word id
	words  []string          // by word id
	stemOf []uint32          // word id -> stem id
	stop   []bool            // word id -> stop word
	free   []bool            // word id -> free word
	dflt   []bool            // word id -> names the default choice
	// sw are the stop words of en/stopwords: search skips the function
	// words and NOS and NEC (skipped), and reads the words naming the default or residual choice as
	// free (matched when asked for, never counted as extra). The
	// classification's qualifiers ("site", "condition") are read as words.
	sw     rules.StopWords
	stems  map[string]uint32 // stem -> stem id
	nstems int
}

func newVocab(sw rules.StopWords) vocab {
	return vocab{ids: make(map[string]uint32, 1<<15), stems: make(map[string]uint32, 1<<15), sw: sw}
}

// add interns a folded word; the caller guarantees w is folded.
func (v *vocab) add(w string) uint32 {
	if id, ok := v.ids[w]; ok {
		return id
	}
	id := uint32(len(v.words))
	v.ids[w] = id
	v.words = append(v.words, w)
	st := textnorm.Stem(w)
	sid, ok := v.stems[st]
	if !ok {
		sid = uint32(v.nstems)
		v.stems[st] = sid
		v.nstems++
	}
	v.stemOf = append(v.stemOf, sid)
	k := v.sw.Kind(w)
	v.stop = append(v.stop, skipped(k))
	v.free = append(v.free, k == rules.StopDefault || k == rules.StopResidual)
	v.dflt = append(v.dflt, k == rules.StopDefault || k == rules.StopDefaultAbbr)
	return id
}

// skipped reports whether search skips a stop word of kind k: function
// words, and the classification's abbreviations NOS and NEC, which a query
// adds to say no more than the plain term.
func skipped(k rules.StopKind) bool {
	return k == rules.StopFunction || k == rules.StopDefaultAbbr || k == rules.StopResidualAbbr
}

// Token flags.
const (
	tokOptional uint8 = 1 << iota // nonessential modifier or table column heading
	tokAlias                      // joined form of the two preceding hyphenated words
	tokMain                       // in the main term (level 0)
	tokColumn                     // table column heading: optional, but a full match
)

// token is one indexed word of an entry.
type token struct {
	word  uint32
	seg   uint16 // comma-separated alternative within the entry, increasing
	level uint8  // path level (0 = main term)
	flags uint8
}

// entry is one searchable item.
type entry struct {
	src    Source
	col    uint8 // table column, 1-based; 0 if none
	node   int32 // index in Searcher.nodes (index sources) or Tabular.Nodes
	incl   int32 // for SourceInclusion: index of the term in the node's inclusion list
	tok    uint32
	ntok   uint16
	effLen uint16 // essential non-stop words a perfect reading would match
	dflt   bool   // names the default choice: "unspecified" or "NOS"
}

// pathNode is one term of an index, linked to its parent.
type pathNode struct {
	term   *codesys.Term
	parent int32
	size   int32 // nodes in the subtree, this one included
	entry  int32 // first entry of this term, -1 if it has none
}

// builder accumulates entries and their posting pairs.
type builder struct {
	s     *Searcher
	buf   []byte
	pairs []uint64 // stem<<32 | entry<<2 | flags
}

// New builds a Searcher over every searchable part rel has; the classes of
// a classification read as classes are searched as a Tabular List (titles
// and inclusion rubrics). It reads rel
// but keeps pointers into it: rel must not be modified afterwards. It
// reads the embedded rule packs (NewWithRules reads a set of your own).
func New(rel *codesys.Release) *Searcher {
	set, err := rules.Default()
	if err == nil {
		var s *Searcher
		if s, err = NewWithRules(rel, set); err == nil {
			return s
		}
	}
	// The embedded packs are part of the program, and their tests read
	// them: an error here is a broken build, not a user's mistake.
	panic("search: embedded rule packs: " + err.Error())
}

// NewWithRules is New with the language's stop words (en/stopwords) and
// abbreviations (en/abbreviations, en/querywords) read from set, so that a
// pack given with --rules applies to search as it does to the coder.
func NewWithRules(rel *codesys.Release, set *rules.Set) (*Searcher, error) {
	sw, err := set.StopWords("en")
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	abbrevs, err := expansions(set)
	if err != nil {
		return nil, err
	}
	s := &Searcher{rel: rel, tab: rel.Tabular, voc: newVocab(sw), abbrevs: abbrevs}
	if s.tab == nil && rel.Classes != nil {
		s.tab = rel.Classes.Tabular()
	}
	b := &builder{s: s}
	if t := s.tab; t != nil {
		for i := range t.Nodes {
			if n := &t.Nodes[i]; n.Kind >= codesys.KindCategory {
				b.addTabular(int32(i), n)
			}
		}
	}
	for _, p := range []struct {
		ix  *codesys.Index
		src Source
	}{
		{rel.Index, SourceIndex}, {rel.External, SourceExternal},
		{rel.Neoplasm, SourceNeoplasm}, {rel.Drug, SourceDrug},
		{rel.PCSIndex, SourcePCSIndex},
	} {
		if p.ix == nil {
			continue
		}
		s.indexes[p.src] = p.ix
		for _, t := range p.ix.Terms {
			b.addTerm(p.src, p.ix, t, -1)
		}
	}
	b.finish()
	s.typo = buildTypo(&s.voc)
	s.scratch.New = func() any { return newScratch(len(s.entries)) }
	return s, nil
}

func (b *builder) addTabular(i int32, n *codesys.Node) {
	s := b.s
	e := entry{src: SourceTabular, node: i, tok: uint32(len(s.tokens))}
	b.text(n.Title, 0, 0, 0, false, true)
	b.close(&e, false)
	for k, it := range n.Notes.InclusionTerms {
		e := entry{src: SourceInclusion, node: i, incl: int32(k), tok: uint32(len(s.tokens))}
		b.text(it, 0, 0, 0, false, true)
		b.close(&e, false)
	}
	for k, it := range n.Notes.Includes {
		e := entry{src: SourceInclusion, node: i, incl: int32(len(n.Notes.InclusionTerms) + k), tok: uint32(len(s.tokens))}
		b.text(it, 0, 0, 0, false, true)
		b.close(&e, false)
	}
}

func (b *builder) addTerm(src Source, ix *codesys.Index, t *codesys.Term, parent int32) {
	s := b.s
	id := int32(len(s.nodes))
	s.nodes = append(s.nodes, pathNode{term: t, parent: parent, entry: -1})
	if parent < 0 {
		s.mainTerms[src] = append(s.mainTerms[src], id)
	}
	if hasTarget(t) {
		s.nodes[id].entry = int32(len(s.entries))
		emit := func(col int, words string) {
			e := entry{src: src, col: uint8(col), node: id, tok: uint32(len(s.tokens))}
			seg := uint16(0)
			// Walk the path from the main term down.
			var chain [64]int32
			k := 0
			for n := id; n >= 0 && k < len(chain); n = s.nodes[n].parent {
				chain[k] = n
				k++
			}
			for lv := 0; lv < k; lv++ {
				tm := s.nodes[chain[k-1-lv]].term
				var fl uint8
				if lv == 0 {
					fl = tokMain
				}
				seg = b.text(tm.Title, uint8(min(lv, 255)), seg, fl, true, false) + 1
				if tm.Nemod != "" {
					b.text(tm.Nemod, uint8(min(lv, 255)), seg, fl|tokOptional, false, false)
					seg++
				}
			}
			if words != "" {
				b.text(words, uint8(min(k-1, 255)), seg, tokOptional|tokColumn, false, false)
			}
			b.close(&e, true)
		}
		if len(t.Cells) > 0 {
			for _, c := range t.Cells {
				if !c.HasCode() {
					continue
				}
				emit(c.Col, column(ix, c.Col))
			}
		} else {
			emit(0, "")
		}
	}
	for _, sub := range t.Terms {
		b.addTerm(src, ix, sub, id)
	}
	s.nodes[id].size = int32(len(s.nodes)) - id
}

// hasTarget reports whether a term leads somewhere: a code, a cell, a
// table, a value to use or a cross-reference. Terms that only group
// subterms are not hits themselves.
func hasTarget(t *codesys.Term) bool {
	if t.Code != "" || t.See != "" || t.SeeAlso != "" || t.SeeCat != "" || t.SubCat != "" ||
		t.Use != "" || t.Codes != "" || t.Tab != "" {
		return true
	}
	return slices.ContainsFunc(t.Cells, codesys.Cell.HasCode)
}

func column(ix *codesys.Index, col int) string {
	if col >= 1 && col <= len(ix.Columns) {
		return ix.Columns[col-1]
	}
	return ""
}

// text tokenizes s into the builder's current entry and returns the last
// segment used. With commaAlt, each comma starts a new segment: in index
// terms "Fall, falling" and "from, off, out of" list alternatives. With
// parens, words in parentheses are optional: in Tabular List titles and
// inclusion terms they are nonessential modifiers ("Essential (primary)
// hypertension").
func (b *builder) text(s string, level uint8, seg uint16, flags uint8, commaAlt, parens bool) uint16 {
	sr := b.s
	prevEnd := -1
	var prevWord uint32
	havePrev := false
	depth, gap := 0, 0
	add := func(id uint32, start, end int) {
		w := sr.voc.words[id]
		if commaAlt && havePrev && strings.IndexByte(s[prevEnd:start], ',') >= 0 {
			seg++
		}
		fl := flags
		if parens {
			for _, c := range []byte(s[gap:start]) {
				switch c {
				case '(', '[':
					depth++
				case ')', ']':
					depth = max(depth-1, 0)
				}
			}
			gap = end
			if depth > 0 {
				fl |= tokOptional
			}
		}
		sr.tokens = append(sr.tokens, token{word: id, seg: seg, level: level, flags: fl})
		if havePrev && end > start && prevEnd+1 == start && s[prevEnd] == '-' {
			joined := sr.voc.words[prevWord] + w
			jid := sr.voc.add(joined)
			sr.tokens = append(sr.tokens, token{word: jid, seg: seg, level: level, flags: fl | tokAlias})
		}
		prevEnd, prevWord, havePrev = end, id, true
	}
	if !isASCII(s) {
		textnorm.EachWord(s, func(w textnorm.Word) { add(sr.voc.add(w.Norm), w.Start, w.End) })
		return seg
	}
	start := -1
	for i := 0; i <= len(s); i++ {
		var c byte
		if i < len(s) {
			c = s[i]
		}
		if isWordByte(c) || (c == '\'' && start >= 0 && i+1 < len(s) && isLetter(s[i+1])) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start < 0 {
			continue
		}
		b.buf = b.buf[:0]
		for j := start; j < i; j++ {
			ch := s[j]
			if 'A' <= ch && ch <= 'Z' {
				ch += 'a' - 'A'
			}
			b.buf = append(b.buf, ch)
		}
		id, ok := sr.voc.ids[string(b.buf)]
		if !ok {
			id = sr.voc.add(string(b.buf))
		}
		add(id, start, i)
		start = -1
	}
	return seg
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isWordByte(c byte) bool { return isLetter(c) || '0' <= c && c <= '9' }

// close finishes entry e, whose tokens were appended since e.tok, computes
// its effective length and records its posting pairs.
func (b *builder) close(e *entry, alternatives bool) {
	s := b.s
	toks := s.tokens[e.tok:]
	e.ntok = uint16(min(len(toks), 65535))
	toks = toks[:e.ntok]
	e.effLen = uint16(unmatchedEssential(toks, nil, &s.voc, alternatives) + 0.5)
	for _, t := range toks {
		if s.voc.dflt[t.word] {
			e.dflt = true
			break
		}
	}
	eid := uint64(len(s.entries))
	for _, t := range toks {
		if s.voc.stop[t.word] {
			continue
		}
		var fl uint64
		if t.flags&tokOptional == 0 {
			fl |= 1
			if t.flags&tokMain != 0 {
				fl |= 2
			}
		}
		b.pairs = append(b.pairs, uint64(s.voc.stemOf[t.word])<<32|eid<<2|fl)
	}
	s.entries = append(s.entries, *e)
}

// finish sorts the posting pairs by stem into compressed rows, merging
// the flags of an entry that holds a stem more than once.
func (b *builder) finish() {
	s := b.s
	n := s.voc.nstems
	count := make([]uint32, n+1)
	for _, p := range b.pairs {
		count[p>>32+1]++
	}
	for i := 1; i <= n; i++ {
		count[i] += count[i-1]
	}
	post := make([]uint32, len(b.pairs))
	next := make([]uint32, n)
	copy(next, count[:n])
	for _, p := range b.pairs {
		st := p >> 32
		post[next[st]] = uint32(p)
		next[st]++
	}
	// Pairs were appended in entry order, so each row is sorted by entry:
	// merge duplicates in place.
	out := post[:0]
	start := make([]uint32, n+1)
	for st := 0; st < n; st++ {
		start[st] = uint32(len(out))
		row := post[count[st]:count[st+1]]
		for _, p := range row {
			if k := len(out); k > int(start[st]) && out[k-1]>>2 == p>>2 {
				out[k-1] |= p & 3
				continue
			}
			out = append(out, p)
		}
	}
	start[n] = uint32(len(out))
	s.postings, s.postStart = out, start
	b.pairs = nil
}

// follow resolves a see reference made from entry from with the index's
// own Resolve and returns the entry of the deepest term reached, or -1.
func (s *Searcher) follow(from *entry, see string) int32 {
	ix := s.indexes[from.src]
	if ix == nil {
		return -1
	}
	path, _, err := ix.Resolve(see)
	if err != nil || len(path) == 0 {
		return -1
	}
	level := s.mainTerms[from.src]
	node := int32(-1)
	for _, t := range path {
		i := slices.IndexFunc(level, func(n int32) bool { return s.nodes[n].term == t })
		if i < 0 {
			break
		}
		node = level[i]
		level = s.children(node)
	}
	if node < 0 {
		return -1
	}
	return s.nodes[node].entry
}

// children returns the node ids of the subterms of node id.
func (s *Searcher) children(id int32) []int32 {
	var out []int32
	end := id + s.nodes[id].size
	for c := id + 1; c < end; c += s.nodes[c].size {
		out = append(out, c)
	}
	return out
}
