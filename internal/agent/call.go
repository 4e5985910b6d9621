package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// CacheMode says how the on-disk response cache is used.
type CacheMode string

// The cache modes.
const (
	// CacheOff neither reads nor writes the cache.
	CacheOff CacheMode = "off"
	// CacheOn answers repeated requests from the cache and stores new
	// responses: evaluation reruns cost nothing and give the same result.
	CacheOn CacheMode = "on"
	// CacheRecord calls the model for every request and stores the
	// responses, replacing what was there.
	CacheRecord CacheMode = "record"
	// CacheReplay answers only from the cache and never calls the model;
	// a request that was not recorded is an error. Tests and benchmarks
	// run recorded sessions this way.
	CacheReplay CacheMode = "replay"
)

// ParseCacheMode returns the CacheMode named s ("" is CacheOff).
func ParseCacheMode(s string) (CacheMode, error) {
	switch m := CacheMode(s); m {
	case CacheOff, CacheOn, CacheRecord, CacheReplay:
		return m, nil
	case "":
		return CacheOff, nil
	}
	return "", fmt.Errorf("unknown cache mode %q (want off, on, record or replay)", s)
}

// ErrNotRecorded is returned (wrapped) in replay mode for a request the
// cache does not hold.
var ErrNotRecorded = errors.New("response not recorded")

// cache stores responses on disk, one JSON file per request, named by the
// SHA-256 of the provider, model and canonical request.
type cache struct {
	dir  string
	mode CacheMode
}

func (c *cache) key(provider string, req *chatRequest) string {
	b, _ := json.Marshal(struct {
		Provider string       `json:"provider"`
		Req      *chatRequest `json:"req"`
	}{provider, req})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func (c *cache) path(key string) string {
	return filepath.Join(c.dir, key[:2], key+".json")
}

func (c *cache) get(key string) (*chatResponse, bool, error) {
	if c == nil || c.mode == CacheOff || c.mode == CacheRecord {
		return nil, false, nil
	}
	b, err := os.ReadFile(c.path(key))
	if errors.Is(err, os.ErrNotExist) {
		if c.mode == CacheReplay {
			return nil, false, fmt.Errorf("replay %s: %w", key[:12], ErrNotRecorded)
		}
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read response cache: %w", err)
	}
	var r chatResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, false, fmt.Errorf("read response cache %s: %w", c.path(key), err)
	}
	return &r, true, nil
}

func (c *cache) put(key string, r *chatResponse) error {
	if c == nil || c.mode == CacheOff || c.mode == CacheReplay {
		return nil
	}
	// A model's answer quotes the note (evidence): the cache is PHI, for
	// its owner only.
	p := c.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("write response cache: %w", err)
	}
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return fmt.Errorf("write response cache: %w", err)
	}
	tmp := p + ".tmp" + strconv.Itoa(rand.IntN(1<<30))
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write response cache: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write response cache: %w", err)
	}
	return nil
}

// CallRecord is the accounting of one model turn, kept in the transcript.
type CallRecord struct {
	Stage string `json:"stage"`
	Turn  int    `json:"turn"`
	// Attempts counts HTTP requests made for the turn (0 for a cache
	// hit); Errors are the failures of the attempts that were retried.
	Attempts  int        `json:"attempts"`
	Errors    []string   `json:"errors,omitempty"`
	Cached    bool       `json:"cached,omitempty"`
	LatencyMS int64      `json:"latencyMs"`
	Usage     tokenUsage `json:"usage"`
	Stop      string     `json:"stop,omitempty"`
	CacheKey  string     `json:"cacheKey,omitempty"`
}

