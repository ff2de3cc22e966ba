package znode

import (
	"fmt"
	"strings"

	"github.com/embedzk/zk/internal/zkerr"
)

// exec runs one txn. A non-nil error is a storage failure; a ZooKeeper
// failure is in Result.Err, and then the caller must drop the view.
func (s *state) exec(t *Txn) (Result, error) {
	switch t.Type {
	case TxnCreate:
		return s.create(t, t.Session, t.Time)
	case TxnDelete:
		return s.delete(t)
	case TxnSetData:
		return s.setData(t, t.Time)
	case TxnSetACL:
		return s.setACL(t)
	case TxnMulti:
		return s.multi(t)
	case TxnCreateSession:
		return s.createSession(t)
	case TxnCloseSession:
		return s.closeSession(t.Session)
	case TxnDeleteContainer:
		return s.deleteContainer(t)
	case TxnNoop:
		return Result{}, nil
	case TxnSetQuota:
		return s.setQuota(t)
	case TxnDeleteQuota:
		return s.deleteQuota(t)
	case TxnCheck:
		// A check exists only inside a multi.
		return zkErr(zkerr.ErrBadArguments, "check outside a multi"), nil
	}
	return zkErr(zkerr.ErrBadArguments, fmt.Sprintf("txn type %d", t.Type)), nil
}

// createKind maps a create mode to the node's kind.
func createKind(m CreateMode) (k kind, sequential, ok bool) {
	switch m {
	case ModePersistent:
		return kindPersistent, false, true
	case ModePersistentSequential:
		return kindPersistent, true, true
	case ModeEphemeral:
		return kindEphemeral, false, true
	case ModeEphemeralSequential:
		return kindEphemeral, true, true
	case ModeContainer:
		return kindContainer, false, true
	case ModeContainerSequential:
		return kindContainer, true, true
	case ModePersistentWithTTL:
		return kindTTL, false, true
	case ModePersistentSequentialWithTTL:
		return kindTTL, true, true
	}
	return 0, false, false
}

// createChecks validates what a create can check before looking at the
// tree, in ZooKeeper's order: the data size (the server's buffer limit), the
// mode and TTL (EphemeralType.validateTTL), the session of an ephemeral. It
// returns the node's kind and owner field.
func (s *state) createChecks(t *Txn, session int64) (kind, int64, *Result, error) {
	if len(t.Data) > s.maxData {
		r := Result{Err: fmt.Errorf("%w: %w: %d bytes > %d", zkerr.ErrBadArguments, zkerr.ErrDataTooLarge, len(t.Data), s.maxData)}
		return 0, 0, &r, nil
	}
	k, _, ok := createKind(t.Mode)
	if !ok {
		r := zkErr(zkerr.ErrBadArguments, fmt.Sprintf("create mode %d", t.Mode))
		return 0, 0, &r, nil
	}
	var owner int64
	switch {
	case k == kindTTL:
		if t.TTL <= 0 || t.TTL > MaxTTL {
			r := zkErr(zkerr.ErrBadArguments, fmt.Sprintf("ttl %d not in (0, %d]", t.TTL, MaxTTL))
			return 0, 0, &r, nil
		}
		owner = t.TTL
	case t.TTL > 0:
		r := zkErr(zkerr.ErrBadArguments, fmt.Sprintf("ttl %d not valid for mode %d", t.TTL, t.Mode))
		return 0, 0, &r, nil
	}
	if k == kindEphemeral {
		if session == 0 {
			r := zkErr(zkerr.ErrBadArguments, "ephemeral without a session")
			return 0, 0, &r, nil
		}
		_, known, err := s.v.get(sessionKey(session))
		if err != nil {
			return 0, 0, nil, err
		}
		if !known {
			r := zkErr(zkerr.ErrSessionExpired, fmt.Sprintf("session 0x%x", uint64(session)))
			return 0, 0, &r, nil
		}
		owner = session
	}
	return k, owner, nil, nil
}

