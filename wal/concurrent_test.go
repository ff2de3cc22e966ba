package wal

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// entryTable holds the deterministic entry of each zxid 1..n at index z.
type entryTable []Entry

func newEntryTable(n int) entryTable {
	tab := make(entryTable, n+1)
	rng := rand.New(rand.NewPCG(uint64(n), 5))
	for z := 1; z <= n; z++ {
		size := rng.IntN(3000)
		if z%11 == 0 {
			size = 9000
		}
		data := make([]byte, size)
		for i := 0; i < size; i += 8 {
			v := rng.Uint64()
			for j := i; j < min(i+8, size); j++ {
				data[j] = byte(v >> (8 * (j - i)))
			}
		}
		tab[z] = Entry{Zxid: int64(z), Data: data}
	}
	return tab
}

// entry returns a copy of entry z (Append owns what it is given).
func (tab entryTable) entry(z int64) Entry {
	return Entry{Zxid: z, Data: append([]byte(nil), tab[z].Data...)}
}

// appender issues appends whose arrival order is their zxid order: the zxid
// is taken and the call queued under one lock, and the wait happens outside.
type appender struct {
	l     *Log
	tab   entryTable
	mu    sync.Mutex
	next  int64
	acked atomic.Int64 // highest zxid whose Append returned nil
}

func (a *appender) appendOne() error {
	a.mu.Lock()
	a.next++
	z := a.next
	c, err := a.l.enqueue([]Entry{a.tab.entry(z)})
	a.mu.Unlock()
	if err != nil {
		return err
	}
	if err := a.l.wait(c); err != nil {
		return err
	}
	for {
		cur := a.acked.Load()
		if z <= cur || a.acked.CompareAndSwap(cur, z) {
			return nil
		}
	}
}

// checkReads reads the log after from and checks it holds from+1, from+2...
// with the right data.
func checkReads(l *Log, tab entryTable, from int64) error {
	want := from
	return l.ReadFrom(from, func(e Entry) error {
		want++
		if want >= int64(len(tab)) {
			return fmt.Errorf("read zxid %#x past the table", e.Zxid)
		}
		w := tab[want]
		if e.Zxid != w.Zxid || string(e.Data) != string(w.Data) {
			return fmt.Errorf("read zxid %#x (%d bytes), want %#x", e.Zxid, len(e.Data), w.Zxid)
		}
		return nil
	})
}

func TestConcurrentAppendsAndReads(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, testOpts(fs))
	const writers, per = 16, 40
	a := &appender{l: l, tab: newEntryTable(writers * per)}
	var wg sync.WaitGroup
	errc := make(chan error, writers+2)
	stop := make(chan struct{})
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				if err := a.appendOne(); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	var rwg sync.WaitGroup
	for r := range 2 {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := checkReads(l, a.tab, int64(r*50)); err != nil && !errors.Is(err, ErrNotFound) {
					errc <- err
					return
				}
				if _, err := l.Entries(int64(r), 4096); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	rwg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if l.LastZxid() != writers*per {
		t.Fatalf("last %d", l.LastZxid())
	}
	if err := checkReads(l, a.tab, 0); err != nil {
		t.Fatal(err)
	}
	st := l.Stats()
	if st.Appends != writers*per || st.Records != writers*per {
		t.Fatalf("stats %+v", st)
	}
	t.Logf("%d appends in %d fsyncs", st.Appends, st.Syncs)
	l.Close()
}

// gateFS blocks the first fsync of a segment until released, and can make it
// fail.
type gateFS struct {
	once    sync.Once
	entered chan struct{}
	release chan struct{}
	failIt  bool
	syncs   atomic.Int64
}

func (g *gateFS) String() string { return "gate" }

