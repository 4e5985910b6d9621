package coder

import (
	"context"
	"slices"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
)

// Member is one reasoner of a Joined coder and the classifications it
// codes into.
type Member struct {
	Reasoner coding.Reasoner
	Systems  []codesys.System
}

// Joined codes each note with several reasoners, each asked for the
// classifications it codes into, and reports their codes together, in
// the order of the members: the ICD-10-CM coder for ICD-10-CM and
// ICD-10-PCS beside a ClassCoder for OPCS-4, say. It is safe for
// concurrent use when its members are.
type Joined struct {
	members []Member
}

// Join returns the reasoner that codes with every member.
func Join(members ...Member) *Joined { return &Joined{members: slices.Clone(members)} }

// Code codes one note with each member whose classifications the request
// asks for (all when it names none). It implements coding.Reasoner.
func (j *Joined) Code(ctx context.Context, req coding.Request) (*coding.Result, error) {
	start := time.Now()
	var out *coding.Result
	for _, m := range j.members {
		sys := m.Systems
		if len(req.Systems) > 0 {
			sys = slices.DeleteFunc(slices.Clone(sys), func(s codesys.System) bool { return !slices.Contains(req.Systems, s) })
			if len(sys) == 0 {
				continue
			}
		}
		r := req
		r.Systems = sys
		res, err := m.Reasoner.Code(ctx, r)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = res
			continue
		}
		for _, id := range res.Releases {
			if !slices.Contains(out.Releases, id) {
				out.Releases = append(out.Releases, id)
			}
		}
		out.Codes = append(out.Codes, res.Codes...)
		out.Dropped = append(out.Dropped, res.Dropped...)
		out.Queries = append(out.Queries, res.Queries...)
		out.Usage.Calls += res.Usage.Calls
		out.Usage.InputTokens += res.Usage.InputTokens
		out.Usage.CachedTokens += res.Usage.CachedTokens
		out.Usage.OutputTokens += res.Usage.OutputTokens
		out.Usage.Cost += res.Usage.Cost
	}
	if out == nil {
		setting := req.Setting
		if setting == "" {
			setting = coding.Inpatient
		}
		out = &coding.Result{ID: req.ID, Reasoner: Name, Setting: setting, Codes: []coding.Code{}}
	}
	out.Usage.Duration = time.Since(start)
	return out, nil
}
