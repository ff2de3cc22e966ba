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

// configRoot holds the configuration: one node per key.
const configRoot = "/config/app"

// keys are the configuration's keys, in the order the writer changes them.
var keys = []string{"db.url", "pool.size", "feature.x"}

// value returns the value of key after its round-th change (0: the
// initial value).
func value(key string, round int) string {
	switch key {
	case "db.url":
		return fmt.Sprintf("mysql://db-%d.internal:3306/shop", round+1)
	case "pool.size":
		return fmt.Sprint(10 * (round + 1))
	}
	return [...]string{"off", "on"}[round%2]
}

// change returns the k-th change (from 1): its key and new value.
func change(k int) (key, val string) {
	key = keys[(k-1)%len(keys)]
	return key, value(key, (k-1)/len(keys)+1)
}

// push is one run of the demo.
type push struct {
	o   options
	out *demo.Narrator
	cl  *demo.Cluster

	mu      sync.Mutex
	sent    map[string][]time.Time // path -> when each version was sent (index: version)
	wrote   map[string][]string    // path -> each version's value
	svcs    []*service
	crashed bool // the leader crashed
	changed demo.Changes
}

func newPush(o options, w io.Writer) *push {
	return &push{o: o, out: demo.NewNarrator(w, 8, 10, 4, 33), sent: map[string][]time.Time{},
		wrote: map[string][]string{}}
}

// notifyLocked wakes the waiters of waitFor; p.mu is held.
func (p *push) notifyLocked() { p.changed.Notify() }

// waitFor waits until cond (called with p.mu held) holds.
func (p *push) waitFor(ctx context.Context, cond func() bool) error {
	return p.changed.Wait(ctx, &p.mu, cond)
}

func (p *push) intro() {
	p.out.Title("Config push: one writer, services kept in step by recipes caches",
		fmt.Sprintf("The configuration lives in %s, one node per key (%s). A writer changes one key every %v, "+
			"%d changes in all. %d services, each a program with its own zk session, keep a cache of it: Curator's "+
			"TreeCache (the node and everything below), PathChildrenCache (its children) or NodeCache (one node). "+
			"A cache is built on one persistent recursive watch whose events carry the data, so a listener hears "+
			"every change, in zxid order, without reading anything back; each row below is a listener's, with the "+
			"delay since the writer sent the change.", configRoot, joinKeys(), p.o.every, p.o.changes, p.o.watchers))
}

func joinKeys() string {
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += k
	}
	return s
}

// run runs the demo and reports whether the proof holds.
func (p *push) run(ctx context.Context) (bool, error) {
	p.intro()
	cl, err := demo.StartCluster(ctx, demo.ClusterOptions{Peers: p.o.peers, TickTime: p.o.tick})
	if err != nil {
		return false, err
	}
	defer cl.Close()
	p.cl = cl
	writerPeer := p.describeCluster()
	sess, err := cl.NewSession(ctx, writerPeer)
	if err != nil {
		return false, err
	}
	defer func() { sess.Close(context.Background()) }()
	if err := p.setup(ctx, sess); err != nil {
		return false, err
	}
	p.out.Header("who", "key", "ver", "value", "delay")
	cl.OnStatus(func(i int, st zk.Status) {
		if st.Mode != zk.ModeClosed {
			p.out.Row(cl.Name(i), demo.DescribeStatus(st))
		}
	})
	defer cl.OnStatus(nil)
	if err := p.startServices(ctx); err != nil {
		p.stopServices()
		return false, err
	}
	err = p.write(ctx, &sess, writerPeer)
	if err == nil {
		err = p.waitSeen(ctx)
	}
	p.stopServices()
	if err != nil {
		return false, err
	}
	p.out.Line("")
	return p.prove(ctx)
}

// describeCluster narrates the ensemble and returns the writer's peer: a
// follower when there are several peers, so that the leader's crash leaves
// the writer its session.
func (p *push) describeCluster() int {
	if p.cl.Standalone() {
		p.out.Para("The ensemble: one standalone peer in this process (the embedded default).")
		return 0
	}
	leader := p.cl.Leader()
	writer := (leader + 1) % len(p.cl.Peers)
	p.out.Para(fmt.Sprintf("The ensemble: %d peers in this process, talking over TCP on 127.0.0.1; %s leads. "+
		"The writer's session is attached to %s; service i's to the (leader+i)-th peer, round robin, so the "+
		"first service's session lives on the leader.", len(p.cl.Peers), p.cl.Name(leader), p.cl.Name(writer)))
	return writer
}

