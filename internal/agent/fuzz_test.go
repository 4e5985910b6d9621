package agent

import (
	"context"
	"encoding/json"
	"testing"
)

// FuzzLenient: reading a submission leniently never panics, keeps a JSON
// object a JSON object, and is done in one pass (a second finds nothing
// to change).
func FuzzLenient(f *testing.F) {
	for _, s := range []string{
		`{"codes":[{"code":"I13.0 Hypertensive heart","evidence":"x","confidence":"high"}]}`,
		`{"codes":{"code":"E11.9","evidence":["a"],"confidence":"0.5"}}`,
		`{"findings":[{"id":"F1","quotes":"q","relevant":"true"}]}`,
		`{"candidates":[{"finding":"F1","choice":"3"}]}`,
		`[]`, `{"codes":[1,null,"x"]}`, `{"codes":[{"code":""}]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, _ := lenient(json.RawMessage(in))
		if validJSONObject(in) && !validJSONObject(string(out)) {
			t.Fatalf("lenient(%q) = %q, not an object", in, out)
		}
		if _, fixes := lenient(out); len(fixes) > 0 && validJSONObject(in) {
			t.Fatalf("second pass over %q changed %v", out, fixes)
		}
	})
}

// FuzzTextCalls: tool calls read from text always have a name and a JSON
// object of arguments.
func FuzzTextCalls(f *testing.F) {
	for _, s := range []string{
		"<tool_call>\n{\"name\":\"submit_codes\",\"arguments\":{\"codes\":[]}}\n</tool_call>",
		"<tool_call>{\"name\":\"find_in_note\",\"arguments\":\"{\\\"text\\\":\\\"x\\\"}\"}",
		"```json\n{\"name\":\"search_index\",\"parameters\":{\"query\":\"x\"}}\n```",
		`{"name":"lookup_code","arguments":[1]}`, "plain text", "<tool_call><tool_call>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, c := range textCalls(in) {
			if c.Name == "" || !validJSONObject(c.Args) || c.ID == "" {
				t.Fatalf("textCalls(%q) gave %+v", in, c)
			}
		}
	})
}

// FuzzToolArguments: any arguments to any tool of any stage are answered
// (a result or an error for the model), never a panic; a submission that
// is accepted holds only codes valid in the release with evidence that
// is the note's text.
func FuzzToolArguments(f *testing.F) {
	for _, s := range []string{
		`{"codes":[{"code":"I13.0","finding":"F2","evidence":["Hypertensive heart and chronic kidney disease with heart failure"]}]}`,
		`{"codes":[{"code":"E11.99","evidence":["x"]}],"dropped":[{"code":"I10"}]}`,
		`{"findings":[{"id":"F1","description":"d","kind":"condition","quotes":["Chronic kidney disease stage 3b"],"assertion":"weird","relevant":true}]}`,
		`{"candidates":[{"finding":"F1","choice":-1},{"finding":"F1","code":"I50.3-","index_path":"Failure"}]}`,
		`{"query":"heart failure","limit":-5}`, `{"path":[]}`, `{"code":"S52.5","system":"nope"}`, `{"site":["lung"]}`, `{"text":""}`, `{}`,
	} {
		f.Add("submit_codes", s)
		f.Add("submit_findings", s)
		f.Add("submit_candidates", s)
		f.Add("search_index", s)
		f.Add("lookup_code", s)
		f.Add("get_index_entry", s)
		f.Add("find_in_note", s)
	}
	text := dischargeNoteText()
	var s *session
	f.Fuzz(func(t *testing.T, name, args string) {
		if s == nil {
			s = newTestSession(t, text)
			s.req.Text = text
			s.systems = s.a.Systems()
		}
		for i := range stages {
			st := &stages[i]
			s.stage, s.repairs, s.accepted = st, 0, nil
			s.runTool(context.Background(), st, ToolCall{ID: "c", Name: name, Args: args}, false)
			r, ok := s.accepted.(codesResult)
			if !ok {
				continue
			}
			for _, c := range r.codes {
				for _, e := range c.evidence {
					if text[e.Start:e.End] != e.Text {
						t.Fatalf("%s: evidence %+v is not the note's text", c.v.Code, e)
					}
				}
			}
		}
		s.problems = nil
	})
}
