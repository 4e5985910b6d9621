package eval

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"text/tabwriter"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// Comparison is the difference between two runs over the same documents,
// with paired bootstrap p-values.
type Comparison struct {
	A, B       Meta
	Documents  int
	Iterations int
	Rows       []CompareRow
}

// CompareRow compares one metric of one system.
type CompareRow struct {
	System string  `json:"system"`
	Metric string  `json:"metric"`
	A      float64 `json:"a"`
	B      float64 `json:"b"`
	// Delta is B - A.
	Delta float64 `json:"delta"`
	// P is the two-sided paired bootstrap p-value of Delta: how often a
	// resample's difference lies as far from the observed one as the
	// observed one lies from zero.
	P float64 `json:"p"`
}

// Compare compares run b with run a over the documents they share, using
// a paired bootstrap over documents (iterations resamples, seeded). The
// runs must score the same documents; documents present in only one run
// are an error, since the difference would not be paired.
func Compare(a, b *Report, iterations int, seed uint64) (*Comparison, error) {
	if iterations <= 0 {
		return nil, fmt.Errorf("compare runs: iterations must be positive, got %d", iterations)
	}
	if a.Meta.Dataset != b.Meta.Dataset || a.Meta.Split != b.Meta.Split {
		return nil, fmt.Errorf("compare runs: A is %s %s, B is %s %s", a.Meta.Dataset, a.Meta.Split, b.Meta.Dataset, b.Meta.Split)
	}
	if !slices.Equal(a.Meta.Systems, b.Meta.Systems) {
		return nil, fmt.Errorf("compare runs: A scores %v, B scores %v", a.Meta.Systems, b.Meta.Systems)
	}
	if ra, rb := restrictionSource(a.Meta), restrictionSource(b.Meta); ra != rb || a.Meta.Text != b.Meta.Text {
		return nil, fmt.Errorf("compare runs: A is %s, B is %s: restricted and unrestricted runs, or runs on different texts, do not compare", describe(a.Meta), describe(b.Meta))
	}
	byID := make(map[string]int, len(b.Documents))
	for i, d := range b.Documents {
		byID[d.ID] = i
	}
	if len(a.Documents) != len(b.Documents) {
		return nil, fmt.Errorf("compare runs: %d documents in A, %d in B", len(a.Documents), len(b.Documents))
	}
	bDocs := make([]DocResult, len(a.Documents))
	for i, d := range a.Documents {
		j, ok := byID[d.ID]
		if !ok {
			return nil, fmt.Errorf("compare runs: document %s of A is not in B", d.ID)
		}
		bDocs[i] = b.Documents[j]
	}
	systems := a.Meta.Systems
	if len(systems) == 0 {
		systems = goldSystems(a.Documents)
	}
	type sel struct {
		name string
		sys  []codesys.System
	}
	var sels []sel
	if len(systems) != 1 {
		sels = append(sels, sel{All, systems})
	}
	for _, s := range systems {
		sels = append(sels, sel{string(s), []codesys.System{s}})
	}
	c := &Comparison{A: a.Meta, B: b.Meta, Documents: len(a.Documents), Iterations: iterations}
	n := len(a.Documents)
	for _, s := range sels {
		sa, sb := make([]docStats, n), make([]docStats, n)
		for i := range n {
			sa[i] = statsFor(&a.Documents[i], s.sys)
			sb[i] = statsFor(&bDocs[i], s.sys)
		}
		all := allIndexes(n)
		pa, pb := aggregate(sa, all), aggregate(sb, all)
		var metrics []string
		for _, m := range Metrics {
			if pa.applies(m) && pb.applies(m) {
				metrics = append(metrics, m)
			}
		}
		obs := make([]float64, len(metrics))
		far := make([]int, len(metrics))
		for j, m := range metrics {
			obs[j] = pb.get(m) - pa.get(m)
		}
		rng := rand.New(rand.NewPCG(seed, 0x636f6d70617265)) // "compare"
		idx := make([]int, n)
		for range iterations {
			for i := range idx {
				idx[i] = rng.IntN(n)
			}
			ra, rb := aggregate(sa, idx), aggregate(sb, idx)
			for j, m := range metrics {
				d := rb.get(m) - ra.get(m)
				if math.Abs(d-obs[j]) >= math.Abs(obs[j]) {
					far[j]++
				}
			}
		}
		for j, m := range metrics {
			c.Rows = append(c.Rows, CompareRow{
				System: s.name, Metric: m, A: pa.get(m), B: pb.get(m), Delta: obs[j],
				P: float64(far[j]+1) / float64(iterations+1),
			})
		}
	}
	return c, nil
}

// WriteTable prints the comparison as a table.
func (c *Comparison) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "A: %s\nB: %s\n%d documents, paired bootstrap with %d resamples\n\n",
		describe(c.A), describe(c.B), c.Documents, c.Iterations)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "system\tmetric\tA\tB\tB-A\tp\t")
	for _, r := range c.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%.4f\t%.4f\t%+.4f\t%.4f\t\n", r.System, r.Metric, r.A, r.B, r.Delta, r.P)
	}
	return tw.Flush()
}

func describe(m Meta) string {
	s := fmt.Sprintf("%s %s", m.Dataset, m.Split)
	if m.Language != "" {
		s += " (" + m.Language + ")"
	}
	if m.Text != "" {
		s += ", " + m.Text
	}
	if src := restrictionSource(m); src != "" {
		s += ", restricted to " + src
	}
	return s + ", coder " + m.Coder + ", " + m.Started.Format("2006-01-02 15:04:05Z")
}
