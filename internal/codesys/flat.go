package codesys

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Columns names, for each field of a flat code list, the header of the
// column that holds it. Code and Title are required; the others may be
// empty.
type Columns struct {
	// Code is the code or identifier of the row ("I219", "A01.1",
	// "Chapter_I").
	Code string
	// Title is the row's title. A title that begins with the code
	// as displayed ("I21.9 Acute myocardial infarction, unspecified")
	// gives the code its display form; see ReadFlat.
	Title string
	// Parent holds the parent of the row: a node identifier when Node is
	// given, else a code. Empty, or "0" when no row has that identifier,
	// marks a top-level row.
	Parent string
	// Node is a row identifier other rows' Parent refers to, when parents
	// are not given by code (as in UK Biobank's codings).
	Node string
	// Selectable says whether the code may be assigned: Y/N, yes/no,
	// true/false or 1/0. Without it, rows without children that are not
	// chapters or blocks are selectable.
	Selectable string
	// Kind names the row's kind of class (chapter, block, category ...).
	// Without it, top-level rows are chapters, rows whose code is a range
	// ("A00-A09") blocks and the rest categories.
	Kind string
}

// columnField is a field of Columns by the name ParseColumns and messages
// use, with the headers it is recognized by when no mapping is given.
type columnField struct {
	name    string
	field   func(*Columns) *string
	headers []string
}

// columnFields lists the fields of Columns.
func columnFields() []columnField {
	return []columnField{
		{"code", func(c *Columns) *string { return &c.Code }, []string{"code", "coding"}},
		{"title", func(c *Columns) *string { return &c.Title }, []string{"title", "meaning", "description", "desc", "name", "display", "term"}},
		{"parent", func(c *Columns) *string { return &c.Parent }, []string{"parent", "parent_id", "parent_code"}},
		{"node", func(c *Columns) *string { return &c.Node }, []string{"node", "node_id"}},
		{"selectable", func(c *Columns) *string { return &c.Selectable }, []string{"selectable", "billable", "assignable"}},
		{"kind", func(c *Columns) *string { return &c.Kind }, []string{"kind", "level"}},
	}
}

// ParseColumns reads a column mapping such as
// "code=coding,title=meaning,parent=parent_id,node=node_id,selectable=selectable":
// field=header pairs separated by commas, the fields being code, title,
// parent, node, selectable and kind.
func ParseColumns(s string) (Columns, error) {
	var c Columns
	for pair := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		field, header, ok := strings.Cut(pair, "=")
		field, header = strings.ToLower(strings.TrimSpace(field)), strings.TrimSpace(header)
		if !ok || header == "" {
			return Columns{}, fmt.Errorf("column mapping %q: want field=header", pair)
		}
		found := false
		for _, f := range columnFields() {
			if f.name == field {
				*f.field(&c), found = header, true
			}
		}
		if !found {
			return Columns{}, fmt.Errorf("column mapping %q: unknown field %q (fields: code, title, parent, node, selectable, kind)", pair, field)
		}
	}
	return c, nil
}

// FlatOptions adjusts how ReadFlat reads a list.
type FlatOptions struct {
	// Columns maps fields to headers; fields left empty are recognized
	// from the header by their usual names (coding, meaning, parent_id,
	// node_id, selectable ...).
	Columns Columns
	// Comma is the field separator: 0 means a tab when the header line
	// has one, else a comma. Tab-separated lines are split on tabs
	// without quoting; comma-separated ones are read as CSV (RFC 4180).
	Comma rune
}

// rangeCode matches a block's code: a range of codes such as "A00-A09".
var rangeCode = regexp.MustCompile(`^[^\s-]+-[^\s-]+$`)

// flatRow is one data row as read, before the list is linked.
type flatRow struct {
	line                               int
	code, title, parent, node, sel, kd string
}

