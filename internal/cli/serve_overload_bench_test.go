package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/eval/codiesp"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

var (
	overloadData     = flag.String("overload.data", "", "data directory with an ICD-10-CM release installed (default: the FY2025 release imported into a temporary one)")
	overloadDuration = flag.Duration("overload.duration", 30*time.Second, "how long the overload benchmark drives the service")
	overloadBig      = flag.Int("overload.big", 4_000_000, "size in bytes of the large clients' notes")
	overloadBigN     = flag.Int("overload.bigclients", 8, "how many clients send large notes (0: the normal load alone, for comparison)")
	overloadArgs     = flag.String("overload.serve", "", "more flags for medcode serve, space-separated (e.g. --max-note 5000000)")
)

// BenchmarkServeOverload runs a real "medcode serve" process (built from
// this checkout, the offline coder over an installed ICD-10-CM release,
// SQLite) and drives it over loopback for -overload.duration: 50 clients
// of one tenant submit real notes (CodiEsp dev, English, read at run
// time) one after another, while 8 clients (-overload.bigclients) of
// another tenant submit notes of -overload.big bytes (dev notes joined),
// with "Expect: 100-continue" as HTTP clients send a large body, pausing
// 100 ms after a refusal. It reports the normal clients' notes/s and
// p50/p99 submission latency, the large clients' answers, every answer
// other than 201, 413 or 429 as an error (the benchmark fails on any), and
// the server process's peak resident memory (VmHWM of /proc/PID/status,
// Linux).
//
//	go test -run '^$' -bench ServeOverload -benchtime 1x ./internal/cli -overload.data /tmp/DATA
func BenchmarkServeOverload(b *testing.B) {
	const normalClients = 50
	bigClients := *overloadBigN
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := b.TempDir()
	bin := filepath.Join(dir, "medcode")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/medcode-dev/medcode/cmd/medcode").CombinedOutput(); err != nil {
		b.Fatalf("build medcode: %v\n%s", err, out)
	}
	data := *overloadData
	if data == "" {
		data = filepath.Join(dir, "data")
		from := filepath.Dir(shareddata.Path(b, "icd10cm/fy2025-apr2025/icd10cm_order_2025.txt.gz"))
		if out, err := exec.Command(bin, "--data", data, "import", "--system", "icd10cm", "--from", from).CombinedOutput(); err != nil {
			b.Fatalf("import: %v\n%s", err, out)
		}
	}
	docs, err := codiesp.Load(filepath.Dir(shareddata.Path(b, "eval/codiesp/final_dataset_v4_to_publish/dev")), "dev", codiesp.English)
	if err != nil {
		b.Fatal(err)
	}
	var big strings.Builder
	for i := 0; big.Len() < *overloadBig; i++ {
		big.WriteString(docs[i%len(docs)].Text)
		big.WriteString("\n\n")
	}
	bigNote := big.String()[:*overloadBig]
	bigBody, _ := json.Marshal(map[string]string{"text": bigNote})

	env := append(os.Environ(), "MEDCODE_DB="+filepath.Join(dir, "medcode.db"))
	token := func(tenant string) string {
		cmd := exec.Command(bin, "--data", data, "token", "create", "--role", "coder", "--tenant", tenant, "--name", "loadgen")
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("token create: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	ward, bulk := token("ward"), token("bulk")

	args := []string{"--data", data, "serve", "--addr", "127.0.0.1:0", "--log-format", "text"}
	args = append(args, strings.Fields(*overloadArgs)...)
	srv := exec.CommandContext(ctx, bin, args...)
	srv.Env = env
	stderr, _ := srv.StderrPipe()
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer srv.Wait()
	defer srv.Process.Kill()
	addrRE := regexp.MustCompile(`review UI at (http://\S+)/`)
	lines := bufio.NewScanner(stderr)
	var base string
	for lines.Scan() {
		if m := addrRE.FindStringSubmatch(lines.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		b.Fatal("medcode serve did not start")
	}
	go io.Copy(io.Discard, stderr)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: normalClients + bigClients, ExpectContinueTimeout: time.Second},
		Timeout: 3 * time.Minute}
	post := func(secret string, body []byte) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/documents", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		if len(body) > 1<<16 {
			// As HTTP clients do for a large body: it is sent once
			// the server asks for it, not when it is refused unread.
			req.Header.Set("Expect", "100-continue")
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}

	type result struct {
		big     bool
		status  int
		latency time.Duration
		err     error
	}
	var mu sync.Mutex
	var results []result
	record := func(r result) {
		mu.Lock()
		results = append(results, r)
		mu.Unlock()
	}
	b.ResetTimer()
	start := time.Now()
	end := start.Add(*overloadDuration)
	var wg sync.WaitGroup
	for c := range normalClients {
		wg.Go(func() {
			for i := c; time.Now().Before(end); i += normalClients {
				body, _ := json.Marshal(map[string]string{"text": docs[i%len(docs)].Text})
				t0 := time.Now()
				status, err := post(ward, body)
				record(result{status: status, latency: time.Since(t0), err: err})
			}
		})
	}
	for range bigClients {
		wg.Go(func() {
			for time.Now().Before(end) {
				t0 := time.Now()
				status, err := post(bulk, bigBody)
				record(result{big: true, status: status, latency: time.Since(t0), err: err})
				if status == http.StatusTooManyRequests || status == http.StatusRequestEntityTooLarge {
					// A client backs off on a refusal (on 429 as
					// Retry-After says, but sooner: the load is the
					// point) rather than flooding the loopback.
					time.Sleep(100 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	peak, err := peakRSS(srv.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}

	var lat []time.Duration
	statuses := map[string]int{}
	errs := 0
	for _, r := range results {
		who := "normal"
		if r.big {
			who = "big"
		}
		switch {
		case r.err != nil:
			errs++
			if errs <= 3 {
				b.Logf("%s: %v", who, r.err)
			}
			statuses[who+"-error"]++
			continue
		case r.status != http.StatusCreated && r.status != http.StatusRequestEntityTooLarge && r.status != http.StatusTooManyRequests:
			errs++
		}
		statuses[fmt.Sprintf("%s-%d", who, r.status)]++
		if !r.big && r.status == http.StatusCreated {
			lat = append(lat, r.latency)
		}
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	keys := make([]string, 0, len(statuses))
	for k := range statuses {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.Logf("%s: %d", k, statuses[k])
	}
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "notes/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(statuses["big-413"]), "big-413")
	b.ReportMetric(float64(statuses["big-429"]), "big-429")
	b.ReportMetric(float64(statuses["big-201"]), "big-201")
	b.ReportMetric(float64(statuses["normal-429"]), "normal-429")
	b.ReportMetric(float64(errs), "errors")
	b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MiB")
	b.ReportMetric(0, "ns/op")
	if errs > 0 {
		b.Fatalf("%d answers other than 201, 413 or 429", errs)
	}
}

// peakRSS returns the peak resident set size of process pid in bytes.
func peakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("peak memory of the server: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("peak memory of the server: no VmHWM in /proc/%d/status", pid)
}
