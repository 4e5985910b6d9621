// Package catalog manages the classification releases installed on disk:
// it imports a release from the publisher's files (a folder, a .zip that may
// nest folders and zips, or single plain or gzipped files), installs it
// atomically in a compact compiled form that opens fast, lists, opens and
// removes installed releases, compares two releases and fetches a release
// from the publisher.
//
// An installed release lives in <dir>/releases/<system>/<version>/ as two
// files: release.bin, the compiled Release, and manifest.json, a small
// description that lets List work without decoding releases.
package catalog

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// EnvDataDir names the environment variable that overrides the default data
// directory.
const EnvDataDir = "MEDCODE_DATA"

// File names inside an installed release's directory.
const (
	manifestFile = "manifest.json"
	releaseFile  = "release.bin"
)

// Prefixes of the work directories kept beside installed releases; List
// and Open skip them.
const (
	tmpPrefix = ".tmp-" // an import being written
	oldPrefix = ".old-" // a release being replaced by a new import
	delPrefix = ".del-" // a release being removed
)

// DefaultDir returns the data directory to use when none is given on the
// command line: $MEDCODE_DATA if set, else $XDG_DATA_HOME/medcode, else
// ~/.local/share/medcode.
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvDataDir); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "medcode"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find data directory: %w (set %s)", err, EnvDataDir)
	}
	return filepath.Join(home, ".local", "share", "medcode"), nil
}

// Info describes an installed release. It is stored as the release's
// manifest.json.
type Info struct {
	System  codesys.System `json:"system"`
	Version string         `json:"version"`
	// Parts are the parts the release has; Missing those a complete
	// release would add.
	Parts   []codesys.Part `json:"parts"`
	Missing []codesys.Part `json:"missing,omitempty"`
	// Source says where the release was imported from: paths or URLs.
	Source   string    `json:"source"`
	Imported time.Time `json:"imported"`
	// Format is the version of the compiled form; see FormatVersion.
	Format int `json:"format"`
	// Size is the size in bytes of the compiled release.
	Size int64 `json:"size"`
	// Files lists the publisher's files the release was built from.
	Files []SourceFile `json:"files"`
	// Notes are remarks made during the import, such as files that were
	// ignored.
	Notes []string `json:"notes,omitempty"`
	// TabularNotes is, for an ICD-10-CM release with an order file but no
	// Tabular List, the version of the installed release whose Tabular
	// List lends the notes when the release is opened (see OpenInfo); it
	// depends on what else is installed, so List and Stat set it and it is
	// never stored.
	TabularNotes string `json:"tabularNotes,omitempty"`

	// Dir is the directory the release is installed in.
	Dir string `json:"-"`
}

