package znode

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
)

// QuotaInfo is one quota as the tree holds it.
type QuotaInfo struct {
	Path   string
	Limits QuotaLimits // -1: no limit; all -1 if the limits node is malformed
	Usage  QuotaUsage  // -1 if the stats node is missing or malformed
}

// QuotaCounters counts the writes that went past a quota's limit, per
// namespace: the first component of the written path ("app" for
// /app/jobs/1), as ZooKeeper's quota metrics key them.
type QuotaCounters struct {
	// Exceeded counts the writes this tree applied that left a quota's usage
	// past its soft limit, or past a hard limit the leader did not enforce
	// (there is no soft one). Every peer applies the same writes, so every
	// peer counts the same.
	Exceeded map[string]int64
	// Refused counts the writes refused with zkerr.ErrQuotaExceeded by a
	// Pending of this tree (so, on the peer that led when they were
	// prepared): ZooKeeper's quota_exceeded_error_per_namespace.
	Refused map[string]int64
}

// quotaCounters is a Tree's QuotaCounters, safe for concurrent use.
type quotaCounters struct {
	mu       sync.Mutex
	exceeded map[string]int64
	refused  map[string]int64
}

// QuotaCounters returns a copy of the tree's quota counters.
func (t *Tree) QuotaCounters() QuotaCounters {
	c := &t.quota
	c.mu.Lock()
	defer c.mu.Unlock()
	out := QuotaCounters{Exceeded: map[string]int64{}, Refused: map[string]int64{}}
	for k, v := range c.exceeded {
		out.Exceeded[k] = v
	}
	for k, v := range c.refused {
		out.Refused[k] = v
	}
	return out
}

// note counts the notes of one txn: refusals from Prepare (refusals only),
// past-limit writes from Apply. It logs a write that took a usage past a
// soft limit at Warn, once per crossing (a quota that stays past its limit
// logs no more), and the rest at Debug.
func (c *quotaCounters) note(notes []quotaNote, prepared bool, log *slog.Logger) {
	if len(notes) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range notes {
		if n.refused != prepared {
			continue
		}
		attrs := []any{"quota", n.root, "limit", n.what, "usage", n.usage, "max", n.limit}
		if n.refused {
			if c.refused == nil {
				c.refused = map[string]int64{}
			}
			c.refused[n.namespace]++
			log.Debug("zk: write refused by a hard quota", attrs...)
			continue
		}
		if c.exceeded == nil {
			c.exceeded = map[string]int64{}
		}
		c.exceeded[n.namespace]++
		if n.crossed {
			log.Warn("zk: quota exceeded", attrs...)
		} else {
			log.Debug("zk: quota exceeded", attrs...)
		}
	}
}

// Quotas returns every quota the tree counts (a limits node for a path that
// is not the root and not in /zookeeper), sorted by path, with its limits
// and usage, as of one applied zxid.
func (t *Tree) Quotas() ([]QuotaInfo, error) {
	snap := t.db.NewSnapshot()
	defer snap.Close()
	s := &state{v: newView(pebbleReader{snap})}
	paths, err := s.quotasBelow("")
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	out := make([]QuotaInfo, 0, len(paths))
	for _, p := range paths {
		info := QuotaInfo{Path: p, Usage: QuotaUsage{Count: -1, Bytes: -1}}
		if info.Limits, err = s.quotaLimits(p); err != nil {
			return nil, err
		}
		n, ok, err := s.getNode(QuotaStatsPath(p))
		if err != nil {
			return nil, err
		}
		if ok {
			if u, err := ParseQuotaUsage(n.data); err == nil {
				info.Usage = u
			}
		}
		out = append(out, info)
	}
	return out, nil
}

// VerifyQuotas recounts the usage of every quota from the tree and
// compares it with its stats node; it returns an error naming every quota
// whose stats differ (or are missing). A tree whose stats only ever changed
// through Apply always passes: the invariant the tests check on every peer,
// after restarts and snapshot transfers.
func (t *Tree) VerifyQuotas() error {
	snap := t.db.NewSnapshot()
	defer snap.Close()
	s := &state{v: newView(pebbleReader{snap})}
	paths, err := s.quotasBelow("")
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range paths {
		want, err := s.quotaUsage(p)
		if err != nil {
			return err
		}
		n, ok, err := s.getNode(QuotaStatsPath(p))
		if err != nil {
			return err
		}
		if !ok {
			errs = append(errs, fmt.Errorf("quota %s: no stats node (usage %+v)", p, want))
			continue
		}
		if got, err := ParseQuotaUsage(n.data); err != nil || got != want {
			errs = append(errs, fmt.Errorf("quota %s: stats %q, recounted %q", p, n.data, encodeUsage(want)))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("znode: %w: %w", errCorrupt, errors.Join(errs...))
	}
	return nil
}

// CheckSetQuota runs the checks of a SetQuota on path against the applied
// tree, as zkCli's setquota does before writing: the path can have a quota,
// exists, and has no quota above or below it. A nil error does not promise
// that the txn will pass (the tree may change before it applies); it gives
// the reasons a failure ordered by the leader carries only as a code.
func (t *Tree) CheckSetQuota(path string) error {
	if err := CheckQuotaPath(path); err != nil {
		return err
	}
	snap := t.db.NewSnapshot()
	defer snap.Close()
	s := &state{v: newView(pebbleReader{snap})}
	r, err := s.quotaSetChecks(path)
	if err != nil {
		return err
	}
	return derefResult(r).Err
}
