package catalog

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCache(t *testing.T) {
	dir := t.TempDir()
	c := NewCache(dir)
	if b, err := c.Load("lexicon-1-aa"); b != nil || err != nil {
		t.Fatalf("Load of a missing key = %q, %v; want nil, nil", b, err)
	}
	want := []byte("built once")
	if err := c.Store("lexicon-1-aa", want); err != nil {
		t.Fatal(err)
	}
	if b, err := c.Load("lexicon-1-aa"); err != nil || !bytes.Equal(b, want) {
		t.Fatalf("Load = %q, %v; want %q", b, err, want)
	}
	// A new value replaces the old one.
	if err := c.Store("lexicon-1-aa", []byte("rebuilt")); err != nil {
		t.Fatal(err)
	}
	if b, _ := c.Load("lexicon-1-aa"); string(b) != "rebuilt" {
		t.Errorf("Load after a second Store = %q", b)
	}
	for _, bad := range []string{"", "../x", "a/b", ".hidden"} {
		if err := c.Store(bad, want); err == nil {
			t.Errorf("Store(%q) accepted a key that is no file name", bad)
		}
	}
	// No temporary file is left behind.
	ents, _ := os.ReadDir(filepath.Join(dir, "cache"))
	for _, e := range ents {
		if filepath.Ext(e.Name()) != cacheSuffix {
			t.Errorf("left in the cache folder: %s", e.Name())
		}
	}
}

// TestCachePrune checks that only the Keep most recently used entries stay.
func TestCachePrune(t *testing.T) {
	c := NewCache(t.TempDir())
	c.Keep = 3
	base := time.Now().Add(-time.Hour)
	for i := range 3 {
		key := fmt.Sprintf("k%d", i)
		if err := c.Store(key, []byte(key)); err != nil {
			t.Fatal(err)
		}
		p, _ := c.path(key)
		ts := base.Add(time.Duration(i) * time.Minute)
		os.Chtimes(p, ts, ts)
	}
	// k0 is the oldest but is used now: it stays, and k1 and k2 go.
	c.Keep = 2
	if b, _ := c.Load("k0"); string(b) != "k0" {
		t.Fatalf("k0 = %q", b)
	}
	if err := c.Store("k3", []byte("k3")); err != nil {
		t.Fatal(err)
	}
	for key, kept := range map[string]bool{"k0": true, "k1": false, "k2": false, "k3": true} {
		b, err := c.Load(key)
		if err != nil {
			t.Fatal(err)
		}
		if (b != nil) != kept {
			t.Errorf("%s kept = %v, want %v", key, b != nil, kept)
		}
	}
}
