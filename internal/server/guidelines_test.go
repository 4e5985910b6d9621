package server

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/guidelines"
)

// testGuidelines parses the fixture outline as the edition of year.
func testGuidelines(t testing.TB, year string) *guidelines.Document {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "guidelines.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := guidelines.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	d.Year = year
	d.Source = "guidelines.txt"
	return d
}

// TestGuidelinesAPI reads the installed guidelines through the API as
// every role: the years, a section with its place in the outline, a
// search, and the errors for what is not there.
func TestGuidelinesAPI(t *testing.T) {
	e := newEnv(t, Config{Guidelines: []*guidelines.Document{testGuidelines(t, "2025"), testGuidelines(t, "2024")}})
	for _, who := range []string{"north/coder", "north/auditor", "south/admin"} {
		var list struct {
			Years    []string           `json:"years"`
			Editions []guidelineEdition `json:"editions"`
		}
		if code := e.do(who, "GET", "/v1/guidelines", nil, &list); code != http.StatusOK {
			t.Fatalf("%s: list: status %d", who, code)
		}
		if !slices.Equal(list.Years, []string{"2024", "2025"}) || len(list.Editions) != 2 || list.Editions[1].Sections == 0 {
			t.Errorf("%s: list = %+v", who, list)
		}
	}
	tests := []struct {
		name, path string
		status     int
		want       guidelineSection
		errCode    string
	}{
		{"section", "/v1/guidelines/2025/I.C.1.a.2", http.StatusOK, guidelineSection{Year: "2025", ID: "I.C.1.a.2",
			Title: "Raised pressure with kidney disease", Text: "Assign a combination code for raised pressure with chronic kidney disease.",
			Parent: "I.C.1.a", Children: []string{"I.C.1.a.2.(a)"}}, ""},
		{"parenthesised, escaped", "/v1/guidelines/2024/" + url.PathEscape("I.C.1.a.2.(a)"), http.StatusOK, guidelineSection{Year: "2024",
			ID: "I.C.1.a.2.(a)", Title: "Stage five", Text: "Use an additional code for the stage of chronic kidney disease.",
			Parent: "I.C.1.a.2", Children: []string{}}, ""},
		{"top level", "/v1/guidelines/2025/II", http.StatusOK, guidelineSection{Year: "2025", ID: "II",
			Title: "Selection of principal diagnosis", Children: []string{"II.A"}}, ""},
		{"unknown section", "/v1/guidelines/2025/I.C.99", http.StatusNotFound, guidelineSection{}, "unknown_section"},
		{"lower-case letter is another level", "/v1/guidelines/2025/i.c.1", http.StatusNotFound, guidelineSection{}, "unknown_section"},
		{"year not installed", "/v1/guidelines/2019/I.C.1", http.StatusNotFound, guidelineSection{}, "no_guidelines"},
		{"search, year not installed", "/v1/guidelines/2019/search?q=kidney", http.StatusNotFound, guidelineSection{}, "no_guidelines"},
		{"search without q", "/v1/guidelines/2025/search", http.StatusBadRequest, guidelineSection{}, "missing_query"},
		{"search, bad limit", "/v1/guidelines/2025/search?q=kidney&limit=0", http.StatusBadRequest, guidelineSection{}, "invalid_limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got guidelineSection
			var eb errBody
			var out any = &got
			if tt.status != http.StatusOK {
				out = &eb
			}
			code := e.do("north/auditor", "GET", tt.path, nil, out)
			if code != tt.status {
				t.Fatalf("status %d, want %d (%+v)", code, tt.status, eb)
			}
			if tt.status != http.StatusOK {
				if eb.Error.Code != tt.errCode || eb.Error.Message == "" {
					t.Errorf("error %+v, want code %s with a message", eb.Error, tt.errCode)
				}
				return
			}
			if got.Year != tt.want.Year || got.ID != tt.want.ID || got.Title != tt.want.Title || got.Text != tt.want.Text ||
				got.Parent != tt.want.Parent || !slices.Equal(got.Children, tt.want.Children) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}

	var res struct {
		Year string           `json:"year"`
		Hits []guidelines.Hit `json:"hits"`
	}
	if code := e.do("north/coder", "GET", "/v1/guidelines/2025/search?q="+url.QueryEscape("chronic kidney disease stage")+"&limit=2", nil, &res); code != http.StatusOK {
		t.Fatalf("search: status %d", code)
	}
	if res.Year != "2025" || len(res.Hits) != 2 || res.Hits[0].ID != "I.C.1.a.2.(a)" || res.Hits[0].Score < res.Hits[1].Score {
		t.Errorf("search = %+v, want I.C.1.a.2.(a) first of 2", res)
	}

	// Without a token the guidelines are not readable; every request is
	// counted under its route pattern, not its section.
	var eb errBody
	if code := e.do("", "GET", "/v1/guidelines/2025/I", nil, &eb); code != http.StatusUnauthorized {
		t.Errorf("no token: status %d", code)
	}
	if !strings.Contains(e.logs.String(), `"route":"/v1/guidelines/{year}/{section}"`) {
		t.Errorf("no request log line under the route pattern")
	}
}

// TestGuidelinesNoneInstalled: with no guidelines the years are empty and
// a section is a 404 that says none are installed.
func TestGuidelinesNoneInstalled(t *testing.T) {
	e := newEnv(t, Config{})
	var list struct {
		Years []string `json:"years"`
	}
	if code := e.do("north/coder", "GET", "/v1/guidelines", nil, &list); code != http.StatusOK || list.Years == nil || len(list.Years) != 0 {
		t.Errorf("list: status %d, %+v; want 200 with an empty list", code, list)
	}
	var eb errBody
	if code := e.do("north/coder", "GET", "/v1/guidelines/2025/I", nil, &eb); code != http.StatusNotFound || !strings.Contains(eb.Error.Message, "none are installed") {
		t.Errorf("section: status %d, %+v", code, eb.Error)
	}
}

// TestNewGuidelinesConfig: New refuses editions it could not serve by year.
func TestNewGuidelinesConfig(t *testing.T) {
	pcs := testGuidelines(t, "2025")
	pcs.System = guidelines.SystemPCS
	tests := []struct {
		name string
		docs []*guidelines.Document
	}{
		{"no year", []*guidelines.Document{testGuidelines(t, "")}},
		{"two of a year", []*guidelines.Document{testGuidelines(t, "2025"), testGuidelines(t, "2025")}},
		{"PCS guidelines", []*guidelines.Document{pcs}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{Store: newEnv(t, Config{}).st, Reasoner: &phraseReasoner{}, Codes: testReleases(t), Guidelines: tt.docs})
			if err == nil {
				t.Error("New accepted them")
			}
		})
	}
}

