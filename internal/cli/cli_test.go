package cli

import (
	"context"
	"os"
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
	})
}
