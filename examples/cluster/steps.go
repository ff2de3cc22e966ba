package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/examples/internal/demo"
)

// The steps of the walk-through, in the seeds' order.

func (w *walk) startFirst(ctx context.Context) error {
	text := "One server alone is not a quorum: with 3 voters a leader needs 2 votes. server.1 looks for a leader and serves no client."
	if w.o.observer {
		text += " server.4, the observer, starts too: it never votes, so it cannot help; it waits for a leader to follow."
	}
	w.step(1, "Start server.1", text)
	if err := w.startServer(1); err != nil {
		return err
	}
	if w.o.observer {
		if err := w.startServer(4); err != nil {
			return err
		}
	}
	err := waitFor(ctx, "server.1 looks for a leader", func() bool {
		st, ok := w.c.status(1)
		return ok && st.Mode == zk.ModeLooking
	})
	if err != nil {
		return err
	}
	w.status()
	return nil
}

func (w *walk) startSecond(ctx context.Context) error {
	w.step(2, "Start server.2", "Two voters can elect. Each first votes for itself, with its epoch and last zxid; a "+
		"vote that is better (a newer epoch, else a newer zxid, else a higher id) wins over one's own, and the "+
		"server votes again for it. The first vote a quorum agrees on decides.")
	t0 := time.Now()
	if err := w.startServer(2); err != nil {
		return err
	}
	if _, err := w.waitElected(ctx, 1, 2); err != nil {
		return err
	}
	w.narrateElection(t0)
	w.fact("(2) start server.2", "the first election")
	w.status()
	return nil
}

func (w *walk) startThird(ctx context.Context) error {
	w.step(3, "Start server.3", "server.3 looks for a leader too, but the others answer that server.2 leads: it "+
		"joins it without a new election, and the leader syncs it (its log is empty: the leader sends what it lacks).")
	t0 := time.Now()
	if err := w.startServer(3); err != nil {
		return err
	}
	if _, err := w.waitElected(ctx, 1, 2, 3); err != nil {
		return err
	}
	w.narrateElection(t0)
	w.status()
	return nil
}

func (w *walk) writeRead(ctx context.Context) error {
	reader := int64(3)
	text := "A write through server.1, a follower: it forwards it to the leader, which commits it at a quorum. " +
		"Then a read of it through server.3, after a sync (a read is served by the server the client is connected to)."
	if w.o.observer {
		reader = 4
		text = strings.Replace(text, "through server.3", "through server.4, the observer", 1)
	}
	w.step(4, "Write through one server, read through another", text)
	if err := w.writeOnce(ctx, 1, "hello"); err != nil {
		return err
	}
	sess, err := w.session(ctx, reader)
	if err != nil {
		return err
	}
	defer sess.Close(ctx)
	wr := w.writes[len(w.writes)-1]
	if err := sess.Sync(ctx, wr.path); err != nil {
		return err
	}
	data, st, err := sess.Get(ctx, wr.path)
	if err != nil {
		return fmt.Errorf("reading %s through server.%d: %w", wr.path, reader, err)
	}
	w.out.Row("client", fmt.Sprintf("get %s through server.%d: %q, mzxid %s", wr.path, reader, data, demo.Token(st.Mzxid)))
	w.out.Line("")
	return nil
}

func (w *walk) stopFollower(ctx context.Context) error {
	w.step(5, "Stop server.3 (a follower)", "The seeds: \"3 nodes, a follower down: the cluster is fine\". "+
		"server.1 and server.2 are still a quorum (2 of 3): writes go on.")
	w.stopServer(3)
	if err := w.writeOnce(ctx, 1, "still serving"); err != nil {
		return err
	}
	sess, err := w.session(ctx, 2)
	if err != nil {
		return err
	}
	w.held = sess // used in the next step, once server.2 has lost its quorum
	w.fact("(5) stop server.3", "")
	w.status()
	return nil
}

