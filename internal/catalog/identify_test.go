package catalog

import (
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
)

func TestIdentifySharedFiles(t *testing.T) {
	tests := []struct {
		rel     string
		sys     codesys.System
		part    codesys.Part
		version string
	}{
		{cmTabular2021, codesys.ICD10CM, codesys.PartTabular, "2021"},
		{cmOrder2021, codesys.ICD10CM, codesys.PartOrder, ""},
		{cmDrug2025, codesys.ICD10CM, codesys.PartDrug, "2025"},
		{cmEindex2025, codesys.ICD10CM, codesys.PartExternal, "2025"},
		{cmNeo2025, codesys.ICD10CM, codesys.PartNeoplasm, "2025"},
		{cmDrug2026, codesys.ICD10CM, codesys.PartDrug, "2026"},
		{cmEindex2026, codesys.ICD10CM, codesys.PartExternal, "2026"},
		{cmNeo2026, codesys.ICD10CM, codesys.PartNeoplasm, "2026"},
		{cmXSD2026, "", "", ""},
		{pcsTables2025, codesys.ICD10PCS, codesys.PartPCSTables, "2025"},
		{pcsIndex2025, codesys.ICD10PCS, codesys.PartPCSIndex, "2025"},
		{pcsDefs2025, codesys.ICD10PCS, codesys.PartPCSDefinitions, "2025"},
		{pcsTables2026, codesys.ICD10PCS, codesys.PartPCSTables, "2026"},
		{pcsDefs2026, codesys.ICD10PCS, codesys.PartPCSDefinitions, "2026"},
	}
	for _, tt := range tests {
		t.Run(plainName(tt.rel), func(t *testing.T) {
			b := gunzipShared(t, tt.rel)
			if len(b) > peekSize {
				b = b[:peekSize]
			}
			id := identify(b)
			if id.sys != tt.sys || id.part != tt.part || id.version != tt.version {
				t.Errorf("identify = %s/%s version %q (%s), want %s/%s version %q", id.sys, id.part, id.version, id.what, tt.sys, tt.part, tt.version)
			}
		})
	}
}

// The main Alphabetic Index is not among the shared files; these headers
// follow the publisher's layout (icd10cm_index_YYYY.xml).
func TestIdentifySnippets(t *testing.T) {
	tests := []struct {
		name string
		head string
		sys  codesys.System
		part codesys.Part
	}{
		{"main index", "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ICD10CM.index>\n  <version>2026</version>\n  <title>ICD-10-CM INDEX TO DISEASES and INJURIES</title>\n  <letter><title>A</title>",
			codesys.ICD10CM, codesys.PartIndex},
		{"main index with BOM", "\xef\xbb\xbf<ICD10CM.index><version>2026</version><title>Index</title><letter>",
			codesys.ICD10CM, codesys.PartIndex},
		{"external cause, lower case", "<ICD10CM.index><version>2026</version><title>External Cause of Injuries Index</title><letter>",
			codesys.ICD10CM, codesys.PartExternal},
		{"drug table headed Drug", "<ICD10CM.index><version>2026</version><indexHeading><head col=\"1\">Drug</head>",
			codesys.ICD10CM, codesys.PartDrug},
		{"PCS order file", "00001 001     0 Central Nervous System and Cranial Nerves, Bypass                  Central Nervous System and Cranial Nerves, Bypass\r\n00002 0016070 1 Bypass Cereb Vent to Nasophar with Autol Sub, Open Approach     Bypass Cerebral Ventricle to Nasopharynx with Autologous Tissue Substitute, Open Approach\r\n",
			codesys.ICD10PCS, ""},
		{"CM codes file", "A000    Cholera due to Vibrio cholerae 01, biovar cholerae\nA001    Cholera due to Vibrio cholerae 01, biovar eltor\n", "", ""},
		{"PDF", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "", ""},
		{"empty", "", "", ""},
		{"schema", "<?xml version=\"1.0\"?><xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><xs:element name=\"ICD10CM.index\">", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := identify([]byte(tt.head))
			if id.sys != tt.sys || id.part != tt.part {
				t.Errorf("identify = %q/%q (%s), want %q/%q", id.sys, id.part, id.what, tt.sys, tt.part)
			}
		})
	}
}

func FuzzIdentify(f *testing.F) {
	f.Add([]byte("<ICD10CM.index><version>2026</version><indexHeading><head col=\"1\">Neoplasm</head>"))
	f.Add([]byte("<ICD10CM.tabular><version>2021</version><introduction>"))
	f.Add([]byte("00001 A00     0 Cholera                                                      Cholera\r\n"))
	f.Add([]byte("<ICD10PCS.tabular><version>2026</version><title>2026 ICD-10-PCS Tables</title><pcsTable>"))
	f.Add([]byte("<<<>"))
	f.Fuzz(func(t *testing.T, head []byte) {
		id := identify(head)
		if id.part != "" {
			if id.sys == "" {
				t.Fatalf("part %s without a system", id.part)
			}
			found := false
			for _, p := range codesys.PartsOf(id.sys) {
				found = found || p == id.part
			}
			if !found {
				t.Fatalf("part %s is not a part of %s", id.part, id.sys)
			}
		}
		if id.part == "" && id.what == "" {
			t.Fatal("an ignored file has no description")
		}
	})
}
