package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/embedzk/zk/internal/hooks"
	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// CreateOption configures Create.
type CreateOption func(*createOpts)

type createOpts struct {
	mode    CreateMode
	acl     []ACL
	ttl     time.Duration
	parents bool
	stat    *Stat
}

// WithMode sets the kind of node (default ModePersistent).
func WithMode(m CreateMode) CreateOption { return func(o *createOpts) { o.mode = m } }

// WithACL sets the node's ACL (default OpenACLUnsafe).
func WithACL(acl ...ACL) CreateOption {
	return func(o *createOpts) { o.acl = append([]ACL{}, acl...) }
}

// WithTTL sets the TTL of a ModePersistentWithTTL or
// ModePersistentSequentialWithTTL node, in milliseconds resolution.
func WithTTL(d time.Duration) CreateOption { return func(o *createOpts) { o.ttl = d } }

// WithParents creates missing parents as persistent nodes with the same ACL
// and empty data first, as kazoo's makepath and Curator's
// creatingParentsIfNeeded.
func WithParents() CreateOption { return func(o *createOpts) { o.parents = true } }

// WithStat fills *st with the created node's Stat (ZooKeeper's create2).
func WithStat(st *Stat) CreateOption { return func(o *createOpts) { o.stat = st } }

func buildCreate(path string, data []byte, opts []CreateOption) (*znode.Txn, createOpts) {
	o := createOpts{mode: ModePersistent}
	for _, opt := range opts {
		opt(&o)
	}
	if o.acl == nil {
		o.acl = OpenACLUnsafe()
	}
	// o.acl is the options' own copy (WithACL copies), or a fresh default.
	txn := &znode.Txn{
		Type: znode.TxnCreate, Path: path, Data: data, Mode: o.mode,
		ACL: o.acl, TTL: o.ttl.Milliseconds(),
	}
	return txn, o
}

// Create makes a node and returns its path (with the sequence suffix for a
// sequential mode). data nil makes a node whose data is null, data of
// length 0 (non-nil) one whose data is empty: Get tells them apart, as
// ZooKeeper's getData returns null or a zero-length array.
func (s *Session) Create(ctx context.Context, path string, data []byte, opts ...CreateOption) (string, error) {
	txn, o := buildCreate(path, data, opts)
	if err := s.checkCreate(txn); err != nil {
		s.auditRefused(txn, txn.Mode, err)
		return "", err
	}
	res, err := s.createTxn(ctx, txn, o)
	if errors.Is(err, zkerr.ErrNoNode) && o.parents {
		if err = s.createParents(ctx, path, o.acl); err == nil {
			txn, _ = buildCreate(path, data, opts)
			res, err = s.createTxn(ctx, txn, o)
		}
	}
	if err != nil {
		return "", opError("create", path, err)
	}
	if o.stat != nil {
		*o.stat = res.Stat
	}
	return res.Path, nil
}

func (s *Session) createTxn(ctx context.Context, txn *znode.Txn, o createOpts) (znode.Result, error) {
	res, err := s.write(ctx, txn)
	if err == nil {
		err = res.Err
	}
	return res, err
}

// createParents makes every missing ancestor of path, persistent.
func (s *Session) createParents(ctx context.Context, path string, acl []ACL) error {
	var missing []string
	for p := znode.Parent(path); p != "/" && p != ""; p = znode.Parent(p) {
		missing = append(missing, p)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		txn := &znode.Txn{Type: znode.TxnCreate, Path: missing[i], Data: []byte{}, Mode: ModePersistent, ACL: append([]ACL(nil), acl...)}
		res, err := s.write(ctx, txn)
		if err == nil {
			err = res.Err
		}
		if err != nil && !errors.Is(err, zkerr.ErrNodeExists) {
			return err
		}
	}
	return nil
}

// checkCreate rejects a bad create of the API (Create, a multi's op)
// before it leaves the session. Its modes are ZooKeeper's CreateMode's:
// znode.ModeContainerSequential, which only a client port's createContainer
// request with a sequential flag makes (checkPortCreate), is unknown here.
func (s *Session) checkCreate(txn *znode.Txn) error {
	if txn.Mode == znode.ModeContainerSequential {
		return fmt.Errorf("zk: create %s: %w: unknown mode %d", txn.Path, zkerr.ErrBadArguments, txn.Mode)
	}
	return s.checkPortCreate(txn)
}

