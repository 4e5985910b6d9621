package pcs

import (
	"context"
	"testing"

	"github.com/medcode-dev/medcode/internal/note"
)

// FuzzCode codes arbitrary text: no panic, every evidence span and every
// query's partial code consistent with the note and the tables.
func FuzzCode(f *testing.F) {
	for _, s := range []string{
		"Laparoscopic appendectomy was performed.",
		"CT of the abdomen without contrast. Chest x-ray: clear.",
		"No colonoscopy. Biopsy of the left breast; open reduction internal fixation of the right radius.",
		"PAST SURGICAL HISTORY:\n- cholecystectomy\n- cesarean section",
		"x-ray/ct -- mri ()", "",
	} {
		f.Add(s)
	}
	c := testCoder(f)
	p := note.NewParser()
	f.Fuzz(func(t *testing.T, s string) {
		n, err := p.Parse(s)
		if err != nil {
			return // not valid text; the parser's own fuzz test covers it
		}
		r, err := c.Code(context.Background(), n, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkEvidence(t, s, r)
		for _, cd := range r.Codes {
			if !c.tables.IsValid(cd.Code) {
				t.Errorf("invalid code %s", cd.Code)
			}
		}
	})
}
