package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/examples/internal/demo"
	"github.com/embedzk/zk/recipes"
)

// agency is one booking agency: a program of its own, with its own
// session (on its peer) and one Mutex shared by its windows, as the seed's
// threads share one InterProcessMutex.
type agency struct {
	d       *tickets
	name    string
	peer    int // the peer its session is attached to
	windows int
}

// conn is what an agency's windows share while its session lives.
type conn struct {
	sess   *zk.Session
	client *recipes.Client
	lock   *recipes.Mutex
}

// outcome is how a window's round ended.
type outcome int

const (
	again   outcome = iota // the window queues again
	soldOut                // no ticket left
	ended                  // the agency's session (or the demo) ended
)

// run sells until the stock is sold out, reconnecting when its session
// ends (its peer crashed).
func (a *agency) run(ctx context.Context) error {
	var late sync.WaitGroup
	defer late.Wait()
	var inHand *sale
	for first := true; ; first = false {
		c, err := a.connect(ctx, first)
		if err != nil {
			return err
		}
		if inHand != nil {
			s := *inHand
			late.Go(func() { a.lateWrite(ctx, c, s) })
		}
		var done bool
		done, inHand = a.runWindows(ctx, c)
		if done || ctx.Err() != nil {
			late.Wait() // it uses the session
			c.client.Close(ctx)
			c.sess.Close(ctx)
			return ctx.Err()
		}
		a.d.out.Row(a.name, "", "", fmt.Sprintf("its session is out of reach (%s): opens a new one", short(c.client.Err())))
		c.client.Close(ctx)
		c.sess.Close(ctx) // its peer is gone: this only lets go of the handle
	}
}

// connect opens a session on the agency's peer, or on the next one alive
// if it crashed.
func (a *agency) connect(ctx context.Context, first bool) (*conn, error) {
	for {
		p := a.d.cl.NextAlive(a.peer)
		if p < 0 {
			return nil, errors.New("no peer left")
		}
		a.peer = p
		sess, err := a.d.cl.NewSession(ctx, p, zk.WithSessionTimeout(a.d.o.session))
		if err != nil {
			if errors.Is(err, zk.ErrClosed) && a.d.cl.Crashed(p) {
				continue // the peer crashed meanwhile
			}
			return nil, err
		}
		client, err := recipes.NewClient(sess, recipes.WithID(a.name))
		if err != nil {
			sess.Close(ctx)
			continue
		}
		lock, err := recipes.NewMutex(client, lockPath)
		if err != nil {
			return nil, err
		}
		what := "opens its session"
		if !first {
			what = "has a new session"
		}
		a.d.out.Row(a.name, "", "", fmt.Sprintf("%s %s on %s", what, demo.Token(sess.ID()), a.d.cl.Name(p)))
		return &conn{sess: sess, client: client, lock: lock}, nil
	}
}

// runWindows runs the windows until they stop; it reports whether the
// stock is sold out, and the sale a window had in hand when its session
// ended under it (the failover's victim), if any.
func (a *agency) runWindows(ctx context.Context, c *conn) (bool, *sale) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var done bool
	var inHand *sale
	for i := 1; i <= a.windows; i++ {
		name := fmt.Sprintf("%s-%d", a.name, i)
		wg.Go(func() {
			out, s := a.window(ctx, c, name)
			mu.Lock()
			defer mu.Unlock()
			done = done || out == soldOut
			if s != nil {
				inHand = s
			}
		})
	}
	wg.Wait()
	return done, inHand
}

// window sells one ticket per hold of the lock until none is left.
func (a *agency) window(ctx context.Context, c *conn, name string) (outcome, *sale) {
	for {
		var lease *recipes.Lease
		err := demo.Retry(ctx, func() (err error) {
			lease, err = c.lock.Acquire(ctx)
			return err
		})
		if err != nil {
			a.d.out.Row(name, "", "", fmt.Sprintf("stops: %s", short(err)))
			return ended, nil
		}
		a.d.granted(name, lease)
		out, inHand := a.sellOne(ctx, c, name, lease)
		a.d.releasing(name)
		lease.Release(ctx)
		if out != again || inHand != nil {
			if inHand != nil {
				out = ended
			}
			return out, inHand
		}
	}
}

// sellOne sells one ticket under lease: read the stock, sell (it takes
// the sale time, as the seed's sleep), write the stock fenced by the
// lease's token. A window whose lease ends before the write gives the
// ticket back.
func (a *agency) sellOne(ctx context.Context, c *conn, name string, lease *recipes.Lease) (outcome, *sale) {
	held := lease.Context()
	cur, st, err := readStock(held, c.sess)
	if err != nil {
		a.lost(name, "", lease, err, "queues again")
		return again, nil
	}
	if cur.Left <= 0 {
		return soldOut, nil
	}
	s := sale{ticket: a.d.o.tickets - cur.Left + 1, version: st.Version, token: lease.Token(), by: name, node: lease.Node()}
	victim := a.d.midSale(a, name, s)
	t := time.NewTimer(a.d.o.sale)
	defer t.Stop()
	select {
	case <-held.Done():
	case <-t.C:
	}
	if err := lease.Err(); err != nil {
		if victim {
			a.lost(name, a.d.ticket(s.ticket), lease, err, "keeps the ticket in hand")
			return ended, &s
		}
		a.lost(name, a.d.ticket(s.ticket), lease, err, "gives the ticket back, queues again")
		return again, nil
	}
	err = sell(ctx, c.sess, s, a.d.o.tickets)
	var r *refusal
	switch {
	case err == nil:
		a.d.sold(s, cur.Left-1)
	case errors.As(err, &r):
		a.d.out.Row(name, a.d.ticket(s.ticket), demo.Token(s.token), "write refused: "+r.reason)
	default:
		a.d.unknown(s, err)
	}
	return again, nil
}

// lost reports a hold that ended before its sale was written.
func (a *agency) lost(name, ticket string, lease *recipes.Lease, err error, then string) {
	cause := lease.Err()
	if cause == nil {
		cause = err
	}
	a.d.out.Row(name, ticket, demo.Token(lease.Token()), fmt.Sprintf("lease lost (%s): stops without writing, %s", short(cause), then))
}

// short names why a hold was lost, from the error's chain.
func short(err error) string {
	switch {
	case errors.Is(err, zk.ErrClosed):
		return "its peer crashed"
	case errors.Is(err, zk.ErrSessionExpired):
		return "session expired"
	case errors.Is(err, zk.ErrNoNode):
		return "its lock node was deleted"
	case errors.Is(err, zk.ErrConnectionLoss), errors.Is(err, zk.ErrNotServing):
		return "its peer lost the leader"
	}
	return err.Error()
}
