package guidelines

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// dirName is the folder of the data directory holding installed editions.
const dirName = "guidelines"

var yearRe = regexp.MustCompile(`^\d{4}$`)

// Import reads the guidelines from path, a PDF or a plain-text rendering
// of it (told apart by content, not by name), and parses them.
func Import(path, year string) (*Document, error) {
	if !yearRe.MatchString(year) {
		return nil, fmt.Errorf("import guidelines %s: year %q is not a four-digit fiscal year", path, year)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("import guidelines: %w", err)
	}
	defer f.Close()
	head := make([]byte, 5)
	n, _ := io.ReadFull(f, head)
	var text io.Reader
	if bytes.Equal(head[:n], []byte("%PDF-")) {
		fi, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("import guidelines %s: %w", path, err)
		}
		s, err := PDFText(f, fi.Size())
		if err != nil {
			return nil, fmt.Errorf("import guidelines %s: %w", path, err)
		}
		text = strings.NewReader(s)
	} else {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("import guidelines %s: %w", path, err)
		}
		text = f
	}
	d, err := Parse(text)
	if err != nil {
		return nil, fmt.Errorf("import guidelines %s: %w", path, err)
	}
	d.Year = year
	d.Source = filepath.Base(path)
	d.Imported = time.Now().UTC().Truncate(time.Second)
	return d, nil
}

// Install writes d into the data directory dir as guidelines/<year>.json
// (ICD-10-CM) or guidelines/pcs-<year>.json (ICD-10-PCS), replacing an
// installed edition of the same system and year atomically.
func Install(dir string, d *Document) error {
	if !yearRe.MatchString(d.Year) {
		return fmt.Errorf("install guidelines: year %q is not a four-digit fiscal year", d.Year)
	}
	// The data directory holds the service's database too: only its
	// owner may enter it.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("install guidelines: %w", err)
	}
	gd := filepath.Join(dir, dirName)
	if err := os.MkdirAll(gd, 0o755); err != nil {
		return fmt.Errorf("install guidelines: %w", err)
	}
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("install guidelines %s: %w", d.Year, err)
	}
	tmp, err := os.CreateTemp(gd, ".tmp-*.json")
	if err != nil {
		return fmt.Errorf("install guidelines: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("install guidelines: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("install guidelines: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("install guidelines: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(gd, fileName(d.System, d.Year))); err != nil {
		return fmt.Errorf("install guidelines: %w", err)
	}
	return nil
}

// fileName is the name an edition of system and year is installed under;
// ICD-10-CM keeps the bare year, as it did before PCS was read.
func fileName(system, year string) string {
	if system == SystemPCS {
		return "pcs-" + year + ".json"
	}
	return year + ".json"
}

// Years lists the installed ICD-10-CM editions in dir, oldest first.
func Years(dir string) ([]string, error) {
	return SystemYears(dir, SystemCM)
}

// SystemYears lists the installed editions of system (SystemCM or
// SystemPCS) in dir, oldest first.
func SystemYears(dir, system string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(dir, dirName))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list guidelines: %w", err)
	}
	var ys []string
	for _, e := range ents {
		name := e.Name()
		if system == SystemPCS {
			var ok bool
			if name, ok = strings.CutPrefix(name, "pcs-"); !ok {
				continue
			}
		}
		y, ok := strings.CutSuffix(name, ".json")
		if ok && yearRe.MatchString(y) {
			ys = append(ys, y)
		}
	}
	slices.Sort(ys)
	return ys, nil
}

// Load reads the installed ICD-10-CM edition of year from dir; an empty
// year loads the newest. The error wraps ErrNotInstalled when there is
// none.
func Load(dir, year string) (*Document, error) {
	return LoadSystem(dir, SystemCM, year)
}

// LoadSystem reads the installed edition of system and year from dir; an
// empty year loads the newest. The error wraps ErrNotInstalled when there
// is none.
func LoadSystem(dir, system, year string) (*Document, error) {
	if system != SystemCM && system != SystemPCS {
		return nil, fmt.Errorf("load guidelines: system %q is neither %s nor %s", system, SystemCM, SystemPCS)
	}
	if year == "" {
		ys, err := SystemYears(dir, system)
		if err != nil {
			return nil, err
		}
		if len(ys) == 0 {
			return nil, fmt.Errorf("load %s guidelines from %s: %w", system, dir, ErrNotInstalled)
		}
		year = ys[len(ys)-1]
	}
	if !yearRe.MatchString(year) {
		return nil, fmt.Errorf("load guidelines: year %q is not a four-digit fiscal year", year)
	}
	path := filepath.Join(dir, dirName, fileName(system, year))
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("load %s guidelines %s from %s: %w", system, year, dir, ErrNotInstalled)
	}
	if err != nil {
		return nil, fmt.Errorf("load guidelines %s: %w", year, err)
	}
	d := &Document{}
	if err := json.Unmarshal(b, d); err != nil {
		return nil, fmt.Errorf("load guidelines %s: %w", path, err)
	}
	if d.System == "" {
		d.System = SystemCM
	}
	return d, nil
}
