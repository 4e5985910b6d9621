//go:build unix

package agent

import (
	"io/fs"
	"path/filepath"
	"syscall"
	"testing"
)

// The response cache holds what the model quoted of the note: its folders
// and files are for their owner only, whatever the umask.
func TestCacheIsPrivate(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "llm-cache")
	f := newFake(t, Anthropic, cleanScript()...)
	a, _ := newAgent(t, f, func(c *Config) { c.CacheDir, c.CacheMode = dir, CacheRecord })
	code1(t, a)
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		} else {
			n++
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s has mode %04o, want %04o", p, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("nothing cached")
	}
}