// caller sends turns with the response cache, per-request timeout and
// retries with backoff.
type caller struct {
	client   chatClient
	provider string
	cache    *cache
	timeout  time.Duration
	retries  int
	// baseDelay and maxDelay bound the backoff; sleep waits (replaced in
	// tests).
	baseDelay, maxDelay time.Duration
	sleep               func(ctx context.Context, d time.Duration) error
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// call returns the model's turn for req. Transport failures, timeouts,
// HTTP 408, 409, 429 and 5xx and empty responses are retried up to
// c.retries times; other failures are returned at once.
func (c *caller) call(ctx context.Context, req *chatRequest, rec *CallRecord) (*chatResponse, error) {
	start := time.Now()
	defer func() { rec.LatencyMS = time.Since(start).Milliseconds() }()
	key := c.cache.key(c.provider, req)
	rec.CacheKey = key[:16]
	if r, ok, err := c.cache.get(key); err != nil {
		return nil, err
	} else if ok {
		rec.Cached = true
		rec.Stop = r.Stop
		return r, nil
	}
	for attempt := 0; ; attempt++ {
		rec.Attempts++
		actx, cancel := context.WithTimeout(ctx, c.timeout)
		resp, err := c.client.chat(actx, req)
		timedOut := actx.Err() == context.DeadlineExceeded
		cancel()
		// An answer cut at the output limit before any content is not
		// retried as it is: the same request would spend the same
		// tokens again. The stage retries it once with more room.
		if err == nil && resp.Stop != stopRefusal && resp.Stop != stopLength && resp.Text == "" && len(resp.Calls) == 0 {
			rec.Usage.add(resp.Usage)
			err = errEmpty
		}
		if err == nil {
			rec.Usage.add(resp.Usage)
			rec.Stop = resp.Stop
			if perr := c.cache.put(key, resp); perr != nil {
				rec.Errors = append(rec.Errors, errorText(perr))
			}
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if timedOut {
			err = fmt.Errorf("no answer within %s: %w", c.timeout, err)
		}
		rec.Errors = append(rec.Errors, errorText(err))
		wait, retry := c.retryable(err, timedOut, attempt)
		if !retry || attempt >= c.retries {
			return nil, fmt.Errorf("model call failed after %d attempt(s): %w", attempt+1, err)
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func (u *tokenUsage) add(o tokenUsage) {
	u.Input += o.Input
	u.Cached += o.Cached
	u.Output += o.Output
}

// retryable decides whether err is worth another attempt and how long to
// wait: the server's Retry-After if it gave one, else exponential backoff
// with full jitter.
func (c *caller) retryable(err error, timedOut bool, attempt int) (time.Duration, bool) {
	backoff := c.baseDelay << attempt
	if backoff > c.maxDelay || backoff <= 0 {
		backoff = c.maxDelay
	}
	jittered := time.Duration(rand.Int64N(int64(backoff)) + 1)
	var se *statusError
	if errors.As(err, &se) {
		switch {
		case se.Status == 408, se.Status == 409, se.Status == 429, se.Status >= 500:
		default:
			return 0, false
		}
		if d, ok := parseRetryAfter(se.RetryAfter, time.Now()); ok {
			if d > c.maxDelay {
				d = c.maxDelay
			}
			return d, true
		}
		return jittered, true
	}
	var ne net.Error
	switch {
	case timedOut, errors.Is(err, errEmpty), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.As(err, &ne), strings.Contains(err.Error(), "connection reset"), strings.Contains(err.Error(), "unexpected end of JSON"):
		return jittered, true
	}
	// JSON decoding errors of a cut response body surface as plain errors
	// from the SDKs; retry anything that is not a request error.
	return jittered, !errors.Is(err, ErrNotRecorded)
}

// parseRetryAfter reads a Retry-After value: seconds, an HTTP date, or
// milliseconds with an "ms" suffix (from retry-after-ms).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if ms, ok := strings.CutSuffix(v, "ms"); ok {
		if f, err := strconv.ParseFloat(ms, 64); err == nil && f >= 0 {
			return time.Duration(f * float64(time.Millisecond)), true
		}
		return 0, false
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 {
		return time.Duration(f * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d, true
		}
		return 0, true
	}
	return 0, false
}
