package cli

import (
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/medcode-dev/medcode/internal/llmtest"
)

// hypertension is the fake model's answer to every note.
var hypertension = llmtest.Answer{Finding: "essential hypertension", Quote: "Essential hypertension",
	Code: "I10", IndexPath: "Hypertension, hypertensive"}

// fakeLLM starts an OpenAI-compatible Chat Completions server on loopback
// for the rest of the script and sets $LLMBASE to its base URL: fakellm.
// It codes the note "Essential hypertension." as a model would, one stage
// at a time (llmtest.New), so that `medcode code --reasoner llm` and
// `medcode eval --reasoner llm` run end to end with no model.
//
// fakellm STATUS answers every request with that HTTP status instead, as
// an endpoint that refuses the key (401) or fails (500) does.
func fakeLLM(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) > 1 {
		ts.Fatalf("usage: fakellm [status]")
	}
	srv := llmtest.New(hypertension, 0)
	if len(args) == 1 {
		status, err := strconv.Atoi(args[0])
		if err != nil {
			ts.Fatalf("fakellm: status %q: %v", args[0], err)
		}
		srv.Close()
		srv = llmtest.Failing(status)
	}
	ts.Defer(srv.Close)
	ts.Setenv("LLMBASE", srv.URL+"/v1")
}
