package cli

import (
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
func fakeLLM(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: fakellm")
	}
	srv := llmtest.New(hypertension, 0)
	ts.Defer(srv.Close)
	ts.Setenv("LLMBASE", srv.URL+"/v1")
}
