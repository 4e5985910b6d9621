package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// ImportOptions adjusts an import.
type ImportOptions struct {
	// Version is the release's version when no file carries one, as with
	// an ICD-10-CM order file imported on its own. When files carry a
	// version, Version must agree with it.
	Version string
	// Source is recorded as the release's provenance instead of the paths
	// imported from; Fetch records the URLs.
	Source string
	// Format is the format of a classification read as classes:
	// FormatClaML or FormatFlat; empty tells it from the content. It is
	// required to import a code list under a name of the user's own, and
	// not accepted for ICD-10-CM and ICD-10-PCS.
	Format string
	// Columns maps the fields of a flat code list to its column headers;
	// fields left empty are recognized by their usual headers.
	Columns codesys.Columns
	// Replace installs the release as read, dropping the parts of an
	// installed release of the same version that the import does not
	// give. Without it the import merges: a part given replaces the
	// installed one and the parts not given are kept.
	Replace bool
	// MaxExpanded bounds the bytes read out of the archives and gzipped
	// files of the import, all together; 0 means DefaultMaxExpanded.
	MaxExpanded int64
	// MaxMembers bounds the number of files found in the archives of the
	// import, all together; 0 means DefaultMaxMembers.
	MaxMembers int
}

// partNames describes each part as the publisher ships it, for messages.
var partNames = map[codesys.Part]string{
	codesys.PartTabular:        "Tabular List (XML, root ICD10CM.tabular)",
	codesys.PartOrder:          "order file (icd10cm_order_YYYY.txt)",
	codesys.PartIndex:          "Alphabetic Index (XML, root ICD10CM.index)",
	codesys.PartExternal:       "External Cause Index (XML, root ICD10CM.index)",
	codesys.PartNeoplasm:       "Table of Neoplasms (XML, root ICD10CM.index)",
	codesys.PartDrug:           "Table of Drugs and Chemicals (XML, root ICD10CM.index)",
	codesys.PartPCSTables:      "Tables (XML, root ICD10PCS.tabular)",
	codesys.PartPCSIndex:       "Index (XML, root ICD10PCS.index)",
	codesys.PartPCSDefinitions: "Definitions (XML, root ICD10PCS.definitions)",
}

func describeParts(sys codesys.System) string {
	var names []string
	for _, p := range codesys.PartsOf(sys) {
		names = append(names, partNames[p])
	}
	return strings.Join(names, "; ")
}

// found is a release file chosen for import.
type found struct {
	member
	id identity
}

// Import reads a release of system from the publisher's files at the paths
// in from (folders, .zip archives that may nest folders and zips, or
// single plain or gzipped files) and installs it in dir. When the version
// is installed already, the parts read replace the installed ones and the
// other installed parts are kept, unless opts.Replace asks to replace the
// release as a whole. Each file's part is told from its
// content; files of the other system and files that are not release files
// are ignored with a note. A release may be partial: Info.Parts and
// Info.Missing say what it has. On error nothing changes in dir.
//
// A classification other than ICD-10-CM and ICD-10-PCS is read from one
// ClaML file or one flat code list (opts.Format, opts.Columns); a name
// that is not registered (codesys.Classifications) is accepted for it when
// opts.Format is given.
func Import(ctx context.Context, dir, system string, from []string, opts ImportOptions) (*Info, error) {
	sys, err := importSystem(system, opts.Format)
	if err != nil {
		return nil, err
	}
	srcs := make([]source, len(from))
	for i, p := range from {
		srcs[i] = source{p, p}
	}
	if sys.Classification().ReadsClasses() {
		return importClasses(ctx, dir, sys, srcs, opts)
	}
	return importSources(ctx, dir, sys, srcs, opts)
}

// source is a path to import from and the name it goes by in messages and
// the manifest.
type source struct{ path, name string }

func importSources(ctx context.Context, dir string, sys codesys.System, from []source, opts ImportOptions) (*Info, error) {
	return importWith(ctx, dir, sys, from, opts, read)
}

// readFunc reads a release of sys from the sources, as read does for the
// releases of ICD-10-CM and ICD-10-PCS and readClasses for a
// classification read as classes.
type readFunc func(ctx context.Context, sys codesys.System, from []source, opts ImportOptions) (*Info, *codesys.Release, error)

