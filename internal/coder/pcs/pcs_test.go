package pcs

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/note"
)

var (
	coderOnce sync.Once
	coder     *Coder
	coderErr  error
)

func testCoder(t testing.TB) *Coder {
	t.Helper()
	r := release(t)
	coderOnce.Do(func() { coder, coderErr = New(r, Options{}) })
	if coderErr != nil {
		t.Fatal(coderErr)
	}
	return coder
}

func code(t *testing.T, c *Coder, text string) *Result {
	t.Helper()
	n, err := note.NewParser().Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Code(context.Background(), n, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkEvidence(t, text, r)
	return r
}

// checkEvidence asserts the span invariant on every code, dropped code and
// query: Text == note[Start:End].
func checkEvidence(t *testing.T, text string, r *Result) {
	t.Helper()
	var all []coding.Evidence
	for _, cs := range [][]coding.Code{r.Codes, r.Dropped} {
		for _, c := range cs {
			if len(c.Evidence) == 0 {
				t.Errorf("%s has no evidence", c.Code)
			}
			all = append(all, c.Evidence...)
		}
	}
	for _, q := range r.Queries {
		all = append(all, q.Evidence...)
	}
	for _, e := range all {
		if e.Start < 0 || e.End > len(text) || e.Start > e.End || text[e.Start:e.End] != e.Text {
			t.Errorf("evidence %d:%d %q does not match the note", e.Start, e.End, e.Text)
		}
	}
}

func codesOf(cs []coding.Code) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Code)
	}
	return out
}

// The expected codes are from ICD-10-PCS coding knowledge (the FY2025
// tables): e.g. laparoscopic appendectomy is Resection of the Appendix,
// Percutaneous Endoscopic, 0DTJ4ZZ.
func TestCodeComplete(t *testing.T) {
	c := testCoder(t)
	tests := []struct {
		text string
		want []string
		// words that must be among the evidence of the first code
		evidence []string
	}{
		{"OPERATION: Laparoscopic appendectomy was performed without complications.", []string{"0DTJ4ZZ"}, []string{"Laparoscopic", "appendectomy"}},
		{"Procedure: laparoscopic cholecystectomy for symptomatic cholelithiasis.", []string{"0FT44ZZ"}, []string{"laparoscopic", "cholecystectomy"}},
		{"He underwent open reduction internal fixation of the right distal radius fracture.", []string{"0PSH04Z"}, []string{"Open reduction", "internal fixation", "radius", "right"}},
		{"A diagnostic colonoscopy was performed and was normal to the cecum.", []string{"0DJD8ZZ"}, []string{"colonoscopy"}},
		{"CT of the abdomen without contrast showed no free fluid.", []string{"BW20ZZZ"}, []string{"CT", "abdomen", "without contrast"}},
		{"Chest X-ray showed no infiltrates.", []string{"BW03ZZZ"}, []string{"Chest", "X-ray"}},
		{"An abdominal ultrasound showed multiple gallstones.", []string{"BW40ZZZ"}, []string{"abdominal", "ultrasound"}},
		{"An open excisional biopsy of the left breast was done.", []string{"0HBU0ZX"}, []string{"biopsy", "left", "breast", "open"}},
		{"Colonoscopy with biopsy of the sigmoid colon was performed.", []string{"0DBN8ZX"}, []string{"biopsy", "sigmoid", "colon", "Colonoscopy"}},
		{"A 12-lead electrocardiogram showed sinus rhythm.", []string{"4A02X4Z"}, []string{"electrocardiogram"}},
		{"She was delivered by low transverse cesarean section at 39 weeks.", []string{"10D00Z1"}, []string{"cesarean section", "low transverse"}},
		{"The patient underwent a cystoscopy that showed a bladder tumor.", []string{"0TJB8ZZ"}, []string{"cystoscopy"}},
		{"Open left nephrectomy was performed.", []string{"0TT10ZZ"}, []string{"nephrectomy", "left", "Open"}},
		{"Transesophageal echocardiography showed no vegetations.", []string{"B246ZZ4"}, []string{"Transesophageal echocardiography"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			r := code(t, c, tt.text)
			if got := codesOf(r.Codes); !slices.Equal(got, tt.want) {
				t.Fatalf("codes = %v, want %v (dropped %v, queries %+v)", got, tt.want, codesOf(r.Dropped), r.Queries)
			}
			cd := r.Codes[0]
			if cd.Kind != coding.Procedure || cd.System != codesys.ICD10PCS || cd.Title == "" || len(cd.Trail) == 0 {
				t.Errorf("code %+v lacks kind, system, title or trail", cd)
			}
			var texts []string
			for _, e := range cd.Evidence {
				texts = append(texts, strings.ToLower(e.Text))
			}
			joined := strings.Join(texts, " | ")
			for _, w := range tt.evidence {
				if !strings.Contains(joined, strings.ToLower(w)) {
					t.Errorf("evidence %q lacks %q", joined, w)
				}
			}
		})
	}
}

