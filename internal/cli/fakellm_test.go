package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"

	"github.com/rogpeppe/go-internal/testscript"
)

// fakeLLM starts an OpenAI-compatible Chat Completions server on loopback
// for the rest of the script and sets $LLMBASE to its base URL: fakellm.
// It codes the note "Essential hypertension." as a model would, one stage
// at a time: each request is answered with a call of the stage's
// submission tool (the last tool offered), so that `medcode code
// --reasoner llm` and `medcode eval --reasoner llm` run end to end with no
// model.
//
// fakellm STATUS answers every request with that HTTP status instead, as
// an endpoint that refuses the key (401) or fails (500) does.
func fakeLLM(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) > 1 {
		ts.Fatalf("usage: fakellm [status]")
	}
	status := 0
	if len(args) == 1 {
		var err error
		if status, err = strconv.Atoi(args[0]); err != nil {
			ts.Fatalf("fakellm: status %q: %v", args[0], err)
		}
	}
	submissions := map[string]any{
		"submit_findings": map[string]any{"findings": []any{map[string]any{
			"id": "F1", "description": "essential hypertension", "kind": "condition",
			"quotes": []string{"Essential hypertension"}, "assertion": "affirmed", "relevant": true}}},
		"submit_candidates": map[string]any{"candidates": []any{map[string]any{
			"finding": "F1", "code": "I10", "index_path": "Hypertension, hypertensive"}}},
		"submit_codes": map[string]any{"codes": []any{map[string]any{
			"code": "I10", "finding": "F1", "evidence": []string{"Essential hypertension"}, "index_path": "Hypertension, hypertensive"}}},
	}
	var n atomic.Int64 // numbers the responses
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		if status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error":{"message":"fake status %d","type":"fake"}}`, status)
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
	ts.Defer(srv.Close)
	ts.Setenv("LLMBASE", srv.URL+"/v1")
}
