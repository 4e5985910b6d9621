package flatfile

import (
	"bytes"
	"slices"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var w Writer
	w.Str("heart")
	w.Uint(300)
	w.Str("kidney")
	w.Str("heart") // the same string is stored once
	w.Bool(true)
	w.Uint32(7)
	w.Uint32(1 << 31)
	data := w.Bytes([]byte("hdr"))
	if !bytes.HasPrefix(data, []byte("hdr")) {
		t.Fatalf("header lost: %q", data[:3])
	}
	r, err := NewReader(data[3:])
	if err != nil {
		t.Fatal(err)
	}
	if r.Strings() != 2 {
		t.Errorf("%d strings in the table, want 2", r.Strings())
	}
	got := []any{r.Str("a"), r.Uint(), r.Str("b"), r.Str("c"), r.Bool()}
	want := []any{"heart", uint64(300), "kidney", "heart", true}
	if !slices.Equal(got, want) {
		t.Errorf("read %v, want %v", got, want)
	}
	if u := r.Uint32s(2); !slices.Equal(u, []uint32{7, 1 << 31}) {
		t.Errorf("Uint32s = %v", u)
	}
	if r.Err() != nil || r.Left() != 0 {
		t.Errorf("err %v, %d bytes left", r.Err(), r.Left())
	}
}

func TestDamaged(t *testing.T) {
	var w Writer
	w.Str("heart")
	w.Uint(5)
	data := w.Bytes(nil)
	tests := []struct {
		name string
		data []byte
		read func(r *Reader)
	}{
		{"string table cut", data[:3], nil},
		{"string beyond the table", data, func(r *Reader) { r.Uint(); r.Str("string") }},
		{"number not below its bound", data, func(r *Reader) { r.Uint(); r.Below(5, "count") }},
		{"list longer than the body", data, func(r *Reader) { r.Uint(); r.Count(1) }},
		{"read past the end", data, func(r *Reader) { r.Uint(); r.Uint(); r.Uint() }},
		{"fixed-width numbers past the end", data, func(r *Reader) { r.Uint32s(3) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(tt.data)
			if tt.read == nil {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.read(r)
			if r.Err() == nil {
				t.Error("no error")
			}
		})
	}
}

// FuzzReader checks that no input makes a reader panic or allocate
// beyond what the input could fill.
func FuzzReader(f *testing.F) {
	var w Writer
	w.Str("heart")
	w.Uint(3)
	w.Uint32(9)
	f.Add(w.Bytes(nil))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(data)
		if err != nil {
			return
		}
		for r.Err() == nil && r.Left() > 0 {
			n := r.Count(1)
			for range n {
				r.Str("string")
			}
			r.Uint32s(r.Count(4))
		}
	})
}