// Procedures the note does not say were done on the patient in this
// encounter are not coded.
func TestCodeNotPerformed(t *testing.T) {
	c := testCoder(t)
	tests := []struct {
		text   string
		reason string // a word of the dropped code's reason; "" if nothing is reported
	}{
		{"No colonoscopy was performed.", "negated"},
		{"The patient refused the laparoscopic cholecystectomy.", "negated"},
		{"We plan a laparoscopic cholecystectomy next week.", "planned"},
		{"She is a candidate for laparoscopic appendectomy.", "planned"},
		{"PAST SURGICAL HISTORY: Laparoscopic appendectomy in 2010.", "historical"},
		{"Status post laparoscopic cholecystectomy.", "historical"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			r := code(t, c, tt.text)
			if len(r.Codes) != 0 || len(r.Queries) != 0 {
				t.Fatalf("codes %v, queries %+v; want none", codesOf(r.Codes), r.Queries)
			}
			if tt.reason == "" {
				return
			}
			if len(r.Dropped) == 0 || !strings.Contains(r.Dropped[0].Reason, tt.reason) {
				t.Errorf("dropped = %+v, want a reason with %q", r.Dropped, tt.reason)
			}
		})
	}
}

// With Options.Historical, past procedures are coded.
func TestCodeHistorical(t *testing.T) {
	c, err := New(release(t), Options{Historical: true})
	if err != nil {
		t.Fatal(err)
	}
	r := code(t, c, "Status post laparoscopic cholecystectomy.")
	if got := codesOf(r.Codes); !slices.Equal(got, []string{"0FT44ZZ"}) {
		t.Errorf("codes = %v, want [0FT44ZZ]", got)
	}
}

// When the documentation stops short of a character, the partial code is
// reported as a query naming the axis and the values the table allows,
// and, once the body part is known, as an incomplete code with the same
// prefix, evidence and trail, never as a reportable code.
func TestCodePartial(t *testing.T) {
	c := testCoder(t)
	tests := []struct {
		text    string
		partial string
		about   string
		options []string // labels the question must offer
	}{
		// Approach missing: open or laparoscopic.
		{"Appendectomy was performed on the day of admission.", "0DTJ", "approach", []string{"Open (0)", "Percutaneous Endoscopic (4)"}},
		// Biopsy of the left breast: approach not documented.
		{"Biopsy of the left breast was performed.", "0HBU", "approach", []string{"Open (0)", "Percutaneous (3)"}},
		// CT contrast not documented.
		{"CT of the abdomen showed a renal mass.", "BW20", "contrast", []string{"High Osmolar (0)", "Low Osmolar (1)", "None (Z)"}},
		// The type of cesarean (classical, low cervical, extraperitoneal)
		// not documented.
		{"She was delivered by cesarean section at 39 weeks.", "10D00Z", "qualifier", []string{"High (0)", "Low (1)", "Extraperitoneal (2)"}},
		// Laterality of the kidney not documented.
		{"Laparoscopic nephrectomy was performed.", "0TT", "body part", []string{"Kidney, Right (0)", "Kidney, Left (1)"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			r := code(t, c, tt.text)
			var want []string
			if len(tt.partial) >= 4 {
				want = []string{tt.partial}
			}
			if got := codesOf(r.Codes); !slices.Equal(got, want) {
				t.Fatalf("codes = %v, want %v", got, want)
			}
			for _, cd := range r.Codes {
				if !cd.Incomplete || cd.Reportable() || !strings.EqualFold(cd.Missing, tt.about) {
					t.Errorf("%s: incomplete %v, missing %q; want incomplete, missing %q", cd.Code, cd.Incomplete, cd.Missing, tt.about)
				}
				if len(cd.Evidence) == 0 || len(cd.Trail) == 0 || cd.Title == "" {
					t.Errorf("%s: evidence %v, trail %v, title %q: want all three", cd.Code, cd.Evidence, cd.Trail, cd.Title)
				}
			}
			if len(r.Queries) != 1 {
				t.Fatalf("queries = %+v, want one", r.Queries)
			}
			q := r.Queries[0]
			if q.Partial != tt.partial || q.About != tt.about {
				t.Errorf("query partial %q about %q, want %q about %q", q.Partial, q.About, tt.partial, tt.about)
			}
			for _, o := range tt.options {
				if !strings.Contains(q.Question, o) {
					t.Errorf("question %q does not offer %q", q.Question, o)
				}
			}
			if chk := c.tables.Validate(q.Partial); chk.Problem != codesys.PCSIncomplete {
				t.Errorf("partial %s is not a valid beginning of a code: %s", q.Partial, chk.Reason)
			}
		})
	}
}

