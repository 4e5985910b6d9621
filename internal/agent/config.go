package agent

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Environment variables the agent reads. API keys are read only from the
// variables the SDKs name (OPENAI_API_KEY, ANTHROPIC_API_KEY), never from
// flags, so that they stay out of shell history and process listings.
const (
	EnvModel       = "MEDCODE_LLM"              // provider:model, e.g. "openai:gpt-4o-mini"
	EnvBaseURL     = "MEDCODE_LLM_BASE_URL"     // endpoint base URL
	EnvAllowRemote = "MEDCODE_LLM_ALLOW_REMOTE" // "1" to send notes off this machine
	EnvCache       = "MEDCODE_LLM_CACHE"        // response cache directory
	EnvCacheMode   = "MEDCODE_LLM_CACHE_MODE"   // off, on, record, replay
	EnvPrices      = "MEDCODE_LLM_PRICES"       // price table JSON file
)

// DefaultRetries is the default of --llm-retries.
const DefaultRetries = 4

// Providers.
const (
	OpenAI    = "openai"
	Anthropic = "anthropic"
)

// Config configures the agent. The zero value of each budget field means
// its default (see Defaults).
type Config struct {
	// Provider is OpenAI (any OpenAI-compatible Chat Completions
	// endpoint) or Anthropic; Model is the model name the endpoint knows.
	Provider string
	Model    string
	// BaseURL is the endpoint; empty means the SDK's environment variable
	// (OPENAI_BASE_URL, ANTHROPIC_BASE_URL) or the provider's public API.
	BaseURL string
	// AllowRemote permits sending notes to an endpoint that is not on
	// this machine (loopback). Without it New refuses such endpoints.
	AllowRemote bool

	// MaxToolCalls and MaxTokens bound one note: tool calls over all
	// stages, and input plus output tokens over all model turns.
	MaxToolCalls int
	MaxTokens    int
	// MaxOutputTokens bounds one model turn.
	MaxOutputTokens int
	// RequestTimeout bounds one HTTP request; Retries is how many times a
	// failed request is retried (429, 5xx, timeouts, cut responses): 0
	// is none (the command-line default is DefaultRetries).
	RequestTimeout time.Duration
	Retries        int
	// MaxRepairs is how many times a stage's submission may be rejected
	// (invalid code, unfound quote) and resubmitted.
	MaxRepairs int
	// MaxTurns bounds the model turns of one stage.
	MaxTurns int
	// MaxCalls bounds the model turns of one note over all stages, so
	// that the cost of a note is bounded whatever the model does; a
	// stage's share is what the stages after it leave.
	MaxCalls int
	// NoteTimeout bounds the coding of one note: the result is then
	// partial or failed, with the reason.
	NoteTimeout time.Duration
	// Concurrency is how many notes are coded at once; further calls to
	// Code wait.
	Concurrency int
	// Temperature is sent when set; some models accept only the default.
	Temperature *float64

	// CacheDir holds the response cache; CacheMode says how it is used.
	CacheDir  string
	CacheMode CacheMode
	// Prices gives the cost of tokens per model, for Usage.Cost.
	Prices Prices
	// Hybrid gives the offline coder's codes to the agent as candidates.
	Hybrid bool
}

// Defaults returns c with zero budget fields set to their defaults.
func (c Config) Defaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxToolCalls, 80)
	def(&c.MaxTokens, 600_000)
	def(&c.MaxOutputTokens, 4096)
	def(&c.MaxRepairs, 2)
	def(&c.MaxTurns, 24)
	def(&c.MaxCalls, 20)
	if c.NoteTimeout <= 0 {
		c.NoteTimeout = 10 * time.Minute
	}
	def(&c.Concurrency, 4)
	// Retries is not a budget with a default: 0 means no retry, as the
	// flag says (its default is DefaultRetries).
	c.Retries = max(c.Retries, 0)
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 2 * time.Minute
	}
	if c.CacheMode == "" {
		c.CacheMode = CacheOff
		if c.CacheDir != "" {
			c.CacheMode = CacheOn
		}
	}
	return c
}

