package codesys

import (
	"encoding/gob"
	"fmt"
	"io"
)

// tabularFile is what EncodeTabular writes: the list, and what composing it
// found, which Tabular keeps in unexported fields.
type tabularFile struct {
	Tabular     *Tabular
	RefProblems map[int32][]refProblemFile
	Problems    map[int32][]string
}

type refProblemFile struct{ Kind, Msg string }

// EncodeTabular writes t whole, with the problems Lookup reports for the
// nodes of a composed list, so that DecodeTabular gives back a list that
// behaves as t does: a composed list need not be composed again, nor the
// release lending its notes be read.
func EncodeTabular(w io.Writer, t *Tabular) error {
	f := tabularFile{Tabular: t, Problems: t.problems}
	if len(t.refProblems) > 0 {
		f.RefProblems = make(map[int32][]refProblemFile, len(t.refProblems))
		for i, ps := range t.refProblems {
			for _, p := range ps {
				f.RefProblems[i] = append(f.RefProblems[i], refProblemFile{p.kind, p.msg})
			}
		}
	}
	return gob.NewEncoder(w).Encode(&f)
}

// DecodeTabular reads what EncodeTabular wrote, prepared for use. A list
// whose nodes do not form a tree is an error.
func DecodeTabular(r io.Reader) (*Tabular, error) {
	var f tabularFile
	if err := gob.NewDecoder(r).Decode(&f); err != nil {
		return nil, err
	}
	t := f.Tabular
	if t == nil {
		return nil, fmt.Errorf("no Tabular List")
	}
	n := int32(len(t.Nodes))
	for i := range t.Nodes {
		nd := &t.Nodes[i]
		if nd.Parent < -1 || nd.Parent >= int32(i) {
			return nil, fmt.Errorf("node %d (%s): parent %d", i, nd.Code, nd.Parent)
		}
		for _, c := range nd.Children {
			if c <= int32(i) || c >= n {
				return nil, fmt.Errorf("node %d (%s): child %d of %d", i, nd.Code, c, n)
			}
		}
	}
	for i := range f.Problems {
		if i < 0 || i >= n {
			return nil, fmt.Errorf("problems of node %d of %d", i, n)
		}
	}
	for i := range f.RefProblems {
		if i < 0 || i >= n {
			return nil, fmt.Errorf("note problems of node %d of %d", i, n)
		}
	}
	t.problems = f.Problems
	if f.RefProblems != nil {
		t.refProblems = make(map[int32][]refProblem, len(f.RefProblems))
		for i, ps := range f.RefProblems {
			for _, p := range ps {
				t.refProblems[i] = append(t.refProblems[i], refProblem{p.Kind, p.Msg})
			}
		}
	}
	t.Prepare()
	return t, nil
}
