package server

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/search"
)

// Classifications validates, looks up and searches codes for the review
// API: a coder's replacement or added code is validated, and the UI looks
// codes up and searches the index.
type Classifications interface {
	Validate(sys codesys.System, code string) (codesys.Validation, error)
	Lookup(sys codesys.System, code string) (codesys.Entry, error)
	Search(ctx context.Context, sys codesys.System, query string, opts search.Options) ([]search.Hit, error)
	// Releases lists the IDs of the releases in use.
	Releases() []string
}

// Releases serves Classifications from one release per system. The search
// structure of a release is built on first use.
type Releases struct {
	bySystem map[codesys.System]*releaseEntry
	ids      []string
}

type releaseEntry struct {
	rel      *codesys.Release
	once     sync.Once
	searcher *search.Searcher
}

// NewReleases returns Classifications over rels, at most one per system.
func NewReleases(rels ...*codesys.Release) (*Releases, error) {
	r := &Releases{bySystem: map[codesys.System]*releaseEntry{}}
	for _, rel := range rels {
		if rel == nil {
			continue
		}
		if _, dup := r.bySystem[rel.System]; dup {
			return nil, fmt.Errorf("two releases of %s", rel.System.Title())
		}
		r.bySystem[rel.System] = &releaseEntry{rel: rel}
		r.ids = append(r.ids, rel.ID())
	}
	slices.Sort(r.ids)
	return r, nil
}

func (r *Releases) entry(sys codesys.System) (*releaseEntry, error) {
	e, ok := r.bySystem[sys]
	if !ok {
		return nil, fmt.Errorf("%w: no %s release is loaded", errNoRelease, sys.Title())
	}
	return e, nil
}

// Validate validates code against the release of sys.
func (r *Releases) Validate(sys codesys.System, code string) (codesys.Validation, error) {
	e, err := r.entry(sys)
	if err != nil {
		return codesys.Validation{}, err
	}
	return e.rel.Validate(code)
}

// Lookup looks code up in the release of sys.
func (r *Releases) Lookup(sys codesys.System, code string) (codesys.Entry, error) {
	e, err := r.entry(sys)
	if err != nil {
		return codesys.Entry{}, err
	}
	return e.rel.Lookup(code)
}

// Search searches the indexes and tabular of the release of sys.
func (r *Releases) Search(ctx context.Context, sys codesys.System, query string, opts search.Options) ([]search.Hit, error) {
	e, err := r.entry(sys)
	if err != nil {
		return nil, err
	}
	e.once.Do(func() { e.searcher = search.New(e.rel) })
	return e.searcher.Search(query, opts), nil
}

// Releases lists the IDs of the loaded releases.
func (r *Releases) Releases() []string { return slices.Clone(r.ids) }
