package sim

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	zk "github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/hooks"
)

var flagCrashWrites = flag.Int("crashwrites", 40, "TestCrashAfterEveryMutation: acknowledged writes of the workload")

// crashPoint is the disk a crash right before one file-system mutation of
// the log or snapshots would leave (that is, right after the previous one).
type crashPoint struct {
	n     int
	op    FSOp
	acked int // writes acknowledged before it
	keep  int
	disk  *MemFS
}

// standaloneConfig is a stepped standalone peer on fs that rolls log
// segments and snapshots often and purges after every apply.
func standaloneConfig(fs *MemFS, seed uint64, view *hooks.View) zk.Config {
	cfg := zk.Config{
		DataDir: "/zk", FS: fs, ManualClock: true, TickTime: TickTime,
		Rand:      &seededReader{rand.New(rand.NewPCG(seed, 7))},
		SnapCount: 8, PurgeInterval: time.Nanosecond,
		TestHooks: &hooks.Hooks{Stepped: true, SegmentSize: 1 << 10, Attach: func(v hooks.View) { *view = v }},
	}
	return cfg
}

// drive runs fn (a blocking call) while it lets the stepped peer work.
func drive(t *testing.T, e *zk.Ensemble, fn func(ctx context.Context) error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	for {
		select {
		case err := <-done:
			return err
		default:
		}
		if err := e.Barrier(ctx); err != nil {
			return err
		}
	}
}

// TestCrashAfterEveryMutation records every file-system mutation of the log
// and snapshot files of a standalone peer's workload (appends, segment
// rolls, snapshots, purges, the epoch file), and crashes right after each
// one: with only synced bytes kept, and with a seeded random part of the
// unsynced ones kept. Each crashed disk must recover: every acknowledged
// write is there, the writes present are a prefix of those issued, the
// log is a prefix of the log written, the epoch file is consistent.
func TestCrashAfterEveryMutation(t *testing.T) {
	const seed = 1
	rng := rand.New(rand.NewPCG(seed, 1))
	fs := NewMemFS()
	var mu sync.Mutex
	var points []crashPoint
	acked := 0
	fs.SetHook(func(op FSOp) *FSFault {
		if !op.Kind.Mutating() || !logPath(op.Path) {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		n := len(points) / 2
		points = append(points, crashPoint{n: n, op: op, acked: acked, keep: 0, disk: fs.CrashClone(0, nil)},
			crashPoint{n: n, op: op, acked: acked, keep: 50, disk: fs.CrashClone(50, rng)})
		return nil
	})
	var view hooks.View
	e, err := zk.NewEnsemble(standaloneConfig(fs, seed, &view))
	if err != nil {
		t.Fatal(err)
	}
	var s *zk.Session
	if err := drive(t, e, func(ctx context.Context) (err error) {
		if err = e.WaitServing(ctx); err == nil {
			s, err = e.NewSession(ctx)
		}
		if err == nil {
			_, err = s.Create(ctx, "/a", nil)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	orig := logOf(t, view) // every entry ever logged (purges remove some)
	for i := 0; i < *flagCrashWrites; i++ {
		err := drive(t, e, func(ctx context.Context) error {
			_, err := s.Create(ctx, fmt.Sprintf("/a/n%06d", i), make([]byte, 100+i))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		acked++
		mu.Unlock()
		maps.Copy(orig, logOf(t, view))
	}
	fs.SetHook(nil)
	e.Close()
	points = append(points, crashPoint{n: len(points) / 2, op: FSOp{Path: "(end)"}, acked: acked, disk: fs.CrashClone(0, nil)})
	t.Logf("%d crash points (%d log and snapshot mutations), %d writes", len(points), len(points)/2, acked)
	for _, cp := range points {
		checkRecovery(t, cp, orig, acked)
	}
}

// logOf returns the entries of e's log by zxid.
func logOf(t *testing.T, v hooks.View) map[int64]string {
	t.Helper()
	out := map[int64]string{}
	after := v.LogBase()
	for {
		ents, err := v.LogEntries(after, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) == 0 {
			return out
		}
		for _, en := range ents {
			out[en.Zxid] = string(en.Data)
		}
		after = ents[len(ents)-1].Zxid
	}
}

// checkRecovery opens the crashed disk of cp and checks what it holds.
func checkRecovery(t *testing.T, cp crashPoint, orig map[int64]string, issued int) {
	t.Helper()
	where := fmt.Sprintf("crash before mutation %d (%v), keeping %d%% of unsynced data", cp.n, cp.op, cp.keep)
	var view hooks.View
	cfg := standaloneConfig(cp.disk, 99, &view)
	e, err := zk.NewEnsemble(cfg)
	if err != nil {
		t.Errorf("%s: recovery failed: %v", where, err)
		return
	}
	defer e.Close()
	checkRecoveredLog(t, where, e, view, orig)
	var names []string
	err = drive(t, e, func(ctx context.Context) error {
		if err := e.WaitServing(ctx); err != nil {
			return err
		}
		s, err := e.NewSession(ctx)
		if err != nil {
			return err
		}
		names, _, err = s.Children(ctx, "/a")
		if errors.Is(err, zk.ErrNoNode) {
			err = nil
		}
		return err
	})
	if err != nil {
		t.Errorf("%s: after recovery: %v", where, err)
		return
	}
	for i, name := range names {
		if want := fmt.Sprintf("n%06d", i); name != want || i >= issued {
			t.Errorf("%s: child %d is %s: not a prefix of the writes", where, i, name)
			return
		}
	}
	if len(names) < cp.acked {
		t.Errorf("%s: %d writes survived, %d were acknowledged", where, len(names), cp.acked)
	}
	if acc, cur := view.LogState(); cur > acc {
		t.Errorf("%s: current epoch %d above accepted epoch %d", where, cur, acc)
	}

}

// checkRecoveredLog checks the log a crashed disk recovered, before the
// peer writes anything: each entry is the one written, the entries are
// consecutive entries of the log written, the tree is not beyond them.
func checkRecoveredLog(t *testing.T, where string, e *zk.Ensemble, view hooks.View, orig map[int64]string) {
	t.Helper()
	if err := e.Barrier(context.Background()); err != nil { // the loop's first turn
		t.Fatal(err)
	}
	last := view.LogBase()
	var kept []int64
	for z, data := range logOf(t, view) {
		last = max(last, z)
		if want, ok := orig[z]; ok {
			kept = append(kept, z)
			if want != data {
				t.Errorf("%s: log entry %#x differs from the one written", where, z)
			}
		}
	}
	checkContiguous(t, where, kept, orig)
	if applied, _ := view.Applied(); applied > last {
		t.Errorf("%s: the tree (%#x) is beyond the log (%#x)", where, applied, last)
	}
}

// checkContiguous checks that the recovered entries kept are consecutive
// entries of the log written (a prefix after the recovered base).
func checkContiguous(t *testing.T, where string, kept []int64, orig map[int64]string) {
	t.Helper()
	all := slices.Sorted(maps.Keys(orig))
	slices.Sort(kept)
	if len(kept) == 0 {
		return
	}
	i, _ := slices.BinarySearch(all, kept[0])
	for j, z := range kept {
		if i+j >= len(all) || all[i+j] != z {
			t.Errorf("%s: the recovered log has a gap before %#x", where, z)
			return
		}
	}
}