// checkPortCreate rejects a bad create of the client port before it leaves
// the session.
func (s *Session) checkPortCreate(txn *znode.Txn) error {
	if err := s.checkRequest("create", txn); err != nil {
		return err
	}
	if err := s.checkPath(txn.Path, isSequential(txn.Mode)); err != nil {
		return err
	}
	if txn.Mode < ModePersistent || txn.Mode > znode.ModeContainerSequential {
		return fmt.Errorf("zk: create %s: %w: unknown mode %d", txn.Path, zkerr.ErrBadArguments, txn.Mode)
	}
	ttlMode := txn.Mode == ModePersistentWithTTL || txn.Mode == ModePersistentSequentialWithTTL
	if ttlMode != (txn.TTL != 0) || txn.TTL < 0 {
		return fmt.Errorf("zk: create %s: %w: a TTL goes with (and only with) the TTL modes", txn.Path, zkerr.ErrBadArguments)
	}
	if txn.TTL > znode.MaxTTL {
		return fmt.Errorf("zk: create %s: %w: TTL %dms over the largest, %dms", txn.Path, zkerr.ErrBadArguments, txn.TTL, znode.MaxTTL)
	}
	return nil
}

func isSequential(m CreateMode) bool {
	return m == ModePersistentSequential || m == ModeEphemeralSequential || m == ModePersistentSequentialWithTTL ||
		m == znode.ModeContainerSequential
}

// limitsOff reports whether a test turned the size limits off (issue 9's
// defect, hooks.ResetOnRefusal).
func (s *Session) limitsOff() bool { return s.e.cfg.TestHooks.Breaks(hooks.ResetOnRefusal) }

// checkPath rejects a path over MaxPathLength (checked first, so that no
// error repeats a huge path), a read of it over the request limit, and an
// invalid path.
func (s *Session) checkPath(path string, sequential bool) error {
	if !s.limitsOff() {
		if err := checkPathLength(path, sequential); err != nil {
			return err
		}
		// The message is built only for a request over the limit: a
		// quoted path per request showed in the profile of every read.
		if size := pathRequestSize(path); size > s.e.cfg.JuteMaxBuffer {
			s.e.obs.tooLarge()
			return checkSize("request on "+shortPath(path), size, s.e.cfg.JuteMaxBuffer)
		}
	}
	check := path
	if sequential {
		check = path + "0" // a sequential path may end with "/": the suffix follows
	}
	if err := znode.ValidatePath(check); err != nil {
		return fmt.Errorf("zk: %q: %w", path, err)
	}
	return nil
}

// checkRequest rejects a write whose request (as ZooKeeper's client would
// serialize it) is over Config.JuteMaxBuffer, or that has a path over
// MaxPathLength, before anything else looks at it.
func (s *Session) checkRequest(what string, txn *znode.Txn) error {
	if s.limitsOff() {
		return nil
	}
	if err := checkSize(what, txnRequestSize(txn), s.e.cfg.JuteMaxBuffer); err != nil {
		s.e.obs.tooLarge()
		return err
	}
	return checkPathLength(txn.Path, txn.Type == znode.TxnCreate && isSequential(txn.Mode))
}

// Get returns a node's data and Stat. It needs READ permission. The data
// is nil when the node's data is null (created or set with nil data) and a
// non-nil empty slice when it is empty, as ZooKeeper keeps them apart; the
// caller owns it.
func (s *Session) Get(ctx context.Context, path string) ([]byte, Stat, error) {
	if err := s.checkPath(path, false); err != nil {
		return nil, Stat{}, err
	}
	var n znode.Node
	err := s.read(ctx, func() (err error) {
		n, err = s.readNode(path, true, znode.PermRead)
		return err
	})
	if err != nil {
		return nil, Stat{}, opError("get", path, err)
	}
	return n.Data, n.Stat, nil
}

