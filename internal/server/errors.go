package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

var errNoRelease = errors.New("no release")

// apiError is the body of every error response: a stable machine-readable
// code and a message for people.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field names the input at fault, when there is one.
	Field string `json:"field,omitempty"`
	// Conflicts are the pairs of codes that stop an export.
	Conflicts []conflict `json:"conflicts,omitempty"`
	// retryAfter, in seconds, is sent as Retry-After.
	retryAfter int
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, msg string) *apiError {
	return &apiError{Status: status, Code: code, Message: msg}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	writeJSON(w, e.Status, map[string]*apiError{"error": e})
}
