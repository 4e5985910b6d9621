package search

import (
	"cmp"
	"math/bits"
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/textnorm"
)

// maxQueryWords bounds the words of a query, expansions included: match
// masks are 32 bits wide. Longer queries keep their first words.
const maxQueryWords = 32

// Match weights: how much a query word counts depending on how it matched.
const (
	weightExact    = 1.0
	weightStem     = 0.97
	weightTypo     = 0.8
	weightAbbr     = 0.95 // factor on a word that came from an abbreviation
	weightOptional = 0.9  // factor on a match in a nonessential modifier or column heading
)

// leafBonus favours a Tabular List code that can be reported (a leaf)
// over its category when both read alike.
const leafBonus = 0.5

// defaultBonus favours entries that name the default choice
// ("unspecified", "NOS"): a query that does not say more is coded there.
const defaultBonus = 0.3

// weakBonus is added for each of the query's stop words the entry has.
const weakBonus = 0.3

// qword is one word the query asks for.
type qword struct {
	norm      string
	word      int64 // vocabulary id, -1 if not in the vocabulary
	stem      int64 // stem id, -1 if not in the vocabulary
	typoWords []uint32
	typoStems []uint32
	abbr      bool
}

// qgroup is one word as typed: matched either literally (lit) or through
// all the words of its abbreviation's expansion (exp).
type qgroup struct {
	text     string
	lit, exp uint32
	nexp     int
}

type query struct {
	// weak are the query's stop words ("from", "with"): not required, but
	// an entry that has them reads closer to the query.
	weak   []uint32
	words  []qword
	groups []qgroup
	plain  bool // no abbreviation groups: coverage is a popcount
}

type accum struct{ m, ess, main uint32 }

type cand struct {
	e   uint32
	pre float32
}

// scratch is the per-search working memory, reused through a pool so that
// concurrent searches do not share it.
type scratch struct {
	acc     []accum
	touched []uint32
	cands   []cand
	matched []bool
}

func newScratch(n int) *scratch { return &scratch{acc: make([]accum, n)} }

// parse turns the query text into words and groups, expanding
// abbreviations and looking up spelling corrections.
func (s *Searcher) parse(text string) query {
	var q query
	q.plain = true
	add := func(norm string, abbr bool) (uint32, bool) {
		if len(q.words) >= maxQueryWords {
			return 0, false
		}
		w := qword{norm: norm, word: -1, stem: -1, abbr: abbr}
		if id, ok := s.voc.ids[norm]; ok {
			w.word = int64(id)
		}
		if sid, ok := s.voc.stems[textnorm.Stem(norm)]; ok {
			w.stem = int64(sid)
		}
		if w.stem < 0 {
			w.typoWords = s.typo.lookup(&s.voc, norm, nil)
			for _, id := range w.typoWords {
				if st := s.voc.stemOf[id]; !slices.Contains(w.typoStems, st) {
					w.typoStems = append(w.typoStems, st)
				}
			}
		}
		q.words = append(q.words, w)
		return 1 << (len(q.words) - 1), true
	}
	textnorm.EachWord(text, func(tw textnorm.Word) {
		n := tw.Norm
		if skipped(s.voc.sw.Kind(n)) {
			if id, ok := s.voc.ids[n]; ok && !slices.Contains(q.weak, id) && len(q.weak) < 32 {
				q.weak = append(q.weak, id)
			}
			return
		}
		g := qgroup{text: n}
		if exp, ok := s.expand(n, tw.Text); ok {
			if _, known := s.voc.ids[n]; known {
				if b, ok := add(n, false); ok {
					g.lit = b
				}
			}
			for _, e := range exp {
				if skipped(s.voc.sw.Kind(e)) {
					continue
				}
				if b, ok := add(e, true); ok {
					g.exp |= b
					g.nexp++
				}
			}
			if g.exp != 0 {
				q.plain = false
			}
		} else if b, ok := add(n, false); ok {
			g.lit = b
		}
		if g.lit|g.exp != 0 {
			q.groups = append(q.groups, g)
		}
	})
	return q
}

