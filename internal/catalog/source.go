package catalog

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
)

// member is one file found in an import source: a file in a folder, an
// entry of a zip (possibly nested) or a single file, with gzip removed.
type member struct {
	// name shows where the file is, for messages and the manifest:
	// "dir/a.zip:Table and Index/icd10cm_tabular_2026.xml".
	name string
	open func() (io.ReadCloser, error)
}

// maxNestedZip bounds the size of a zip inside a zip, which is held in
// memory while it is read. The publisher's archives are a few tens of MB.
const maxNestedZip = 1 << 30

// Default bounds of an import's archives (ImportOptions.MaxExpanded and
// MaxMembers). The publisher's archives expand to a few hundred MB in a few
// dozen files; the bounds stop a zip bomb long before it exhausts memory or
// disk.
const (
	DefaultMaxExpanded = 2 << 30
	DefaultMaxMembers  = 10000
)

// ErrArchiveLimit is returned (wrapped) by Import when the archives or
// gzipped files imported expand beyond ImportOptions.MaxExpanded bytes or
// hold more than ImportOptions.MaxMembers files.
var ErrArchiveLimit = errors.New("archive limit exceeded")

// sourceSet holds the files found in the import sources and the archives
// they are read from, which stay open until Close: each file is opened
// twice, to identify it and to read it.
type sourceSet struct {
	members []member
	closers []io.Closer

	// maxExpanded and maxMembers bound what the archives and gzipped
	// files expand to; expanded counts the bytes they gave so far and
	// archived the files listed from archives.
	maxExpanded int64
	maxMembers  int
	expanded    atomic.Int64
	declared    int64
	archived    int
}

func newSourceSet(opts ImportOptions) *sourceSet {
	s := &sourceSet{maxExpanded: opts.MaxExpanded, maxMembers: opts.MaxMembers}
	if s.maxExpanded <= 0 {
		s.maxExpanded = DefaultMaxExpanded
	}
	if s.maxMembers <= 0 {
		s.maxMembers = DefaultMaxMembers
	}
	return s
}

// tooLarge is the error for an archive found to expand beyond the limit.
func (s *sourceSet) tooLarge(name string) error {
	return fmt.Errorf("%s: the import's archives expand to more than %d bytes: %w (raise ImportOptions.MaxExpanded if the release is genuine)", name, s.maxExpanded, ErrArchiveLimit)
}

// listed counts a file found in an archive and the size its header
// declares, failing as soon as either bound is passed, before anything is
// expanded.
func (s *sourceSet) listed(name string, size uint64) error {
	s.archived++
	if s.archived > s.maxMembers {
		return fmt.Errorf("%s: the import's archives hold more than %d files: %w (raise ImportOptions.MaxMembers if the release is genuine)", name, s.maxMembers, ErrArchiveLimit)
	}
	if size > uint64(s.maxExpanded) || s.declared+int64(size) > s.maxExpanded {
		return s.tooLarge(name)
	}
	s.declared += int64(size)
	return nil
}

// limited wraps the opener of an expanded file so that the bytes it gives
// count against the import's bound. A file is opened more than once (to
// identify it, then to read it): only the bytes beyond the most it gave
// before count, so that reading it again costs nothing.
func (s *sourceSet) limited(name string, open func() (io.ReadCloser, error)) func() (io.ReadCloser, error) {
	var most atomic.Int64
	return func() (io.ReadCloser, error) {
		rc, err := open()
		if err != nil {
			return nil, err
		}
		return &limitedReader{ReadCloser: rc, set: s, name: name, most: &most}, nil
	}
}

// limitedReader counts the bytes of one opening of an expanded file.
type limitedReader struct {
	io.ReadCloser
	set  *sourceSet
	name string
	most *atomic.Int64 // the most bytes any opening of the file gave
	n    int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	n, err := l.ReadCloser.Read(p)
	l.n += int64(n)
	if prev := l.most.Load(); l.n > prev && l.most.CompareAndSwap(prev, l.n) {
		if l.set.expanded.Add(l.n-prev) > l.set.maxExpanded {
			return n, l.set.tooLarge(l.name)
		}
	}
	return n, err
}

