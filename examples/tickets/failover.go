package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/embedzk/zk/examples/internal/demo"
)

// midSale is called by a window that holds the lock and has read the
// stock. With -kill-leader, once a third of the tickets are sold, the
// first window to get there on the ensemble's leader crashes that peer
// under itself: the holder's session is on the crashed peer. It reports
// whether it did.
func (d *tickets) midSale(a *agency, window string, s sale) bool {
	if !d.o.kill {
		return false
	}
	d.mu.Lock()
	due := !d.killed && d.soldN >= d.o.tickets/3 && d.cl.Leader() == a.peer
	d.killed = d.killed || due
	d.mu.Unlock()
	if !due {
		return false
	}
	d.out.Event("crash: %s, the leader, stops as under kill -9; %s holds the lock, mid-sale of %s",
		d.cl.Name(a.peer), window, d.ticket(s.ticket))
	d.cl.Crash(a.peer)
	d.mu.Lock()
	d.crashAt = d.soldN
	d.mu.Unlock()
	return true
}

// lateWrite plays the stale holder: the window that held the lock when
// its peer crashed still has the ticket in hand. As a process frozen in a
// long pause would, it writes only after its old session has expired
// (its lock node goes, the lock passes on) and another window has sold a
// ticket under a newer hold. The stock must refuse it.
func (a *agency) lateWrite(ctx context.Context, c *conn, s sale) {
	d := a.d
	d.out.Row(s.by, d.ticket(s.ticket), demo.Token(s.token),
		"frozen with the ticket in hand, as in a long GC pause; it will write when it wakes")
	if err := waitGone(ctx, c.sess, s.node); err != nil {
		d.out.Row(s.by, "", "", fmt.Sprintf("stopped waiting: %v", err))
		return
	}
	d.out.Row(a.name, "", "", fmt.Sprintf("its old session expired (timeout %v): its lock node is gone, the next in line holds the lock",
		c.sess.Timeout()))
	newer, err := waitNewerToken(ctx, c.sess, s.token)
	if err == nil {
		err = d.waitSale(ctx, newer) // for the story's order: that sale is told first
	}
	if err != nil {
		d.out.Row(s.by, "", "", fmt.Sprintf("stopped waiting: %v", err))
		return
	}
	d.out.Row(s.by, d.ticket(s.ticket), demo.Token(s.token),
		fmt.Sprintf("wakes after a sale under token %s and writes its sale late", demo.Token(newer)))
	err = sell(ctx, c.sess, s, d.o.tickets)
	var r *refusal
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case errors.As(err, &r) && r.kind == fenced:
		d.lateRefused++
		d.out.Row(s.by, d.ticket(s.ticket), demo.Token(s.token), "late write REFUSED by the fence: "+r.reason)
	case errors.As(err, &r):
		d.out.Row(s.by, d.ticket(s.ticket), demo.Token(s.token), "late write refused, but not by the fence: "+r.reason)
	case err == nil:
		d.lateAccepted++
		d.out.Row(s.by, d.ticket(s.ticket), demo.Token(s.token), "late write ACCEPTED: the fence failed")
	default:
		d.out.Row(s.by, d.ticket(s.ticket), demo.Token(s.token), fmt.Sprintf("late write failed: %v", err))
	}
}
