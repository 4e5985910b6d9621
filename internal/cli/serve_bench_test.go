package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/coder"
	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/eval/codiesp"
	"github.com/medcode-dev/medcode/internal/server"
	"github.com/medcode-dev/medcode/internal/shareddata"
	"github.com/medcode-dev/medcode/internal/store"
)

// BenchmarkServeLoad drives the coding service the way "medcode serve"
// runs it (the offline coder over the FY2021 ICD-10-CM Tabular List,
// SQLite store) with 50 concurrent clients over loopback HTTP. Each of the
// b.N operations submits a real note (CodiEsp dev, English) for coding and
// then accepts its first code, as a reviewer would. It reports sustained
// notes/s, p50 and p99 latency of the submission, and errors, and then
// checks that every submitted note and decision is in the store.
//
//	go test -run '^$' -bench ServeLoad -benchtime 2000x ./internal/cli
func BenchmarkServeLoad(b *testing.B) {
	const clients = 50
	ctx := context.Background()
	f, err := os.Open(shareddata.Path(b, "icd10cm/fy2021-jan2021/icd10cm_tabular_2021.xml.gz"))
	if err != nil {
		b.Fatal(err)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	tab, err := codesys.ReadTabular(zr, "icd10cm_tabular_2021.xml")
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	rel := &codesys.Release{System: codesys.ICD10CM, Version: tab.Version, Tabular: tab}
	rel.Prepare()
	docs, err := codiesp.Load(filepath.Dir(shareddata.Path(b, "eval/codiesp/final_dataset_v4_to_publish/dev")), "dev", codiesp.English)
	if err != nil {
		b.Fatal(err)
	}
	reasoner, err := coder.New(coder.Reference{CM: rel}, coder.Options{})
	if err != nil {
		b.Fatal(err)
	}
	codes, _ := server.NewReleases(rel)
	st, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "medcode.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	secret, _, err := st.CreateToken(ctx, "bench", "loadgen", store.Coder)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: st, Reasoner: reasoner, Codes: codes, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 2 * time.Minute}

	call := func(method, path string, body any, out any) (int, error) {
		j, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, hs.URL+path, bytes.NewReader(j))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if out != nil {
			json.Unmarshal(data, out)
		}
		return resp.StatusCode, nil
	}

	type done struct {
		id       string
		hash     string
		accepted string
		latency  time.Duration
		err      error
	}
	jobs := make(chan int)
	results := make(chan done, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				text := docs[i%len(docs)].Text
				t0 := time.Now()
				var d store.Document
				code, err := call("POST", "/v1/documents", map[string]string{"text": text}, &d)
				r := done{id: d.ID, hash: store.HashText(text), latency: time.Since(t0), err: err}
				if err == nil && code != http.StatusCreated {
					r.err = fmt.Errorf("submit: status %d", code)
				}
				if r.err == nil && len(d.Codes) > 0 {
					code, err := call("POST", "/v1/documents/"+d.ID+"/codes/"+d.Codes[0].ID+"/decision", map[string]string{"action": "accept"}, nil)
					if err != nil || code != http.StatusOK {
						r.err = fmt.Errorf("decide: status %d: %v", code, err)
					}
					r.accepted = d.Codes[0].ID
				}
				results <- r
			}
		}()
	}
	for i := range b.N {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(results)

	var lat []time.Duration
	errs := 0
	var ok []done
	for r := range results {
		if r.err != nil {
			errs++
			if errs <= 3 {
				b.Logf("error: %v", r.err)
			}
			continue
		}
		lat = append(lat, r.latency)
		ok = append(ok, r)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(ok))/elapsed.Seconds(), "notes/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(errs), "errors")
	b.ReportMetric(0, "ns/op")

	// No lost writes: every answered submission and decision is stored.
	for _, r := range ok {
		d, err := st.GetDocument(ctx, "bench", r.id)
		if err != nil || d.Hash != r.hash {
			b.Fatalf("document %s lost or changed: %v", r.id, err)
		}
		if r.accepted != "" && d.Codes[0].Status != store.CodeAccepted {
			b.Fatalf("decision on %s lost", r.id)
		}
	}
	if errs > 0 {
		b.Fatalf("%d of %d operations failed", errs, b.N)
	}
}
