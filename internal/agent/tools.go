package agent

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/note/quote"
	"github.com/medcode-dev/medcode/internal/search"
)

// tool is one tool offered to the model: its description and schema, and
// the function that runs it on the note being coded. The result is text
// for the model (compact JSON); an error is returned to the model as a
// failed tool result.
type tool struct {
	spec ToolSpec
	run  func(ctx context.Context, s *session, args json.RawMessage) (string, error)
}

// obj builds a JSON schema of an object.
func obj(required []string, props map[string]any) map[string]any {
	if required == nil {
		required = []string{}
	}
	return map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false}
}

func str(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }
func strEnum(desc string, vals ...string) map[string]any {
	return map[string]any{"type": "string", "description": desc, "enum": vals}
}
func integer(desc string) map[string]any {
	return map[string]any{"type": "integer", "description": desc}
}
func arr(desc string, items map[string]any) map[string]any {
	return map[string]any{"type": "array", "description": desc, "items": items}
}

var indexNames = map[string]search.Source{
	"index": search.SourceIndex, "external": search.SourceExternal, "neoplasm": search.SourceNeoplasm,
	"drug": search.SourceDrug, "pcs": search.SourcePCSIndex,
}

// The tools every stage may be offered, by name.
func allTools() map[string]tool {
	ts := []tool{
		{ToolSpec{"search_index", "Search the Alphabetic Index, External Cause Index, Neoplasm and Drug tables and the ICD-10-PCS Index by words. Returns entries as index paths with their codes and cross-references.",
			obj([]string{"query"}, map[string]any{
				"query": str("words of the condition, procedure or cause, e.g. 'fracture radius distal'"),
				"index": strEnum("restrict to one index", "index", "external", "neoplasm", "drug", "pcs"),
				"limit": integer("max entries, default 8"),
			})}, runSearchIndex},
		{ToolSpec{"get_index_entry", "Open an index entry by its path (main term, subterm, ...) and list its code, cross-references and subterms.",
			obj([]string{"path"}, map[string]any{
				"path":  arr("titles from the main term down, e.g. ['Fall', 'from', 'ladder']", str("")),
				"index": strEnum("which index, default index", "index", "external", "neoplasm", "drug", "pcs"),
			})}, runGetIndexEntry},
		{ToolSpec{"lookup_code", "Open a code in the Tabular List (or ICD-10-PCS tables, or the classes of a classification read as classes): status (valid/header/invalid), title, instructional notes (includes, excludes1, excludes2, code first, use additional code, code also) or rubrics, 7th characters and child codes.",
			obj([]string{"code"}, map[string]any{"code": str("e.g. E11.9, S52.5, 0DTJ4ZZ"),
				"system": str("the classification (e.g. icd10uk, opcs4); needed only when the note is coded into several that share codes")})}, runLookupCode},
		{ToolSpec{"search_tabular", "Search Tabular List code titles and inclusion terms by words.",
			obj([]string{"query"}, map[string]any{"query": str("words"), "limit": integer("max entries, default 8")})}, runSearchTabular},
		{ToolSpec{"neoplasm_table", "Look up a site in the Table of Neoplasms; returns the row and its code for each behaviour column.",
			obj([]string{"site"}, map[string]any{"site": arr("row titles, e.g. ['lung', 'upper lobe']", str(""))})}, runNeoplasm},
		{ToolSpec{"drug_table", "Look up a substance in the Table of Drugs and Chemicals; returns its codes per intent (accidental, self-harm, assault, undetermined, adverse effect, underdosing).",
			obj([]string{"substance"}, map[string]any{"substance": arr("row titles, e.g. ['Warfarin']", str(""))})}, runDrug},
		{ToolSpec{"search_guidelines", "Search the ICD-10-CM Official Guidelines for Coding and Reporting; give 'section' (e.g. I.C.9.a.2) to read one section.",
			obj(nil, map[string]any{"query": str("words of the rule"), "section": str("section number to read")})}, runSearchGuidelines},
		{ToolSpec{"find_in_note", "Find where a passage occurs in the note. Returns the exact text, its section and the assertion the context rules give (one of the assertion values: affirmed, negated, possible, historical, resolved, family, other person, hypothetical).",
			obj([]string{"text"}, map[string]any{"text": str("a verbatim passage of the note")})}, runFindInNote},
	}
	m := map[string]tool{}
	for _, t := range ts {
		m[t.spec.Name] = t
	}
	for _, t := range submitTools() {
		m[t.spec.Name] = t
	}
	return m
}

type args map[string]json.RawMessage

