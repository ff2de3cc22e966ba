//go:build unix

package proctest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	zk "github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/lincheck"
)

// workload is the client load of one peer process: Clients goroutines, each
// with its own session, logging every operation to the op log.
type workload struct {
	spec peerSpec
	ens  *zk.Ensemble
	ops  *opLog
	// ctx ends at stop: clients start nothing new (operations in flight
	// keep their own deadline, so stopping makes no outcome unknown).
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	nOps, nAcked, lastAck atomic.Int64
}

func startWorkload(spec peerSpec, ens *zk.Ensemble, ops *opLog) *workload {
	w := &workload{spec: spec, ens: ens, ops: ops}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	for i := 0; i < spec.Work.Clients; i++ {
		name := fmt.Sprintf("p%d.i%d.c%d", spec.ID, spec.Incarnation, i)
		seed := uint64(spec.Seed) ^ uint64(spec.ID)<<48 ^ uint64(spec.Incarnation)<<32 ^ uint64(i)
		c := &client{w: w, name: name, rng: rand.New(rand.NewPCG(seed, 0x70726f63)), versions: map[string]int32{}}
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			c.run()
		}()
	}
	return w
}

// stop ends the workload: every client finishes its operation in flight
// (each is bounded by OpTimeout), closes its session and returns.
func (w *workload) stop() {
	w.cancel()
	w.wg.Wait()
}

// pause waits d, or less if the workload stops; it reports whether to go on.
func (w *workload) pause(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-w.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// client is one goroutine of the workload.
type client struct {
	w        *workload
	name     string
	rng      *rand.Rand
	sess     *zk.Session
	n        int64            // operations issued
	versions map[string]int32 // the version last seen of each key
	dirs     int              // how many of the workload's directories are known to exist
	dead     *zk.Session      // a session this client closed, for bad requests
}

var workloadDirs = []string{keysDir, uniqueDir, seqDir}

func (c *client) run() {
	defer c.closeSession()
	for c.w.pause(time.Duration(c.rng.Int64N(int64(c.w.spec.Work.Think) + 1))) {
		if c.sess == nil && !c.connect() {
			continue
		}
		c.step()
	}
}

// connect opens a session; it gives up (to be retried) after OpTimeout.
func (c *client) connect() bool {
	ctx, cancel := context.WithTimeout(c.w.ctx, c.w.spec.Work.OpTimeout)
	defer cancel()
	s, err := c.w.ens.NewSession(ctx, zk.WithSessionTimeout(c.w.spec.Work.SessionTimeout))
	if err != nil {
		return false
	}
	c.sess = s
	return true
}

func (c *client) closeSession() {
	if c.sess == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.w.spec.Work.OpTimeout)
	defer cancel()
	c.sess.Close(ctx) // best effort: an unclosed session expires
	c.sess = nil
}

// step runs one operation, logged before and after.
func (c *client) step() {
	rec := c.choose()
	c.n++
	rec.Ev, rec.Client, rec.Op, rec.Session = eventCall, c.name, c.n, c.sess.ID()
	rec.Time = time.Now().UnixNano()
	if err := c.w.ops.write(rec); err != nil {
		fmt.Fprintf(os.Stderr, "proctest: op log: %v\n", err)
		os.Exit(1)
	}
	ret := c.do(rec)
	ret.Ev, ret.Client, ret.Op, ret.Session, ret.Kind, ret.Path = eventReturn, c.name, c.n, rec.Session, rec.Kind, rec.Path
	ret.Time = time.Now().UnixNano()
	if err := c.w.ops.write(ret); err != nil {
		fmt.Fprintf(os.Stderr, "proctest: op log: %v\n", err)
		os.Exit(1)
	}
	c.w.nOps.Add(1)
	if ret.Class == classOK && rec.Kind != kindRead {
		c.w.nAcked.Add(1)
		for last := c.w.lastAck.Load(); rec.Time > last && !c.w.lastAck.CompareAndSwap(last, rec.Time); last = c.w.lastAck.Load() {
		}
	}
	c.learn(rec, ret)
	// An unresolved write must stay its session's last: start a new one.
	unresolved := rec.Kind != kindRead && ret.Class != classOK && ret.Class != classZKFail && ret.Class != classRefused
	if unresolved || c.sess.State() == zk.StateExpired || c.sess.State() == zk.StateClosed {
		c.sess = nil
	}
}

