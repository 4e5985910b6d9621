package catalog

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// Changes lists what changed between two releases of one system.
type Changes struct {
	System   codesys.System
	From, To string // the releases' versions

	// Basis says which parts the code lists were compared over; it is
	// empty when the releases share no part that lists codes.
	Basis []codesys.Part

	Added    []CodeTitle // codes in To only, with their To title
	Deleted  []CodeTitle // codes in From only, with their From title
	Retitled []Retitle   // codes in both whose title changed

	// Indexes lists, for each index or table both releases have, the
	// terms added and removed.
	Indexes []IndexChanges
}

// CodeTitle is a code and its title.
type CodeTitle struct {
	Code, Title string
}

// Retitle is a code whose title changed.
type Retitle struct {
	Code     string
	Old, New string
}

// IndexChanges lists the terms added to and removed from one index or
// table. A term is written as its path from the main term, joined by " > ",
// each level with its nonessential modifiers.
type IndexChanges struct {
	Part           codesys.Part
	Added, Removed []string
}

// Empty reports whether nothing changed.
func (c *Changes) Empty() bool {
	if len(c.Added)+len(c.Deleted)+len(c.Retitled) > 0 {
		return false
	}
	for _, ix := range c.Indexes {
		if len(ix.Added)+len(ix.Removed) > 0 {
			return false
		}
	}
	return true
}

// Diff compares two releases of the same system, from a to b. For
// ICD-10-CM the codes compared are all valid full codes: those the Tabular
// List defines (with 7th characters applied) and the valid codes of the
// order file, over the parts both releases have; titles come from the
// order file's long titles when both have one. For ICD-10-PCS they are all
// codes the Tables build, titled by their axis values. For a
// classification read as classes they are its selectable codes.
func Diff(a, b *codesys.Release) (*Changes, error) {
	if a.System != b.System {
		return nil, fmt.Errorf("diff: %s and %s are releases of different systems", a.ID(), b.ID())
	}
	c := &Changes{System: a.System, From: a.Version, To: b.Version}

	var ca, cb map[string]string
	switch a.System {
	case codesys.ICD10CM:
		useTab := a.Tabular != nil && b.Tabular != nil
		useOrder := a.Order != nil && b.Order != nil
		if useTab {
			c.Basis = append(c.Basis, codesys.PartTabular)
		}
		if useOrder {
			c.Basis = append(c.Basis, codesys.PartOrder)
		}
		ca, cb = cmCodes(a, useTab, useOrder), cmCodes(b, useTab, useOrder)
	case codesys.ICD10PCS:
		if a.PCS != nil && b.PCS != nil {
			c.Basis = append(c.Basis, codesys.PartPCSTables)
			ca, cb = pcsCodes(a.PCS), pcsCodes(b.PCS)
		}
	default:
		if a.Classes != nil && b.Classes != nil {
			c.Basis = append(c.Basis, codesys.PartClasses)
			ca, cb = classCodes(a.Classes), classCodes(b.Classes)
		}
	}
	for code, title := range cb {
		old, ok := ca[code]
		switch {
		case !ok:
			c.Added = append(c.Added, CodeTitle{code, title})
		case old != title:
			c.Retitled = append(c.Retitled, Retitle{code, old, title})
		}
	}
	for code, title := range ca {
		if _, ok := cb[code]; !ok {
			c.Deleted = append(c.Deleted, CodeTitle{code, title})
		}
	}
	byCode := func(x, y CodeTitle) int { return strings.Compare(x.Code, y.Code) }
	slices.SortFunc(c.Added, byCode)
	slices.SortFunc(c.Deleted, byCode)
	slices.SortFunc(c.Retitled, func(x, y Retitle) int { return strings.Compare(x.Code, y.Code) })

	ia, ib := a.Indexes(), b.Indexes()
	for _, p := range codesys.PartsOf(a.System) {
		if ia[p] == nil || ib[p] == nil {
			continue
		}
		c.Indexes = append(c.Indexes, diffIndex(p, ia[p], ib[p]))
	}
	return c, nil
}

// cmCodes maps each valid full code of an ICD-10-CM release to its title.
func cmCodes(r *codesys.Release, useTab, useOrder bool) map[string]string {
	m := make(map[string]string)
	if useTab {
		r.Tabular.Codes(func(code, title string) bool {
			m[code] = title
			return true
		})
	}
	if useOrder {
		for _, e := range r.Order.Entries {
			if e.Billable {
				m[e.Code] = e.Long
			}
		}
	}
	return m
}

// pcsCodes maps each code the PCS Tables build to a title made of its axis
// values, from the operation (axis 3) on, e.g. "Bypass, Cerebral Ventricle,
// Open, Autologous Tissue Substitute, Nasopharynx". The section and body
// system are implied by the code and repeat in every title.
func pcsCodes(t *codesys.PCSTables) map[string]string {
	m := make(map[string]string)
	var code [7]byte
	var labels [7]string
	for _, tab := range t.Tables {
		ok := true
		for i, ax := range tab.Axes {
			if len(ax.Values) != 1 {
				ok = false
				break
			}
			code[i], labels[i] = ax.Values[0].Code, ax.Values[0].Label
		}
		if !ok {
			continue
		}
		for _, row := range tab.Rows {
			var rec func(pos int)
			rec = func(pos int) {
				if pos == 7 {
					m[string(code[:])] = strings.Join(labels[2:], ", ")
					return
				}
				for _, v := range row.Axes[pos-3].Values {
					code[pos], labels[pos] = v.Code, v.Label
					rec(pos + 1)
				}
			}
			rec(3)
		}
	}
	return m
}

func diffIndex(p codesys.Part, a, b *codesys.Index) IndexChanges {
	ta, tb := termPaths(a), termPaths(b)
	ic := IndexChanges{Part: p}
	for t := range tb {
		if !ta[t] {
			ic.Added = append(ic.Added, t)
		}
	}
	for t := range ta {
		if !tb[t] {
			ic.Removed = append(ic.Removed, t)
		}
	}
	slices.SortFunc(ic.Added, cmp.Compare)
	slices.SortFunc(ic.Removed, cmp.Compare)
	return ic
}

func termPaths(ix *codesys.Index) map[string]bool {
	m := make(map[string]bool)
	var walk func(prefix string, terms []*codesys.Term)
	walk = func(prefix string, terms []*codesys.Term) {
		for _, t := range terms {
			s := t.Title
			if t.Nemod != "" {
				s += " " + t.Nemod
			}
			if prefix != "" {
				s = prefix + " > " + s
			}
			m[s] = true
			walk(s, t.Terms)
		}
	}
	walk("", ix.Terms)
	return m
}
