package server

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/store"
)

// scoredReasoner scores pneumonia 0.4 and everything else as
// phraseReasoner does (0.9).
type scoredReasoner struct{ phraseReasoner }

func (s *scoredReasoner) Code(ctx context.Context, req coding.Request) (*coding.Result, error) {
	res, err := s.phraseReasoner.Code(ctx, req)
	if err != nil {
		return nil, err
	}
	for i := range res.Codes {
		if res.Codes[i].Code == "J18.9" {
			res.Codes[i].Confidence = 0.4
		}
	}
	return res, nil
}

func TestMinScore(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		tenant string
		want   []string
	}{
		{"no minimum", Config{}, "north", []string{"I10", "J18.9"}},
		{"server minimum", Config{MinScore: 0.5}, "north", []string{"I10"}},
		{"tenant lifts it", Config{MinScore: 0.5, TenantMinScore: map[string]float64{"south": 0}}, "south", []string{"I10", "J18.9"}},
		{"other tenant keeps the server's", Config{MinScore: 0.5, TenantMinScore: map[string]float64{"south": 0}}, "north", []string{"I10"}},
		{"tenant's own minimum", Config{TenantMinScore: map[string]float64{"north": 0.95}}, "north", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Reasoner = &scoredReasoner{}
			e := newEnv(t, tt.cfg)
			var d store.Document
			if code := e.do(tt.tenant+"/coder", "POST", "/v1/documents", map[string]any{"text": "Pneumonia and hypertension."}, &d); code != http.StatusCreated {
				t.Fatalf("submit: status %d", code)
			}
			var got []string
			for _, c := range d.Codes {
				got = append(got, c.Code)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("codes = %v, want %v", got, tt.want)
			}
		})
	}
}