// setup writes the initial configuration (version 0 of every key).
func (p *push) setup(ctx context.Context, sess *zk.Session) error {
	if _, err := sess.Create(ctx, configRoot, nil, zk.WithParents()); err != nil {
		return err
	}
	for _, k := range keys {
		path := configRoot + "/" + k
		v := value(k, 0)
		p.mu.Lock()
		p.sent[path], p.wrote[path] = []time.Time{time.Now()}, []string{v}
		p.mu.Unlock()
		if _, err := sess.Create(ctx, path, []byte(v)); err != nil {
			return err
		}
	}
	return nil
}

// write makes the changes, one every o.every; with -kill-leader it crashes
// the leader once half of them are acknowledged, and makes the next change
// at once, while the ensemble elects a new leader.
func (p *push) write(ctx context.Context, sess **zk.Session, peer int) error {
	for k := 1; k <= p.o.changes; k++ {
		key, val := change(k)
		path := configRoot + "/" + key
		p.mu.Lock()
		ver := int32(len(p.wrote[path]))
		p.sent[path] = append(p.sent[path], time.Now())
		p.wrote[path] = append(p.wrote[path], val)
		p.mu.Unlock()
		p.out.Row("writer", key, fmt.Sprint("v", ver), val)
		if err := p.set(ctx, sess, &peer, path, val, ver); err != nil {
			return fmt.Errorf("writing %s v%d: %w", path, ver, err)
		}
		if p.o.kill && k == (p.o.changes+1)/2 {
			p.crashLeader(peer)
			continue // the next change at once: written while the ensemble elects
		}
		if k < p.o.changes {
			if err := sleep(ctx, p.o.every); err != nil {
				return err
			}
		}
	}
	return nil
}

// crashLeader crashes the ensemble's leader (never the writer's peer: it
// is a follower).
func (p *push) crashLeader(writerPeer int) {
	leader := p.cl.Leader()
	if leader < 0 || leader == writerPeer {
		leader = p.cl.NextAlive(writerPeer + 1)
	}
	who := ""
	for _, s := range p.svcs {
		if s.peerNow() == leader {
			who += ", " + s.name + "'s"
		}
	}
	if who == "" {
		who = ", no service's"
	}
	p.out.Event("crash: %s, the leader, stops as under kill -9 (%s session lives there)", p.cl.Name(leader), who[2:])
	p.mu.Lock()
	p.crashed = true
	p.mu.Unlock()
	p.cl.Crash(leader)
}

// set writes version ver of path, trying again while the ensemble elects a
// leader. A try whose outcome is unknown may have committed: a later try
// that finds the version taken checks that it holds this value.
func (p *push) set(ctx context.Context, sess **zk.Session, peer *int, path, val string, ver int32) error {
	retried := false
	wait := 20 * time.Millisecond
	for {
		_, err := (*sess).Set(ctx, path, []byte(val), ver-1)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, zk.ErrBadVersion) && retried:
			data, st, gerr := (*sess).Get(ctx, path)
			if gerr == nil && st.Version == ver && string(data) == val {
				return nil
			}
			return err
		case errors.Is(err, zk.ErrSessionExpired) || errors.Is(err, zk.ErrClosed):
			*peer = p.cl.NextAlive(*peer)
			s, nerr := p.cl.NewSession(ctx, *peer)
			if nerr != nil {
				return errors.Join(err, nerr)
			}
			(*sess).Close(ctx)
			*sess = s
		case !errors.Is(err, zk.ErrNotServing) && !errors.Is(err, zk.ErrConnectionLoss):
			return err
		}
		retried = true
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitSeen waits until every service has seen the last version of every
// key it holds.
func (p *push) waitSeen(ctx context.Context) error {
	return p.waitFor(ctx, func() bool {
		for _, s := range p.svcs {
			for _, path := range s.paths {
				if len(s.seen[path]) == 0 || s.seen[path][len(s.seen[path])-1].version != int32(len(p.wrote[path])-1) {
					return false
				}
			}
		}
		return true
	})
}
