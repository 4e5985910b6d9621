package catalog

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// FormatVersion is the version of the compiled form this medcode writes
// and reads. It changes whenever the codesys model changes in a way the
// encoding cannot absorb, or a reader reads the publisher's files
// differently; releases compiled by another version must be imported
// again.
const FormatVersion = 2

// magic starts every compiled release, followed by the format version as a
// little-endian uint32 and the gob-encoded codesys.Release.
var magic = [8]byte{'m', 'e', 'd', 'c', 'o', 'd', 'e', 0}

// encodeRelease writes r in compiled form.
func encodeRelease(w io.Writer, r *codesys.Release) error {
	var hdr [12]byte
	copy(hdr[:], magic[:])
	binary.LittleEndian.PutUint32(hdr[8:], FormatVersion)
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	return gob.NewEncoder(w).Encode(r)
}

// ErrIncompatible is returned (wrapped) by Open for a release compiled by an
// incompatible version of medcode.
var ErrIncompatible = errors.New("compiled by an incompatible version of medcode")

// decodeRelease reads a compiled release. name is used in error messages.
func decodeRelease(b []byte, name string) (*codesys.Release, error) {
	if len(b) < 12 || !bytes.Equal(b[:8], magic[:]) {
		return nil, fmt.Errorf("%s is not a compiled medcode release: import the release again", name)
	}
	if v := binary.LittleEndian.Uint32(b[8:12]); v != FormatVersion {
		return nil, fmt.Errorf("%s: format %d %w (this one reads format %d): import the release again", name, v, ErrIncompatible, FormatVersion)
	}
	var r codesys.Release
	if err := gob.NewDecoder(bytes.NewReader(b[12:])).Decode(&r); err != nil {
		return nil, fmt.Errorf("%s is corrupt: %w: import the release again", name, err)
	}
	prepare(&r)
	return &r, nil
}

// prepare rebuilds what the compiled form does not store (the lookup maps
// of the codesys model). It is the single place every decoded release goes
// through.
func prepare(r *codesys.Release) { r.Prepare() }

// Open decodes an installed release. An empty version opens the latest
// installed release of system.
func Open(ctx context.Context, dir, system, version string) (*codesys.Release, error) {
	in, err := Stat(dir, system, version)
	if err != nil {
		return nil, err
	}
	r, err := OpenInfo(ctx, in)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// OpenInfo decodes the installed release in describes, as returned by List
// or Stat.
func OpenInfo(ctx context.Context, in *Info) (*codesys.Release, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !in.Compatible() {
		return nil, fmt.Errorf("open %s: release format %d %w (this one reads format %d): import the release again", in.ID(), in.Format, ErrIncompatible, FormatVersion)
	}
	r, err := decodeInstalled(in)
	if err != nil {
		return nil, err
	}
	if r.System == codesys.ICD10CM && r.Tabular == nil && r.Order != nil {
		if err := compose(ctx, in, r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// compose gives a release with an order file but no Tabular List the
// Tabular List composed from its order file and the notes of the newest
// other installed release with a Tabular List (codesys.ComposeTabular), so
// that lookup, validation and coding work with the release's own codes. The
// notes release is looked for beside in, in its system's directory.
func compose(ctx context.Context, in *Info, r *codesys.Release) error {
	self := *in
	self.Parts = r.Parts()
	src, err := notesInfo(&self)
	if err != nil {
		return fmt.Errorf("open %s: %w", in.ID(), err)
	}
	var notes *codesys.Tabular
	notesID := ""
	if src != nil {
		nr, err := OpenInfo(ctx, src)
		if err != nil {
			return fmt.Errorf("open %s: notes from %s: %w", in.ID(), src.ID(), err)
		}
		notes, notesID = nr.Tabular, nr.ID()
	}
	r.Tabular, r.Problems = codesys.ComposeTabular(r.Order, notes, notesID)
	r.Tabular.Version = r.Version
	return nil
}

// install writes r and its manifest into a new directory inside the data
// directory, flushes them to disk and renames the directory into place,
// replacing any installed release of the same version. Readers see either
// the old release or the new one, never a mixture; a failure leaves the
// old one installed.
func install(dir string, r *codesys.Release, in *Info) (err error) {
	if err := MkdirData(dir); err != nil {
		return err
	}
	sd := systemDir(dir, r.System)
	if err := os.MkdirAll(sd, 0o755); err != nil {
		return err
	}
	cleanStaleTemp(releasesDir(dir))
	recoverSystemDir(sd)
	tmp, err := os.MkdirTemp(sd, tmpPrefix+r.Version+"-")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	// MkdirTemp makes the directory private; an installed release is as
	// readable as the rest of the data directory.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}

	size, err := writeFileSync(filepath.Join(tmp, releaseFile), func(w io.Writer) error {
		return encodeRelease(w, r)
	})
	if err != nil {
		return fmt.Errorf("write compiled release: %w", err)
	}
	in.Size = size
	in.Format = FormatVersion
	if _, err := writeFileSync(filepath.Join(tmp, manifestFile), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(in)
	}); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := syncDir(tmp); err != nil {
		return err
	}

	final := filepath.Join(sd, r.Version)
	old := filepath.Join(sd, oldPrefix+r.Version)
	replacing := false
	if _, err := os.Stat(final); err == nil {
		// A directory cannot be renamed over a non-empty one, so the old
		// release steps aside first; recoverSystemDir puts it back if we
		// are interrupted before the new one is in place.
		if err := os.RemoveAll(old); err != nil {
			return err
		}
		if err := os.Rename(final, old); err != nil {
			return err
		}
		replacing = true
	}
	if err := os.Rename(tmp, final); err != nil {
		if replacing {
			os.Rename(old, final)
		}
		return err
	}
	syncDir(sd)
	if replacing {
		os.RemoveAll(old)
	}
	in.Dir = final
	return nil
}

// writeFileSync creates name, fills it with write through a buffer and
// flushes it to stable storage. It returns the number of bytes written.
func writeFileSync(name string, write func(io.Writer) error) (int64, error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	cw := &countWriter{w: f}
	bw := bufio.NewWriterSize(cw, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// syncDir flushes a directory's entries to stable storage, so that a
// rename survives a crash. Windows cannot sync directories and does not
// need to.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// staleAfter is how long a work directory or download may go unwritten
// before it is taken to belong to an import or fetch that was killed, not
// to one still running: an import writes its work directory within
// seconds, and a download writes its file as the bytes come in.
const staleAfter = time.Hour

// cleanStaleTemp removes the work directories and downloads (.tmp-) in d
// that were last written more than staleAfter ago. Errors are ignored:
// the next call tries again.
func cleanStaleTemp(d string) {
	ents, err := os.ReadDir(d)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), tmpPrefix) {
			continue
		}
		p := filepath.Join(d, e.Name())
		if time.Since(lastWrite(p)) > staleAfter {
			os.RemoveAll(p)
		}
	}
}

// lastWrite returns when p, or a file directly inside it, was last
// written: writing a file does not touch its directory's time. It is the
// zero time when p cannot be read, so that what cannot be read is not
// kept forever.
func lastWrite(p string) time.Time {
	fi, err := os.Lstat(p)
	if err != nil {
		return time.Time{}
	}
	t := fi.ModTime()
	if !fi.IsDir() {
		return t
	}
	ents, _ := os.ReadDir(p)
	for _, e := range ents {
		if efi, err := e.Info(); err == nil && efi.ModTime().After(t) {
			t = efi.ModTime()
		}
	}
	return t
}
