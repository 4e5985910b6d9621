// Package llmtest serves a fake OpenAI-compatible model for tests and
// benchmarks of the LLM agent: no model, no network.
package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"
)

// Answer is what the fake model finds in every note: one finding, quoted
// from the note, coded.
type Answer struct {
	// Finding describes the finding ("essential hypertension").
	Finding string
	// Quote is the note's words for it, as they stand in the note.
	Quote string
	// Code and IndexPath are its code and the Index entry leading to it.
	Code, IndexPath string
}

// New starts an OpenAI-compatible Chat Completions server on loopback
// (base URL: its URL + "/v1") that codes every note with a, one stage at
// a time: each request is answered, after delay, with a call of the
// stage's submission tool (the last tool offered). The caller closes it.
func New(a Answer, delay time.Duration) *httptest.Server {
	submissions := map[string]any{
		"submit_findings": map[string]any{"findings": []any{map[string]any{
			"id": "F1", "description": a.Finding, "kind": "condition",
			"quotes": []string{a.Quote}, "assertion": "affirmed", "relevant": true}}},
		"submit_candidates": map[string]any{"candidates": []any{map[string]any{
			"finding": "F1", "code": a.Code, "index_path": a.IndexPath}}},
		"submit_codes": map[string]any{"codes": []any{map[string]any{
			"code": a.Code, "finding": "F1", "evidence": []string{a.Quote}, "index_path": a.IndexPath}}},
	}
	var n atomic.Int64 // numbers the responses
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		var req struct {
			Tools []struct {
				Function struct{ Name string } `json:"function"`
			} `json:"tools"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Tools) == 0 {
			http.Error(w, "want a request with tools", http.StatusBadRequest)
			return
		}
		name := req.Tools[len(req.Tools)-1].Function.Name
		sub, ok := submissions[name]
		if !ok {
			http.Error(w, "unexpected last tool "+name, http.StatusBadRequest)
			return
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		args, _ := json.Marshal(sub)
		i := n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": fmt.Sprintf("chatcmpl-%d", i), "object": "chat.completion", "created": 1, "model": "fake-model",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "tool_calls", "message": map[string]any{
				"role": "assistant", "content": "",
				"tool_calls": []any{map[string]any{"id": fmt.Sprintf("call_%d", i), "type": "function",
					"function": map[string]any{"name": name, "arguments": string(args)}}},
			}}},
			"usage": map[string]any{"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
		})
	}))
}

// Failing starts a server like New's that answers every request with the
// HTTP status given and an error body, as an endpoint that refuses the key
// (401) or fails (500) does. The caller closes it.
func Failing(status int) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":"fake status %d","type":"fake"}}`, status)
	}))
}
