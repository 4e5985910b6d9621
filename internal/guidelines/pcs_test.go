package guidelines

import (
	"slices"
	"strings"
	"testing"
)

func TestParsePCS(t *testing.T) {
	d, err := Import("testdata/pcs-outline.txt", "2025")
	if err != nil {
		t.Fatal(err)
	}
	if d.System != SystemPCS {
		t.Errorf("System = %q, want %q", d.System, SystemPCS)
	}
	// Numbers and titles written by hand from the fixture's headings.
	want := []struct{ id, title, textHas string }{
		{"A1", "Conventions", "seven characters, each an axis of the classification."},
		{"A2", "Conventions", "other than O and I."},
		{"B2", "Body System", ""},
		{"B2.1a", "Body System: General guidelines", "rather than a specific body part."},
		{"B3", "Root Operation", ""},
		{"B3.1a", "Root Operation: General guidelines", "full definition"},
		{"B3.1b", "Root Operation: General guidelines", "B3.2. is the rule"},
		{"B3.2", "Root Operation: Multiple procedures", "b. Different root operations"},
		{"B3.3", "Root Operation: Discontinued procedures", "up to that point."},
		{"B4", "Body Part", ""},
		{"B4.1a", "Body Part", "coded to the branch."},
		{"C", "Obstetrics Section", ""},
		{"C1", "Products of Conception", "obstetrics section."},
		{"D", "Radiation Therapy Section", ""},
		{"D1.a", "Radiation Therapy Section", "dose rate."},
		{"D1.b", "Radiation Therapy Section", "not coded separately."},
	}
	var wantIDs []string
	for _, w := range want {
		wantIDs = append(wantIDs, w.id)
	}
	if got := ids(d); !slices.Equal(got, wantIDs) {
		t.Fatalf("sections = %v, want %v", got, wantIDs)
	}
	for _, w := range want {
		s := d.Section(w.id)
		if s.Title != w.title {
			t.Errorf("%s title = %q, want %q", w.id, s.Title, w.title)
		}
		if !strings.Contains(s.Text, w.textHas) {
			t.Errorf("%s text = %q, want it to contain %q", w.id, s.Text, w.textHas)
		}
		if strings.Contains(s.Text, "Page 2") || strings.Contains(s.Text, "Discontinued procedures") {
			t.Errorf("%s kept a footer or a subheading: %q", w.id, s.Text)
		}
	}
	if hits := d.Search("several procedures in one operative episode", 1); len(hits) == 0 || hits[0].ID != "B3.2" {
		t.Errorf("Search for multiple procedures = %v, want B3.2 first", hits)
	}
}

func TestPCSHeading(t *testing.T) {
	tests := []struct {
		line, id string
		ok       bool
	}{
		{"A1. A procedure code", "A1", true},
		{"B3.1a. Apply the definition", "B3.1a", true},
		{"B3.2. Several procedures", "B3.2", true},
		{"D1.a. Brachytherapy", "D1.a", true},
		{"B. Medical and Surgical", "B", true},
		{"C1 esterase inhibitor deficiency", "", false},
		{"G1. Not a part of the guidelines", "", false},
		{"Bypass", "", false},
	}
	for _, tt := range tests {
		k, _, ok := pcsHeading(tt.line)
		if ok != tt.ok || (ok && k.id != tt.id) {
			t.Errorf("pcsHeading(%q) = %q, %v; want %q, %v", tt.line, k.id, ok, tt.id, tt.ok)
		}
	}
}

func FuzzParsePCS(f *testing.F) {
	f.Add("Conventions\nA1. x\nB3.1a. y\nB3. z\nD1.a. w\n")
	f.Add("A1. a\nGroup\nA2. b\n")
	f.Fuzz(func(t *testing.T, s string) {
		secs := parsePCS(strings.Split(s, "\n"))
		for i, sec := range secs {
			if sec.ID == "" {
				t.Fatalf("section %d with empty ID in %q", i, s)
			}
		}
	})
}

func TestInstallPCSBesideCM(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{"testdata/outline.txt", "testdata/pcs-outline.txt"} {
		d, err := Import(path, "2025")
		if err != nil {
			t.Fatal(err)
		}
		if err := Install(dir, d); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		system, id string
	}{
		{SystemCM, "I.C.9.a.2"},
		{SystemPCS, "B3.1a"},
	}
	for _, tt := range tests {
		d, err := LoadSystem(dir, tt.system, "")
		if err != nil {
			t.Fatal(err)
		}
		if d.System != tt.system || d.Year != "2025" || d.Section(tt.id) == nil {
			t.Errorf("LoadSystem(%s) = %s %s with %d sections, want %s 2025 holding %s", tt.system, d.System, d.Year, len(d.Sections), tt.system, tt.id)
		}
		ys, err := SystemYears(dir, tt.system)
		if err != nil || !slices.Equal(ys, []string{"2025"}) {
			t.Errorf("SystemYears(%s) = %v, %v; want [2025]", tt.system, ys, err)
		}
	}
	if _, err := LoadSystem(dir, "icd9", ""); err == nil {
		t.Error("LoadSystem of an unknown system: want an error")
	}
}
