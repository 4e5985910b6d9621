package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/coding"
)

const envKillChild = "MEDCODE_STORE_KILL_CHILD"

// killWriter is the child process of TestKillMidWrite: it writes documents
// with their codes and a decision as fast as it can, and prints each
// document's ID once its transactions have committed.
func killWriter(path string) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	a := Actor{Tenant: "kill", Name: "writer"}
	for i := 0; ; i++ {
		n := 1 + i%17
		text := strings.Repeat(fmt.Sprintf("note %d line with pneumonia. ", i), 50+rand.IntN(200))
		var codes []coding.Code
		for j := range n {
			at := j * 10
			codes = append(codes, coding.Code{Code: fmt.Sprintf("Z%02d.%d", j, i%10), System: "icd10cm", Kind: coding.Diagnosis,
				Evidence: []coding.Evidence{{Start: at, End: at + 4, Text: text[at : at+4]}}})
		}
		d := &Document{Source: "text", Text: text}
		if err := s.CreateDocument(ctx, a, d, &Run{Reasoner: "kill-test"}, FromResult(codes, nil)); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		if _, _, err := s.Decide(ctx, a, d.ID, d.Codes[0].ID, Decision{Action: "accept"}); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Printf("committed %s %d\n", d.ID, n)
	}
}

func TestMain(m *testing.M) {
	if p := os.Getenv(envKillChild); p != "" {
		killWriter(p)
		return
	}
	os.Exit(m.Run())
}

// TestKillMidWrite kills a writing process with SIGKILL and checks that
// every document it reported committed is there in full, and that every
// document that is there is whole: its run, all its codes and its audit
// entries, and its text matching its hash.
func TestKillMidWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "medcode.db")
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envKillChild+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		committed := map[string]int{}
		sc := bufio.NewScanner(out)
		deadline := time.Now().Add(30 * time.Second)
		want := 20 + rand.IntN(40)
		for len(committed) < want && sc.Scan() {
			var id string
			var n int
			if _, err := fmt.Sscanf(sc.Text(), "committed %s %d", &id, &n); err != nil {
				cmd.Process.Kill()
				t.Fatalf("child: %s", sc.Text())
			}
			committed[id] = n
			if time.Now().After(deadline) {
				break
			}
		}
		// Kill while the child is in the middle of its next writes.
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		if len(committed) < want {
			t.Fatalf("round %d: child reported only %d commits", round, len(committed))
		}
		checkWhole(t, path, committed)
	}
}

func checkWhole(t *testing.T, path string, committed map[string]int) {
	t.Helper()
	ctx := context.Background()
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	docs, err := s.ListDocuments(ctx, "kill", Filter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, sum := range docs {
		d, err := s.GetDocument(ctx, "kill", sum.ID)
		if err != nil {
			t.Fatal(err)
		}
		seen[d.ID] = true
		if HashText(d.Text) != d.Hash {
			t.Errorf("%s: text does not match its hash", d.ID)
		}
		if len(d.Runs) != 1 || len(d.Codes) != d.Runs[0].CodeCount || len(d.Codes) == 0 {
			t.Errorf("%s: half written: %d runs, %d codes", d.ID, len(d.Runs), len(d.Codes))
			continue
		}
		if n, ok := committed[d.ID]; ok && n != len(d.Codes) {
			t.Errorf("%s: %d codes, child committed %d", d.ID, len(d.Codes), n)
		}
		log, err := s.Audit(ctx, "kill", AuditFilter{DocumentID: d.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(log) < 2 || log[0].Action != "document.create" || log[1].Action != "coding.run" {
			t.Errorf("%s: audit log incomplete: %d entries", d.ID, len(log))
		}
		// The decision is its own transaction: either both it and its
		// audit entry are there, or neither.
		accepted := d.Codes[0].Status == CodeAccepted
		if accepted != (len(log) == 3 && log[2].Action == "code.accept") {
			t.Errorf("%s: decision %s and audit log %d entries disagree", d.ID, d.Codes[0].Status, len(log))
		}
		if _, ok := committed[d.ID]; ok && !accepted {
			t.Errorf("%s: committed decision lost", d.ID)
		}
	}
	for id := range committed {
		if !seen[id] {
			t.Errorf("committed document %s lost", id)
		}
	}
}
