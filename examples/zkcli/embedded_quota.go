package main

import (
	"context"
	"errors"
	"regexp"

	"github.com/embedzk/zk"
)

// The embedded session keeps quotas (zk's SetQuota, ListQuota and
// DeleteQuota), with ZooKeeper's nodes under /zookeeper/quota.
var _ QuotaConn = (*embeddedConn)(nil)

// zkQuota converts the shell's limits (-1: none) to zk's (0: none).
func zkQuota(q Quota) zk.Quota {
	none := func(v int64) int64 {
		if v < 0 {
			return 0
		}
		return v
	}
	return zk.Quota{Count: none(q.Count), Bytes: none(q.Bytes), CountHard: none(q.CountHard), BytesHard: none(q.BytesHard)}
}

// shellQuota converts zk's limits (0: none) to the shell's (-1: none), as
// ZooKeeper's StatsTrack holds them.
func shellQuota(q zk.Quota) Quota {
	none := func(v int64) int64 {
		if v == 0 {
			return -1
		}
		return v
	}
	return Quota{Count: none(q.Count), Bytes: none(q.Bytes), CountHard: none(q.CountHard), BytesHard: none(q.BytesHard)}
}

// quotaReason finds ZooKeeper's sentence in zk's refusal of a quota.
var quotaReason = regexp.MustCompile(`\S+ has a (parent|child) \S+ which has a quota`)

func (c *embeddedConn) SetQuota(ctx context.Context, path string, q Quota) error {
	err := c.sess.SetQuota(ctx, path, zkQuota(q))
	if errors.Is(err, zk.ErrBadArguments) {
		if m := quotaReason.FindString(err.Error()); m != "" {
			return &QuotaRefusal{Reason: m, Err: err}
		}
	}
	return err
}

func (c *embeddedConn) ListQuota(ctx context.Context, path string) (Quota, QuotaUsage, error) {
	q, u, err := c.sess.ListQuota(ctx, path)
	if err != nil {
		return Quota{}, QuotaUsage{}, err
	}
	return shellQuota(q), QuotaUsage{Count: u.Count, Bytes: u.Bytes}, nil
}

func (c *embeddedConn) DelQuota(ctx context.Context, path string, clear *Quota) error {
	var limits []zk.QuotaLimit
	if clear != nil {
		for _, f := range []struct {
			v     int64
			limit zk.QuotaLimit
		}{{clear.Count, zk.QuotaCount}, {clear.Bytes, zk.QuotaBytes}, {clear.CountHard, zk.QuotaCountHard}, {clear.BytesHard, zk.QuotaBytesHard}} {
			if f.v != -1 {
				limits = append(limits, f.limit)
			}
		}
	}
	return c.sess.DeleteQuota(ctx, path, limits...)
}
