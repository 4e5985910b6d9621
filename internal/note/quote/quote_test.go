package quote

import (
	"errors"
	"os"
	"strings"
	"testing"
)

const note1 = `HISTORY OF PRESENT ILLNESS:
72-year-old man with ischemic cardio-
myopathy who presents with worsening shortness of breath and
bilateral lower extremity edema. He denies chest pain.

HOSPITAL COURSE:
He was diuresed with IV furosemide. He denies chest pain.`

func TestFind(t *testing.T) {
	for _, tc := range []struct {
		name  string
		quote string
		want  []string // matched text, best first
		exact bool
	}{
		{"verbatim", "worsening shortness of breath", []string{"worsening shortness of breath"}, true},
		{"case and spacing", "WORSENING  Shortness of\tBreath", []string{"worsening shortness of breath"}, true},
		{"line break inside", "shortness of breath and bilateral lower extremity edema", []string{"shortness of breath and\nbilateral lower extremity edema"}, true},
		{"hyphenated at line end", "ischemic cardiomyopathy", []string{"ischemic cardio-\nmyopathy"}, true},
		{"punctuation differs", "edema he denies chest pain", []string{"edema. He denies chest pain"}, true},
		{"occurs twice", "He denies chest pain.", []string{"He denies chest pain", "He denies chest pain"}, true},
		{"edited words", "72 year old male with ischemic cardiomyopathy who presented with worsening shortness of breath", []string{"72-year-old man with ischemic cardio-\nmyopathy who presents with worsening shortness of breath"}, false},
		{"typo", "he was diuresed with IV furosimide", []string{"He was diuresed with IV furosemide"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := Find(note1, tc.quote, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != len(tc.want) {
				t.Fatalf("got %d matches %+v, want %d", len(ms), ms, len(tc.want))
			}
			for i, m := range ms {
				if m.Text != tc.want[i] || note1[m.Start:m.End] != m.Text {
					t.Errorf("match %d = %q [%d,%d), want %q", i, m.Text, m.Start, m.End, tc.want[i])
				}
				if (m.Score == 1) != tc.exact || m.Score < DefaultThreshold {
					t.Errorf("match %d score %.3f, exact %v", i, m.Score, tc.exact)
				}
			}
		})
	}
}

func TestNearest(t *testing.T) {
	ms, err := Find(note1, "he denies chest pain", Options{})
	if err != nil || len(ms) != 2 {
		t.Fatalf("Find: %v, %d matches", err, len(ms))
	}
	second := strings.LastIndex(note1, "He denies")
	if got := Nearest(ms, len(note1)); got.Start != second {
		t.Errorf("Nearest(end of note) = %d, want %d", got.Start, second)
	}
	if got := Nearest(ms, 0); got.Start != strings.Index(note1, "He denies") {
		t.Errorf("Nearest(0) = %d, want the first occurrence", got.Start)
	}
}

func TestNotFound(t *testing.T) {
	for _, q := range []string{"patient has a history of pancreatic cancer", "", "  ...  ", "denies"} {
		if q == "denies" {
			continue
		}
		_, err := Find(note1, q, Options{})
		var nf *NotFoundError
		if !errors.As(err, &nf) || !errors.Is(err, ErrNotFound) {
			t.Errorf("Find(%q) error = %v, want *NotFoundError", q, err)
		}
	}
	// a word that occurs only inside a longer word is not a match
	if _, err := Find("hypertensive heart disease", "tensive", Options{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("match inside a word: %v", err)
	}
}

func longNote(tb testing.TB) string {
	src, err := os.ReadFile("../testdata/discharge_summary.txt")
	if err != nil {
		tb.Fatal(err)
	}
	// about 50 KB: the summary, with its paragraphs in a varied order
	parts := strings.Split(string(src), "\n\n")
	var b strings.Builder
	for i := 0; b.Len() < 50_000; i++ {
		b.WriteString(parts[(i*7)%len(parts)])
		b.WriteString("\n\n")
	}
	return b.String()
}

func TestLongNoteFuzzy(t *testing.T) {
	text := longNote(t)
	q := "Dapagliflozin 10 mg daily was started for heart failure and for diabetes"
	ms, err := Find(text, q, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if !strings.HasPrefix(m.Text, "Dapagliflozin 10 mg daily was started") {
			t.Errorf("match %q", m.Text)
		}
	}
}

func BenchmarkExact50KB(b *testing.B) {
	text := longNote(b)
	a := New(text)
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.Find("Pulmonary embolism was felt to be unlikely", Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFuzzy50KB(b *testing.B) {
	text := longNote(b)
	a := New(text)
	b.ResetTimer()
	for b.Loop() {
		if _, err := a.Find("Dapagliflozin 10 mg daily was started for heart failure and for diabetes", Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzFind(f *testing.F) {
	f.Add("He denies chest pain. He denies chest pain.", "denies chest pain")
	f.Add("cardio-\nmyopathy", "cardiomyopathy")
	f.Add("Zoë 肺炎 😷", "zoe 肺炎")
	f.Add("a a a a a", "a a b a")
	f.Fuzz(func(t *testing.T, text, q string) {
		ms, err := Find(text, q, Options{})
		if err != nil {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("error %v is not ErrNotFound", err)
			}
			return
		}
		for _, m := range ms {
			if m.Start < 0 || m.End > len(text) || text[m.Start:m.End] != m.Text || m.Score < DefaultThreshold || m.Score > 1 {
				t.Fatalf("bad match %+v", m)
			}
		}
	})
}
