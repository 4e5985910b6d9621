package server

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzDocumentReference(f *testing.F) {
	f.Add(`{"resourceType": "DocumentReference", "id": "n1", "subject": {"reference": "Patient/1"}, "content": [{"attachment": {"contentType": "text/plain; charset=utf-8", "data": "` +
		base64.StdEncoding.EncodeToString([]byte("Pneumonia.")) + `"}}]}`)
	f.Add(`{"resourceType": "DocumentReference", "content": [{"attachment": {"contentType": "application/pdf", "data": "AAAA"}}, {"attachment": {"contentType": "text/plain", "data": "aGk="}}]}`)
	f.Add(`{"resourceType": "DocumentReference", "content": []}`)
	f.Add(`{"resourceType": 1}`)
	f.Fuzz(func(t *testing.T, body string) {
		if !isFHIR([]byte(body)) {
			return
		}
		d, aerr := parseDocumentReference([]byte(body))
		if aerr != nil {
			if aerr.Status < 400 || aerr.Status >= 500 || aerr.Code == "" {
				t.Fatalf("error %+v is not a 4xx with a code", aerr)
			}
			return
		}
		if !utf8.ValidString(d.text) {
			t.Fatal("accepted a note that is not UTF-8")
		}
	})
}

func FuzzCheckSpans(f *testing.F) {
	const text = "Patient’s history: type 2 diabetes. Café au lait spots."
	f.Add(0, 7)
	f.Add(7, 10)
	f.Add(-1, 3)
	f.Add(3, 300)
	f.Fuzz(func(t *testing.T, start, end int) {
		ev, aerr := checkSpans(text, []spanInput{{Start: start, End: end}})
		if aerr != nil {
			if aerr.Status != 422 || !strings.HasPrefix(aerr.Code, "span_") {
				t.Fatalf("error %+v", aerr)
			}
			return
		}
		e := ev[0]
		if e.Text != text[start:end] || !utf8.ValidString(e.Text) || e.Start >= e.End {
			t.Fatalf("span %d-%d accepted as %q", start, end, e.Text)
		}
	})
}