func (s *sourceSet) Close() {
	for _, c := range s.closers {
		c.Close()
	}
	s.closers = nil
}

// add lists the files of the import source at p: a folder (walked
// recursively), a .zip, a .gz or a plain file. name stands for p in
// messages and the manifest.
func (s *sourceSet) add(ctx context.Context, p, name string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return s.addFile(p, name)
	}
	return filepath.WalkDir(p, func(fp string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if fp != p && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		return s.addFile(fp, fp)
	})
}

// addFile lists a single file: the entries of a zip, or the file itself
// with gzip removed.
func (s *sourceSet) addFile(fp, name string) error {
	switch ext := strings.ToLower(filepath.Ext(fp)); ext {
	case ".zip":
		zr, err := zip.OpenReader(fp)
		if err != nil {
			return fmt.Errorf("archive %s is truncated or corrupt: %w", name, err)
		}
		s.closers = append(s.closers, zr)
		ms, err := s.zipMembers(&zr.Reader, name)
		s.members = append(s.members, ms...)
		return err
	case ".gz":
		s.members = append(s.members, member{name: name, open: s.limited(name, func() (io.ReadCloser, error) {
			f, err := os.Open(fp)
			if err != nil {
				return nil, err
			}
			return newGzipReadCloser(f, name)
		})})
		return nil
	}
	s.members = append(s.members, member{name: name, open: func() (io.ReadCloser, error) { return os.Open(fp) }})
	return nil
}

// zipMembers lists the files of zr, reading the zips inside it, within
// the bounds of s.
func (s *sourceSet) zipMembers(zr *zip.Reader, zname string) ([]member, error) {
	var ms []member
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || strings.HasPrefix(f.Name, "__MACOSX/") || strings.HasPrefix(path.Base(f.Name), "._") {
			continue
		}
		name := zname + ":" + f.Name
		if err := s.listed(name, f.UncompressedSize64); err != nil {
			return nil, err
		}
		switch strings.ToLower(path.Ext(f.Name)) {
		case ".zip":
			if f.UncompressedSize64 > maxNestedZip {
				return nil, fmt.Errorf("archive %s is larger than %d bytes", name, maxNestedZip)
			}
			rc, err := s.limited(name, f.Open)()
			if err != nil {
				return nil, fmt.Errorf("archive %s is truncated or corrupt: %w", name, err)
			}
			b, err := io.ReadAll(io.LimitReader(rc, maxNestedZip+1))
			rc.Close()
			if errors.Is(err, ErrArchiveLimit) {
				return nil, err
			}
			if err != nil {
				return nil, fmt.Errorf("archive %s is truncated or corrupt: %w", name, err)
			}
			inner, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				return nil, fmt.Errorf("archive %s is truncated or corrupt: %w", name, err)
			}
			im, err := s.zipMembers(inner, name)
			if err != nil {
				return nil, err
			}
			ms = append(ms, im...)
		case ".gz":
			ms = append(ms, member{name: name, open: s.limited(name, func() (io.ReadCloser, error) {
				rc, err := f.Open()
				if err != nil {
					return nil, err
				}
				return newGzipReadCloser(rc, name)
			})})
		default:
			ms = append(ms, member{name: name, open: s.limited(name, f.Open)})
		}
	}
	slices.SortFunc(ms, func(a, b member) int { return strings.Compare(a.name, b.name) })
	return ms, nil
}

type gzipReadCloser struct {
	*gzip.Reader
	under io.Closer
}

func newGzipReadCloser(rc io.ReadCloser, name string) (io.ReadCloser, error) {
	zr, err := gzip.NewReader(rc)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("gunzip %s: %w", name, err)
	}
	return &gzipReadCloser{zr, rc}, nil
}

func (g *gzipReadCloser) Close() error {
	err := g.Reader.Close()
	if cerr := g.under.Close(); err == nil {
		err = cerr
	}
	return err
}

// ctxReader stops a long read when its context is canceled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
