package znode

import (
	"fmt"

	"github.com/embedzk/zk/internal/zkerr"
)

// multi applies the ops in order, each seeing the effects of the ones before
// it, all or nothing. On failure the caller drops the view, so nothing but
// the applied zxid changes; the per-op results follow ZooKeeper: ops before
// the failing one report a nil Err (and nothing else), the failing op its
// error, the ops after it zkerr.ErrRuntimeInconsistency. Every op runs with
// the multi's Session and Time.
func (s *state) multi(t *Txn) (Result, error) {
	results := make([]Result, len(t.Ops))
	var failed error
	for i := range t.Ops {
		if failed != nil {
			results[i] = Result{Err: zkerr.ErrRuntimeInconsistency}
			continue
		}
		op := &t.Ops[i]
		var r Result
		var err error
		switch op.Type {
		case TxnCreate:
			r, err = s.create(op, t.Session, t.Time)
		case TxnDelete:
			r, err = s.delete(op)
		case TxnSetData:
			r, err = s.setData(op, t.Time)
		case TxnCheck:
			r, err = s.checkVersion(op)
		default:
			r = zkErr(zkerr.ErrBadArguments, fmt.Sprintf("op %d of a multi has type %d", i, op.Type))
		}
		if err != nil {
			return Result{}, err
		}
		results[i] = r
		if r.Err != nil {
			failed = r.Err
			for j := range i {
				results[j] = Result{}
			}
		}
	}
	if failed != nil {
		s.changes = s.changes[:0]
		return Result{Err: failed, Multi: results}, nil
	}
	return Result{Multi: results}, nil
}