// importWith reads a release with read and installs it.
func importWith(ctx context.Context, dir string, sys codesys.System, from []source, opts ImportOptions, read readFunc) (*Info, error) {
	in, r, err := read(ctx, sys, from, opts)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", sys.Title(), err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("import %s: %w", sys.Title(), err)
	}
	if !opts.Replace {
		if err := mergeInstalled(dir, r, in); err != nil {
			return nil, fmt.Errorf("import %s %s: keep the installed parts: %w", sys.Title(), r.Version, err)
		}
	}
	if err := install(dir, r, in); err != nil {
		return nil, fmt.Errorf("import %s %s: install in %s: %w", sys.Title(), r.Version, dir, err)
	}
	return in, nil
}

// openSources opens every file of from (folders and archives read
// through), returning them with the names they go by.
func openSources(ctx context.Context, from []source, opts ImportOptions) (*sourceSet, []string, error) {
	if len(from) == 0 {
		return nil, nil, errors.New("no files given")
	}
	ss := newSourceSet(opts)
	names := make([]string, len(from))
	for i, src := range from {
		if err := ss.add(ctx, src.path, src.name); err != nil {
			ss.Close()
			return nil, nil, err
		}
		names[i] = src.name
	}
	return ss, names, nil
}

// read identifies and reads the release files in from.
func read(ctx context.Context, sys codesys.System, from []source, opts ImportOptions) (*Info, *codesys.Release, error) {
	ss, names, err := openSources(ctx, from, opts)
	if err != nil {
		return nil, nil, err
	}
	defer ss.Close()

	var (
		files []found
		notes []string
		byPt  = map[codesys.Part]string{}
	)
	for _, m := range ss.members {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		id, err := peek(m)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case id.part == "" && id.sys != "":
			notes = append(notes, fmt.Sprintf("ignored %s: %s", m.name, id.what))
		case id.part == "":
			notes = append(notes, fmt.Sprintf("ignored %s: not a release file (%s)", m.name, id.what))
		case id.sys != sys:
			notes = append(notes, fmt.Sprintf("ignored %s: it is the %s %s, not %s", m.name, id.sys.Title(), id.part, sys.Title()))
		case byPt[id.part] != "":
			return nil, nil, fmt.Errorf("two files hold the %s %s: %s and %s; import them separately", sys.Title(), partNames[id.part], byPt[id.part], m.name)
		default:
			byPt[id.part] = m.name
			files = append(files, found{m, id})
		}
	}
	if len(files) == 0 {
		return nil, nil, fmt.Errorf("no %s release files found in %s; expected one of: %s",
			sys.Title(), strings.Join(names, ", "), describeParts(sys))
	}

	version, err := agreeVersion(files, opts.Version)
	if err != nil {
		return nil, nil, err
	}
	if err := checkVersion(version); err != nil {
		return nil, nil, err
	}

	r := &codesys.Release{System: sys, Version: version}
	srcs, err := readParts(ctx, r, files)
	if err != nil {
		return nil, nil, err
	}
	if opts.Source != "" {
		r.Source = opts.Source
	} else {
		abs := make([]string, len(names))
		for i, p := range names {
			if a, err := filepath.Abs(p); err == nil {
				p = a
			}
			abs[i] = p
		}
		r.Source = strings.Join(abs, ", ")
	}
	in := &Info{
		System:   sys,
		Version:  version,
		Parts:    r.Parts(),
		Missing:  r.Missing(),
		Source:   r.Source,
		Imported: time.Now().UTC().Truncate(time.Second),
		Files:    srcs,
		Notes:    notes,
	}
	return in, r, nil
}

// peek reads the first bytes of m and identifies it.
func peek(m member) (identity, error) {
	rc, err := m.open()
	if err != nil {
		return identity{}, fmt.Errorf("open %s: %w", m.name, err)
	}
	defer rc.Close()
	buf := make([]byte, peekSize)
	n, err := io.ReadFull(rc, buf)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return identity{}, fmt.Errorf("read %s: %w", m.name, err)
	}
	return identify(buf[:n]), nil
}

