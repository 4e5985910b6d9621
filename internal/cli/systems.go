package cli

import (
	"context"
	"fmt"
	"slices"

	"github.com/medcode-dev/medcode/internal/agent"
	"github.com/medcode-dev/medcode/internal/coder"
	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
)

// systemsReasoner builds the reasoner that codes into the classifications
// named: ICD-10-CM and ICD-10-PCS with the reasoner rf names over the
// ICD-10-CM release version, every other classification over its newest
// installed release with the offline coder (coder.ClassCoder) or the LLM
// agent (classReasoners).
func (a *app) systemsReasoner(ctx context.Context, rf *reasonerFlags, version string, names []string) (coding.Reasoner, error) {
	var cm, others []codesys.System
	for _, name := range names {
		sys, err := codesys.SystemName(name)
		if err != nil {
			return nil, fmt.Errorf("--system: %w", err)
		}
		switch {
		case sys == codesys.ICD10CM || sys == codesys.ICD10PCS:
			if !slices.Contains(cm, sys) {
				cm = append(cm, sys)
			}
		case !slices.Contains(others, sys):
			others = append(others, sys)
		}
	}
	var members []coder.Member
	if len(cm) > 0 {
		r, _, err := a.reasoner(ctx, rf, version)
		if err != nil {
			return nil, err
		}
		members = append(members, coder.Member{Reasoner: r, Systems: cm})
	}
	if len(others) == 0 {
		return coder.Join(members...), nil
	}
	build, err := a.classReasoners(rf)
	if err != nil {
		return nil, err
	}
	if build == nil {
		return nil, fmt.Errorf("--system %s: the %s reasoner codes only into ICD-10-CM and ICD-10-PCS; the offline coder and the LLM agent code into classifications read as classes", others[0], rf.name)
	}
	for _, sys := range others {
		rel, err := a.classRelease(ctx, sys)
		if err != nil {
			return nil, err
		}
		r, err := build(ctx, rel)
		if err != nil {
			return nil, err
		}
		members = append(members, coder.Member{Reasoner: r, Systems: []codesys.System{sys}})
	}
	return coder.Join(members...), nil
}

// classRelease opens the newest installed release of sys, a
// classification read as a list of classes.
func (a *app) classRelease(ctx context.Context, sys codesys.System) (*codesys.Release, error) {
	in, err := a.pickRelease(sys, "", codesys.PartClasses)
	if err != nil {
		return nil, err
	}
	rel, err := a.open(ctx, in, nil)
	if err != nil {
		return nil, err
	}
	if rel.Classes == nil {
		return nil, fmt.Errorf("%s %s has no list of classes to code with: install one with %q", sys.Title(), rel.Version, "medcode import --system "+string(sys))
	}
	return rel, nil
}

// classReasoners returns the function that builds, from the release of a
// classification read as classes, the reasoner rf names for it: the
// offline class coder with the rule packs in effect, or the LLM agent with
// that release as its classification (and the class coder as its hybrid
// starting point). It returns nil for a reasoner that codes only into
// ICD-10-CM and ICD-10-PCS (the baseline). medcode code and medcode serve
// build their class reasoners alike.
func (a *app) classReasoners(rf *reasonerFlags) (func(context.Context, *codesys.Release) (coding.Reasoner, error), error) {
	switch rf.name {
	case "offline", "", "llm":
	default:
		return nil, nil
	}
	set, err := a.ruleSet()
	if err != nil {
		return nil, err
	}
	if rf.name != "llm" {
		return func(_ context.Context, rel *codesys.Release) (coding.Reasoner, error) {
			return coder.NewClassCoder(rel, set)
		}, nil
	}
	cfg, err := rf.llm.Config()
	if err != nil {
		return nil, err
	}
	return func(_ context.Context, rel *codesys.Release) (coding.Reasoner, error) {
		res := agent.Resources{Releases: []*codesys.Release{rel}}
		if cfg.Hybrid {
			c, err := coder.NewClassCoder(rel, set)
			if err != nil {
				return nil, err
			}
			res.Offline = c
		}
		return agent.New(cfg, res)
	}, nil
}

// classCoder builds the offline coder of the newest installed release of
// sys, a classification read as a list of classes.
func (a *app) classCoder(ctx context.Context, sys codesys.System) (*coder.ClassCoder, error) {
	rel, err := a.classRelease(ctx, sys)
	if err != nil {
		return nil, err
	}
	set, err := a.ruleSet()
	if err != nil {
		return nil, err
	}
	ix, err := a.familyIndex(ctx, sys)
	if err != nil {
		return nil, err
	}
	c, err := coder.NewClassCoderWith(rel, coder.ClassOptions{Rules: set, Index: ix})
	if err != nil {
		return nil, err
	}
	for _, w := range c.Warnings() {
		fmt.Fprintln(a.stderr, "warning:", w)
	}
	return c, nil
}
