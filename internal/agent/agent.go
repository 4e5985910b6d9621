// Package agent is medcode's LLM reasoner: a language model codes a note in
// four stages (Analyze, Locate, Assign, Verify), each a conversation with
// its own prompt and with the classification at hand as tools: the
// Alphabetic Index and its tables, the Tabular List, the Official
// Guidelines and the note itself. A classification read as classes (WHO
// ICD-10, ICD-10 UK, OPCS-4, a code list of one's own) has no index: its
// class titles and inclusion rubrics are searched instead, and its classes
// are looked up with their rubrics. It runs against any OpenAI-compatible
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
	// Releases are the releases to code with: of ICD-10-CM and
	// ICD-10-PCS, and of any classification read as classes. Several
	// releases of one system may be given when the parts are split
	// between them (a Tabular List in one, the Neoplasm and Drug tables
	// in another): codes are validated against the first release of
	// their system that can validate them, and the tools read every
	// release of the classifications a note is coded into.
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
	// Locator, when set, is the offline coder, which reads each finding's
	// quotes the way it reads a note: its Index-following (lead term,
	// subterms, "see" references, the tables) gives Locate's first
	// numbered options.
	Locator coding.Reasoner
	// Auditor, when set, applies the offline coder's list-wide rules
	// (Excludes1, unspecified beside specific, manifestations,
	// sequencing) to the final list; when it also implements
	// FamilyHistory it tells the family history codes.
	Auditor Auditor
}

