package agent

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Models get the shape of a submission slightly wrong in a few common
// ways: one string where the schema wants a list, a code followed by its
// title, a confidence in words. Rejecting the whole submission for that
// throws away every code in it, so such slips are read as the model meant
// them and each one is reported; anything else is a schema error, which
// the model is asked to repair.

// Fields of the submissions read leniently.
var (
	// listFields are the list-of-string fields: one string stands for a
	// list of one.
	listFields = map[string]bool{"evidence": true, "quotes": true, "guidelines": true}
	// codeFields hold a code, which a model may follow with its title.
	codeFields = map[string]bool{"code": true}
	// numberFields are numbers; a string holding a number is read as the
	// number, anything else is dropped.
	numberFields = map[string]bool{"confidence": true, "choice": true}
	// boolFields are booleans; "true" and "false" as strings are read.
	boolFields = map[string]bool{"relevant": true, "integral": true}
	// arrayFields are the top-level lists of the submissions: one object
	// stands for a list of one.
	arrayFields = map[string]bool{"codes": true, "findings": true, "candidates": true, "dropped": true, "queries": true}
)

// lenient rewrites raw, a submission's arguments, into the shape of the
// schema where the model's intent is plain, and lists what it changed.
// Arguments that are not a JSON object are returned unchanged.
func lenient(raw json.RawMessage) (json.RawMessage, []string) {
	var top map[string]any
	if err := json.Unmarshal(raw, &top); err != nil {
		return raw, nil
	}
	var fixes []string
	for k, v := range top {
		if !arrayFields[k] {
			continue
		}
		if o, ok := v.(map[string]any); ok {
			v = []any{o}
			fixes = append(fixes, fmt.Sprintf("%s: one object read as a list of one", k))
		}
		items, ok := v.([]any)
		if !ok {
			continue
		}
		for i, it := range items {
			o, ok := it.(map[string]any)
			if !ok {
				continue
			}
			for f, fv := range o {
				where := fmt.Sprintf("%s[%d].%s", k, i, f)
				switch {
				case listFields[f]:
					if sv, ok := fv.(string); ok {
						o[f] = []any{sv}
						fixes = append(fixes, where+": a string read as a list of one")
					}
				case codeFields[f]:
					if sv, ok := fv.(string); ok {
						if c := bareCode(sv); c != sv {
							o[f] = c
							fixes = append(fixes, fmt.Sprintf("%s: %q read as %q", where, clip(sv, 60), c))
						}
					}
				case numberFields[f]:
					switch x := fv.(type) {
					case float64, nil:
					case string:
						if n, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
							o[f] = n
						} else {
							delete(o, f)
							fixes = append(fixes, fmt.Sprintf("%s: %q is not a number and was ignored", where, clip(x, 30)))
						}
					default:
						delete(o, f)
						fixes = append(fixes, where+": not a number, ignored")
					}
				case boolFields[f]:
					if sv, ok := fv.(string); ok {
						if b, err := strconv.ParseBool(strings.TrimSpace(sv)); err == nil {
							o[f] = b
						}
					}
				}
			}
		}
		top[k] = items
	}
	if len(fixes) == 0 {
		return raw, nil
	}
	b, err := json.Marshal(top)
	if err != nil {
		return raw, nil
	}
	return b, fixes
}

// bareCode returns the code a model wrote with its title ("E11.9 Type 2
// diabetes mellitus", "E11.9: Type 2 ..."): the first word, without the
// punctuation that separates it from the title.
func bareCode(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return s
	}
	c := strings.TrimRight(f[0], ":,;")
	if len(f) == 1 && c == f[0] {
		return s
	}
	return c
}

var (
	// hermesCall is a tool call written as text the way Hermes-style
	// chat templates write it, which local servers without a tool-call
	// parser pass through as content. The closing tag may be missing
	// when the answer stops there.
	hermesCall = regexp.MustCompile(`(?s)<tool_call>\s*(.*?)\s*(?:</tool_call>|$)`)
	// fencedJSON is a fenced code block.
	fencedJSON = regexp.MustCompile("(?s)```[a-zA-Z]*\\s*(.*?)```")
)

// textCalls reads tool calls a model wrote into its text instead of
// making them: <tool_call> blocks, fenced JSON, or the whole text as
// JSON, each an object with "name" and "arguments" (or "parameters").
// Calls get IDs of their own; arguments are always a JSON object.
func textCalls(text string) []ToolCall {
	var bodies []string
	for _, m := range hermesCall.FindAllStringSubmatch(text, -1) {
		bodies = append(bodies, m[1])
	}
	if len(bodies) == 0 {
		for _, m := range fencedJSON.FindAllStringSubmatch(text, -1) {
			bodies = append(bodies, m[1])
		}
	}
	if len(bodies) == 0 {
		bodies = []string{strings.TrimSpace(text)}
	}
	var out []ToolCall
	for _, b := range bodies {
		var c struct {
			Name       string          `json:"name"`
			Arguments  json.RawMessage `json:"arguments"`
			Parameters json.RawMessage `json:"parameters"`
		}
		if json.Unmarshal([]byte(strings.TrimSpace(b)), &c) != nil || c.Name == "" {
			continue
		}
		args := c.Arguments
		if len(args) == 0 {
			args = c.Parameters
		}
		// Some templates encode the arguments as a JSON string.
		var str string
		if json.Unmarshal(args, &str) == nil {
			args = json.RawMessage(str)
		}
		if !validJSONObject(string(args)) {
			args = json.RawMessage("{}")
		}
		out = append(out, ToolCall{ID: fmt.Sprintf("text_%d", len(out)+1), Name: c.Name, Args: string(args)})
	}
	return out
}
