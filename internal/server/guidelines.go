package server

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medcode-dev/medcode/internal/guidelines"
)

// guidelineSection is a section of the Official Guidelines as the API
// serves it: where it sits in the outline beside what it says.
type guidelineSection struct {
	Year     string   `json:"year"`
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Text     string   `json:"text"`
	Parent   string   `json:"parent,omitempty"`
	Children []string `json:"children"`
}

// guidelineEdition describes one installed edition.
type guidelineEdition struct {
	Year     string    `json:"year"`
	Source   string    `json:"source,omitempty"`
	Imported time.Time `json:"imported,omitzero"`
	Sections int       `json:"sections"`
}

// guidelineDoc returns the installed edition of the request's year, or a
// 404 naming the years there are.
func (s *Server) guidelineDoc(r *http.Request) (*guidelines.Document, *apiError) {
	year := r.PathValue("year")
	if d := s.guidelines[year]; d != nil {
		return d, nil
	}
	have := "none are installed (medcode guidelines import)"
	if ys := s.guidelineYears(); len(ys) > 0 {
		have = "installed: " + strings.Join(ys, ", ")
	}
	return nil, &apiError{Status: http.StatusNotFound, Code: "no_guidelines", Field: "year",
		Message: "no ICD-10-CM guidelines of year " + strconv.Quote(year) + " are installed; " + have}
}

func (s *Server) guidelineYears() []string {
	ys := make([]string, 0, len(s.guidelines))
	for y := range s.guidelines {
		ys = append(ys, y)
	}
	slices.Sort(ys)
	return ys
}

func (s *Server) listGuidelines(w http.ResponseWriter, r *http.Request) *apiError {
	ys := s.guidelineYears()
	eds := make([]guidelineEdition, len(ys))
	for i, y := range ys {
		d := s.guidelines[y]
		eds[i] = guidelineEdition{Year: y, Source: d.Source, Imported: d.Imported, Sections: len(d.Sections)}
	}
	writeJSON(w, http.StatusOK, map[string]any{"years": ys, "editions": eds})
	return nil
}

func (s *Server) getGuideline(w http.ResponseWriter, r *http.Request) *apiError {
	d, aerr := s.guidelineDoc(r)
	if aerr != nil {
		return aerr
	}
	id := r.PathValue("section")
	sec := d.Section(id)
	if sec == nil {
		return &apiError{Status: http.StatusNotFound, Code: "unknown_section", Field: "section",
			Message: "the " + d.Year + " guidelines have no section " + strconv.Quote(id) + " (sections are numbered as cited, e.g. I.C.9.a.2)"}
	}
	children := d.Children(sec.ID)
	if children == nil {
		children = []string{}
	}
	writeJSON(w, http.StatusOK, guidelineSection{Year: d.Year, ID: sec.ID, Title: sec.Title, Text: sec.Text,
		Parent: d.Parent(sec.ID), Children: children})
	return nil
}

func (s *Server) searchGuidelines(w http.ResponseWriter, r *http.Request) *apiError {
	d, aerr := s.guidelineDoc(r)
	if aerr != nil {
		return aerr
	}
	q := r.URL.Query()
	text, e := queryText(q)
	if e != nil {
		return e
	}
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return errorf(http.StatusBadRequest, "invalid_limit", "limit must be 1-100")
		}
		limit = n
	}
	hits := d.Search(text, limit)
	if hits == nil {
		hits = []guidelines.Hit{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"year": d.Year, "hits": hits})
	return nil
}