// SourceFile is one of the publisher's files an installed release was built
// from.
type SourceFile struct {
	// Name is the file's path, inside its archive if any
	// ("2026-code-tables.zip:Table and Index/icd10cm_drug_2026.xml").
	Name string       `json:"name"`
	Part codesys.Part `json:"part"`
	// Size and SHA256 are those of the file's content after
	// decompression (gzip), as the publisher ships it inside its archive.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// ID returns the release's identifier, "system-version".
func (in *Info) ID() string { return string(in.System) + "-" + in.Version }

// Composes reports whether opening the release composes its Tabular List
// from its order file: an ICD-10-CM release with the order file but not
// the Tabular List.
func (in *Info) Composes() bool {
	return in.System == codesys.ICD10CM && slices.Contains(in.Parts, codesys.PartOrder) && !slices.Contains(in.Parts, codesys.PartTabular)
}

// Serves reports whether the release, once opened, has part p: its own,
// or the Tabular List that opening composes from the order file.
func (in *Info) Serves(p codesys.Part) bool {
	return slices.Contains(in.Parts, p) || p == codesys.PartTabular && in.Composes()
}

// Compatible reports whether this medcode can open the release; if not, it
// must be imported again.
func (in *Info) Compatible() bool { return in.Format == FormatVersion }

func releasesDir(dir string) string { return filepath.Join(dir, "releases") }

// MkdirData creates the data directory dir, when it does not exist,
// readable by its owner only: beside public releases it holds the coding
// service's database, whose notes are PHI. An existing directory is left
// as it is.
func MkdirData(dir string) error {
	return os.MkdirAll(dir, 0o700)
}

func systemDir(dir string, sys codesys.System) string {
	return filepath.Join(releasesDir(dir), string(sys))
}

// validVersion restricts versions to names that are safe as a directory
// name on every platform.
var validVersion = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$`)

func checkVersion(v string) error {
	if !validVersion.MatchString(v) {
		return fmt.Errorf("invalid release version %q (letters, digits, '.', '_' and '-' only, e.g. 2026)", v)
	}
	return nil
}

// compareVersions orders versions so that "2026" comes after "2025" and
// "2026.1" after "2026", comparing runs of digits as numbers.
func compareVersions(a, b string) int {
	for a != "" && b != "" {
		ai, bi := digitRun(a), digitRun(b)
		if ai > 0 && bi > 0 {
			na, _ := strconv.ParseUint(strings.TrimLeft(a[:ai], "0")+"0", 10, 64)
			nb, _ := strconv.ParseUint(strings.TrimLeft(b[:bi], "0")+"0", 10, 64)
			if c := cmp.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[ai:], b[bi:]
			continue
		}
		if c := cmp.Compare(a[0], b[0]); c != 0 {
			return c
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// List returns the releases installed in dir, by system and then by
// version, oldest first. A missing data directory holds no releases.
func List(dir string) ([]*Info, error) {
	var infos []*Info
	// Downloads of a killed fetch are left beside the systems' folders.
	cleanStaleTemp(releasesDir(dir))
	ents, err := os.ReadDir(releasesDir(dir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("list releases: %w", err)
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	for _, sys := range installedSystems(names) {
		sd := systemDir(dir, sys)
		recoverSystemDir(sd)
		ents, err := os.ReadDir(sd)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list releases: %w", err)
		}
		var sysInfos []*Info
		for _, e := range ents {
			if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			in, err := readManifest(filepath.Join(sd, e.Name()))
			if err != nil {
				return nil, fmt.Errorf("list releases: %w", err)
			}
			sysInfos = append(sysInfos, in)
		}
		slices.SortFunc(sysInfos, func(a, b *Info) int { return compareVersions(a.Version, b.Version) })
		for _, in := range sysInfos {
			if n := notesSource(sysInfos, in); n != nil {
				in.TabularNotes = n.Version
			}
		}
		infos = append(infos, sysInfos...)
	}
	return infos, nil
}

// InstallHint says how to install a release of sys, for messages: the
// commands in quotes.
func InstallHint(sys codesys.System) string {
	if sys.Classification().ReadsClasses() {
		return fmt.Sprintf("\"medcode import --system %s --format claml|flat --from PATH\"", sys)
	}
	return fmt.Sprintf("\"medcode fetch %s\" or \"medcode import --system %s --from PATH\"", sys, sys)
}

// Stat returns the manifest of an installed release without decoding the
// release. An empty version names the latest installed release of system.
func Stat(dir, system, version string) (*Info, error) {
	sys, err := codesys.SystemName(system)
	if err != nil {
		return nil, err
	}
	if version == "" {
		infos, err := List(dir)
		if err != nil {
			return nil, err
		}
		var latest *Info
		for _, in := range infos {
			if in.System == sys {
				latest = in
			}
		}
		if latest == nil {
			return nil, fmt.Errorf("no %s release installed in %s (install one with %s)", sys.Title(), dir, InstallHint(sys))
		}
		return latest, nil
	}
	if err := checkVersion(version); err != nil {
		return nil, err
	}
	cleanStaleTemp(releasesDir(dir))
	sd := systemDir(dir, sys)
	recoverSystemDir(sd)
	in, err := readManifest(filepath.Join(sd, version))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s %s is not installed in %s", sys.Title(), version, dir)
	}
	if err != nil {
		return nil, err
	}
	if in.Composes() {
		infos, err := List(dir)
		if err != nil {
			return nil, err
		}
		if n := notesSource(infos, in); n != nil {
			in.TabularNotes = n.Version
		}
	}
	return in, nil
}

// notesSource returns the release among infos that lends its Tabular List's
// notes when in is opened: the newest installed release of the same system,
// other than in, with a Tabular List this medcode can open. It is nil when
// in needs none or none is installed.
func notesSource(infos []*Info, in *Info) *Info {
	if !in.Composes() {
		return nil
	}
	var best *Info
	for _, o := range infos {
		if o.System != in.System || o.Version == in.Version || !o.Compatible() || !slices.Contains(o.Parts, codesys.PartTabular) {
			continue
		}
		if best == nil || compareVersions(o.Version, best.Version) > 0 {
			best = o
		}
	}
	return best
}

func readManifest(rdir string) (*Info, error) {
	b, err := os.ReadFile(filepath.Join(rdir, manifestFile))
	if err != nil {
		return nil, err
	}
	var in Info
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("read %s: %w (remove the release and import it again)", filepath.Join(rdir, manifestFile), err)
	}
	in.Dir = rdir
	return &in, nil
}

// Remove uninstalls a release. An empty version is an error, so that a slip
// never removes the latest release.
func Remove(dir, system, version string) error {
	if version == "" {
		return errors.New("remove release: give the version to remove")
	}
	in, err := Stat(dir, system, version)
	if err != nil {
		return fmt.Errorf("remove release: %w", err)
	}
	// Renaming first makes the release disappear at once for readers; the
	// deletion that follows may take a moment or be interrupted, and
	// recoverSystemDir finishes it.
	old := filepath.Join(filepath.Dir(in.Dir), delPrefix+in.Version)
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("remove release %s: %w", in.ID(), err)
	}
	if err := os.Rename(in.Dir, old); err != nil {
		return fmt.Errorf("remove release %s: %w", in.ID(), err)
	}
	syncDir(filepath.Dir(in.Dir))
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("remove release %s: %w", in.ID(), err)
	}
	return nil
}

// recoverSystemDir completes a replacement or removal that was interrupted
// between its steps. An .old-V directory is the previous release V, renamed
// aside but not yet deleted: it is restored when V is missing (the new one
// was never renamed into place) and deleted otherwise. A .del-V directory
// is a removed release and is deleted. A .tmp- directory untouched for a
// while is the work of an import that was killed and is deleted too
// (cleanStaleTemp). Errors are ignored: the next call tries again.
func recoverSystemDir(sd string) {
	cleanStaleTemp(sd)
	ents, err := os.ReadDir(sd)
	if err != nil {
		return
	}
	for _, e := range ents {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, delPrefix):
			os.RemoveAll(filepath.Join(sd, name))
		case strings.HasPrefix(name, oldPrefix):
			v := strings.TrimPrefix(name, oldPrefix)
			if _, err := os.Stat(filepath.Join(sd, v, manifestFile)); err == nil || checkVersion(v) != nil {
				os.RemoveAll(filepath.Join(sd, name))
				continue
			}
			if err := os.Rename(filepath.Join(sd, name), filepath.Join(sd, v)); err == nil {
				syncDir(sd)
			}
		}
	}
}
