package eval

import (
	"fmt"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// Level is the level codes are compared at.
type Level string

// The levels of comparison.
const (
	// LevelCode compares codes as coded (in the dataset's form).
	LevelCode Level = ""
	// LevelCategory compares the three-character categories of the gold
	// codes and the predictions: the level at which two classifications
	// of one family (WHO ICD-10 and ICD-10-CM) share their codes.
	LevelCategory Level = "category"
)

// ParseLevel returns the level named s: "code" (or "") or "category".
func ParseLevel(s string) (Level, error) {
	switch s {
	case "", "code":
		return LevelCode, nil
	case "category":
		return LevelCategory, nil
	}
	return "", fmt.Errorf("unknown level %q (want code or category)", s)
}

// scoreForm returns the form codes are compared in: the dataset's
// (Options.Form), cut to the category at LevelCategory; nil when codes
// are compared as coded.
func (opt *Options) scoreForm() FormFunc {
	if opt.Level != LevelCategory {
		return opt.Form
	}
	form := opt.Form
	return func(sys codesys.System, code string) string {
		if form != nil {
			code = form(sys, code)
		}
		return Category(sys, code)
	}
}
