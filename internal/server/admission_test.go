package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/store"
)

// TestNoteTooLarge: a note past MaxNote is 413 note_too_large, in both
// forms of submission, and a body whose declared length is past MaxBody
// is 413 body_too_large before it is read; nothing is coded or stored.
func TestNoteTooLarge(t *testing.T) {
	e := newEnv(t, Config{MaxNote: 1000, MaxBody: 10000})
	var eb errBody
	at := strings.Repeat("x", 991) + "pneumonia"
	if code := e.do("north/coder", "POST", "/v1/documents", map[string]string{"text": at}, nil); code != 201 {
		t.Fatalf("a note at the limit: %d", code)
	}
	if code := e.do("north/coder", "POST", "/v1/documents", map[string]string{"text": at + "x"}, &eb); code != 413 || eb.Error.Code != "note_too_large" || eb.Error.Field != "text" {
		t.Fatalf("a note past the limit: %d %+v", code, eb.Error)
	}
	// The declared length alone refuses it: the body never comes.
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "POST /v1/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 10001\r\n\r\n", e.tokens["north/coder"])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&eb)
	resp.Body.Close()
	if resp.StatusCode != 413 || eb.Error.Code != "body_too_large" {
		t.Fatalf("declared length past the limit: %d %+v", resp.StatusCode, eb.Error)
	}
	var list struct{ Documents []store.Document }
	e.do("north/coder", "GET", "/v1/documents", nil, &list)
	if len(list.Documents) != 1 {
		t.Fatalf("%d documents stored, want the 1 at the limit", len(list.Documents))
	}
}

// TestAdmission: coding jobs are bounded per tenant and in total; past
// the bound, once QueueWait has passed without a free slot, a submission
// is 429 busy with Retry-After, and a slot freed is taken again.
func TestAdmission(t *testing.T) {
	block := make(chan struct{})
	e := newEnv(t, Config{Reasoner: &phraseReasoner{block: block}, MaxCoding: 2, MaxCodingPerTenant: 1, QueueWait: 20 * time.Millisecond})
	if _, _, err := e.st.CreateToken(context.Background(), "east", "east-coder", store.Coder); err != nil {
		t.Fatal(err)
	}
	secret, _, err := e.st.CreateToken(context.Background(), "east", "east-coder-2", store.Coder)
	if err != nil {
		t.Fatal(err)
	}
	e.tokens["east/coder"] = secret
	submit := func(who string) (int, http.Header, string) {
		j, _ := json.Marshal(map[string]string{"text": "pneumonia"})
		req, _ := http.NewRequest("POST", e.url+"/v1/documents", bytes.NewReader(j))
		req.Header.Set("Authorization", "Bearer "+e.tokens[who])
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0, nil, ""
		}
		defer resp.Body.Close()
		var eb errBody
		json.NewDecoder(resp.Body).Decode(&eb)
		return resp.StatusCode, resp.Header, eb.Error.Code
	}
	done := make(chan int, 2)
	go func() { c, _, _ := submit("north/coder"); done <- c }()
	waitFor(t, func() bool { n, _, _ := e.srv.admit.busy("north"); return n == 1 })

	// North's one slot is taken: north waits, then is refused.
	code, h, ecode := submit("north/coder")
	if code != http.StatusTooManyRequests || ecode != "busy" || h.Get("Retry-After") == "" {
		t.Fatalf("north's second job: %d %s Retry-After %q, want 429 busy with Retry-After", code, ecode, h.Get("Retry-After"))
	}
	// South has a slot of its own, and takes the last of the total.
	go func() { c, _, _ := submit("south/coder"); done <- c }()
	waitFor(t, func() bool { _, total, _ := e.srv.admit.busy("south"); return total == 2 })
	if code, _, ecode := submit("east/coder"); code != http.StatusTooManyRequests || ecode != "busy" {
		t.Fatalf("east with every slot taken: %d %s", code, ecode)
	}
	close(block)
	for range 2 {
		if c := <-done; c != http.StatusCreated {
			t.Fatalf("an admitted job: %d", c)
		}
	}
	if code, _, _ := submit("north/coder"); code != http.StatusCreated {
		t.Fatalf("north once its slot is free: %d", code)
	}
	if n, total, _ := e.srv.admit.busy("north"); n != 0 || total != 0 {
		t.Fatalf("slots held after the jobs: %d of north, %d in all", n, total)
	}
}

// TestAdmissionLarge: large notes are coded one at a time (by default on
// 2 CPUs, here set), leaving the other slots to small notes.
func TestAdmissionLarge(t *testing.T) {
	block := make(chan struct{})
	e := newEnv(t, Config{Reasoner: &phraseReasoner{block: block}, MaxCoding: 3, MaxCodingPerTenant: 3, MaxCodingLarge: 1,
		LargeNote: 100, QueueWait: 20 * time.Millisecond})
	large := strings.Repeat("pneumonia ", 20)
	done := make(chan int, 2)
	post := func(text string) int {
		var eb errBody
		code := e.do("north/coder", "POST", "/v1/documents", map[string]string{"text": text}, &eb)
		if code == http.StatusTooManyRequests && eb.Error.Code != "busy" {
			t.Errorf("429 %s", eb.Error.Code)
		}
		return code
	}
	go func() { done <- post(large) }()
	waitFor(t, func() bool { _, _, n := e.srv.admit.busy("north"); return n == 1 })
	if code := post(large); code != http.StatusTooManyRequests {
		t.Fatalf("a second large note: %d, want 429", code)
	}
	go func() { done <- post("pneumonia") }()
	waitFor(t, func() bool { _, total, _ := e.srv.admit.busy("north"); return total == 2 })
	close(block)
	for range 2 {
		if c := <-done; c != http.StatusCreated {
			t.Fatalf("an admitted job: %d", c)
		}
	}
}

// TestSearchAssignable: with assignable=true a search leaves out the hits
// that cannot be reported as they stand (a header) and keeps the codes
// that can.
func TestSearchAssignable(t *testing.T) {
	e := newEnv(t, Config{})
	codes := func(query string) []string {
		var out struct{ Hits []struct{ Code string } }
		if code := e.do("north/coder", "GET", "/v1/search?q=diabetes"+query, nil, &out); code != 200 {
			t.Fatalf("search%s: %d", query, code)
		}
		var cs []string
		for _, h := range out.Hits {
			cs = append(cs, h.Code)
		}
		return cs
	}
	all, assignable := codes(""), codes("&assignable=true")
	if !slices.Contains(all, "E11") || !slices.Contains(all, "E11.9") {
		t.Fatalf("hits %v, want the header E11 and E11.9", all)
	}
	if slices.Contains(assignable, "E11") || !slices.Contains(assignable, "E11.9") {
		t.Fatalf("assignable hits %v, want E11.9 without its header", assignable)
	}
	if code := e.do("north/coder", "GET", "/v1/search?q=diabetes&assignable=maybe", nil, nil); code != 400 {
		t.Fatalf("assignable=maybe: %d", code)
	}
}
