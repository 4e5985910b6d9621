package codesys

import (
	"regexp"
	"strings"
)

// sevenChrRule is a restriction on 7th characters that the Tabular List
// states in a note rather than in a sevenChrDef, such as "7th characters D
// and S do not apply to codes in category S06 with 6th character 7 ... or
// 8 ...". Reading the restriction from the published note keeps the model
// exact for the release at hand, without rules written into the code.
type sevenChrRule struct {
	note    string
	seventh string // 7th characters that do not apply
	sixth   string // when the code's 6th character is one of these
}

var (
	sevenChrRuleRe = regexp.MustCompile(`(?i)^7th characters? ((?:[A-Z](?:,|,? and|,? or)? )+)do(?:es)? not apply to codes in (?:sub)?category \S+ with 6th character (.*)$`)
	sixthCharRe    = regexp.MustCompile(`(?:^|\bor |, )([0-9A-Z]) -`)
)

func parseSevenChrRule(note string) (sevenChrRule, bool) {
	m := sevenChrRuleRe.FindStringSubmatch(note)
	if m == nil {
		return sevenChrRule{}, false
	}
	r := sevenChrRule{note: note}
	for _, f := range strings.FieldsFunc(m[1], func(c rune) bool { return c == ' ' || c == ',' }) {
		if len(f) == 1 {
			r.seventh += f
		}
	}
	for _, sm := range sixthCharRe.FindAllStringSubmatch(m[2], -1) {
		r.sixth += sm[1]
	}
	if r.seventh == "" || r.sixth == "" {
		return sevenChrRule{}, false
	}
	return r, true
}

// sevenChrAllowed reports whether 7th character c may extend node n to
// code (the padded code, with or without its 7th character), under the
// restrictions stated in the notes of n and its ancestors. When it may not,
// it returns the note that says so.
func (t *Tabular) sevenChrAllowed(n *Node, code string, c byte) (string, bool) {
	compact := strings.Replace(code, ".", "", 1)
	if len(compact) < 6 {
		return "", true
	}
	sixth := compact[5]
	for i, ok := t.index(n.Code); ok; {
		for _, r := range t.sevenChrRules[i] {
			if strings.IndexByte(r.seventh, c) >= 0 && strings.IndexByte(r.sixth, sixth) >= 0 {
				return r.note, false
			}
		}
		i = t.Nodes[i].Parent
		ok = i >= 0
	}
	return "", true
}
