package eval

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
)

// Open opens a dataset file that may be gzipped, telling by the gzip magic
// number rather than the name, so that a decompressed copy under the old
// name (or a .gz without the suffix) reads too. Closing the result closes
// the file.
func Open(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(f)
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return gzipFile{zr, f}, nil
	}
	return bufFile{br, f}, nil
}

type gzipFile struct {
	*gzip.Reader
	f *os.File
}

func (g gzipFile) Close() error {
	g.Reader.Close()
	return g.f.Close()
}

type bufFile struct {
	*bufio.Reader
	f *os.File
}

func (b bufFile) Close() error { return b.f.Close() }
