package catalog

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Cache keeps what is built from installed releases (the offline coder's
// lexicon) in the data directory's cache folder, one file a key, so that a
// command run once does not rebuild it. Anything in the folder may be
// deleted at any time: it is built again. Files are written to a temporary
// name and renamed, so a reader never sees half a file, and only the most
// recently stored Keep entries stay.
type Cache struct {
	dir string
	// Keep is how many entries the cache holds; older ones are removed
	// when a new one is stored.
	Keep int
}

// NewCache returns the cache of data directory dir.
func NewCache(dir string) *Cache {
	return &Cache{dir: filepath.Join(dir, "cache"), Keep: 8}
}

// cacheSuffix marks the cache's own files.
const cacheSuffix = ".cache"

func (c *Cache) path(key string) (string, error) {
	if key == "" || strings.ContainsAny(key, `/\`) || strings.HasPrefix(key, ".") {
		return "", fmt.Errorf("cache key %q: not a file name", key)
	}
	return filepath.Join(c.dir, key+cacheSuffix), nil
}

// Load returns the data stored under key, or nil and no error when there
// is none.
func (c *Cache) Load(key string) ([]byte, error) {
	p, err := c.path(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load cache: %w", err)
	}
	// Touching the file marks it recently used, so that pruning keeps it.
	now := time.Now()
	os.Chtimes(p, now, now)
	return b, nil
}

// Store keeps data under key, replacing what was there, and removes the
// least recently used entries beyond Keep.
func (c *Cache) Store(key string, data []byte) error {
	p, err := c.path(key)
	if err != nil {
		return err
	}
	if err := MkdirData(filepath.Dir(c.dir)); err != nil {
		return fmt.Errorf("store cache: %w", err)
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return fmt.Errorf("store cache: %w", err)
	}
	// The temporary name is the process's own, and no entry's (it does
	// not end in cacheSuffix).
	tmpName := fmt.Sprintf("%s.tmp-%d", p, os.Getpid())
	os.Remove(tmpName)
	if _, err := writeFileSync(tmpName, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}); err != nil {
		os.Remove(tmpName)
		return fmt.Errorf("store cache %s: %w", key, err)
	}
	if err := os.Rename(tmpName, p); err != nil {
		os.Remove(tmpName)
		return fmt.Errorf("store cache %s: %w", key, err)
	}
	return c.prune()
}

// prune removes the least recently used entries beyond Keep.
func (c *Cache) prune() error {
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		return fmt.Errorf("prune cache: %w", err)
	}
	type file struct {
		name string
		mod  int64
	}
	var files []file
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), cacheSuffix) || !e.Type().IsRegular() {
			continue
		}
		if info, err := e.Info(); err == nil {
			files = append(files, file{e.Name(), info.ModTime().UnixNano()})
		}
	}
	if len(files) <= c.Keep {
		return nil
	}
	slices.SortFunc(files, func(a, b file) int { return cmp.Compare(b.mod, a.mod) })
	for _, f := range files[c.Keep:] {
		if err := os.Remove(filepath.Join(c.dir, f.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("prune cache: %w", err)
		}
	}
	return nil
}
