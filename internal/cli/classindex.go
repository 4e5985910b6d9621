package cli

import (
	"context"
	"fmt"
	"slices"

	"github.com/medcode-dev/medcode/internal/catalog"
	"github.com/medcode-dev/medcode/internal/codesys"
)

// familyIndex opens, for a classification of diagnoses of ICD-10-CM's
// family (WHO ICD-10, ICD-10 UK), the newest installed ICD-10-CM release
// with an Alphabetic Index, for the class coder to read at the
// classification's own classes; nil when the classification is of
// another kind or no such release is installed, since the Index only
// adds to what the classes' titles name.
func (a *app) familyIndex(ctx context.Context, sys codesys.System) (*codesys.Release, error) {
	cls := sys.Classification()
	if cls.Procedures || sys == codesys.ICD10CM || cls.Family() != codesys.ICD10CM.Classification().Family() {
		return nil, nil
	}
	infos, err := catalog.List(a.dataDir)
	if err != nil {
		return nil, err
	}
	for _, in := range slices.Backward(infos) { // List is oldest first
		if in.System != codesys.ICD10CM || !in.Serves(codesys.PartIndex) {
			continue
		}
		rel, err := a.open(ctx, in, []codesys.Part{codesys.PartIndex, codesys.PartNeoplasm})
		if err != nil {
			return nil, fmt.Errorf("%s: the Alphabetic Index of %s %s: %w", sys.Title(), in.System.Title(), in.Version, err)
		}
		fmt.Fprintf(a.stderr, "note: %s is coded with the Alphabetic Index of %s %s, each code read at its nearest %s class\n",
			sys.Title(), in.System.Title(), in.Version, sys.Title())
		return rel, nil
	}
	return nil, nil
}