// In a list of procedures each item's site words document that item
// only: the cranial CT is of the skull, not of the chest and abdomen
// named for the X-ray and the ultrasound before it.
func TestListItems(t *testing.T) {
	c := testCoder(t)
	r := code(t, c, "Chest X-ray, abdominal ultrasound, cranial CT and echocardiography were performed.")
	got := codesOf(r.Codes)
	for _, want := range []string{"BW03ZZZ", "BW40ZZZ", "BN20"} {
		if !slices.Contains(got, want) {
			t.Errorf("codes = %v, want %s among them", got, want)
		}
	}
	for _, not := range []string{"BW24", "BW20"} {
		if slices.Contains(got, not) {
			t.Errorf("codes = %v: %s takes the sites of other items", got, not)
		}
	}
}

// Guideline B3.11a: an inspection done to achieve another procedure on the
// same body system is not coded separately.
func TestInspectionIntegral(t *testing.T) {
	c := testCoder(t)
	r := code(t, c, "Colonoscopy with biopsy of the sigmoid colon was performed.")
	if !slices.Contains(codesOf(r.Dropped), "0DJD8ZZ") {
		t.Fatalf("dropped = %v, want the colonoscopy 0DJD8ZZ as integral", codesOf(r.Dropped))
	}
	for _, d := range r.Dropped {
		if d.Code == "0DJD8ZZ" && !strings.Contains(d.Reason, "B3.11a") {
			t.Errorf("reason %q does not cite B3.11a", d.Reason)
		}
	}
	// Separate sentences: both coded.
	r = code(t, c, "A colonoscopy was performed. Later, a laparoscopic appendectomy was done.")
	if got := codesOf(r.Codes); !slices.Equal(got, []string{"0DJD8ZZ", "0DTJ4ZZ"}) {
		t.Errorf("codes = %v, want [0DJD8ZZ 0DTJ4ZZ]", got)
	}
}

// One code mentioned twice is reported once with both mentions.
func TestMergeMentions(t *testing.T) {
	c := testCoder(t)
	text := "Chest X-ray on admission was clear. A repeat chest X-ray showed a small effusion."
	r := code(t, c, text)
	if len(r.Codes) != 1 || r.Codes[0].Code != "BW03ZZZ" {
		t.Fatalf("codes = %v, want [BW03ZZZ]", codesOf(r.Codes))
	}
	n := 0
	for _, e := range r.Codes[0].Evidence {
		if strings.EqualFold(e.Text, "X-ray") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("evidence %+v, want both X-ray mentions", r.Codes[0].Evidence)
	}
}

// Notes without procedures, empty notes, headers only and other
// languages give nothing and no error.
func TestRobust(t *testing.T) {
	c := testCoder(t)
	for _, text := range []string{
		"",
		"HISTORY OF PRESENT ILLNESS:\nMEDICATIONS:\nALLERGIES:\n",
		"The patient has type 2 diabetes mellitus and hypertension.",
		"Der Patient klagt über Bauchschmerzen seit drei Tagen.",
		strings.Repeat("Laparoscopic appendectomy was performed. ", 20000),
	} {
		r := code(t, c, text)
		if strings.Contains(text, "appendectomy") {
			if got := codesOf(r.Codes); !slices.Equal(got, []string{"0DTJ4ZZ"}) {
				t.Errorf("long note: codes = %v", got)
			}
			continue
		}
		if len(r.Codes)+len(r.Queries) != 0 {
			t.Errorf("%.40q: codes %v queries %+v, want none", text, codesOf(r.Codes), r.Queries)
		}
	}
}

func TestNewNeedsTables(t *testing.T) {
	if _, err := New(&codesys.Release{System: codesys.ICD10PCS}, Options{}); err == nil {
		t.Error("New accepted a release without tables")
	}
}

// Without the Index, the term table still codes what it names by code.
func TestWithoutIndex(t *testing.T) {
	r := release(t)
	c, err := New(&codesys.Release{System: codesys.ICD10PCS, Version: r.Version, PCS: r.PCS}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := code(t, c, "An electrocardiogram showed atrial fibrillation.")
	if cs := codesOf(got.Codes); !slices.Equal(cs, []string{"4A02X4Z"}) {
		t.Errorf("codes = %v, want [4A02X4Z]", cs)
	}
}

func TestParseTermsErrors(t *testing.T) {
	for _, bad := range []string{
		"nonsense\tx\ty",
		"proc\tct",
		"proc\t|\tX",
		"proc\tct\tBW2\tweird",
		"default\tUltrasonography\tContrast",
	} {
		if _, err := parseTerms(bad); err == nil {
			t.Errorf("parseTerms(%q) accepted bad input", bad)
		}
	}
}

func TestContextCanceled(t *testing.T) {
	c := testCoder(t)
	n, _ := note.NewParser().Parse("Laparoscopic appendectomy was performed.")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Code(ctx, n, nil); err == nil {
		t.Error("Code ignored a canceled context")
	}
}
