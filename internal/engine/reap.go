package engine

import (
	"fmt"
	"strconv"
	"time"

	"github.com/embedzk/zk/znode"
)

// Defaults of the container and TTL reaper, ZooKeeper's
// znode.container.checkIntervalMs and znode.container.maxPerMinute.
const (
	DefaultContainerCheckInterval = time.Minute
	DefaultContainerMaxPerMinute  = 10000
)

// minuteMs is the cost of one delete in reaper credit: credit grows by
// maxPerMinute per elapsed millisecond, so one delete per minute/maxPerMinute.
const minuteMs = int64(time.Minute / time.Millisecond)

// reaper paces the leader's deletes of empty containers and expired TTL
// nodes as ZooKeeper's ContainerManager does: every check interval it lists
// the candidates, then proposes their deletes one after another, at most
// maxPerMinute a minute (ContainerManager waits minute/maxPerMinute between
// two). It works in session ticks (one TickTime each): the interval is
// rounded up to whole TickTimes; a pass proposes one delete when it starts
// and, on each later tick, those the rate allows for a TickTime, so that k
// ticks into a pass 1 + k*TickTime*maxPerMinute/minute deletes went out, the
// count ContainerManager reaches in the same time.
// It is owned by the peer loop.
type reaper struct {
	every     int64 // session ticks between checks, >= 1
	perMinute int64
	tickMs    int64
	due       bool        // a check is due: the next pass starts when the current one ends
	queue     []znode.Txn // the current pass's candidates not yet proposed
	credit    int64       // deletes allowed now, times minuteMs
	listLimit int         // candidates listed per check
}

func newReaper(cfg Config) reaper {
	tick := cfg.TickTime
	every := int64((cfg.ContainerCheckInterval + tick - 1) / tick)
	perMinute := int64(cfg.ContainerMaxPerMinute)
	// One pass lists what the rate lets it delete before the next check;
	// the rest waits for the next pass, as a bound on the queue.
	limit := perMinute*every*tick.Milliseconds()/minuteMs + 1
	return reaper{every: max(1, every), perMinute: perMinute, tickMs: tick.Milliseconds(), listLimit: int(min(limit, 1<<20))}
}

// reap runs on every session tick of the established leader: it starts a
// pass when a check is due and none is running, and proposes the deletes
// the rate allows for this tick. Each delete is a TxnDeleteContainer that
// Apply checks again, so a node that changed since the listing stays.
func (p *peer) reap() {
	r := &p.reapPace
	if (p.ticks/TicksPerTickTime)%r.every == 0 {
		r.due = true
	}
	if len(r.queue) == 0 {
		r.credit = 0
		if !r.due {
			return
		}
		r.due = false
		txns, err := p.e.tree.Reapable(p.now().UnixMilli(), r.listLimit)
		if err != nil {
			p.cfg.Logger.Warn("zk: listing reapable nodes", "err", err)
			return
		}
		if len(txns) == 0 {
			return
		}
		r.queue = txns
		r.credit = minuteMs // ContainerManager deletes first, then waits
	} else {
		r.credit += r.perMinute * r.tickMs
	}
	for len(r.queue) > 0 && r.credit >= minuteMs {
		r.credit -= minuteMs
		txn := r.queue[0]
		r.queue = r.queue[1:]
		p.proposeHousekeeping(&txn)
	}
	if len(r.queue) == 0 {
		r.queue = nil
	}
}

// setReaperZooKey applies the zoo.cfg keys of the reaper (ZooKeeper reads
// them as Java system properties; zk takes them from zoo.cfg too).
func (c *Config) setReaperZooKey(key, value string) (known bool, err error) {
	n, perr := strconv.ParseInt(value, 10, 64)
	switch key {
	case "znode.container.checkIntervalMs":
		if perr != nil || n <= 0 {
			return true, fmt.Errorf("%q is not a positive number of milliseconds", value)
		}
		c.ContainerCheckInterval = time.Duration(n) * time.Millisecond
		return true, nil
	case "znode.container.maxPerMinute":
		if perr != nil || n <= 0 || n > 1<<31-1 {
			return true, fmt.Errorf("%q is not a positive count", value)
		}
		c.ContainerMaxPerMinute = int(n)
		return true, nil
	}
	return false, nil
}
