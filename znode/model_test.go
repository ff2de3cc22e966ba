package znode

import (
	"fmt"
	"sort"
	"strings"

	"github.com/embedzk/zk/internal/zkerr"
)

// model is a deliberately simple in-memory ZooKeeper tree (a map of paths),
// the reference the Pebble tree is compared with after every step.
type model struct {
	nodes    map[string]*mnode
	sessions map[int64]SessionInfo
	maxData  int
}

type mnode struct {
	n        node // the stat fields, kind, owner, data, acl; numChildren unused
	children map[string]bool
}

func newModel(maxData int) *model {
	m := &model{nodes: map[string]*mnode{}, sessions: map[int64]SessionInfo{}, maxData: maxData}
	empty := []byte{} // the built-in nodes' data is empty, not null
	m.nodes["/"] = &mnode{n: node{acl: OpenACLUnsafe(), data: empty}, children: map[string]bool{"zookeeper": true}}
	m.nodes["/zookeeper"] = &mnode{n: node{acl: OpenACLUnsafe(), data: empty}, children: map[string]bool{"quota": true, "config": true}}
	m.nodes["/zookeeper/quota"] = &mnode{n: node{acl: OpenACLUnsafe(), data: empty}, children: map[string]bool{}}
	m.nodes["/zookeeper/config"] = &mnode{n: node{aversion: -1, acl: ReadACLUnsafe(), data: empty}, children: map[string]bool{}}
	return m
}

// clone deep-copies the model, so that a failed multi can be rolled back
// by throwing the copy away.
func (m *model) clone() *model {
	c := &model{nodes: map[string]*mnode{}, sessions: map[int64]SessionInfo{}, maxData: m.maxData}
	for p, n := range m.nodes {
		kids := map[string]bool{}
		for k := range n.children {
			kids[k] = true
		}
		c.nodes[p] = &mnode{n: n.n, children: kids}
	}
	for id, s := range m.sessions {
		c.sessions[id] = s
	}
	return c
}

// apply runs txn at zxid and returns the error and, for a create, the
// resolved path. A failed txn leaves m unchanged.
func (m *model) apply(zxid int64, t *Txn) (error, []string) {
	work := m.clone()
	err, paths := work.exec(zxid, t)
	if err == nil {
		*m = *work
	}
	return err, paths
}

func (m *model) exec(zxid int64, t *Txn) (error, []string) {
	switch t.Type {
	case TxnCreate:
		p, err := m.create(zxid, t, t.Session, t.Time)
		return err, []string{p}
	case TxnDelete:
		return m.delete(zxid, t.Path, t.Version), nil
	case TxnSetData:
		return m.setData(zxid, t.Path, t.Data, t.Version, t.Time), nil
	case TxnSetACL:
		return m.setACL(t.Path, t.ACL, t.Version), nil
	case TxnMulti:
		var paths []string
		for i := range t.Ops {
			op := &t.Ops[i]
			var err error
			p := ""
			switch op.Type {
			case TxnCreate:
				p, err = m.create(zxid, op, t.Session, t.Time)
			case TxnDelete:
				err = m.delete(zxid, op.Path, op.Version)
			case TxnSetData:
				err = m.setData(zxid, op.Path, op.Data, op.Version, t.Time)
			case TxnCheck:
				err = m.check(op.Path, op.Version)
			default:
				err = zkerr.ErrBadArguments
			}
			if err != nil {
				return err, nil
			}
			paths = append(paths, p)
		}
		return nil, paths
	case TxnCreateSession:
		if t.Session == 0 {
			return zkerr.ErrBadArguments, nil
		}
		if _, ok := m.sessions[t.Session]; !ok {
			m.sessions[t.Session] = SessionInfo{ID: t.Session, Timeout: t.Timeout, Password: t.Password}
		}
		return nil, nil
	case TxnCloseSession:
		for _, p := range m.ephemerals(t.Session) {
			m.remove(zxid, p)
		}
		delete(m.sessions, t.Session)
		return nil, nil
	case TxnDeleteContainer:
		return m.reap(zxid, t.Path, t.Time), nil
	case TxnNoop:
		return nil, nil
	}
	return zkerr.ErrBadArguments, nil
}

func (m *model) create(zxid int64, t *Txn, session, now int64) (string, error) {
	if len(t.Data) > m.maxData {
		return "", zkerr.ErrDataTooLarge
	}
	k, seq, ok := createKind(t.Mode)
	if !ok {
		return "", zkerr.ErrBadArguments
	}
	owner := int64(0)
	if k == kindTTL {
		if t.TTL <= 0 || t.TTL > MaxTTL {
			return "", zkerr.ErrBadArguments
		}
		owner = t.TTL
	} else if t.TTL > 0 {
		return "", zkerr.ErrBadArguments
	}
	if k == kindEphemeral {
		if session == 0 {
			return "", zkerr.ErrBadArguments
		}
		if _, ok := m.sessions[session]; !ok {
			return "", zkerr.ErrSessionExpired
		}
		owner = session
	}
	if ValidateCreatePath(t.Path, seq) != nil {
		return "", zkerr.ErrInvalidPath
	}
	parentPath := t.Path[:strings.LastIndex(t.Path, "/")]
	if parentPath == "" {
		parentPath = "/"
	}
	if validateACL(t.ACL, false) != nil {
		return "", zkerr.ErrInvalidACL
	}
	parent, ok := m.nodes[parentPath]
	if !ok {
		return "", zkerr.ErrNoNode
	}
	path := t.Path
	if seq {
		path += fmt.Sprintf("%010d", parent.n.cversion)
	}
	if _, exists := m.nodes[path]; exists || path == "/" {
		return "", zkerr.ErrNodeExists
	}
	if parent.n.kind == kindEphemeral {
		return "", zkerr.ErrNoChildrenForEphemerals
	}
	m.nodes[path] = &mnode{n: node{kind: k, owner: owner, czxid: zxid, mzxid: zxid, pzxid: zxid,
		ctime: now, mtime: now, data: t.Data, acl: t.ACL}, children: map[string]bool{}}
	parent.children[Base(path)] = true
	parent.n.cversion++
	parent.n.pzxid = zxid
	return path, nil
}

