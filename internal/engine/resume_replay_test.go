package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/hooks"
)

// direct runs a client call on the test goroutine.
func direct(t testing.TB) func(func(ctx context.Context) error) error {
	return func(fn func(ctx context.Context) error) error { return fn(testCtx(t)) }
}

// liveWatches sets, on s, the watches whose live streams the resumed ones
// are compared with: recursive with data, recursive, persistent with data
// (its NodeChildrenChanged carry the parent) on /r.
func liveWatches(t testing.TB, s *Session) (recData, rec, pers *Watch) {
	t.Helper()
	ctx := testCtx(t)
	var err error
	if recData, err = s.AddWatch(ctx, "/r", true, WithEventData(), WithWatchBuffer(1<<16)); err != nil {
		t.Fatal(err)
	}
	if rec, err = s.AddWatch(ctx, "/r", true, WithWatchBuffer(1<<16)); err != nil {
		t.Fatal(err)
	}
	if pers, err = s.AddWatch(ctx, "/r", false, WithEventData(), WithWatchBuffer(1<<16)); err != nil {
		t.Fatal(err)
	}
	return recData, rec, pers
}

// TestResumeFromEveryZxid: random writes, then a watch resumed from every
// zxid of the run delivers exactly what the live watches delivered after
// that zxid: same types, paths, zxids, data and Stat, the same ACL
// filtering. Snapshots are taken along the way, so resumes start from the
// initial tree and from each retained snapshot.
func TestResumeFromEveryZxid(t *testing.T) {
	cfg := testConfig(vfs.NewMem(), 3)
	cfg.SnapCount = 40
	e := openTest(t, cfg)
	defer e.Close()
	ctx := testCtx(t)
	watcher := newSession(t, e)
	mustCreate(t, watcher, "/r", "root")
	start, err := watcher.Zxid(ctx)
	if err != nil {
		t.Fatal(err)
	}
	recData, rec, pers := liveWatches(t, watcher)
	load := newResumeLoad(t, 3, direct(t), func() *Session { return newSession(t, e) })
	// Snapshots are written in the background: under load the first one
	// may still be on its way after 300 steps, so the load goes on (a
	// bounded while) until one is on disk.
	for i := 0; i < 300 || len(e.wal.Snapshots()) == 0 && i < 3000; i++ {
		load.step()
	}
	end, err := watcher.Zxid(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.wal.Snapshots()) == 0 {
		t.Fatal("no snapshot was taken: the test does not exercise replays from one")
	}
	liveData, liveRec, livePers := drain(recData), drain(rec), drain(pers)
	if len(liveData) < 100 || len(livePers) < 10 {
		t.Fatalf("too few events to compare: %d, %d", len(liveData), len(livePers))
	}
	reader := newSession(t, e)
	n := resumeAll(t, reader, direct(t), "/r", true, liveData, start, end, 1, WithEventData())
	n += resumeAll(t, reader, direct(t), "/r", true, liveRec, start, end, 7)
	n += resumeAll(t, reader, direct(t), "/r", false, livePers, start, end, 5, WithEventData())
	if e.journal.hits == 0 || e.strict.built == 0 {
		t.Fatalf("%d resumes from the journal, %d from the log: both must be tested", e.journal.hits, e.strict.built)
	}
	t.Logf("%d resumes over %d zxids (%d from the journal, %d from the log), %d events; snapshots %v",
		n, end-start, e.journal.hits, e.strict.built, len(liveData), e.wal.Snapshots())
}

// TestResumeSwitchesToLiveAtomically: resumes made while writers run get
// every change exactly once: the replayed ones, then the live ones.
func TestResumeSwitchesToLiveAtomically(t *testing.T) {
	e := standalone(t)
	ctx := testCtx(t)
	watcher := newSession(t, e)
	mustCreate(t, watcher, "/r", "")
	start, _ := watcher.Zxid(ctx)
	recData, _, _ := liveWatches(t, watcher)
	load := newResumeLoad(t, 4, direct(t), func() *Session { return newSession(t, e) })
	for i := 0; i < 50; i++ {
		load.step()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 400; i++ {
			load.step()
		}
	}()
	reader := newSession(t, e)
	var resumed []*Watch
	var froms []int64
	for i := 0; i < 12; i++ {
		now, err := reader.Zxid(ctx)
		if err != nil {
			t.Fatal(err)
		}
		from := max(start, now-int64(3*i))
		e.journal.mu.Lock()
		e.journal.skip = i%2 == 1 // half from the log, half from the journal
		e.journal.mu.Unlock()
		w, err := reader.AddWatch(ctx, "/r", true, FromZxid(from), WithEventData(), WithWatchBuffer(1<<16))
		if err != nil {
			t.Fatal(err)
		}
		resumed, froms = append(resumed, w), append(froms, from)
	}
	<-done
	if e.journal.hits == 0 || e.strict.built == 0 {
		t.Fatalf("%d resumes from the journal, %d from the log: both must be tested", e.journal.hits, e.strict.built)
	}
	live := drain(recData)
	for i, w := range resumed {
		sameEvents(t, "resume under load", after(live, froms[i]), drain(w))
	}
}

