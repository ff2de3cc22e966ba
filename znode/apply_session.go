package znode

import (
	"encoding/binary"
	"fmt"

	"github.com/embedzk/zk/internal/zkerr"
)

// createSession records the session in the replicated session table. A
// session that is already there is left as it is (success).
func (s *state) createSession(t *Txn) (Result, error) {
	if t.Session == 0 {
		return zkErr(zkerr.ErrBadArguments, "session id 0"), nil
	}
	key := sessionKey(t.Session)
	_, exists, err := s.v.get(key)
	if err != nil || exists {
		return Result{}, err
	}
	info := SessionInfo{ID: t.Session, Timeout: t.Timeout, Password: t.Password}
	s.v.set(key, encodeSession(info))
	s.v.digest += sessionDigest(info)
	return Result{}, nil
}

// closeSession deletes every ephemeral of the session, in path order (an
// ephemeral has no children, so any order works), each as ZooKeeper's
// deleteNode does, then forgets the session. Closing an unknown session
// succeeds and changes nothing.
func (s *state) closeSession(session int64) (Result, error) {
	var paths []string
	prefix := ephemeralPrefix(session, "")
	err := s.v.scan(prefix, func(key, _ []byte) bool {
		paths = append(paths, string(key[len(prefix):]))
		return true
	})
	if err != nil {
		return Result{}, err
	}
	for _, p := range paths {
		n, ok, err := s.getNode(p)
		if err != nil {
			return Result{}, err
		}
		if !ok || n.kind != kindEphemeral || n.owner != session {
			return Result{}, fmt.Errorf("znode: %w: ephemeral index names %q for session 0x%x", errCorrupt, p, uint64(session))
		}
		if err := s.deleteChild(p, n); err != nil {
			return Result{}, err
		}
	}
	key := sessionKey(session)
	b, ok, err := s.v.get(key)
	if err != nil || !ok {
		return Result{}, err
	}
	info, err := decodeSession(session, b)
	if err != nil {
		return Result{}, err
	}
	s.v.del(key)
	s.v.digest -= sessionDigest(info)
	return Result{}, nil
}

// deleteContainer is the reaper's delete (OpCode.deleteContainer): it
// deletes the node only if it still exists, has no children and is either a
// container that has had children (cversion > 0, ContainerManager's rule) or
// a TTL node whose data has not changed for longer than its TTL at the
// txn's Time. Otherwise it fails with ErrNoNode, ErrNotEmpty or (the node is
// not reapable) ErrBadVersion, and changes nothing.
func (s *state) deleteContainer(t *Txn) (Result, error) {
	if r := deletablePath(t.Path); r != nil {
		return *r, nil
	}
	n, ok, err := s.getNode(t.Path)
	if err != nil || !ok {
		return zkErr(zkerr.ErrNoNode, t.Path), err
	}
	if n.numChildren > 0 {
		return zkErr(zkerr.ErrNotEmpty, t.Path), nil
	}
	if !reapable(n, t.Time) {
		return zkErr(zkerr.ErrBadVersion, t.Path), nil
	}
	if err := s.deleteChild(t.Path, n); err != nil {
		return Result{}, err
	}
	return Result{Path: t.Path}, nil
}

// reapable reports whether the childless node n may be reaped at now.
func reapable(n *node, now int64) bool {
	switch n.kind {
	case kindContainer:
		return n.cversion > 0
	case kindTTL:
		return now-n.mtime > n.owner
	}
	return false
}

// sessionIDFromKey decodes a session key.
func sessionIDFromKey(key []byte) (int64, bool) {
	if len(key) != 9 || key[0] != spaceSession {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(key[1:])), true
}
