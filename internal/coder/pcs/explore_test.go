package pcs

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/note"
)

func TestExplore(t *testing.T) {
	txt := os.Getenv("PCS_EXPLORE")
	if txt == "" {
		t.Skip()
	}
	c, err := New(release(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range strings.Split(txt, "\n") {
		n, _ := note.NewParser().Parse(s)
		r, err := c.Code(context.Background(), n, nil)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("==", s)
		for _, cd := range r.Codes {
			fmt.Println("  CODE", cd.Code, cd.Title, cd.Confidence)
			for _, st := range cd.Trail {
				fmt.Println("     ", st.Kind, st.Detail)
			}
		}
		for _, cd := range r.Dropped {
			fmt.Println("  DROP", cd.Code, cd.Reason)
		}
		for _, q := range r.Queries {
			fmt.Println("  QUERY", q.Partial, q.Question)
		}
	}
}