// coverage returns how many groups the mask m covers, counting an
// abbreviation's expansion by the share of its words matched.
func (q *query) coverage(m uint32) float32 {
	if q.plain {
		return float32(bits.OnesCount32(m))
	}
	var c float32
	for _, g := range q.groups {
		switch {
		case m&g.lit != 0:
			c++
		case g.exp != 0:
			c += float32(bits.OnesCount32(m&g.exp)) / float32(g.nexp)
		}
	}
	return c
}

// Search returns the entries best matching text, best first.
func (s *Searcher) Search(text string, opts Options) []Hit {
	limit := opts.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	var allowed [numSources]bool
	if len(opts.Sources) == 0 {
		for i := range allowed {
			allowed[i] = true
		}
	} else {
		for _, src := range opts.Sources {
			if src < numSources {
				allowed[src] = true
			}
		}
	}
	q := s.parse(text)
	if len(q.words) == 0 {
		return nil
	}
	sc := s.scratch.Get().(*scratch)
	defer s.scratch.Put(sc)

	// Gather: one pass over the posting rows of each query word's stems.
	var seen []uint32
	for i, w := range q.words {
		bit := uint32(1) << i
		seen = seen[:0]
		if w.stem >= 0 {
			seen = append(seen, uint32(w.stem))
		}
		seen = append(seen, w.typoStems...)
		for _, st := range seen {
			for _, p := range s.postings[s.postStart[st]:s.postStart[st+1]] {
				a := &sc.acc[p>>2]
				if a.m == 0 {
					sc.touched = append(sc.touched, p>>2)
				}
				a.m |= bit
				if p&1 != 0 {
					a.ess |= bit
				}
				if p&2 != 0 {
					a.main |= bit
				}
			}
		}
	}

	// Preliminary ranking from the masks alone, to pick the candidates
	// worth reading in full.
	sc.cands = sc.cands[:0]
	for _, e := range sc.touched {
		a := sc.acc[e]
		sc.acc[e] = accum{}
		en := &s.entries[e]
		if !allowed[en.src] {
			continue
		}
		pre := 10*q.coverage(a.m) + 0.3*float32(bits.OnesCount32(a.m&^a.ess))
		if a.main != 0 {
			pre += 2
		}
		if en.src == SourceTabular || en.src == SourceInclusion {
			if a.ess != 0 {
				pre += 1 // perhaps the leading word
			}
			if len(s.tab.Nodes[en.node].Children) == 0 {
				pre += leafBonus
			}
		}
		extra := int(en.effLen) - bits.OnesCount32(a.ess)
		pre -= 0.5 * float32(min(max(extra, 0), 12))
		if en.dflt {
			pre += defaultBonus
		}
		sc.cands = append(sc.cands, cand{e: e, pre: pre})
	}
	sc.touched = sc.touched[:0]
	k := max(300, 10*limit)
	cands := topK(sc.cands, k)

	hits := make([]scored, 0, len(cands))
	for _, c := range cands {
		hits = append(hits, s.score(&q, c.e, sc))
	}
	slices.SortFunc(hits, func(a, b scored) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return s.compareEntries(a.e, b.e)
	})

	var out []Hit
	dedup := make(map[string]bool)
	for _, h := range hits {
		if len(out) >= limit {
			break
		}
		hit := s.hit(h)
		key := hit.Code + "\x00" + strings.Join(hit.Path, "\x1f")
		if dedup[key] {
			continue
		}
		dedup[key] = true
		out = append(out, hit)
		if opts.FollowSee && hit.See != "" && len(out) < limit {
			if t := s.follow(&s.entries[h.e], hit.See); t >= 0 {
				th := s.hit(scored{e: uint32(t), score: h.score})
				th.Via = hit.Path
				th.Matched, th.Missing = nil, nil
				key := th.Code + "\x00" + strings.Join(th.Path, "\x1f")
				if !dedup[key] {
					dedup[key] = true
					out = append(out, th)
				}
			}
		}
	}
	return out
}

// topK moves the k candidates with the highest preliminary score to the
// front (in no particular order) and returns them.
func topK(c []cand, k int) []cand {
	if len(c) <= k {
		return c
	}
	lo, hi := 0, len(c)-1
	for lo < hi {
		p := c[(lo+hi)/2].pre
		i, j := lo, hi
		for i <= j {
			for c[i].pre > p {
				i++
			}
			for c[j].pre < p {
				j--
			}
			if i <= j {
				c[i], c[j] = c[j], c[i]
				i++
				j--
			}
		}
		switch {
		case k-1 <= j:
			hi = j
		case k-1 >= i:
			lo = i
		default:
			return c[:k]
		}
	}
	return c[:k]
}

