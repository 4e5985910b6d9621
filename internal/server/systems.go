package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/coder"
	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
)

// defaultReasonerSystems are the classifications Config.Reasoner codes
// into when Config.ReasonerSystems names none.
var defaultReasonerSystems = []codesys.System{codesys.ICD10CM, codesys.ICD10PCS}

// reasonerSystems returns the classifications the configured reasoner
// codes into.
func (s *Server) reasonerSystems() []codesys.System {
	if len(s.cfg.ReasonerSystems) > 0 {
		return s.cfg.ReasonerSystems
	}
	return defaultReasonerSystems
}

// codes reports whether the server codes into sys: with its reasoner, or
// with the reasoner Config.ClassReasoner builds for a classification read
// as classes.
func (s *Server) codes(sys codesys.System) bool {
	return slices.Contains(s.reasonerSystems(), sys) || s.cfg.ClassReasoner != nil && sys.Classification().ReadsClasses()
}

// systemsInput reads the classifications a coding request names: each
// must be a classification name (a registered one in any spelling, or one
// of the user's own), have a release installed, and be one the server
// codes into. Names are returned in their registered form, once each.
func (s *Server) systemsInput(r *http.Request, names []string) ([]codesys.System, *apiError) {
	var out []codesys.System
	for i, name := range names {
		field := fmt.Sprintf("systems[%d]", i)
		sys, err := codesys.SystemName(name)
		if err != nil {
			return nil, invalid(field, "unknown_system", unquoted(err.Error(), name))
		}
		if slices.Contains(out, sys) {
			continue
		}
		if _, err := s.cfg.Codes.Release(r.Context(), sys); err != nil {
			if !errors.Is(err, errNoRelease) {
				return nil, s.internal(r, "open release", err)
			}
			code := "no_release"
			if !sys.Classification().Registered {
				code = "unknown_system"
			}
			// The name passed SystemName: a short identifier, which the
			// message repeats in the command that would install it.
			return nil, invalid(field, code, err.Error())
		}
		if !s.codes(sys) {
			return nil, invalid(field, "unsupported_system", fmt.Sprintf("this server's reasoner does not code into %s; it codes into %s", sys.Title(), s.codedNames()))
		}
		out = append(out, sys)
	}
	return out, nil
}

// codedNames names the classifications the server codes into, for
// messages.
func (s *Server) codedNames() string {
	var names []string
	for _, sys := range s.reasonerSystems() {
		names = append(names, sys.Title())
	}
	if s.cfg.ClassReasoner != nil {
		names = append(names, "any installed classification read as classes (ClaML or a flat list)")
	}
	return strings.Join(names, ", ")
}

// reasoner returns the reasoner of a request naming systems: the
// configured one, joined with the reasoner of each other classification
// named, built on first use and kept.
func (s *Server) reasoner(ctx context.Context, systems []codesys.System) (coding.Reasoner, error) {
	base := s.reasonerSystems()
	members := []coder.Member{{Reasoner: s.cfg.Reasoner, Systems: base}}
	for _, sys := range systems {
		if slices.Contains(base, sys) {
			continue
		}
		r, err := s.classReasoners.get(ctx, sys, func(ctx context.Context) (coding.Reasoner, error) {
			rel, err := s.cfg.Codes.Release(ctx, sys)
			if err != nil {
				return nil, err
			}
			r, err := s.cfg.ClassReasoner(ctx, rel)
			if err != nil {
				return nil, fmt.Errorf("build the reasoner of %s: %w", rel.ID(), err)
			}
			s.log.Info("reasoner built", "release", rel.ID())
			return r, nil
		})
		if err != nil {
			return nil, err
		}
		members = append(members, coder.Member{Reasoner: r, Systems: []codesys.System{sys}})
	}
	if len(members) == 1 {
		return s.cfg.Reasoner, nil
	}
	return coder.Join(members...), nil
}

// kindOf is the kind of the codes of sys: procedures for a classification
// of interventions, diagnoses otherwise.
func kindOf(sys codesys.System) coding.Kind {
	if sys.Classification().Procedures {
		return coding.Procedure
	}
	return coding.Diagnosis
}

// systemInfo is one classification of GET /v1/systems.
type systemInfo struct {
	System     codesys.System `json:"system"`
	Title      string         `json:"title"`
	Release    string         `json:"release"`
	Kind       coding.Kind    `json:"kind"`
	FHIR       string         `json:"fhir"`
	Coding     bool           `json:"coding"`
	ReadsClass bool           `json:"classes"`
}

func (s *Server) listSystems(w http.ResponseWriter, r *http.Request) *apiError {
	inst, err := s.cfg.Codes.Installed(r.Context())
	if err != nil {
		return s.internal(r, "list classifications", err)
	}
	out := make([]systemInfo, 0, len(inst))
	for _, in := range inst {
		cls := in.System.Classification()
		out = append(out, systemInfo{System: in.System, Title: cls.Title, Release: in.Release, Kind: kindOf(in.System),
			FHIR: coding.FHIRSystem(in.System), Coding: s.codes(in.System), ReadsClass: cls.ReadsClasses()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"systems": out})
	return nil
}