// create follows PrepRequestProcessor.pRequest2TxnCreate and
// DataTree.createNode.
func (s *state) create(t *Txn, session, now int64) (Result, error) {
	k, owner, fail, err := s.createChecks(t, session)
	if fail != nil || err != nil {
		return derefResult(fail), err
	}
	_, sequential, _ := createKind(t.Mode)
	base := t.Path
	var parentPath string
	if sequential && !s.resolve {
		// Apply: the path already carries its suffix, which never holds a
		// '/', so the parent is the full path's parent.
		if err := ValidatePath(t.Path); err != nil {
			return badPath(err), nil
		}
		parentPath = Parent(t.Path)
	} else {
		if err := ValidateCreatePath(base, sequential); err != nil {
			return badPath(err), nil
		}
		parentPath = "/"
		if i := strings.LastIndexByte(base, '/'); i > 0 {
			parentPath = base[:i]
		}
	}
	if err := validateACL(t.ACL, s.noDigestACL); err != nil {
		return Result{Err: err}, nil
	}
	parent, ok, err := s.getNode(parentPath)
	if err != nil || !ok {
		return zkErr(zkerr.ErrNoNode, parentPath), err
	}
	if err := s.check(parent.acl, PermCreate); err != nil {
		return Result{Err: err}, nil
	}
	path := base
	if sequential {
		suffix := sequenceSuffix(parent.cversion)
		switch {
		case s.resolve:
			path = base + suffix
			if err := ValidatePath(path); err != nil {
				return badPath(err), nil
			}
		case !strings.HasSuffix(t.Path, suffix):
			return zkErr(zkerr.ErrBadArguments, fmt.Sprintf("%s does not end with the sequence suffix %q", t.Path, suffix)), nil
		}
	}
	if path == "/" {
		return zkErr(zkerr.ErrNodeExists, path), nil
	}
	if _, exists, err := s.getNode(path); err != nil || exists {
		return zkErr(zkerr.ErrNodeExists, path), err
	}
	if parent.kind == kindEphemeral {
		return zkErr(zkerr.ErrNoChildrenForEphemerals, path), nil
	}
	data, fail, err := s.quotaCreate(path, t.Data)
	if fail != nil || err != nil {
		return derefResult(fail), err
	}
	n := &node{
		kind: k, owner: owner,
		czxid: s.zxid, mzxid: s.zxid, pzxid: s.zxid, ctime: now, mtime: now,
		dataHash: dataHash(data), acl: t.ACL, data: data,
	}
	np := *parent
	np.cversion++
	np.numChildren++
	np.pzxid = s.zxid
	s.updateNode(parentPath, parent, &np)
	s.addNode(path, n)
	s.change(ChangeCreated, path, n.acl, np.acl)
	return Result{Path: path, Stat: n.stat()}, nil
}

func derefResult(r *Result) Result {
	if r == nil {
		return Result{}
	}
	return *r
}

// validPath validates the path of a delete, setData, setACL or check.
func validPath(path string) *Result {
	if err := ValidatePath(path); err != nil {
		r := badPath(err)
		return &r
	}
	return nil
}

// deletablePath validates the path of a delete: valid, and not one of the
// built-in nodes (PrepRequestProcessor.getParentPathAndValidate, which runs
// before any other check).
func deletablePath(path string) *Result {
	if r := validPath(path); r != nil {
		return r
	}
	if IsBuiltin(path) {
		r := zkErr(zkerr.ErrBadArguments, "cannot delete the built-in node "+path)
		return &r
	}
	return nil
}

