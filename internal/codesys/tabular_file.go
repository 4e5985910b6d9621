package codesys

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
)

// EncodeTabular writes t whole, with the problems Lookup reports for the
// nodes of a composed list, so that DecodeTabular gives back a list that
// behaves as t does: a composed list need not be composed again, nor the
// release lending its notes be read.
//
// The form is flat rather than gob, because a command reads it on every
// run and gob gives every string of the list an allocation of its own: a
// format version, every distinct string once (their count, each one's
// length, then their bytes), then the list's numbers, strings written as
// their number in that table and every number as an unsigned varint:
//
//	version, notes from (string), composed (0 or 1)
//	nodes: count, total children, total notes; per node code, kind,
//	       title, parent+1, notes from, its children's count and
//	       indexes, the count and strings of each of the nine kinds of
//	       note in the order of Notes, and its 7th characters' count and
//	       (character, title) pairs
//	problems: count of nodes with any; per node its index, the count
//	       and the strings
//	note problems: likewise, each problem a (kind, message) pair
func EncodeTabular(w io.Writer, t *Tabular) error {
	var strs []string
	ids := map[string]uint64{}
	str := func(s string) uint64 {
		id, ok := ids[s]
		if !ok {
			id = uint64(len(strs))
			ids[s] = id
			strs = append(strs, s)
		}
		return id
	}
	var body []byte
	put := func(v uint64) { body = binary.AppendUvarint(body, v) }
	bit := func(b bool) {
		if b {
			put(1)
		} else {
			put(0)
		}
	}
	put(str(t.Version))
	put(str(t.NotesFrom))
	bit(t.Composed)
	children, notes := 0, 0
	for i := range t.Nodes {
		children += len(t.Nodes[i].Children)
		for _, l := range noteLists(&t.Nodes[i].Notes) {
			notes += len(*l)
		}
	}
	put(uint64(len(t.Nodes)))
	put(uint64(children))
	put(uint64(notes))
	for i := range t.Nodes {
		n := &t.Nodes[i]
		put(str(n.Code))
		put(uint64(n.Kind))
		put(str(n.Title))
		put(uint64(n.Parent + 1))
		put(str(n.NotesFrom))
		put(uint64(len(n.Children)))
		for _, c := range n.Children {
			put(uint64(c))
		}
		for _, l := range noteLists(&n.Notes) {
			put(uint64(len(*l)))
			for _, s := range *l {
				put(str(s))
			}
		}
		put(uint64(len(n.SevenChr)))
		for _, sc := range n.SevenChr {
			put(uint64(sc.Char))
			put(str(sc.Title))
		}
	}
	// Maps are written in node order, so that one list always makes the
	// same bytes.
	put(uint64(len(t.problems)))
	for _, i := range slices.Sorted(maps.Keys(t.problems)) {
		put(uint64(i))
		put(uint64(len(t.problems[i])))
		for _, p := range t.problems[i] {
			put(str(p))
		}
	}
	put(uint64(len(t.refProblems)))
	for _, i := range slices.Sorted(maps.Keys(t.refProblems)) {
		put(uint64(i))
		put(uint64(len(t.refProblems[i])))
		for _, p := range t.refProblems[i] {
			put(str(p.kind))
			put(str(p.msg))
		}
	}

	b := binary.AppendUvarint(nil, tabularFileVersion)
	b = binary.AppendUvarint(b, uint64(len(strs)))
	for _, s := range strs {
		b = binary.AppendUvarint(b, uint64(len(s)))
	}
	for _, s := range strs {
		b = append(b, s...)
	}
	if _, err := w.Write(b); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}

// tabularFileVersion changes whenever the form EncodeTabular writes does.
const tabularFileVersion = 1

// noteLists returns the nine kinds of note of n, in the order of Notes.
func noteLists(n *Notes) [9]*[]string {
	return [9]*[]string{&n.InclusionTerms, &n.Includes, &n.Excludes1, &n.Excludes2, &n.CodeFirst,
		&n.UseAdditionalCode, &n.CodeAlso, &n.Notes, &n.SevenChrNote}
}

// tabReader reads the varints of an encoded list, remembering the first
// error.
type tabReader struct {
	b   []byte
	err error
}

func (r *tabReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *tabReader) uint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(errors.New("truncated"))
		return 0
	}
	r.b = r.b[n:]
	return v
}

