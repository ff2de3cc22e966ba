package engine

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

func TestSessionIdentityAndTimeout(t *testing.T) {
	e := standalone(t)
	s := newSession(t, e, WithSessionTimeout(time.Hour))
	if s.ID()>>56 != e.cfg.ID {
		t.Fatalf("session id %#x does not carry peer id %d in its high byte", s.ID(), e.cfg.ID)
	}
	if len(s.Password()) != 16 {
		t.Fatalf("password of %d bytes", len(s.Password()))
	}
	if s.Timeout() != e.cfg.MaxSessionTimeout {
		t.Fatalf("timeout %v, want clamped to %v", s.Timeout(), e.cfg.MaxSessionTimeout)
	}
	short := newSession(t, e, WithSessionTimeout(time.Millisecond))
	if short.Timeout() != e.cfg.MinSessionTimeout {
		t.Fatalf("timeout %v, want raised to %v", short.Timeout(), e.cfg.MinSessionTimeout)
	}
	if s.ID() == short.ID() {
		t.Fatal("two sessions got the same id")
	}
}

func TestCloseDeletesEphemerals(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	owner := newSession(t, e)
	watcher := newSession(t, e)
	p := mustCreate(t, owner, "/lock-", "", WithMode(ModeEphemeralSequential))
	_, _, ch, err := watcher.ExistsW(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if eph, _ := owner.Ephemerals(ctx, "/"); len(eph) != 1 || eph[0] != p {
		t.Fatalf("ephemerals %v", eph)
	}
	if err := owner.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if owner.State() != StateClosed {
		t.Fatalf("state %v", owner.State())
	}
	select {
	case ev := <-ch:
		if ev.Type != EventNodeDeleted || ev.Path != p {
			t.Fatalf("event %+v", ev)
		}
	default:
		t.Fatal("the ephemeral's deletion event must be queued when Close returns")
	}
	if ok, _, _ := watcher.Exists(ctx, p); ok {
		t.Fatal("ephemeral survived its session's close")
	}
	if _, err := owner.Create(ctx, "/x", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("call after close: %v", err)
	}
}

func TestExpireSessionHook(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	s := newSession(t, e)
	mustCreate(t, s, "/e", "", WithMode(ModeEphemeral))
	_, _, w, err := s.GetW(ctx, "/e")
	if err != nil {
		t.Fatal(err)
	}
	states := s.States()
	if err := e.ExpireSession(ctx, s.ID()); err != nil {
		t.Fatal(err)
	}
	if s.State() != StateExpired {
		t.Fatalf("state %v", s.State())
	}
	var seen []SessionState
	for st := range states {
		seen = append(seen, st)
	}
	if len(seen) == 0 || seen[len(seen)-1] != StateExpired {
		t.Fatalf("states channel saw %v, want it to end with expired and close", seen)
	}
	if ev := <-w; ev.Type != EventNotWatching || !errors.Is(ev.Err, ErrSessionExpired) {
		// The ephemeral's deletion may come first: it happened before the
		// session's watches were dropped.
		if ev.Type != EventNodeDeleted {
			t.Fatalf("watch got %+v", ev)
		}
	}
	if _, _, err := s.Get(ctx, "/"); !errors.Is(err, ErrSessionExpired) {
		t.Fatalf("call on an expired session: %v", err)
	}
	other := newSession(t, e)
	if ok, _, _ := other.Exists(ctx, "/e"); ok {
		t.Fatal("the expired session's ephemeral remains")
	}
}

// TestUnattachedSessionExpires restarts the ensemble: sessions survive in
// the tree, and one that nobody re-attaches expires after its timeout, its
// ephemerals with it.
func TestUnattachedSessionExpires(t *testing.T) {
	fs := vfs.NewMem()
	e := openTest(t, testConfig(fs, 1))
	s := newSession(t, e, WithSessionTimeout(time.Second)) // 10 TickTimes of 100ms
	kept := newSession(t, e, WithSessionTimeout(time.Second))
	mustCreate(t, s, "/gone", "", WithMode(ModeEphemeral))
	mustCreate(t, kept, "/kept", "", WithMode(ModeEphemeral))
	e.Close()

	e = openTest(t, testConfig(fs, 2))
	defer e.Close()
	ctx := testCtx(t)
	k, err := e.Reattach(ctx, kept.ID(), kept.Password())
	if err != nil {
		t.Fatal(err)
	}
	check := newSession(t, e)
	ticks(t, e, 9*TicksPerTickTime)
	if ok, _, _ := check.Exists(ctx, "/gone"); !ok {
		t.Fatal("a session must not expire before its timeout")
	}
	ticks(t, e, 3*TicksPerTickTime)
	if ok, _, _ := check.Exists(ctx, "/gone"); ok {
		t.Fatal("the unattached session's ephemeral outlived its timeout")
	}
	if ok, _, _ := check.Exists(ctx, "/kept"); !ok || k.State() != StateConnected {
		t.Fatalf("a re-attached session must be kept alive by its peer (state %v)", k.State())
	}
}

// TestFIFOAcrossGoroutines issues sequential creates from many goroutines on
// one session, each once the one before it took its place in the session's
// order (its ticket): the sequence numbers follow the issue order, and each
// call returns only once every call issued before it is done. (Comparing
// the order in which the goroutines record their returns would race with
// the scheduler: a goroutine may be paused between its return and its
// record.)
func TestFIFOAcrossGoroutines(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	s := newSession(t, e)
	mustCreate(t, s, "/q", "")
	const n = 64
	base := s.seq.Issued()
	paths := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := s.Create(ctx, "/q/n-", nil, WithMode(ModePersistentSequential))
			if err != nil {
				t.Error(err)
				return
			}
			if done := s.seq.Through(); done < base+uint64(i)+1 {
				t.Errorf("call %d (ticket %d) returned while only tickets up to %d were done", i, base+uint64(i)+1, done)
			}
			paths[i] = p
		}()
		for s.seq.Issued() < base+uint64(i)+1 && ctx.Err() == nil {
			runtime.Gosched() // wait until call i holds its ticket
		}
	}
	wg.Wait()
	for i, p := range paths {
		if want := fmt.Sprintf("/q/n-%010d", i); p != want {
			t.Fatalf("call %d created %q, want %q: the session did not keep the issue order", i, p, want)
		}
	}
}

