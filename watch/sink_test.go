package watch

import (
	"errors"
	"testing"

	"github.com/embedzk/zk/internal/zkerr"
)

func drain(s *ChanSink) []Event {
	var out []Event
	for e := range s.C() {
		out = append(out, e)
	}
	return out
}

func TestChanSinkClose(t *testing.T) {
	s := NewChanSink(1)
	if !s.Deliver(Event{Type: EventNodeCreated, Path: "/a", Zxid: 3}) {
		t.Fatal("first event refused")
	}
	s.Close()
	s.Close() // idempotent
	got := drain(s)
	if len(got) != 1 || got[0].Zxid != 3 || s.Err() != nil {
		t.Fatalf("got %+v, Err %v", got, s.Err())
	}
	if s.Deliver(Event{Type: EventNodeCreated}) {
		t.Fatal("Deliver after Close accepted")
	}
}

func TestChanSinkCapacityAndReservedSlot(t *testing.T) {
	s := NewChanSink(2)
	for i := 1; i <= 2; i++ {
		if !s.Deliver(Event{Type: EventNodeDataChanged, Path: "/a", Zxid: int64(i)}) {
			t.Fatalf("event %d refused", i)
		}
	}
	if s.Deliver(Event{Type: EventNodeDataChanged, Path: "/a", Zxid: 3}) {
		t.Fatal("third event accepted by a sink of 2")
	}
	// The terminal event still fits.
	if !s.Deliver(Event{Type: EventPersistentWatchRemoved, Path: "/a"}) {
		t.Fatal("removal event refused")
	}
	s.Close()
	got := drain(s)
	if len(got) != 3 || got[2].Type != EventPersistentWatchRemoved || s.Err() != nil {
		t.Fatalf("got %+v, Err %v", got, s.Err())
	}
}

func TestChanSinkOverflow(t *testing.T) {
	s := NewChanSink(1)
	s.Deliver(Event{Type: EventNodeDataChanged, Path: "/a", Zxid: 1})
	if s.Deliver(Event{Type: EventNodeDataChanged, Path: "/a/b", Zxid: 2}) {
		t.Fatal("overfull sink accepted an event")
	}
	if s.Deliver(Event{Type: EventNodeDataChanged, Path: "/a/c", Zxid: 3}) {
		t.Fatal("overfull sink accepted an event")
	}
	if s.Err() != nil {
		t.Fatal("Err before Overflow")
	}
	s.Overflow()
	s.Close() // ignored after Overflow
	got := drain(s)
	want := []Event{{Type: EventNodeDataChanged, Path: "/a", Zxid: 1},
		{Type: EventNotWatching, Path: "/a/b", Err: zkerr.ErrWatchOverflow}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if !errors.Is(s.Err(), zkerr.ErrWatchOverflow) {
		t.Fatalf("Err = %v", s.Err())
	}
}

func TestNewChanSinkPanicsOnZero(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewChanSink(0) did not panic")
		}
	}()
	NewChanSink(0)
}
