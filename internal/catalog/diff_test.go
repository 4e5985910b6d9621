package catalog

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
)

func axis(pos int, title string, vals ...string) codesys.PCSAxis {
	ax := codesys.PCSAxis{Pos: pos, Title: title}
	for _, v := range vals {
		ax.Values = append(ax.Values, codesys.PCSValue{Code: v[0], Label: v[2:]})
	}
	return ax
}

// pcsFixture builds one ICD-10-PCS table, 001 (Medical and Surgical,
// Central Nervous System, Bypass), with one row.
func pcsFixture(version string, bodyPart string, approaches []string, qualifiers ...string) *codesys.Release {
	return &codesys.Release{System: codesys.ICD10PCS, Version: version, PCS: &codesys.PCSTables{
		Version: version,
		Tables: []*codesys.PCSTable{{
			Axes: [3]codesys.PCSAxis{
				axis(1, "Section", "0 Medical and Surgical"),
				axis(2, "Body System", "0 Central Nervous System and Cranial Nerves"),
				axis(3, "Operation", "1 Bypass"),
			},
			Rows: []codesys.PCSRow{{Axes: [4]codesys.PCSAxis{
				axis(4, "Body Part", bodyPart),
				axis(5, "Approach", approaches...),
				axis(6, "Device", "Z No Device"),
				axis(7, "Qualifier", qualifiers...),
			}}},
		}},
	}}
}

func order(version string, lines ...string) *codesys.Release {
	o := &codesys.Order{}
	for i, l := range lines {
		f := strings.SplitN(l, " ", 3)
		o.Entries = append(o.Entries, codesys.OrderEntry{Seq: i + 1, Code: f[0], Billable: f[1] == "1", Short: f[2], Long: f[2]})
	}
	return &codesys.Release{System: codesys.ICD10CM, Version: version, Order: o}
}

func TestDiffFixtures(t *testing.T) {
	tests := []struct {
		name     string
		a, b     *codesys.Release
		added    []string
		deleted  []string
		retitled []string
	}{
		{
			name: "PCS approach added, qualifier retitled",
			a:    pcsFixture("2025", "6 Cerebral Ventricle", []string{"0 Open", "3 Percutaneous"}, "B Cerebral Cisterns"),
			b:    pcsFixture("2026", "6 Cerebral Ventricle", []string{"0 Open", "3 Percutaneous", "4 Percutaneous Endoscopic"}, "B Subarachnoid Space"),
			// 0 0 1 6 {0,3,4} Z B
			added:    []string{"00164ZB"},
			retitled: []string{"00160ZB", "00163ZB"},
		},
		{
			name:    "PCS body part replaced",
			a:       pcsFixture("2025", "6 Cerebral Ventricle", []string{"0 Open"}, "B Cerebral Cisterns"),
			b:       pcsFixture("2026", "U Spinal Canal", []string{"0 Open"}, "B Cerebral Cisterns"),
			added:   []string{"001U0ZB"},
			deleted: []string{"00160ZB"},
		},
		{
			name: "CM order file: headers are not codes",
			a: order("2025", "A00 0 Cholera", "A00.0 1 Cholera due to Vibrio cholerae 01, biovar cholerae",
				"A00.1 1 Cholera due to Vibrio cholerae 01, biovar eltor"),
			b: order("2026", "A00 0 Cholera (renamed header)", "A00.0 1 Cholera due to Vibrio cholerae 01, biovar cholerae (new title)",
				"A00.9 1 Cholera, unspecified"),
			added:    []string{"A00.9"},
			deleted:  []string{"A00.1"},
			retitled: []string{"A00.0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Diff(tt.a, tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if got := codesOf(c.Added); !slices.Equal(got, tt.added) {
				t.Errorf("added %v, want %v", got, tt.added)
			}
			if got := codesOf(c.Deleted); !slices.Equal(got, tt.deleted) {
				t.Errorf("deleted %v, want %v", got, tt.deleted)
			}
			var re []string
			for _, r := range c.Retitled {
				re = append(re, r.Code)
			}
			if !slices.Equal(re, tt.retitled) {
				t.Errorf("retitled %v, want %v", re, tt.retitled)
			}
			if c.Empty() {
				t.Error("Empty() is true for a diff with changes")
			}
			same, err := Diff(tt.a, tt.a)
			if err != nil || !same.Empty() {
				t.Errorf("diff of a release with itself: %+v, %v; want no changes", same, err)
			}
		})
	}
	if _, err := Diff(order("2025"), pcsFixture("2025", "6 x", []string{"0 Open"}, "B x")); err == nil {
		t.Error("diff across systems succeeded")
	}
}

