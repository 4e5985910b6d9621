// Package agent is medcode's LLM reasoner: a language model codes a note in
// four stages (Analyze, Locate, Assign, Verify), each a conversation with
// its own prompt and with the classification at hand as tools: the
// Alphabetic Index and its tables, the Tabular List, the Official
// Guidelines and the note itself. It runs against any OpenAI-compatible
// Chat Completions endpoint or the Anthropic Messages API.
//
// Nothing the model says is trusted. Codes are validated against the
// release and rejected with the reason when invalid or not billable (the
// model may repair them a bounded number of times); every evidence quote is
// aligned to the note, and the emitted span is the aligned one. Malformed
// tool calls, unknown tools, empty, truncated or refused answers are
// answered, retried within budget and reported, never fatal. Every result
// carries the full transcript, the token counts and, with a price table,
// the cost.
package agent

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/guidelines"
	"github.com/medcode-dev/medcode/internal/note"
	"github.com/medcode-dev/medcode/internal/note/assert"
	"github.com/medcode-dev/medcode/internal/note/quote"
	"github.com/medcode-dev/medcode/internal/rules"
	"github.com/medcode-dev/medcode/internal/search"
)

// Resources are what the agent reasons over.
type Resources struct {
	// Releases are the releases to code with. Several releases of one
	// system may be given when the parts are split between them (a
	// Tabular List in one, the Neoplasm and Drug tables in another):
	// codes are validated against the first release of their system
	// that can validate them, and the tools read every release.
	Releases []*codesys.Release
	// Guidelines are the Official Guidelines, if installed.
	Guidelines *guidelines.Document
	// Offline is the reasoner whose codes are the starting point in
	// hybrid mode.
	Offline coding.Reasoner
	// HTTPClient replaces the SDKs' HTTP client (tests, proxies).
	HTTPClient *http.Client
	// Searchers are searchers already built over Releases, one per
	// release in the same order; nil builds them (which takes a moment
	// per release).
	Searchers []*search.Searcher
	// Rules are the rule packs the searchers read (the language's stop
	// words and abbreviations); nil stands for the embedded packs.
	Rules *rules.Set
}

// Agent is the LLM reasoner. It is safe for concurrent use.
type Agent struct {
	cfg        Config
	rels       []*codesys.Release
	searchers  []*search.Searcher
	guidelines *guidelines.Document
	offline    coding.Reasoner
	caller     *caller
	parser     *note.Parser
	context    *assert.Classifier
	tools      map[string]tool
	sem        chan struct{}
}

var _ coding.Reasoner = (*Agent)(nil)

// New returns an agent for cfg over res. It refuses an endpoint that is
// not on this machine unless cfg.AllowRemote is set.
func New(cfg Config, res Resources) (*Agent, error) {
	cfg = cfg.Defaults()
	if cfg.Provider == "" {
		cfg.Provider = OpenAI
	}
	if cfg.Model == "" {
		return nil, fmt.Errorf("llm agent: no model given (set --model or %s)", EnvModel)
	}
	endpoint := cfg.Endpoint()
	if !IsLoopback(endpoint) && !cfg.AllowRemote {
		return nil, fmt.Errorf("llm agent: %s is not on this machine; sending notes there needs --allow-remote or %s=1", cfg.Destination(), EnvAllowRemote)
	}
	if len(res.Releases) == 0 {
		return nil, errors.New("llm agent: no release to code with")
	}
	if cfg.Hybrid && res.Offline == nil {
		return nil, errors.New("llm agent: hybrid mode needs the offline coder")
	}
	a := &Agent{
		cfg: cfg, rels: res.Releases, guidelines: res.Guidelines, offline: res.Offline,
		parser: note.NewParser(), context: assert.New(), tools: allTools(),
		sem: make(chan struct{}, cfg.Concurrency),
	}
	if res.Searchers != nil {
		if len(res.Searchers) != len(res.Releases) {
			return nil, fmt.Errorf("llm agent: %d searchers for %d releases", len(res.Searchers), len(res.Releases))
		}
		a.searchers = res.Searchers
	} else {
		set := res.Rules
		if set == nil {
			var err error
			if set, err = rules.Default(); err != nil {
				return nil, fmt.Errorf("llm agent: %w", err)
			}
		}
		for _, r := range res.Releases {
			sr, err := search.NewWithRules(r, set)
			if err != nil {
				return nil, fmt.Errorf("llm agent: %w", err)
			}
			a.searchers = append(a.searchers, sr)
		}
	}
	var client chatClient
	switch cfg.Provider {
	case OpenAI:
		key := os.Getenv("OPENAI_API_KEY")
		if key == "" && IsLoopback(endpoint) {
			key = "unused" // local servers need no key, but the header must parse
		}
		var opts []openaiOption
		if res.HTTPClient != nil {
			opts = append(opts, openaiHTTPClient(res.HTTPClient))
		}
		client = newOpenAIClient(endpoint, key, opts...)
	case Anthropic:
		var opts []anthropicOption
		if res.HTTPClient != nil {
			opts = append(opts, anthropicHTTPClient(res.HTTPClient))
		}
		key := os.Getenv("ANTHROPIC_API_KEY")
		if key == "" && os.Getenv("ANTHROPIC_AUTH_TOKEN") == "" && IsLoopback(endpoint) {
			key = "unused"
		}
		client = newAnthropicClient(endpoint, key, opts...)
	default:
		return nil, fmt.Errorf("llm agent: unknown provider %q (want openai or anthropic)", cfg.Provider)
	}
	var c *cache
	if cfg.CacheMode != CacheOff {
		if cfg.CacheDir == "" {
			return nil, fmt.Errorf("llm agent: cache mode %s needs a cache directory", cfg.CacheMode)
		}
		c = &cache{dir: cfg.CacheDir, mode: cfg.CacheMode}
	}
	a.caller = &caller{client: client, provider: cfg.Provider, cache: c, timeout: cfg.RequestTimeout,
		retries: cfg.Retries, baseDelay: 500 * time.Millisecond, maxDelay: 30 * time.Second, sleep: sleepCtx}
	return a, nil
}