// ParseModel splits "provider:model". A name without a provider is an
// OpenAI-compatible model.
func ParseModel(s string) (provider, model string, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", "", fmt.Errorf("no model given: set --model or %s, e.g. openai:gpt-4o-mini", EnvModel)
	}
	p, m, ok := strings.Cut(s, ":")
	if !ok {
		return OpenAI, s, nil
	}
	switch p {
	case OpenAI, Anthropic:
	default:
		return OpenAI, s, nil // e.g. Ollama's "llama3.1:8b"
	}
	if m == "" {
		return "", "", fmt.Errorf("model %q: no model name after %q", s, p+":")
	}
	return p, m, nil
}

// Endpoint returns the base URL requests go to.
func (c Config) Endpoint() string {
	if c.BaseURL != "" {
		return c.BaseURL
	}
	switch c.Provider {
	case Anthropic:
		if v := os.Getenv("ANTHROPIC_BASE_URL"); v != "" {
			return v
		}
		return "https://api.anthropic.com/"
	default:
		if v := os.Getenv("OPENAI_BASE_URL"); v != "" {
			return v
		}
		return "https://api.openai.com/v1/"
	}
}

// IsLoopback reports whether the endpoint is on this machine.
func IsLoopback(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return false
	}
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") || strings.HasSuffix(strings.ToLower(h), ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Destination describes, for the user, where notes are sent.
func (c Config) Destination() string {
	u, err := url.Parse(c.Endpoint())
	host := c.Endpoint()
	if err == nil {
		host = u.Scheme + "://" + u.Host
	}
	where := "a remote endpoint"
	if IsLoopback(c.Endpoint()) {
		where = "this machine"
	}
	return fmt.Sprintf("the %s model %q at %s (%s)", c.Provider, c.Model, host, where)
}

// Flags holds the values of the command-line flags RegisterFlags adds.
type Flags struct {
	Model, BaseURL, CacheDir, CacheMode, Prices string
	AllowRemote, Hybrid                         bool
	MaxToolCalls, MaxTokens, Retries            int
	MaxCalls, MaxOutputTokens                   int
	Concurrency                                 int
	Timeout, NoteTimeout                        time.Duration
}

// RegisterFlags adds the LLM agent's flags to fs. There is deliberately no
// flag for API keys.
func RegisterFlags(fs *pflag.FlagSet) *Flags {
	f := &Flags{}
	fs.StringVar(&f.Model, "model", "", "LLM reasoner: provider:model, e.g. openai:gpt-4o-mini or anthropic:claude-sonnet-4-5 (default $"+EnvModel+")")
	fs.StringVar(&f.BaseURL, "llm-base-url", "", "LLM endpoint base URL, e.g. http://localhost:11434/v1 for Ollama (default $"+EnvBaseURL+", then the SDK's)")
	fs.BoolVar(&f.AllowRemote, "allow-remote", false, "allow sending notes to an LLM endpoint that is not on this machine (or $"+EnvAllowRemote+"=1)")
	fs.BoolVar(&f.Hybrid, "hybrid", false, "give the offline coder's codes to the LLM agent as a starting point")
	fs.StringVar(&f.CacheDir, "llm-cache", "", "LLM response cache directory (default $"+EnvCache+")")
	fs.StringVar(&f.CacheMode, "llm-cache-mode", "", "LLM response cache: off, on, record or replay (default on when a cache directory is set)")
	fs.StringVar(&f.Prices, "llm-prices", "", "price table JSON for LLM cost accounting (default $"+EnvPrices+")")
	fs.IntVar(&f.MaxToolCalls, "llm-max-tool-calls", 0, "tool calls allowed per note (default 80)")
	fs.IntVar(&f.MaxTokens, "llm-max-tokens", 0, "tokens (input+output) allowed per note (default 600000)")
	fs.IntVar(&f.MaxCalls, "llm-max-calls", 0, "model calls allowed per note, all stages (default 20)")
	fs.IntVar(&f.MaxOutputTokens, "llm-max-output-tokens", 0, "output tokens allowed per model call (default 4096)")
	fs.DurationVar(&f.NoteTimeout, "llm-note-timeout", 0, "time allowed per note, all stages (default 10m)")
	fs.IntVar(&f.Retries, "llm-retries", DefaultRetries, "retries of a failed LLM request (0 for none)")
	fs.IntVar(&f.Concurrency, "llm-concurrency", 0, "notes coded at once by the LLM agent (default 4)")
	fs.DurationVar(&f.Timeout, "llm-timeout", 0, "timeout of one LLM request (default 2m)")
	return f
}

