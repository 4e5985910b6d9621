package codesys

import (
	"fmt"
	"strings"
)

// ComposeTabular builds a Tabular List for a release that ships an order
// file but no Tabular List XML. The order file gives what the release
// itself says: every code, its long title, whether it is billable, and by
// the codes' prefixes the hierarchy of categories, subcategories and codes.
// The instructional notes, the chapters and the blocks come from notes, the
// Tabular List of another release of ICD-10-CM (notesID names it, e.g.
// "icd10cm-2021"): node by node, for the codes both have. A category notes
// lacks goes into the block whose range contains it, else into the block
// before it.
//
// Seven-character order-file codes (S52.521A, T36.0X1A) fold into the 7th
// character model: they extend a leaf node, padded with the placeholder X,
// by a 7th character. Where the 7th characters that notes defines for a
// node (on it or an ancestor) are not exactly those the order file lists,
// with the same meanings, the node gets the order file's own, so that
// Validate agrees with the order file.
//
// notes may be nil: the list then has no chapters, blocks or notes. The
// list's Version is left empty for the caller, who knows the release.
// ComposeTabular returns, with the list, what it could not compose
// faithfully (a category placed by its range, a title that does not extend
// its base code's); each is also reported by Lookup for the code concerned.
func ComposeTabular(order *Order, notes *Tabular, notesID string) (*Tabular, []string) {
	c := &composer{order: order, notes: notes, notesID: notesID,
		t: &Tabular{NotesFrom: notesID, Composed: true, byCode: make(map[string]int32), problems: map[int32][]string{}}}
	if notes == nil {
		c.t.NotesFrom = ""
	}
	if order.byCode == nil {
		order.Prepare()
	}
	c.classify()
	c.build()
	c.t.Prepare()
	c.foldSeventh()
	c.refProblems()
	return c.t, c.all
}

type composer struct {
	order   *Order
	notes   *Tabular
	notesID string
	t       *Tabular

	// node lists the order entries that become nodes, in order-file order;
	// ext maps a base code to the 7th-character entries that extend it.
	node []int
	ext  map[string][]int
	// children maps a node code to its node children's entry indexes.
	children map[string][]int
	// pending holds problems found before the node they concern has its
	// index; all collects every problem, for the caller.
	pending map[string][]string
	all     []string
}

func (c *composer) problem(code, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	c.all = append(c.all, msg)
	if c.pending == nil {
		c.pending = map[string][]string{}
	}
	c.pending[code] = append(c.pending[code], msg)
}

// classify sorts the order entries into nodes and 7th-character
// extensions of a node.
func (c *composer) classify() {
	c.ext = map[string][]int{}
	seen := make(map[string]bool, len(c.order.Entries))
	for i, e := range c.order.Entries {
		if seen[e.Code] {
			c.problem(e.Code, "%s is listed twice in the order file: its entry %d (order number %d) is left out", e.Code, i+1, e.Seq)
			continue
		}
		seen[e.Code] = true
		compact := strings.Replace(e.Code, ".", "", 1)
		if len(compact) == 7 {
			if base, ok := c.extensionBase(compact); ok {
				c.ext[base] = append(c.ext[base], i)
				continue
			}
		}
		c.node = append(c.node, i)
	}
}

// extensionBase reports whether a seven-character code extends a shorter
// code by a 7th character, and returns that code (with dot). Its first six
// characters must be an order-file code padded with X. When they are a code
// themselves (E08.321 has the sixth-character code E08.3211, S52.521 the
// 7th-character code S52.521A), notes decides: a code it lists is a node,
// and a code under a node it gives 7th characters is an extension. Codes
// notes does not know are extensions when their last character is a
// letter, as 7th characters mostly are, while the codes that end in a digit
// are sixth-level codes.
func (c *composer) extensionBase(compact string) (string, bool) {
	six := compact[:6]
	base := ""
	for k := 6; k >= 3; k-- {
		if strings.Trim(six[k:], "X") != "" {
			break
		}
		if cd := codeOf(six[:k]); c.inOrder(cd) {
			base = cd
			break
		}
	}
	if base == "" {
		return "", false
	}
	if len(strings.Replace(base, ".", "", 1)) < 6 {
		return base, true
	}
	if c.notes != nil {
		if c.notesNode(codeOf(compact)) != nil {
			return "", false
		}
		for k := 6; k >= 3; k-- {
			if n := c.notesNode(codeOf(compact[:k])); n != nil {
				if sc, _ := c.notes.SevenChrFor(n); len(sc) > 0 {
					return base, true
				}
				break
			}
		}
	}
	last := compact[6]
	return base, last >= 'A' && last <= 'Z'
}