func decodeArgs(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("arguments do not match the schema: %v", err)
	}
	return nil
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf(`{"error":%q}`, err.Error())
	}
	return string(b)
}

type hitOut struct {
	Path  string `json:"path"`
	Code  string `json:"code,omitempty"`
	Manif string `json:"manif,omitempty"`
	Title string `json:"title,omitempty"`
	Col   string `json:"col,omitempty"`
	See   string `json:"see,omitempty"`
	Also  string `json:"seeAlso,omitempty"`
	Cat   string `json:"seeCat,omitempty"`
	Use   string `json:"use,omitempty"`
	Via   string `json:"via,omitempty"`
	Src   string `json:"src,omitempty"`
	// Sys is the hit's classification, given when the note is coded
	// into several.
	Sys string `json:"system,omitempty"`
}

// hit is a search hit and the classification of the release it came
// from.
type hit struct {
	search.Hit
	sys codesys.System
}

func hitsOut(hs []hit, withSrc, withSys bool) []hitOut {
	out := make([]hitOut, 0, len(hs))
	for _, h := range hs {
		o := hitOut{Path: strings.Join(h.Path, " > "), Code: h.Code, Manif: h.Manif, Title: h.Title, Col: h.Column,
			See: h.See, Also: h.SeeAlso, Cat: h.SeeCat, Use: h.Use, Via: strings.Join(h.Via, " > ")}
		if withSrc {
			o.Src = h.Source.String()
		}
		if withSys {
			o.Sys = string(h.sys)
		}
		out = append(out, o)
	}
	return out
}

// search searches the releases of the note's classifications. A
// classification read as classes has no index: a search of the indexes
// searches its class titles and inclusion rubrics.
func (s *session) search(q string, sources []search.Source, limit int) []hit {
	if limit <= 0 || limit > 25 {
		limit = 8
	}
	var all []hit
	for i, sr := range s.a.searchers {
		rel := s.a.rels[i]
		if !slices.Contains(s.systems, rel.System) {
			continue
		}
		srcs := sources
		if rel.Classes != nil {
			srcs = search.TabularSources
		}
		for _, h := range sr.Search(q, search.Options{Limit: limit, Sources: srcs, FollowSee: true}) {
			all = append(all, hit{h, rel.System})
		}
	}
	// Hits of different releases carry comparable scores only roughly;
	// with the usual split (one release per part) they do not mix.
	slices.SortStableFunc(all, func(a, b hit) int { return cmp.Compare(b.Score, a.Score) })
	if len(all) > limit {
		all = all[:limit]
	}
	return all
}

func runSearchIndex(_ context.Context, s *session, raw json.RawMessage) (string, error) {
	var a struct {
		Query string `json:"query"`
		Index string `json:"index"`
		Limit int    `json:"limit"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return "", err
	}
	srcs := search.IndexSources
	if a.Index != "" {
		src, ok := indexNames[a.Index]
		if !ok {
			return "", fmt.Errorf("unknown index %q (want index, external, neoplasm, drug or pcs)", a.Index)
		}
		srcs = []search.Source{src}
	}
	hs := s.search(a.Query, srcs, a.Limit)
	if len(hs) == 0 {
		return fmt.Sprintf(`{"hits":[],"note":"nothing found for %q; try the condition's main term or a synonym"}`, a.Query), nil
	}
	return compact(map[string]any{"hits": hitsOut(hs, a.Index == "", s.labelSystems())}), nil
}

func runSearchTabular(_ context.Context, s *session, raw json.RawMessage) (string, error) {
	var a struct {
		Query string `json:"query"`
		Limit int    `json:"limit"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return "", err
	}
	hs := s.search(a.Query, search.TabularSources, a.Limit)
	return compact(map[string]any{"hits": hitsOut(hs, false, s.labelSystems())}), nil
}

// indexParts are the index-shaped parts by the names the tools give them.
var indexParts = map[string]codesys.Part{"index": codesys.PartIndex, "external": codesys.PartExternal,
	"neoplasm": codesys.PartNeoplasm, "drug": codesys.PartDrug, "pcs": codesys.PartPCSIndex}

// indexFor returns the index named (the Alphabetic Index when "") of a
// release of the note's classifications.
func (s *session) indexFor(name string) (*codesys.Index, error) {
	if name == "" {
		name = "index"
	}
	part := indexParts[name]
	if part == "" {
		return nil, fmt.Errorf("unknown index %q (want index, external, neoplasm, drug or pcs)", name)
	}
	for _, r := range s.a.rels {
		if !slices.Contains(s.systems, r.System) {
			continue
		}
		if ix := r.Indexes()[part]; ix != nil {
			return ix, nil
		}
	}
	return nil, fmt.Errorf("the installed releases have no %s index; use search_index or search_tabular", name)
}

