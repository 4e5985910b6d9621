package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/medcode-dev/medcode/internal/agent"
	"github.com/medcode-dev/medcode/internal/catalog"
	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/guidelines"
)

// newLLMReasoner builds the LLM agent from its flags and the environment,
// over the installed releases and guidelines, and says once on stderr
// where notes will be sent. cm is the ICD-10-CM release the command
// validates with; offline is the offline coder for --hybrid (may be nil).
func (a *app) newLLMReasoner(ctx context.Context, f *agent.Flags, cm *codesys.Release, offline coding.Reasoner) (*agent.Agent, error) {
	cfg, err := f.Config()
	if err != nil {
		return nil, err
	}
	rels := []*codesys.Release{cm}
	// Add the parts the chosen release lacks (tables, External Cause
	// Index) from other installed ICD-10-CM releases, newest first, and
	// the newest ICD-10-PCS release with tables.
	infos, err := catalog.List(a.dataDir)
	if err != nil {
		return nil, err
	}
	have := map[codesys.Part]bool{}
	for _, p := range cm.Parts() {
		have[p] = true
	}
	for i := len(infos) - 1; i >= 0; i-- {
		in := infos[i]
		if in.System != codesys.ICD10CM || in.Version == cm.Version || !in.Compatible() {
			continue
		}
		adds := false
		for _, p := range in.Parts {
			if !have[p] && (p == codesys.PartNeoplasm || p == codesys.PartDrug || p == codesys.PartExternal || p == codesys.PartIndex) {
				adds = true
			}
		}
		if !adds {
			continue
		}
		r, err := catalog.OpenInfo(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, p := range in.Parts {
			have[p] = true
		}
		rels = append(rels, r)
	}
	if pcs, err := a.openRelease(ctx, codesys.ICD10PCS, "", codesys.PartPCSTables); err == nil && pcs.PCS != nil {
		rels = append(rels, pcs)
	}
	g, err := guidelines.Load(a.dataDir, "")
	if err != nil && !errors.Is(err, guidelines.ErrNotInstalled) {
		return nil, err
	}
	set, err := a.ruleSet()
	if err != nil {
		return nil, err
	}
	res := agent.Resources{Releases: rels, Guidelines: g, Rules: set}
	if au, ok := offline.(agent.Auditor); ok {
		res.Auditor = au
	}
	if offline != nil {
		res.Locator = offline
	}
	if cfg.Hybrid {
		if offline == nil {
			return nil, errors.New("--hybrid needs the offline coder, which this command does not have")
		}
		res.Offline = offline
	}
	ag, err := agent.New(cfg, res)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(a.stderr, "note: the LLM reasoner sends each note to %s\n", ag.Config().Destination())
	return ag, nil
}

// llmOffline builds the offline coder the LLM agent uses: its codes as
// candidates with --hybrid, and its list-wide rules for the agent's
// auditor. Without --hybrid a coder that cannot be built (no Alphabetic
// Index installed) is not an error: the auditor then runs without those
// rules, as stderr says.
func (a *app) llmOffline(ctx context.Context, f *agent.Flags, version string) (coding.Reasoner, error) {
	c, err := a.offlineCoder(ctx, version)
	if err != nil {
		if f.Hybrid {
			return nil, err
		}
		fmt.Fprintf(a.stderr, "note: the LLM agent's auditor runs without the offline coder's rules: %v\n", err)
		return nil, nil
	}
	return c, nil
}
