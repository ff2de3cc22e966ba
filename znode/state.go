package znode

import (
	"fmt"

	"github.com/embedzk/zk/internal/zkerr"
)

// state runs the semantics of one txn on a view. Everything it decides
// comes from the txn and the view, so Apply and Prepare, which run the same
// code on views of the same content, cannot disagree.
type state struct {
	v       *view
	zxid    int64
	maxData int
	// authorize checks a permission (Prepare); nil allows everything.
	authorize func(acl []ACL, perm Perm) error
	// resolve makes create append the sequence suffix to the path
	// (Prepare); without it the path must already carry it (Apply).
	resolve bool
	// changes collects the txn's effects when wantChanges is set.
	wantChanges bool
	changes     []Change
	// noDigestACL refuses digest ACL entries (Prepare, with
	// Options.NoDigestACL).
	noDigestACL bool
	// quota enforces quotas and collects what went past a limit (quota.go).
	quota quotaState
}

// zkErr builds a Result that fails with a ZooKeeper error.
func zkErr(sentinel error, path string) Result {
	if path == "" {
		return Result{Err: sentinel}
	}
	return Result{Err: fmt.Errorf("%w: %s", sentinel, path)}
}

// badPath is the error of an invalid path: ZooKeeper's server answers
// BADARGUMENTS, and errors.Is also matches zkerr.ErrInvalidPath.
func badPath(err error) Result {
	return Result{Err: fmt.Errorf("%w: %w", zkerr.ErrBadArguments, err)}
}

func (s *state) check(acl []ACL, perm Perm) error {
	if s.authorize == nil {
		return nil
	}
	return s.authorize(acl, perm)
}

// getNode returns the node at path; ok is false if there is none.
func (s *state) getNode(path string) (*node, bool, error) {
	n, ok, err := s.readNode(path)
	if err != nil || !ok {
		return nil, false, err
	}
	return &n, true, nil
}

// readNode is getNode returning the node by value, which costs no
// allocation where the caller keeps it on its stack (setData).
func (s *state) readNode(path string) (node, bool, error) {
	b, ok, err := s.v.get(nodeKey(path))
	if err != nil || !ok {
		return node{}, false, err
	}
	n, err := decodeNode(b)
	if err != nil {
		return node{}, false, fmt.Errorf("znode: node %q: %w", path, err)
	}
	return n, true, nil
}

// updateNode replaces the node at path (old) by n.
func (s *state) updateNode(path string, old, n *node) {
	s.v.set(nodeKey(path), encodeNode(n))
	s.v.digest += nodeDigest(path, n) - nodeDigest(path, old)
	s.v.sizes.dataBytes += int64(len(n.data) - len(old.data))
}

// addNode stores a new node at path, with its index entries.
func (s *state) addNode(path string, n *node) {
	s.v.set(nodeKey(path), encodeNode(n))
	s.v.digest += nodeDigest(path, n)
	s.v.nodes++
	s.v.sizes.add(path, n, 1)
	switch n.kind {
	case kindEphemeral:
		s.v.set(ephemeralKey(n.owner, path), nil)
	case kindContainer, kindTTL:
		s.v.set(reapKey(path), nil)
	}
}

// removeNode deletes the node n at path, with its index entries.
func (s *state) removeNode(path string, n *node) {
	s.v.del(nodeKey(path))
	s.v.digest -= nodeDigest(path, n)
	s.v.nodes--
	s.v.sizes.add(path, n, -1)
	switch n.kind {
	case kindEphemeral:
		s.v.del(ephemeralKey(n.owner, path))
	case kindContainer, kindTTL:
		s.v.del(reapKey(path))
	}
}

func (s *state) change(typ ChangeType, path string, acl, parentACL []ACL) {
	if s.wantChanges {
		s.changes = append(s.changes, Change{Type: typ, Path: path, Zxid: s.zxid, ACL: acl, ParentACL: parentACL})
	}
}

// deleteChild removes the node n at path from its parent, as ZooKeeper's
// DataTree.deleteNode: the parent loses a child and its pzxid becomes the
// zxid; its cversion is unchanged.
func (s *state) deleteChild(path string, n *node) error {
	parentPath := Parent(path)
	parent, ok, err := s.getNode(parentPath)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("znode: %w: parent of %q is missing", errCorrupt, path)
	}
	np := *parent
	np.numChildren--
	if s.zxid > np.pzxid {
		np.pzxid = s.zxid
	}
	s.updateNode(parentPath, parent, &np)
	s.removeNode(path, n)
	if _, err := s.quotaCharge(path, -1, -int64(len(n.data)), false); err != nil {
		return err
	}
	s.change(ChangeDeleted, path, n.acl, parentACLFor(parentPath, parent))
	return nil
}

func parentACLFor(parentPath string, parent *node) []ACL {
	if parentPath == "" {
		return nil
	}
	return parent.acl
}

// nextVersion is ZooKeeper's checkAndIncVersion: expected -1 matches any
// version; the next version after MaxInt32 wraps to MinInt32 and skips -1
// (ZOOKEEPER-4743), so that no node ever reports version -1.
func nextVersion(current, expected int32) (int32, bool) {
	if expected != -1 && expected != current {
		return 0, false
	}
	next := current + 1
	if next == -1 {
		next = 0
	}
	return next, true
}