// notesNode returns the node of notes for a code in canonical form, as
// the order file's codes are, or nil.
func (c *composer) notesNode(code string) *Node {
	if c.notes == nil {
		return nil
	}
	if i, ok := c.notes.byCode[code]; ok {
		return &c.notes.Nodes[i]
	}
	return nil
}

func (c *composer) inOrder(code string) bool {
	_, ok := c.order.byCode[code]
	return ok
}

// codeOf writes a compact code with its dot.
func codeOf(compact string) string {
	if len(compact) <= 3 {
		return compact
	}
	return compact[:3] + "." + compact[3:]
}

// parentCode returns the nearest order-file code of which code is a
// prefix, among the codes that are nodes, or "".
func (c *composer) parentCode(code string, isNode map[string]bool) string {
	compact := strings.Replace(code, ".", "", 1)
	for k := len(compact) - 1; k >= 3; k-- {
		if p := codeOf(compact[:k]); isNode[p] {
			return p
		}
	}
	return ""
}

// build lays out the nodes in document order: the chapters and blocks of
// notes, each block followed by its categories in order-file order, each
// category by its subcategories and codes.
func (c *composer) build() {
	c.t.Nodes = make([]Node, 0, len(c.node)+len(c.notes.blocks()))
	isNode := make(map[string]bool, len(c.node))
	for _, i := range c.node {
		isNode[c.order.Entries[i].Code] = true
	}
	c.children = map[string][]int{}
	var categories []int
	for _, i := range c.node {
		code := c.order.Entries[i].Code
		if len(code) == 3 {
			categories = append(categories, i)
			continue
		}
		p := c.parentCode(code, isNode)
		if p == "" {
			// No category above it: it stands as a category of its own.
			c.problem(code, "%s has no category in the order file", code)
			categories = append(categories, i)
			continue
		}
		c.children[p] = append(c.children[p], i)
	}
	byBlock := map[int32][]int{}
	var loose []int
	for _, i := range categories {
		if b, ok := c.blockFor(c.order.Entries[i].Code); ok {
			byBlock[b] = append(byBlock[b], i)
		} else {
			loose = append(loose, i)
		}
	}
	if c.notes != nil {
		for ci := range c.notes.Nodes {
			ch := &c.notes.Nodes[ci]
			if ch.Kind != KindChapter {
				continue
			}
			chi := int32(-1)
			for _, bi := range ch.Children {
				if c.notes.Nodes[bi].Kind != KindBlock || len(byBlock[bi]) == 0 {
					continue
				}
				if chi < 0 {
					chi = c.t.add(c.borrowed(ch, -1))
				}
				b := c.t.add(c.borrowed(&c.notes.Nodes[bi], chi))
				for _, i := range byBlock[bi] {
					c.addEntry(i, b)
				}
			}
		}
	}
	for _, i := range loose {
		c.addEntry(i, -1)
	}
	for code, msgs := range c.pending {
		if i, ok := c.t.byCode[code]; ok {
			c.t.problems[i] = append(c.t.problems[i], msgs...)
		}
	}
}

// blocks returns the chapters and blocks of t, nil for a nil list.
func (t *Tabular) blocks() []int32 {
	if t == nil {
		return nil
	}
	var out []int32
	for i := range t.Nodes {
		if t.Nodes[i].Kind <= KindBlock {
			out = append(out, int32(i))
		}
	}
	return out
}

// borrowed copies a chapter or block of notes under parent.
func (c *composer) borrowed(n *Node, parent int32) Node {
	return Node{Code: n.Code, Kind: n.Kind, Title: n.Title, Parent: parent, Notes: n.Notes, SevenChr: n.SevenChr, NotesFrom: c.notesID}
}

