package znode

import (
	"fmt"

	"github.com/embedzk/zk/internal/zkerr"
)

// QuotaField selects limits of a quota, for DeleteQuotaTxn.
type QuotaField uint8

// The limits of a quota.
const (
	QuotaFieldCount     QuotaField = 1 << iota // soft count (zkCli delquota -n)
	QuotaFieldBytes                            // soft bytes (-b)
	QuotaFieldCountHard                        // hard count (-N)
	QuotaFieldBytesHard                        // hard bytes (-B)
)

var quotaFieldKeys = []struct {
	f   QuotaField
	key string
}{
	{QuotaFieldCount, trackCount}, {QuotaFieldBytes, trackBytes},
	{QuotaFieldCountHard, trackCountHard}, {QuotaFieldBytesHard, trackBytesHard},
}

// SetQuotaTxn returns the txn that sets limits on path's quota, creating the
// quota if there is none: a limit of -1 is left as it is (none, on a new
// quota), as repeated zkCli setquota calls merge. Apply checks it as zkCli's
// setquota does (the path exists, no quota above or below it) and makes
// the quota's nodes with plain creates and setData (their ACL checks and
// watch events included), all in one txn.
func SetQuotaTxn(path string, limits QuotaLimits) *Txn {
	return &Txn{Type: TxnSetQuota, Path: path, Data: EncodeQuotaLimits(limits)}
}

// DeleteQuotaTxn returns the txn that deletes path's quota (its two nodes
// and the quota tree's directories left empty), or with fields only resets
// those limits to none, as zkCli's delquota [-n|-b|-N|-B].
func DeleteQuotaTxn(path string, fields QuotaField) *Txn {
	t := &Txn{Type: TxnDeleteQuota, Path: path}
	if fields != 0 {
		which := statsTrack{}
		for _, k := range quotaFieldKeys {
			if fields&k.f != 0 {
				which[k.key] = 1 // DelQuotaCommand's own convention
			}
		}
		t.Data = which.encode()
	}
	return t
}

// setQuota applies a TxnSetQuota, as zkCli's SetQuotaCommand.createQuota
// but atomically: the path's checks, then the quota tree's directories,
// the limits node (created with the given limits, or updated with them) and
// the stats node (whose create computes the usage).
func (s *state) setQuota(t *Txn) (Result, error) {
	if err := CheckQuotaPath(t.Path); err != nil {
		return Result{Err: err}, nil
	}
	given, err := ParseQuotaLimits(t.Data)
	if err == nil {
		err = given.validate()
	}
	if err != nil {
		return Result{Err: err}, nil
	}
	if r, err := s.quotaSetChecks(t.Path); r != nil || err != nil {
		return derefResult(r), err
	}
	for i := 1; i <= len(t.Path); i++ {
		if i == len(t.Path) || t.Path[i] == '/' {
			if r, err := s.ensureQuotaNode(t, QuotaPath+t.Path[:i], nil); r != nil || err != nil {
				return derefResult(r), err
			}
		}
	}
	if r, err := s.writeLimits(t, given); r != nil || err != nil {
		return derefResult(r), err
	}
	if r, err := s.ensureQuotaNode(t, QuotaStatsPath(t.Path), encodeUsage(QuotaUsage{})); r != nil || err != nil {
		return derefResult(r), err
	}
	return Result{Path: t.Path}, nil
}

// quotaSetChecks runs zkCli's checks, in its order: the path exists, no
// quota below it, none above it.
func (s *state) quotaSetChecks(path string) (*Result, error) {
	if ok, err := s.exists(path); err != nil || !ok {
		r := zkErr(zkerr.ErrNoNode, path)
		return &r, err
	}
	below, err := s.quotasBelow(path)
	if err != nil {
		return nil, err
	}
	if len(below) > 0 {
		r := Result{Err: fmt.Errorf("%w: %s has a child %s which has a quota", zkerr.ErrBadArguments, path, below[0])}
		return &r, nil
	}
	above, ok, err := s.quotaAbove(path)
	if err != nil || !ok {
		return nil, err
	}
	r := Result{Err: fmt.Errorf("%w: %s has a parent %s which has a quota", zkerr.ErrBadArguments, path, above)}
	return &r, nil
}

