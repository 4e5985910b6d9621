package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/search"
)

// The program, not the model, does the retrieval a coder does by rote:
// for each finding it reads the finding's quotes with the offline coder's
// Index-following (Resources.Locator: lead term, subterms, cross
// references, the tables, as the offline coder codes a note), searches
// the indexes the way search_index does (following "see" references), and
// numbers the entries that lead to a code; in hybrid mode it adds the
// offline coder's codes for the finding's mentions first. Locate's model then chooses among numbered
// options (or searches for others), so that a capable model needs no
// look-ups to locate and the index path of a chosen entry is the Index's
// own. Verify is given the instructional notes of every code and the
// guideline sections that bear on them, which it would otherwise look up
// one call at a time.

// indexOption is a numbered candidate the program retrieved for a finding.
type indexOption struct {
	N       int
	Finding string
	Code    string
	Path    string
	Source  string
}

// maxOptions bounds the options retrieved per finding.
const maxOptions = 6

// retrieve numbers the Index entries (and, in hybrid mode, the offline
// coder's codes) for each relevant finding.
func (s *session) retrieve(ctx context.Context, offline *coding.Result) {
	s.options = nil
	n := 0
	for _, f := range s.findings {
		if !f.Relevant {
			continue
		}
		var codes []string
		add := func(code, path, src string) {
			if code == "" || slices.Contains(codes, code) || len(codes) >= maxOptions {
				return
			}
			codes = append(codes, code)
			n++
			s.options = append(s.options, indexOption{N: n, Finding: f.ID, Code: code, Path: path, Source: src})
		}
		if offline != nil {
			for _, c := range offline.Codes {
				if overlaps(c.Evidence, f.Evidence) {
					path := ""
					for _, st := range c.Trail {
						if st.Kind == coding.StepIndex {
							path = st.Detail
							break
						}
					}
					add(c.Code, path, "offline coder")
				}
			}
		}
		for _, c := range s.locate(ctx, f) {
			add(c.Code, indexPath(c), "Index, followed as the offline coder does")
		}
		for _, h := range s.search(f.Description, search.IndexSources, maxOptions) {
			add(h.Code, strings.Join(h.Path, " > "), h.Source.String())
		}
	}
}

// locate reads a finding's quotes with the locator: the ICD-10-CM codes
// its Index-following leads to for them, every mention's (the mentions
// scope), whatever the note says of it, which the auditor checks later.
// A locator that fails leaves the finding to the search.
func (s *session) locate(ctx context.Context, f finding) []coding.Code {
	if s.a.locator == nil {
		return nil
	}
	var out []coding.Code
	for _, e := range f.Evidence {
		if strings.TrimSpace(e.Text) == "" {
			continue
		}
		res, err := s.a.locator.Code(ctx, coding.Request{Text: e.Text, Scope: coding.Mentions,
			Systems: []codesys.System{codesys.ICD10CM}})
		if err != nil || res == nil {
			continue
		}
		out = append(out, res.Codes...)
	}
	return out
}

// indexPath is the first Index or table step of a code's trail.
func indexPath(c coding.Code) string {
	for _, st := range c.Trail {
		if st.Kind == coding.StepIndex {
			return st.Detail
		}
	}
	return ""
}

func overlaps(a, b []coding.Evidence) bool {
	for _, x := range a {
		for _, y := range b {
			if x.Start < y.End && y.Start < x.End {
				return true
			}
		}
	}
	return false
}

// optionsText lists the options for Locate's input.
func (s *session) optionsText() string {
	if len(s.options) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Index entries retrieved for each finding (choose one by its number with \"choice\"; search_index for others when none fits):\n")
	last := ""
	for _, o := range s.options {
		if o.Finding != last {
			fmt.Fprintf(&b, "%s:\n", o.Finding)
			last = o.Finding
		}
		fmt.Fprintf(&b, "  [%d] %s -> %s (%s)\n", o.N, o.Path, o.Code, o.Source)
	}
	return b.String()
}

// option returns the option numbered n.
func (s *session) option(n int) (indexOption, bool) {
	i := slices.IndexFunc(s.options, func(o indexOption) bool { return o.N == n })
	if i < 0 {
		return indexOption{}, false
	}
	return s.options[i], true
}

// codeNotes gives, for Verify, the instructional notes of each code and
// the guideline sections that bear on it: what a model would otherwise
// look up one call at a time.
func (s *session) codeNotes(codes []acceptedCode) string {
	var b strings.Builder
	for _, c := range codes {
		rel := s.a.validator(c.sys)
		if rel == nil {
			continue
		}
		e, err := rel.Lookup(c.v.Code)
		if err != nil || e.Status == codesys.Invalid {
			continue
		}
		notes := map[string][]string{}
		for _, sn := range e.Notes {
			sn.Notes.Each(func(kind string, ns []string) { notes[kind] = append(notes[kind], ns...) })
		}
		if len(notes) > 0 {
			j, _ := json.Marshal(notes)
			fmt.Fprintf(&b, "- %s notes: %s\n", c.v.Code, clip(string(j), 1200))
		}
	}
	if g := s.a.guidelines; g != nil {
		var seen []string
		for _, c := range codes {
			for _, h := range g.Search(c.v.Title, 2) {
				if slices.Contains(seen, h.ID) {
					continue
				}
				seen = append(seen, h.ID)
				sec := g.Section(h.ID)
				fmt.Fprintf(&b, "- guideline %s %s: %s\n", h.ID, h.Title, clip(sec.Text, 500))
			}
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return "Instructional notes and guideline sections of these codes (cite sections by number):\n" + b.String()
}
