package cli

import (
	"archive/zip"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/medcode-dev/medcode/internal/shareddata"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"medcode": func() { os.Exit(Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the command-line scripts in testdata/script. Each script
// gets $SHARED, the shared data folder, and its own empty data directory.
func TestScripts(t *testing.T) {
	shared, err := shareddata.Find()
	if err != nil {
		t.Fatalf("shared data is required for the CLI scripts: %v", err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("SHARED", shared)
			env.Setenv("MEDCODE_DATA", env.WorkDir+"/data")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"zipfiles":  zipFiles,
			"httpserve": httpServe,
			"fakellm":   fakeLLM,
			"perm":      perm,
		},
	})
}

// perm checks a file's permission bits: perm PATH MODE (octal, as 0600).
func perm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: perm PATH MODE")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	if err != nil {
		ts.Fatalf("perm: mode %s: %v", args[1], err)
	}
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	if got := fi.Mode().Perm(); (got == os.FileMode(want)) == neg {
		ts.Fatalf("%s has mode %04o, want %s%04o", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// zipFiles builds a zip archive: zipfiles OUT FILE... stores each FILE
// under its base name, gunzipping files that end in .gz as the publisher's
// archives hold plain XML.
func zipFiles(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: zipfiles OUT FILE...")
	}
	out, err := os.Create(ts.MkAbs(args[0]))
	ts.Check(err)
	zw := zip.NewWriter(out)
	for _, name := range args[1:] {
		f, err := os.Open(ts.MkAbs(name))
		ts.Check(err)
		var r io.Reader = f
		base := filepath.Base(name)
		if strings.HasSuffix(base, ".gz") {
			zr, err := gzip.NewReader(f)
			ts.Check(err)
			r, base = zr, strings.TrimSuffix(base, ".gz")
		}
		w, err := zw.Create(base)
		ts.Check(err)
		_, err = io.Copy(w, r)
		ts.Check(err)
		f.Close()
	}
	ts.Check(zw.Close())
	ts.Check(out.Close())
}

// httpServe serves a directory of the script's work tree on loopback for
// the rest of the script and sets $HTTPBASE to its URL: httpserve DIR.
func httpServe(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: httpserve DIR")
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(ts.MkAbs(args[0]))))
	ts.Defer(srv.Close)
	ts.Setenv("HTTPBASE", srv.URL+"/")
}