// blockFor returns the block of notes a category goes into: its own block
// in notes, else the block whose range contains it, else the nearest block
// before it with the same first letter.
func (c *composer) blockFor(cat string) (int32, bool) {
	if c.notes == nil {
		return 0, false
	}
	if i, ok := c.notes.byCode[cat]; ok {
		if p := c.notes.Nodes[i].Parent; p >= 0 && c.notes.Nodes[p].Kind == KindBlock {
			return p, true
		}
	}
	before, beforeLo := int32(-1), ""
	for i := range c.notes.Nodes {
		n := &c.notes.Nodes[i]
		if n.Kind != KindBlock {
			continue
		}
		lo, hi, ok := strings.Cut(n.Code, "-")
		if !ok {
			hi = lo
		}
		if lo <= cat && cat <= hi {
			return int32(i), true
		}
		if lo <= cat && lo[0] == cat[0] && lo >= beforeLo {
			before, beforeLo = int32(i), lo
		}
	}
	if before >= 0 {
		c.problem(cat, "category %s is in no block of the %s Tabular List: placed in %s, the block before it", cat, releaseTitle(c.notesID), c.notes.Nodes[before].Code)
		return before, true
	}
	c.problem(cat, "category %s is in no block of the %s Tabular List", cat, releaseTitle(c.notesID))
	return 0, false
}

// addEntry adds the order entry i under parent, with its notes from notes
// when notes has the code, and then its children.
func (c *composer) addEntry(i int, parent int32) {
	e := &c.order.Entries[i]
	kids := c.children[e.Code]
	kind := KindCode
	switch {
	case len(e.Code) == 3:
		kind = KindCategory
	case len(kids) > 0:
		kind = KindSubcategory
	}
	n := Node{Code: e.Code, Kind: kind, Title: e.Long, Parent: parent}
	if c.notes != nil {
		if src := c.notesNode(e.Code); src != nil {
			n.Notes, n.SevenChr, n.NotesFrom = src.Notes, src.SevenChr, c.notesID
		}
	}
	ni := c.t.add(n)
	c.t.byCode[e.Code] = ni
	for _, k := range kids {
		c.addEntry(k, ni)
	}
}

// foldSeventh makes the 7th characters that apply to each leaf those the
// order file lists for it.
func (c *composer) foldSeventh() {
	for ni := range c.t.Nodes {
		n := &c.t.Nodes[ni]
		if n.Kind < KindCategory {
			continue
		}
		exts := c.ext[n.Code]
		if len(exts) == 0 {
			if len(n.Children) == 0 {
				if sc, from := c.t.SevenChrFor(n); len(sc) > 0 {
					c.report(int32(ni), "%s is a code in the order file, but the 7th characters of %s apply to it", n.Code, from.Code)
				}
			}
			continue
		}
		if len(n.Children) > 0 {
			c.report(int32(ni), "%s has more specific codes and 7th-character codes in the order file", n.Code)
		}
		want := make([]SevenChr, 0, len(exts))
		for _, i := range exts {
			e := &c.order.Entries[i]
			title, ok := strings.CutPrefix(e.Long, n.Title+", ")
			if !ok {
				c.report(int32(ni), "the title of %s (%q) does not extend the title of %s", e.Code, e.Long, n.Code)
				title = e.Long
			}
			want = append(want, SevenChr{Char: e.Code[len(e.Code)-1], Title: title})
		}
		if !c.sameSeventh(n, want) {
			n.SevenChr = want
		}
		for _, s := range want {
			if note, ok := c.t.sevenChrAllowed(n, PadX(n.Code), s.Char); !ok {
				c.report(int32(ni), "%s%c is in the order file, but a note of the %s Tabular List excludes it: %s", PadX(n.Code), s.Char, releaseTitle(c.notesID), note)
			}
		}
	}
}

func (c *composer) report(ni int32, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	c.all = append(c.all, msg)
	c.t.problems[ni] = append(c.t.problems[ni], msg)
}

