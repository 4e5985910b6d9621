package codesys

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/medcode-dev/medcode/internal/flatfile"
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
	var f flatfile.Writer
	f.Str(t.Version)
	f.Str(t.NotesFrom)
	f.Bool(t.Composed)
	children, notes := 0, 0
	for i := range t.Nodes {
		children += len(t.Nodes[i].Children)
		for _, l := range noteLists(&t.Nodes[i].Notes) {
			notes += len(*l)
		}
	}
	f.Uint(uint64(len(t.Nodes)))
	f.Uint(uint64(children))
	f.Uint(uint64(notes))
	for i := range t.Nodes {
		n := &t.Nodes[i]
		f.Str(n.Code)
		f.Uint(uint64(n.Kind))
		f.Str(n.Title)
		f.Uint(uint64(n.Parent + 1))
		f.Str(n.NotesFrom)
		f.Uint(uint64(len(n.Children)))
		for _, c := range n.Children {
			f.Uint(uint64(c))
		}
		for _, l := range noteLists(&n.Notes) {
			f.Uint(uint64(len(*l)))
			for _, s := range *l {
				f.Str(s)
			}
		}
		f.Uint(uint64(len(n.SevenChr)))
		for _, sc := range n.SevenChr {
			f.Uint(uint64(sc.Char))
			f.Str(sc.Title)
		}
	}
	// Maps are written in node order, so that one list always makes the
	// same bytes.
	f.Uint(uint64(len(t.problems)))
	for _, i := range slices.Sorted(maps.Keys(t.problems)) {
		f.Uint(uint64(i))
		f.Uint(uint64(len(t.problems[i])))
		for _, p := range t.problems[i] {
			f.Str(p)
		}
	}
	f.Uint(uint64(len(t.refProblems)))
	for _, i := range slices.Sorted(maps.Keys(t.refProblems)) {
		f.Uint(uint64(i))
		f.Uint(uint64(len(t.refProblems[i])))
		for _, p := range t.refProblems[i] {
			f.Str(p.kind)
			f.Str(p.msg)
		}
	}
	_, err := w.Write(f.Bytes(binary.AppendUvarint(nil, tabularFileVersion)))
	return err
}

// tabularFileVersion changes whenever the form EncodeTabular writes does.
const tabularFileVersion = 1

// noteLists returns the nine kinds of note of n, in the order of Notes.
func noteLists(n *Notes) [9]*[]string {
	return [9]*[]string{&n.InclusionTerms, &n.Includes, &n.Excludes1, &n.Excludes2, &n.CodeFirst,
		&n.UseAdditionalCode, &n.CodeAlso, &n.Notes, &n.SevenChrNote}
}

// DecodeTabular reads what EncodeTabular wrote, prepared for use. A list
// whose nodes do not form a tree is an error.
func DecodeTabular(data []byte) (*Tabular, error) {
	v, n := binary.Uvarint(data)
	if n <= 0 {
		return nil, errors.New("no form version")
	}
	if v != tabularFileVersion {
		return nil, fmt.Errorf("form %d, not %d", v, tabularFileVersion)
	}
	r, err := flatfile.NewReader(data[n:])
	if err != nil {
		return nil, err
	}
	str := func() string { return r.Str("string") }
	// count reads the length of a list of at most n items, each taking
	// at least one byte.
	count := func(n int) int { return r.Below(min(n, r.Left())+1, "count") }
	t := &Tabular{Version: str(), NotesFrom: str(), Composed: r.Bool()}
	nn := count(len(data))
	// Every node's children, and every list of notes, are slices of one
	// array, each capped so that an append never reaches the next.
	children := make([]int32, 0, count(len(data)))
	notes := make([]string, 0, count(len(data)))
	if r.Err() != nil {
		return nil, fmt.Errorf("nodes: %w", r.Err())
	}
	t.Nodes = make([]Node, nn)
	for i := range t.Nodes {
		n := &t.Nodes[i]
		n.Code = str()
		n.Kind = Kind(r.Below(int(KindCode)+1, "kind"))
		n.Title = str()
		n.Parent = int32(r.Below(i+1, "parent")) - 1
		n.NotesFrom = str()
		if c := count(cap(children) - len(children)); c > 0 {
			at := len(children)
			for range c {
				children = append(children, int32(r.Below(nn, "child")))
			}
			n.Children = children[at:len(children):len(children)]
		}
		for _, l := range noteLists(&n.Notes) {
			if c := count(cap(notes) - len(notes)); c > 0 {
				at := len(notes)
				for range c {
					notes = append(notes, str())
				}
				*l = notes[at:len(notes):len(notes)]
			}
		}
		if c := count(r.Left()); c > 0 {
			n.SevenChr = make([]SevenChr, c)
			for j := range n.SevenChr {
				n.SevenChr[j] = SevenChr{Char: byte(r.Below(256, "7th character")), Title: str()}
			}
		}
		if r.Err() != nil {
			return nil, fmt.Errorf("node %d: %w", i, r.Err())
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
	if np := count(nn); np > 0 {
		t.problems = make(map[int32][]string, np)
		for range np {
			i := int32(r.Below(nn, "node"))
			ps := make([]string, count(r.Left()))
			for j := range ps {
				ps[j] = str()
			}
			t.problems[i] = ps
		}
	}
	if np := count(nn); np > 0 {
		t.refProblems = make(map[int32][]refProblem, np)
		for range np {
			i := int32(r.Below(nn, "node"))
			ps := make([]refProblem, count(r.Left()))
			for j := range ps {
				ps[j] = refProblem{kind: str(), msg: str()}
			}
			t.refProblems[i] = ps
		}
	}
	if r.Err() != nil {
		return nil, fmt.Errorf("problems: %w", r.Err())
	}
	if r.Left() != 0 {
		return nil, fmt.Errorf("%d bytes after the list", r.Left())
	}
	t.Prepare()
	return t, nil
}
