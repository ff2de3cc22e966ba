package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// ErrQuotaExceeded is ZooKeeper's QUOTAEXCEEDED (-125): with
// Config.EnforceQuota, a create or set that would take a subtree past a
// hard quota.
var ErrQuotaExceeded = zkerr.ErrQuotaExceeded

// Quota is a quota on a subtree, as ZooKeeper 3.8 keeps it: limits on the
// number of its nodes (its root included) and on the bytes of their data.
// Zero means no limit. A write past a soft limit succeeds, logs a warning
// (Config.Logger) and counts; a create or set past a hard limit fails with
// ErrQuotaExceeded when the leader enforces quotas (Config.EnforceQuota),
// and is treated as past a soft limit otherwise.
//
// A byte limit of 0, which zkCli's setquota -b 0 can store, cannot be set
// here (0 means none) and reads as 0; it is enforced as ZooKeeper enforces
// it.
type Quota struct {
	Count     int64 // soft limit on the number of nodes (zkCli setquota -n)
	Bytes     int64 // soft limit on the bytes of data (setquota -b)
	CountHard int64 // hard limit on the number of nodes (setquota -N)
	BytesHard int64 // hard limit on the bytes of data (setquota -B)
}

// QuotaUsage is what a quota counts: the nodes of its subtree (its root
// included) and the bytes of their data.
type QuotaUsage = znode.QuotaUsage

// QuotaLimit names limits of a Quota, for DeleteQuota.
type QuotaLimit = znode.QuotaField

// The limits of a Quota.
const (
	QuotaCount     = znode.QuotaFieldCount     // the soft count (zkCli delquota -n)
	QuotaBytes     = znode.QuotaFieldBytes     // the soft bytes (delquota -b)
	QuotaCountHard = znode.QuotaFieldCountHard // the hard count (delquota -N)
	QuotaBytesHard = znode.QuotaFieldBytesHard // the hard bytes (delquota -B)
)

// stored returns q as the limits node stores them: -1 for none (here: not
// given, so left as it is).
func (q Quota) stored() (znode.QuotaLimits, error) {
	l := znode.NoQuotaLimits
	for _, f := range []struct {
		name string
		v    int64
		dst  *int64
	}{{"Count", q.Count, &l.Count}, {"Bytes", q.Bytes, &l.Bytes}, {"CountHard", q.CountHard, &l.CountHard}, {"BytesHard", q.BytesHard, &l.BytesHard}} {
		switch {
		case f.v < 0:
			return l, fmt.Errorf("%w: quota %s %d is negative", zkerr.ErrBadArguments, f.name, f.v)
		case f.v > 0:
			*f.dst = f.v
		}
	}
	if l == znode.NoQuotaLimits {
		return l, fmt.Errorf("%w: the quota sets no limit", zkerr.ErrBadArguments)
	}
	return l, nil
}

// quotaOf returns stored limits as a Quota (none: 0).
func quotaOf(l znode.QuotaLimits) Quota {
	pos := func(v int64) int64 { return max(v, 0) }
	return Quota{Count: pos(l.Count), Bytes: pos(l.Bytes), CountHard: pos(l.CountHard), BytesHard: pos(l.BytesHard)}
}

// SetQuota sets limits on the subtree at path, as zkCli's setquota: the
// limits given (non-zero) replace the quota's, the others stay as they are
// (none, on a new quota). It makes the nodes ZooKeeper makes, under
// /zookeeper/quota, in one write: the quota's directories, its
// zookeeper_limits node and its zookeeper_stats node, which the server
// keeps up to date from then on. It needs CREATE (and WRITE, to change a
// quota) on those nodes, which are open by default.
//
// As zkCli it refuses, with ErrNoNode, a path that does not exist and, with
// ErrBadArguments, a quota on a path below or above one that has a quota;
// with ErrBadArguments too, a quota on / or in /zookeeper, and negative or
// absent limits. Nothing changes then.
func (s *Session) SetQuota(ctx context.Context, path string, q Quota) error {
	if err := s.checkPath(path, false); err != nil {
		return err
	}
	if err := znode.CheckQuotaPath(path); err != nil {
		return opError("setQuota", path, err)
	}
	limits, err := q.stored()
	if err != nil {
		return opError("setQuota", path, err)
	}
	// The write checks everything again on the leader; checking first here
	// gives the reasons, which a failure ordered by the leader carries only
	// as a code.
	err = s.read(ctx, func() error { return s.e.tree.CheckSetQuota(path) })
	if err == nil {
		err = s.writeQuota(ctx, znode.SetQuotaTxn(path, limits))
	}
	return opError("setQuota", path, err)
}

