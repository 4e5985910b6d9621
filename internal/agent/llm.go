package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// The chat types below are the provider-neutral form of one model turn.
// Both endpoints are mapped to and from them, so that the stages, the
// response cache and the transcript do not depend on the provider.

// Message is one message of a conversation.
type Message struct {
	// Role is "user", "assistant" or "tool".
	Role string `json:"role"`
	Text string `json:"text,omitempty"`
	// Calls are the tool calls of an assistant message.
	Calls []ToolCall `json:"calls,omitempty"`
	// CallID and Name identify the call a tool message answers; IsError
	// marks a result that reports a failure to the model.
	CallID  string `json:"callId,omitempty"`
	Name    string `json:"name,omitempty"`
	IsError bool   `json:"isError,omitempty"`
}

// ToolCall is a tool call made by the model. Args is kept as the model sent
// it, which need not be valid JSON.
type ToolCall struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Args string `json:"args"`
}

// ToolSpec describes a tool to the model.
type ToolSpec struct {
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Schema      map[string]any `json:"schema"`
}

// chatRequest is one request for a model turn.
type chatRequest struct {
	Model       string     `json:"model"`
	System      string     `json:"system"`
	Messages    []Message  `json:"messages"`
	Tools       []ToolSpec `json:"tools"`
	MaxTokens   int        `json:"maxTokens"`
	Temperature *float64   `json:"temperature,omitempty"`
	// ToolChoice, when set, names the tool the model must call: the
	// stage's submission, when its turns or the note's budget run low.
	ToolChoice string `json:"toolChoice,omitempty"`
}

// Stop reasons of a turn, normalized across providers.
const (
	stopEnd     = "end"     // the model finished
	stopTool    = "tool"    // the model called tools
	stopLength  = "length"  // the output token limit cut the answer
	stopRefusal = "refusal" // the model or its provider refused
	stopOther   = "other"
)

// chatResponse is the model's turn.
type chatResponse struct {
	Text    string     `json:"text,omitempty"`
	Calls   []ToolCall `json:"calls,omitempty"`
	Stop    string     `json:"stop"`
	Refusal string     `json:"refusal,omitempty"`
	Usage   tokenUsage `json:"usage"`
	// Model is the model that answered, as the endpoint names it.
	Model string `json:"model,omitempty"`
}

type tokenUsage struct {
	Input  int `json:"input"`
	Cached int `json:"cached,omitempty"`
	Output int `json:"output"`
}

// chatClient sends one request to a model endpoint, without retrying.
type chatClient interface {
	chat(ctx context.Context, req *chatRequest) (*chatResponse, error)
}

// statusError is an HTTP error from an endpoint, with what retrying needs.
type statusError struct {
	Status     int
	RetryAfter string
	Msg        string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("endpoint answered HTTP %d: %s", e.Status, e.Msg)
}

func newStatusError(status int, resp *http.Response, msg string) *statusError {
	e := &statusError{Status: status, Msg: msg}
	if resp != nil {
		e.RetryAfter = resp.Header.Get("Retry-After")
		if e.RetryAfter == "" {
			e.RetryAfter = resp.Header.Get("retry-after-ms")
			if e.RetryAfter != "" {
				e.RetryAfter += "ms"
			}
		}
	}
	return e
}

// errorText shortens an error message for the transcript: the SDKs put
// the request URL and whole response bodies into their messages.
func errorText(err error) string {
	s := err.Error()
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// validJSONObject reports whether s parses as a JSON object.
func validJSONObject(s string) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal([]byte(s), &m) == nil
}

// isRefusalText recognizes the stock phrasing of a model declining a task
// in plain text, for endpoints that have no refusal field.
func isRefusalText(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) > 400 {
		return false
	}
	for _, p := range []string{"i can't help", "i cannot help", "i can't assist", "i cannot assist", "i'm sorry, but i can", "i am unable to", "i'm unable to", "i won't be able to"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

var errEmpty = errors.New("empty response: no text and no tool call")

// ErrStop marks a failure that would fail every other note the same way:
// the endpoint refused the credentials (HTTP 401, 403), does not know
// the model or path (404), or a replayed session lacks a response. A
// batch or an evaluation stops at once on such an error instead of
// scoring a run of empty results.
var ErrStop = errors.New("the run cannot go on")

// stopError is a failure that ends the run; it matches ErrStop.
type stopError struct{ err error }

func (e *stopError) Error() string        { return e.err.Error() }
func (e *stopError) Unwrap() []error      { return []error{e.err, ErrStop} }
func (e *stopError) Is(target error) bool { return target == ErrStop }

// fatal reports whether err from a model call would fail every note.
func fatal(err error) bool {
	if errors.Is(err, ErrNotRecorded) {
		return true
	}
	var se *statusError
	if errors.As(err, &se) {
		switch se.Status {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
			return true
		}
	}
	return false
}
