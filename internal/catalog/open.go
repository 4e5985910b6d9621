package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// OpenOptions say how OpenWith opens a release.
type OpenOptions struct {
	// Parts lists the parts the caller reads; nil opens them all. A part
	// not listed may be left nil, and opening skips the compiled release
	// altogether when Parts is empty, or holds only the ICD-10-CM Tabular
	// List and Cache keeps it.
	Parts []codesys.Part
	// Cache, if set, keeps the Tabular List of ICD-10-CM releases, so that
	// a list composed from an order file is not composed again nor the
	// release lending its notes decoded.
	Cache *Cache
	// Warn, if set, is told when the cache could not be read or written;
	// the release is then opened without it.
	Warn func(msg string)
}

// OpenWith is OpenInfo with the parts and cache of opts.
func OpenWith(ctx context.Context, in *Info, opts OpenOptions) (*codesys.Release, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !in.Compatible() {
		return nil, fmt.Errorf("open %s: release format %d %w (this one reads format %d): import the release again", in.ID(), in.Format, ErrIncompatible, FormatVersion)
	}
	warn := opts.Warn
	if warn == nil {
		warn = func(string) {}
	}
	if opts.Parts != nil && len(opts.Parts) == 0 {
		return &codesys.Release{System: in.System, Version: in.Version, Source: in.Source}, nil
	}
	tabOnly := len(opts.Parts) == 1 && opts.Parts[0] == codesys.PartTabular
	var key string
	if opts.Cache != nil && in.System == codesys.ICD10CM && in.Serves(codesys.PartTabular) {
		fp, err := Fingerprint(in)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", in.ID(), err)
		}
		key = tabularCachePrefix + fp[:32]
	}
	if key != "" && (tabOnly || in.Composes()) {
		tab, problems, err := loadTabular(opts.Cache, key)
		if err != nil {
			warn(fmt.Sprintf("Tabular List cache of %s: %v (composed again)", in.ID(), err))
		}
		if tab != nil && tabOnly {
			return &codesys.Release{System: in.System, Version: in.Version, Source: in.Source, Tabular: tab, Problems: problems}, nil
		}
		if tab != nil {
			r, err := decodeInstalled(in)
			if err != nil {
				return nil, err
			}
			r.Tabular, r.Problems = tab, problems
			return r, nil
		}
	}
	r, err := OpenInfo(ctx, in)
	if err != nil {
		return nil, err
	}
	if key != "" && r.Tabular != nil {
		if err := storeTabular(opts.Cache, key, r.Tabular, r.Problems); err != nil {
			warn(fmt.Sprintf("Tabular List cache of %s: %v (not kept)", in.ID(), err))
		}
	}
	return r, nil
}

// decodeInstalled decodes the compiled release of in, as it was imported:
// a Tabular List to compose is left to the caller.
func decodeInstalled(in *Info) (*codesys.Release, error) {
	name := filepath.Join(in.Dir, releaseFile)
	// Reading the whole file first and decoding from memory is faster than
	// decoding from a buffered file.
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", in.ID(), err)
	}
	r, err := decodeRelease(b, name)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", in.ID(), err)
	}
	if r.System != in.System || r.Version != in.Version {
		return nil, fmt.Errorf("open %s: %s holds %s: import the release again", in.ID(), name, r.ID())
	}
	return r, nil
}

// composeVersion changes whenever codesys.ComposeTabular composes a list
// differently, so that a list kept composed by an older medcode is not
// read.
const composeVersion = 1