// TestResumeAcrossRestart: the log and snapshots on disk serve a resume
// after the peer restarted, and the resumed watch then goes on live.
func TestResumeAcrossRestart(t *testing.T) {
	fs := vfs.NewMem()
	cfg := testConfig(fs, 5)
	cfg.SnapCount = 30
	e := openTest(t, cfg)
	watcher := newSession(t, e)
	mustCreate(t, watcher, "/r", "")
	ctx := testCtx(t)
	start, _ := watcher.Zxid(ctx)
	recData, _, _ := liveWatches(t, watcher)
	load := newResumeLoad(t, 5, direct(t), func() *Session { return newSession(t, e) })
	for i := 0; i < 150; i++ {
		load.step()
	}
	before := drain(recData)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e = openTest(t, testConfig(fs, 6))
	defer e.Close()
	reader := newSession(t, e)
	end, _ := reader.Zxid(ctx)
	if end>>32 == start>>32 {
		t.Fatalf("the restart did not start a new epoch (%#x, %#x)", start, end)
	}
	last := before[len(before)-1].Zxid
	resumeAll(t, reader, direct(t), "/r", true, before, start, last, 3, WithEventData())
	resumeAll(t, reader, direct(t), "/r", true, before, end-1, end, 1, WithEventData())
	// Live after the replay: the watch resumed from the start gets the
	// writes made now, once each, after the replayed ones.
	w, err := reader.AddWatch(ctx, "/r", true, FromZxid(start), WithEventData(), WithWatchBuffer(1<<16))
	if err != nil {
		t.Fatal(err)
	}
	live, err := reader.AddWatch(ctx, "/r", true, WithEventData())
	if err != nil {
		t.Fatal(err)
	}
	load = newResumeLoad(t, 6, direct(t), func() *Session { return newSession(t, e) })
	for i := 0; i < 40; i++ {
		load.step()
	}
	sameEvents(t, "resumed across a restart, then live", append(before, drain(live)...), drain(w))
}

// TestResumeCompacted: once the log was purged past a zxid, resuming from it
// fails with ErrCompacted and registers nothing; a zxid the retained
// snapshots and log still cover resumes.
func TestResumeCompacted(t *testing.T) {
	cfg := testConfig(vfs.NewMem(), 7)
	cfg.SnapCount = 20
	cfg.PurgeInterval = time.Nanosecond
	cfg.TestHooks = &hooks.Hooks{SegmentSize: 2 << 10}
	e := openTest(t, cfg)
	defer e.Close()
	ctx := testCtx(t)
	watcher := newSession(t, e)
	mustCreate(t, watcher, "/r", "")
	start, _ := watcher.Zxid(ctx)
	recData, _, _ := liveWatches(t, watcher)
	load := newResumeLoad(t, 7, direct(t), func() *Session { return newSession(t, e) })
	// Snapshots and purges run on a background goroutine, one at a time: on
	// a loaded machine one can take many steps, so the bound is generous.
	for i := 0; i < 5000 && e.wal.Base() <= start; i++ {
		load.step()
	}
	for i := 0; i < 40; i++ {
		load.step()
	}
	base := e.wal.Base()
	if base <= start {
		t.Fatalf("the log was never purged (base %#x)", base)
	}
	live := drain(recData)
	reader := newSession(t, e)
	// The journal still holds what the log lost: it serves the resume.
	w, err := reader.AddWatch(ctx, "/r", true, FromZxid(start), WithEventData(), WithWatchBuffer(1<<16))
	if err != nil {
		t.Fatalf("resume from the journal: %v", err)
	}
	sameEvents(t, "resume from the journal past the log", after(live, start), drain(w))
	w.Remove()
	applied, _ := e.tree.Applied()
	e.journal.reset(applied) // as after a restart
	_, err = reader.AddWatch(ctx, "/r", true, FromZxid(start))
	if !errors.Is(err, ErrCompacted) {
		t.Fatalf("resume from %#x below the log base %#x: %v, want ErrCompacted", start, base, err)
	}
	if n, _, _ := e.watches.Count(); n != 3 {
		t.Fatalf("a failed resume left a watch: %d registered", n)
	}
	// From the newest snapshot on: every session created above applied a
	// txn, and with PurgeInterval 1ns each may have started a purge that is
	// still running, which can take older snapshots and the log below
	// them (a resume from one of those would rightly be ErrCompacted). The
	// newest snapshot and the log after it stay.
	from := e.wal.Snapshots()[0]
	end, _ := reader.Zxid(ctx)
	resumeAll(t, reader, direct(t), "/r", true, live, from, end, 1, WithEventData())
}
