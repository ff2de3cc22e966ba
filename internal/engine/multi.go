package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// Op is one operation of a Multi: build it with CreateOp, DeleteOp, SetOp or
// CheckOp.
type Op struct {
	txn znode.Txn
	err error // a bad argument found while building it
}

// CreateOp creates a node (WithParents and WithStat are not supported in a
// multi). nil data is null, non-nil data of length 0 empty (see Create).
func CreateOp(path string, data []byte, opts ...CreateOption) Op {
	txn, o := buildCreate(path, data, opts)
	op := Op{txn: *txn}
	if o.parents || o.stat != nil {
		op.err = fmt.Errorf("%w: WithParents and WithStat do not apply inside a multi", zkerr.ErrBadArguments)
	}
	return op
}

// DeleteOp deletes a node if its version is version (-1: any).
func DeleteOp(path string, version int32) Op {
	return Op{txn: znode.Txn{Type: znode.TxnDelete, Path: path, Version: version}}
}

// SetOp sets a node's data if its version is version (-1: any); nil data
// is null, non-nil data of length 0 empty (see Create).
func SetOp(path string, data []byte, version int32) Op {
	return Op{txn: znode.Txn{Type: znode.TxnSetData, Path: path, Data: data, Version: version}}
}

// CheckOp fails the multi unless the node's version is version (-1: the node
// exists). It needs READ permission.
func CheckOp(path string, version int32) Op {
	return Op{txn: znode.Txn{Type: znode.TxnCheck, Path: path, Version: version}}
}

// OpResult is the outcome of one op of a Multi. For a failed multi, the ops
// before the one that failed have a nil Err, that op its error, and the ops
// after it ErrRuntimeInconsistency, as ZooKeeper reports them.
type OpResult struct {
	Path string // the created path, for a create
	Stat Stat   // the node's Stat after a create or set
	Err  error
}

// Multi runs ops as one transaction: all of them or none. The error is that
// of the first op that failed (the per-op results say which).
func (s *Session) Multi(ctx context.Context, ops ...Op) ([]OpResult, error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	txn := &znode.Txn{Type: znode.TxnMulti, Ops: make([]znode.Txn, len(ops))}
	for i, op := range ops {
		txn.Ops[i] = op.txn
	}
	if err := s.checkRequest("multi", txn); err != nil {
		return nil, err
	}
	for i, op := range ops {
		if err := s.checkOp(op); err != nil {
			s.auditRefused(txn, 0, err)
			return nil, fmt.Errorf("zk: multi op %d: %w", i, err)
		}
	}
	if len(ops) == 0 {
		// ZooKeeper answers an empty multi with no results, and refuses
		// it on a read-only server, as any multi.
		return nil, s.roWritable(ctx)
	}
	res, err := s.write(ctx, txn)
	if err != nil {
		return nil, fmt.Errorf("zk: multi: %w", err)
	}
	out := make([]OpResult, len(ops))
	for i := range out {
		if i < len(res.Multi) {
			r := res.Multi[i]
			out[i] = OpResult{Path: r.Path, Stat: r.Stat, Err: r.Err}
		}
	}
	if res.Err != nil {
		return out, fmt.Errorf("zk: multi: %w", res.Err)
	}
	return out, nil
}

// checkOp rejects a bad op before the multi leaves the session.
func (s *Session) checkOp(op Op) error {
	if op.err != nil {
		return op.err
	}
	t := op.txn
	switch t.Type {
	case znode.TxnCreate:
		return s.checkCreate(&t)
	case znode.TxnSetData, znode.TxnDelete, znode.TxnCheck:
	default:
		return fmt.Errorf("%w: op type %d", zkerr.ErrBadArguments, t.Type)
	}
	return s.checkPath(t.Path, false)
}

// ReadOp is one read of a MultiRead: GetDataOp or GetChildrenOp.
type ReadOp struct {
	path     string
	children bool
}

// GetDataOp reads a node's data (nil when null, as Get).
func GetDataOp(path string) ReadOp { return ReadOp{path: path} }