// hasIndex reports whether a release of the note's classifications has
// the index named, or any index when name is "".
func (s *session) hasIndex(name string) bool {
	for _, r := range s.a.rels {
		if !slices.Contains(s.systems, r.System) {
			continue
		}
		ixs := r.Indexes()
		if name == "" && len(ixs) > 0 || name != "" && ixs[indexParts[name]] != nil {
			return true
		}
	}
	return false
}

type termOut struct {
	Title string   `json:"title"`
	Code  string   `json:"code,omitempty"`
	Manif string   `json:"manif,omitempty"`
	See   string   `json:"see,omitempty"`
	Also  string   `json:"seeAlso,omitempty"`
	Cat   string   `json:"seeCat,omitempty"`
	Sub   string   `json:"subCat,omitempty"`
	Use   string   `json:"use,omitempty"`
	Codes string   `json:"codes,omitempty"`
	Tab   string   `json:"table,omitempty"`
	Cells []string `json:"cells,omitempty"`
	N     int      `json:"subterms,omitempty"`
}

func termInfo(ix *codesys.Index, t *codesys.Term) termOut {
	o := termOut{Title: t.Label(), Code: t.Code, Manif: t.Manif, See: t.See, Also: t.SeeAlso, Cat: t.SeeCat,
		Sub: t.SubCat, Use: t.Use, Codes: t.Codes, Tab: t.Tab, N: len(t.Terms)}
	if t.Nemod != "" {
		o.Title = t.Text()
	}
	for _, c := range t.Cells {
		if c.HasCode() && c.Col-1 < len(ix.Columns) {
			o.Cells = append(o.Cells, ix.Columns[c.Col-1]+": "+c.Code)
		}
	}
	return o
}

func runGetIndexEntry(_ context.Context, s *session, raw json.RawMessage) (string, error) {
	var a struct {
		Path  []string `json:"path"`
		Index string   `json:"index"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return "", err
	}
	if len(a.Path) == 0 {
		return "", errors.New("path is empty")
	}
	ix, err := s.indexFor(a.Index)
	if err != nil {
		return "", err
	}
	path, ok := ix.Find(a.Path...)
	rest := ""
	if !ok {
		path, rest, err = ix.Resolve(strings.Join(a.Path, ", "))
		if err != nil {
			return "", fmt.Errorf("no entry %q in the %s index; search_index finds entries by words", strings.Join(a.Path, " > "), ix.Part)
		}
	}
	t := path[len(path)-1]
	out := map[string]any{"path": codesys.PathString(path), "entry": termInfo(ix, t)}
	if rest != "" {
		out["unresolved"] = rest
	}
	const maxSub = 60
	var subs []termOut
	for i, st := range t.Terms {
		if i == maxSub {
			out["more"] = len(t.Terms) - maxSub
			break
		}
		subs = append(subs, termInfo(ix, st))
	}
	if len(subs) > 0 {
		out["subterms"] = subs
	}
	return compact(out), nil
}

func runLookupCode(_ context.Context, s *session, raw json.RawMessage) (string, error) {
	var a struct {
		Code   string `json:"code"`
		System string `json:"system"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return "", err
	}
	sys, err := s.systemOf(a.Code, a.System)
	if err != nil {
		return "", err
	}
	rel := s.a.validator(sys)
	e, err := rel.Lookup(a.Code)
	if err != nil {
		return "", err
	}
	out := map[string]any{"code": firstNonEmpty(e.Code, e.Input), "status": e.Status, "title": e.Title}
	if s.labelSystems() {
		out["system"] = sys
	}
	if e.Reason != "" {
		out["reason"] = e.Reason
	}
	if e.Status == codesys.Invalid {
		out["hint"] = "search_tabular or search_index for the condition; lookup_code on the category lists its codes"
		return compact(out), nil
	}
	var notes []map[string]any
	for _, sn := range e.Notes {
		n := map[string]any{"from": sn.From}
		sn.Notes.Each(func(kind string, ns []string) { n[kind] = ns })
		notes = append(notes, n)
	}
	if len(notes) > 0 {
		out["notes"] = notes
	}
	if len(e.SevenChr) > 0 {
		var sc []string
		for _, c := range e.SevenChr {
			sc = append(sc, c.Char+"="+c.Title)
		}
		out["7thChar"] = sc
	}
	if len(e.Children) > 0 {
		var ch []string
		for _, c := range e.Children {
			ch = append(ch, c.Code+" "+c.Title)
		}
		out["children"] = ch
	}
	if rel.Classes != nil {
		// A class: where it stands and the rubrics that apply to it,
		// its own and its superclasses' of inherited kinds.
		var hier []string
		for _, h := range e.Hierarchy {
			hier = append(hier, strings.TrimSpace(h.Code+" "+h.Title))
		}
		if len(hier) > 0 {
			out["hierarchy"] = hier
		}
		var rubrics []map[string]any
		for _, sr := range e.Rubrics {
			for _, r := range sr.Rubrics {
				rubrics = append(rubrics, map[string]any{"from": sr.From, "kind": r.Kind, "text": clip(r.Text, 600)})
			}
		}
		if len(rubrics) > 0 {
			out["rubrics"] = rubrics
		}
		if e.Kind != "" {
			out["kind"] = e.Kind
		}
	}
	for _, ax := range e.Axes {
		out["axes"] = append(asStrings(out["axes"]), fmt.Sprintf("%d %s: %s %s", ax.Pos, ax.Title, ax.Value, ax.Label))
	}
	return compact(out), nil
}

