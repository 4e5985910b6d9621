package codesys

import (
	"bytes"
	"testing"

	"github.com/medcode-dev/medcode/internal/shareddata"
)

// benchCodes mixes the shapes Validate meets: plain codes, headers, 7th
// characters with and without placeholder X, and invalid codes.
var benchCodes = []string{"E11.9", "e1136", "S52.521A", "T36.0X1A", "S06.1X7D", "E11.3", "E11.99", "I10", "Z99.89", "M80.011A"}

func BenchmarkValidate(b *testing.B) {
	tab, _ := loadFY2021(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tab.Validate(benchCodes[i%len(benchCodes)])
	}
}

func BenchmarkLookup(b *testing.B) {
	tab, order := loadFY2021(b)
	rel := &Release{System: ICD10CM, Tabular: tab, Order: order}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := rel.Lookup(benchCodes[i%len(benchCodes)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadTabular(b *testing.B) {
	data := shareddata.ReadGz(b, "icd10cm/fy2021-jan2021/icd10cm_tabular_2021.xml.gz")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ReadTabular(bytes.NewReader(data), "tabular"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkComposeTabular composes the FY2025 Tabular List from its order
// file and the FY2021 notes, as opening FY2025 does.
func BenchmarkComposeTabular(b *testing.B) {
	notes, _ := loadFY2021(b)
	order := loadFY2025Order(b)
	b.ReportAllocs()
	for b.Loop() {
		ComposeTabular(order, notes, "icd10cm-2021")
	}
}
