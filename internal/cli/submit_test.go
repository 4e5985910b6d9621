package cli

import (
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/coding"
)

// FuzzReadJSONLNotes: a JSON Lines submission either fails or gives notes
// each with text to code, no NUL, and a setting.
func FuzzReadJSONLNotes(f *testing.F) {
	f.Add("{\"text\": \"Essential hypertension.\"}\n\n{\"text\": \"Pneumonia.\", \"setting\": \"outpatient\", \"externalId\": \"v1\"}\n")
	f.Add("{\"text\": \"  \"}\n")
	f.Add("{\"text\": \"a\", \"extra\": 1}\n")
	f.Add("{\"text\": \"a\\u0000b\"}\n")
	f.Add("{\"text\": \"a\", \"setting\": \"emergency\"}")
	f.Add("not json\n")
	f.Fuzz(func(t *testing.T, in string) {
		docs, err := readJSONLNotes(strings.NewReader(in), coding.Inpatient)
		if err != nil {
			return
		}
		for i, d := range docs {
			if strings.TrimSpace(d.Text) == "" || strings.IndexByte(d.Text, 0) >= 0 {
				t.Errorf("note %d: text %q accepted", i, d.Text)
			}
			if d.Setting != coding.Inpatient && d.Setting != coding.Outpatient {
				t.Errorf("note %d: setting %q", i, d.Setting)
			}
		}
	})
}