// choose picks the next operation.
func (c *client) choose() record {
	if c.dirs < len(workloadDirs) {
		return record{Kind: kindCreate, Path: workloadDirs[c.dirs]}
	}
	key := fmt.Sprintf("%s/%d", keysDir, c.rng.IntN(c.w.spec.Work.Keys))
	data := fmt.Sprintf("%s.%d", c.name, c.n+1)
	version := int32(-1)
	if v, ok := c.versions[key]; ok && c.rng.IntN(2) == 0 {
		version = v
	}
	if c.w.spec.Work.Bad && c.rng.IntN(100) < 8 {
		return c.chooseBad(key, data)
	}
	r := c.rng.IntN(100)
	if c.w.spec.Work.Unique {
		if r < 40 {
			return record{Kind: kindUnique, Path: uniqueDir + "/" + data, Data: data}
		}
		r = (r - 40) * 100 / 60 // the rest shares the mix below
	}
	switch {
	case r < 30:
		return record{Kind: kindRead, Path: key}
	case r < 60:
		return record{Kind: kindSet, Path: key, Data: data, Version: version}
	case r < 75:
		return record{Kind: kindCreate, Path: key, Data: data}
	case r < 87:
		return record{Kind: kindDelete, Path: key, Version: version}
	}
	return record{Kind: kindSeq, Path: seqPrefix, Data: data}
}

// do runs the operation and returns its completion record.
func (c *client) do(rec record) record {
	ctx, cancel := context.WithTimeout(context.Background(), c.w.spec.Work.OpTimeout)
	defer cancel()
	if rec.Kind == kindBad {
		return c.doBad(ctx, rec)
	}
	s := c.sess
	var ret record
	var err error
	switch rec.Kind {
	case kindCreate, kindUnique:
		ret.Created, err = s.Create(ctx, rec.Path, []byte(rec.Data))
	case kindSeq:
		ret.Created, err = s.Create(ctx, rec.Path, []byte(rec.Data), zk.WithMode(zk.ModePersistentSequential))
	case kindSet:
		var st zk.Stat
		st, err = s.Set(ctx, rec.Path, []byte(rec.Data), rec.Version)
		ret.NewVersion = st.Version
	case kindDelete:
		err = s.Delete(ctx, rec.Path, rec.Version)
	case kindRead:
		if err = s.Sync(ctx, rec.Path); err == nil {
			var data []byte
			var st zk.Stat
			data, st, err = s.Get(ctx, rec.Path)
			if err == nil {
				ret.Exists, ret.ReadData, ret.NewVersion = true, string(data), st.Version
			}
		}
	}
	ret.Class, ret.Code = classify(err)
	if err != nil {
		ret.Err = err.Error()
	}
	return ret
}

// classify sorts an operation's error into the outcome classes; code is
// lincheck's name of a ZooKeeper result error.
func classify(err error) (class, code string) {
	switch {
	case err == nil:
		return classOK, lincheck.OK
	case errors.Is(err, zk.ErrNoNode):
		return classZKFail, lincheck.NoNode
	case errors.Is(err, zk.ErrNodeExists):
		return classZKFail, lincheck.NodeExists
	case errors.Is(err, zk.ErrBadVersion):
		return classZKFail, lincheck.BadVersion
	case errors.Is(err, zk.ErrOutcomeUnknown), // not ErrConnectionLoss: ErrNotServing matches it too
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return classUnknown, ""
	}
	return classOther, ""
}

// learn keeps the client's idea of each key's version, for CAS.
func (c *client) learn(rec, ret record) {
	if rec.Kind == kindCreate && c.dirs < len(workloadDirs) && rec.Path == workloadDirs[c.dirs] {
		if ret.Class == classOK || ret.Class == classZKFail {
			c.dirs++
		}
		return
	}
	switch {
	case ret.Class == classOK && rec.Kind == kindCreate:
		c.versions[rec.Path] = 0
	case ret.Class == classOK && (rec.Kind == kindSet || rec.Kind == kindRead):
		c.versions[rec.Path] = ret.NewVersion
	case ret.Class == classOK && rec.Kind == kindDelete:
		delete(c.versions, rec.Path)
	case ret.Class == classZKFail:
		delete(c.versions, rec.Path)
	}
}
