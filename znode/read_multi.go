package znode

import (
	"errors"
	"fmt"

	"github.com/embedzk/zk/internal/zkerr"
)

// ReadOpType is the kind of one op of a read-only multi.
type ReadOpType uint8

// The ops of a read-only multi (ZooKeeper's multiRead).
const (
	ReadGetData     ReadOpType = 1
	ReadGetChildren ReadOpType = 2
)

// ReadOp is one op of a read-only multi.
type ReadOp struct {
	Type ReadOpType
	Path string
}

// ReadResult is the outcome of one ReadOp: the node (with data for
// ReadGetData, without for ReadGetChildren), the sorted child names for
// ReadGetChildren, or Err (ErrNoNode, an invalid path, or ErrBadArguments
// for an unknown op type). The caller checks READ on Node.ACL for each op
// and replaces the result by ErrNoAuth where it fails, as ZooKeeper does per
// op.
type ReadResult struct {
	Node     Node
	Children []string
	Err      error
}

// MultiRead runs the ops against one consistent view of the tree (a Pebble
// snapshot), each op failing or succeeding on its own. The error is non-nil
// only for a storage failure.
func (t *Tree) MultiRead(ops []ReadOp) ([]ReadResult, error) {
	snap := t.db.NewSnapshot()
	defer snap.Close()
	r := pebbleReader{snap}
	out := make([]ReadResult, len(ops))
	for i, op := range ops {
		if err := ValidatePath(op.Path); err != nil {
			out[i].Err = err
			continue
		}
		switch op.Type {
		case ReadGetData:
			out[i].Node, out[i].Err = lookupNode(r, op.Path, true)
		case ReadGetChildren:
			out[i].Node, out[i].Err = lookupNode(r, op.Path, false)
			if out[i].Err != nil {
				break
			}
			p := childPrefix(op.Path)
			names := make([]string, 0, out[i].Node.Stat.NumChildren)
			if err := r.scan(p, func(key, _ []byte) bool {
				names = append(names, nameFromChildKey(key, p))
				return true
			}); err != nil {
				return nil, err
			}
			out[i].Children = names
		default:
			out[i].Err = fmt.Errorf("%w: read op type %d", zkerr.ErrBadArguments, op.Type)
			continue
		}
		if err := out[i].Err; err != nil && !errors.Is(err, zkerr.ErrNoNode) {
			return nil, err
		}
	}
	return out, nil
}