// TestGuidelinesFHIRExport: the FHIR export of a reviewed document cites
// the guideline sections of each code's trail, in an extension and a note.
func TestGuidelinesFHIRExport(t *testing.T) {
	tests := []struct {
		name  string
		steps []coding.Step
		want  []string // section|year|quote of each citation
		note  string
	}{
		{"no guideline steps", nil, nil, ""},
		{"installed and built-in", []coding.Step{
			{Kind: coding.StepGuideline, Detail: "combination code", Ref: "I.C.1.a.2", Year: "2025", Quote: "Assign a combination code …"},
			{Kind: coding.StepGuideline, Detail: "built-in summary of II.A (no guidelines installed)", Ref: "II.A"},
		}, []string{"I.C.1.a.2|2025|Assign a combination code …", "II.A||"},
			`ICD-10-CM Official Guidelines applied: I.C.1.a.2 (FY2025): "Assign a combination code …"; II.A (built-in summary)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Config{Reasoner: &guideReasoner{steps: tt.steps}})
			d := e.submit("Assessment: hypertension.")
			for _, c := range d.Codes {
				if code := e.do("north/coder", "POST", "/v1/documents/"+d.ID+"/codes/"+c.ID+"/decision", map[string]string{"action": "accept"}, nil); code != http.StatusOK {
					t.Fatalf("accept: status %d", code)
				}
			}
			type ext struct {
				URL         string `json:"url"`
				ValueString string `json:"valueString"`
				Extension   []ext  `json:"extension"`
			}
			var bundle struct {
				Entry []struct {
					Resource struct {
						Extension []ext `json:"extension"`
						Note      []struct {
							Text string `json:"text"`
						} `json:"note"`
					} `json:"resource"`
				} `json:"entry"`
			}
			if code := e.do("north/auditor", "GET", "/v1/documents/"+d.ID+"/export?format=fhir", nil, &bundle); code != http.StatusOK || len(bundle.Entry) != 1 {
				t.Fatalf("export: status %d, %d entries", code, len(bundle.Entry))
			}
			res := bundle.Entry[0].Resource
			var got []string
			for _, x := range res.Extension {
				if x.URL != coding.FHIRGuidelineURL {
					continue
				}
				f := map[string]string{}
				for _, s := range x.Extension {
					f[s.URL] = s.ValueString
				}
				got = append(got, f["section"]+"|"+f["year"]+"|"+f["quote"])
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("citations %q, want %q", got, tt.want)
			}
			var notes []string
			for _, n := range res.Note {
				notes = append(notes, n.Text)
			}
			if has := slices.ContainsFunc(notes, func(n string) bool { return strings.HasPrefix(n, "ICD-10-CM Official Guidelines") }); has != (tt.note != "") ||
				(tt.note != "" && !slices.Contains(notes, tt.note)) {
				t.Errorf("notes %q, want %q", notes, tt.note)
			}
		})
	}
}
