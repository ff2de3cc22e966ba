package watch

import (
	"errors"
	"testing"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// TestSessionLimit: a session at its limit gets ErrTooManyWatches and
// nothing changes; a watch that ends makes room; other sessions are not
// affected.
func TestSessionLimit(t *testing.T) {
	m := NewManager()
	m.SetSessionLimit(3)
	add(m, 1, "/a", KindData, &recSink{})
	add(m, 1, "/a", KindPersistent, &recSink{})
	rec := add(m, 1, "/b", KindPersistentRecursive, &recSink{})
	for k := KindData; k <= KindPersistentRecursive; k++ {
		s := &recSink{}
		if _, err := m.Add(1, "/c", k, s); !errors.Is(err, zkerr.ErrTooManyWatches) {
			t.Fatalf("Add %v over the limit: %v", k, err)
		}
		if len(s.events) > 0 || s.ended() {
			t.Fatalf("a refused Add touched its sink: %+v", s)
		}
	}
	if w, p, s := m.Count(); w != 3 || p != 2 || s != 1 {
		t.Fatalf("Count = %d %d %d after refusals, want 3 2 1", w, p, s)
	}
	if regs := m.SessionWatches(1); len(regs) != 3 {
		t.Fatalf("session has %d watches", len(regs))
	}
	// A recursive watch refused above must not count as live.
	m.Trigger([]znode.Change{{Type: znode.ChangeCreated, Path: "/c/d", Zxid: 1}}, nil)

	add(m, 2, "/c", KindData, &recSink{}) // another session has its own room

	// The data watch fires: room for one more.
	m.Trigger([]znode.Change{{Type: znode.ChangeDataChanged, Path: "/a", Zxid: 2}}, nil)
	add(m, 1, "/c", KindChild, &recSink{})
	if _, err := m.Add(1, "/c", KindData, &recSink{}); !errors.Is(err, zkerr.ErrTooManyWatches) {
		t.Fatalf("Add over the limit again: %v", err)
	}
	// A removal makes room too; lifting the limit lets anything in.
	m.RemoveID(rec)
	add(m, 1, "/c", KindData, &recSink{})
	m.SetSessionLimit(0)
	for i := 0; i < 10; i++ {
		add(m, 1, "/c", KindExist, &recSink{})
	}
	// Lowering the limit keeps what is there and refuses more.
	m.SetSessionLimit(2)
	if _, err := m.Add(1, "/d", KindData, &recSink{}); !errors.Is(err, zkerr.ErrTooManyWatches) {
		t.Fatalf("Add after lowering the limit: %v", err)
	}
	if w, _, _ := m.Count(); w != 14 {
		t.Fatalf("%d registrations, want 14", w)
	}
}
