package note

import (
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

func TestNewTextRejects(t *testing.T) {
	for _, tc := range []struct {
		in     string
		offset int
	}{
		{"abc\x00def", 3},
		{"fever \xff\xfe", 6},
		{"caf\xc3", 3},               // truncated é
		{"\uFEFFok \xed\xa0\x80", 6}, // UTF-8-encoded surrogate, after a BOM
		{"\x00", 0},
	} {
		_, err := NewText(tc.in)
		var ite *InvalidTextError
		if !errors.As(err, &ite) || !errors.Is(err, ErrInvalidText) {
			t.Errorf("NewText(%q) error = %v, want *InvalidTextError", tc.in, err)
			continue
		}
		if ite.Offset != tc.offset {
			t.Errorf("NewText(%q) offset = %d, want %d", tc.in, ite.Offset, tc.offset)
		}
		if !strings.Contains(err.Error(), "byte offset") {
			t.Errorf("error %q does not name the byte offset", err)
		}
	}
}

func TestBOMAndLineEndings(t *testing.T) {
	src := "\uFEFFCHIEF COMPLAINT:\r\nChest pain.\r\n"
	n, err := NewParser().Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if n.Text.Start() != 3 || n.Text.String() != src {
		t.Fatalf("Start = %d, text kept = %v; want the BOM skipped, not removed", n.Text.Start(), n.Text.String() == src)
	}
	if got := n.Sections[0].Header; got.Start != 3 || got.Text != "CHIEF COMPLAINT" {
		t.Errorf("header = %+v, want CHIEF COMPLAINT at byte 3", got)
	}
	if r, _ := n.Text.RuneOffset(3); r != 0 {
		t.Errorf("rune offset of the first character after the BOM = %d, want 0", r)
	}
	if len(n.Sentences) != 1 || n.Sentences[0].Text != "Chest pain." {
		t.Errorf("sentences = %+v, want one: Chest pain.", n.Sentences)
	}
}

func TestOffsetConversion(t *testing.T) {
	// é precomposed (2 bytes), e + combining acute (3 bytes, 2 runes),
	// CJK (3 bytes each), emoji outside the BMP (4 bytes, 2 UTF-16 units).
	src := "Zoë José e\u0301 肺炎 😷 ok"
	tx, err := NewText(src)
	if err != nil {
		t.Fatal(err)
	}
	for b := range len(src) + 1 {
		if b < len(src) && !utf8.RuneStart(src[b]) {
			if _, err := tx.RuneOffset(b); err == nil {
				t.Errorf("RuneOffset(%d) inside a character: no error", b)
			}
			continue
		}
		wantR := utf8.RuneCountInString(src[:b])
		wantU := len(utf16.Encode([]rune(src[:b])))
		r, err := tx.RuneOffset(b)
		if err != nil || r != wantR {
			t.Errorf("RuneOffset(%d) = %d, %v; want %d", b, r, err, wantR)
		}
		u, err := tx.UTF16Offset(b)
		if err != nil || u != wantU {
			t.Errorf("UTF16Offset(%d) = %d, %v; want %d", b, u, err, wantU)
		}
		if back, err := tx.ByteOffsetOfRune(wantR); err != nil || back != b {
			t.Errorf("ByteOffsetOfRune(%d) = %d, %v; want %d", wantR, back, err, b)
		}
		if back, err := tx.ByteOffsetOfUTF16(wantU); err != nil || back != b {
			t.Errorf("ByteOffsetOfUTF16(%d) = %d, %v; want %d", wantU, back, err, b)
		}
	}
	// the middle of the emoji's surrogate pair has no byte offset
	mask := strings.Index(src, "😷")
	u, _ := tx.UTF16Offset(mask)
	if _, err := tx.ByteOffsetOfUTF16(u + 1); err == nil {
		t.Error("ByteOffsetOfUTF16 inside a surrogate pair: no error")
	}
	if _, err := tx.ByteOffsetOfRune(utf8.RuneCountInString(src) + 1); err == nil {
		t.Error("ByteOffsetOfRune past the end: no error")
	}
}

func TestOffsetConversionLongText(t *testing.T) {
	// long enough to use many checkpoints
	var b strings.Builder
	for i := range 2000 {
		b.WriteString([]string{"a", "é", "漢", "😷", "e\u0301", "\n"}[i%6])
	}
	src := b.String()
	tx, err := NewText(src)
	if err != nil {
		t.Fatal(err)
	}
	for b := 0; b <= len(src); b += 7 {
		for b < len(src) && !utf8.RuneStart(src[b]) {
			b++
		}
		wantR := utf8.RuneCountInString(src[:b])
		if r, _ := tx.RuneOffset(b); r != wantR {
			t.Fatalf("RuneOffset(%d) = %d, want %d", b, r, wantR)
		}
		wantU := len(utf16.Encode([]rune(src[:b])))
		if u, _ := tx.UTF16Offset(b); u != wantU {
			t.Fatalf("UTF16Offset(%d) = %d, want %d", b, u, wantU)
		}
		if back, _ := tx.ByteOffsetOfUTF16(wantU); back != b {
			t.Fatalf("ByteOffsetOfUTF16(%d) = %d, want %d", wantU, back, b)
		}
	}
}

func TestSections(t *testing.T) {
	p := NewParser()
	for _, tc := range []struct {
		name string
		text string
		want []SectionType
		head []string
	}{
		{"own-line upper case with colon",
			"CHIEF COMPLAINT:\nCough.\n\nHISTORY OF PRESENT ILLNESS:\nThree days of cough.\n",
			[]SectionType{ChiefComplaint, HistoryOfPresentIllness}, []string{"CHIEF COMPLAINT", "HISTORY OF PRESENT ILLNESS"}},
		{"inline headers, title case",
			"Chief Complaint: cough\nPast Medical History: asthma, GERD\nFamily History: mother with breast cancer\nSocial history: never smoker",
			[]SectionType{ChiefComplaint, PastMedicalHistory, FamilyHistory, SocialHistory}, nil},
		{"numbered headers",
			"1. Reason for admission: chest pain\n2. Hospital course: uneventful\n3. Discharge diagnoses: NSTEMI",
			[]SectionType{ChiefComplaint, HospitalCourse, DischargeDiagnoses}, []string{"Reason for admission", "Hospital course", "Discharge diagnoses"}},
		{"upper-case line without colon",
			"HOSPITAL COURSE\nThe patient improved.\nASSESSMENT AND PLAN\nHome.",
			[]SectionType{HospitalCourse, AssessmentAndPlan}, nil},
		{"radiology report",
			"EXAMINATION: CT chest\nINDICATION: cough\nCOMPARISON: none\nFINDINGS: No nodules.\nIMPRESSION: Normal study.",
			[]SectionType{None, Indication, Comparison, Findings, Impression}, nil},
		{"operative report",
			"PREOPERATIVE DIAGNOSIS: Acute appendicitis.\nPOSTOPERATIVE DIAGNOSIS: Same.\nPROCEDURE: Laparoscopic appendectomy.\nANESTHESIA: General.\nESTIMATED BLOOD LOSS: Minimal.",
			[]SectionType{AdmissionDiagnoses, DischargeDiagnoses, Procedures, Anesthesia, ProcedureDescription}, nil},
		{"exam labels stay in the exam",
			"PHYSICAL EXAM:\nVitals: T 37.0\nHEENT: normal\nLungs: clear\nAbdomen: soft",
			[]SectionType{PhysicalExam}, nil},
		{"unknown own-line header stays unknown",
			"ALLERGIES:\nNKDA\nCODE STATUS DISCUSSION:\nFull code.",
			[]SectionType{Allergies, Unknown}, nil},
		{"inline unknown label is not a header",
			"HPI: 60M with cough.\nTSH: 2.1\nDr. Smith: agrees",
			[]SectionType{HistoryOfPresentIllness}, nil},
		{"preamble before the first header",
			"Discharge Summary\nMRN 123\nHPI: fever",
			[]SectionType{None, HistoryOfPresentIllness}, nil},
		{"outpatient letter",
			"Dear Dr. Jones,\nThank you for referring Mrs. Smith.\nMedications:\n- metformin\nAssessment and Plan: diabetes, continue metformin.",
			[]SectionType{None, Medications, AssessmentAndPlan}, nil},
		{"lower-case running text is not a header",
			"HPI: the patient's history: long.\nfamily history: this line is lower case",
			[]SectionType{HistoryOfPresentIllness}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := p.Parse(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			var got []SectionType
			for _, s := range n.Sections {
				got = append(got, s.Type)
			}
			if !slicesEqual(got, tc.want) {
				t.Fatalf("sections = %v, want %v", got, tc.want)
			}
			for i, h := range tc.head {
				if n.Sections[i].Header.Text != h {
					t.Errorf("header %d = %q, want %q", i, n.Sections[i].Header.Text, h)
				}
			}
			checkSpans(t, tc.text, n)
		})
	}
}

func TestSentences(t *testing.T) {
	p := NewParser()
	for _, tc := range []struct {
		name string
		text string
		want []string
	}{
		{"abbreviations",
			"Seen by Dr. Smith vs. Dr. Jones at St. Mary's. Takes aspirin 81 mg p.o. q.d. and metoprolol b.i.d. as well, e.g. with food, i.e. twice daily. Next sentence.",
			[]string{"Seen by Dr. Smith vs. Dr. Jones at St. Mary's.", "Takes aspirin 81 mg p.o. q.d. and metoprolol b.i.d. as well, e.g. with food, i.e. twice daily.", "Next sentence."}},
		{"decimals and vitals",
			"T 38.5, BP 120/80, HR 88. Creatinine 1.2 mg/dL. Sodium 1,350? No.",
			[]string{"T 38.5, BP 120/80, HR 88.", "Creatinine 1.2 mg/dL.", "Sodium 1,350?", "No."}},
		{"numbered list",
			"1. Hypertension.\n2. Diabetes mellitus type 2\n3. CKD stage 3",
			[]string{"1. Hypertension.", "2. Diabetes mellitus type 2", "3. CKD stage 3"}},
		{"bulleted list without punctuation",
			"- lisinopril 10 mg daily\n- metformin 500 mg twice daily\n* atorvastatin 40 mg",
			[]string{"- lisinopril 10 mg daily", "- metformin 500 mg twice daily", "* atorvastatin 40 mg"}},
		{"short lines without punctuation",
			"Alert and oriented\nNo focal deficits\nGait normal",
			[]string{"Alert and oriented", "No focal deficits", "Gait normal"}},
		{"wrapped long lines are one sentence",
			"The lungs are clear to auscultation bilaterally without wheezes or\nrales, and the heart has a regular rate and rhythm.",
			[]string{"The lungs are clear to auscultation bilaterally without wheezes or\nrales, and the heart has a regular rate and rhythm."}},
		{"de-identification placeholders",
			"Patient [**Name (NI) 123**] was seen by Dr. [**Last Name**]. **NAME[AAA] is a **AGE[in 70s]-year-old man. He is well.",
			[]string{"Patient [**Name (NI) 123**] was seen by Dr. [**Last Name**].", "**NAME[AAA] is a **AGE[in 70s]-year-old man.", "He is well."}},
		{"blank line ends a sentence",
			"Fever resolved\n\nCough persists",
			[]string{"Fever resolved", "Cough persists"}},
		{"closing parenthesis after period",
			"He was started on antibiotics (for pneumonia.) He improved!",
			[]string{"He was started on antibiotics (for pneumonia.)", "He improved!"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := p.Parse(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range n.Sentences {
				got = append(got, s.Text)
			}
			if !slicesEqual(got, tc.want) {
				t.Errorf("sentences:\n got %q\nwant %q", got, tc.want)
			}
			checkSpans(t, tc.text, n)
		})
	}
}

func TestTokens(t *testing.T) {
	text := "Crohn’s DISEASE, non‐Hodgkin lymphoma; Müller b.i.d. 38.5 [**Name**] **NAME[AAA] diabetic"
	toks := Tokenize(text, 0, len(text))
	want := []struct {
		text, norm, stem string
		kind             TokenKind
	}{
		{"Crohn’s", "crohn's", "crohn", Word},
		{"DISEASE", "disease", "diseas", Word},
		{",", ",", ",", Punct},
		{"non", "non", "non", Word},
		{"‐", "-", "-", Punct}, // U+2010 hyphen unified to ASCII
		{"Hodgkin", "hodgkin", "hodgkin", Word},
		{"lymphoma", "lymphoma", "lymphoma", Word},
		{";", ";", ";", Punct},
		{"Müller", "muller", "muller", Word},
		{"b.i.d", "b.i.d", "b.i.d", Word},
		{".", ".", ".", Punct},
		{"38.5", "38.5", "38.5", Number},
		{"[**Name**]", "[**name**]", "[**name**]", Placeholder},
		{"**NAME[AAA]", "**name[aaa]", "**name[aaa]", Placeholder},
		{"diabetic", "diabetic", "diabet", Word},
	}
	if len(toks) != len(want) {
		var got []string
		for _, tk := range toks {
			got = append(got, tk.Text)
		}
		t.Fatalf("tokens = %q, want %d tokens", got, len(want))
	}
	for i, w := range want {
		tk := toks[i]
		if tk.Text != w.text || tk.Norm != w.norm || tk.Kind != w.kind {
			t.Errorf("token %d = %q/%q/%v, want %q/%q/%v", i, tk.Text, tk.Norm, tk.Kind, w.text, w.norm, w.kind)
		}
		if w.kind == Word && tk.Stem != w.stem {
			t.Errorf("token %q stem = %q, want %q", tk.Text, tk.Stem, w.stem)
		}
		if text[tk.Start:tk.End] != tk.Text {
			t.Errorf("token %d span does not match its text", i)
		}
	}
}

// TestTokenizerAgrees: a Tokenizer that keeps folded forms and stems from
// one text to the next tokenizes every text as Tokenize does, whatever it
// read before.
func TestTokenizerAgrees(t *testing.T) {
	texts := []string{
		"Crohn’s DISEASE, non‐Hodgkin lymphoma",
		"crohn's disease; Müller b.i.d. 38.5",
		"DISEASE [**Name**] diabetic diabetes",
		"",
		"diabetic Crohn’s",
	}
	tok := NewTokenizer()
	for _, text := range texts {
		got, want := tok.Tokenize(text), Tokenize(text, 0, len(text))
		if !slices.Equal(got, want) {
			t.Errorf("Tokenizer.Tokenize(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestDischargeSummary(t *testing.T) {
	src, err := os.ReadFile("testdata/discharge_summary.txt")
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewParser().Parse(string(src))
	if err != nil {
		t.Fatal(err)
	}
	checkSpans(t, string(src), n)
	types := map[SectionType]bool{}
	for _, s := range n.Sections {
		types[s.Type] = true
	}
	for _, want := range []SectionType{ChiefComplaint, HistoryOfPresentIllness, PastMedicalHistory, PastSurgicalHistory,
		Medications, Allergies, SocialHistory, FamilyHistory, ReviewOfSystems, PhysicalExam, Labs, Imaging,
		HospitalCourse, Procedures, DischargeDiagnoses, DischargeMedications, Disposition, DischargeInstructions, FollowUp} {
		if !types[want] {
			t.Errorf("discharge summary: no %s section", want)
		}
	}
	i := strings.Index(string(src), "Mother had type 2 diabetes")
	if s := n.SectionAt(i); s < 0 || n.Sections[s].Type != FamilyHistory {
		t.Errorf("SectionAt(family history sentence) = %d", s)
	}
	if si := n.SentenceAt(i); si < 0 || !strings.HasPrefix(n.Sentences[si].Text, "Mother had type 2 diabetes and breast cancer") {
		t.Errorf("SentenceAt(family history sentence) = %d", si)
	}
}

// TestSpanInvariant checks text[s.Start:s.End] == s.Text for every span
// Parse produces, on random mixtures of clinical text, headers, list
// markers, placeholders and multi-byte characters.
func TestSpanInvariant(t *testing.T) {
	pieces := []string{"HISTORY OF PRESENT ILLNESS:", "Family History:", "\n", "\r\n", "\n\n", " ", "  ", "1. ", "- ",
		"No fever.", "Dr.", "b.i.d.", "38.5", "BP 120/80", "[**Name**]", "**NAME[AAA]", "café", "肺炎", "😷", "e\u0301",
		"denies chest pain", "?", "!", ":", "(", ")", "\uFEFF", "IMPRESSION", "x", "Ünïcödé", "—", "‐"}
	rng := rand.New(rand.NewPCG(1, 2))
	p := NewParser()
	for range 3000 {
		var b strings.Builder
		if rng.IntN(8) == 0 {
			b.WriteString("\uFEFF")
		}
		for range rng.IntN(40) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		src := b.String()
		n, err := p.Parse(src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		checkSpans(t, src, n)
	}
}

// checkSpans verifies the offset invariant and the ordering guarantees of
// a parsed note.
func checkSpans(t *testing.T, src string, n *Note) {
	t.Helper()
	check := func(what string, s Span) {
		t.Helper()
		if s.Start < 0 || s.End > len(src) || s.Start > s.End || src[s.Start:s.End] != s.Text {
			t.Fatalf("%s span [%d,%d) %q breaks text[Start:End] == Text in %q", what, s.Start, s.End, s.Text, src)
		}
		if _, err := n.Text.RuneOffset(s.Start); err != nil {
			t.Fatalf("%s span start: %v", what, err)
		}
		if _, err := n.Text.UTF16Offset(s.End); err != nil {
			t.Fatalf("%s span end: %v", what, err)
		}
	}
	prevEnd := 0
	for _, s := range n.Sections {
		check("header", s.Header)
		check("body", s.Body)
		if s.Header.Start < prevEnd {
			t.Fatalf("sections overlap in %q", src)
		}
		prevEnd = s.Body.End
	}
	prevEnd = 0
	for _, s := range n.Sentences {
		check("sentence", s.Span)
		if s.Start < prevEnd {
			t.Fatalf("sentences overlap in %q", src)
		}
		prevEnd = s.End
		if !n.Sections[s.Section].Body.Contains(s.Span) {
			t.Fatalf("sentence %q is not inside its section body", s.Text)
		}
	}
	for _, tk := range n.Tokens {
		check("token", tk.Span)
	}
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
