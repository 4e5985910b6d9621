package catalog

import (
	"bytes"
	"encoding/xml"
	"io"
	"regexp"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// identity is what the first bytes of a file say it is.
type identity struct {
	sys  codesys.System
	part codesys.Part // "" when the file is not a part medcode reads
	// version is the file's <version>; order files carry none.
	version string
	// what describes the file for notes when it is ignored.
	what string
}

// peekSize is how much of a file identify looks at: enough for the root
// element, the version, the title and a table's column headings.
const peekSize = 16 << 10

// identify tells a release file's part from its content: the XML root
// element and, for ICD10CM.index, the title or the table's first column
// heading; the order file from the shape of its lines. File names are not
// used: the publisher and mirrors rename files.
func identify(head []byte) identity {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '<' {
		return identifyXML(head)
	}
	return identifyText(head)
}

func identifyXML(head []byte) identity {
	d := xml.NewDecoder(bytes.NewReader(head))
	d.Strict = false
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	var (
		root, version, title, firstHead string
		depth                           int
		path                            []string
	)
loop:
	for {
		tok, err := d.Token()
		if err != nil {
			break // the peek ends mid-document
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
			depth++
			if depth == 1 {
				root = t.Name.Local
			}
			// The header comes before the body; stop at the first body
			// element.
			if depth == 2 {
				switch t.Name.Local {
				case "letter", "chapter", "pcsTable", "section", "introduction":
					if version != "" || t.Name.Local != "introduction" {
						break loop
					}
				}
			}
		case xml.EndElement:
			depth--
			path = path[:len(path)-1]
		case xml.CharData:
			s := strings.TrimSpace(string(t))
			switch {
			case depth == 2 && path[1] == "version" && version == "":
				version = s
			case depth == 2 && path[1] == "title" && title == "":
				title = s
			case depth == 3 && path[1] == "indexHeading" && path[2] == "head" && firstHead == "":
				firstHead = s
			}
		}
	}
	id := identity{version: version, what: "XML " + root}
	switch root {
	case "":
		id.what = "not XML"
	case "ICD10CM.tabular":
		id.sys, id.part = codesys.ICD10CM, codesys.PartTabular
	case "ICD10CM.index":
		id.sys = codesys.ICD10CM
		h := strings.ToLower(firstHead)
		switch {
		case strings.HasPrefix(h, "neoplasm"):
			id.part = codesys.PartNeoplasm
		case strings.HasPrefix(h, "substance") || strings.HasPrefix(h, "drug"):
			id.part = codesys.PartDrug
		case firstHead != "":
			id.what = "ICD10CM.index table with unknown first column " + firstHead
		case strings.Contains(strings.ToUpper(title), "EXTERNAL CAUSE"):
			id.part = codesys.PartExternal
		default:
			id.part = codesys.PartIndex
		}
	case "ICD10PCS.tabular":
		id.sys, id.part = codesys.ICD10PCS, codesys.PartPCSTables
	case "ICD10PCS.index":
		id.sys, id.part = codesys.ICD10PCS, codesys.PartPCSIndex
	case "ICD10PCS.definitions":
		id.sys, id.part = codesys.ICD10PCS, codesys.PartPCSDefinitions
	}
	return id
}

// orderLine matches a line of an order file: a five-digit order number, the
// code without its dot, a header (0) or valid (1) flag and the titles.
var orderLine = regexp.MustCompile(`^\d{5} ([0-9A-Z]{3,7}) +([01]) +\S`)

// identifyText recognizes the publisher's order files from their first
// lines. The ICD-10-CM and ICD-10-PCS order files share the layout; every
// CM code starts with a letter and a digit, while the PCS order file opens
// with section 0 (Medical and Surgical), whose codes start with a digit.
func identifyText(head []byte) identity {
	lines := strings.Split(string(head), "\n")
	if len(lines) > 1 {
		// The last line may be cut short by the peek, or be empty.
		lines = lines[:len(lines)-1]
	}
	var n, cm, pcs int
	for _, line := range lines {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		if n++; n > 20 {
			break
		}
		m := orderLine.FindStringSubmatch(line)
		if m == nil {
			return identity{what: "text"}
		}
		if code := m[1]; code[0] >= 'A' && code[0] <= 'Z' && code[1] >= '0' && code[1] <= '9' {
			cm++
		} else {
			pcs++
		}
	}
	switch {
	case n == 0:
		return identity{what: "an empty file"}
	case pcs == 0:
		return identity{sys: codesys.ICD10CM, part: codesys.PartOrder}
	case cm == 0:
		return identity{sys: codesys.ICD10PCS, what: "ICD-10-PCS order file (medcode builds PCS codes from the Tables)"}
	}
	return identity{what: "text with both ICD-10-CM and ICD-10-PCS codes"}
}
