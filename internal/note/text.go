package note

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"unicode/utf8"
)

// bom is the UTF-8 byte order mark some editors put at the start of a file.
const bom = "\uFEFF"

// InvalidTextError reports input that is not a clinical note the package can
// read: invalid UTF-8 or a NUL byte, at a byte offset of the input.
type InvalidTextError struct {
	// Offset is the byte offset of the offending byte in the input as given.
	Offset int
	// Reason says what is wrong at Offset.
	Reason string
}

func (e *InvalidTextError) Error() string {
	return fmt.Sprintf("note text: %s at byte offset %d", e.Reason, e.Offset)
}

// ErrInvalidText matches every *InvalidTextError with errors.Is.
var ErrInvalidText = errors.New("invalid note text")

// Is makes errors.Is(err, ErrInvalidText) true for every InvalidTextError.
func (e *InvalidTextError) Is(target error) bool { return target == ErrInvalidText }

// Span is a stretch of a note: the bytes [Start, End) of the input as given
// (a leading byte order mark included), with Text == input[Start:End].
type Span struct {
	Start, End int
	Text       string
}

// Len returns the length of the span in bytes.
func (s Span) Len() int { return s.End - s.Start }

// Contains reports whether o lies within s.
func (s Span) Contains(o Span) bool { return s.Start <= o.Start && o.End <= s.End }

// Overlaps reports whether s and o share at least one byte.
func (s Span) Overlaps(o Span) bool { return s.Start < o.End && o.Start < s.End }

// checkpointEvery is the spacing, in bytes, of the precomputed character
// counts that make offset conversion cost O(checkpointEvery) instead of O(n).
const checkpointEvery = 128

type checkpoint struct {
	byteOff, runes, utf16 int
}

// Text is the validated text of a note. Byte offsets everywhere in this
// package index the input exactly as given, so that a span can be checked
// against the original file: when the input starts with a byte order mark the
// mark is skipped, not removed, and the first character of the note is at
// byte offset 3. Line endings (LF or CRLF) are kept as they are.
//
// Character (rune) and UTF-16 offsets, used by evaluation sets and browsers,
// count from the first character after the byte order mark, because that is
// the text a decoder that strips the mark (a browser's TextDecoder, Python's
// utf-8-sig codec) hands to its user.
type Text struct {
	src   string
	start int // first byte after the BOM
	ckpt  []checkpoint
}

// ReadText reads all of r and validates it as note text.
func ReadText(r io.Reader) (*Text, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read note text: %w", err)
	}
	return NewText(string(b))
}

// NewText validates src as note text: UTF-8 without NUL bytes. The error, an
// *InvalidTextError, names the byte offset of the first bad byte.
func NewText(src string) (*Text, error) {
	t := &Text{src: src}
	if len(src) >= len(bom) && src[:len(bom)] == bom {
		t.start = len(bom)
	}
	t.ckpt = make([]checkpoint, 0, (len(src)-t.start)/checkpointEvery+1)
	runes, units := 0, 0
	next := t.start
	for i := t.start; i < len(src); {
		if i >= next {
			t.ckpt = append(t.ckpt, checkpoint{i, runes, units})
			next = t.start + len(t.ckpt)*checkpointEvery
		}
		c := src[i]
		if c < utf8.RuneSelf {
			if c == 0 {
				return nil, &InvalidTextError{Offset: i, Reason: "NUL byte"}
			}
			i++
			runes++
			units++
			continue
		}
		r, size := utf8.DecodeRuneInString(src[i:])
		if r == utf8.RuneError && size <= 1 {
			return nil, &InvalidTextError{Offset: i, Reason: fmt.Sprintf("invalid UTF-8 byte 0x%02x", c)}
		}
		i += size
		runes++
		units += utf16Len(r)
	}
	if len(t.ckpt) == 0 {
		t.ckpt = append(t.ckpt, checkpoint{t.start, 0, 0})
	}
	return t, nil
}