func (w *walk) stopSecondFollower(ctx context.Context) error {
	w.step(6, "Stop server.1 too", "The seeds: \"both followers down: the leader cannot run either, because the "+
		"servers running are not more than half of the cluster\". server.2 alone is no quorum: it stops serving. "+
		"Read-only mode (Config.ReadOnlyMode) is off, as by default in ZooKeeper too: reads are refused as well as writes.")
	t0 := time.Now()
	w.stopServer(1)
	err := waitFor(ctx, "server.2 stops serving", func() bool {
		st, ok := w.c.status(2)
		return ok && !st.Serving
	})
	if err != nil {
		return err
	}
	st, _ := w.c.status(2)
	w.out.Row("server.2", fmt.Sprintf("stops serving %s after server.1 stopped: %s", since(t0), st.Why))
	if w.o.observer {
		err := waitFor(ctx, "server.4 stops serving", func() bool {
			st, ok := w.c.status(4)
			return ok && !st.Serving
		})
		if err != nil {
			return err
		}
		st, _ := w.c.status(4)
		w.out.Row("server.4", fmt.Sprintf("stops serving %s after server.1 stopped: %s", since(t0), st.Why))
	}
	wr := w.writeThrough(ctx, w.held, 2, "no quorum")
	if wr.err == nil || !refused(wr.err) {
		return fmt.Errorf("a write without a quorum: %v, want a refusal (zk.ErrNotServing)", wr.err)
	}
	cctx, cancel := context.WithTimeout(ctx, callBound)
	_, _, rerr := w.held.Get(cctx, w.writes[0].path)
	cancel()
	w.out.Row("client", fmt.Sprintf("get %s through server.2: FAILS: %v", w.writes[0].path, rerr))
	if rerr == nil {
		return fmt.Errorf("a read from a server without a quorum succeeded")
	}
	w.fact("(6) stop server.1", "no quorum")
	w.status()
	return nil
}

func (w *walk) restartFollower(ctx context.Context) error {
	w.step(7, "Start server.1 again", "The seeds: \"server.2 works again, and is still the leader\". server.1 "+
		"and server.2 elect again; server.2's log is at least as new as server.1's, and its id is higher.")
	t0 := time.Now()
	if err := w.startServer(1); err != nil {
		return err
	}
	if _, err := w.waitElected(ctx, 1, 2); err != nil {
		return err
	}
	w.narrateElection(t0)
	w.held.Close(ctx)
	w.held = nil
	if err := w.writeOnce(ctx, 1, "serving again"); err != nil {
		return err
	}
	w.fact("(7) start server.1", "the same leader, a new epoch")
	w.status()
	return nil
}

func (w *walk) stopLeader(ctx context.Context) error {
	w.step(8, "Start server.3, then stop server.2 (the leader)", "The seeds: \"a new leader is elected\". Once "+
		"server.3 is back and in sync, server.2 stops. server.1 and server.3 have the same epoch and the same last "+
		"zxid (both acknowledged every write), so the higher id wins: server.3.")
	if err := w.startServer(3); err != nil {
		return err
	}
	old, err := w.waitElected(ctx, 1, 2, 3)
	if err != nil {
		return err
	}
	if err := w.waitInSync(ctx, old, 1, 2, 3); err != nil {
		return err
	}
	t0 := time.Now()
	w.stopServer(old)
	var rest []int64
	for _, id := range []int64{1, 2, 3} {
		if id != old {
			rest = append(rest, id)
		}
	}
	leader, err := w.waitElected(ctx, rest...)
	if err != nil {
		return err
	}
	took := since(t0)
	w.out.Row(fmt.Sprint("server.", leader), fmt.Sprintf("serves as the new leader %s after server.%d stopped", took, old))
	w.narrateElection(t0)
	if err := w.writeOnce(ctx, 1, "new leader"); err != nil {
		return err
	}
	w.fact("(8) stop server.2", "serving "+took+" after the stop")
	w.status()
	return nil
}

func (w *walk) restartOldLeader(ctx context.Context) error {
	w.step(9, "Start server.2 again", "The seeds: \"will server.2 lead again? No: once a leader is elected, a "+
		"server that joins does not unseat it\". server.2 finds server.3 leading and follows it.")
	t0 := time.Now()
	if err := w.startServer(2); err != nil {
		return err
	}
	if _, err := w.waitElected(ctx, 1, 2, 3); err != nil {
		return err
	}
	w.narrateElection(t0)
	w.fact("(9) start server.2", "server.2 follows")
	w.status()
	return nil
}

// waitElected waits until one of the voters ids leads and serves, the
// others (and the observer, if it runs) following it, and returns it.
func (w *walk) waitElected(ctx context.Context, ids ...int64) (int64, error) {
	var leader int64
	err := waitFor(ctx, fmt.Sprintf("one of servers %v leads, followed by the others", ids), func() bool {
		leader = 0
		for _, id := range ids {
			if w.c.serving(id, zk.ModeLeading, 0) {
				leader = id
			}
		}
		if leader == 0 {
			return false
		}
		for _, id := range ids {
			if id != leader && !w.c.serving(id, zk.ModeFollowing, leader) {
				return false
			}
		}
		return !w.o.observer || w.c.serving(4, zk.ModeObserving, leader)
	})
	return leader, err
}

// waitInSync waits until the servers ids have the leader's last zxid.
func (w *walk) waitInSync(ctx context.Context, leader int64, ids ...int64) error {
	return waitFor(ctx, "the followers have the leader's last zxid", func() bool {
		l, _ := w.c.status(leader)
		for _, f := range ids {
			if st, ok := w.c.status(f); !ok || st.LastZxid != l.LastZxid {
				return false
			}
		}
		return true
	})
}