// readNode reads path and checks perm on it; the caller holds the apply lock.
func (s *Session) readNode(path string, withData bool, perm znode.Perm) (znode.Node, error) {
	var n znode.Node
	var err error
	if withData {
		n, err = s.e.tree.Get(path)
	} else {
		n, err = s.e.tree.Stat(path)
	}
	if err != nil {
		return znode.Node{}, err
	}
	if !s.allowed(n.ACL, perm) {
		return znode.Node{}, zkerr.ErrNoAuth
	}
	return n, nil
}

// Set replaces a node's data if its version is version (-1: any) and returns
// the new Stat. It needs WRITE permission. As in Create, nil data is null
// and non-nil data of length 0 is empty. Every int32 is a valid expected
// version, as in ZooKeeper: the comparison with the node's version decides
// (ErrNoNode, ErrBadVersion); a version that passed MaxInt32 is negative.
func (s *Session) Set(ctx context.Context, path string, data []byte, version int32) (Stat, error) {
	txn := &znode.Txn{Type: znode.TxnSetData, Path: path, Data: data, Version: version}
	if err := s.checkRequest("set", txn); err != nil {
		return Stat{}, err
	}
	if err := s.checkPath(path, false); err != nil {
		s.auditRefused(txn, 0, err)
		return Stat{}, err
	}
	res, err := s.write(ctx, txn)
	if err == nil {
		err = res.Err
	}
	if err != nil {
		return Stat{}, opError("set", path, err)
	}
	return res.Stat, nil
}

// Delete deletes a node if its version is version (-1: any; every other
// int32 is compared) and it has no children. It needs DELETE permission on
// the parent. ZooKeeper's checks run in its order: a built-in node (/,
// /zookeeper, /zookeeper/quota, /zookeeper/config: ErrBadArguments), the
// parent exists (ErrNoNode), DELETE on the parent (ErrNoAuth), the node
// exists (ErrNoNode), its version (ErrBadVersion), no children
// (ErrNotEmpty).
func (s *Session) Delete(ctx context.Context, path string, version int32) error {
	txn := &znode.Txn{Type: znode.TxnDelete, Path: path, Version: version}
	if err := s.checkRequest("delete", txn); err != nil {
		return err
	}
	if err := s.checkPath(path, false); err != nil {
		s.auditRefused(txn, 0, err)
		return err
	}
	res, err := s.write(ctx, txn)
	if err == nil {
		err = res.Err
	}
	if err != nil {
		return opError("delete", path, err)
	}
	return nil
}

// Exists reports whether a node exists, with its Stat. It needs READ
// permission on an existing node, as ZooKeeper 3.8.4 and later (and 3.9.2)
// check it (ZOOKEEPER-2590; earlier releases returned the Stat of any
// node); a missing node needs no permission.
func (s *Session) Exists(ctx context.Context, path string) (bool, Stat, error) {
	if err := s.checkPath(path, false); err != nil {
		return false, Stat{}, err
	}
	var n znode.Node
	err := s.read(ctx, func() (err error) {
		n, err = s.readNode(path, false, znode.PermRead)
		return err
	})
	switch {
	case errors.Is(err, zkerr.ErrNoNode):
		return false, Stat{}, nil
	case err != nil:
		return false, Stat{}, opError("exists", path, err)
	}
	return true, n.Stat, nil
}

// Children returns the names of a node's children, sorted, and its Stat. It
// needs READ permission.
func (s *Session) Children(ctx context.Context, path string) ([]string, Stat, error) {
	if err := s.checkPath(path, false); err != nil {
		return nil, Stat{}, err
	}
	var names []string
	var n znode.Node
	err := s.read(ctx, func() (err error) {
		names, n, err = s.readChildren(path)
		return err
	})
	if err != nil {
		return nil, Stat{}, opError("children", path, err)
	}
	return names, n.Stat, nil
}

// readChildren lists path's children and checks READ; the caller holds the
// apply lock.
func (s *Session) readChildren(path string) ([]string, znode.Node, error) {
	names, n, err := s.e.tree.Children(path)
	if err != nil {
		return nil, znode.Node{}, err
	}
	if !s.allowed(n.ACL, znode.PermRead) {
		return nil, znode.Node{}, zkerr.ErrNoAuth
	}
	return names, n, nil
}

