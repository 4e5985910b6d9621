package agent

import (
	"fmt"
	"strings"

	"github.com/medcode-dev/medcode/internal/coding"
)

// assertionWord returns the assertion a model means by a word other than
// the values: the schema lists the values, but models still answer in
// clinical words, and a known meaning is not worth a repair round.
func assertionWord(w string) (coding.Assertion, bool) {
	switch w {
	case "present", "positive", "confirmed", "current", "active":
		return coding.Affirmed, true
	case "absent", "negative", "denied", "ruled out":
		return coding.Negated, true
	case "uncertain", "probable", "suspected", "likely":
		return coding.Possible, true
	case "history", "history of", "past":
		return coding.Historical, true
	case "family history":
		return coding.Family, true
	case "other", "someone else", "not the patient":
		return coding.OtherPerson, true
	case "planned", "conditional":
		return coding.Hypothetical, true
	}
	return "", false
}

// modelAssertion reads the assertion a model gave: one of the values, in
// any case, with "_" or "-" for the space of "other person", or a word of
// assertionWord. "" is no assertion. Anything else is an error for the
// model, naming the values it may use.
func modelAssertion(s string) (coding.Assertion, error) {
	norm := strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return r == ' ' || r == '_' || r == '-' || r == '\t'
	}), " ")
	if a := coding.Assertion(norm); a.Valid() || a == "" {
		return a, nil
	}
	if a, ok := assertionWord(norm); ok {
		return a, nil
	}
	return "", fmt.Errorf("unknown assertion %q: use one of %s", s, assertionValues())
}

// assertionValues lists the assertions for the schemas and messages the
// model reads.
func assertionValues() string {
	var vals []string
	for _, a := range coding.Assertions() {
		vals = append(vals, string(a))
	}
	return strings.Join(vals, ", ")
}

// assertionEnum is the assertions as a JSON schema enum.
func assertionEnum(desc string) map[string]any {
	var vals []string
	for _, a := range coding.Assertions() {
		vals = append(vals, string(a))
	}
	return strEnum(desc, vals...)
}
