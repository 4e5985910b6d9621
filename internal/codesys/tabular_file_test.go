package codesys

import (
	"bytes"
	"reflect"
	"testing"
)

// TestTabularRoundTrip checks that a composed list read back from
// EncodeTabular looks every code up as the list composed, problems,
// borrowed notes and 7th characters included, and validates alike.
func TestTabularRoundTrip(t *testing.T) {
	tab, _, order := composeFixture(t)
	var b bytes.Buffer
	if err := EncodeTabular(&b, tab); err != nil {
		t.Fatal(err)
	}
	got, err := DecodeTabular(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != tab.Version || got.NotesFrom != tab.NotesFrom || got.Composed != tab.Composed || len(got.Nodes) != len(tab.Nodes) {
		t.Fatalf("read back %q/%q/%v with %d nodes, want %q/%q/%v with %d", got.Version, got.NotesFrom, got.Composed, len(got.Nodes),
			tab.Version, tab.NotesFrom, tab.Composed, len(tab.Nodes))
	}
	problems := 0
	codes := []string{"E11.36X", "T36.0X1A", "S52.521D", "E11", "chapter 4", "nope"}
	for _, e := range order.Entries {
		codes = append(codes, e.Code)
	}
	for _, code := range codes {
		want, have := tab.Lookup(code), got.Lookup(code)
		if !reflect.DeepEqual(have, want) {
			t.Errorf("Lookup(%s) read back:\n%+v\nwant %+v", code, have, want)
		}
		problems += len(want.Problems)
		if v, w := got.Validate(code), tab.Validate(code); v.Status != w.Status || v.Reason != w.Reason {
			t.Errorf("Validate(%s) read back: %v %q, want %v %q", code, v.Status, v.Reason, w.Status, w.Reason)
		}
	}
	if problems == 0 {
		t.Error("the fixture's list has no problems: the test checks none")
	}
}

// TestDecodeTabularDamaged checks that a list whose nodes name parents or
// children it lacks is an error, not a list that panics later.
func TestDecodeTabularDamaged(t *testing.T) {
	for name, damage := range map[string]func(*Tabular){
		"parent beyond the list": func(t *Tabular) { t.Nodes[1].Parent = int32(len(t.Nodes)) },
		"child beyond the list": func(t *Tabular) {
			t.Nodes[0].Children = append(t.Nodes[0].Children, int32(len(t.Nodes)))
		},
		"problems of no node": func(t *Tabular) { t.problems[int32(len(t.Nodes))] = []string{"x"} },
	} {
		tab, _, _ := composeFixture(t)
		damage(tab)
		var b bytes.Buffer
		if err := EncodeTabular(&b, tab); err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeTabular(b.Bytes()); err == nil {
			t.Errorf("%s: read without error", name)
		}
	}
	if _, err := DecodeTabular([]byte("not a list")); err == nil {
		t.Error("garbage: read without error")
	}
	tab, _, _ := composeFixture(t)
	var b bytes.Buffer
	if err := EncodeTabular(&b, tab); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < b.Len(); n += 1 + n/50 {
		if _, err := DecodeTabular(b.Bytes()[:n]); err == nil {
			t.Fatalf("cut to %d of %d bytes: read without error", n, b.Len())
		}
	}
}

// FuzzDecodeTabular checks that damaged data is an error, never a panic
// nor a list that panics when its codes are looked up.
func FuzzDecodeTabular(f *testing.F) {
	tab, _, _ := composeFixture(f)
	var b bytes.Buffer
	if err := EncodeTabular(&b, tab); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add(b.Bytes()[:b.Len()/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := DecodeTabular(data)
		if err != nil {
			return
		}
		for i := range got.Nodes {
			got.Lookup(got.Nodes[i].Code)
			got.Validate(got.Nodes[i].Code)
		}
	})
}
