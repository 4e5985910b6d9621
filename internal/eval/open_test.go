package eval

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestOpen reads a file plain and gzipped, whatever its name says.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	const text = "encounter_id,note\nD2N001,cough\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(text))
	zw.Close()
	for name, content := range map[string][]byte{
		"plain.csv":        []byte(text),
		"zipped.csv.gz":    gz.Bytes(),
		"zipped-no-gz.csv": gz.Bytes(),
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Open(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || string(got) != text {
			t.Errorf("%s: read %q, %v; want %q", name, got, err, text)
		}
	}
	if _, err := Open(filepath.Join(dir, "missing.csv")); err == nil {
		t.Error("a missing file opened")
	}
}
