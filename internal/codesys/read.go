package codesys

import (
	"errors"
	"io"
)

// errTODO marks readers that are being written on other branches; it is
// removed when they land.
var errTODO = errors.New("not implemented yet")

// ReadPCSTables reads an ICD-10-PCS Tables XML file (root ICD10PCS.tabular).
func ReadPCSTables(r io.Reader, name string) (*PCSTables, error) { return nil, errTODO }

// ReadPCSDefinitions reads an ICD-10-PCS Definitions XML file (root
// ICD10PCS.definitions).
func ReadPCSDefinitions(r io.Reader, name string) (*PCSDefinitions, error) { return nil, errTODO }
