package main

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/embedzk/zk"
)

// A remote session keeps quotas as zkCli does against a server: with
// plain reads and writes of the nodes under /zookeeper/quota (a
// zookeeper_limits node per quota, holding its StatsTrack, beside the
// zookeeper_stats node the server keeps up to date).
var _ QuotaConn = (*remoteConn)(nil)

const (
	limitNode = "zookeeper_limits"
	statNode  = "zookeeper_stats"
)

// parseStatsTrack reads ZooKeeper's StatsTrack text ("count=5,bytes=-1=;
// byteHardLimit=-1;countHardLimit=10"): pairs split by ',' or ';', each
// key=value; a key it lacks is -1.
func parseStatsTrack(b []byte) map[string]int64 {
	out := map[string]int64{}
	for _, pair := range strings.FieldsFunc(string(b), func(r rune) bool { return r == ',' || r == ';' }) {
		kv := strings.Split(pair, "=")
		if len(kv) < 2 {
			continue
		}
		if v, err := strconv.ParseInt(kv[1], 10, 64); err == nil {
			out[kv[0]] = v
		}
	}
	return out
}

func trackValue(m map[string]int64, key string) int64 {
	if v, ok := m[key]; ok {
		return v
	}
	return -1
}

func quotaOf(m map[string]int64) Quota {
	return Quota{
		Count: trackValue(m, "count"), Bytes: trackValue(m, "bytes"),
		CountHard: trackValue(m, "countHardLimit"), BytesHard: trackValue(m, "byteHardLimit"),
	}
}

// SetQuota is zkCli's SetQuotaCommand.createQuota.
func (c *remoteConn) SetQuota(ctx context.Context, path string, q Quota) error {
	ok, _, err := c.cl.Exists(ctx, path, false)
	if err != nil {
		return err
	}
	if !ok {
		return zk.ErrNoNode
	}
	if err := c.checkChildQuota(ctx, path, quotaPath+path); err != nil {
		return err
	}
	if err := c.checkParentQuota(ctx, path); err != nil {
		return err
	}
	qp := quotaPath
	for _, part := range strings.Split(path, "/")[1:] {
		qp += "/" + part
		if err := c.createIfMissing(ctx, qp, nil); err != nil {
			return err
		}
	}
	limits, stats := qp+"/"+limitNode, qp+"/"+statNode
	data, _, err := c.cl.Get(ctx, limits, false)
	if errors.Is(err, zk.ErrNoNode) {
		if _, _, err := c.cl.Create(ctx, limits, []byte(statsTrack(q)), openACL, zk.ModePersistent, 0); err != nil {
			return err
		}
		_, _, err = c.cl.Create(ctx, stats, []byte("count=0,bytes=0"), openACL, zk.ModePersistent, 0)
		return err
	}
	if err != nil {
		return err
	}
	cur := quotaOf(parseStatsTrack(data))
	for _, f := range []struct{ set, dst *int64 }{{&q.Count, &cur.Count}, {&q.Bytes, &cur.Bytes}, {&q.CountHard, &cur.CountHard}, {&q.BytesHard, &cur.BytesHard}} {
		if *f.set > -1 {
			*f.dst = *f.set
		}
	}
	_, err = c.cl.Set(ctx, limits, []byte(statsTrack(cur)), -1)
	return err
}

var openACL = []zk.ACL{{Perms: zk.PermAll, Scheme: "world", ID: "anyone"}}

func (c *remoteConn) createIfMissing(ctx context.Context, path string, data []byte) error {
	_, _, err := c.cl.Create(ctx, path, data, openACL, zk.ModePersistent, 0)
	if errors.Is(err, zk.ErrNodeExists) {
		return nil
	}
	return err
}

// checkChildQuota refuses a quota on path when a node below it has one
// (zkCli's checkIfChildQuota: a depth-first walk of path's quota tree).
func (c *remoteConn) checkChildQuota(ctx context.Context, path, qp string) error {
	children, _, err := c.cl.Children(ctx, qp, false)
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, child := range children {
		if qp != quotaPath+path && child == limitNode {
			return &QuotaRefusal{Reason: path + " has a child " + strings.TrimPrefix(qp, quotaPath) + " which has a quota", Err: zk.ErrBadArguments}
		}
	}
	for _, child := range children {
		if err := c.checkChildQuota(ctx, path, qp+"/"+child); err != nil {
			return err
		}
	}
	return nil
}

// checkParentQuota refuses a quota on path when a node above it has one
// (zkCli's checkIfParentQuota).
func (c *remoteConn) checkParentQuota(ctx context.Context, path string) error {
	parts := strings.Split(path, "/")
	qp := quotaPath
	for i := 1; i < len(parts)-1; i++ {
		qp += "/" + parts[i]
		children, _, err := c.cl.Children(ctx, qp, false)
		if errors.Is(err, zk.ErrNoNode) || (err == nil && len(children) == 0) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, child := range children {
			if child == limitNode {
				return &QuotaRefusal{Reason: path + " has a parent " + strings.TrimPrefix(qp, quotaPath) + " which has a quota", Err: zk.ErrBadArguments}
			}
		}
	}
	return nil
}

// ListQuota reads path's limits and stats nodes; zk.ErrNoNode without a
// quota.
func (c *remoteConn) ListQuota(ctx context.Context, path string) (Quota, QuotaUsage, error) {
	limits, _, err := c.cl.Get(ctx, quotaPath+path+"/"+limitNode, false)
	if err != nil {
		return Quota{}, QuotaUsage{}, err
	}
	stats, _, err := c.cl.Get(ctx, quotaPath+path+"/"+statNode, false)
	if err != nil {
		return Quota{}, QuotaUsage{}, err
	}
	u := parseStatsTrack(stats)
	return quotaOf(parseStatsTrack(limits)), QuotaUsage{Count: trackValue(u, "count"), Bytes: trackValue(u, "bytes")}, nil
}

// DelQuota is zkCli's DelQuotaCommand.delQuota: without clear it deletes
// the quota's nodes and the quota tree's nodes left empty; with clear it
// sets the limits named to -1.
func (c *remoteConn) DelQuota(ctx context.Context, path string, clear *Quota) error {
	parent := quotaPath + path
	limits := parent + "/" + limitNode
	data, _, err := c.cl.Get(ctx, limits, false)
	if err != nil {
		return err
	}
	if clear != nil {
		q := quotaOf(parseStatsTrack(data))
		for _, f := range []struct{ clear, dst *int64 }{{&clear.Count, &q.Count}, {&clear.Bytes, &q.Bytes}, {&clear.CountHard, &q.CountHard}, {&clear.BytesHard, &q.BytesHard}} {
			if *f.clear > 0 {
				*f.dst = -1
			}
		}
		_, err := c.cl.Set(ctx, limits, []byte(statsTrack(q)), -1)
		return err
	}
	children, _, err := c.cl.Children(ctx, parent, false)
	if err != nil {
		return err
	}
	for _, child := range children {
		if err := c.cl.Delete(ctx, parent+"/"+child, -1); err != nil {
			return err
		}
	}
	// Trim the quota tree up to the first node with other children.
	for p := parent; p != quotaPath; p = p[:strings.LastIndexByte(p, '/')] {
		kids, _, err := c.cl.Children(ctx, p, false)
		if err != nil || len(kids) > 0 {
			return err
		}
		if err := c.cl.Delete(ctx, p, -1); err != nil {
			return err
		}
	}
	return nil
}