// Agent is the LLM reasoner. It is safe for concurrent use.
type Agent struct {
	cfg        Config
	rels       []*codesys.Release
	searchers  []*search.Searcher
	guidelines *guidelines.Document
	offline    coding.Reasoner
	locator    coding.Reasoner
	auditor    Auditor
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
		cfg: cfg, rels: res.Releases, guidelines: res.Guidelines, offline: res.Offline, locator: res.Locator, auditor: res.Auditor,
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

// validator returns the release that validates codes of sys: the first
// that has the part listing the classification's codes
// (Classification.CodePart).
func (a *Agent) validator(sys codesys.System) *codesys.Release {
	for _, r := range a.rels {
		if r.System == sys && listsCodes(r) {
			return r
		}
	}
	return nil
}

// listsCodes reports whether r has the part that lists its
// classification's codes.
func listsCodes(r *codesys.Release) bool {
	switch r.System.Classification().CodePart() {
	case codesys.PartTabular:
		return r.Tabular != nil
	case codesys.PartPCSTables:
		return r.PCS != nil
	case codesys.PartClasses:
		return r.Classes != nil
	}
	return false
}

// Systems lists the classifications the agent codes into: those of its
// releases that list their codes, in the order of the releases.
func (a *Agent) Systems() []codesys.System {
	var out []codesys.System
	for _, r := range a.rels {
		if listsCodes(r) && !slices.Contains(out, r.System) {
			out = append(out, r.System)
		}
	}
	return out
}

// systemOf tells which of the session's classifications a code belongs
// to. named is the classification the model gave with the code, if any;
// otherwise the classification is the one whose release has the code
// (an error when several have it), else the first whose code shape the
// code has, else the first, so that the rejection comes from the
// classification the model most likely meant.
func (s *session) systemOf(code, named string) (codesys.System, error) {
	if named != "" {
		sys, err := codesys.SystemName(named)
		if err != nil {
			return "", err
		}
		if !slices.Contains(s.systems, sys) {
			return "", fmt.Errorf("%s is not a classification this note is coded into (%s)", named, systemIDs(s.systems))
		}
		return sys, nil
	}
	var has []codesys.System
	for _, sys := range s.systems {
		if v, err := s.a.validator(sys).Validate(code); err == nil && v.Status != codesys.Invalid {
			has = append(has, sys)
		}
	}
	switch {
	case len(has) == 1:
		return has[0], nil
	case len(has) > 1:
		return "", fmt.Errorf("%s is a code of %s: give its system", code, systemIDs(has))
	}
	for _, sys := range s.systems {
		if shapeFits(sys, code) {
			return sys, nil
		}
	}
	if len(s.systems) == 0 {
		return "", errors.New("no classification to code into")
	}
	return s.systems[0], nil
}

// guessSystem is systemOf for a code already judged (a dropped or
// rejected one): the best guess, never an error.
func (s *session) guessSystem(code string) codesys.System {
	if sys, err := s.systemOf(code, ""); err == nil {
		return sys
	}
	if len(s.systems) > 0 {
		return s.systems[0]
	}
	return ""
}

// shapeFits reports whether code has the shape of a code of sys: the
// registry's shape (Classification.Code) for a classification read as
// classes, ICD-10-CM's (a letter and two digits, a dot, up to four
// more) and ICD-10-PCS's (seven characters, the first a digit or the
// code dotless) for those two.
func shapeFits(sys codesys.System, code string) bool {
	c := strings.ToUpper(strings.TrimSpace(code))
	switch sys {
	case codesys.ICD10CM:
		_, err := codesys.ParseCode(c)
		return err == nil && (strings.Contains(c, ".") || len(c) < 7)
	case codesys.ICD10PCS:
		return c != "" && !strings.Contains(c, ".") && (len(c) == 7 || c[0] >= '0' && c[0] <= '9')
	}
	if re := sys.Classification().Code; re != nil {
		return re.MatchString(strings.ReplaceAll(c, ".", ""))
	}
	return false
}

// systemIDs lists classification names for messages.
func systemIDs(ss []codesys.System) string {
	var n []string
	for _, s := range ss {
		n = append(n, string(s))
	}
	return strings.Join(n, ", ")
}

// labelSystems reports whether the tools name the classification of
// each code they show: when the note is coded into several and one of
// them is read as classes, whose codes may look like another's (H02.9 is
// a code of ICD-10 and of OPCS-4). ICD-10-CM and ICD-10-PCS codes never
// look alike.
func (s *session) labelSystems() bool {
	return len(s.systems) > 1 && slices.ContainsFunc(s.systems, func(sys codesys.System) bool { return sys.Classification().ReadsClasses() })
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

	// parent is the caller's context, whose end (unlike the note's
	// deadline) ends the run with an error.
	parent context.Context
	// estimated is set once token usage had to be estimated.
	estimated bool
	// unfinished names the first stage that ended without a
	// submission, "" when every stage submitted.
	unfinished string

	findings   []finding
	candidates []candidate
	// options are the Index entries retrieved for Locate, numbered.
	options []indexOption
	// offlineCodes are the offline coder's codes in hybrid mode, which
	// count as candidates.
	offlineCodes []string
	rejected     map[string]string // code -> last rejection reason
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
	for _, sys := range a.Systems() {
		if len(req.Systems) == 0 || slices.Contains(req.Systems, sys) {
			s.systems = append(s.systems, sys)
		}
	}
	if len(s.systems) == 0 {
		return nil, fmt.Errorf("llm agent: no release to validate %s codes (the agent codes into %s)", systemIDs(req.Systems), systemIDs(a.Systems()))
	}
	res := &coding.Result{ID: req.ID, Reasoner: "llm", Model: a.cfg.Provider + ":" + a.cfg.Model, PromptVersion: PromptVersion, Setting: req.Setting}
	for _, sys := range s.systems {
		res.Releases = append(res.Releases, a.validator(sys).ID())
	}
	s.parent = ctx
	nctx, cancel := context.WithTimeout(ctx, a.cfg.NoteTimeout)
	defer cancel()
	final, err := s.run(nctx)
	if err != nil {
		return nil, fmt.Errorf("llm agent: note %s: %w", req.ID, err)
	}
	s.finish(res, final)
	res.Usage.Duration = time.Since(start)
	return res, nil
}

func noteSpan(e coding.Evidence) note.Span {
	return note.Span{Start: e.Start, End: e.End, Text: e.Text}
}
