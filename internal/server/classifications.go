package server

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/medcode-dev/medcode/internal/catalog"
	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/search"
)

// Classifications validates, looks up and searches codes for the review
// API: a coder's replacement or added code is validated, and the UI looks
// codes up and searches the index. It also says which classifications a
// request may name.
type Classifications interface {
	// Release returns the release the codes of sys are validated
	// against; the error wraps errNoRelease when none is installed.
	Release(ctx context.Context, sys codesys.System) (*codesys.Release, error)
	Validate(ctx context.Context, sys codesys.System, code string) (codesys.Validation, error)
	Lookup(ctx context.Context, sys codesys.System, code string) (codesys.Entry, error)
	Search(ctx context.Context, sys codesys.System, query string, opts search.Options) ([]search.Hit, error)
	// Installed lists the classifications with a release to serve, one
	// release each, in the registry's order then by name.
	Installed(ctx context.Context) ([]Installed, error)
	// Releases lists the IDs of the releases in use.
	Releases() []string
}

// Installed is a classification a server has a release of.
type Installed struct {
	System codesys.System
	// Release is the ID of the release served: the one in use, or the
	// one that is opened on first use.
	Release string
}

// Releases serves Classifications from one release per system: those
// given, and, with a data directory, the newest installed release of any
// other classification, opened on first use and kept. The search
// structure of a release is also built on first use. It is safe for
// concurrent use.
type Releases struct {
	dir   string
	given []codesys.System
	rels  lazy[codesys.System, *releaseEntry]
	mu    sync.Mutex
	ids   []string
}

type releaseEntry struct {
	rel      *codesys.Release
	once     sync.Once
	searcher *search.Searcher
}

// NewReleases returns Classifications over rels, at most one per system,
// and no other.
func NewReleases(rels ...*codesys.Release) (*Releases, error) {
	return NewInstalled("", rels...)
}

// NewInstalled returns Classifications over rels, at most one per system,
// and over the releases installed in the data directory dir of every
// other classification: ICD-10 (WHO), ICD-10 (UK), OPCS-4, a code list of
// the user's own. Each is the newest installed release that lists the
// classification's codes (Classification.CodePart) when first asked for;
// a release installed later is served after a restart.
func NewInstalled(dir string, rels ...*codesys.Release) (*Releases, error) {
	r := &Releases{dir: dir}
	for _, rel := range rels {
		if rel == nil {
			continue
		}
		if slices.Contains(r.given, rel.System) {
			return nil, fmt.Errorf("two releases of %s", rel.System.Title())
		}
		r.given = append(r.given, rel.System)
		r.rels.set(rel.System, &releaseEntry{rel: rel})
		r.ids = append(r.ids, rel.ID())
	}
	slices.Sort(r.ids)
	return r, nil
}

// newest returns the manifest of the release of sys that NewInstalled
// opens, or an error wrapping errNoRelease.
func (r *Releases) newest(sys codesys.System) (*catalog.Info, error) {
	if r.dir != "" {
		infos, err := catalog.List(r.dir)
		if err != nil {
			return nil, err
		}
		part := sys.Classification().CodePart()
		for _, in := range slices.Backward(infos) { // List is oldest first
			if in.System == sys && in.Compatible() && in.Serves(part) {
				return in, nil
			}
		}
	}
	return nil, notInstalled(sys)
}

// notInstalled says that no release of sys is there to serve, and how to
// install one.
func notInstalled(sys codesys.System) error {
	if !sys.Classification().Registered {
		return &noRelease{fmt.Sprintf("no classification %q is registered or installed: import a code list under that name with %s", sys, catalog.InstallHint(sys))}
	}
	return &noRelease{fmt.Sprintf("no %s release is installed: install one with %s", sys.Title(), catalog.InstallHint(sys))}
}

func (r *Releases) entry(ctx context.Context, sys codesys.System) (*releaseEntry, error) {
	return r.rels.get(ctx, sys, func(ctx context.Context) (*releaseEntry, error) {
		in, err := r.newest(sys)
		if err != nil {
			return nil, err
		}
		rel, err := catalog.OpenInfo(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", in.ID(), err)
		}
		r.mu.Lock()
		r.ids = append(r.ids, rel.ID())
		slices.Sort(r.ids)
		r.mu.Unlock()
		return &releaseEntry{rel: rel}, nil
	})
}