// sameSeventh reports whether the 7th characters that apply to n in the
// list as composed are exactly want, with the same meanings.
func (c *composer) sameSeventh(n *Node, want []SevenChr) bool {
	sc, _ := c.t.SevenChrFor(n)
	have := map[byte]string{}
	for _, s := range sc {
		if _, ok := c.t.sevenChrAllowed(n, PadX(n.Code), s.Char); ok {
			have[s.Char] = s.Title
		}
	}
	if len(have) != len(want) {
		return false
	}
	for _, s := range want {
		if t, ok := have[s.Char]; !ok || t != s.Title {
			return false
		}
	}
	return true
}

// releaseTitle writes a release ID ("icd10cm-2021") for a reader
// ("ICD-10-CM 2021").
func releaseTitle(id string) string {
	sys, ver, ok := strings.Cut(id, "-")
	if !ok {
		return id
	}
	return System(sys).Title() + " " + ver
}

// NotesLabel says where a node's notes come from when they are borrowed
// from another release's Tabular List ("notes from ICD-10-CM 2021 Tabular
// List"), and is empty when they are the release's own.
func (n *Node) NotesLabel() string {
	if n.NotesFrom == "" {
		return ""
	}
	return "notes from " + releaseTitle(n.NotesFrom) + " Tabular List"
}

// refProblems finds, for every node's borrowed notes, each code they
// name in parentheses that this list lacks, or that was a code there and
// has more specific codes here, once: Lookup reports them, and the notes
// list need not be kept.
func (c *composer) refProblems() {
	if c.notes == nil {
		return
	}
	t := c.t
	t.refProblems = map[int32][]refProblem{}
	for i := range t.Nodes {
		n := &t.Nodes[i]
		if n.NotesFrom == "" {
			continue
		}
		n.Notes.Each(func(kind string, texts []string) {
			for _, s := range texts {
				for _, ref := range parenCodes(s) {
					code, err := ParseCode(ref.code)
					if err != nil {
						continue
					}
					here := t.Validate(code.String())
					there := c.notes.Validate(code.String())
					var msg string
					switch {
					case here.Status == Invalid && there.Status != Invalid:
						msg = fmt.Sprintf("%s note of %s (%s) names %s, which this release lacks: %q", kind, n.Code, releaseTitle(n.NotesFrom), code, s)
					case !ref.header && there.Status == Valid && here.Status == Header && here.Base != nil && len(here.Base.Children) > 0:
						msg = fmt.Sprintf("%s note of %s (%s) names %s, a code there that has more specific codes in this release: %q", kind, n.Code, releaseTitle(n.NotesFrom), code, s)
					default:
						continue
					}
					t.refProblems[int32(i)] = append(t.refProblems[int32(i)], refProblem{kind: kind, msg: msg})
				}
			}
		})
	}
}

// refProblem is a code a borrowed note of one kind names that the list
// lacks.
type refProblem struct {
	kind, msg string
}

// noteRef is a code named in a note; header is set when the note writes
// it as a header, with a dash ("E10.-", "I10-I16").
type noteRef struct {
	code   string
	header bool
}

// parenCodes returns the codes a note names in parentheses, where the
// Tabular List puts the codes it refers to ("(J18.9)", "(E10.-)",
// "(I10-I16)"); words outside parentheses that look like codes ("vitamin
// B12") are not references.
func parenCodes(s string) []noteRef {
	var out []noteRef
	depth := 0
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b == '(':
			depth++
		case b == ')':
			depth = max(depth-1, 0)
		case depth > 0 && b >= 'A' && b <= 'Z' && (i == 0 || !isAlnum(s[i-1])) && i+2 < len(s) && isDigit(s[i+1]) && isAlnum(s[i+2]):
			j := i + 3
			if j+1 < len(s) && s[j] == '.' && isAlnum(s[j+1]) {
				j++
				for j < len(s) && j-i < 8 && isAlnum(s[j]) {
					j++
				}
			}
			if j < len(s) && isAlnum(s[j]) {
				continue
			}
			rest := s[j:]
			header := strings.HasPrefix(rest, ".-") || strings.HasPrefix(rest, "-")
			if i > 0 && s[i-1] == '-' {
				header = true // the end of a range
			}
			out = append(out, noteRef{code: s[i:j], header: header})
			i = j - 1
		}
	}
	return out
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func isAlnum(b byte) bool { return isDigit(b) || b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' }
