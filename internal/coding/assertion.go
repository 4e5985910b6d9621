package coding

import (
	"fmt"
	"strings"
)

// Assertion is what the note says about the condition or procedure a code
// stands for: present, absent, uncertain, past, gone, someone else's or
// only considered. Every reasoner, the store, the API, the review UI and
// the FHIR export use these values; the zero value means that none was
// given (a result written before assertions were recorded, or a dropped
// code a reasoner gave no assertion).
//
// The values are written as their strings in JSON and in the store.
// Present is written "affirmed", the word of the ConText algorithm and of
// every result medcode has written, so that stored results and clients
// keep working.
type Assertion string

// The assertions, in the order of precedence a reasoner applies when a
// mention has several (see package note/assert): who the condition belongs
// to first, then whether it is present, then when.
const (
	// Affirmed: the condition is present (the procedure was done) in this
	// encounter, documented without negation, doubt or a time that puts it
	// elsewhere.
	Affirmed Assertion = "affirmed"
	// Negated: the note says the condition is absent or ruled out (the
	// procedure was not done).
	Negated Assertion = "negated"
	// Possible: the diagnosis is uncertain ("probable", "suspected", "rule
	// out"), coded as if confirmed at inpatient discharge only.
	Possible Assertion = "possible"
	// Historical: documented as the patient's history.
	Historical Assertion = "historical"
	// Resolved: present during the encounter and documented as gone ("the
	// fever resolved").
	Resolved Assertion = "resolved"
	// Family: documented for a family member of the patient; an
	// ICD-10-CM code with it reports the patient's family history.
	Family Assertion = "family"
	// OtherPerson: documented for someone other than the patient, not known
	// to be family.
	OtherPerson Assertion = "other person"
	// Hypothetical: only considered, planned or conditional ("if the pain
	// returns"), not documented as having happened.
	Hypothetical Assertion = "hypothetical"
)

// Assertions returns every assertion, in order of precedence.
func Assertions() []Assertion {
	return []Assertion{Affirmed, Negated, Possible, Historical, Resolved, Family, OtherPerson, Hypothetical}
}

// Valid reports whether a is one of the assertions (the zero value is
// not).
func (a Assertion) Valid() bool {
	switch a {
	case Affirmed, Negated, Possible, Historical, Resolved, Family, OtherPerson, Hypothetical:
		return true
	}
	return false
}

// ParseAssertion returns the assertion spelled s: one of the values, ""
// (none given), or a spelling medcode wrote before assertions had one
// type, so that stored results and old clients still read:
//
//   - "present" is Affirmed;
//   - "other", the offline coder's word, is OtherPerson;
//   - "NEGATION/TEMPORALITY/EXPERIENCER", the ICD-10-PCS coder's full
//     ConText classification (e.g. "affirmed/recent/patient"), is the
//     assertion of that classification, by the precedence of Assertions.
//
// Any other string is an error that lists the values.
func ParseAssertion(s string) (Assertion, error) {
	a := Assertion(s)
	if a.Valid() || a == "" {
		return a, nil
	}
	switch s {
	case "present":
		return Affirmed, nil
	case "other":
		return OtherPerson, nil
	}
	if a, ok := parseContext(s); ok {
		return a, nil
	}
	return "", fmt.Errorf("unknown assertion %q (want one of %s)", s, assertionList())
}

// parseContext reads a ConText classification written as
// negation/temporality/experiencer.
func parseContext(s string) (Assertion, bool) {
	neg, rest, ok1 := strings.Cut(s, "/")
	temp, exp, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 {
		return "", false
	}
	switch {
	case neg != "affirmed" && neg != "negated" && neg != "possible",
		temp != "recent" && temp != "historical" && temp != "hypothetical",
		exp != "patient" && exp != "family" && exp != "other":
		return "", false
	}
	switch {
	case exp == "family":
		return Family, true
	case exp == "other":
		return OtherPerson, true
	case neg == "negated":
		return Negated, true
	case neg == "possible":
		return Possible, true
	case temp == "historical":
		return Historical, true
	case temp == "hypothetical":
		return Hypothetical, true
	}
	return Affirmed, true
}

func assertionList() string {
	var b strings.Builder
	for i, a := range Assertions() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", string(a))
	}
	return b.String()
}

// MarshalText writes a as its string; an assertion that is not one of the
// values (nor the zero value) is an error, so that no unknown value leaves
// medcode.
func (a Assertion) MarshalText() ([]byte, error) {
	if !a.Valid() && a != "" {
		return nil, fmt.Errorf("unknown assertion %q (want one of %s)", string(a), assertionList())
	}
	return []byte(a), nil
}

// UnmarshalText reads an assertion as ParseAssertion does: the values and
// the older spellings are accepted, anything else is an error.
func (a *Assertion) UnmarshalText(b []byte) error {
	v, err := ParseAssertion(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}
