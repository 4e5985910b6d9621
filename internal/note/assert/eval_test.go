package assert

import (
	"context"
	"os"
	"testing"

	"github.com/medcode-dev/medcode/internal/shareddata"
)

func TestEvaluateDevSet(t *testing.T) {
	path := shareddata.Path(t, "eval/context/annotations-dev.tsv")
	rep, err := EvaluateFile(context.Background(), New(), path)
	if err != nil {
		t.Fatal(err)
	}
	if testing.Verbose() {
		rep.WriteText(os.Stdout)
	}
}
