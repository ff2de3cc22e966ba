package znode

import (
	"fmt"
	"strings"

	"github.com/embedzk/zk/internal/zkerr"
)

// Quotas, as ZooKeeper 3.8 keeps them. A quota on path P is the node
// /zookeeper/quota/P/zookeeper_limits, holding its limits, beside
// /zookeeper/quota/P/zookeeper_stats, holding the usage of P's subtree (the
// number of nodes, P included, and the bytes of their data). Nothing else
// records a quota: the tree is its own index, so a quota set by zkCli's
// plain creates, by a snapshot or by SetQuota counts alike.
//
// Every create, delete (also of ephemerals and reaped nodes) and setData
// below P updates P's stats node in the same txn (DataTree.updateQuotaStat),
// without changing its version or mzxid; the stats node's creation computes
// the usage (DataTree.updateQuotaForPath). A write is charged to the
// deepest quota above it. The root and the /zookeeper tree are never
// counted (ZooKeeper counts none on /; zk refuses quotas in /zookeeper,
// whose own quota nodes would count themselves).
//
// When the pipeline enforces quotas (Options.EnforceQuota, ZooKeeper's
// zookeeper.enforceQuota), Prepare refuses a create or setData that would
// take a usage past a hard limit with zkerr.ErrQuotaExceeded, at the point
// of ZooKeeper's checkQuota (after a create's existence checks, before a
// setData's version check). Unlike ZooKeeper, which checks each op against
// the committed tree only, the check sees every txn prepared before and the
// earlier ops of the same multi: a multi whose ops together pass a hard
// limit fails. Apply never refuses: the leader decided, as for ACLs. A soft
// limit (or a hard one not enforced) only counts and logs (QuotaCounters).

// The names of a quota's two nodes.
const (
	QuotaLimitsName = "zookeeper_limits"
	QuotaStatsName  = "zookeeper_stats"
)

// QuotaLimitsPath returns the path of the limits node of a quota on path.
func QuotaLimitsPath(path string) string { return QuotaPath + path + "/" + QuotaLimitsName }

// QuotaStatsPath returns the path of the stats node of a quota on path.
func QuotaStatsPath(path string) string { return QuotaPath + path + "/" + QuotaStatsName }

// quotaCounted reports whether a quota on path is counted: not on the root,
// not in the /zookeeper tree.
func quotaCounted(path string) bool {
	return path != RootPath && path != SystemPath && !strings.HasPrefix(path, SystemPath+"/")
}

// CheckQuotaPath reports why path cannot have a quota: the root, the
// /zookeeper tree, and paths with a component named like a quota node (its
// quota nodes would collide with another path's) cannot. The error wraps
// zkerr.ErrBadArguments (or zkerr.ErrInvalidPath for an invalid path).
func CheckQuotaPath(path string) error {
	if err := ValidatePath(path); err != nil {
		return fmt.Errorf("%w: %w", zkerr.ErrBadArguments, err)
	}
	if !quotaCounted(path) {
		return fmt.Errorf("%w: no quota can be set on %s (the root and /zookeeper are excluded)", zkerr.ErrBadArguments, path)
	}
	for _, c := range strings.Split(path[1:], "/") {
		if c == QuotaLimitsName || c == QuotaStatsName {
			return fmt.Errorf("%w: no quota can be set on %s: %q is the name of a quota node", zkerr.ErrBadArguments, path, c)
		}
	}
	return nil
}

// quotaState is what one run of a txn knows and learns about quotas.
type quotaState struct {
	enforce bool // refuse writes past a hard limit (Prepare on an enforcing leader)
	notes   []quotaNote
}

// quotaNote records a write that went past a limit.
type quotaNote struct {
	root      string // the quota's path
	namespace string // the written path's first component, as ZooKeeper's metrics key it
	refused   bool   // refused by a hard limit; otherwise past a soft (or unenforced hard) limit
	crossed   bool   // the usage was within the limit before this write
	what      string // "count" or "bytes"
	usage     int64  // the usage the write makes (or would have made)
	limit     int64
}

// namespaceOf returns the first component of path ("a" for "/a/b").
func namespaceOf(path string) string {
	ns, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return ns
}

// exists reports whether a node is at path.
func (s *state) exists(path string) (bool, error) {
	_, ok, err := s.v.get(nodeKey(path))
	return ok, err
}

