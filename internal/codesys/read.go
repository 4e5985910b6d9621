package codesys

import (
	"errors"
	"io"
)

// errTODO marks readers that are being written on other branches; it is
// removed when they land.
var errTODO = errors.New("not implemented yet")

// ReadTabular reads an ICD-10-CM Tabular List XML file (root
// ICD10CM.tabular). name is used in error messages.
func ReadTabular(r io.Reader, name string) (*Tabular, error) { return nil, errTODO }

// ReadOrder reads an ICD-10-CM order file (fixed-width text).
func ReadOrder(r io.Reader, name string) (*Order, error) { return nil, errTODO }

// ReadIndex reads an ICD10CM.index file (Alphabetic Index, External Cause
// Index, Table of Neoplasms, Table of Drugs and Chemicals) or an
// ICD10PCS.index file.
func ReadIndex(r io.Reader, name string) (*Index, error) { return nil, errTODO }
