package sim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	zk "github.com/embedzk/zk"
)

// opKind is what a client call does.
type opKind uint8

const (
	opNewSession opKind = iota + 1
	opReattach
	opClose
	opExpire
	opCreate
	opSet
	opDelete
	opMulti
	opGet
	opExists
	opChildren
	opSyncGet
	opGetW
	opExistsW
	opChildrenW
	opAddWatch
	opCheck // only inside a multi
	opBad   // a bad request (badinput.go)
	opReconfig
)

var opNames = [...]string{"?", "newsession", "reattach", "close", "expire", "create", "set", "delete", "multi",
	"get", "exists", "children", "syncget", "getw", "existsw", "childrenw", "addwatch", "check", "bad", "reconfig"}

func (k opKind) String() string { return opNames[k] }

// write reports whether the call proposes a txn of the register workload.
func (k opKind) write() bool { return k == opCreate || k == opSet || k == opDelete || k == opMulti }

// plainRead reports whether the call reads the local tree without a Sync.
func (k opKind) plainRead() bool {
	switch k {
	case opGet, opExists, opChildren, opGetW, opExistsW, opChildrenW:
		return true
	}
	return false
}

// mop is one operation of a multi.
type mop struct {
	kind      opKind // opCreate, opSet, opDelete or opCheck
	path      string
	data      string
	version   int32
	ephemeral bool // a create: ephemeral (worlds with local sessions)
}

// String is how the trace shows m: as fmt shows the struct's fields (the
// kind as a number), so that the hashes of the worlds without local
// sessions stay what they were.
func (m mop) String() string {
	if m.ephemeral {
		return fmt.Sprintf("{%d %s %s %d ephemeral}", m.kind, m.path, m.data, m.version)
	}
	return fmt.Sprintf("{%d %s %s %d}", m.kind, m.path, m.data, m.version)
}

// outcome is what the client learnt about a call.
type outcome uint8

const (
	outOK      outcome = iota + 1
	outFailed          // definitely did not happen (with a ZooKeeper error, or refused before leaving)
	outUnknown         // may or may not have happened
)

// opRecord is one client call, its result, and what the checks found.
type opRecord struct {
	id       int
	c        *client
	kind     opKind
	peer     *simPeer
	inc      int // the peer's incarnation when it started
	handle   int // the client's handle it went through
	ens      *zk.Ensemble
	sess     *zk.Session
	sid      int64 // the session the call runs in
	target   int64 // expire: the session to expire; a bad Reattach: the session it names
	password []byte
	timeout  time.Duration

	path     string
	data     string
	mode     zk.CreateMode
	ttl      time.Duration
	version  int32
	multi    []mop
	skipSync bool // SabotageSkipSync
	bad      badKind
	badArg   int         // what varies within the bad kind
	dead     *zk.Session // badDeadSession: a closed or expired handle
	reconfig zk.ReconfigRequest

	call, ret  int64 // event times
	callTick   int64
	applied    int64 // the peer's applied zxid when the call started (a plain read reads exactly it)
	gid        int64
	done       chan struct{}
	cancel     context.CancelFunc
	cancelTick int64

	// A Sync+Get waits for its turn between its halves (turn.go): turn
	// is closed by the world (turnGiven), atTurn set by the call's
	// goroutine when it waits.
	turn      chan struct{}
	atTurn    atomic.Bool
	turnGiven bool
	// launched is set once the world has seen the call return or park
	// after its start: from then on it may queue a request for a peer only
	// in its turn (turn.go, checkQueued).
	launched  atomic.Bool
	worldDone <-chan struct{} // the world's context's: closed only by close

	// Written by the call's goroutine before done is closed.
	err      error
	rPath    string
	stat     zk.Stat
	rData    []byte
	exists   bool
	children []string
	multiRes []zk.OpResult
	watchC   <-chan zk.Event
	pw       *zk.Watch
	newSess  *zk.Session

	// Filled in after it returned.
	out     outcome
	errName string
	zxid    int64 // the committed txn it was matched to (writes)
	matched bool
}

func (op *opRecord) finished() bool { return isClosed(op.done) }

