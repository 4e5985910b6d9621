package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// The formats a classification read as classes is imported from.
const (
	FormatClaML = "claml" // ClaML 2.0 (ISO 13120) XML
	FormatFlat  = "flat"  // a flat code list: TSV or CSV with a header
)

// flatName reports whether a file's name (after .gz is removed) is one a
// flat code list is looked for under when a folder or archive is imported:
// unlike XML, a text table does not say what it is.
func flatName(name string) bool {
	switch strings.ToLower(path.Ext(strings.TrimSuffix(strings.ToLower(name), ".gz"))) {
	case ".tsv", ".csv", ".txt", ".tab":
		return true
	}
	return false
}

// importSystem names the system to import: a registered classification,
// or, when a format is given, any valid name for a code list of the user's
// own. Without a format an unknown name is taken for a slip.
func importSystem(system, format string) (codesys.System, error) {
	switch format {
	case "", FormatClaML, FormatFlat:
	default:
		return "", fmt.Errorf("unknown import format %q (formats: %s, %s)", format, FormatClaML, FormatFlat)
	}
	if format == "" {
		sys, err := codesys.KnownSystem(system)
		if err != nil {
			return "", fmt.Errorf("%w; to import a code list of your own under this name, give its format (--format %s or %s)", err, FormatClaML, FormatFlat)
		}
		return sys, nil
	}
	sys, err := codesys.SystemName(system)
	if err != nil {
		return "", err
	}
	if !sys.Classification().ReadsClasses() {
		return "", fmt.Errorf("%s is imported from the publisher's files, not as %s: import it without a format", sys.Title(), format)
	}
	return sys, nil
}

// classFile is the one file a classification read as classes is imported
// from, with the format it is read in.
type classFile struct {
	member
	format string
}

// importClasses reads a classification released as one ClaML file or one
// flat code list from the sources and installs it.
func importClasses(ctx context.Context, dir string, sys codesys.System, from []source, opts ImportOptions) (*Info, error) {
	return importWith(ctx, dir, sys, from, opts, readClasses)
}

// readClasses reads the one ClaML file or code list among the sources.
func readClasses(ctx context.Context, sys codesys.System, from []source, opts ImportOptions) (*Info, *codesys.Release, error) {
	ss, names, err := openSources(ctx, from, opts)
	if err != nil {
		return nil, nil, err
	}
	defer ss.Close()
	var (
		files []classFile
		notes []string
	)
	// A file given on its own is read as a list whatever its name; in
	// folders and archives, lists are told by their names.
	single := false
	if len(from) == 1 && len(ss.members) == 1 {
		fi, err := os.Stat(from[0].path)
		single = err == nil && fi.Mode().IsRegular() && !strings.EqualFold(filepath.Ext(from[0].path), ".zip")
	}
	for _, m := range ss.members {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		format, why, err := classFormat(m, opts.Format, single)
		if err != nil {
			return nil, nil, err
		}
		if format == "" {
			notes = append(notes, fmt.Sprintf("ignored %s: %s", m.name, why))
			continue
		}
		files = append(files, classFile{m, format})
	}
	switch {
	case len(files) == 0:
		return nil, nil, fmt.Errorf("no ClaML file or code list found in %s (a code list is a .tsv, .csv or .txt file; give --format to say which)", strings.Join(names, ", "))
	case len(files) > 1:
		return nil, nil, fmt.Errorf("%s and %s both hold a classification; import one file at a time", files[0].name, files[1].name)
	}
	f := files[0]
	c, src, err := readClassFile(ctx, f, opts)
	if err != nil {
		return nil, nil, err
	}
	version := opts.Version
	switch {
	case c.Version != "" && version != "" && version != c.Version:
		return nil, nil, fmt.Errorf("version %s was given but %s has version %s", version, f.name, c.Version)
	case c.Version != "":
		version = c.Version
	case version == "":
		return nil, nil, fmt.Errorf("%s carries no version; give the release's version (e.g. --version 2024)", f.name)
	}
	if err := checkVersion(version); err != nil {
		return nil, nil, err
	}
	c.Version = version
	r := &codesys.Release{System: sys, Version: version, Classes: c, Source: opts.Source}
	if r.Source == "" {
		abs := make([]string, len(names))
		for i, p := range names {
			if a, err := filepath.Abs(p); err == nil {
				p = a
			}
			abs[i] = p
		}
		r.Source = strings.Join(abs, ", ")
	}
	what := "ClaML"
	if f.format == FormatFlat {
		what = "a flat code list"
	}
	notes = append(notes, fmt.Sprintf("read %s as %s: %d classes", f.name, what, len(c.Classes)))
	in := &Info{
		System:   sys,
		Version:  version,
		Parts:    r.Parts(),
		Missing:  r.Missing(),
		Source:   r.Source,
		Imported: time.Now().UTC().Truncate(time.Second),
		Files:    []SourceFile{src},
		Notes:    notes,
	}
	return in, r, nil
}

