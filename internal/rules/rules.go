// Package rules holds medcode's rule packs: the classification- and
// language-specific knowledge the coders read (word classes, lay phrases,
// term tables, presumed links, history codes, code groups), kept as
// versioned data files rather than in Go.
//
// A pack is one file named SCOPE/NAME.EXT, where SCOPE is a classification
// (icd10cm, icd10pcs, icd10uk, opcs4) or a language (en). The packs in
// packs/ are embedded as the defaults; a folder of the same layout (the
// data directory's rules folder, or one given with --rules) overrides a
// pack by holding a file of the same name, and adds packs medcode does not
// ship (the UK exclusion packs made by Import). Every pack begins with a
// header:
//
//	# pack: icd10cm/history
//	# version: 1
//	# source: where its rows come from
//
// then comment lines saying what it is, then its rows. Check compares the
// codes a pack names with a release; docs/rules.md describes every pack.
package rules

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
)

//go:embed packs
var embedded embed.FS

// Embedded says a pack is one of the defaults built into medcode.
const Embedded = "embedded"

// Pack is one rule pack.
type Pack struct {
	// Name is the pack's scope and name, "icd10cm/history".
	Name string
	// Version is the pack's version from its header: a pack that changes
	// meaning gets a new one.
	Version int
	// Source says where the rows come from, from the header.
	Source string
	// File is where the pack was read from: Embedded, or a file's path.
	File string
	// Text is the whole file.
	Text string
	// Rows are the lines that are neither blank nor comments.
	Rows []Row
}

// Row is one line of a pack.
type Row struct {
	// Line is the line's number in the file, from 1.
	Line int
	// Text is the line without its line ending.
	Text string
	// Fields are the line's tab-separated fields.
	Fields []string
}

// Scope returns the classification or language the pack belongs to.
func (p *Pack) Scope() string {
	s, _, _ := strings.Cut(p.Name, "/")
	return s
}

// Where names a row of the pack for messages: the file and the line.
func (p *Pack) Where(r Row) string {
	return fmt.Sprintf("%s line %d", p.Label(), r.Line)
}

// Label names the pack's file for messages: its path, or its name marked
// embedded.
func (p *Pack) Label() string {
	if p.File == Embedded {
		return p.Name + " (embedded)"
	}
	return p.File
}

// Set is the packs in effect: the embedded ones, overridden and extended
// by the packs of the folders it was loaded from. A Set is not changed
// after Load returns and is safe for concurrent use.
type Set struct {
	packs map[string]*Pack
	// notes say what the folders changed, for start-up messages.
	notes []string
}

// Default returns the embedded packs alone.
func Default() (*Set, error) { return Load() }

// Load returns the embedded packs overridden by the packs found in dirs,
// in order (a later folder wins). A folder that does not exist is skipped:
// the data directory has no rules folder until a pack is put there. A pack
// that cannot be read or has no valid header is an error naming its file
// and line.
func Load(dirs ...string) (*Set, error) {
	s := &Set{packs: map[string]*Pack{}}
	if err := s.addFS(embedded, "packs", Embedded); err != nil {
		return nil, err
	}
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if _, err := os.Stat(d); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := s.addFS(os.DirFS(d), ".", d); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// addFS reads every pack under root of fsys; dir is the folder it stands
// for in messages, or Embedded.
func (s *Set) addFS(fsys fs.FS, root, dir string) error {
	return fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("rule packs: %w", err)
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") || !packExt(p) {
			return nil
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
		name := strings.TrimSuffix(rel, path.Ext(rel))
		file := Embedded
		if dir != Embedded {
			file = path.Join(dir, rel)
		}
		if strings.Count(name, "/") != 1 {
			return fmt.Errorf("%s: a pack is SCOPE/NAME (a classification or language folder, then the file)", file)
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("rule packs: %w", err)
		}
		pk, err := Parse(name, file, string(data))
		if err != nil {
			return err
		}
		if old := s.packs[name]; old != nil && dir != Embedded {
			s.notes = append(s.notes, fmt.Sprintf("rule pack %s: %s overrides %s", name, file, old.Label()))
		} else if dir != Embedded {
			s.notes = append(s.notes, fmt.Sprintf("rule pack %s: added from %s", name, file))
		}
		s.packs[name] = pk
		return nil
	})
}