// Fingerprint returns a digest (hex) of what the content of the release
// in, once opened, depends on: its identity, the format of its compiled
// form, when it was imported and the publisher's files it came from; for
// a release whose Tabular List opening composes, the same of the release
// that lends the notes, and the composer's version; and the shape of the
// codesys model. A re-import, another notes release or a new model
// changes it, so that what is kept under it is never read stale.
func Fingerprint(in *Info) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, "medcode release", FormatVersion, typeSignature(reflect.TypeFor[codesys.Release]()))
	identity := func(in *Info) {
		fmt.Fprintln(h, in.ID(), in.Format, in.Size, in.Imported.UTC().Format(time.RFC3339Nano), in.Source, in.Parts)
		for _, f := range in.Files {
			fmt.Fprintln(h, f.Name, f.Part, f.Size, f.SHA256)
		}
	}
	identity(in)
	if in.Composes() {
		notes, err := notesInfo(in)
		if err != nil {
			return "", err
		}
		fmt.Fprintln(h, "composed", composeVersion)
		if notes != nil {
			identity(notes)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// typeSignature describes t: its kind, and the names and types of its
// exported fields, recursively. Fingerprint reads that of the codesys
// model, so that a change to the model changes every fingerprint: gob
// would read a file of the older model into the newer without a word.
func typeSignature(t reflect.Type) string {
	var b strings.Builder
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			b.WriteString(t.Kind().String() + " ")
			walk(t.Elem())
		case reflect.Map:
			b.WriteString("map[")
			walk(t.Key())
			b.WriteString("]")
			walk(t.Elem())
		case reflect.Struct:
			if seen[t] {
				b.WriteString(t.String())
				return
			}
			seen[t] = true
			b.WriteString(t.String() + "{")
			for f := range t.Fields() {
				if f.IsExported() {
					b.WriteString(f.Name + " ")
					walk(f.Type)
					b.WriteString("; ")
				}
			}
			b.WriteString("}")
		default:
			b.WriteString(t.String())
		}
	}
	walk(t)
	return b.String()
}

// notesInfo returns the installed release that lends in the notes of its
// composed Tabular List, or nil: the release is looked for beside in, in
// its system's directory.
func notesInfo(in *Info) (*Info, error) {
	sd := filepath.Dir(in.Dir)
	ents, err := os.ReadDir(sd)
	if err != nil {
		return nil, fmt.Errorf("find a Tabular List to take notes from: %w", err)
	}
	var infos []*Info
	for _, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		o, err := readManifest(filepath.Join(sd, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("find a Tabular List to take notes from: %w", err)
		}
		infos = append(infos, o)
	}
	return notesSource(infos, in), nil
}

// The Tabular List kept in the cache is tabularMagic, the CRC-32C
// (little-endian) of all that follows it, the number of the release's
// Problems and each one's length and bytes (varints), then the list as
// codesys.EncodeTabular writes it.
const (
	tabularCachePrefix = "tabular-2-"
	tabularMagic       = "medcode tabular\x00"
)

func checksum(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

// loadTabular returns the Tabular List and the release's Problems kept
// under key, or a nil list when there is none. A damaged entry is an
// error.
func loadTabular(c *Cache, key string) (*codesys.Tabular, []string, error) {
	b, err := c.Load(key)
	if err != nil || b == nil {
		return nil, nil, err
	}
	if len(b) < len(tabularMagic)+4 || string(b[:len(tabularMagic)]) != tabularMagic {
		return nil, nil, errors.New("not a kept Tabular List")
	}
	body := b[len(tabularMagic)+4:]
	if checksum(body) != binary.LittleEndian.Uint32(b[len(tabularMagic):]) {
		return nil, nil, errors.New("checksum mismatch: the file is damaged")
	}
	n, k := binary.Uvarint(body)
	if k <= 0 || n > uint64(len(body)) {
		return nil, nil, errors.New("damaged problems")
	}
	body = body[k:]
	var problems []string
	for range n {
		l, k := binary.Uvarint(body)
		if k <= 0 || l > uint64(len(body)-k) {
			return nil, nil, errors.New("damaged problems")
		}
		problems = append(problems, string(body[k:k+int(l)]))
		body = body[k+int(l):]
	}
	tab, err := codesys.DecodeTabular(body)
	if err != nil {
		return nil, nil, err
	}
	return tab, problems, nil
}

// storeTabular keeps t and the release's problems under key.
func storeTabular(c *Cache, key string, t *codesys.Tabular, problems []string) error {
	var b bytes.Buffer
	b.WriteString(tabularMagic)
	b.Write(make([]byte, 4))
	b.Write(binary.AppendUvarint(nil, uint64(len(problems))))
	for _, p := range problems {
		b.Write(binary.AppendUvarint(nil, uint64(len(p))))
		b.WriteString(p)
	}
	if err := codesys.EncodeTabular(&b, t); err != nil {
		return err
	}
	data := b.Bytes()
	binary.LittleEndian.PutUint32(data[len(tabularMagic):], checksum(data[len(tabularMagic)+4:]))
	return c.Store(key, data)
}
