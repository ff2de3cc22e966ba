package znode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/cockroachdb/pebble/v2"
	"github.com/embedzk/zk/internal/zkerr"
)

// Reads are safe for concurrent use with each other and with Apply. Each
// sees the state after some Apply: a single read of one key (from the
// value cache or Pebble: readThrough, in order with the commits), or one
// Pebble iterator (whose view is fixed when it is created) for multi-key
// reads.

// Get returns the node at path with its Stat, data and ACL.
func (t *Tree) Get(path string) (Node, error) {
	return t.readNode(path, true)
}

// Stat returns the node at path with its Stat and ACL; Data is nil.
func (t *Tree) Stat(path string) (Node, error) {
	return t.readNode(path, false)
}

func (t *Tree) readNode(path string, withData bool) (Node, error) {
	if err := ValidatePath(path); err != nil {
		return Node{}, err
	}
	return lookupNode(readThrough{t}, path, withData)
}

// readThrough is the readers' way to a node's value (Get, Stat): the way
// Apply and Pending read (treeReader: the value cache, the key filter,
// then Pebble, whose value then goes to the cache) while no commit is
// under way, else Pebble. Between a batch becoming visible in Pebble and
// its values reaching the cache, Tree.visible is odd, and a read that
// began or ended in that window is answered by Pebble; so a read never
// returns an older value than one Pebble showed before it began, and two
// reads in turn see the commits in order, as with Pebble alone. The value
// returned is the caller's own (the cache's are shared).
type readThrough struct{ t *Tree }

func (r readThrough) get(key []byte) ([]byte, bool, error) {
	t := r.t
	if seq := t.visible.Load(); seq&1 == 0 {
		val, ok, err := treeReader{t}.get(key)
		if err == nil && t.visible.Load() == seq {
			if !ok {
				return nil, false, nil
			}
			own := make([]byte, len(val))
			copy(own, val) // make and copy: the runtime does not zero own first
			return own, ok, nil
		}
	}
	return pebbleReader{t.db}.get(key)
}

func (r readThrough) scan(prefix []byte, fn func(key, val []byte) bool) error {
	return pebbleReader{r.t.db}.scan(prefix, fn)
}

// lookupNode reads the node at path from r.
func lookupNode(r reader, path string, withData bool) (Node, error) {
	b, ok, err := r.get(nodeKey(path))
	if err != nil {
		return Node{}, fmt.Errorf("znode: get %s: %w", path, err)
	}
	if !ok {
		return Node{}, fmt.Errorf("%w: %s", zkerr.ErrNoNode, path)
	}
	return nodeFromValue(path, b, withData)
}

// nodeFromValue decodes a value the caller owns into a Node.
func nodeFromValue(path string, b []byte, withData bool) (Node, error) {
	n, err := decodeNode(b)
	if err != nil {
		return Node{}, fmt.Errorf("znode: node %s: %w", path, err)
	}
	out := Node{Stat: n.stat(), ACL: n.acl}
	if isOpenACL(n.acl) {
		out.ACL = OpenACLUnsafe() // the caller's to keep and modify
	}
	if withData {
		out.Data = n.data // nil when null
	}
	return out, nil
}

// Children returns the names of path's children, sorted, and the node
// itself (without data), both from one consistent view.
func (t *Tree) Children(path string) ([]string, Node, error) {
	if err := ValidatePath(path); err != nil {
		return nil, Node{}, err
	}
	it, err := t.db.NewIter(nil)
	if err != nil {
		return nil, Node{}, err
	}
	defer it.Close()
	n, err := iterNode(it, path)
	if err != nil {
		return nil, Node{}, err
	}
	p := childPrefix(path)
	it.SetBounds(p, prefixEnd(p))
	names := make([]string, 0, n.Stat.NumChildren)
	for ok := it.First(); ok; ok = it.Next() {
		names = append(names, nameFromChildKey(it.Key(), p))
	}
	if err := it.Error(); err != nil {
		return nil, Node{}, err
	}
	return names, n, nil
}