type scored struct {
	e       uint32
	score   float64
	matched []string
	missing []string
}

// score reads entry e in full against the query.
func (s *Searcher) score(q *query, e uint32, sc *scratch) scored {
	en := &s.entries[e]
	toks := s.tokens[en.tok : en.tok+uint32(en.ntok)]
	var best [maxQueryWords]float64
	if cap(sc.matched) < len(toks) {
		sc.matched = make([]bool, len(toks))
	}
	matched := sc.matched[:len(toks)]
	clear(matched)
	mainHit, leadHit := false, false
	lead := -1 // the entry's first essential word
	var words []string
	var weak uint32
	for ti, t := range toks {
		if s.voc.stop[t.word] {
			if i := slices.Index(q.weak, t.word); i >= 0 {
				weak |= 1 << i
			}
			continue
		}
		if lead < 0 && t.flags&(tokOptional|tokAlias) == 0 {
			lead = ti
		}
		st := int64(s.voc.stemOf[t.word])
		hit := false
		for i := range q.words {
			w := &q.words[i]
			var v float64
			switch {
			case int64(t.word) == w.word:
				v = weightExact
			case st == w.stem:
				v = weightStem
			case slices.Contains(w.typoWords, t.word):
				v = weightTypo
			case slices.Contains(w.typoStems, uint32(st)):
				v = weightTypo * weightStem
			default:
				continue
			}
			if w.abbr {
				v *= weightAbbr
			}
			if t.flags&(tokOptional|tokColumn) == tokOptional {
				v *= weightOptional
			} else if t.flags&tokOptional == 0 && t.flags&tokMain != 0 {
				mainHit = true
			}
			best[i] = max(best[i], v)
			hit = true
		}
		if !hit {
			continue
		}
		matched[ti] = true
		if ti == lead {
			leadHit = true
		}
		if t.flags&tokAlias != 0 {
			for j, n := ti-1, 0; j >= 0 && n < 2; j-- {
				if toks[j].flags&tokAlias == 0 {
					matched[j] = true
					n++
				}
			}
		} else if !slices.Contains(words, s.voc.words[t.word]) {
			words = append(words, s.voc.words[t.word])
		}
	}

	full := 0
	var quality float64
	var missing []string
	for _, g := range q.groups {
		var lit, expQ float64
		for m := g.lit; m != 0; m &= m - 1 {
			lit = max(lit, best[bits.TrailingZeros32(m)])
		}
		cov := 0.0
		if lit > 0 {
			cov = 1
		} else if g.nexp > 0 {
			n := 0
			for m := g.exp; m != 0; m &= m - 1 {
				if v := best[bits.TrailingZeros32(m)]; v > 0 {
					expQ += v
					n++
				}
			}
			expQ /= float64(g.nexp)
			cov = float64(n) / float64(g.nexp)
		}
		switch {
		case cov == 1:
			full++
		case cov == 0:
			missing = append(missing, g.text)
		}
		quality += max(lit, expQ)
	}

	alternatives := en.src != SourceTabular && en.src != SourceInclusion
	extras := unmatchedEssential(toks, matched, &s.voc, alternatives)

	score := 10 * quality
	if full == len(q.groups) {
		score += 5
	}
	switch {
	case en.src == SourceTabular || en.src == SourceInclusion:
		if leadHit {
			score++
		}
		if len(s.tab.Nodes[en.node].Children) == 0 {
			score += leafBonus
		}
	case mainHit:
		score += 2
	}
	score -= 0.5 * min(extras, 12)
	if en.dflt {
		score += defaultBonus
	}
	score += weakBonus * float64(bits.OnesCount32(weak))
	return scored{e: e, score: score, matched: words, missing: missing}
}