// packExt reports whether a file name is a pack's: a .tsv or .txt file.
func packExt(name string) bool {
	switch path.Ext(name) {
	case ".tsv", ".txt":
		return true
	}
	return false
}

// Parse reads the text of the pack name (SCOPE/NAME) read from file. The
// header's pack line must name the pack, so that a file copied under
// another name is not taken for the pack it replaces.
func Parse(name, file, text string) (*Pack, error) {
	p := &Pack{Name: name, File: file, Text: text}
	where := func(line int) string {
		if file == Embedded {
			return fmt.Sprintf("%s (embedded) line %d", name, line)
		}
		return fmt.Sprintf("%s line %d", file, line)
	}
	no, header := 0, true
	for line := range strings.Lines(text) {
		no++
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, "#") {
			if !header {
				continue
			}
			key, val, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#")), ":")
			if !ok {
				continue
			}
			val = strings.TrimSpace(val)
			switch key {
			case "pack":
				if val != name {
					return nil, fmt.Errorf("%s: header names pack %q, the file's place says %q", where(no), val, name)
				}
			case "version":
				v, err := strconv.Atoi(val)
				if err != nil || v < 1 {
					return nil, fmt.Errorf("%s: version %q: want a whole number from 1", where(no), val)
				}
				p.Version = v
			case "source":
				p.Source = val
			}
			continue
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if header {
			header = false
			if p.Version == 0 || p.Source == "" {
				return nil, fmt.Errorf("%s: the header (# pack:, # version:, # source:) must come before the first row", where(no))
			}
		}
		p.Rows = append(p.Rows, Row{Line: no, Text: line, Fields: strings.Split(line, "\t")})
	}
	if p.Version == 0 || p.Source == "" {
		return nil, fmt.Errorf("%s: no header (# pack:, # version:, # source:)", where(1))
	}
	return p, nil
}

// Pack returns the pack name (SCOPE/NAME), or nil when no pack has it.
func (s *Set) Pack(name string) *Pack { return s.packs[name] }

// Packs returns every pack, by name.
func (s *Set) Packs() []*Pack {
	out := make([]*Pack, 0, len(s.packs))
	for _, p := range s.packs {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Pack) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Notes say which packs the folders overrode or added.
func (s *Set) Notes() []string { return slices.Clone(s.notes) }

// Digest identifies the content of the named packs, for keys of what is
// built from them (the coder's lexicon cache).
func (s *Set) Digest(names ...string) string {
	h := sha256.New()
	for _, n := range names {
		p := s.packs[n]
		if p == nil {
			fmt.Fprintf(h, "%s -\n", n)
			continue
		}
		fmt.Fprintf(h, "%s %d\n", n, len(p.Text))
		h.Write([]byte(p.Text))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Words returns the whitespace-separated words of every row of a pack (a
// word list such as en/vague).
func (p *Pack) Words() []string {
	var out []string
	for _, r := range p.Rows {
		out = append(out, strings.Fields(r.Text)...)
	}
	return out
}

// Lines returns the first field of every row, trimmed (a list of one
// entry a line such as icd10cm/encounter).
func (p *Pack) Lines() []string {
	out := make([]string, 0, len(p.Rows))
	for _, r := range p.Rows {
		out = append(out, strings.TrimSpace(r.Fields[0]))
	}
	return out
}

// Each calls fn with every row, and wraps its error with the row's file
// and line.
func (p *Pack) Each(fn func(r Row) error) error {
	for _, r := range p.Rows {
		if err := fn(r); err != nil {
			return fmt.Errorf("%s: %w", p.Where(r), err)
		}
	}
	return nil
}
