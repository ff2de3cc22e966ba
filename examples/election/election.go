package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/examples/internal/demo"
)

// The nodes of the demo: the selector's queue and the jobs' records.
const (
	electionPath = "/election/scheduler"
	jobsDir      = "/election/jobs"
)

// killKind is how a leader is killed.
type killKind int

const (
	kill9 killKind = iota // its process stops; its session expires
	quit                  // its process exits, closing its session
	crash                 // the peer its session is attached to crashes
)

func (k killKind) String() string {
	return [...]string{"kill -9", "quit", "peer crash"}[k]
}

// plan returns how the leader of term n (from 1) is killed: kill -9 and
// quit in turn; with several peers, a peer crash comes second.
func (e *election) plan(n int) killKind {
	if !e.cl.Standalone() {
		if n == 2 {
			return crash
		}
		if n > 2 {
			n--
		}
	}
	if n%2 == 1 {
		return kill9
	}
	return quit
}

// term is one leadership, as the demo saw it.
type term struct {
	n       int
	c       *wconn // the leader's incarnation
	token   int64
	start   time.Duration
	end     time.Duration // 0 while it lasts
	jobs    int           // jobs recorded
	unknown int           // job writes of unknown outcome
	endedBy string

	stopOnce sync.Once
	stopped  chan struct{} // closed when the leader does no more work
}

// election is one run of the demo.
type election struct {
	o   options
	out *demo.Narrator
	cl  *demo.Cluster

	mu         sync.Mutex
	terms      []*term
	open       *term // the term that lasts, if any
	overlaps   int   // terms begun while another lasted
	changed    demo.Changes
	finish     chan struct{} // closed when the workers are to leave
	finishOnce sync.Once
}

func newElection(o options, w io.Writer) *election {
	return &election{o: o, out: demo.NewNarrator(w, 10), finish: make(chan struct{})}
}

// notifyLocked wakes the waiters of waitFor; e.mu is held.
func (e *election) notifyLocked() { e.changed.Notify() }

// waitFor waits until cond (called with e.mu held) holds.
func (e *election) waitFor(ctx context.Context, cond func() bool) error {
	return e.changed.Wait(ctx, &e.mu, cond)
}

func (e *election) intro() {
	e.out.Title("Leader election: one scheduler at a time, under recipes.LeaderSelector",
		fmt.Sprintf("%d workers, each a program with its own zk session, queue for leadership at %s (Curator's "+
			"LeaderSelector: an ephemeral sequential node each, the lowest leads, every other one watches only the "+
			"node before its own). The leader runs jobs, each recorded under %s, until the demo kills it; the next "+
			"in line takes over, and the killed worker is restarted and queues again. A term's token is the zxid that "+
			"created its leader's node: it grows from term to term, so whatever the jobs touch can refuse a deposed "+
			"leader.", e.o.workers, electionPath, jobsDir))
}

// run runs the demo and reports whether the proof holds.
func (e *election) run(ctx context.Context) (bool, error) {
	e.intro()
	cl, err := demo.StartCluster(ctx, demo.ClusterOptions{Peers: e.o.peers, TickTime: e.o.tick})
	if err != nil {
		return false, err
	}
	defer cl.Close()
	e.cl = cl
	if cl.Standalone() {
		e.out.Para("The ensemble: one standalone peer in this process (the embedded default).")
	} else {
		e.out.Para(fmt.Sprintf("The ensemble: %d peers in this process, talking over TCP on 127.0.0.1; %s leads. "+
			"Worker i's session is attached to peer i (round robin).", e.o.peers, cl.Name(cl.Leader())))
	}
	if err := e.setup(ctx); err != nil {
		return false, err
	}
	e.out.Header("who", "what")
	cl.OnStatus(func(i int, st zk.Status) {
		if st.Mode != zk.ModeClosed {
			e.out.Row(cl.Name(i), demo.DescribeStatus(st))
		}
	})
	var wg sync.WaitGroup
	errs := make([]error, e.o.workers)
	for i := range e.o.workers {
		w := &worker{e: e, name: fmt.Sprintf("worker-%c", 'a'+i), peer: i % e.o.peers}
		wg.Go(func() { errs[i] = w.run(ctx) })
	}
	err = e.direct(ctx)
	e.finishOnce.Do(func() { close(e.finish) })
	wg.Wait()
	cl.OnStatus(nil)
	if err = errors.Join(append(errs, err)...); err != nil {
		return false, err
	}
	e.out.Line("")
	return e.prove(ctx)
}

func (e *election) setup(ctx context.Context) error {
	sess, err := e.cl.NewSession(ctx, 0)
	if err != nil {
		return err
	}
	defer sess.Close(ctx)
	_, err = sess.Create(ctx, jobsDir, nil, zk.WithParents())
	return err
}

// direct kills the leader of each term once it has run its jobs, in
// the order of the plan, then lets the last one run its jobs. A term that
// ends on its own (leadership lost while the ensemble was not serving)
// takes no kill: the next term gets it.
func (e *election) direct(ctx context.Context) error {
	for k := 1; k <= e.o.terms; k++ {
		var t *term
		err := e.waitFor(ctx, func() bool {
			t = e.open
			return t != nil && t.jobs >= e.o.jobs
		})
		if err != nil {
			return err
		}
		if k == e.o.terms {
			e.out.Event("the demo ends: every worker leaves the election (closes its selector)")
			return nil
		}
		if err := e.kill(ctx, t, e.plan(k)); err != nil {
			return err
		}
		// The next kill is for a later term.
		if err := e.waitFor(ctx, func() bool { return e.open != t }); err != nil {
			return err
		}
	}
	return nil
}

// ended maps the error that says a session has ended already (an earlier
// try, of unknown outcome, did it) to success.
func ended(err error) error {
	if errors.Is(err, zk.ErrSessionExpired) {
		return nil
	}
	return err
}

// kill kills the leader of t.
func (e *election) kill(ctx context.Context, t *term, k killKind) error {
	c := t.c
	switch k {
	case kill9:
		c.die(t)
		e.out.Event("kill -9 %s: it stops at once; its session expires (ExpireSession stands for the timeout)", c.w.name)
		e.endTerm(t, "kill -9: session expired")
		return ended(demo.Retry(ctx, func() error { return e.cl.Peers[e.cl.NextAlive(0)].ExpireSession(ctx, c.sess.ID()) }))
	case quit:
		c.die(t)
		e.out.Event("%s quits: its process exits and closes its session", c.w.name)
		e.endTerm(t, "quit: session closed")
		return ended(demo.Retry(ctx, func() error { return c.sess.Close(ctx) }))
	}
	role := "a follower"
	if e.cl.Leader() == c.peer {
		role = "the ensemble's leader"
	}
	e.out.Event("crash: %s (%s), where %s's session lives, stops as under kill -9", e.cl.Name(c.peer), role, c.w.name)
	e.cl.Crash(c.peer)
	e.out.Event("%s's node stays until its session expires (timeout %v): until then no one else leads", c.w.name, c.sess.Timeout())
	return nil
}
