package engine

import (
	"errors"
	"testing"
)

// TestWatchOptionsBadInput: bad options fail with a clear error and
// register nothing.
func TestWatchOptionsBadInput(t *testing.T) {
	e := standalone(t)
	s := newSession(t, e)
	ctx := testCtx(t)
	mustCreate(t, s, "/a", "")
	cases := []struct {
		name string
		path string
		opts []WatchOption
		want error
	}{
		{"negative zxid", "/a", []WatchOption{FromZxid(-1)}, ErrBadArguments},
		{"zero buffer", "/a", []WatchOption{WithWatchBuffer(0)}, ErrBadArguments},
		{"nil option", "/a", []WatchOption{nil}, ErrBadArguments},
		{"invalid root", "/a", []WatchOption{WithRelativePaths("a/")}, ErrInvalidPath},
		{"root not above", "/a", []WatchOption{WithRelativePaths("/b")}, ErrBadArguments},
		{"root a sibling prefix", "/ab", []WatchOption{WithRelativePaths("/a")}, ErrBadArguments},
		{"bad path", "a", nil, ErrInvalidPath},
	}
	for _, c := range cases {
		w, err := s.AddWatch(ctx, c.path, true, c.opts...)
		if !errors.Is(err, c.want) || w != nil {
			t.Errorf("%s: %v, %v; want %v", c.name, w, err, c.want)
		}
	}
	if n, _, _ := e.watches.Count(); n != 0 {
		t.Fatalf("bad options registered %d watches", n)
	}
	if len(e.strict.sinks) != 0 {
		t.Fatalf("bad options left %d strict watches", len(e.strict.sinks))
	}
}

// TestResumeOverflow: a resume that would replay more events than the
// watch's buffer fails with ErrWatchOverflow and registers nothing; the
// same resume with a larger buffer works.
func TestResumeOverflow(t *testing.T) {
	e := standalone(t)
	s := newSession(t, e)
	ctx := testCtx(t)
	mustCreate(t, s, "/r", "")
	start, _ := s.Zxid(ctx)
	for i := 0; i < 20; i++ {
		if _, err := s.Set(ctx, "/r", []byte{byte(i)}, -1); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.AddWatch(ctx, "/r", false, FromZxid(start), WithWatchBuffer(19))
	if !errors.Is(err, ErrWatchOverflow) {
		t.Fatalf("replaying 20 events into a buffer of 19: %v", err)
	}
	if n, _, _ := e.watches.Count(); n != 0 || len(e.strict.sinks) != 0 {
		t.Fatalf("a failed resume left %d watches, %d strict", n, len(e.strict.sinks))
	}
	w, err := s.AddWatch(ctx, "/r", false, FromZxid(start), WithWatchBuffer(20))
	if err != nil {
		t.Fatal(err)
	}
	if got := drain(w); len(got) != 20 || got[19].Type != EventNodeDataChanged {
		t.Fatalf("replayed %v", got)
	}
}

// TestResumeWaitsForAZxidAhead: resuming from a zxid this peer has not
// applied yet waits for it (within ctx), then delivers nothing older.
func TestResumeWaitsForAZxidAhead(t *testing.T) {
	e := standalone(t)
	s := newSession(t, e)
	ctx := testCtx(t)
	mustCreate(t, s, "/r", "")
	other := newSession(t, e)
	now, _ := s.Zxid(ctx)
	done := make(chan error, 1)
	var w *Watch
	go func() {
		var err error
		w, err = s.AddWatch(ctx, "/r", true, FromZxid(now+2))
		done <- err
	}()
	for i := 0; i < 3; i++ {
		mustCreate(t, other, "/r/"+string(rune('a'+i)), "")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := drain(w)
	if len(got) != 1 || got[0].Path != "/r/c" || got[0].Zxid != now+3 {
		t.Fatalf("got %+v, want only /r/c at %#x", got, now+3)
	}
}

// TestNextBatchGroupsATransaction: the events of one multi, and of one
// session close, come in one batch; the next transaction in the next.
func TestNextBatchGroupsATransaction(t *testing.T) {
	e := standalone(t)
	s := newSession(t, e)
	ctx := testCtx(t)
	mustCreate(t, s, "/r", "")
	w, err := s.AddWatch(ctx, "/r", true, WithEventData(), WithRelativePaths("/r"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Multi(ctx, CreateOp("/r/a", []byte("1")), CreateOp("/r/b", nil), SetOp("/r/a", []byte("2"), -1)); err != nil {
		t.Fatal(err)
	}
	eph := newSession(t, e)
	mustCreate(t, eph, "/r/e1", "", WithMode(ModeEphemeral))
	mustCreate(t, eph, "/r/e2", "", WithMode(ModeEphemeral))
	if err := eph.Close(ctx); err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"NodeCreated /a 2", "NodeCreated /b ", "NodeDataChanged /a 2"},
		{"NodeCreated /e1 "}, {"NodeCreated /e2 "},
		{"NodeDeleted /e1 ", "NodeDeleted /e2 "},
	}
	for i, wb := range want {
		b, err := w.NextBatch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ev := range b {
			d := ""
			if ev.Node != nil {
				d = string(ev.Node.Data)
			}
			got = append(got, ev.Type.String()+" "+ev.Path+" "+d)
			if ev.Zxid != b[0].Zxid {
				t.Fatalf("batch %d mixes zxids: %+v", i, b)
			}
		}
		if len(got) != len(wb) {
			t.Fatalf("batch %d: %q, want %q", i, got, wb)
		}
		for j := range got {
			if got[j] != wb[j] {
				t.Fatalf("batch %d: %q, want %q", i, got, wb)
			}
		}
	}
	w.Remove()
	b, err := w.NextBatch(ctx)
	if err != nil || len(b) != 1 || b[0].Type != EventPersistentWatchRemoved || b[0].Path != "/" {
		t.Fatalf("the last batch: %+v, %v", b, err)
	}
	if _, err := w.NextBatch(ctx); !errors.Is(err, ErrNoWatcher) {
		t.Fatalf("after the end: %v", err)
	}
}

// TestZxidSeesOwnWrites: Session.Zxid is at least the zxid of the
// session's last write, and equals the peer's applied zxid when idle.
func TestZxidSeesOwnWrites(t *testing.T) {
	e := standalone(t)
	s := newSession(t, e)
	ctx := testCtx(t)
	mustCreate(t, s, "/a", "")
	_, st, _ := s.Get(ctx, "/a")
	z, err := s.Zxid(ctx)
	if err != nil || z < st.Mzxid || z != e.Status().Applied {
		t.Fatalf("Zxid = %#x, %v; the write was %#x, applied %#x", z, err, st.Mzxid, e.Status().Applied)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Zxid(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("Zxid on a closed session: %v", err)
	}
}