// iterNode reads the node at path (without data) with the iterator it.
func iterNode(it *pebble.Iterator, path string) (Node, error) {
	key := nodeKey(path)
	if !it.SeekGE(key) || !bytes.Equal(it.Key(), key) {
		if err := it.Error(); err != nil {
			return Node{}, err
		}
		return Node{}, fmt.Errorf("%w: %s", zkerr.ErrNoNode, path)
	}
	v, err := it.ValueAndErr()
	if err != nil {
		return Node{}, err
	}
	return nodeFromValue(path, append([]byte(nil), v...), false)
}

// AllChildrenNumber returns the number of descendants of path (ZooKeeper's
// getAllChildrenNumber): every node below it at any depth. For "/" that is
// every node but the root, /zookeeper and its children included, as in
// ZooKeeper.
func (t *Tree) AllChildrenNumber(path string) (int64, error) {
	if err := ValidatePath(path); err != nil {
		return 0, err
	}
	if path == "/" {
		return t.NodeCount() - 1, nil
	}
	it, err := t.db.NewIter(nil)
	if err != nil {
		return 0, err
	}
	defer it.Close()
	if _, err := iterNode(it, path); err != nil {
		return 0, err
	}
	var count int64
	for _, p := range descendantPrefixes(path) {
		it.SetBounds(p, prefixEnd(p))
		for ok := it.First(); ok; ok = it.Next() {
			count++
		}
		if err := it.Error(); err != nil {
			return 0, err
		}
	}
	return count, nil
}

// Ephemerals returns the paths of the session's ephemeral nodes that start
// with prefix ("/" or "" for all), sorted (ZooKeeper's getEphemerals).
func (t *Tree) Ephemerals(session int64, prefix string) ([]string, error) {
	if prefix == "" {
		prefix = "/"
	}
	p := ephemeralPrefix(session, prefix)
	base := len(p) - len(prefix)
	var out []string
	err := pebbleReader{t.db}.scan(p, func(key, _ []byte) bool {
		out = append(out, string(key[base:]))
		return true
	})
	return out, err
}

// EphemeralsBySession calls fn once for each session that owns ephemeral
// nodes, with their paths, sorted; the sessions come in the order of their
// ids. It reads the ephemeral index in one scan.
func (t *Tree) EphemeralsBySession(fn func(session int64, paths []string)) error {
	var (
		cur   int64
		paths []string
		derr  error
	)
	err := pebbleReader{t.db}.scan([]byte{spaceEphemeral}, func(key, _ []byte) bool {
		if len(key) < 10 {
			derr = fmt.Errorf("%w: ephemeral key %x", errCorrupt, key)
			return false
		}
		id := int64(binary.BigEndian.Uint64(key[1:9]))
		if len(paths) > 0 && id != cur {
			fn(cur, paths)
			paths = nil
		}
		cur = id
		paths = append(paths, string(key[9:]))
		return true
	})
	if err = errors.Join(err, derr); err != nil {
		return err
	}
	if len(paths) > 0 {
		fn(cur, paths)
	}
	return nil
}

// Sessions returns the replicated session table, by id.
func (t *Tree) Sessions() ([]SessionInfo, error) {
	var out []SessionInfo
	var derr error
	err := pebbleReader{t.db}.scan([]byte{spaceSession}, func(key, val []byte) bool {
		id, ok := sessionIDFromKey(key)
		if !ok {
			derr = fmt.Errorf("%w: session key %x", errCorrupt, key)
			return false
		}
		s, err := decodeSession(id, val)
		if err != nil {
			derr = err
			return false
		}
		out = append(out, s)
		return true
	})
	if err = errors.Join(err, derr); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Session returns the session id from the session table.
func (t *Tree) Session(id int64) (SessionInfo, bool, error) {
	b, ok, err := pebbleReader{t.db}.get(sessionKey(id))
	if err != nil || !ok {
		return SessionInfo{}, false, err
	}
	s, err := decodeSession(id, b)
	return s, err == nil, err
}