func utf16Len(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// String returns the input as given, byte order mark included.
func (t *Text) String() string { return t.src }

// Len returns the length of the input in bytes.
func (t *Text) Len() int { return len(t.src) }

// Start returns the byte offset of the first character of the note: 3 when
// the input starts with a byte order mark, else 0.
func (t *Text) Start() int { return t.start }

// Span returns the span [start, end) of the input. It panics if the range is
// outside the input, like slicing would.
func (t *Text) Span(start, end int) Span {
	return Span{Start: start, End: end, Text: t.src[start:end]}
}

// OffsetError reports an offset that cannot be converted: outside the text,
// inside the byte order mark, or in the middle of a character.
type OffsetError struct {
	Offset int
	Unit   string // "byte", "rune" or "UTF-16"
	Reason string
}

func (e *OffsetError) Error() string {
	return fmt.Sprintf("%s offset %d: %s", e.Unit, e.Offset, e.Reason)
}

func (t *Text) checkByte(b int) error {
	switch {
	case b < t.start || b > len(t.src):
		return &OffsetError{b, "byte", fmt.Sprintf("outside the text [%d, %d]", t.start, len(t.src))}
	case b < len(t.src) && !utf8.RuneStart(t.src[b]):
		return &OffsetError{b, "byte", "inside a multi-byte character"}
	}
	return nil
}

// checkpointFor returns the last checkpoint at or before byte offset b.
func (t *Text) checkpointFor(b int) checkpoint {
	k := (b - t.start) / checkpointEvery
	if k >= len(t.ckpt) {
		k = len(t.ckpt) - 1
	}
	for k > 0 && t.ckpt[k].byteOff > b {
		k--
	}
	return t.ckpt[k]
}

// RuneOffset converts a byte offset of the input into a character offset
// counted from the start of the note (after any byte order mark).
func (t *Text) RuneOffset(b int) (int, error) {
	if err := t.checkByte(b); err != nil {
		return 0, err
	}
	c := t.checkpointFor(b)
	return c.runes + utf8.RuneCountInString(t.src[c.byteOff:b]), nil
}

// UTF16Offset converts a byte offset of the input into a UTF-16 code unit
// offset counted from the start of the note, the unit JavaScript strings use.
func (t *Text) UTF16Offset(b int) (int, error) {
	if err := t.checkByte(b); err != nil {
		return 0, err
	}
	c := t.checkpointFor(b)
	u := c.utf16
	for _, r := range t.src[c.byteOff:b] {
		u += utf16Len(r)
	}
	return u, nil
}

// ByteOffsetOfRune converts a character offset (from the start of the note)
// into a byte offset of the input.
func (t *Text) ByteOffsetOfRune(r int) (int, error) {
	k := sort.Search(len(t.ckpt), func(i int) bool { return t.ckpt[i].runes > r }) - 1
	if r < 0 || k < 0 {
		return 0, &OffsetError{r, "rune", "before the text"}
	}
	c := t.ckpt[k]
	b, n := c.byteOff, c.runes
	for n < r && b < len(t.src) {
		_, size := utf8.DecodeRuneInString(t.src[b:])
		b += size
		n++
	}
	if n < r {
		return 0, &OffsetError{r, "rune", "past the end of the text"}
	}
	return b, nil
}

// ByteOffsetOfUTF16 converts a UTF-16 code unit offset (from the start of
// the note) into a byte offset of the input. An offset that falls between
// the two halves of a surrogate pair is an error.
func (t *Text) ByteOffsetOfUTF16(u int) (int, error) {
	k := sort.Search(len(t.ckpt), func(i int) bool { return t.ckpt[i].utf16 > u }) - 1
	if u < 0 || k < 0 {
		return 0, &OffsetError{u, "UTF-16", "before the text"}
	}
	c := t.ckpt[k]
	b, n := c.byteOff, c.utf16
	for n < u && b < len(t.src) {
		r, size := utf8.DecodeRuneInString(t.src[b:])
		b += size
		n += utf16Len(r)
	}
	switch {
	case n < u:
		return 0, &OffsetError{u, "UTF-16", "past the end of the text"}
	case n > u:
		return 0, &OffsetError{u, "UTF-16", "inside a surrogate pair"}
	}
	return b, nil
}

// RuneSpan returns the character offsets [start, end) of s.
func (t *Text) RuneSpan(s Span) (start, end int, err error) {
	if start, err = t.RuneOffset(s.Start); err != nil {
		return 0, 0, err
	}
	end, err = t.RuneOffset(s.End)
	return start, end, err
}

// UTF16Span returns the UTF-16 code unit offsets [start, end) of s.
func (t *Text) UTF16Span(s Span) (start, end int, err error) {
	if start, err = t.UTF16Offset(s.Start); err != nil {
		return 0, 0, err
	}
	end, err = t.UTF16Offset(s.End)
	return start, end, err
}