// DeleteQuota deletes the quota on path, as zkCli's delquota: with no
// limits named, the whole quota (its limits and stats nodes, and the
// directories under /zookeeper/quota left empty); otherwise only the limits
// named, which become none. A path without a quota is ErrNoNode (zkCli
// prints "Quota does not exist").
func (s *Session) DeleteQuota(ctx context.Context, path string, limits ...QuotaLimit) error {
	if err := s.checkPath(path, false); err != nil {
		return err
	}
	var fields QuotaLimit
	for _, l := range limits {
		if l == 0 || l&^(QuotaCount|QuotaBytes|QuotaCountHard|QuotaBytesHard) != 0 {
			return opError("delQuota", path, fmt.Errorf("%w: unknown quota limit %d", zkerr.ErrBadArguments, l))
		}
		fields |= l
	}
	err := s.read(ctx, func() error {
		_, err := s.readNode(znode.QuotaLimitsPath(path), false, znode.PermRead)
		return noQuota(path, err)
	})
	if err == nil {
		err = s.writeQuota(ctx, znode.DeleteQuotaTxn(path, fields))
	}
	return opError("delQuota", path, err)
}

// ListQuota returns the quota on path and its usage, as zkCli's listquota
// reads them. A path without a quota is ErrNoNode. It needs READ on the
// quota's two nodes.
func (s *Session) ListQuota(ctx context.Context, path string) (Quota, QuotaUsage, error) {
	if err := s.checkPath(path, false); err != nil {
		return Quota{}, QuotaUsage{}, err
	}
	var l znode.QuotaLimits
	var u QuotaUsage
	err := s.read(ctx, func() (err error) {
		l, u, err = s.readQuota(path)
		return err
	})
	if err != nil {
		return Quota{}, QuotaUsage{}, opError("listQuota", path, err)
	}
	return quotaOf(l), u, nil
}

// readQuota reads the quota on path; the caller holds the apply lock.
func (s *Session) readQuota(path string) (znode.QuotaLimits, QuotaUsage, error) {
	ln, err := s.readNode(znode.QuotaLimitsPath(path), true, znode.PermRead)
	if err != nil {
		return znode.QuotaLimits{}, QuotaUsage{}, noQuota(path, err)
	}
	sn, err := s.readNode(znode.QuotaStatsPath(path), true, znode.PermRead)
	if err != nil {
		return znode.QuotaLimits{}, QuotaUsage{}, noQuota(path, err)
	}
	l, err := znode.ParseQuotaLimits(ln.Data)
	if err != nil {
		return znode.QuotaLimits{}, QuotaUsage{}, fmt.Errorf("%s: %w", znode.QuotaLimitsPath(path), err)
	}
	u, err := znode.ParseQuotaUsage(sn.Data)
	if err != nil {
		return znode.QuotaLimits{}, QuotaUsage{}, fmt.Errorf("%s: %w", znode.QuotaStatsPath(path), err)
	}
	return l, u, nil
}

// noQuota names a missing quota node as a missing quota.
func noQuota(path string, err error) error {
	if errors.Is(err, zkerr.ErrNoNode) {
		return fmt.Errorf("%w: no quota on %s", zkerr.ErrNoNode, path)
	}
	return err
}

func (s *Session) writeQuota(ctx context.Context, txn *znode.Txn) error {
	res, err := s.write(ctx, txn)
	if err == nil {
		err = res.Err
	}
	return err
}

// quotaCounters returns this peer's counts of writes past a quota's limit,
// per namespace (the first component of the written path): Exceeded, the
// writes this peer applied past a soft limit (or an unenforced hard one);
// Refused, the writes it refused with ErrQuotaExceeded while leading. For
// the metrics.
func (e *Ensemble) quotaCounters() znode.QuotaCounters { return e.tree.QuotaCounters() }

// quotas returns every quota with its limits and usage as this peer has
// applied them, sorted by path. For the metrics (ZooKeeper's
// quota_{count,bytes}_{limit,usage}_per_namespace).
func (e *Ensemble) quotas() ([]znode.QuotaInfo, error) {
	e.applyMu.RLock()
	defer e.applyMu.RUnlock()
	if e.closed.Load() {
		return nil, zkerr.ErrClosed
	}
	return e.tree.Quotas()
}

// setQuotaZooKey applies zoo.cfg's enforceQuota key (ZooKeeper reads every
// key it does not know as the system property "zookeeper." + key, here
// zookeeper.enforceQuota).
func (c *Config) setQuotaZooKey(key, value string) (known bool, err error) {
	if key != "enforceQuota" {
		return false, nil
	}
	c.EnforceQuota, err = zooBool(value)
	return true, err
}
