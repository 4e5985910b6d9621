package server

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes: the OpenAPI document in the repository names
// exactly the routes the server serves, each with responses, and every
// $ref resolves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	s := &Server{}
	served := []string{"GET /metrics"}
	for _, rt := range s.routes() {
		served = append(served, rt.method+" "+rt.path)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if method == "parameters" {
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
			var o struct {
				Responses map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(op, &o); err != nil || len(o.Responses) == 0 {
				t.Errorf("%s %s: no responses", method, path)
			}
		}
	}
	slices.Sort(served)
	slices.Sort(documented)
	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("openapi.json documents %s, which is not served", r)
		}
	}
	for _, m := range refRE(string(openAPI)) {
		if _, ok := doc.Components.Schemas[m]; !ok {
			t.Errorf("$ref to unknown schema %s", m)
		}
	}
}

func refRE(s string) []string {
	var out []string
	const p = `"#/components/schemas/`
	for {
		i := strings.Index(s, p)
		if i < 0 {
			return out
		}
		s = s[i+len(p):]
		out = append(out, s[:strings.IndexByte(s, '"')])
	}
}
