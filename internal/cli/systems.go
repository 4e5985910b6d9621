package cli

import (
	"context"
	"fmt"
	"slices"

	"github.com/medcode-dev/medcode/internal/coder"
	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
)

// systemsReasoner builds the reasoner that codes into the classifications
// named: ICD-10-CM and ICD-10-PCS with the reasoner rf names over the
// ICD-10-CM release version, every other classification with the offline
// coder of its newest installed release (coder.ClassCoder).
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
	if len(others) > 0 && rf.name != "offline" && rf.name != "" {
		return nil, fmt.Errorf("--system %s: only the offline reasoner codes into classifications other than ICD-10-CM and ICD-10-PCS", others[0])
	}
	for _, sys := range others {
		c, err := a.classCoder(ctx, sys)
		if err != nil {
			return nil, err
		}
		members = append(members, coder.Member{Reasoner: c, Systems: []codesys.System{sys}})
	}
	return coder.Join(members...), nil
}

// classCoder builds the offline coder of the newest installed release of
// sys, a classification read as a list of classes.
func (a *app) classCoder(ctx context.Context, sys codesys.System) (*coder.ClassCoder, error) {
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