// below reads a number that must be below n.
func (r *tabReader) below(n int, what string) int {
	v := r.uint()
	if v >= uint64(n) {
		r.fail(fmt.Errorf("%s %d of %d", what, v, n))
		return 0
	}
	return int(v)
}

// count reads the length of a list of at most n items, each taking at
// least one byte, so that a damaged length cannot ask for more memory
// than the data could fill.
func (r *tabReader) count(n int) int {
	return r.below(min(n, len(r.b))+1, "count")
}

// DecodeTabular reads what EncodeTabular wrote, prepared for use. A list
// whose nodes do not form a tree is an error.
func DecodeTabular(data []byte) (*Tabular, error) {
	r := &tabReader{b: data}
	if v := r.uint(); r.err == nil && v != tabularFileVersion {
		return nil, fmt.Errorf("form %d, not %d", v, tabularFileVersion)
	}
	lens := make([]int, r.count(len(data)))
	size := 0
	for i := range lens {
		lens[i] = r.count(len(data))
		size += lens[i]
	}
	if r.err == nil && size > len(r.b) {
		r.fail(fmt.Errorf("strings of %d bytes in %d", size, len(r.b)))
	}
	if r.err != nil {
		return nil, fmt.Errorf("strings: %w", r.err)
	}
	// One string holds them all; each is a slice of it.
	block := string(r.b[:size])
	r.b = r.b[size:]
	strs := make([]string, len(lens))
	for i, n := range lens {
		strs[i], block = block[:n], block[n:]
	}
	str := func() string {
		i := r.below(len(strs), "string")
		if r.err != nil {
			return ""
		}
		return strs[i]
	}

	t := &Tabular{Version: str(), NotesFrom: str(), Composed: r.uint() == 1}
	nn := r.count(len(data))
	// Every node's children, and every list of notes, are slices of one
	// array, each capped so that an append never reaches the next.
	children := make([]int32, 0, r.count(len(data)))
	notes := make([]string, 0, r.count(len(data)))
	if r.err != nil {
		return nil, fmt.Errorf("nodes: %w", r.err)
	}
	t.Nodes = make([]Node, nn)
	for i := range t.Nodes {
		n := &t.Nodes[i]
		n.Code = str()
		n.Kind = Kind(r.below(int(KindCode)+1, "kind"))
		n.Title = str()
		n.Parent = int32(r.below(i+1, "parent")) - 1
		n.NotesFrom = str()
		if c := r.count(cap(children) - len(children)); c > 0 {
			at := len(children)
			for range c {
				children = append(children, int32(r.below(nn, "child")))
			}
			n.Children = children[at:len(children):len(children)]
		}
		for _, l := range noteLists(&n.Notes) {
			if c := r.count(cap(notes) - len(notes)); c > 0 {
				at := len(notes)
				for range c {
					notes = append(notes, str())
				}
				*l = notes[at:len(notes):len(notes)]
			}
		}
		if c := r.count(len(r.b)); c > 0 {
			n.SevenChr = make([]SevenChr, c)
			for j := range n.SevenChr {
				n.SevenChr[j] = SevenChr{Char: byte(r.below(256, "7th character")), Title: str()}
			}
		}
		if r.err != nil {
			return nil, fmt.Errorf("node %d: %w", i, r.err)
		}
		if n.Kind == 0 {
			return nil, fmt.Errorf("node %d (%s): no kind", i, n.Code)
		}
	}
	for i := range t.Nodes {
		for _, c := range t.Nodes[i].Children {
			if int(c) <= i || t.Nodes[c].Parent != int32(i) {
				return nil, fmt.Errorf("node %d (%s): child %d is not its own", i, t.Nodes[i].Code, c)
			}
		}
	}
	if np := r.count(nn); np > 0 {
		t.problems = make(map[int32][]string, np)
		for range np {
			i := int32(r.below(nn, "node"))
			ps := make([]string, r.count(len(r.b)))
			for j := range ps {
				ps[j] = str()
			}
			t.problems[i] = ps
		}
	}
	if np := r.count(nn); np > 0 {
		t.refProblems = make(map[int32][]refProblem, np)
		for range np {
			i := int32(r.below(nn, "node"))
			ps := make([]refProblem, r.count(len(r.b)))
			for j := range ps {
				ps[j] = refProblem{kind: str(), msg: str()}
			}
			t.refProblems[i] = ps
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("problems: %w", r.err)
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%d bytes after the list", len(r.b))
	}
	t.Prepare()
	return t, nil
}