// GetChildrenOp lists a node's children.
func GetChildrenOp(path string) ReadOp { return ReadOp{path: path, children: true} }

// ReadResult is the outcome of one ReadOp.
type ReadResult struct {
	Data     []byte
	Children []string
	Stat     Stat
	Err      error
}

// MultiRead runs reads against one state of the tree, as ZooKeeper's
// read-only multi: each op succeeds or fails on its own.
func (s *Session) MultiRead(ctx context.Context, ops ...ReadOp) ([]ReadResult, error) {
	for i, op := range ops {
		if err := s.checkPath(op.path, false); err != nil {
			return nil, fmt.Errorf("zk: multiRead op %d: %w", i, err)
		}
	}
	out := make([]ReadResult, len(ops))
	err := s.read(ctx, func() error {
		for i, op := range ops {
			if op.children {
				names, n, err := s.readChildren(op.path)
				out[i] = ReadResult{Children: names, Stat: n.Stat, Err: err}
				continue
			}
			n, err := s.readNode(op.path, true, znode.PermRead)
			out[i] = ReadResult{Data: n.Data, Stat: n.Stat, Err: err}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("zk: multiRead: %w", err)
	}
	return out, nil
}

// deleteAllBatch is the number of deletes DeleteAll puts in one multi.
const deleteAllBatch = 1000

// DeleteAll deletes path and everything below it, as ZooKeeper's deleteall:
// the tree is listed, then deleted leaves first, in multis of up to 1000
// deletes. It is not atomic as a whole: if nodes appear meanwhile, it lists
// again (up to a few times) until the subtree is gone. The built-in nodes
// (/, /zookeeper, /zookeeper/quota, /zookeeper/config), which cannot be
// deleted, stay: DeleteAll("/") removes every other node, those users made
// below /zookeeper too, and leaves a fresh tree.
func (s *Session) DeleteAll(ctx context.Context, path string) error {
	if err := s.checkPath(path, false); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		nodes, err := s.listSubtree(ctx, path)
		if errors.Is(err, zkerr.ErrNoNode) {
			return nil
		}
		if err != nil {
			return opError("deleteall", path, err)
		}
		err = s.deleteLeavesFirst(ctx, nodes)
		if err == nil || attempt == 5 || !errors.Is(err, zkerr.ErrNotEmpty) {
			if err != nil {
				return opError("deleteall", path, err)
			}
			return nil
		}
	}
}

// listSubtree returns path and its descendants, parents before children,
// without the built-in nodes (they are listed through, not returned).
func (s *Session) listSubtree(ctx context.Context, path string) ([]string, error) {
	nodes := []string{path}
	for i := 0; i < len(nodes); i++ {
		names, _, err := s.Children(ctx, nodes[i])
		if err != nil {
			if i > 0 && errors.Is(err, zkerr.ErrNoNode) {
				continue // deleted meanwhile
			}
			return nil, err
		}
		for _, name := range names {
			nodes = append(nodes, joinPath(nodes[i], name))
		}
	}
	return slices.DeleteFunc(nodes, znode.IsBuiltin), nil
}

// deleteLeavesFirst deletes nodes (listed parents first) in reverse order,
// in multis; a batch that fails is retried one delete at a time.
func (s *Session) deleteLeavesFirst(ctx context.Context, nodes []string) error {
	for end := len(nodes); end > 0; end -= deleteAllBatch {
		start := max(0, end-deleteAllBatch)
		ops := make([]Op, 0, end-start)
		for i := end - 1; i >= start; i-- {
			ops = append(ops, DeleteOp(nodes[i], -1))
		}
		if _, err := s.Multi(ctx, ops...); err == nil {
			continue
		}
		for _, op := range ops {
			err := s.Delete(ctx, op.txn.Path, -1)
			if err != nil && !errors.Is(err, zkerr.ErrNoNode) {
				return err
			}
		}
	}
	return nil
}

func joinPath(parent, name string) string {
	if parent == "/" {
		return "/" + name
	}
	return parent + "/" + name
}