// classFormat tells the format of m: the one given, checked against the
// content where that is cheap, or told from the content. A file that is
// not a classification gets the format "" and the reason. A file given on
// its own (single) is taken for a flat list whatever its name.
func classFormat(m member, given string, single bool) (format, why string, err error) {
	rc, err := m.open()
	if err != nil {
		return "", "", fmt.Errorf("open %s: %w", m.name, err)
	}
	defer rc.Close()
	head := make([]byte, peekSize)
	n, err := io.ReadFull(rc, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return "", "", fmt.Errorf("read %s: %w", m.name, err)
	}
	head = bytes.TrimPrefix(head[:n], []byte("\xef\xbb\xbf"))
	isXML := bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte("<"))
	isClaML := isXML && bytes.Contains(head, []byte("<ClaML"))
	switch {
	case isClaML && given != FormatFlat:
		return FormatClaML, "", nil
	case isXML && given != FormatFlat:
		return "", "XML but not ClaML", nil
	case given == FormatClaML:
		return "", "not ClaML", nil
	case isXML:
		return "", "XML, not a flat code list", nil
	case flatName(m.name) || single:
		return FormatFlat, "", nil
	}
	return "", "not a .tsv, .csv or .txt code list", nil
}

// readClassFile reads the classification in f, recording its provenance.
func readClassFile(ctx context.Context, f classFile, opts ImportOptions) (*codesys.Classes, SourceFile, error) {
	rc, err := f.open()
	if err != nil {
		return nil, SourceFile{}, fmt.Errorf("open %s: %w", f.name, err)
	}
	defer rc.Close()
	hc := &hashCounter{h: sha256.New()}
	in := io.TeeReader(ctxReader{ctx, rc}, hc)
	var c *codesys.Classes
	if f.format == FormatClaML {
		c, err = codesys.ReadClaML(in, f.name)
	} else {
		c, err = codesys.ReadFlat(in, f.name, codesys.FlatOptions{Columns: opts.Columns})
	}
	if err != nil {
		return nil, SourceFile{}, err
	}
	// The readers may stop before the end; the hash covers the whole file.
	if _, err := io.Copy(io.Discard, in); err != nil {
		return nil, SourceFile{}, fmt.Errorf("read %s: %w", f.name, err)
	}
	return c, SourceFile{Name: f.name, Part: codesys.PartClasses, Size: hc.n, SHA256: hex.EncodeToString(hc.h.Sum(nil))}, nil
}

// classCodes maps each selectable code of a classification read as
// classes to its title.
func classCodes(c *codesys.Classes) map[string]string {
	m := make(map[string]string, len(c.Classes))
	c.Codes(func(code, title string) bool {
		m[code] = title
		return true
	})
	return m
}

// installedSystems lists the systems with a directory in dir's releases:
// the registered classifications in their order, then the others by name.
func installedSystems(names []string) []codesys.System {
	var out []codesys.System
	for _, c := range codesys.Classifications() {
		for _, n := range names {
			if n == string(c.System) {
				out = append(out, c.System)
			}
		}
	}
	for _, n := range names {
		sys, err := codesys.SystemName(n)
		if err != nil || string(sys) != n || sys.Classification().Registered {
			continue
		}
		out = append(out, sys)
	}
	return out
}
