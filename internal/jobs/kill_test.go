package jobs_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/medcode-dev/medcode/internal/cli"
	"github.com/medcode-dev/medcode/internal/pgtest"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

// envCLI makes the test binary run the medcode command line with its
// arguments: the processes of TestKillWorker are this binary.
const envCLI = "MEDCODE_JOBS_TEST_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(envCLI) == "1" {
		os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// completedRE finds the number of completed jobs in a /metrics page.
var completedRE = regexp.MustCompile(`(?m)^medcode_jobs\{state="completed"\} (\d+)$`)

// proc is a medcode process the test started.
type proc struct {
	cmd *exec.Cmd
	log string
}

// start runs medcode with args in a process of its own, its output in a
// log file, and returns once the output has a line matching ready, with
// the line's first submatch (the address it listens on).
func start(t testing.TB, dir, name string, ready *regexp.Regexp, args ...string) (*proc, string) {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envCLI+"=1")
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, log: logPath}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s's log (last 3000 bytes):\n%s", name, tail(b, 3000))
		}
	})
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(logPath)
		if m := ready.FindSubmatch(b); m != nil {
			return p, string(m[1])
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(logPath)
	t.Fatalf("%s did not start:\n%s", name, tail(b, 3000))
	return nil, ""
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// run runs medcode in this process and returns its standard output.
func run(t testing.TB, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := cli.Main(context.Background(), args, &out, &errb); code != 0 {
		t.Fatalf("medcode %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

// TestKillWorker runs the service as it is scaled out: one PostgreSQL, two
// API servers that only queue, three workers, all separate processes. It
// submits 2,000 notes through both servers, kills a worker with SIGKILL
// while the notes are being coded, and checks that every note is coded
// exactly once: one run, each code once, the audit entries of its
// submission and its run, its job completed, and no note lost.
func TestKillWorker(t *testing.T) {
	const (
		notes   = 2000
		clients = 8
		// A tenant of its own, so that the checks hold on a database
		// other tests use too ($MEDCODE_TEST_POSTGRES).
		tenant = "killtest"
	)
	dsn := pgtest.DSN(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	run(t, "--data", data, "import", "--system", "icd10cm", "--from", shareddata.Path(t, "icd10cm/fy2021-jan2021"))
	secret := strings.TrimSpace(run(t, "--data", data, "token", "create", "--db", dsn, "--role", "coder", "--tenant", tenant, "--name", "loadgen"))

	serving := regexp.MustCompile(`review UI at http://([^/\s]+)/`)
	metricsAt := regexp.MustCompile(`worker metrics at http://([^/\s]+)/metrics`)
	var servers []string
	for i := range 2 {
		_, addr := start(t, dir, fmt.Sprintf("server%d", i), serving,
			"--data", data, "serve", "--db", dsn, "--addr", "127.0.0.1:0", "--workers", "0", "--log-format", "text")
		servers = append(servers, addr)
	}
	var workers []*proc
	var workerMetrics []string
	for i := range 3 {
		p, addr := start(t, dir, fmt.Sprintf("worker%d", i), metricsAt,
			"--data", data, "worker", "--db", dsn, "--concurrency", "2", "--job-timeout", "5s",
			"--metrics-addr", "127.0.0.1:0", "--log-format", "text")
		workers = append(workers, p)
		workerMetrics = append(workerMetrics, addr)
	}

	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	coded := func() int {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM documents WHERE tenant = $1 AND status = 'coded'`, tenant).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Submit through both servers at once.
	client := &http.Client{Timeout: time.Minute}
	ids := make([]string, notes)
	next := make(chan int)
	errs := make(chan error, notes)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range next {
				body, _ := json.Marshal(map[string]string{"text": fmt.Sprintf("Note %d. Assessment: essential hypertension. Plan: review in clinic.", i)})
				req, _ := http.NewRequest("POST", "http://"+servers[(i+c)%2]+"/v1/documents?async=1", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+secret)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					continue
				}
				var d struct{ ID, Status string }
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted || json.Unmarshal(b, &d) != nil || d.Status != "queued" {
					errs <- fmt.Errorf("note %d: %d %s", i, resp.StatusCode, b)
					continue
				}
				ids[i] = d.ID
			}
		})
	}
	// Worker 0's River client, to find the jobs it had in hand.
	b, _ := os.ReadFile(workers[0].log)
	m := regexp.MustCompile(`River client started.* client_id=(\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("worker 0 logged no River client ID:\n%s", tail(b, 3000))
	}
	clientID := string(m[1])
	running := func() int {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM river_job WHERE state = 'running' AND attempted_by[array_length(attempted_by, 1)] = $1`, clientID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var interrupted []int64
	// Kill worker 0 once a fifth of the notes are coded and it has jobs
	// in hand, while the rest are still being submitted and coded.
	kill := func() bool {
		if coded() < notes/5 || running() == 0 {
			return false
		}
		workers[0].cmd.Process.Signal(syscall.SIGKILL)
		workers[0].cmd.Wait()
		// The jobs the dead worker held, before River's rescuer can
		// take them up: each must be completed by another worker.
		rows, err := db.Query(`SELECT id FROM river_job WHERE state = 'running' AND attempted_by[array_length(attempted_by, 1)] = $1`, clientID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			interrupted = append(interrupted, id)
		}
		return true
	}
	killed := false
	for i := range notes {
		next <- i
		if !killed && i%20 == 0 && kill() {
			killed = true
			t.Logf("killed worker 0 with %d notes submitted, %d coded", i, coded())
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("submission failed: %v", err)
	}
	for !killed {
		if killed = kill(); !killed {
			time.Sleep(time.Millisecond)
		}
	}
	t.Logf("worker 0 killed with %d jobs in hand, %d notes coded", len(interrupted), coded())

	deadline := time.Now().Add(3 * time.Minute)
	for coded() < notes {
		if time.Now().After(deadline) {
			rows, _ := db.Query(`SELECT status, COUNT(*) FROM documents WHERE tenant = $1 GROUP BY status`, tenant)
			for rows.Next() {
				var s string
				var n int
				rows.Scan(&s, &n)
				t.Logf("%s: %d", s, n)
			}
			t.Fatalf("%d of %d notes coded after 3 minutes", coded(), notes)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Nothing lost: every answered submission is a document, coded.
	want := map[string]bool{}
	for i, id := range ids {
		if id == "" {
			t.Fatalf("note %d has no ID", i)
		}
		want[id] = true
	}
	for _, id := range interrupted {
		var state string
		var attempt int
		var last string
		if err := db.QueryRow(`SELECT state, attempt, attempted_by[array_length(attempted_by, 1)] FROM river_job WHERE id = $1`, id).Scan(&state, &attempt, &last); err != nil {
			t.Fatal(err)
		}
		if state != "completed" || attempt < 2 || last == clientID {
			t.Errorf("job %d, interrupted by the kill: %s after %d attempts, the last by %s; want completed by another worker", id, state, attempt, last)
		}
	}
	rows, err := db.Query(`SELECT id, status FROM documents WHERE tenant = $1`, tenant)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for rows.Next() {
		var id, status string
		if err := rows.Scan(&id, &status); err != nil {
			t.Fatal(err)
		}
		if !want[id] || status != "coded" {
			t.Errorf("document %s: %s, submitted %v", id, status, want[id])
		}
		got++
	}
	rows.Close()
	if got != notes {
		t.Errorf("%d documents stored, want %d", got, notes)
	}
	// Exactly once: one run a document, with its codes, each once, and
	// one audit entry of each kind.
	for _, c := range []struct{ what, query string }{
		{"documents without exactly one run", `SELECT COUNT(*) FROM documents d WHERE d.tenant = $1 AND (SELECT COUNT(*) FROM runs r WHERE r.document_id = d.id) <> 1`},
		{"runs without codes", `SELECT COUNT(*) FROM runs r JOIN documents d ON d.id = r.document_id WHERE d.tenant = $1 AND NOT EXISTS (SELECT 1 FROM codes c WHERE c.run_id = r.id)`},
		{"codes held twice", `SELECT COUNT(*) FROM (SELECT c.document_id, c.system, c.code FROM codes c JOIN documents d ON d.id = c.document_id WHERE d.tenant = $1 GROUP BY c.document_id, c.system, c.code HAVING COUNT(*) > 1) x`},
		{"codes of no run", `SELECT COUNT(*) FROM codes c JOIN documents d ON d.id = c.document_id WHERE d.tenant = $1 AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = c.run_id)`},
		{"documents without exactly one document.create entry", `SELECT COUNT(*) FROM documents d WHERE d.tenant = $1 AND (SELECT COUNT(*) FROM audit a WHERE a.document_id = d.id AND a.action = 'document.create') <> 1`},
		{"documents without exactly one coding.run entry", `SELECT COUNT(*) FROM documents d WHERE d.tenant = $1 AND (SELECT COUNT(*) FROM audit a WHERE a.document_id = d.id AND a.action = 'coding.run') <> 1`},
		{"coding.run entries of another run", `SELECT COUNT(*) FROM audit a WHERE a.tenant = $1 AND a.action = 'coding.run' AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.document_id = a.document_id AND a.after LIKE '%' || r.id || '%')`},
		{"jobs not completed", `SELECT COUNT(*) FROM river_job WHERE args->>'tenant' = $1 AND state <> 'completed'`},
	} {
		var n int
		if err := db.QueryRow(c.query, tenant).Scan(&n); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		if n != 0 {
			t.Errorf("%d %s", n, c.what)
		}
	}
	var jobs, retried int
	if err := db.QueryRow(`SELECT COUNT(*), COUNT(*) FILTER (WHERE attempt > 1) FROM river_job WHERE args->>'tenant' = $1`, tenant).Scan(&jobs, &retried); err != nil {
		t.Fatal(err)
	}
	if jobs != notes {
		t.Errorf("%d jobs, want one a note (%d)", jobs, notes)
	}
	t.Logf("%d jobs, %d of them taken up again after the kill", jobs, retried)
	byWorker, err := db.Query(`SELECT attempted_by[array_length(attempted_by, 1)], COUNT(*) FROM river_job WHERE args->>'tenant' = $1 GROUP BY 1`, tenant)
	if err != nil {
		t.Fatal(err)
	}
	for byWorker.Next() {
		var w string
		var n int
		byWorker.Scan(&w, &n)
		t.Logf("worker %s: %d jobs", w, n)
	}
	byWorker.Close()

	// Every process reports the queue on /metrics.
	for _, addr := range append(servers, workerMetrics[1:]...) {
		resp, err := client.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// At least as many: other tests may share the database.
		completed := 0
		if m := completedRE.FindSubmatch(b); m != nil {
			completed, _ = strconv.Atoi(string(m[1]))
		}
		if completed < notes || !bytes.Contains(b, []byte("\nmedcode_job_queue_depth ")) {
			t.Errorf("%s/metrics reports %d jobs completed, want %d, and the queue's depth", addr, completed, notes)
		}
	}
}