// delete follows PrepRequestProcessor (OpCode.delete) and
// DataTree.deleteNode: a built-in node, parent lookup, DELETE on the parent,
// node lookup, version, then emptiness.
func (s *state) delete(t *Txn) (Result, error) {
	if r := deletablePath(t.Path); r != nil {
		return *r, nil
	}
	parentPath := Parent(t.Path)
	parent, ok, err := s.getNode(parentPath)
	if err != nil || !ok {
		return zkErr(zkerr.ErrNoNode, t.Path), err
	}
	if err := s.check(parent.acl, PermDelete); err != nil {
		return Result{Err: err}, nil
	}
	n, ok, err := s.getNode(t.Path)
	if err != nil || !ok {
		return zkErr(zkerr.ErrNoNode, t.Path), err
	}
	if _, ok := nextVersion(n.version, t.Version); !ok {
		return zkErr(zkerr.ErrBadVersion, t.Path), nil
	}
	if n.numChildren > 0 {
		return zkErr(zkerr.ErrNotEmpty, t.Path), nil
	}
	if err := s.deleteChild(t.Path, n); err != nil {
		return Result{}, err
	}
	return Result{Path: t.Path}, nil
}

// setData follows PrepRequestProcessor (OpCode.setData) and
// DataTree.setData: version+1, mzxid, mtime and the data change; nothing
// else does.
func (s *state) setData(t *Txn, now int64) (Result, error) {
	if len(t.Data) > s.maxData {
		return Result{Err: fmt.Errorf("%w: %w: %d bytes > %d", zkerr.ErrBadArguments, zkerr.ErrDataTooLarge, len(t.Data), s.maxData)}, nil
	}
	if r := validPath(t.Path); r != nil {
		return *r, nil
	}
	n, ok, err := s.readNode(t.Path) // the hottest txn: no allocation for n
	if err != nil || !ok {
		return zkErr(zkerr.ErrNoNode, t.Path), err
	}
	if err := s.check(n.acl, PermWrite); err != nil {
		return Result{Err: err}, nil
	}
	if r, err := s.quotaCharge(t.Path, 0, int64(len(t.Data)-len(n.data)), s.quota.enforce); r != nil || err != nil {
		return derefResult(r), err
	}
	version, ok := nextVersion(n.version, t.Version)
	if !ok {
		return zkErr(zkerr.ErrBadVersion, t.Path), nil
	}
	nn := n
	nn.version = version
	nn.mzxid = s.zxid
	nn.mtime = now
	nn.data = t.Data
	nn.dataHash = dataHash(t.Data)
	s.updateNode(t.Path, &n, &nn)
	// No parent's ACL: a data change fires nothing on the parent.
	s.change(ChangeDataChanged, t.Path, nn.acl, nil)
	return Result{Path: t.Path, Stat: nn.stat()}, nil
}

// setACL follows PrepRequestProcessor (OpCode.setACL) and DataTree.setACL:
// only the ACL and aversion change; no watch fires.
func (s *state) setACL(t *Txn) (Result, error) {
	if r := validPath(t.Path); r != nil {
		return *r, nil
	}
	if err := validateACL(t.ACL, s.noDigestACL); err != nil {
		return Result{Err: err}, nil
	}
	n, ok, err := s.getNode(t.Path)
	if err != nil || !ok {
		return zkErr(zkerr.ErrNoNode, t.Path), err
	}
	if err := s.check(n.acl, PermAdmin); err != nil {
		return Result{Err: err}, nil
	}
	aversion, ok := nextVersion(n.aversion, t.Version)
	if !ok {
		return zkErr(zkerr.ErrBadVersion, t.Path), nil
	}
	nn := *n
	nn.aversion = aversion
	nn.acl = t.ACL
	s.updateNode(t.Path, n, &nn)
	return Result{Path: t.Path, Stat: nn.stat()}, nil
}

// checkVersion is a multi's check op (OpCode.check): READ on the node and
// its version.
func (s *state) checkVersion(t *Txn) (Result, error) {
	if r := validPath(t.Path); r != nil {
		return *r, nil
	}
	n, ok, err := s.getNode(t.Path)
	if err != nil || !ok {
		return zkErr(zkerr.ErrNoNode, t.Path), err
	}
	if err := s.check(n.acl, PermRead); err != nil {
		return Result{Err: err}, nil
	}
	if _, ok := nextVersion(n.version, t.Version); !ok {
		return zkErr(zkerr.ErrBadVersion, t.Path), nil
	}
	return Result{Path: t.Path}, nil
}