func asStrings(v any) []string {
	s, _ := v.([]string)
	return s
}

func runTable(s *session, raw json.RawMessage, field, name string, cols []codesys.Column) (string, error) {
	var a map[string][]string
	if err := decodeArgs(raw, &a); err != nil {
		return "", err
	}
	titles := a[field]
	if len(titles) == 0 {
		return "", fmt.Errorf("%s is empty", field)
	}
	ix, err := s.indexFor(name)
	if err != nil {
		return "", err
	}
	out := map[string]any{}
	cells := map[string]string{}
	for _, c := range cols {
		code, path, err := ix.Cell(c, titles...)
		if errors.Is(err, codesys.ErrNoTerm) {
			hs := s.search(strings.Join(titles, " "), []search.Source{indexNames[name]}, 6)
			return compact(map[string]any{"error": fmt.Sprintf("no row %q", strings.Join(titles, " > ")), "similar": hitsOut(hs, false, false)}), nil
		}
		if len(path) > 0 {
			out["row"] = codesys.PathString(path)
		}
		if err == nil {
			cells[string(c)] = code
		}
	}
	out["codes"] = cells
	return compact(out), nil
}

func runNeoplasm(_ context.Context, s *session, raw json.RawMessage) (string, error) {
	return runTable(s, raw, "site", "neoplasm", codesys.NeoplasmColumns())
}

func runDrug(_ context.Context, s *session, raw json.RawMessage) (string, error) {
	return runTable(s, raw, "substance", "drug", codesys.DrugColumns())
}

func runSearchGuidelines(_ context.Context, s *session, raw json.RawMessage) (string, error) {
	var a struct {
		Query   string `json:"query"`
		Section string `json:"section"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return "", err
	}
	g := s.a.guidelines
	if g == nil {
		return `{"error":"no guidelines installed; apply the conventions you know and say so in the rationale"}`, nil
	}
	if a.Section != "" {
		sec := g.Section(a.Section)
		if sec == nil {
			return "", fmt.Errorf("no section %q in the %s guidelines", a.Section, g.Year)
		}
		return compact(map[string]any{"id": sec.ID, "title": sec.Title, "text": clip(sec.Text, 3000)}), nil
	}
	if a.Query == "" {
		return "", errors.New("give query or section")
	}
	var out []map[string]string
	for _, h := range g.Search(a.Query, 5) {
		sec := g.Section(h.ID)
		out = append(out, map[string]string{"id": h.ID, "title": h.Title, "text": clip(sec.Text, 400)})
	}
	return compact(map[string]any{"year": g.Year, "sections": out}), nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func runFindInNote(_ context.Context, s *session, raw json.RawMessage) (string, error) {
	var a struct {
		Text string `json:"text"`
	}
	if err := decodeArgs(raw, &a); err != nil {
		return "", err
	}
	ms, err := s.aligner.Find(a.Text, quote.Options{})
	if err != nil {
		return `{"found":false,"note":"the passage is not in the note; quote the note verbatim"}`, nil
	}
	var out []map[string]any
	for i, m := range ms {
		if i == 5 {
			break
		}
		out = append(out, map[string]any{"text": m.Text, "start": m.Start, "section": s.sectionName(m.Start), "assertion": s.assertion(m.Span)})
	}
	return compact(map[string]any{"found": true, "matches": out}), nil
}