// isClosed reports, without waiting, whether ch is closed (the signal
// channels of a call are only ever closed).
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (op *opRecord) String() string {
	return fmt.Sprintf("op%d(c%d %v %s on %d)", op.id, op.c.id, op.kind, op.path, op.peer.id)
}

// exec makes the call, on the call's own goroutine.
func (op *opRecord) exec(ctx context.Context) {
	s := op.sess
	data := []byte(op.data)
	switch op.kind {
	case opNewSession:
		op.newSess, op.err = op.ens.NewSession(ctx, op.sessionOpts(zk.WithSessionTimeout(op.timeout))...)
	case opReattach:
		op.newSess, op.err = op.ens.Reattach(ctx, op.sid, op.password, op.sessionOpts()...)
	case opClose:
		op.err = s.Close(ctx)
	case opExpire:
		op.err = op.ens.ExpireSession(ctx, op.target)
	case opCreate:
		opts := []zk.CreateOption{zk.WithMode(op.mode), zk.WithStat(&op.stat)}
		if op.ttl > 0 {
			opts = append(opts, zk.WithTTL(op.ttl))
		}
		op.rPath, op.err = s.Create(ctx, op.path, data, opts...)
	case opSet:
		op.stat, op.err = s.Set(ctx, op.path, data, op.version)
	case opDelete:
		op.err = s.Delete(ctx, op.path, op.version)
	case opMulti:
		op.multiRes, op.err = s.Multi(ctx, op.zkOps()...)
	case opGet:
		op.rData, op.stat, op.err = s.Get(ctx, op.path)
		op.exists = op.err == nil
	case opExists:
		op.exists, op.stat, op.err = s.Exists(ctx, op.path)
	case opChildren:
		op.children, op.stat, op.err = s.Children(ctx, op.path)
	case opSyncGet:
		if op.skipSync {
			op.rData, op.stat, op.err = s.Get(ctx, op.path)
			op.exists = op.err == nil
			return
		}
		if op.err = s.Sync(ctx, op.path); op.err == nil {
			op.waitTurn()
			op.rData, op.stat, op.err = s.Get(ctx, op.path)
			op.exists = op.err == nil
		}
	case opGetW:
		op.rData, op.stat, op.watchC, op.err = s.GetW(ctx, op.path)
		op.exists = op.err == nil
	case opExistsW:
		op.exists, op.stat, op.watchC, op.err = s.ExistsW(ctx, op.path)
	case opChildrenW:
		op.children, op.stat, op.watchC, op.err = s.ChildrenW(ctx, op.path)
	case opAddWatch:
		op.pw, op.err = s.AddWatch(ctx, op.path, true)
	case opBad:
		op.execBad(ctx)
	case opReconfig:
		_, op.err = op.ens.Reconfig(ctx, op.reconfig)
	}
}

// zkOps builds the multi's operations.
func (op *opRecord) zkOps() []zk.Op {
	out := make([]zk.Op, len(op.multi))
	for i, m := range op.multi {
		switch m.kind {
		case opCreate:
			if m.ephemeral {
				out[i] = zk.CreateOp(m.path, []byte(m.data), zk.WithMode(zk.ModeEphemeral))
				break
			}
			out[i] = zk.CreateOp(m.path, []byte(m.data))
		case opSet:
			out[i] = zk.SetOp(m.path, []byte(m.data), m.version)
		case opDelete:
			out[i] = zk.DeleteOp(m.path, m.version)
		default:
			out[i] = zk.CheckOp(m.path, m.version)
		}
	}
	return out
}

