package sim

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"syscall"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/zab"
	"github.com/embedzk/zk/zab/transport"
)

// crashPlan arms a crash of a peer at a named hook point.
type crashPlan struct {
	point string      // hooks.* point; "" when nothing is armed
	skip  int         // occurrences to let pass first
	keep  int         // percent of unsynced data the crash keeps
	after zab.MsgType // if set: only while handling a message of this type
	label string      // what the fault is called in the report
	until int64       // disarmed at this tick if it never fired
}

// fsFaultKind is what an armed file-system fault does.
type fsFaultKind uint8

const (
	fsNone  fsFaultKind = iota
	fsEIO               // the operation fails with EIO; the peer must fail-stop
	fsFull              // a write stores part of its bytes and fails with ENOSPC
	fsCrash             // the peer crashes right before the operation
	fsTorn              // a write stores part of its bytes, then the peer crashes
	fsStall             // the operation blocks for a while (a slow disk)
)

var fsFaultNames = [...]string{"none", "eio", "disk-full", "crash-at-op", "torn-write", "slow-disk"}

func (k fsFaultKind) String() string { return fsFaultNames[k] }

// fsPlan arms a file-system fault on the log and snapshot files of a peer.
type fsPlan struct {
	kind   fsFaultKind
	op     FSOpKind // the operation kind it fires on
	prefix string   // and a path prefix
	skip   int
	keep   int    // fsCrash / fsTorn: percent of unsynced data kept
	ticks  int64  // fsStall: how long
	site   string // if set: only at this call site (see callSite)
	until  int64  // disarmed at this tick if it never fired
	label  string

	// Set when it fired (fsEIO, fsFull): checked after the step.
	fired    bool
	firedOp  string
	sentThen map[transport.Link]int64
}

// logPath reports whether path belongs to the log or the snapshots (the
// files faults are injected into; the tree's Pebble files are left alone,
// since Pebble treats a failed write of its own as fatal to the process).
func logPath(path string) bool {
	return strings.HasPrefix(path, "/zk/log") || strings.HasPrefix(path, "/zk/snapshots")
}

var errDiskDead = errors.New("sim: disk gone (crashed or failed)")

// hook is Config.TestHooks.Func for every peer. It runs on the peer's
// goroutine (Queued and BetweenRequests: on a client's), while the world
// waits.
func (w *World) hook(id int64, point string) error {
	switch point {
	case hooks.Queued:
		w.checkQueued()
		return nil
	case hooks.BetweenRequests:
		w.callerTurn()
		return nil
	case hooks.BeforeAttach:
		return nil // a client's goroutine: nothing of the world to see
	}
	w.hookMu.Lock()
	p := w.byID[id]
	view, ready := p.view, p.ready
	w.hookMu.Unlock()
	if !ready {
		return nil // the first loop turn of a new incarnation: nothing to see
	}
	switch point {
	case hooks.BeforeWatchTrigger:
		w.observeApply(p, view)
	case hooks.AfterSnapInstall:
		p.snaps++
		p.snapPending = true
		w.stats.SnapInstalls++
	}
	pl := &p.plan
	if pl.point != point || w.stopping || (pl.after != 0 && !p.inbox[pl.after]) {
		return nil
	}
	if pl.skip > 0 {
		pl.skip--
		return nil
	}
	p.crashDisk = p.fs.CrashClone(pl.keep, w.cloneRNG())
	p.crashWhy = "at " + pl.label
	p.diskDead = true
	w.stats.HookCrashes[pl.label]++
	p.plan = crashPlan{}
	return hooks.ErrCrash
}

// fsHook is the file-system hook of p's disk. Pebble's goroutines call it
// too (for the tree's files), concurrently with everything: it returns at
// once for those.
func (w *World) fsHook(p *simPeer, op FSOp) *FSFault {
	if !logPath(op.Path) {
		return w.fsSabotage(p, op) // the tree's files: only a sabotage touches them
	}
	if p.diskDead {
		return &FSFault{Err: fmt.Errorf("%s %s: %w", op.Kind, op.Path, errDiskDead)}
	}
	if f := w.fsSabotage(p, op); f != nil {
		return f
	}
	if w.sites != nil {
		if site := callSite(op); w.sites[site] == 0 {
			w.sites[site] = p.id
		}
	}
	pl := &p.fsPlan
	if pl.kind == fsNone || pl.fired || w.stopping || op.Kind != pl.op || !strings.HasPrefix(op.Path, pl.prefix) ||
		(pl.site != "" && callSite(op) != pl.site) {
		return nil
	}
	if pl.skip > 0 {
		pl.skip--
		return nil
	}
	w.stats.Faults["fs-"+pl.label]++
	switch pl.kind {
	case fsEIO, fsFull:
		pl.fired, pl.firedOp = true, op.String()
		pl.sentThen = w.sentBy(p.id)
		p.diskDead = true // a disk that failed once is not trusted again
		if pl.kind == fsFull {
			return &FSFault{Err: &pathErr{op, syscall.ENOSPC}, Partial: w.rng.IntN(op.Size + 1)}
		}
		return &FSFault{Err: &pathErr{op, syscall.EIO}}
	case fsCrash, fsTorn:
		partial := 0
		if pl.kind == fsTorn {
			partial = 1 + w.rng.IntN(max(1, op.Size))
		}
		keep := pl.keep
		*pl = fsPlan{}
		p.diskDead = true
		if partial > 0 {
			// The torn write lands first; the crash clones after it.
			p.crashWhy = "torn write of " + op.Path
			p.tornKeep = keep
			return &FSFault{Err: &pathErr{op, syscall.EIO}, Partial: partial}
		}
		p.crashDisk = p.fs.CrashClone(keep, w.cloneRNG())
		p.crashWhy = "crash before " + op.String()
		return &FSFault{Err: &pathErr{op, errDiskDead}}
	case fsStall:
		p.stallEnds = w.now + pl.ticks
		*pl = fsPlan{}
		release := make(chan struct{})
		p.releaseC = release
		p.stallC <- struct{}{}
		<-release
		if p.diskDead {
			return &FSFault{Err: &pathErr{op, errDiskDead}}
		}
	}
	return nil
}

// pathErr is an *os.PathError-like error carrying an errno.
type pathErr struct {
	op  FSOp
	err error
}

func (e *pathErr) Error() string { return e.op.String() + ": " + e.err.Error() }
func (e *pathErr) Unwrap() error { return e.err }

// sentBy returns how many frames p has sent on each of its links so far.
func (w *World) sentBy(id int64) map[transport.Link]int64 {
	out := map[transport.Link]int64{}
	for l, s := range w.net.Stats() {
		if l.From == id {
			out[l] = s.Sent + s.Refused
		}
	}
	return out
}

// callSite names the code that asked for a file operation: the operation,
// the wal function that made it, and the first function outside wal that
// called wal ("sync wal.(*Log).syncNewEntries <- engine.(*peer).persist").
func callSite(op FSOp) string {
	var pcs [40]uintptr
	n := runtime.Callers(3, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	var walFn string
	for {
		f, more := frames.Next()
		fn := strings.TrimPrefix(strings.TrimPrefix(f.Function, "github.com/embedzk/zk/"), "internal/")
		switch {
		case strings.HasPrefix(fn, "wal."):
			if walFn == "" {
				walFn = fn
			}
		case walFn != "":
			return fmt.Sprintf("%v %s <- %s", op.Kind, walFn, strings.TrimPrefix(fn, "github.com/embedzk/"))
		}
		if !more {
			return fmt.Sprintf("%v %s", op.Kind, walFn)
		}
	}
}