// unmatchedEssential counts the essential words of an entry that the query
// did not match (all of them if matched is nil). With alternatives, each
// level counts its best comma-separated alternative in full and the words
// of its other alternatives at a fifth: "Fall, falling" and "from, off, out
// of" are alternatives, but the same comma also inverts phrases ("lingula,
// lung"), and an entry naming only what was asked should win.
func unmatchedEssential(toks []token, matched []bool, v *vocab, alternatives bool) float64 {
	total := 0.0
	for i := 0; i < len(toks); {
		lv := toks[i].level
		best, cur, sum := -1, 0, 0
		seg := toks[i].seg
		for ; i < len(toks) && toks[i].level == lv; i++ {
			t := toks[i]
			if t.flags&tokOptional != 0 {
				continue
			}
			if alternatives && t.seg != seg {
				if best < 0 || cur < best {
					best = cur
				}
				cur, seg = 0, t.seg
			}
			if t.flags&tokAlias == 0 && !v.stop[t.word] && !v.free[t.word] && (matched == nil || !matched[i]) {
				cur++
				sum++
			}
		}
		if best < 0 || cur < best {
			best = cur
		}
		total += float64(best) + 0.2*float64(sum-best)
	}
	return total
}

// compareEntries orders equally scored entries: by source, then code, then
// column, then path, so that results are deterministic.
func (s *Searcher) compareEntries(a, b uint32) int {
	ea, eb := &s.entries[a], &s.entries[b]
	if c := cmp.Compare(ea.src, eb.src); c != 0 {
		return c
	}
	ca, cb := s.code(ea), s.code(eb)
	if (ca == "") != (cb == "") {
		if ca == "" {
			return 1
		}
		return -1
	}
	if c := strings.Compare(ca, cb); c != 0 {
		return c
	}
	if c := cmp.Compare(ea.col, eb.col); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}

// code returns the code entry e leads to, or "".
func (s *Searcher) code(e *entry) string {
	switch e.src {
	case SourceTabular, SourceInclusion:
		return s.tab.Nodes[e.node].Code
	}
	t := s.nodes[e.node].term
	if e.col > 0 {
		c, _ := t.Cell(int(e.col))
		return c
	}
	for _, c := range [...]string{t.Code, t.Codes, t.Tab, t.SeeCodes, t.SeeTab, t.UseTab} {
		if c != "" {
			return c
		}
	}
	return ""
}

// hit builds the Hit for a scored entry.
func (s *Searcher) hit(h scored) Hit {
	e := &s.entries[h.e]
	hit := Hit{Source: e.src, Score: h.score, Matched: h.matched, Missing: h.missing, Code: s.code(e)}
	switch e.src {
	case SourceTabular, SourceInclusion:
		n := &s.tab.Nodes[e.node]
		hit.Title = n.Title
		text := n.Title
		if e.src == SourceInclusion {
			if k := int(e.incl); k < len(n.Notes.InclusionTerms) {
				text = n.Notes.InclusionTerms[k]
			} else {
				text = n.Notes.Includes[k-len(n.Notes.InclusionTerms)]
			}
		}
		hit.Path = []string{text}
		hit.Nemod = []string{""}
		return hit
	}
	var chain []*codesys.Term
	for n := e.node; n >= 0; n = s.nodes[n].parent {
		chain = append(chain, s.nodes[n].term)
	}
	slices.Reverse(chain)
	for _, t := range chain {
		hit.Path = append(hit.Path, t.Label())
		hit.Nemod = append(hit.Nemod, t.Nemod)
	}
	t := chain[len(chain)-1]
	hit.Manif, hit.See, hit.SeeAlso, hit.Use = t.Manif, t.See, t.SeeAlso, t.Use
	hit.SeeCat = cmp.Or(t.SeeCat, t.SubCat)
	if e.col > 0 {
		if cols := s.indexes[e.src].Columns; int(e.col) <= len(cols) {
			hit.Column = cols[e.col-1]
		}
	}
	hit.Title = s.titleOf(hit.Code)
	return hit
}

// titleOf returns the tabular title of code, or of its nearest ancestor
// in the Tabular List when the code is incomplete ("C34.9-").
func (s *Searcher) titleOf(code string) string {
	t := s.tab
	if t == nil || s.rel.System != codesys.ICD10CM && s.rel.System != "" {
		return ""
	}
	c := strings.TrimRight(code, "-.")
	for len(c) >= 3 {
		if n := t.Node(c); n != nil && n.Kind >= codesys.KindCategory {
			return n.Title
		}
		c = strings.TrimRight(c[:len(c)-1], ".")
	}
	return ""
}