// Config returns the configuration the flags and environment give: flags
// win over environment variables.
func (f *Flags) Config() (Config, error) {
	var c Config
	model := firstNonEmpty(f.Model, os.Getenv(EnvModel))
	var err error
	if c.Provider, c.Model, err = ParseModel(model); err != nil {
		return c, err
	}
	c.BaseURL = firstNonEmpty(f.BaseURL, os.Getenv(EnvBaseURL))
	c.AllowRemote = f.AllowRemote
	if v := os.Getenv(EnvAllowRemote); v != "" && !c.AllowRemote {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return c, fmt.Errorf("%s=%q: want 1 or 0", EnvAllowRemote, v)
		}
		c.AllowRemote = b
	}
	c.Hybrid = f.Hybrid
	c.CacheDir = firstNonEmpty(f.CacheDir, os.Getenv(EnvCache))
	if c.CacheMode, err = ParseCacheMode(firstNonEmpty(f.CacheMode, os.Getenv(EnvCacheMode))); err != nil {
		return c, err
	}
	if c.CacheMode != CacheOff && c.CacheDir == "" {
		return c, fmt.Errorf("cache mode %s needs a cache directory (--llm-cache or %s)", c.CacheMode, EnvCache)
	}
	if c.CacheMode == CacheOff && c.CacheDir != "" && firstNonEmpty(f.CacheMode, os.Getenv(EnvCacheMode)) == "" {
		c.CacheMode = CacheOn
	}
	if p := firstNonEmpty(f.Prices, os.Getenv(EnvPrices)); p != "" {
		if c.Prices, err = LoadPrices(p); err != nil {
			return c, err
		}
	}
	c.MaxToolCalls, c.MaxTokens, c.Retries, c.Concurrency, c.RequestTimeout = f.MaxToolCalls, f.MaxTokens, f.Retries, f.Concurrency, f.Timeout
	c.MaxCalls, c.MaxOutputTokens, c.NoteTimeout = f.MaxCalls, f.MaxOutputTokens, f.NoteTimeout
	return c, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// Price is the cost of a model's tokens in a currency unit per million
// tokens.
type Price struct {
	Input  float64 `json:"input"`
	Cached float64 `json:"cached"`
	Output float64 `json:"output"`
}

// Prices maps a model name (as in Config.Model) to its price.
type Prices map[string]Price

// LoadPrices reads a price table: a JSON object from model name to
// {"input": ..., "cached": ..., "output": ...} per million tokens.
func LoadPrices(path string) (Prices, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read price table: %w", err)
	}
	var p Prices
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("read price table %s: %w", path, err)
	}
	return p, nil
}

// Cost returns the cost of u for model, and whether the table prices it.
func (p Prices) cost(model string, u tokenUsage) (float64, bool) {
	pr, ok := p[model]
	if !ok {
		return 0, false
	}
	return (float64(u.Input)*pr.Input + float64(u.Cached)*pr.Cached + float64(u.Output)*pr.Output) / 1e6, true
}
