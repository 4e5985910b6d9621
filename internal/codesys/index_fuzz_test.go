package codesys

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReadIndex feeds arbitrary input to ReadIndex: it must never panic,
// must return either an index or an error, and what it returns must be
// safe to navigate.
func FuzzReadIndex(f *testing.F) {
	const head = `<?xml version="1.0" encoding="utf-8"?>` + "\n"
	seeds := []string{
		"",
		"not xml at all",
		head + "<ICD10CM.tabular/>",
		head + "<ICD10CM.index><version>2026</version><letter><title>A</title>" +
			"<mainTerm><title>Abandonment<nemod>(exposure)</nemod> NEC</title><code>X58</code>" +
			`<term level="1"><title>aircraft</title><seeAlso>Accident, transport, aircraft</seeAlso></term>` +
			"</mainTerm></letter></ICD10CM.index>",
		head + `<ICD10CM.index><indexHeading><head col="1">Neoplasm</head><head col="2">Malignant Primary</head></indexHeading>` +
			`<letter><title>N</title><mainTerm><title>Neoplasm, neoplastic</title><cell col="2">C80.1</cell>` +
			`<term level="1"><title>lung</title><cell col="2"><diff><old>C34.9</old><new>C34.9-</new></diff></cell></term>` +
			`</mainTerm></letter></ICD10CM.index>`,
		head + "<ICD10PCS.index><version>2025</version><title>Index</title><letter><title>A</title>" +
			"<mainTerm><title>Abdominohysterectomy</title><see>Resection, Uterus<codes>0UT9</codes></see></mainTerm>" +
			`<mainTerm><title>Acetabulectomy</title><term level="1"><see>Excision, Lower Bones<tab>0QB</tab></see></term></mainTerm>` +
			"<mainTerm><title>Activa</title><use>Stimulator Generator<tab>0JH</tab></use></mainTerm>" +
			"</letter></ICD10PCS.index>",
		head + `<ICD10CM.index><letter><mainTerm><title>A</title><term level="3"/></mainTerm></letter></ICD10CM.index>`,
		head + `<ICD10CM.index><letter><mainTerm><title>A</title><cell col="0">x</cell></mainTerm></letter></ICD10CM.index>`,
		head + `<ICD10CM.index><letter><mainTerm><title>A</code></mainTerm></letter></ICD10CM.index>`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "index", "*.xml"))
	for _, p := range fixtures {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ix, err := ReadIndex(strings.NewReader(string(data)), "fuzz.xml")
		if err != nil {
			if ix != nil {
				t.Fatalf("index and error %v both returned", err)
			}
			if !strings.HasPrefix(err.Error(), "read index fuzz.xml: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if ix == nil {
			t.Fatal("nil index without error")
		}
		for path := range ix.All() {
			term := path[len(path)-1]
			if term.Level != len(path)-1 {
				t.Fatalf("%s: level %d at depth %d", PathString(path), term.Level, len(path)-1)
			}
			_ = term.Text()
			for _, ref := range []string{term.See, term.SeeAlso, term.Title} {
				if p, _, err := ix.Resolve(ref); err != nil && (p != nil || !errors.Is(err, ErrNoTerm)) {
					t.Fatalf("Resolve(%q) = %v, %v", ref, p, err)
				}
			}
		}
		for _, c := range append(NeoplasmColumns(), DrugColumns()...) {
			_, _, _ = ix.Cell(c, "lung")
		}
	})
}