// deletable is ZooKeeper's first check of a delete: a valid path that is
// not one of the built-in nodes.
func (m *model) deletable(path string) error {
	if ValidatePath(path) != nil {
		return zkerr.ErrInvalidPath
	}
	switch path {
	case "/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config":
		return zkerr.ErrBadArguments
	}
	return nil
}

func versionOK(current, expected int32) bool { return expected == -1 || expected == current }

func bump(v int32) int32 {
	if v+1 == -1 {
		return 0
	}
	return v + 1
}

func (m *model) delete(zxid int64, path string, version int32) error {
	if err := m.deletable(path); err != nil {
		return err
	}
	if _, ok := m.nodes[Parent(path)]; !ok {
		return zkerr.ErrNoNode
	}
	n, ok := m.nodes[path]
	switch {
	case !ok:
		return zkerr.ErrNoNode
	case !versionOK(n.n.version, version):
		return zkerr.ErrBadVersion
	case len(n.children) > 0:
		return zkerr.ErrNotEmpty
	}
	m.remove(zxid, path)
	return nil
}

func (m *model) remove(zxid int64, path string) {
	parent := m.nodes[Parent(path)]
	delete(parent.children, Base(path))
	parent.n.pzxid = zxid
	delete(m.nodes, path)
}

func (m *model) setData(zxid int64, path string, data []byte, version int32, now int64) error {
	if len(data) > m.maxData {
		return zkerr.ErrDataTooLarge
	}
	if ValidatePath(path) != nil {
		return zkerr.ErrInvalidPath
	}
	n, ok := m.nodes[path]
	if !ok {
		return zkerr.ErrNoNode
	}
	if !versionOK(n.n.version, version) {
		return zkerr.ErrBadVersion
	}
	n.n.version = bump(n.n.version)
	n.n.mzxid, n.n.mtime, n.n.data = zxid, now, data
	return nil
}

func (m *model) setACL(path string, acl []ACL, version int32) error {
	if ValidatePath(path) != nil {
		return zkerr.ErrInvalidPath
	}
	if validateACL(acl, false) != nil {
		return zkerr.ErrInvalidACL
	}
	n, ok := m.nodes[path]
	if !ok {
		return zkerr.ErrNoNode
	}
	if !versionOK(n.n.aversion, version) {
		return zkerr.ErrBadVersion
	}
	n.n.aversion = bump(n.n.aversion)
	n.n.acl = acl
	return nil
}

func (m *model) check(path string, version int32) error {
	if ValidatePath(path) != nil {
		return zkerr.ErrInvalidPath
	}
	n, ok := m.nodes[path]
	if !ok {
		return zkerr.ErrNoNode
	}
	if !versionOK(n.n.version, version) {
		return zkerr.ErrBadVersion
	}
	return nil
}

func (m *model) reap(zxid int64, path string, now int64) error {
	if err := m.deletable(path); err != nil {
		return err
	}
	n, ok := m.nodes[path]
	switch {
	case !ok:
		return zkerr.ErrNoNode
	case len(n.children) > 0:
		return zkerr.ErrNotEmpty
	case !m.reapable(n, now):
		return zkerr.ErrBadVersion
	}
	m.remove(zxid, path)
	return nil
}

func (m *model) reapable(n *mnode, now int64) bool {
	if len(n.children) > 0 {
		return false
	}
	switch n.n.kind {
	case kindContainer:
		return n.n.cversion > 0
	case kindTTL:
		return now-n.n.mtime > n.n.owner
	}
	return false
}

func (m *model) ephemerals(session int64) []string {
	var out []string
	for p, n := range m.nodes {
		if n.n.kind == kindEphemeral && n.n.owner == session {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func (m *model) sortedPaths() []string {
	var out []string
	for p := range m.nodes {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// stat returns a node's Stat as the tree must report it.
func (m *model) stat(path string) Stat {
	n := m.nodes[path]
	s := n.n
	s.numChildren = int32(len(n.children))
	return s.stat()
}

// digest recomputes the tree digest from scratch.
func (m *model) digest() uint64 {
	var d uint64
	for p, n := range m.nodes {
		nn := n.n
		nn.dataHash = dataHash(nn.data)
		d += nodeDigest(p, &nn)
	}
	for _, s := range m.sessions {
		d += sessionDigest(s)
	}
	return d
}
