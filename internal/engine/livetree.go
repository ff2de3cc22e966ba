package engine

import "github.com/embedzk/zk/znode"

// liveTree is the tree as the transaction last applied left it. The apply
// loop applies a batch of entries as one znode.Group, which reaches the
// tree only at its commit; between two of the group's transactions, the
// readers that must see exactly the state a transaction left (a watch
// event's node, the journal's) read the group. Only the apply loop sets
// group, with the apply lock held exclusively, and those readers run there
// (watch triggers) or under the lock's read side, when group is nil.
type liveTree struct {
	tree  *znode.Tree
	group *znode.Group // the group being applied, or nil
}

// Get returns the node at path as the last transaction applied left it.
func (l *liveTree) Get(path string) (znode.Node, error) {
	if l.group != nil {
		return l.group.Get(path)
	}
	return l.tree.Get(path)
}
