package wire

import (
	"errors"
	"fmt"
	"time"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// startMulti starts a multi. As in ZooKeeper, a multi that fails is still
// answered with a MultiResponse (reply header error 0): the ops before the
// failing one carry code 0, that op its error, the ops after it
// RUNTIMEINCONSISTENCY, all as error results. A multi refused before it
// runs gets that answer at once (the returned record), or, for a multi
// ZooKeeper cannot take apart (see readInMulti), an error alone.
func (c *conn) startMulti(s engine.RemoteSession, r *jute.MultiRequest) (*engine.Pending, jute.Record, error) {
	if err := readInMulti(r); err != nil {
		c.sess.AuditMultiFailed(err) // ZooKeeper's error txn, logged
		return nil, nil, err
	}
	ops := make([]engine.Op, len(r.Ops))
	for i := range r.Ops {
		op, err := toOp(&r.Ops[i])
		if err != nil {
			if !errors.Is(err, errUnknownFlags) { // ZooKeeper's audit fails on those
				c.sess.AuditMultiFailed(err) // the op ZooKeeper's prep fails
			}
			return nil, failedMulti(len(r.Ops), i, err), nil
		}
		ops[i] = op
	}
	if len(ops) == 0 {
		return nil, &jute.MultiResponse{}, nil
	}
	if i, err := c.sess.CheckOps(ops); err != nil {
		c.sess.AuditMultiRefused(err) // an invalid path, as ZooKeeper logs it
		return nil, failedMulti(len(ops), i, err), nil
	}
	return s.StartMulti(c.ctx, ops...), nil, nil
}

// readInMulti refuses a multi with a read op (getData, getChildren) among
// its ops with MARSHALLINGERROR, the whole request failing (a bare reply
// header), as ZooKeeper 3.8 does: its MultiOperationRecord refuses to
// decode reads mixed with writes, and PrepRequestProcessor fails a multi
// of reads alone as it reaches the first (it makes no txn of one).
func readInMulti(r *jute.MultiRequest) error {
	for _, op := range r.Ops {
		if op.Type == jute.OpGetData || op.Type == jute.OpGetChildren {
			return fmt.Errorf("%w: op %d in a multi", zkerr.ErrMarshalling, op.Type)
		}
	}
	return nil
}

// multiResponse is the answer to a multi that ran: its per-op results, or
// err alone when the request failed as a whole.
func multiResponse(r *jute.MultiRequest, res []engine.OpResult, err error) (jute.Record, error) {
	if len(res) != len(r.Ops) {
		if err == nil {
			err = fmt.Errorf("%w: multi answered %d results for %d ops", zkerr.ErrSystem, len(res), len(r.Ops))
		}
		return nil, err
	}
	out := &jute.MultiResponse{Results: make([]jute.MultiResult, len(res))}
	for i, rr := range res {
		out.Results[i] = resultFor(&r.Ops[i], rr, err != nil)
	}
	return out, nil
}

// failedMulti is the answer to a multi whose op i failed with err before
// anything ran.
func failedMulti(n, i int, err error) *jute.MultiResponse {
	out := &jute.MultiResponse{Results: make([]jute.MultiResult, n)}
	for j := range out.Results {
		code := int32(0)
		switch {
		case j == i:
			code = codeOf(err)
		case j > i:
			code = int32(zkerr.CodeRuntimeInconsistency)
		}
		out.Results[j] = jute.MultiResult{Type: jute.OpError, Err: code}
	}
	return out
}

// resultFor converts one op's result; in a failed multi every result is an
// error result.
func resultFor(op *jute.MultiOp, r engine.OpResult, failed bool) jute.MultiResult {
	if failed {
		return jute.MultiResult{Type: jute.OpError, Err: codeOf(r.Err)}
	}
	switch multiCreateType(op) {
	case jute.OpCreate:
		return jute.MultiResult{Type: jute.OpCreate, Path: r.Path}
	case jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL:
		return jute.MultiResult{Type: jute.OpCreate2, Path: r.Path, Stat: toStat(r.Stat)}
	case jute.OpSetData:
		return jute.MultiResult{Type: jute.OpSetData, Stat: toStat(r.Stat)}
	}
	return jute.MultiResult{Type: op.Type}
}

// multiCreateType is the type a create op of a multi runs as. ZooKeeper
// decodes a multi's creates into Ops whose type follows the flags
// (MultiOperationRecord's deserialize and Op.create): the container flag
// makes a createContainer, and createContainer without it a create; create2
// stays create2 (as in 3.8.2, ZOOKEEPER-4026; 3.8.0 made it a create) and
// createTTL with a TTL mode stays createTTL. createTTL with another mode
// is a create of that mode (Op.create with a TTL makes a plain Create when
// the mode is not a TTL one), or a createContainer with the container flag.
func multiCreateType(op *jute.MultiOp) int32 {
	ttlMode := op.Flags == int32(znode.ModePersistentWithTTL) || op.Flags == int32(znode.ModePersistentSequentialWithTTL)
	switch {
	case op.Type == jute.OpCreateTTL && ttlMode:
		return op.Type
	case op.Type != jute.OpCreate && op.Type != jute.OpCreate2 && op.Type != jute.OpCreateContainer && op.Type != jute.OpCreateTTL:
		return op.Type
	case op.Flags == int32(znode.ModeContainer):
		return jute.OpCreateContainer
	case op.Type == jute.OpCreateContainer, op.Type == jute.OpCreateTTL:
		return jute.OpCreate
	}
	return op.Type
}

// toOp converts one op of a multi.
func toOp(op *jute.MultiOp) (engine.Op, error) {
	switch op.Type {
	case jute.OpCreate, jute.OpCreate2, jute.OpCreateContainer, jute.OpCreateTTL:
		t := multiCreateType(op)
		mode, ttl, err := createMode(t, op.Flags)
		if err != nil {
			return engine.Op{}, err
		}
		opts := []engine.CreateOption{engine.WithMode(mode), engine.WithACL(fromACL(op.ACL)...)}
		if ttl {
			if op.TTL <= 0 || op.TTL > maxTTL {
				return engine.Op{}, fmt.Errorf("%w: ttl %d", zkerr.ErrBadArguments, op.TTL)
			}
			opts = append(opts, engine.WithTTL(time.Duration(op.TTL)*time.Millisecond))
		}
		return engine.CreateOp(op.Path, op.Data, opts...), nil
	case jute.OpDelete:
		return engine.DeleteOp(op.Path, op.Version), nil
	case jute.OpSetData:
		return engine.SetOp(op.Path, op.Data, op.Version), nil
	case jute.OpCheck:
		return engine.CheckOp(op.Path, op.Version), nil
	}
	// Not reached: the decoder knows no other op, and readInMulti
	// refused the reads.
	return engine.Op{}, fmt.Errorf("%w: op %d in a multi", zkerr.ErrMarshalling, op.Type)
}

// multiRead runs a read-only multi: each op succeeds or fails on its own.
// An op's watch flag is ignored, as ZooKeeper 3.8 ignores it (its
// MultiOperationRecord keeps only the op's path; TestRawMultiReadWatch).
func (c *conn) multiRead(r *jute.MultiRequest) (jute.Record, error) {
	ops := make([]engine.ReadOp, len(r.Ops))
	for i, op := range r.Ops {
		switch op.Type {
		case jute.OpGetData:
			ops[i] = engine.GetDataOp(op.Path)
		case jute.OpGetChildren:
			ops[i] = engine.GetChildrenOp(op.Path)
		default:
			return nil, fmt.Errorf("%w: op %d in a multiRead", zkerr.ErrMarshalling, op.Type)
		}
	}
	res, err := c.sess.MultiRead(c.ctx, ops...)
	if err != nil {
		return nil, err
	}
	out := &jute.MultiResponse{Results: make([]jute.MultiResult, len(res))}
	for i, rr := range res {
		switch {
		case rr.Err != nil:
			out.Results[i] = jute.MultiResult{Type: jute.OpError, Err: codeOf(rr.Err)}
		case r.Ops[i].Type == jute.OpGetData:
			out.Results[i] = jute.MultiResult{Type: jute.OpGetData, Data: rr.Data, Stat: toStat(rr.Stat)}
		default:
			ch := rr.Children
			if ch == nil {
				ch = []string{}
			}
			out.Results[i] = jute.MultiResult{Type: jute.OpGetChildren, Children: ch}
		}
	}
	return out, nil
}