func (g *gateFS) MaybeError(op errorfs.Op) error {
	if op.Kind != errorfs.OpFileSync || !strings.Contains(op.Path, "/"+segPrefix) {
		return nil
	}
	g.syncs.Add(1)
	first := false
	g.once.Do(func() { first = true })
	if !first {
		return nil
	}
	close(g.entered)
	select {
	case <-g.release:
	case <-time.After(10 * time.Second):
		return errors.New("gate never released")
	}
	if g.failIt {
		return errorfs.ErrInjected
	}
	return nil
}

// TestGroupCommit: calls queued while an fsync is in flight are written
// together by the next write and fsync.
func TestGroupCommit(t *testing.T) {
	for _, fail := range []bool{false, true} {
		t.Run(fmt.Sprintf("fail=%v", fail), func(t *testing.T) {
			g := &gateFS{entered: make(chan struct{}), release: make(chan struct{}), failIt: fail}
			o := testOpts(errorfs.Wrap(vfs.NewMem(), g))
			o.SegmentSize = 1 << 20
			l := mustOpen(t, o)
			tab := newEntryTable(30)
			defer l.Close()
			first := make(chan error, 1)
			go func() { first <- l.Append([]Entry{tab.entry(1)}) }()
			<-g.entered // the first group is inside its fsync
			const queued = 20
			calls := make([]*call, queued)
			for i := range calls {
				c, err := l.enqueue([]Entry{tab.entry(int64(i + 2))})
				if err != nil {
					t.Fatal(err)
				}
				calls[i] = c
			}
			errs := make(chan error, queued)
			for _, c := range calls {
				go func() { errs <- l.wait(c) }()
			}
			close(g.release)
			if err := <-first; fail != (err != nil) {
				t.Fatalf("first append: %v", err)
			}
			for range queued {
				err := <-errs
				if fail && !errors.Is(err, ErrFailed) || !fail && err != nil {
					t.Fatalf("queued append: %v", err)
				}
			}
			if fail {
				if n := g.syncs.Load(); n != 1 {
					t.Fatalf("%d fsyncs after a failed one: it was retried", n)
				}
				return
			}
			if n := g.syncs.Load(); n != 2 {
				t.Fatalf("%d fsyncs for 1 + %d queued appends, want 2", n, queued)
			}
			if err := checkReads(l, tab, 0); err != nil || l.LastZxid() != queued+1 {
				t.Fatalf("log: last %d, %v", l.LastZxid(), err)
			}
		})
	}
}

// TestCrashConcurrentAppends crashes while many goroutines append: every
// acknowledged entry survives and the log is a prefix of the arrival order.
func TestCrashConcurrentAppends(t *testing.T) {
	for seed := range uint64(4) {
		mem := vfs.NewCrashableMem()
		a := &appender{tab: newEntryTable(200)}
		c := &crasher{mem: mem, seed: seed, rng: rand.New(rand.NewPCG(seed, 1)), p: 0.04}
		var ackedAt []int64
		c.onCrash = func() {
			for range crashPercents {
				ackedAt = append(ackedAt, a.acked.Load())
			}
		}
		o := Options{FS: errorfs.Wrap(mem, c), Dir: "/log", SegmentSize: 16 << 10}
		a.l = mustOpen(t, o)
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 25 {
					if err := a.appendOne(); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		a.l.Close()
		c.mu.Lock()
		points := c.points
		c.mu.Unlock()
		for i, pt := range points {
			o.FS = pt.fs
			l, err := Open(o)
			if err != nil {
				t.Fatalf("seed %d point %d (%d%%): %v", seed, pt.n, pt.percent, err)
			}
			if err := checkReads(l, a.tab, 0); err != nil {
				t.Fatalf("seed %d point %d: %v", seed, pt.n, err)
			}
			if last := l.LastZxid(); last < ackedAt[i] {
				t.Fatalf("seed %d point %d (%d%%): log ends at %d, %d was acknowledged", seed, pt.n, pt.percent, last, ackedAt[i])
			}
			l.Close()
		}
		if len(points) == 0 {
			t.Fatalf("seed %d: no crash point", seed)
		}
	}
}