// GetACL returns a node's ACL and Stat. As in ZooKeeper 3.8 it needs READ or
// ADMIN permission, and a caller without ADMIN sees digest ids masked as
// "user:x".
func (s *Session) GetACL(ctx context.Context, path string) ([]ACL, Stat, error) {
	if err := s.checkPath(path, false); err != nil {
		return nil, Stat{}, err
	}
	var n znode.Node
	err := s.read(ctx, func() (err error) {
		n, err = s.e.tree.Stat(path)
		if err == nil && !s.allowed(n.ACL, znode.PermRead) && !s.allowed(n.ACL, znode.PermAdmin) {
			err = zkerr.ErrNoAuth
		}
		return err
	})
	if err != nil {
		return nil, Stat{}, opError("getACL", path, err)
	}
	acl := append([]ACL(nil), n.ACL...)
	if !s.allowed(n.ACL, znode.PermAdmin) {
		for i := range acl {
			if acl[i].Scheme == "digest" {
				user, _, _ := strings.Cut(acl[i].ID, ":")
				acl[i].ID = user + ":x"
			}
		}
	}
	return acl, n.Stat, nil
}

// SetACL replaces a node's ACL if its aversion is aversion (-1: any; every
// other int32 is compared). It needs ADMIN permission. The "auth" scheme
// stands for the session's digest identities; permission bits are stored as
// given, as ZooKeeper stores them.
func (s *Session) SetACL(ctx context.Context, path string, acl []ACL, aversion int32) (Stat, error) {
	txn := &znode.Txn{Type: znode.TxnSetACL, Path: path, ACL: append([]ACL(nil), acl...), Version: aversion}
	if err := s.checkPath(path, false); err != nil {
		s.auditRefused(txn, 0, err)
		return Stat{}, err
	}
	if err := s.checkRequest("setACL", txn); err != nil {
		return Stat{}, err
	}
	res, err := s.write(ctx, txn)
	if err == nil {
		err = res.Err
	}
	if err != nil {
		return Stat{}, opError("setACL", path, err)
	}
	return res.Stat, nil
}

// Sync makes the session's next read linearizable: it returns once this
// peer has applied everything the ensemble had committed when the leader
// received the Sync, confirmed by a quorum round (stronger than ZooKeeper's
// sync, which is not). path is validated for compatibility and otherwise
// unused: the barrier covers the whole tree.
func (s *Session) Sync(ctx context.Context, path string) error {
	if err := s.checkPath(path, false); err != nil {
		return err
	}
	if err := s.callable(ctx); err != nil {
		return err
	}
	if err := s.roWritable(ctx); err != nil { // ZooKeeper's read-only server refuses sync too
		return err
	}
	err := s.ordered(ctx, func() error { return s.e.syncBarrier(ctx) })
	if err != nil {
		return opError("sync", path, err)
	}
	return nil
}

// AllChildrenNumber returns the number of nodes below path (all
// descendants), as ZooKeeper's getAllChildrenNumber. It needs READ on path.
func (s *Session) AllChildrenNumber(ctx context.Context, path string) (int64, error) {
	if err := s.checkPath(path, false); err != nil {
		return 0, err
	}
	var n int64
	err := s.read(ctx, func() error {
		if _, err := s.readNode(path, false, znode.PermRead); err != nil {
			return err
		}
		var err error
		n, err = s.e.tree.AllChildrenNumber(path)
		return err
	})
	if err != nil {
		return 0, opError("getAllChildrenNumber", path, err)
	}
	return n, nil
}

// Ephemerals returns the session's ephemeral nodes whose path starts with
// prefix ("/" for all), sorted, as ZooKeeper's getEphemerals.
func (s *Session) Ephemerals(ctx context.Context, prefix string) ([]string, error) {
	if prefix != "/" {
		if err := s.checkPath(prefix, false); err != nil {
			return nil, err
		}
	}
	var paths []string
	err := s.read(ctx, func() (err error) {
		paths, err = s.e.tree.Ephemerals(s.id, prefix)
		return err
	})
	if err != nil {
		return nil, opError("getEphemerals", prefix, err)
	}
	return paths, nil
}