// Release returns the release of sys, opening it on first use.
func (r *Releases) Release(ctx context.Context, sys codesys.System) (*codesys.Release, error) {
	e, err := r.entry(ctx, sys)
	if err != nil {
		return nil, err
	}
	return e.rel, nil
}

// Validate validates code against the release of sys.
func (r *Releases) Validate(ctx context.Context, sys codesys.System, code string) (codesys.Validation, error) {
	e, err := r.entry(ctx, sys)
	if err != nil {
		return codesys.Validation{}, err
	}
	return e.rel.Validate(code)
}

// Lookup looks code up in the release of sys.
func (r *Releases) Lookup(ctx context.Context, sys codesys.System, code string) (codesys.Entry, error) {
	e, err := r.entry(ctx, sys)
	if err != nil {
		return codesys.Entry{}, err
	}
	return e.rel.Lookup(code)
}

// Search searches the indexes and tabular of the release of sys; a
// classification read as classes is searched by its titles and inclusion
// rubrics.
func (r *Releases) Search(ctx context.Context, sys codesys.System, query string, opts search.Options) ([]search.Hit, error) {
	e, err := r.entry(ctx, sys)
	if err != nil {
		return nil, err
	}
	e.once.Do(func() { e.searcher = search.New(e.rel) })
	return e.searcher.Search(query, opts), nil
}

// Installed lists the classifications given and those installed in the
// data directory.
func (r *Releases) Installed(ctx context.Context) ([]Installed, error) {
	var out []Installed
	seen := map[codesys.System]bool{}
	for _, sys := range r.given {
		e, err := r.entry(ctx, sys)
		if err != nil {
			return nil, err
		}
		out = append(out, Installed{System: sys, Release: e.rel.ID()})
		seen[sys] = true
	}
	if r.dir != "" {
		infos, err := catalog.List(r.dir)
		if err != nil {
			return nil, err
		}
		for _, in := range infos {
			if seen[in.System] {
				continue
			}
			if newest, err := r.newest(in.System); err == nil {
				out = append(out, Installed{System: in.System, Release: newest.ID()})
				seen[in.System] = true
			}
		}
	}
	order := func(s codesys.System) int {
		i := slices.IndexFunc(codesys.Classifications(), func(c codesys.Classification) bool { return c.System == s })
		if i < 0 {
			return len(codesys.Classifications())
		}
		return i
	}
	slices.SortStableFunc(out, func(a, b Installed) int {
		return cmp.Or(cmp.Compare(order(a.System), order(b.System)), cmp.Compare(a.System, b.System))
	})
	return out, nil
}

// Releases lists the IDs of the releases opened so far.
func (r *Releases) Releases() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids)
}

// lazy holds values built on first use, one per key: concurrent callers
// share one build, a value built is kept, and a build that fails is
// retried by the next caller, so that a release installed after a failed
// request is found.
type lazy[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]*flight[V]
}

type flight[V any] struct {
	done chan struct{}
	v    V
	err  error
}

// set stores a value built beforehand.
func (l *lazy[K, V]) set(k K, v V) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[K]*flight[V]{}
	}
	f := &flight[V]{done: make(chan struct{}), v: v}
	close(f.done)
	l.m[k] = f
}

// get returns the value of k, building it with build when no build is
// done or under way. The build outlives the caller's context (others may
// be waiting for it); the caller stops waiting when its context ends.
func (l *lazy[K, V]) get(ctx context.Context, k K, build func(context.Context) (V, error)) (V, error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[K]*flight[V]{}
	}
	f, ok := l.m[k]
	if !ok {
		f = &flight[V]{done: make(chan struct{})}
		l.m[k] = f
		go func() {
			defer close(f.done)
			f.v, f.err = build(context.WithoutCancel(ctx))
			if f.err != nil {
				l.mu.Lock()
				delete(l.m, k)
				l.mu.Unlock()
			}
		}()
	}
	l.mu.Unlock()
	select {
	case <-f.done:
		return f.v, f.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

// noRelease is the error for a classification with no release to serve:
// its message says how to install one, and it is errNoRelease.
type noRelease struct{ msg string }

func (e *noRelease) Error() string        { return e.msg }
func (e *noRelease) Is(target error) bool { return target == errNoRelease }
