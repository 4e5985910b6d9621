package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// mergeInstalled completes the release r, read from some of a release's
// files, with the parts of the installed release of the same version that
// the import did not give, so that importing one file (an order file, a
// corrected table) does not drop the rest of the release. A part given
// replaces the installed one; in records the parts kept. Without an
// installed release, or with one this medcode cannot decode, r is left as
// it is; the latter is noted in in.
func mergeInstalled(dir string, r *codesys.Release, in *Info) error {
	rdir := filepath.Join(systemDir(dir, r.System), r.Version)
	old, err := readManifest(rdir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var lost []codesys.Part
	for _, p := range old.Parts {
		if !slices.Contains(in.Parts, p) {
			lost = append(lost, p)
		}
	}
	if len(lost) == 0 {
		return nil
	}
	if !old.Compatible() {
		in.Notes = append(in.Notes, fmt.Sprintf("the installed %s was compiled by an incompatible medcode: replaced as a whole, without %s", old.ID(), joinParts(lost)))
		return nil
	}
	prev, err := decodeInstalled(old)
	if err != nil {
		return err
	}
	for _, p := range lost {
		r.CopyPart(prev, p)
	}
	for _, f := range old.Files {
		if slices.Contains(lost, f.Part) {
			in.Files = append(in.Files, f)
		}
	}
	order := codesys.PartsOf(r.System)
	slices.SortStableFunc(in.Files, func(a, b SourceFile) int {
		return slices.Index(order, a.Part) - slices.Index(order, b.Part)
	})
	in.Parts, in.Missing = r.Parts(), r.Missing()
	in.Notes = append(in.Notes, fmt.Sprintf("kept %s of the installed release (imported %s from %s); use --replace to drop them",
		joinParts(lost), old.Imported.Format("2006-01-02"), old.Source))
	return nil
}

func joinParts(ps []codesys.Part) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}
