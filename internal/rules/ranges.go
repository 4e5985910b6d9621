package rules

import (
	"fmt"
	"strings"
)

// Range is a range of codes written LO-HI, or a single prefix (LO = HI).
// It holds every code from LO to HI and every code beginning with HI, so
// that "C00-D49" holds D49.9 and "V-Y" every code beginning V to Y.
// Codes are compared without their dot.
type Range struct{ Lo, Hi string }

// compact returns a code without its dot, in upper case.
func compact(code string) string {
	return strings.ToUpper(strings.ReplaceAll(code, ".", ""))
}

// ParseRanges reads space-separated ranges.
func ParseRanges(s string) ([]Range, error) {
	var out []Range
	for _, f := range strings.Fields(s) {
		lo, hi, ok := strings.Cut(f, "-")
		if !ok {
			hi = lo
		}
		lo, hi = compact(lo), compact(hi)
		if lo == "" || hi == "" || lo > hi {
			return nil, fmt.Errorf("range %q: want LO-HI with LO not after HI, or one prefix", f)
		}
		out = append(out, Range{Lo: lo, Hi: hi})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no ranges")
	}
	return out, nil
}

// Holds reports whether code is in the range.
func (r Range) Holds(code string) bool {
	// The coder asks this of every candidate entry: the code is made
	// compact in a buffer on the stack rather than in a new string.
	var buf [24]byte
	b := buf[:0]
	for i := 0; i < len(code); i++ {
		ch := code[i]
		if ch == '.' {
			continue
		}
		if 'a' <= ch && ch <= 'z' {
			ch -= 'a' - 'A'
		}
		b = append(b, ch)
	}
	return string(b) >= r.Lo && (string(b) <= r.Hi || len(b) >= len(r.Hi) && string(b[:len(r.Hi)]) == r.Hi)
}

// String writes the range as it is written in a pack.
func (r Range) String() string {
	if r.Lo == r.Hi {
		return r.Lo
	}
	return r.Lo + "-" + r.Hi
}

// Ranges is a list of ranges.
type Ranges []Range

// Holds reports whether any of the ranges holds code.
func (rs Ranges) Holds(code string) bool {
	for _, r := range rs {
		if r.Holds(code) {
			return true
		}
	}
	return false
}
