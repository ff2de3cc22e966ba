package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/examples/internal/demo"
	"github.com/embedzk/zk/recipes"
)

// tickets is one run of the demo.
type tickets struct {
	o   options
	out *demo.Narrator
	cl  *demo.Cluster

	mu           sync.Mutex
	live         map[string]*recipes.Lease // window -> the lease it holds
	overlaps     int                       // grants while another lease was live
	sales        []sale                    // sales confirmed, in order
	soldN        int
	unknowns     []sale // writes whose outcome is unknown
	killed       bool
	crashAt      int // sales confirmed when the leader crashed
	lateRefused  int
	lateAccepted int
	saleC        chan struct{} // closed and replaced at each sale
}

func newTickets(o options, w io.Writer) *tickets {
	return &tickets{o: o, out: demo.NewNarrator(w, 10, 6, 12), live: map[string]*recipes.Lease{}, saleC: make(chan struct{})}
}

// ticket formats a ticket number.
func (d *tickets) ticket(n int) string {
	return fmt.Sprintf("#%0*d", len(fmt.Sprint(d.o.tickets)), n)
}

func (d *tickets) intro() {
	names := strings.Join(agencyNames[:d.o.agencies], ", ")
	d.out.Title("12306: selling train tickets under one distributed lock",
		fmt.Sprintf("%d agencies (%s) sell %d tickets from one stock. Each agency is a program with its own "+
			"zk session; its %d windows are goroutines sharing one recipes.Mutex at %s, as the seed's threads "+
			"share one InterProcessMutex. A window sells one ticket per hold of the lock: it reads the stock, "+
			"sells, then writes the stock and the ticket's record in one transaction. The stock is fenced: it "+
			"keeps the token of the newest hold that wrote it and refuses an older one. A token is the zxid that "+
			"created the holder's lock node; its high half is the ensemble's epoch.",
			d.o.agencies, names, d.o.tickets, d.o.windows, lockPath))
}

// run runs the demo and reports whether the proof holds.
func (d *tickets) run(ctx context.Context) (bool, error) {
	d.intro()
	cl, err := demo.StartCluster(ctx, demo.ClusterOptions{Peers: d.o.peers, TickTime: d.o.tick})
	if err != nil {
		return false, err
	}
	defer cl.Close()
	d.cl = cl
	if cl.Standalone() {
		d.out.Para("The ensemble: one standalone peer in this process (the embedded default).")
	} else {
		d.out.Para(fmt.Sprintf("The ensemble: %d peers in this process, talking over TCP on 127.0.0.1; %s leads. "+
			"Agency i's session is attached to peer i.", d.o.peers, cl.Name(cl.Leader())))
	}
	setup, err := cl.NewSession(ctx, 0)
	if err != nil {
		return false, err
	}
	err = setupStock(ctx, setup, d.o.tickets)
	setup.Close(ctx)
	if err != nil {
		return false, err
	}
	d.out.Header("who", "ticket", "token", "what")
	cl.OnStatus(func(i int, st zk.Status) {
		if st.Mode != zk.ModeClosed {
			d.out.Row(cl.Name(i), "", "", demo.DescribeStatus(st))
		}
	})
	if err := d.sell(ctx); err != nil {
		return false, err
	}
	cl.OnStatus(nil)
	d.out.Line("")
	return d.prove(ctx)
}

// sell runs the agencies until the stock is sold out.
func (d *tickets) sell(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, d.o.agencies)
	for i := range d.o.agencies {
		a := &agency{d: d, name: agencyNames[i], peer: i % d.o.peers, windows: d.o.windows}
		wg.Go(func() { errs[i] = a.run(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// granted records that window holds lease, and checks that no other
// window's lease is live: the lock is exclusive.
func (d *tickets) granted(window string, lease *recipes.Lease) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for other, l := range d.live {
		if l.Err() == nil {
			d.overlaps++
			d.out.Row(window, "", demo.Token(lease.Token()),
				fmt.Sprintf("GRANTED WHILE %s HOLDS %s: the lock is not exclusive", other, demo.Token(l.Token())))
		}
	}
	d.live[window] = lease
}

// releasing forgets window's lease.
func (d *tickets) releasing(window string) {
	d.mu.Lock()
	delete(d.live, window)
	d.mu.Unlock()
}

// sold records and prints a sale the stock took.
func (d *tickets) sold(s sale, left int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sales = append(d.sales, s)
	d.soldN++
	what := fmt.Sprintf("sold, %d left", left)
	if d.killed && d.soldN == d.crashAt+1 {
		what += " (the first sale after the crash)"
	}
	d.out.Row(s.by, d.ticket(s.ticket), demo.Token(s.token), what)
	close(d.saleC)
	d.saleC = make(chan struct{})
}

// waitSale waits until the sale under token has been printed (as sold,
// or as of unknown outcome).
func (d *tickets) waitSale(ctx context.Context, token int64) error {
	for {
		d.mu.Lock()
		is := func(s sale) bool { return s.token == token }
		done := slices.ContainsFunc(d.sales, is) || slices.ContainsFunc(d.unknowns, is)
		ch := d.saleC
		d.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// unknown records a write whose outcome the window cannot know (its
// session ended while it was in flight): the proof reads what happened.
func (d *tickets) unknown(s sale, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.unknowns = append(d.unknowns, s)
	d.out.Row(s.by, d.ticket(s.ticket), demo.Token(s.token), fmt.Sprintf("outcome unknown (%v): the proof will tell", err))
	close(d.saleC)
	d.saleC = make(chan struct{})
}
