package coding

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAssertionJSON: every assertion goes through JSON as its own string
// and comes back as itself; the zero value is left out.
func TestAssertionJSON(t *testing.T) {
	tests := []struct {
		a    Assertion
		json string
	}{
		{Affirmed, `"affirmed"`},
		{Negated, `"negated"`},
		{Possible, `"possible"`},
		{Historical, `"historical"`},
		{Resolved, `"resolved"`},
		{Family, `"family"`},
		{OtherPerson, `"other person"`},
		{Hypothetical, `"hypothetical"`},
	}
	if len(tests) != len(Assertions()) {
		t.Fatalf("%d cases for %d assertions", len(tests), len(Assertions()))
	}
	for _, tt := range tests {
		t.Run(string(tt.a), func(t *testing.T) {
			if !tt.a.Valid() {
				t.Errorf("%q is not valid", tt.a)
			}
			b, err := json.Marshal(Code{Code: "I10", Assertion: tt.a})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), `"assertion":`+tt.json) {
				t.Errorf("marshalled %s, want assertion %s", b, tt.json)
			}
			var c Code
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatal(err)
			}
			if c.Assertion != tt.a {
				t.Errorf("read back %q", c.Assertion)
			}
		})
	}
	b, err := json.Marshal(Code{Code: "I10"})
	if err != nil || strings.Contains(string(b), "assertion") {
		t.Errorf("no assertion marshalled as %s, %v", b, err)
	}
}

// TestAssertionRead: the spellings written before assertions had one type
// read as their value; anything else is an error naming the values.
func TestAssertionRead(t *testing.T) {
	tests := []struct {
		in   string
		want Assertion
		err  bool
	}{
		{"", "", false},
		{"present", Affirmed, false},
		{"other", OtherPerson, false},
		{"affirmed/recent/patient", Affirmed, false},
		{"negated/recent/patient", Negated, false},
		{"possible/historical/patient", Possible, false},
		{"affirmed/historical/patient", Historical, false},
		{"affirmed/hypothetical/patient", Hypothetical, false},
		{"negated/recent/family", Family, false},
		{"affirmed/recent/other", OtherPerson, false},
		{"Affirmed", "", true},
		{"other-person", "", true},
		{"ruled out", "", true},
		{"affirmed/recent", "", true},
		{"affirmed/later/patient", "", true},
		{"affirmed/recent/patient/x", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseAssertion(tt.in)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("ParseAssertion(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.err)
			}
			var c Code
			err = json.Unmarshal([]byte(`{"assertion":"`+tt.in+`"}`), &c)
			if (err != nil) != tt.err || c.Assertion != tt.want {
				t.Fatalf("unmarshal %q = %q, %v", tt.in, c.Assertion, err)
			}
			if err != nil && !strings.Contains(err.Error(), `"other person"`) {
				t.Errorf("error %q does not list the values", err)
			}
		})
	}
}

// TestAssertionMarshalUnknown: an assertion that is not a value never
// leaves medcode as JSON.
func TestAssertionMarshalUnknown(t *testing.T) {
	for _, a := range []Assertion{"other", "present", "affirmed/recent/patient", "maybe"} {
		if b, err := json.Marshal(Code{Code: "I10", Assertion: a}); err == nil {
			t.Errorf("%q marshalled as %s", a, b)
		}
	}
}
