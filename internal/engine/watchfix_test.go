package engine

import (
	"errors"
	"testing"
)

// noEvent checks that no event is queued on ch (it may be closed).
func noEvent(t *testing.T, ch <-chan Event, what string) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if ok {
			t.Fatalf("%s: got %+v, want nothing", what, ev)
		}
	default:
	}
}

// TestWatchModesCoexistOnOnePath keeps the behaviour ZooKeeper 3.9 has
// since ZOOKEEPER-4466: a one-shot watch set on a path where the same
// session has a persistent (or recursive) watch does not replace it. In
// ZooKeeper 3.8 the second registration overwrites the watch's mode
// (WatcherModeManager), so the persistent watch ends after one event.
func TestWatchModesCoexistOnOnePath(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	s := newSession(t, e)
	mustCreate(t, s, "/w", "")
	pw, err := s.AddWatch(ctx, "/w", false)
	if err != nil {
		t.Fatal(err)
	}
	rw, err := s.AddWatch(ctx, "/w", true)
	if err != nil {
		t.Fatal(err)
	}
	_, _, ex, err := s.ExistsW(ctx, "/w")
	if err != nil {
		t.Fatal(err)
	}
	_, _, ch, err := s.ChildrenW(ctx, "/w")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.Set(ctx, "/w", nil, -1); err != nil {
			t.Fatal(err)
		}
		mustCreate(t, s, "/w/c-", "", WithMode(ModePersistentSequential))
	}
	// The one-shot watches fire once each.
	if ev := recv(t, ex); ev.Type != EventNodeDataChanged {
		t.Fatalf("exist watch: %+v", ev)
	}
	if ev := recv(t, ch); ev.Type != EventNodeChildrenChanged {
		t.Fatalf("child watch: %+v", ev)
	}
	// The persistent watches saw everything and are still there.
	for _, want := range []EventType{EventNodeDataChanged, EventNodeChildrenChanged, EventNodeDataChanged, EventNodeChildrenChanged} {
		if ev := take(t, pw); ev.Type != want {
			t.Fatalf("persistent watch: %+v, want %v", ev, want)
		}
	}
	for _, want := range []EventType{EventNodeDataChanged, EventNodeCreated, EventNodeDataChanged, EventNodeCreated} {
		if ev := take(t, rw); ev.Type != want {
			t.Fatalf("recursive watch: %+v, want %v", ev, want)
		}
	}
	if _, err := s.Set(ctx, "/w", nil, -1); err != nil {
		t.Fatal(err)
	}
	if ev := take(t, pw); ev.Type != EventNodeDataChanged {
		t.Fatalf("persistent watch after the one-shot ones fired: %+v", ev)
	}
}

// TestRemoveWatchesRemovesOnlyItsKind keeps the behaviour ZooKeeper 3.9
// has since ZOOKEEPER-4471: removeWatches of one kind removes watches of
// that kind only, and a persistent watch goes whole or not at all. In
// ZooKeeper 3.8, removing the data (or child) watches of a path also took
// the data (or child) half of a persistent watch there, leaving the other
// half firing.
func TestRemoveWatchesRemovesOnlyItsKind(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	s := newSession(t, e)
	mustCreate(t, s, "/r", "")
	pw, err := s.AddWatch(ctx, "/r", false)
	if err != nil {
		t.Fatal(err)
	}
	_, _, dw, err := s.GetW(ctx, "/r")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveWatches(ctx, "/r", WatcherData); err != nil {
		t.Fatal(err)
	}
	if ev := recv(t, dw); ev.Type != EventDataWatchRemoved {
		t.Fatalf("data watch removal: %+v", ev)
	}
	if err := s.RemoveWatches(ctx, "/r", WatcherData); !errors.Is(err, ErrNoWatcher) {
		t.Fatalf("a persistent watch is not a data watch: %v", err)
	}
	if err := s.RemoveWatches(ctx, "/r", WatcherChildren); !errors.Is(err, ErrNoWatcher) {
		t.Fatalf("a persistent watch is not a child watch: %v", err)
	}
	if _, err := s.Set(ctx, "/r", nil, -1); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "/r/c", "")
	for _, want := range []EventType{EventNodeDataChanged, EventNodeChildrenChanged} {
		if ev := take(t, pw); ev.Type != want {
			t.Fatalf("persistent watch, both halves: %+v, want %v", ev, want)
		}
	}
	if err := s.RemoveWatches(ctx, "/r", WatcherPersistent); err != nil {
		t.Fatal(err)
	}
	if ev := take(t, pw); ev.Type != EventPersistentWatchRemoved {
		t.Fatalf("persistent removal: %+v", ev)
	}
	if _, err := s.Set(ctx, "/r", nil, -1); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "/r/d", "")
	if ev, ok := pw.TryNext(); ok {
		t.Fatalf("a removed persistent watch still fires: %+v", ev)
	}
	if _, err := pw.Next(ctx); !errors.Is(err, ErrNoWatcher) {
		t.Fatalf("Next after removal: %v, want ErrNoWatcher", err)
	}
	noEvent(t, dw, "removed data watch")
}