// quotaAt is a quota found above a path: its path and its two nodes (stats
// nil if missing).
type quotaAt struct {
	root          string
	limits, stats *node
}

// quotaRoot returns the deepest quota at or above path, as ZooKeeper's
// getMaxPrefixWithQuota. It walks down the quota tree along path and stops
// where it ends, or where a directory holds nothing but its quota's nodes:
// a write far from any quota reads one cached node (/zookeeper/quota, which
// has no children while there is no quota at all), a write below a quota
// about three nodes per level.
func (s *state) quotaRoot(path string) (quotaAt, bool, error) {
	var found quotaAt
	if !quotaCounted(path) {
		return found, false, nil
	}
	if kids, err := s.quotaTopChildren(); err != nil || kids == 0 {
		return found, false, err
	}
	for i := 1; i <= len(path); i++ {
		if i < len(path) && path[i] != '/' {
			continue
		}
		prefix := path[:i]
		dir, ok, err := s.getNode(QuotaPath + prefix)
		if err != nil || !ok || dir.numChildren == 0 {
			return found, found.root != "", err
		}
		l, ok, err := s.getNode(QuotaLimitsPath(prefix))
		if err != nil {
			return found, false, err
		}
		known := int32(0)
		if ok {
			st, hasStats, err := s.getNode(QuotaStatsPath(prefix))
			if err != nil {
				return found, false, err
			}
			found, known = quotaAt{root: prefix, limits: l, stats: st}, 1
			if hasStats {
				known++
			}
		}
		if dir.numChildren <= known {
			break // no quota directory below this one
		}
	}
	return found, found.root != "", nil
}

// quotaLimits returns the limits of the quota on root; malformed or
// missing limits are no limits.
func (s *state) quotaLimits(root string) (QuotaLimits, error) {
	n, ok, err := s.getNode(QuotaLimitsPath(root))
	if err != nil || !ok {
		return NoQuotaLimits, err
	}
	l, err := ParseQuotaLimits(n.data)
	if err != nil {
		return NoQuotaLimits, nil
	}
	return l, nil
}

// quotaCharge adds dCount nodes and dBytes bytes to the usage of the quota
// over path, if there is one with a readable stats node (ZooKeeper counts
// nothing without one). With enforce it first refuses a write that takes a
// usage that changes past its hard limit, as ZooKeeper's checkQuota; the
// refusal is a Result with zkerr.ErrQuotaExceeded naming the quota.
func (s *state) quotaCharge(path string, dCount, dBytes int64, enforce bool) (*Result, error) {
	at, ok, err := s.quotaRoot(path)
	if err != nil || !ok || at.stats == nil {
		return nil, err
	}
	root, sn := at.root, at.stats
	usage, err := parseStatsTrack(sn.data)
	if err != nil {
		return nil, nil // unreadable stats count nothing
	}
	limits, err := ParseQuotaLimits(at.limits.data)
	if err != nil {
		limits = NoQuotaLimits
	}
	prev := QuotaUsage{Count: usage.get(trackCount), Bytes: usage.get(trackBytes)}
	next := QuotaUsage{Count: prev.Count + dCount, Bytes: prev.Bytes + dBytes}
	note := quotaNote{root: root, namespace: namespaceOf(path)}
	if enforce {
		if past(&note, "count", dCount != 0, limits.CountHard, prev.Count, next.Count) ||
			past(&note, "bytes", dBytes != 0, limits.BytesHard, prev.Bytes, next.Bytes) {
			note.refused = true
			s.quota.notes = append(s.quota.notes, note)
			r := Result{Err: fmt.Errorf("%w: %s (%s %d > hard limit %d)", zkerr.ErrQuotaExceeded, root, note.what, note.usage, note.limit)}
			return &r, nil
		}
	}
	usage[trackCount], usage[trackBytes] = next.Count, next.Bytes
	nn := *sn
	nn.data = usage.encode()
	nn.dataHash = dataHash(nn.data)
	s.updateNode(QuotaStatsPath(root), sn, &nn)
	// A soft limit, or a hard one where there is none: what ZooKeeper
	// compares a write with.
	if past(&note, "count", dCount > 0, softOr(limits.Count, limits.CountHard), prev.Count, next.Count) ||
		past(&note, "bytes", dBytes > 0, softOr(limits.Bytes, limits.BytesHard), prev.Bytes, next.Bytes) {
		s.quota.notes = append(s.quota.notes, note)
	}
	return nil, nil
}