func TestReadYourWritesAndStates(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	s := newSession(t, e)
	for i := 0; i < 20; i++ {
		if _, err := s.Create(ctx, fmt.Sprintf("/r%d", i), []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		if d, _, err := s.Get(ctx, fmt.Sprintf("/r%d", i)); err != nil || d[0] != byte(i) {
			t.Fatalf("read after write: %v %v", d, err)
		}
	}
	if s.State() != StateConnected {
		t.Fatalf("state %v", s.State())
	}
	e.Close()
	if s.State() != StateClosed {
		t.Fatalf("after the ensemble closed: state %v", s.State())
	}
}

// TestSessionWatchStates: States returns the channel made with the
// session, every call the same; each WatchStates call a channel of its
// own, from the call on; each gets every change and is closed at the end;
// a call after the end gets the last state and a closed channel.
func TestSessionWatchStates(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	s := newSession(t, e)
	if s.States() != s.States() {
		t.Fatal("States returned two channels")
	}
	first, _ := s.WatchStates()
	second, _ := s.WatchStates()
	s.setState(StateDisconnected)
	third, _ := s.WatchStates()
	s.setState(StateConnected)
	if err := e.ExpireSession(ctx, s.ID()); err != nil {
		t.Fatal(err)
	}
	drain := func(ch <-chan SessionState) []SessionState {
		var seen []SessionState
		for st := range ch {
			seen = append(seen, st)
		}
		return seen
	}
	after, stop := s.WatchStates()
	stop() // a no-op once the session ended
	all := []SessionState{StateDisconnected, StateConnected, StateExpired}
	for name, c := range map[string]struct {
		ch   <-chan SessionState
		want []SessionState
	}{
		"States": {s.States(), all}, "first": {first, all}, "second": {second, all},
		"third": {third, all[1:]}, "after the end": {after, all[2:]},
	} {
		if got := drain(c.ch); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
}

// TestSessionWatchStatesStop: a channel given back (WatchStates' stop)
// gets no more states and is not closed; the others still get theirs.
func TestSessionWatchStatesStop(t *testing.T) {
	e := standalone(t)
	s := newSession(t, e)
	kept, _ := s.WatchStates()
	gone, stop := s.WatchStates()
	stop()
	stop() // again: a no-op
	s.setState(StateDisconnected)
	if st := <-kept; st != StateDisconnected {
		t.Fatalf("kept: %v", st)
	}
	select {
	case st, ok := <-gone:
		t.Fatalf("a channel given back got %v (open %v)", st, ok)
	default:
	}
	s.stateMu.Lock()
	n := len(s.more)
	s.stateMu.Unlock()
	if n != 1 {
		t.Fatalf("%d channels registered, want 1", n)
	}
}
