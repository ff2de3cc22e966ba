package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/examples/internal/demo"
)

// dataDir is where the walk-through writes.
const dataDir = "/walkthrough"

// write is a write the walk-through made.
type write struct {
	path, data string
	through    string // the server it went through
	zxid       int64  // 0: refused
	err        error
}

// leaderFact is who led after a step, for the summary and the proof.
type leaderFact struct {
	step   string
	leader int64 // 0: nobody serves
	epoch  int64
	note   string
}

// walk is one run of the walk-through.
type walk struct {
	o      options
	out    *demo.Narrator
	c      *cluster
	voters int
	writes []write
	facts  []leaderFact
	held   *zk.Session // a session on server.2 kept across its loss of quorum
}

func newWalk(o options, w io.Writer) *walk {
	return &walk{o: o, out: demo.NewNarrator(w, 9)}
}

func (w *walk) intro() {
	w.out.Title("Cluster walk-through: the seeds' 3-server ensemble, server by server",
		"Three zk servers run in this process, each with its own data directory and quorum port on 127.0.0.1, "+
			"as the seeds' pseudo-cluster runs three ZooKeeper processes on one machine. They are started and "+
			"stopped one at a time, as with zkServer.sh start and stop, and after each step every server's status "+
			"is printed as zkServer.sh status prints it (a server that does not serve answers nothing: \"Error "+
			"contacting service\"). Elections are narrated from the servers' own logs (Config.Logger).")
	lines := w.c.zooCfg()
	text := fmt.Sprintf("zoo.cfg, the same on every server: tickTime=%d initLimit=10 syncLimit=5", w.o.tick.Milliseconds())
	w.out.Line("  %s", text)
	for _, l := range lines {
		w.out.Line("    %s", l)
	}
	w.out.Line("")
}

// run runs the walk-through and reports whether its proof holds.
func (w *walk) run(ctx context.Context) (bool, error) {
	c, err := newCluster(w.o.tick, w.o.observer)
	if err != nil {
		return false, err
	}
	defer c.close()
	w.c, w.voters = c, 3
	w.intro()
	defer func() {
		if w.held != nil {
			w.held.Close(context.Background())
		}
	}()
	steps := []func(context.Context) error{w.startFirst, w.startSecond, w.startThird, w.writeRead,
		w.stopFollower, w.stopSecondFollower, w.restartFollower, w.stopLeader, w.restartOldLeader}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return false, err
		}
	}
	return w.prove(ctx)
}

// step prints a step's heading and narration.
func (w *walk) step(n int, title, text string) {
	w.out.Line("(%d) %s", n, title)
	w.out.Para(text)
}

// status prints every server's status as zkServer.sh status would.
func (w *walk) status() {
	w.out.Line("  zkServer.sh status:")
	for _, s := range w.c.servers {
		w.out.Line("    %s  %s", s.name(), statusLine(w.c, s.id))
	}
	w.out.Line("")
}

// statusLine is what zkServer.sh status says of server id, with zk's
// Status in a few words.
func statusLine(c *cluster, id int64) string {
	st, running := c.status(id)
	const down = "Error contacting service. It is probably not running."
	switch {
	case !running:
		return down + "  [stopped]"
	case !st.Serving:
		return fmt.Sprintf("%s  [running, not serving: %s]", down, st.Why)
	case st.Mode == zk.ModeLeading:
		return fmt.Sprintf("Mode: leader    epoch %d, zxid %s; %s", st.Epoch, demo.Token(st.LastZxid), learners(st))
	case st.Mode == zk.ModeFollowing:
		return fmt.Sprintf("Mode: follower  epoch %d, zxid %s, leader server.%d", st.Epoch, demo.Token(st.LastZxid), st.Leader)
	case st.Mode == zk.ModeObserving:
		return fmt.Sprintf("Mode: observer  epoch %d, zxid %s, leader server.%d", st.Epoch, demo.Token(st.LastZxid), st.Leader)
	}
	return "Mode: " + st.Mode.String()
}

// learners describes a leader's learners and their lag.
func learners(st zk.Status) string {
	if len(st.Learners) == 0 {
		return "no learners"
	}
	s := "learners:"
	for i, l := range st.Learners {
		if i > 0 {
			s += ","
		}
		kind := ""
		if l.Observer {
			kind = " (observer)"
		}
		s += fmt.Sprintf(" %d%s lag %d", l.ID, kind, l.LagTxns)
	}
	return s
}

// startServer starts server id and says so.
func (w *walk) startServer(id int64) error {
	w.out.Event("zkServer.sh start %s", w.c.server(id).name())
	return w.c.start(id)
}

// stopServer stops server id and says so.
func (w *walk) stopServer(id int64) {
	w.out.Event("zkServer.sh stop %s", w.c.server(id).name())
	w.c.stop(id)
}

// fact records who leads after a step.
func (w *walk) fact(step, note string) {
	f := leaderFact{step: step, note: note}
	for _, s := range w.c.servers {
		if st, ok := w.c.status(s.id); ok && st.Serving && st.Mode == zk.ModeLeading {
			f.leader, f.epoch = s.id, st.Epoch
		}
	}
	w.facts = append(w.facts, f)
}

// callBound bounds a call: a server that serves answers in milliseconds,
// one that does not refuses at once; the bound only keeps a stuck call
// from hanging the walk-through.
const callBound = 10 * time.Second

// writeThrough creates a node through server id and records the outcome.
func (w *walk) writeThrough(ctx context.Context, sess *zk.Session, id int64, data string) write {
	wr := write{path: fmt.Sprintf("%s/w-%d", dataDir, len(w.writes)+1), data: data, through: w.c.server(id).name()}
	var st zk.Stat
	cctx, cancel := context.WithTimeout(ctx, callBound)
	defer cancel()
	_, wr.err = sess.Create(cctx, wr.path, []byte(data), zk.WithParents(), zk.WithStat(&st))
	if wr.err == nil {
		wr.zxid = st.Czxid
		w.out.Row("client", fmt.Sprintf("create %s %q through %s: done, zxid %s", wr.path, data, wr.through, demo.Token(wr.zxid)))
	} else {
		w.out.Row("client", fmt.Sprintf("create %s %q through %s: FAILS: %v", wr.path, data, wr.through, wr.err))
	}
	w.writes = append(w.writes, wr)
	return wr
}

// session opens a session on server id (serving).
func (w *walk) session(ctx context.Context, id int64) (*zk.Session, error) {
	e := w.c.ensemble(id)
	if e == nil {
		return nil, fmt.Errorf("%s is stopped", w.c.server(id).name())
	}
	var s *zk.Session
	err := demo.Retry(ctx, func() (err error) {
		s, err = e.NewSession(ctx)
		return err
	})
	return s, err
}

// writeOnce writes through a new session on server id, which must serve.
func (w *walk) writeOnce(ctx context.Context, id int64, data string) error {
	sess, err := w.session(ctx, id)
	if err != nil {
		return err
	}
	defer sess.Close(ctx)
	if wr := w.writeThrough(ctx, sess, id, data); wr.err != nil {
		return fmt.Errorf("a write through serving %s: %w", wr.through, wr.err)
	}
	return nil
}

// refused reports whether err says, clearly, that nothing was done.
func refused(err error) bool {
	return errors.Is(err, zk.ErrNotServing) && !errors.Is(err, zk.ErrOutcomeUnknown)
}

// since formats the time from t to now.
func since(t time.Time) string { return demo.Stamp(time.Since(t)) }
