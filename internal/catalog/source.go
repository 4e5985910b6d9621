package catalog

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
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

// sourceSet holds the files found in the import sources and the archives
// they are read from, which stay open until Close: each file is opened
// twice, to identify it and to read it.
type sourceSet struct {
	members []member
	closers []io.Closer
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
		ms, err := zipMembers(&zr.Reader, name)
		s.members = append(s.members, ms...)
		return err
	case ".gz":
		s.members = append(s.members, member{name: name, open: func() (io.ReadCloser, error) {
			f, err := os.Open(fp)
			if err != nil {
				return nil, err
			}
			return newGzipReadCloser(f, name)
		}})
		return nil
	}
	s.members = append(s.members, member{name: name, open: func() (io.ReadCloser, error) { return os.Open(fp) }})
	return nil
}

func zipMembers(zr *zip.Reader, zname string) ([]member, error) {
	var ms []member
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || strings.HasPrefix(f.Name, "__MACOSX/") || strings.HasPrefix(path.Base(f.Name), "._") {
			continue
		}
		name := zname + ":" + f.Name
		switch strings.ToLower(path.Ext(f.Name)) {
		case ".zip":
			if f.UncompressedSize64 > maxNestedZip {
				return nil, fmt.Errorf("archive %s is larger than %d bytes", name, maxNestedZip)
			}
			rc, err := f.Open()
			if err != nil {
				return nil, fmt.Errorf("archive %s is truncated or corrupt: %w", name, err)
			}
			b, err := io.ReadAll(io.LimitReader(rc, maxNestedZip+1))
			rc.Close()
			if err != nil {
				return nil, fmt.Errorf("archive %s is truncated or corrupt: %w", name, err)
			}
			inner, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				return nil, fmt.Errorf("archive %s is truncated or corrupt: %w", name, err)
			}
			im, err := zipMembers(inner, name)
			if err != nil {
				return nil, err
			}
			ms = append(ms, im...)
		case ".gz":
			ms = append(ms, member{name: name, open: func() (io.ReadCloser, error) {
				rc, err := f.Open()
				if err != nil {
					return nil, err
				}
				return newGzipReadCloser(rc, name)
			}})
		default:
			ms = append(ms, member{name: name, open: f.Open})
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