func softOr(soft, hard int64) int64 {
	if soft > -1 {
		return soft
	}
	return hard
}

// past reports whether a usage that changed (changed) from prev to next is
// past limit (-1: none), filling note if so.
func past(note *quotaNote, what string, changed bool, limit, prev, next int64) bool {
	if !changed || limit < 0 || next <= limit {
		return false
	}
	note.what, note.usage, note.limit, note.crossed = what, next, limit, prev <= limit
	return true
}

// quotaCreate charges the create of path with data to its quota (refusing
// it past a hard limit when enforcing) and returns the data to store: a
// zookeeper_stats node created for a counted path gets that path's usage,
// whatever data the create carried, as ZooKeeper's
// DataTree.updateQuotaForPath writes it.
func (s *state) quotaCreate(path string, data []byte) ([]byte, *Result, error) {
	if r, err := s.quotaCharge(path, 1, int64(len(data)), s.quota.enforce); r != nil || err != nil {
		return nil, r, err
	}
	target, ok := statsNodeTarget(path)
	if !ok {
		return data, nil, nil
	}
	u, err := s.quotaUsage(target)
	if err != nil {
		return nil, nil, err
	}
	return encodeUsage(u), nil, nil
}

// statsNodeTarget returns the path whose usage the stats node at path
// holds, if path is one.
func statsNodeTarget(path string) (string, bool) {
	if Base(path) != QuotaStatsName {
		return "", false
	}
	target, ok := strings.CutPrefix(Parent(path), QuotaPath)
	if !ok || target == "" || target[0] != '/' || !quotaCounted(target) {
		return "", false
	}
	return target, true
}

// quotaUsage counts the usage of the quota on root: root and its
// descendants, except those below a deeper quota (which counts them). With
// nested quotas (which SetQuota refuses, but plain creates can make) this
// differs from ZooKeeper, whose stats then depend on history.
func (s *state) quotaUsage(root string) (QuotaUsage, error) {
	var u QuotaUsage
	n, ok, err := s.getNode(root)
	if err != nil || !ok {
		return u, err
	}
	u.Count, u.Bytes = 1, int64(len(n.data))
	inner, err := s.quotasBelow(root)
	if err != nil {
		return u, err
	}
	for _, p := range descendantPrefixes(root) {
		var derr error
		err := s.v.scan(p, func(key, val []byte) bool {
			path, ok := pathFromNodeKey(key)
			if !ok || belowAny(path, inner) {
				return true
			}
			dn, err := decodeNode(val)
			if err != nil {
				derr = fmt.Errorf("znode: node %q: %w", path, err)
				return false
			}
			u.Count++
			u.Bytes += int64(len(dn.data))
			return true
		})
		if err == nil {
			err = derr
		}
		if err != nil {
			return u, err
		}
	}
	return u, nil
}

// belowAny reports whether path is one of roots or below one.
func belowAny(path string, roots []string) bool {
	for _, r := range roots {
		if path == r || strings.HasPrefix(path, r+"/") {
			return true
		}
	}
	return false
}

// quotasBelow returns the counted paths strictly below path ("" for all)
// that have a quota, in key order.
func (s *state) quotasBelow(path string) ([]string, error) {
	var out []string
	for _, p := range descendantPrefixes(QuotaPath + path) {
		err := s.v.scan(p, func(key, _ []byte) bool {
			full, ok := pathFromNodeKey(key)
			if !ok || Base(full) != QuotaLimitsName {
				return true
			}
			target := strings.TrimPrefix(Parent(full), QuotaPath)
			if target != path && quotaCounted(target) && strings.HasPrefix(target, "/") {
				out = append(out, target)
			}
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// quotaAbove returns the highest proper ancestor of path that has a quota,
// as zkCli's checkIfParentQuota finds it.
func (s *state) quotaAbove(path string) (string, bool, error) {
	for i := 1; i < len(path); i++ {
		if path[i] != '/' {
			continue
		}
		prefix := path[:i]
		has, err := s.exists(QuotaLimitsPath(prefix))
		if err != nil || has {
			return prefix, has, err
		}
	}
	return "", false, nil
}
