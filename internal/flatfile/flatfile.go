// Package flatfile writes and reads the compact binary files medcode keeps
// in its cache: a table of every distinct string, then a body of numbers
// (unsigned varints, or fixed-width little-endian uint32 columns where
// there are millions of them), strings written as their number in the
// table.
//
// The form exists because gob gives every string and slice of a large
// structure an allocation of its own, and a command that codes one note
// reads these files on every run: here the strings are slices of one
// block, and a reader can make slices of one array.
//
// A file is the caller's header (a magic string or a version), the string
// table (its count, each string's length, then their bytes one after
// another) and the body. What the header holds, and any checksum after
// the body, is the caller's.
package flatfile

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Writer builds the string table and the body of a file. Its zero value
// is ready to use.
type Writer struct {
	strs []string
	ids  map[string]uint64
	body []byte
}

// String returns the number of s in the string table, adding it the first
// time.
func (w *Writer) String(s string) uint64 {
	if w.ids == nil {
		w.ids = map[string]uint64{}
	}
	id, ok := w.ids[s]
	if !ok {
		id = uint64(len(w.strs))
		w.ids[s] = id
		w.strs = append(w.strs, s)
	}
	return id
}

// Uint appends v to the body as an unsigned varint.
func (w *Writer) Uint(v uint64) { w.body = binary.AppendUvarint(w.body, v) }

// Str appends the number of s in the string table to the body.
func (w *Writer) Str(s string) { w.Uint(w.String(s)) }

// Bool appends b to the body as 0 or 1.
func (w *Writer) Bool(b bool) {
	if b {
		w.Uint(1)
	} else {
		w.Uint(0)
	}
}

// Uint32 appends v to the body as a fixed-width little-endian number.
func (w *Writer) Uint32(v uint32) { w.body = binary.LittleEndian.AppendUint32(w.body, v) }

// Bytes returns header, the string table and the body.
func (w *Writer) Bytes(header []byte) []byte {
	size := len(header) + len(w.body) + binary.MaxVarintLen64*(len(w.strs)+1)
	for _, s := range w.strs {
		size += len(s)
	}
	b := append(make([]byte, 0, size), header...)
	b = binary.AppendUvarint(b, uint64(len(w.strs)))
	for _, s := range w.strs {
		b = binary.AppendUvarint(b, uint64(len(s)))
	}
	for _, s := range w.strs {
		b = append(b, s...)
	}
	return append(b, w.body...)
}

// Reader reads the numbers of a body, remembering the first error so that
// a decoder checks once per section; after an error every read returns
// zero values.
type Reader struct {
	b    []byte
	strs []string
	err  error
}

// NewReader reads the string table at the start of data (the caller has
// taken off its header) and returns a Reader of the body after it.
func NewReader(data []byte) (*Reader, error) {
	r := &Reader{b: data}
	lens := make([]int, r.Count(1))
	size := 0
	for i := range lens {
		lens[i] = int(r.Uint())
		size += lens[i]
		if r.err == nil && (lens[i] > len(r.b) || size > len(r.b)) {
			r.Fail("strings of %d bytes in %d", size, len(r.b))
		}
	}
	if r.err != nil {
		return nil, fmt.Errorf("strings: %w", r.err)
	}
	// One string holds them all; each is a slice of it.
	block := string(r.b[:size])
	r.b = r.b[size:]
	r.strs = make([]string, len(lens))
	for i, n := range lens {
		r.strs[i], block = block[:n], block[n:]
	}
	return r, nil
}

// Err returns the first error met.
func (r *Reader) Err() error { return r.err }

// Left returns the number of bytes not yet read.
func (r *Reader) Left() int { return len(r.b) }

// Strings returns the number of strings in the table.
func (r *Reader) Strings() int { return len(r.strs) }

// StringAt returns string i of the table, which the caller has checked is
// below Strings.
func (r *Reader) StringAt(i uint32) string { return r.strs[i] }

// Fail records an error found by the caller, unless one was recorded
// before.
func (r *Reader) Fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
}

// Uint reads an unsigned varint.
func (r *Reader) Uint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errors.New("truncated")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Bool reads a number that must be 0 or 1.
func (r *Reader) Bool() bool { return r.Below(2, "flag") == 1 }

// Below reads a number that must be below n.
func (r *Reader) Below(n int, what string) int {
	v := r.Uint()
	if r.err == nil && v >= uint64(n) {
		r.Fail("%s %d of %d", what, v, n)
		return 0
	}
	return int(v)
}

// Count reads the length of a list whose items take at least per bytes
// each, so that a damaged length cannot ask for more memory than the body
// could fill.
func (r *Reader) Count(per int) int {
	v := r.Uint()
	if r.err == nil && v > uint64(len(r.b)/max(per, 1)) {
		r.Fail("a list of %d items in %d bytes", v, len(r.b))
		return 0
	}
	return int(v)
}

// Str reads a string's number and returns the string.
func (r *Reader) Str(what string) string {
	i := r.Below(len(r.strs), what)
	if r.err != nil {
		return ""
	}
	return r.strs[i]
}

// Uint32s reads n fixed-width little-endian numbers.
func (r *Reader) Uint32s(n int) []uint32 {
	if r.err != nil {
		return nil
	}
	if n > len(r.b)/4 {
		r.Fail("%d numbers in %d bytes", n, len(r.b))
		return nil
	}
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(r.b[4*i:])
	}
	r.b = r.b[4*n:]
	return out
}