// ensureQuotaNode creates a persistent, open node at path with data unless
// there is one, as the txn's session at its time.
func (s *state) ensureQuotaNode(t *Txn, path string, data []byte) (*Result, error) {
	if ok, err := s.exists(path); err != nil || ok {
		return nil, err
	}
	c := &Txn{Type: TxnCreate, Path: path, Data: data, Mode: ModePersistent, ACL: OpenACLUnsafe()}
	r, err := s.create(c, t.Session, t.Time)
	if err != nil || r.Err != nil {
		return &r, err
	}
	return nil, nil
}

// writeLimits creates the limits node with given (the limits not given
// none), or merges given into the existing limits (keeping keys zk does not
// know).
func (s *state) writeLimits(t *Txn, given QuotaLimits) (*Result, error) {
	path := QuotaLimitsPath(t.Path)
	n, ok, err := s.getNode(path)
	if err != nil {
		return nil, err
	}
	if !ok {
		return s.ensureQuotaNode(t, path, EncodeQuotaLimits(given))
	}
	cur, err := parseStatsTrack(n.data)
	if err != nil {
		r := Result{Err: fmt.Errorf("%w: the limits node %s is malformed (delete the quota first): %v", zkerr.ErrBadArguments, path, err)}
		return &r, nil
	}
	for k, v := range given.track() {
		if v > -1 {
			cur[k] = v
		}
	}
	r, err := s.setData(&Txn{Type: TxnSetData, Path: path, Data: cur.encode(), Version: -1}, t.Time)
	if err != nil || r.Err != nil {
		return &r, err
	}
	return nil, nil
}

// deleteQuota applies a TxnDeleteQuota, as zkCli's DelQuotaCommand.delQuota
// but atomically: with fields in Data it resets them in the limits node;
// without, it deletes the limits and stats nodes, then the quota tree's
// directories that are left empty, up to /zookeeper/quota. A path without
// a quota is ErrNoNode (zkCli prints "Quota does not exist").
func (s *state) deleteQuota(t *Txn) (Result, error) {
	if r := validPath(t.Path); r != nil {
		return *r, nil
	}
	limitsPath := QuotaLimitsPath(t.Path)
	n, ok, err := s.getNode(limitsPath)
	if err != nil || !ok {
		return zkErr(zkerr.ErrNoNode, "no quota on "+t.Path), err
	}
	if len(t.Data) > 0 {
		return s.resetLimits(t, limitsPath, n)
	}
	for _, p := range []string{QuotaStatsPath(t.Path), limitsPath} {
		if ok, err := s.exists(p); err != nil || !ok {
			if err != nil {
				return Result{}, err
			}
			continue
		}
		if r, err := s.delete(&Txn{Type: TxnDelete, Path: p, Version: -1}); err != nil || r.Err != nil {
			return r, err
		}
	}
	for dir := QuotaPath + t.Path; dir != QuotaPath; dir = Parent(dir) {
		d, ok, err := s.getNode(dir)
		if err != nil {
			return Result{}, err
		}
		if !ok || d.numChildren > 0 {
			break
		}
		if r, err := s.delete(&Txn{Type: TxnDelete, Path: dir, Version: -1}); err != nil || r.Err != nil {
			return r, err
		}
	}
	return Result{Path: t.Path}, nil
}

// resetLimits sets the limits named in t.Data to -1 in the limits node n.
func (s *state) resetLimits(t *Txn, limitsPath string, n *node) (Result, error) {
	which, err := parseStatsTrack(t.Data)
	if err != nil {
		return Result{Err: err}, nil
	}
	cur, err := parseStatsTrack(n.data)
	if err != nil {
		return Result{Err: fmt.Errorf("%w: the limits node %s is malformed (delete the whole quota): %v", zkerr.ErrBadArguments, limitsPath, err)}, nil
	}
	reset := false
	for _, k := range quotaFieldKeys {
		if which.get(k.key) > 0 {
			cur[k.key] = -1
			reset = true
		}
	}
	if !reset {
		return zkErr(zkerr.ErrBadArguments, "delete quota: no limit selected"), nil
	}
	r, err := s.setData(&Txn{Type: TxnSetData, Path: limitsPath, Data: cur.encode(), Version: -1}, t.Time)
	if err != nil || r.Err != nil {
		return r, err
	}
	return Result{Path: t.Path}, nil
}