// ReadFlat reads a flat code list: a header line naming the columns, then
// one row per class with its code and title and optionally its parent,
// node identifier, selectable flag and kind (see Columns). name is used in
// error messages, which give the line.
//
// Lists often print the code at the start of the title, in its display
// form: "I21.9 Acute myocardial infarction, unspecified" for code I219,
// "A00-A09 Intestinal infectious diseases" for Block_A00-A09. When the
// title begins with the code, or with a word that is the code with its dot
// or the last part of an identifier, that word becomes the class's code
// (the list's own code its ID, which lookups also find) and the rest its
// title.
func ReadFlat(r io.Reader, name string, opts FlatOptions) (*Classes, error) {
	fail := func(line int, format string, args ...any) error {
		return fmt.Errorf("read list %s: line %d: %s", name, line, fmt.Sprintf(format, args...))
	}
	br := bufio.NewReaderSize(r, 64<<10)
	headLine, err := br.ReadString('\n')
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("read list %s: %w", name, err)
	}
	headLine = strings.TrimPrefix(headLine, "\ufeff")
	if strings.TrimSpace(headLine) == "" {
		return nil, fmt.Errorf("read list %s: no header line naming the columns", name)
	}
	comma := opts.Comma
	if comma == 0 {
		comma = ','
		if strings.Contains(headLine, "\t") {
			comma = '\t'
		}
	}
	next := tsvRecords(br, 2)
	header := splitTSV(headLine)
	if comma != '\t' {
		cr := csv.NewReader(io.MultiReader(strings.NewReader(headLine), br))
		cr.Comma = comma
		cr.FieldsPerRecord = -1
		if header, err = cr.Read(); err != nil {
			return nil, fmt.Errorf("read list %s: line 1: %w", name, err)
		}
		next = func() ([]string, int, error) {
			rec, err := cr.Read()
			if err != nil {
				var pe *csv.ParseError
				if errors.As(err, &pe) {
					return nil, pe.Line, pe.Err
				}
				return nil, 0, err
			}
			line, _ := cr.FieldPos(0)
			return rec, line, nil
		}
	}
	pos, err := columnPositions(header, opts.Columns)
	if err != nil {
		return nil, fmt.Errorf("read list %s: line 1: %w", name, err)
	}

	var rows []flatRow
	for {
		rec, line, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fail(line, "%v", err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		get := func(field string) (string, error) {
			i := pos[field]
			if i < 0 {
				return "", nil
			}
			if i >= len(rec) {
				return "", fmt.Errorf("%d fields, but column %q is field %d", len(rec), header[i], i+1)
			}
			return strings.TrimSpace(rec[i]), nil
		}
		row := flatRow{line: line}
		for _, f := range []struct {
			field string
			dst   *string
		}{{"code", &row.code}, {"title", &row.title}, {"parent", &row.parent}, {"node", &row.node}, {"selectable", &row.sel}, {"kind", &row.kd}} {
			if *f.dst, err = get(f.field); err != nil {
				return nil, fail(line, "%v", err)
			}
		}
		if row.code == "" {
			return nil, fail(line, "no code in column %q", header[pos["code"]])
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("read list %s: no rows after the header", name)
	}
	return linkFlat(rows, pos["node"] >= 0, name)
}

// tsvRecords returns a reader of tab-separated lines, numbered from first.
func tsvRecords(br *bufio.Reader, first int) func() ([]string, int, error) {
	line := first - 1
	return func() ([]string, int, error) {
		s, err := br.ReadString('\n')
		if err != nil && (err != io.EOF || s == "") {
			return nil, line + 1, err
		}
		line++
		return splitTSV(s), line, nil
	}
}

func splitTSV(s string) []string {
	return strings.Split(strings.TrimRight(s, "\r\n"), "\t")
}

// columnPositions finds each field's column in the header: by the mapping
// when it names one, else by the field's usual headers. Absent fields are
// -1.
func columnPositions(header []string, cols Columns) (map[string]int, error) {
	pos := make(map[string]int, len(columnFields()))
	find := func(h string) int {
		for i, x := range header {
			if strings.EqualFold(strings.TrimSpace(x), h) {
				return i
			}
		}
		return -1
	}
	for _, f := range columnFields() {
		pos[f.name] = -1
		if h := *f.field(&cols); h != "" {
			if pos[f.name] = find(h); pos[f.name] < 0 {
				return nil, fmt.Errorf("no column %q for the %s (columns: %s)", h, f.name, strings.Join(header, ", "))
			}
			continue
		}
		for _, h := range f.headers {
			if i := find(h); i >= 0 {
				pos[f.name] = i
				break
			}
		}
	}
	for _, f := range []string{"code", "title"} {
		if pos[f] < 0 {
			return nil, fmt.Errorf("no %s column among %s: name it with a column mapping (%s=HEADER)", f, strings.Join(header, ", "), f)
		}
	}
	return pos, nil
}

// linkFlat turns the rows into Classes, resolving parents by node
// identifier (byNode) or by code.
func linkFlat(rows []flatRow, byNode bool, name string) (*Classes, error) {
	c := &Classes{Classes: make([]Class, len(rows))}
	nodes := make(map[string]int, len(rows))
	codes := make(map[string]int, len(rows))
	for i, r := range rows {
		cl := Class{Code: r.code, Title: r.title, Kind: r.kd}
		cl.Code, cl.ID, cl.Title = displayCode(r.code, r.title)
		c.Classes[i] = cl
		if byNode {
			if r.node == "" {
				return nil, fmt.Errorf("read list %s: line %d: no node identifier", name, r.line)
			}
			if _, dup := nodes[r.node]; dup {
				return nil, fmt.Errorf("read list %s: line %d: node identifier %s is given twice", name, r.line, r.node)
			}
			nodes[r.node] = i
		}
		codes[r.code] = i
		codes[cl.Code] = i
	}
	parents := make([]string, len(rows))
	for i, r := range rows {
		p := r.parent
		if p == "" {
			continue
		}
		pi, ok := codes[p]
		if byNode {
			pi, ok = nodes[p]
		}
		switch {
		case ok:
			parents[i] = c.Classes[pi].Code
		case p == "0":
			// UK Biobank's codings mark top-level rows with parent 0.
		case byNode:
			return nil, fmt.Errorf("read list %s: line %d: parent %s is not the node identifier of any row", name, r.line, p)
		default:
			return nil, fmt.Errorf("read list %s: line %d: parent %s is not the code of any row", name, r.line, p)
		}
	}
	if err := c.link(parents, make([][]string, len(rows)), func(i int) string { return "line " + strconv.Itoa(rows[i].line) }); err != nil {
		return nil, fmt.Errorf("read list %s: %w", name, err)
	}
	for i, r := range rows {
		cl := &c.Classes[i]
		if cl.Kind == "" {
			switch {
			case cl.Parent < 0:
				cl.Kind = "chapter"
			case rangeCode.MatchString(cl.Code):
				cl.Kind = "block"
			default:
				cl.Kind = "category"
			}
		}
		sel, err := parseFlag(r.sel)
		switch {
		case err != nil:
			return nil, fmt.Errorf("read list %s: line %d: selectable: %w", name, r.line, err)
		case r.sel == "":
			cl.Selectable = len(cl.Children) == 0 && cl.Kind != "chapter" && cl.Kind != "block"
		default:
			cl.Selectable = sel
		}
	}
	c.Prepare()
	return c, nil
}

func parseFlag(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "n", "no", "false", "0":
		return false, nil
	case "y", "yes", "true", "1":
		return true, nil
	}
	return false, fmt.Errorf("%q is not Y/N, yes/no, true/false or 1/0", s)
}

// displayCode splits the code's display form off the start of a title:
// "Chapter A - Nervous System" for code "Chapter A" is titled "Nervous
// System"; "I21.9 Acute myocardial infarction, unspecified" for code I219
// is I21.9 with ID I219; "A00-A09 Intestinal infectious diseases" for code
// Block_A00-A09 is A00-A09 with that ID. Other titles are left as they are.
func displayCode(code, title string) (display, id, rest string) {
	for _, sep := range []string{" - ", ": ", " "} {
		if len(title) > len(code)+len(sep) && strings.EqualFold(title[:len(code)], code) && strings.HasPrefix(title[len(code):], sep) {
			return code, "", strings.TrimSpace(title[len(code)+len(sep):])
		}
	}
	word, after, ok := strings.Cut(title, " ")
	after = strings.TrimSpace(after)
	if !ok || after == "" {
		return code, "", title
	}
	if lookupKey(word) == lookupKey(code) || strings.HasSuffix(code, "_"+word) || strings.HasSuffix(code, " "+word) {
		if word == code {
			return code, "", after
		}
		return word, code, after
	}
	return code, "", title
}
