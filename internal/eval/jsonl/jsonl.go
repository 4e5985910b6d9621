// Package jsonl reads and writes the generic evaluation format: one JSON
// document per line with its text, gold codes and optional gold evidence
// spans. It is how users bring their own data to "medcode eval"; see
// docs/eval.md.
//
//	{"id": "note-1", "text": "...", "language": "en",
//	 "codes": [{"code": "I10", "system": "icd10cm", "spans": [[12, 24]]},
//	           {"code": "E11.9"}]}
//
// Span offsets are Unicode characters (code points), end exclusive, as in
// Python string slicing. "spans" lists separate mentions of one span each;
// "mentions" lists mentions that may be discontinuous ([[[0, 4], [9, 14]]]).
// A code may also be given as a plain string. A missing system is guessed
// from the code's shape (ICD-10-CM, else ICD-10-PCS).
package jsonl

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/eval"
)

// Line is one line of the format.
type Line struct {
	ID       string `json:"id"`
	Text     string `json:"text"`
	Language string `json:"language,omitempty"`
	Codes    []Code `json:"codes"`
}

// Code is one gold code of a line.
type Code struct {
	Code     string     `json:"code"`
	System   string     `json:"system,omitempty"`
	Spans    [][2]int   `json:"spans,omitempty"`
	Mentions [][][2]int `json:"mentions,omitempty"`
}

// UnmarshalJSON accepts a code object or a plain code string.
func (c *Code) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '"' {
		*c = Code{}
		return json.Unmarshal(b, &c.Code)
	}
	type plain Code
	return json.Unmarshal(b, (*plain)(c))
}

// Read reads documents in the generic format. name is used in errors.
func Read(r io.Reader, name string) ([]eval.Document, error) {
	var docs []eval.Document
	seen := make(map[string]int)
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		raw, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(raw)) > 0 {
			var l Line
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&l); err != nil {
				return nil, fmt.Errorf("read %s: line %d: %w", name, n, err)
			}
			d, err := l.Document()
			if err != nil {
				return nil, fmt.Errorf("read %s: line %d: %w", name, n, err)
			}
			if prev, dup := seen[d.ID]; dup {
				return nil, fmt.Errorf("read %s: line %d: document %q already on line %d", name, n, d.ID, prev)
			}
			seen[d.ID] = n
			docs = append(docs, d)
		}
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
	}
}

// Open reads the file at path.
func Open(path string) ([]eval.Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("jsonl: %w", err)
	}
	defer f.Close()
	return Read(f, path)
}

// Document converts a line to a document, checking its spans.
func (l *Line) Document() (eval.Document, error) {
	if l.ID == "" {
		return eval.Document{}, fmt.Errorf("document without id")
	}
	d := eval.Document{ID: l.ID, Text: l.Text, Language: l.Language}
	off := eval.NewOffsets(l.Text)
	at := make(map[[2]string]int)
	for _, c := range l.Codes {
		if strings.TrimSpace(c.Code) == "" {
			return d, fmt.Errorf("document %s: empty code", l.ID)
		}
		sys := eval.GuessSystem(strings.TrimSpace(c.Code))
		if c.System != "" {
			s, err := codesys.ParseSystem(c.System)
			if err != nil {
				s = codesys.System(strings.ToLower(c.System))
			}
			sys = s
		}
		code := eval.CanonCode(sys, c.Code)
		k := [2]string{string(sys), code}
		i, ok := at[k]
		if !ok {
			i = len(d.Gold)
			at[k] = i
			d.Gold = append(d.Gold, eval.GoldCode{Code: code, System: sys})
		}
		mentions := c.Mentions
		for _, s := range c.Spans {
			mentions = append(mentions, [][2]int{s})
		}
		for _, m := range mentions {
			var em eval.Mention
			for _, s := range m {
				sp, ok := off.ByteSpan(s[0], s[1])
				if !ok {
					return d, fmt.Errorf("document %s: code %s: span [%d, %d] is empty or outside the text (%d characters)", l.ID, code, s[0], s[1], off.Chars())
				}
				em = append(em, sp)
			}
			if len(em) == 0 {
				return d, fmt.Errorf("document %s: code %s: empty mention", l.ID, code)
			}
			d.Gold[i].Evidence = append(d.Gold[i].Evidence, em)
		}
	}
	return d, nil
}

// Write writes documents in the generic format, converting spans to
// character offsets, so that any loaded dataset can be exported.
func Write(w io.Writer, docs []eval.Document) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, d := range docs {
		l := Line{ID: d.ID, Text: d.Text, Language: d.Language, Codes: []Code{}}
		off := eval.NewOffsets(d.Text)
		for _, g := range d.Gold {
			c := Code{Code: g.Code, System: string(g.System)}
			for _, m := range g.Evidence {
				var cm [][2]int
				for _, s := range m {
					cm = append(cm, [2]int{off.Char(s.Start), off.Char(s.End)})
				}
				if len(cm) == 1 {
					c.Spans = append(c.Spans, cm[0])
				} else {
					c.Mentions = append(c.Mentions, cm)
				}
			}
			l.Codes = append(l.Codes, c)
		}
		if err := enc.Encode(&l); err != nil {
			return fmt.Errorf("write document %s: %w", d.ID, err)
		}
	}
	return nil
}
