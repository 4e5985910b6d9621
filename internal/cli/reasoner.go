package cli

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/medcode-dev/medcode/internal/agent"
	"github.com/medcode-dev/medcode/internal/baseline"
	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
)

// reasonerFlags are the flags of every command that codes notes: which
// reasoner, and the LLM agent's settings.
type reasonerFlags struct {
	name string
	llm  *agent.Flags
}

func addReasonerFlags(fs *pflag.FlagSet) *reasonerFlags {
	rf := &reasonerFlags{}
	fs.StringVar(&rf.name, "reasoner", "offline", "reasoner that codes notes: offline (no model, no network), llm (an LLM agent, see docs/llm.md) or baseline (exact title match)")
	rf.llm = agent.RegisterFlags(fs)
	return rf
}

// reasoner builds the reasoner the flags name over the ICD-10-CM release
// version (when empty, the newest with a Tabular List or an order file, from
// which opening composes one), and returns it with a
// name for logs and results.
func (a *app) reasoner(ctx context.Context, rf *reasonerFlags, version string) (coding.Reasoner, string, error) {
	switch rf.name {
	case "offline", "":
		c, err := a.offlineCoder(ctx, version)
		return c, "offline", err
	case "llm":
		cm, err := a.openRelease(ctx, codesys.ICD10CM, version, codesys.PartTabular)
		if err != nil {
			return nil, "", err
		}
		offline, err := a.llmOffline(ctx, rf.llm, cm.Version)
		if err != nil {
			return nil, "", err
		}
		ag, err := a.newLLMReasoner(ctx, rf.llm, cm, offline)
		if err != nil {
			return nil, "", err
		}
		return ag, "llm:" + ag.Config().Provider + ":" + ag.Config().Model, nil
	case "baseline":
		cm, err := a.openRelease(ctx, codesys.ICD10CM, version, codesys.PartTabular)
		if err != nil {
			return nil, "", err
		}
		if cm.Tabular == nil {
			return nil, "", fmt.Errorf("the baseline needs a Tabular List; ICD-10-CM %s has none", cm.Version)
		}
		return &baselineReasoner{coder: baseline.New(baseline.TabularTerms(cm.Tabular)), rel: cm}, "baseline", nil
	}
	return nil, "", fmt.Errorf("unknown reasoner %q (available: offline, llm, baseline)", rf.name)
}
