package agent

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/search"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

// The fake endpoints below speak just enough of the OpenAI Chat
// Completions and Anthropic Messages wire formats for the official SDKs,
// and answer from a script, one step per HTTP request.

type fcall struct{ name, args string }

// step is one scripted answer: a model turn, or a fault.
type step struct {
	calls  []fcall
	text   string
	stop   string        // "" (derived), "length", "refusal"
	status int           // an HTTP error status instead of a turn
	after  string        // Retry-After of the error
	delay  time.Duration // wait this long (or until the client gives up) first
	cut    bool          // send half of the body, then drop the connection
	// noUsage leaves usage out of the answer, as some local servers do.
	noUsage bool
	// loop answers every further request with this step.
	loop bool
	// body is an error body to send with status, instead of the default.
	body string
}

type fakeServer struct {
	t        *testing.T
	provider string
	mu       sync.Mutex
	steps    []step
	bodies   []map[string]any // every request body received
	keys     []string         // the credentials of every request
	srv      *httptest.Server
	// byteUsage reports usage measured from the bytes of each request
	// and answer (4 bytes a token), with the system prompt and tools
	// counted as cached from the second request that repeats them, as
	// providers' prompt caches do: token counts that follow the
	// requests the agent really sends, for the cost table of docs/llm.md.
	byteUsage bool
	prefixes  map[string]bool
}

func newFake(t *testing.T, provider string, steps ...step) *fakeServer {
	f := &fakeServer{t: t, provider: provider, steps: steps}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeServer) baseURL() string {
	if f.provider == Anthropic {
		return f.srv.URL + "/"
	}
	return f.srv.URL + "/v1/"
}

func (f *fakeServer) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bodies)
}

