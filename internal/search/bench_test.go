package search

import (
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the process's user and system CPU time. Benchmarks
// report it beside wall time because the shared benchmark machine is often
// loaded by other jobs, which inflates wall time but not CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchPhrases are clinical phrases as notes and coders write them,
// written for this benchmark (not taken from the classification's files).
var benchPhrases = []string{
	"type 2 diabetes with diabetic cataract", "type 1 diabetes with ketoacidosis", "diabetic neuropathy",
	"diabetes with hyperglycemia", "essential hypertension", "hypertensive heart disease with heart failure",
	"congestive heart failure", "acute systolic heart failure", "atrial fibrillation", "atrial flutter",
	"acute myocardial infarction", "old myocardial infarction", "unstable angina", "coronary artery disease",
	"chronic kidney disease stage 3", "end stage renal disease", "acute kidney injury", "urinary tract infection",
	"acute cystitis with hematuria", "benign prostatic hyperplasia", "kidney stone", "chronic obstructive pulmonary disease",
	"copd with acute exacerbation", "asthma mild intermittent", "community acquired pneumonia", "aspiration pneumonia",
	"acute bronchitis", "acute upper respiratory infection", "influenza with pneumonia", "pulmonary embolism",
	"deep vein thrombosis of left leg", "iron deficiency anemia", "vitamin d deficiency", "hypothyroidism",
	"hyperlipidemia", "obesity", "morbid obesity due to excess calories", "dehydration", "hyponatremia", "hypokalemia",
	"sepsis due to e coli", "septic shock", "cellulitis of right lower leg", "abscess of skin", "pressure ulcer of sacrum",
	"gastroesophageal reflux disease", "acute appendicitis", "cholecystitis with gallstones", "acute pancreatitis",
	"small bowel obstruction", "diverticulitis of colon", "crohn disease", "ulcerative colitis", "gastrointestinal bleeding",
	"cirrhosis of liver", "alcohol dependence", "opioid dependence", "major depressive disorder recurrent",
	"generalized anxiety disorder", "bipolar disorder", "schizophrenia", "dementia with behavioral disturbance",
	"alzheimer disease", "parkinson disease", "epilepsy", "migraine without aura", "cerebral infarction",
	"transient ischemic attack", "subarachnoid hemorrhage", "multiple sclerosis", "low back pain", "sciatica",
	"osteoarthritis of knee", "rheumatoid arthritis", "gout", "osteoporosis with pathological fracture",
	"displaced fracture distal radius", "fracture of neck of femur", "closed fracture of right ankle",
	"sprain of ankle", "concussion with loss of consciousness", "laceration of scalp", "burn of hand",
	"fall from ladder", "dog bite", "motor vehicle accident driver", "acetaminophen poisoning",
	"adverse effect of aspirin", "insulin underdosing", "neoplasm of lung malignant", "breast cancer",
	"secondary malignant neoplasm of bone", "prostate cancer", "colon cancer", "melanoma of skin",
	"pregnancy with gestational diabetes", "preeclampsia", "premature rupture of membranes", "neonatal jaundice",
	"otitis media", "conjunctivitis", "cataract", "glaucoma", "hearing loss", "hiv disease",
	"hepatitis c chronic", "covid pneumonia", "tuberculosis of lung", "obstructive sleep apnea",
}

var benchContext = []string{"acute", "chronic", "left", "right", "severe", "with complication", "history of", "bilateral", "recurrent", "unspecified"}

var benchAbbrev = map[string]string{
	"congestive heart failure": "chf", "chronic obstructive pulmonary disease": "copd", "urinary tract infection": "uti",
	"atrial fibrillation": "afib", "essential hypertension": "htn", "chronic kidney disease": "ckd",
	"acute myocardial infarction": "ami", "coronary artery disease": "cad", "deep vein thrombosis": "dvt",
	"gastroesophageal reflux disease": "gerd", "transient ischemic attack": "tia", "obstructive sleep apnea": "osa",
}

// benchQueries returns n queries made from benchPhrases with the
// variations users type: reordered words, plurals, a typo, an added
// qualifier, an abbreviation, a dropped word.
func benchQueries(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]string, 0, n)
	for i := range n {
		p := benchPhrases[i%len(benchPhrases)]
		w := strings.Fields(p)
		switch (i / len(benchPhrases)) % 8 {
		case 1:
			r.Shuffle(len(w), func(a, b int) { w[a], w[b] = w[b], w[a] })
		case 2:
			k := r.IntN(len(w))
			if len(w[k]) > 3 && !strings.HasSuffix(w[k], "s") {
				w[k] += "s"
			}
		case 3:
			k := 0
			for j := range w {
				if len(w[j]) > len(w[k]) {
					k = j
				}
			}
			if b := []byte(w[k]); len(b) >= 5 {
				j := 1 + r.IntN(len(b)-2)
				b[j], b[j+1] = b[j+1], b[j]
				w[k] = string(b)
			}
		case 4:
			w = append([]string{benchContext[r.IntN(len(benchContext))]}, w...)
		case 5:
			q := p
			for long, abbr := range benchAbbrev {
				q = strings.Replace(q, long, abbr, 1)
			}
			w = strings.Fields(q)
		case 6:
			if len(w) > 2 {
				k := r.IntN(len(w))
				w = append(w[:k], w[k+1:]...)
			}
		case 7:
			w = append(w, "with", benchPhrases[r.IntN(len(benchPhrases))])
		}
		out = append(out, strings.Join(w, " "))
	}
	return out
}

// BenchmarkSearch runs 1,000 realistic queries over the FY2021 Tabular
// List with the FY2025 External Cause Index and tables; one op is one
// query.
func BenchmarkSearch(b *testing.B) {
	cm, _ := realReleases(b)
	s := New(cm)
	qs := benchQueries(1000)
	b.ResetTimer()
	i := 0
	cpu := cpuTime()
	for b.Loop() {
		s.Search(qs[i%len(qs)], Options{Limit: 20})
		i++
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(i), "cpu-ns/op")
}

// BenchmarkBuild builds the Searcher for that release.
func BenchmarkBuild(b *testing.B) {
	cm, _ := realReleases(b)
	b.ResetTimer()
	var s *Searcher
	n := 0
	cpu := cpuTime()
	for b.Loop() {
		s = New(cm)
		n++
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(n), "cpu-ns/op")
	b.ReportMetric(float64(s.Len()), "entries")
	b.ReportMetric(float64(s.Vocabulary()), "words")
}

// BenchmarkBuildPCS builds the Searcher for the FY2025 ICD-10-PCS Index.
func BenchmarkBuildPCS(b *testing.B) {
	_, pcs := realReleases(b)
	b.ResetTimer()
	for b.Loop() {
		New(pcs)
	}
}