// Config returns the agent's configuration with defaults applied.
func (a *Agent) Config() Config { return a.cfg }

// validator returns the release that validates codes of sys.
func (a *Agent) validator(sys codesys.System) *codesys.Release {
	for _, r := range a.rels {
		if r.System == sys && ((sys == codesys.ICD10CM && r.Tabular != nil) || (sys == codesys.ICD10PCS && r.PCS != nil)) {
			return r
		}
	}
	return nil
}

// systemOf tells which classification a code belongs to: a code with a
// dot or a letter and two digits that ICD-10-CM knows is ICD-10-CM; a code
// of seven characters without a dot that the PCS tables allow, or one
// starting with a digit, is ICD-10-PCS.
func (a *Agent) systemOf(code string) codesys.System {
	c := strings.ToUpper(strings.TrimSpace(code))
	if strings.Contains(c, ".") || c == "" {
		return codesys.ICD10CM
	}
	if c[0] >= '0' && c[0] <= '9' {
		return codesys.ICD10PCS
	}
	if len(c) == 7 {
		if r := a.validator(codesys.ICD10PCS); r != nil && r.PCS.IsValid(c) {
			return codesys.ICD10PCS
		}
	}
	return codesys.ICD10CM
}

func sortHits(hs []search.Hit) {
	slices.SortStableFunc(hs, func(a, b search.Hit) int { return cmp.Compare(b.Score, a.Score) })
}

// session is the coding of one note.
type session struct {
	a        *Agent
	req      coding.Request
	note     *note.Note
	aligner  *quote.Aligner
	analysis *assert.Analysis
	systems  []codesys.System

	mu        sync.Mutex
	toolCalls int
	turns     int
	usage     tokenUsage
	calls     []CallRecord
	problems  []string
	stages    []StageRecord

	// State of the stage being run.
	stage    *stageDef
	repairs  int
	accepted any

	findings   []finding
	candidates []candidate
	rejected   map[string]string // code -> last rejection reason
}

func (s *session) problem(format string, args ...any) {
	s.problems = append(s.problems, fmt.Sprintf(format, args...))
}

func (s *session) sectionName(off int) string {
	i := s.note.SectionAt(off)
	if i < 0 {
		return ""
	}
	sec := s.note.Sections[i]
	if sec.Header.Text != "" {
		return sec.Header.Text
	}
	return string(sec.Type)
}

// assertion is the rule-based (ConText) assertion of a span, as the
// offline coder reports it.
func (s *session) assertion(sp note.Span) coding.Assertion {
	return s.analysis.Classify(sp).Coding()
}

// align finds a quote in the note; the span returned is the note's text.
func (s *session) align(q string) (coding.Evidence, error) {
	ms, err := s.aligner.Find(q, quote.Options{})
	if err != nil {
		return coding.Evidence{}, err
	}
	m := ms[0]
	return coding.Evidence{Start: m.Start, End: m.End, Text: m.Text, Section: s.sectionName(m.Start)}, nil
}

// Code codes one note.
func (a *Agent) Code(ctx context.Context, req coding.Request) (*coding.Result, error) {
	select {
	case a.sem <- struct{}{}:
		defer func() { <-a.sem }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	start := time.Now()
	n, err := a.parser.Parse(req.Text)
	if err != nil {
		return nil, fmt.Errorf("llm agent: note %s: %w", req.ID, err)
	}
	if req.Setting == "" {
		req.Setting = coding.Inpatient
	}
	s := &session{a: a, req: req, note: n, aligner: quote.New(req.Text), analysis: a.context.Analyze(n), rejected: map[string]string{}}
	for _, sys := range []codesys.System{codesys.ICD10CM, codesys.ICD10PCS} {
		if (len(req.Systems) == 0 || slices.Contains(req.Systems, sys)) && a.validator(sys) != nil {
			s.systems = append(s.systems, sys)
		}
	}
	if len(s.systems) == 0 {
		return nil, fmt.Errorf("llm agent: no release to validate %v codes", req.Systems)
	}
	res := &coding.Result{ID: req.ID, Reasoner: "llm", Model: a.cfg.Provider + ":" + a.cfg.Model, PromptVersion: PromptVersion, Setting: req.Setting}
	for _, sys := range s.systems {
		res.Releases = append(res.Releases, a.validator(sys).ID())
	}
	final, err := s.run(ctx)
	if err != nil {
		return nil, err
	}
	s.finish(res, final)
	res.Usage.Duration = time.Since(start)
	return res, nil
}

func noteSpan(e coding.Evidence) note.Span {
	return note.Span{Start: e.Start, End: e.End, Text: e.Text}
}