// classify sorts a call's error into what the client learnt.
func classify(err error) (outcome, string) {
	switch {
	case err == nil:
		return outOK, ""
	case errors.Is(err, zk.ErrOutcomeUnknown), errors.Is(err, context.Canceled):
		return outUnknown, "unknown"
	case errors.Is(err, zk.ErrNoNode):
		return outFailed, "nonode"
	case errors.Is(err, zk.ErrNodeExists):
		return outFailed, "exists"
	case errors.Is(err, zk.ErrBadVersion):
		return outFailed, "badversion"
	case errors.Is(err, zk.ErrNotEmpty):
		return outFailed, "notempty"
	case errors.Is(err, zk.ErrNoChildrenForEphemerals):
		return outFailed, "ephemeral-parent"
	case errors.Is(err, zk.ErrSessionExpired):
		return outFailed, "expired"
	case errors.Is(err, zk.ErrNotServing):
		return outFailed, "notserving"
	case errors.Is(err, zk.ErrEphemeralOnLocalSession):
		return outFailed, "ephemeral-local"
	case errors.Is(err, zk.ErrNotReadOnly):
		return outFailed, "notreadonly"
	case errors.Is(err, zk.ErrClosed):
		return outFailed, "closed"
	case errors.Is(err, zk.ErrConnectionLoss):
		return outUnknown, "connloss"
	case errors.Is(err, zk.ErrSessionMoved):
		return outFailed, "moved" // refused by the leader: nothing committed
	}
	return outUnknown, "other:" + firstLine(err.Error())
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// launch starts op on its goroutine and waits until it returned or parked.
func (w *World) launch(op *opRecord) {
	op.id = w.nextOp
	w.nextOp++
	op.call, op.callTick = w.stamp(), w.now
	op.inc = op.peer.inc
	op.ens = op.peer.ens
	op.applied, _ = op.peer.view.Applied()
	op.skipSync = w.opts.Sabotage == SabotageSkipSync
	op.c.op = op
	op.handle = op.c.handle
	w.pollWatches(op.c) // what the session was told before this call
	if op.kind.plainRead() {
		w.beforeRead(op.c, op.applied)
	}
	w.roLaunch(op)
	w.lsLaunch(op)
	ctx, cancel := context.WithCancel(w.ctx)
	op.cancel = cancel
	op.done = make(chan struct{})
	op.turn = make(chan struct{})
	op.worldDone = w.ctx.Done()
	gidC := make(chan int64, 1)
	go func() {
		gid := goid()
		w.callers.Store(gid, op)
		gidC <- gid
		op.exec(ctx)
		w.callers.Delete(gid)
		close(op.done)
	}()
	op.gid = <-gidC
	w.outstanding = append(w.outstanding, op)
	w.stats.Ops++
	w.trace.line(w.now, "call %v t=%d data=%q v=%d mode=%d multi=%v bad=%v/%d at=%#x", op, op.call, op.data, op.version, op.mode, op.multi,
		op.bad, op.badArg, op.applied)
	w.settleOrFail()
	op.launched.Store(true)
}

// reap takes the calls that returned out of the outstanding list, in the
// order they started, and records their results.
func (w *World) reap() {
	kept := w.outstanding[:0]
	var done []*opRecord
	for _, op := range w.outstanding {
		if op.finished() {
			done = append(done, op)
		} else {
			kept = append(kept, op)
		}
	}
	clear(w.outstanding[len(kept):])
	w.outstanding = kept
	for _, op := range done {
		op.ret = w.stamp()
		op.cancel()
		op.out, op.errName = classify(op.err)
		if op.kind == opBad {
			w.judgeBad(op)
		}
		if w.opts.Sabotage == SabotageTamperRead && op.kind == opGet && op.err == nil {
			op.rData = append(op.rData, '!')
		}
		w.roReturned(op)
		w.lsReturned(op)
		if op.out == outOK {
			w.stats.OpsOK++
		}
		if op.out == outUnknown {
			w.stats.OpsUnknown++
		}
		w.trace.line(w.now, "ret %v t=%d err=%s path=%s data=%q v=%d ex=%v kids=%d", op, op.ret, op.errName, op.rPath,
			op.rData, op.stat.Version, op.exists, len(op.children))
		w.history = append(w.history, op)
		if op.kind == opReconfig {
			w.reconfigReturned(op)
			continue
		}
		op.c.returned(op)
	}
}

// cancelStale cancels calls that waited longer than their client's patience
// (a client-side timeout): their outcome is unknown.
func (w *World) cancelStale() {
	n := 0
	for _, op := range w.outstanding {
		if op.cancelTick > 0 && w.now >= op.cancelTick {
			op.cancel()
			op.cancelTick = 0
			n++
		}
	}
	if n > 0 {
		w.settleOrFail()
	}
}