// sawKey reports whether every request carried key, as a bearer token or
// an x-api-key header.
func (f *fakeServer) sawKey(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range f.keys {
		if !strings.Contains(k, key) {
			return false
		}
	}
	return len(f.keys) > 0
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	want := "/v1/chat/completions"
	if f.provider == Anthropic {
		want = "/v1/messages"
	}
	if r.URL.Path != want {
		http.Error(w, "unexpected path "+r.URL.Path, http.StatusNotFound)
		return
	}
	b, _ := io.ReadAll(r.Body)
	var body map[string]any
	json.Unmarshal(b, &body)
	f.mu.Lock()
	f.bodies = append(f.bodies, body)
	f.keys = append(f.keys, r.Header.Get("Authorization")+" "+r.Header.Get("X-Api-Key"))
	if len(f.steps) == 0 {
		f.mu.Unlock()
		f.t.Errorf("fake %s: request %d beyond the script", f.provider, len(f.bodies))
		http.Error(w, `{"error":{"message":"script exhausted"}}`, http.StatusBadRequest)
		return
	}
	st := f.steps[0]
	if !st.loop {
		f.steps = f.steps[1:]
	}
	n := len(f.bodies)
	var use *usage
	if f.byteUsage {
		prefix, _ := json.Marshal([]any{body["system"], body["tools"], f.systemMessage(body)})
		use = &usage{in: len(b) / 4}
		if f.prefixes == nil {
			f.prefixes = map[string]bool{}
		}
		if f.prefixes[string(prefix)] {
			use.cached = len(prefix) / 4
			use.in -= use.cached
		}
		f.prefixes[string(prefix)] = true
	}
	f.mu.Unlock()

	if st.delay > 0 {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(st.delay):
		}
	}
	if st.status != 0 {
		if st.after != "" {
			w.Header().Set("Retry-After", st.after)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(st.status)
		if st.body != "" {
			fmt.Fprint(w, st.body)
		} else if f.provider == Anthropic {
			fmt.Fprint(w, `{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`)
		} else {
			fmt.Fprint(w, `{"error":{"message":"slow down","type":"rate_limit","code":"rate_limit"}}`)
		}
		return
	}
	var out []byte
	if use != nil {
		use.out = estimateOutput(&chatResponse{Text: st.text, Calls: toCalls(st.calls)})
	}
	if f.provider == Anthropic {
		out = anthropicTurn(n, st, use)
	} else {
		out = openaiTurn(n, st, use)
	}
	w.Header().Set("Content-Type", "application/json")
	if st.cut {
		w.Header().Set("Content-Length", strconv.Itoa(len(out)))
		w.WriteHeader(http.StatusOK)
		w.Write(out[:len(out)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	w.Write(out)
}

// usage is the token counts a fake answer reports.
type usage struct{ in, cached, out int }

func toCalls(fs []fcall) []ToolCall {
	var out []ToolCall
	for _, c := range fs {
		out = append(out, ToolCall{Name: c.name, Args: c.args})
	}
	return out
}

// systemMessage is the system message of an OpenAI request (Anthropic's
// is the "system" field).
func (f *fakeServer) systemMessage(body map[string]any) any {
	if ms, ok := body["messages"].([]any); ok && len(ms) > 0 {
		if m, ok := ms[0].(map[string]any); ok && m["role"] == "system" {
			return m["content"]
		}
	}
	return nil
}

func openaiTurn(n int, st step, use *usage) []byte {
	msg := map[string]any{"role": "assistant", "content": st.text}
	if st.stop == "refusal" {
		msg["refusal"] = st.text
		msg["content"] = nil
	}
	var calls []map[string]any
	for i, c := range st.calls {
		calls = append(calls, map[string]any{"id": fmt.Sprintf("call_%d_%d", n, i), "type": "function",
			"function": map[string]any{"name": c.name, "arguments": c.args}})
	}
	finish := "stop"
	if len(calls) > 0 {
		msg["tool_calls"] = calls
		finish = "tool_calls"
	}
	if st.stop == "length" {
		finish = "length"
	}
	u := map[string]any{"prompt_tokens": 110, "completion_tokens": 20, "total_tokens": 130, "prompt_tokens_details": map[string]any{"cached_tokens": 10}}
	if use != nil {
		u = map[string]any{"prompt_tokens": use.in + use.cached, "completion_tokens": use.out, "total_tokens": use.in + use.cached + use.out, "prompt_tokens_details": map[string]any{"cached_tokens": use.cached}}
	}
	resp := map[string]any{
		"id": fmt.Sprintf("chatcmpl-%d", n), "object": "chat.completion", "created": 1, "model": "fake-model",
		"choices": []any{map[string]any{"index": 0, "finish_reason": finish, "message": msg}},
		"usage":   u,
	}
	if st.noUsage {
		delete(resp, "usage")
	}
	b, _ := json.Marshal(resp)
	return b
}

func anthropicTurn(n int, st step, use *usage) []byte {
	var content []any
	if st.text != "" {
		content = append(content, map[string]any{"type": "text", "text": st.text})
	}
	for i, c := range st.calls {
		var input any = json.RawMessage(c.args)
		if !json.Valid([]byte(c.args)) {
			input = c.args // arrives as a string: not an object
		}
		content = append(content, map[string]any{"type": "tool_use", "id": fmt.Sprintf("toolu_%d_%d", n, i), "name": c.name, "input": input})
	}
	stop := "end_turn"
	if len(st.calls) > 0 {
		stop = "tool_use"
	}
	switch st.stop {
	case "length":
		stop = "max_tokens"
	case "refusal":
		stop = "refusal"
	}
	if content == nil {
		content = []any{}
	}
	u := map[string]any{"input_tokens": 100, "output_tokens": 20, "cache_read_input_tokens": 10, "cache_creation_input_tokens": 0}
	if use != nil {
		u = map[string]any{"input_tokens": use.in, "output_tokens": use.out, "cache_read_input_tokens": use.cached, "cache_creation_input_tokens": 0}
	}
	resp := map[string]any{
		"id": fmt.Sprintf("msg_%d", n), "type": "message", "role": "assistant", "model": "fake-model",
		"content": content, "stop_reason": stop, "stop_sequence": nil,
		"usage": u,
	}
	if st.noUsage {
		delete(resp, "usage")
	}
	b, _ := json.Marshal(resp)
	return b
}

// lastToolResults returns the tool results (or user texts) of the last
// request the fake received, in the provider's wire form, as one string.
func (f *fakeServer) lastMessages(i int) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _ := json.Marshal(f.bodies[i]["messages"])
	return string(b)
}

// Real releases for the tools: the FY2021 Tabular List (the newest
// complete one available) in one release, the FY2026 tables and External
// Cause Index in another, as a user with split downloads would have them,
// the FY2025 ICD-10-PCS tables and index, and the FY2025 Alphabetic Index.
var (
	relOnce   sync.Once
	rels      []*codesys.Release
	searchers []*search.Searcher
)

func testResources(tb testing.TB) Resources {
	rs := testReleases(tb)
	return Resources{Releases: rs, Searchers: searchers}
}

func testReleases(tb testing.TB) []*codesys.Release {
	tb.Helper()
	files := []string{
		"icd10cm/fy2021-jan2021/icd10cm_tabular_2021.xml.gz",
		"icd10cm/fy2026-apr2026/icd10cm_eindex_2026.xml.gz",
		"icd10cm/fy2026-apr2026/icd10cm_neoplasm_2026.xml.gz",
		"icd10cm/fy2026-apr2026/icd10cm_drug_2026.xml.gz",
		"icd10pcs/fy2025/icd10pcs_tables_2025.xml.gz",
		"icd10pcs/fy2025/icd10pcs_index_2025.xml.gz",
		"icd10cm/fy2025-apr2025/icd10cm_index_2025.xml.gz",
	}
	for _, p := range files {
		shareddata.Path(tb, p)
	}
	relOnce.Do(func() {
		ix := codesys.ReadIndex
		rels = []*codesys.Release{
			{System: codesys.ICD10CM, Version: "2021", Tabular: shareddata.Load(tb, files[0], codesys.ReadTabular)},
			{System: codesys.ICD10CM, Version: "2026", External: shareddata.Load(tb, files[1], ix), Neoplasm: shareddata.Load(tb, files[2], ix), Drug: shareddata.Load(tb, files[3], ix)},
			{System: codesys.ICD10PCS, Version: "2025", PCS: shareddata.Load(tb, files[4], codesys.ReadPCSTables), PCSIndex: shareddata.Load(tb, files[5], ix)},
			// The Alphabetic Index, which the auditor checks index paths
			// against.
			{System: codesys.ICD10CM, Version: "2025", Index: shareddata.Load(tb, files[6], ix)},
		}
		for _, r := range rels {
			searchers = append(searchers, search.New(r))
		}
	})
	if rels == nil {
		tb.Fatal("shared data failed to load in an earlier test")
	}
	return rels
}
