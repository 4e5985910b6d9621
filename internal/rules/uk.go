package rules

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// exclusionRule matches a rule of the form "?CODES:!CODES": the codes
// before the colon cannot be coded with those after the "!". Codes are
// separated by commas and may be ranges (C77-C79).
var exclusionRule = regexp.MustCompile(`^\?([A-Za-z0-9,\-]+):!([A-Za-z0-9,\-]+)$`)

// Imported is a pack made by ImportUK and what went into it.
type Imported struct {
	// Name is the pack's name ("icd10uk/exclusions") and Text its content.
	Name, Text string
	// Rules is the number of rows; Skipped counts the file's rules of
	// this classification that are not "cannot be coded with" pairs
	// (sequencing, must-code-with, position rules) or are commented out
	// in the source.
	Rules, Skipped int
}

// ImportUK converts the "cannot be coded with" rules of the UK coding
// standards rule file read from r (named name, for messages and the
// packs' source line) into the exclusion packs of ICD-10 UK and OPCS-4.
// The packs are made at run time from the user's copy of the file: medcode
// ships none of its rows.
func ImportUK(r io.Reader, name string) ([]Imported, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	var doc struct {
		Rules []struct {
			Classification string `json:"classification"`
			RuleID         string `json:"rule_id"`
			Rule           string `json:"rule"`
			CommentedOut   bool   `json:"commented_out"`
			SourceLine     int    `json:"source_line"`
		} `json:"rules"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: not the UK coding standards rule file: %w", name, err)
	}
	if len(doc.Rules) == 0 {
		return nil, fmt.Errorf("%s: no rules", name)
	}
	sum := sha256.Sum256(data)
	var out []Imported
	// The file names its classifications icd10 and opcs4; the packs it
	// becomes are those of icd10uk and opcs4.
	for _, sc := range []struct{ cls, scope string }{{"icd10", "icd10uk"}, {"opcs4", "opcs4"}} {
		cls := sc.cls
		im := Imported{Name: sc.scope + "/exclusions"}
		var rows strings.Builder
		for i, r := range doc.Rules {
			if r.Classification != cls {
				continue
			}
			m := exclusionRule.FindStringSubmatch(strings.TrimSpace(r.Rule))
			if m == nil || r.CommentedOut {
				im.Skipped++
				continue
			}
			line := r.SourceLine
			if line == 0 {
				line = i + 1
			}
			fmt.Fprintf(&rows, "%s\t%s\t%s\t%d\n", codeList(m[1]), codeList(m[2]), r.RuleID, line)
			im.Rules++
		}
		var b strings.Builder
		fmt.Fprintf(&b, "# pack: %s\n# version: 1\n", im.Name)
		fmt.Fprintf(&b, "# source: imported by medcode rules import from %s (SHA-256 of its JSON %s)\n", name, hex.EncodeToString(sum[:]))
		b.WriteString(`#
# "Cannot be coded with" pairs of the UK National Clinical Coding
# Standards as the UK Clinical Coding Quality Check tool encodes them
# (rules of the form ?CODES:!CODES): a code of the first column is not
# coded with a code of the second. Codes and ranges as the source writes
# them, without dots; see PROVENANCE.md beside the source file. Rules of
# other kinds (sequencing, must be coded with, position) are not imported.
# codes	cannot be coded with	rule id	source line
`)
		b.WriteString(rows.String())
		im.Text = b.String()
		out = append(out, im)
	}
	return out, nil
}

// codeList turns the source's comma-separated codes into a pack's
// space-separated ranges.
func codeList(s string) string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if t := strings.ToUpper(strings.TrimSpace(f)); t != "" {
			out = append(out, t)
		}
	}
	return strings.Join(out, " ")
}
