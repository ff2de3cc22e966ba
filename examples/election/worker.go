package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/examples/internal/demo"
	"github.com/embedzk/zk/recipes"
)

// worker is one program competing for leadership, restarted by its
// supervisor whenever it is killed or its session is lost.
type worker struct {
	e    *election
	name string
	peer int // where its next session goes
}

// wconn is one incarnation of a worker: a session, its Client and its
// selector.
type wconn struct {
	w      *worker
	peer   int
	sess   *zk.Session
	client *recipes.Client
	sel    *recipes.LeaderSelector
	dead   chan struct{} // closed when the demo kills this incarnation
}

// job is a job's record under jobsDir.
type job struct {
	Worker string `json:"worker"`
	Term   int    `json:"term"`
	Job    int    `json:"job"`
	Token  int64  `json:"token"`
}

// run keeps the worker in the election until the demo ends.
func (w *worker) run(ctx context.Context) error {
	for n := 0; ; n++ {
		c, err := w.connect(ctx, n)
		if err != nil {
			return err
		}
		select {
		case <-c.client.Done():
		case <-w.e.finish:
		case <-ctx.Done():
		}
		c.sel.Close(ctx)
		c.client.Close(ctx)
		c.sess.Close(ctx)
		select {
		case <-w.e.finish:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		select {
		case <-c.dead:
			w.e.out.Row(w.name, "is restarted by its supervisor")
		default:
			w.e.out.Row(w.name, fmt.Sprintf("its session is out of reach (%v): joins again with a new one", c.client.Err()))
		}
	}
}

// connect opens a session on the worker's peer (or the next one alive)
// and queues for leadership.
func (w *worker) connect(ctx context.Context, n int) (*wconn, error) {
	for {
		p := w.e.cl.NextAlive(w.peer)
		if p < 0 {
			return nil, errors.New("no peer left")
		}
		w.peer = p
		sess, err := w.e.cl.NewSession(ctx, p, zk.WithSessionTimeout(w.e.o.session))
		if err != nil {
			if errors.Is(err, zk.ErrClosed) && w.e.cl.Crashed(p) {
				continue // the peer crashed meanwhile
			}
			return nil, err
		}
		c := &wconn{w: w, peer: p, sess: sess, dead: make(chan struct{})}
		if c.client, err = recipes.NewClient(sess); err == nil {
			c.sel, err = recipes.NewLeaderSelector(c.client, electionPath, w.name, c.lead)
		}
		if err == nil {
			c.sel.AutoRequeue() // a leadership lost while the session lives queues again
			err = c.sel.Start()
		}
		if err != nil {
			sess.Close(ctx)
			return nil, err
		}
		w.e.out.Row(w.name, fmt.Sprintf("joins the election: session %s on %s", demo.Token(sess.ID()), w.e.cl.Name(p)))
		return c, nil
	}
}

// die kills the incarnation: it stops working at once (the demo waits
// until it does) and never touches anything again.
func (c *wconn) die(t *term) {
	close(c.dead)
	<-t.stopped
}

// lead is the take-leadership function: it runs jobs until its context
// ends (leadership may be lost, or the worker leaves) or it is killed.
func (c *wconn) lead(ctx context.Context, lease *recipes.Lease) error {
	e := c.w.e
	t := e.beginTerm(c, lease)
	for {
		timer := time.NewTimer(e.o.job)
		select {
		case <-c.dead:
		case <-ctx.Done():
		case <-timer.C:
		}
		timer.Stop()
		select {
		case <-c.dead: // a killed process does nothing more
			t.stopOnce.Do(func() { close(t.stopped) })
			<-ctx.Done()
			return nil
		default:
		}
		if ctx.Err() != nil {
			e.endTerm(t, why(context.Cause(ctx)))
			t.stopOnce.Do(func() { close(t.stopped) })
			return nil
		}
		c.runJob(ctx, t)
	}
}

// runJob runs the term's next job: it records it in the ensemble.
func (c *wconn) runJob(ctx context.Context, t *term) {
	e := c.w.e
	e.mu.Lock()
	n := t.jobs + t.unknown + 1
	e.mu.Unlock()
	data, _ := json.Marshal(job{Worker: c.w.name, Term: t.n, Job: n, Token: t.token})
	_, err := c.sess.Create(ctx, jobsDir+"/job-", data, zk.WithMode(zk.ModePersistentSequential))
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case err == nil:
		t.jobs++
		e.out.Row(c.w.name, fmt.Sprintf("job %d done", n))
	case errors.Is(err, zk.ErrOutcomeUnknown) || errors.Is(err, zk.ErrConnectionLoss) || errors.Is(err, zk.ErrClosed):
		t.unknown++
		e.out.Row(c.w.name, fmt.Sprintf("job %d: outcome unknown (%v)", n, err))
	default:
		e.out.Row(c.w.name, fmt.Sprintf("job %d failed: %v", n, err))
	}
	e.notifyLocked()
}

// why says in a few words why a term ended, from its context's cause.
func why(err error) string {
	switch {
	case errors.Is(err, recipes.ErrLockLost) && errors.Is(err, zk.ErrClosed):
		return "its peer crashed: leadership lost"
	case errors.Is(err, zk.ErrSessionExpired):
		return "session expired: leadership lost"
	case errors.Is(err, zk.ErrConnectionLoss):
		return "its peer lost the leader: leadership lost"
	case errors.Is(err, zk.ErrClosed):
		return "left the election"
	}
	return err.Error()
}

// beginTerm records a new term, checking that no other one lasts.
func (e *election) beginTerm(c *wconn, lease *recipes.Lease) *term {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := &term{n: len(e.terms) + 1, c: c, token: lease.Token(), start: e.out.Since(), stopped: make(chan struct{})}
	what := fmt.Sprintf("LEADS term %d, token %s", t.n, demo.Token(t.token))
	if e.open != nil {
		e.overlaps++
		what += fmt.Sprintf(" WHILE %s STILL LEADS term %d", e.open.c.w.name, e.open.n)
	} else if len(e.terms) > 0 {
		prev := e.terms[len(e.terms)-1]
		what += fmt.Sprintf(", %.3fs after %s's term ended", (t.start - prev.end).Seconds(), prev.c.w.name)
	}
	e.terms = append(e.terms, t)
	e.open = t
	e.out.Row(c.w.name, what)
	e.notifyLocked()
	return t
}

// endTerm records the end of t (once).
func (e *election) endTerm(t *term, how string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if t.end != 0 {
		return
	}
	t.end, t.endedBy = e.out.Since(), how
	if e.open == t {
		e.open = nil
	}
	e.out.Row(t.c.w.name, fmt.Sprintf("term %d ended after %.3fs, %d jobs: %s", t.n, (t.end-t.start).Seconds(), t.jobs, how))
	e.notifyLocked()
}