func codesOf(cts []CodeTitle) []string {
	var s []string
	for _, c := range cts {
		s = append(s, c.Code)
	}
	return s
}

// rowCodes sums the codes="N" attributes of the pcsRow elements of a PCS
// Tables file: the number of codes the publisher says the tables build.
var rowCodes = regexp.MustCompile(`<pcsRow codes="(\d+)"`)

func pcsCodeCount(t *testing.T, rel string) int {
	n := 0
	for _, m := range rowCodes.FindAllSubmatch(gunzipShared(t, rel), -1) {
		k, _ := strconv.Atoi(string(m[1]))
		n += k
	}
	return n
}

func TestDiffPCSReleases(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, rel := range []string{pcsTables2025, pcsTables2026} {
		if _, err := Import(ctx, dir, "icd10pcs", []string{linkShared(t, rel)}, ImportOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	a, err := Open(ctx, dir, "icd10pcs", "2025")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, dir, "icd10pcs", "2026")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Diff(a, b)
	if err != nil {
		t.Fatal(err)
	}
	na, nb := pcsCodeCount(t, pcsTables2025), pcsCodeCount(t, pcsTables2026)
	if len(pcsCodes(a.PCS)) != na || len(pcsCodes(b.PCS)) != nb {
		t.Errorf("codes built: %d and %d, the files' pcsRow counts say %d and %d", len(pcsCodes(a.PCS)), len(pcsCodes(b.PCS)), na, nb)
	}
	if got := len(c.Added) - len(c.Deleted); got != nb-na {
		t.Errorf("added %d - deleted %d = %d, want the change in code count %d", len(c.Added), len(c.Deleted), got, nb-na)
	}
	if len(c.Added) == 0 {
		t.Error("no codes added from FY2025 to FY2026")
	}
	for _, ct := range slices.Concat(c.Added, c.Deleted) {
		if len(ct.Code) != 7 || ct.Title == "" {
			t.Errorf("bad entry %+v", ct)
		}
	}
	t.Logf("ICD-10-PCS 2025 -> 2026: %d codes -> %d; %d added, %d deleted, %d retitled", na, nb, len(c.Added), len(c.Deleted), len(c.Retitled))
}

// mainTermCount counts the <mainTerm> elements of an index file.
func mainTermCount(t *testing.T, rel string) int {
	return bytes.Count(gunzipShared(t, rel), []byte("<mainTerm>"))
}

func TestDiffIndexTables(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, src := range [][]string{{cmDrug2025, cmNeo2025}, {cmDrug2026, cmNeo2026}} {
		if _, err := Import(ctx, dir, "icd10cm", []string{linkShared(t, src...)}, ImportOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	a, err := Open(ctx, dir, "icd10cm", "2025")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(ctx, dir, "icd10cm", "2026")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Diff(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Basis) != 0 || len(c.Added)+len(c.Deleted)+len(c.Retitled) != 0 {
		t.Errorf("releases without code lists: basis %v, %d code changes", c.Basis, len(c.Added)+len(c.Deleted)+len(c.Retitled))
	}
	var parts []codesys.Part
	for _, ix := range c.Indexes {
		parts = append(parts, ix.Part)
		if ix.Part != codesys.PartDrug {
			continue
		}
		// Main terms are the paths without a subterm separator.
		top := func(ts []string) int {
			n := 0
			for _, s := range ts {
				if !strings.Contains(s, " > ") {
					n++
				}
			}
			return n
		}
		want := mainTermCount(t, cmDrug2026) - mainTermCount(t, cmDrug2025)
		if got := top(ix.Added) - top(ix.Removed); got != want {
			t.Errorf("drug table: %d main terms added, %d removed; net %d, want %d", top(ix.Added), top(ix.Removed), got, want)
		}
		t.Logf("drug table 2025 -> 2026: %d terms added, %d removed", len(ix.Added), len(ix.Removed))
	}
	if want := []codesys.Part{codesys.PartNeoplasm, codesys.PartDrug}; !slices.Equal(parts, want) {
		t.Errorf("index diffs for %v, want %v", parts, want)
	}
}