// agreeVersion returns the version all files carry, checked against the
// override.
func agreeVersion(files []found, override string) (string, error) {
	var version, first string
	for _, f := range files {
		switch v := f.id.version; {
		case v == "":
		case version == "":
			version, first = v, f.name
		case v != version:
			return "", fmt.Errorf("the files are from different releases: %s has version %s, %s has version %s; import each release on its own", first, version, f.name, v)
		}
	}
	switch {
	case version == "" && override == "":
		return "", fmt.Errorf("%s carries no version; give the release's version (e.g. --version 2026) or import it together with the Tabular List", files[0].name)
	case version == "":
		return override, nil
	case override != "" && override != version:
		return "", fmt.Errorf("version %s was given but %s has version %s", override, first, version)
	}
	return version, nil
}

// readParts reads the chosen files into r, in parallel, and returns their
// provenance in the order of files.
func readParts(ctx context.Context, r *codesys.Release, files []found) ([]SourceFile, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srcs := make([]SourceFile, len(files))
	errs := make([]error, len(files))
	var (
		wg sync.WaitGroup
		mu sync.Mutex // guards r
	)
	for i, f := range files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src, err := readPart(ctx, r, &mu, f)
			if err != nil {
				errs[i] = err
				cancel()
				return
			}
			srcs[i] = src
		}()
	}
	wg.Wait()
	// Report the first real failure, not the cancellations it caused.
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	order := codesys.PartsOf(r.System)
	slices.SortStableFunc(srcs, func(a, b SourceFile) int {
		return slices.Index(order, a.Part) - slices.Index(order, b.Part)
	})
	return srcs, nil
}

type hashCounter struct {
	h hash.Hash
	n int64
}

func (hc *hashCounter) Write(p []byte) (int, error) {
	hc.n += int64(len(p))
	return hc.h.Write(p)
}

func readPart(ctx context.Context, r *codesys.Release, mu *sync.Mutex, f found) (SourceFile, error) {
	rc, err := f.open()
	if err != nil {
		return SourceFile{}, fmt.Errorf("open %s: %w", f.name, err)
	}
	defer rc.Close()
	hc := &hashCounter{h: sha256.New()}
	in := io.TeeReader(ctxReader{ctx, rc}, hc)

	var version string
	set := func() {}
	switch f.id.part {
	case codesys.PartTabular:
		t, err := codesys.ReadTabular(in, f.name)
		if err != nil {
			return SourceFile{}, err
		}
		version, set = t.Version, func() { r.Tabular = t }
	case codesys.PartOrder:
		o, err := codesys.ReadOrder(in, f.name)
		if err != nil {
			return SourceFile{}, err
		}
		set = func() { r.Order = o }
	case codesys.PartIndex, codesys.PartExternal, codesys.PartNeoplasm, codesys.PartDrug, codesys.PartPCSIndex:
		ix, err := codesys.ReadIndex(in, f.name)
		if err != nil {
			return SourceFile{}, err
		}
		version = ix.Version
		set = func() {
			switch f.id.part {
			case codesys.PartIndex:
				r.Index = ix
			case codesys.PartExternal:
				r.External = ix
			case codesys.PartNeoplasm:
				r.Neoplasm = ix
			case codesys.PartDrug:
				r.Drug = ix
			case codesys.PartPCSIndex:
				r.PCSIndex = ix
			}
		}
	case codesys.PartPCSTables:
		t, err := codesys.ReadPCSTables(in, f.name)
		if err != nil {
			return SourceFile{}, err
		}
		version, set = t.Version, func() { r.PCS = t }
	case codesys.PartPCSDefinitions:
		d, err := codesys.ReadPCSDefinitions(in, f.name)
		if err != nil {
			return SourceFile{}, err
		}
		version, set = d.Version, func() { r.PCSDefs = d }
	default:
		return SourceFile{}, fmt.Errorf("%s: no reader for part %s", f.name, f.id.part)
	}
	if version != "" && version != r.Version {
		return SourceFile{}, fmt.Errorf("%s: version %s, expected %s", f.name, version, r.Version)
	}
	// The readers stop at the end of the document; the hash covers the
	// whole file.
	if _, err := io.Copy(io.Discard, in); err != nil {
		return SourceFile{}, fmt.Errorf("read %s: %w", f.name, err)
	}
	mu.Lock()
	set()
	mu.Unlock()
	return SourceFile{Name: f.name, Part: f.id.part, Size: hc.n, SHA256: hex.EncodeToString(hc.h.Sum(nil))}, nil
}
