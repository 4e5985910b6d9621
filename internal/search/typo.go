package search

import (
	"slices"
	"sort"
)

// typoIndex finds vocabulary words within a small edit distance of a query
// word by the symmetric-delete method: every word and every form of it
// with one letter deleted are hashed once at build time; a query word's
// forms with up to one (or, for long words, two) letters deleted are
// looked up, and candidates are confirmed by computing the distance.
//
// Each key packs a 40-bit hash of a form with the 24-bit word id, so the
// whole structure is one sorted slice.
type typoIndex struct {
	keys []uint64
}

const (
	typoMinLen  = 5 // shortest query word corrected at distance 1
	typoMinLen2 = 8 // shortest query word corrected at distance 2
	typoIDBits  = 24
)

func buildTypo(v *vocab) typoIndex {
	n := 0
	for _, w := range v.words {
		if typoEligible(w) {
			n += len(w) + 1
		}
	}
	keys := make([]uint64, 0, n)
	for id, w := range v.words {
		if !typoEligible(w) || id >= 1<<typoIDBits || v.stop[id] {
			continue
		}
		keys = append(keys, hashSkip(w, -1, -1)<<typoIDBits|uint64(id))
		for i := range len(w) {
			keys = append(keys, hashSkip(w, i, -1)<<typoIDBits|uint64(id))
		}
	}
	slices.Sort(keys)
	return typoIndex{keys: slices.Compact(keys)}
}

// typoEligible reports whether a vocabulary word can be a correction: long
// enough to be reached from a five-letter query word and made of letters
// only (codes and measurements are never corrected).
func typoEligible(w string) bool {
	if len(w) < typoMinLen-1 {
		return false
	}
	for i := 0; i < len(w); i++ {
		if !('a' <= w[i] && w[i] <= 'z') {
			return false
		}
	}
	return true
}

// hashSkip hashes w without the bytes at i and j (-1 for none) with
// FNV-1a, keeping the top 40 bits.
func hashSkip(w string, i, j int) uint64 {
	h := uint64(14695981039346656037)
	for k := 0; k < len(w); k++ {
		if k == i || k == j {
			continue
		}
		h ^= uint64(w[k])
		h *= 1099511628211
	}
	return h >> (64 - 40)
}

// lookup returns the ids of vocabulary words within the allowed distance
// of q (not q itself), appending to dst.
func (t *typoIndex) lookup(v *vocab, q string, dst []uint32) []uint32 {
	if len(q) < typoMinLen || !typoEligible(q) {
		return dst
	}
	maxd := 1
	if len(q) >= typoMinLen2 {
		maxd = 2
	}
	start := len(dst)
	probe := func(h uint64) {
		lo := sort.Search(len(t.keys), func(k int) bool { return t.keys[k]>>typoIDBits >= h })
		for k := lo; k < len(t.keys) && t.keys[k]>>typoIDBits == h; k++ {
			id := uint32(t.keys[k] & (1<<typoIDBits - 1))
			if slices.Contains(dst[start:], id) {
				continue
			}
			w := v.words[id]
			if w == q {
				continue
			}
			if d := osaDistance(q, w, maxd); d <= maxd {
				dst = append(dst, id)
			}
		}
	}
	probe(hashSkip(q, -1, -1))
	for i := range len(q) {
		probe(hashSkip(q, i, -1))
	}
	if maxd >= 2 {
		for i := range len(q) {
			for j := i + 1; j < len(q); j++ {
				probe(hashSkip(q, i, j))
			}
		}
	}
	return dst
}

// osaDistance returns the optimal string alignment distance between a and
// b (insertions, deletions, substitutions and transpositions of adjacent
// letters), or max+1 as soon as it must exceed max.
func osaDistance(a, b string, max int) int {
	if d := len(a) - len(b); d > max || -d > max {
		return max + 1
	}
	var rows [3][64]int
	if len(b) >= 63 {
		return max + 1
	}
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			best = min(best, v)
		}
		if best > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
