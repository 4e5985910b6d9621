package guidelines

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// ChangeKind says how a section differs between two editions.
type ChangeKind string

// The kinds of change Diff reports.
const (
	Added   ChangeKind = "added"
	Removed ChangeKind = "removed"
	Changed ChangeKind = "changed"
)

// Change is one section that differs between two editions, named by its
// section number. Sections are matched by number, so a heading inserted
// before its siblings shows as changes to the siblings it renumbers, as it
// does for a coder citing them.
type Change struct {
	Kind ChangeKind `json:"kind"`
	ID   string     `json:"id"`
	// Title is the section's title in the newer edition, or in the older
	// one for a removed section.
	Title string `json:"title"`
	// OldTitle is set when a changed section's title changed.
	OldTitle string `json:"old_title,omitempty"`
	// Deleted and Inserted are the sentences of the section's text only in
	// the older and only in the newer edition, in document order; empty
	// for added and removed sections, whose whole text is new or gone.
	Deleted  []string `json:"deleted,omitempty"`
	Inserted []string `json:"inserted,omitempty"`
}

// Diff lists the sections added, removed and changed from older to newer:
// first those of newer in its order (added or changed), then those
// removed, in older's order. A section whose sentences are the same but
// wrapped or spaced differently is unchanged.
func Diff(older, newer *Document) []Change {
	oldByID := make(map[string]*Section, len(older.Sections))
	for i := range older.Sections {
		oldByID[older.Sections[i].ID] = &older.Sections[i]
	}
	newIDs := make(map[string]bool, len(newer.Sections))
	var out []Change
	for _, s := range newer.Sections {
		newIDs[s.ID] = true
		o, ok := oldByID[s.ID]
		if !ok {
			out = append(out, Change{Kind: Added, ID: s.ID, Title: s.Title})
			continue
		}
		c := Change{Kind: Changed, ID: s.ID, Title: s.Title}
		if normSpace(o.Title) != normSpace(s.Title) {
			c.OldTitle = o.Title
		}
		olds, news := Sentences(o.Text), Sentences(s.Text)
		c.Deleted, c.Inserted = only(olds, news), only(news, olds)
		if c.OldTitle != "" || len(c.Deleted) > 0 || len(c.Inserted) > 0 {
			out = append(out, c)
		}
	}
	for _, s := range older.Sections {
		if !newIDs[s.ID] {
			out = append(out, Change{Kind: Removed, ID: s.ID, Title: s.Title})
		}
	}
	return out
}

// only returns the sentences of a that b lacks, counting repeats: a
// sentence said twice in a and once in b is reported once.
func only(a, b []string) []string {
	left := make(map[string]int, len(b))
	for _, s := range b {
		left[s]++
	}
	var out []string
	for _, s := range a {
		if left[s] > 0 {
			left[s]--
			continue
		}
		out = append(out, s)
	}
	return out
}

// Sentences splits text into sentences with their spacing normalised. A
// sentence ends at ".", "?" or "!" followed by a space and a capital
// letter, digit, quote or bracket, or at a paragraph break; "e.g. the"
// and section numbers such as "I.C.9.a.2" do not end one.
func Sentences(text string) []string {
	var out []string
	for para := range strings.SplitSeq(text, "\n") {
		para = normSpace(para)
		start := 0
		for i := 0; i < len(para); i++ {
			if c := para[i]; c != '.' && c != '?' && c != '!' {
				continue
			}
			if i+2 >= len(para) || para[i+1] != ' ' {
				continue
			}
			r, _ := utf8.DecodeRuneInString(para[i+2:])
			if !unicode.IsUpper(r) && !unicode.IsDigit(r) && !strings.ContainsRune("\"“'‘([", r) {
				continue
			}
			out = append(out, para[start:i+1])
			start = i + 2
		}
		if s := strings.TrimSpace(para[start:]); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func normSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
