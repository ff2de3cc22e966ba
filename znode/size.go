package znode

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// treeSizes are the tree's sizes that ZooKeeper's metrics report, kept in
// the meta record with the node count (updated in every Apply batch, rebuilt
// by a restore): approximate_data_size, the bytes of every node's path and
// data (ZooKeeper's DataTree.approximateDataSize), and ephemerals_count.
type treeSizes struct {
	dataBytes  int64
	ephemerals int64
}

// unknownSizes marks a meta record written before the sizes were kept: Open
// measures them once.
var unknownSizes = treeSizes{dataBytes: -1, ephemerals: -1}

// add counts node n at path sign times (1: added, -1: removed).
func (s *treeSizes) add(path string, n *node, sign int64) {
	s.dataBytes += sign * int64(len(path)+len(n.data))
	if n.kind == kindEphemeral {
		s.ephemerals += sign
	}
}

func (s treeSizes) plus(d treeSizes) treeSizes {
	return treeSizes{dataBytes: s.dataBytes + d.dataBytes, ephemerals: s.ephemerals + d.ephemerals}
}

// DataSize returns the approximate size of the tree's data: the bytes of
// every node's path and data, as ZooKeeper's approximate_data_size.
func (t *Tree) DataSize() int64 { return t.applied.Load().sizes.dataBytes }

// EphemeralCount returns the number of ephemeral nodes.
func (t *Tree) EphemeralCount() int64 { return t.applied.Load().sizes.ephemerals }

// measureSizes reads every node of r to compute its sizes (a tree whose meta
// record predates them).
func measureSizes(r pebble.Reader) (treeSizes, error) {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: []byte{spaceNode}, UpperBound: []byte{spaceNode + 1}})
	if err != nil {
		return treeSizes{}, err
	}
	defer it.Close()
	var s treeSizes
	for ok := it.First(); ok; ok = it.Next() {
		path, ok := pathFromNodeKey(it.Key())
		if !ok {
			return treeSizes{}, fmt.Errorf("znode: %w: node key %q", errCorrupt, it.Key())
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return treeSizes{}, err
		}
		n, err := decodeNode(v)
		if err != nil {
			return treeSizes{}, fmt.Errorf("znode: node %q: %w", path, err)
		}
		s.add(path, &n, 1)
	}
	return s, it.Error()
}
