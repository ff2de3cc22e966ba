package recipes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/embedzk/zk"
)

// Namespace is a view of a session rooted at a path, as Curator's
// namespace and ZooKeeper's chroot: every path given to it is relative to
// the root ("/" is the root itself), and every path it returns — created
// names, event paths, paths in errors — is relative too. It cannot reach
// outside its root: a path must be absolute, and ZooKeeper rejects "." and
// ".." components, so root+path is always at or below root; a sequential
// suffix extends the last component, which is the root only for "/", and
// a create of "/" is refused; multi ops move with zk.Op.Within, watches
// report relative paths (zk.WithRelativePaths).
//
// The root node is created (with its parents) by the first Create or Multi
// that needs it, as Curator does. A Namespace is safe for concurrent use;
// it holds no state but that flag, so any number of them may share a
// session. It implements CacheSession, so caches can run inside one.
type Namespace struct {
	s       *zk.Session
	root    string // "/" or a path without a trailing slash
	ensured atomic.Bool
}

// NewNamespace returns the view of s rooted at root (a valid absolute
// path; "/" is the whole tree).
func NewNamespace(s *zk.Session, root string) (*Namespace, error) {
	if s == nil {
		return nil, fmt.Errorf("recipes: namespace: %w: nil session", zk.ErrBadArguments)
	}
	if err := checkAbsolute(root); err != nil {
		return nil, fmt.Errorf("recipes: namespace: %w", err)
	}
	return &Namespace{s: s, root: root}, nil
}

// Root returns the namespace's root path.
func (n *Namespace) Root() string { return n.root }

// Session returns the session the namespace views.
func (n *Namespace) Session() *zk.Session { return n.s }

// Path returns the full path of path (relative to the root), or an error
// wrapping zk.ErrInvalidPath if it is not absolute.
func (n *Namespace) Path(path string) (string, error) {
	if path == "" || path[0] != '/' {
		return "", fmt.Errorf("recipes: namespace %s: %w: %q is not an absolute path", n.root, zk.ErrInvalidPath, path)
	}
	switch {
	case n.root == "/":
		return path, nil
	case path == "/":
		return n.root, nil
	}
	return n.root + path, nil
}

// rel returns full relative to the root ("" stays ""): the inverse of Path.
func (n *Namespace) rel(full string) string {
	switch {
	case n.root == "/" || full == "":
		return full
	case full == n.root:
		return "/"
	case strings.HasPrefix(full, n.root+"/"):
		return full[len(n.root):]
	}
	return full // never for a path the namespace made
}

// nsError is an error of the session with the root taken out of its
// message; it wraps the session's error (errors.Is works).
type nsError struct {
	msg string
	err error
}

func (e *nsError) Error() string { return e.msg }
func (e *nsError) Unwrap() error { return e.err }

// wrap rewrites err's paths relative to the root.
func (n *Namespace) wrap(err error) error {
	if err == nil || n.root == "/" {
		return err
	}
	msg := strings.ReplaceAll(err.Error(), n.root+"/", "/")
	msg = strings.ReplaceAll(msg, n.root+":", "/:")
	return &nsError{msg: msg, err: err}
}

// ensureRoot creates the root node and its parents once.
func (n *Namespace) ensureRoot(ctx context.Context) error {
	if n.root == "/" || n.ensured.Load() {
		return nil
	}
	_, err := n.s.Create(ctx, n.root, nil, zk.WithParents())
	if err != nil && !errors.Is(err, zk.ErrNodeExists) {
		return err
	}
	n.ensured.Store(true)
	return nil
}

// ID, State, States, WatchStates, Zxid and Timeout are the session's.
func (n *Namespace) ID() int64                                     { return n.s.ID() }
func (n *Namespace) State() zk.SessionState                        { return n.s.State() }
func (n *Namespace) States() <-chan zk.SessionState                { return n.s.States() }
func (n *Namespace) WatchStates() (<-chan zk.SessionState, func()) { return n.s.WatchStates() }
func (n *Namespace) Zxid(ctx context.Context) (int64, error)       { return n.s.Zxid(ctx) }

// Create is Session.Create inside the namespace; the path it returns is
// relative (with its sequence suffix). Creating "/" is refused
// (zk.ErrBadArguments): the root is the namespace's.
func (n *Namespace) Create(ctx context.Context, path string, data []byte, opts ...zk.CreateOption) (string, error) {
	full, err := n.Path(path)
	if err != nil {
		return "", err
	}
	if full == n.root && n.root != "/" {
		// The root is the namespace's own; a sequential create of it would
		// name a sibling of the root, outside.
		return "", fmt.Errorf("recipes: namespace %s: create of /: %w: the namespace makes its root", n.root, zk.ErrBadArguments)
	}
	if err := n.ensureRoot(ctx); err != nil {
		return "", n.wrap(err)
	}
	got, err := n.s.Create(ctx, full, data, opts...)
	if err != nil {
		return "", n.wrap(err)
	}
	return n.rel(got), nil
}

// Get is Session.Get inside the namespace.
func (n *Namespace) Get(ctx context.Context, path string) ([]byte, zk.Stat, error) {
	full, err := n.Path(path)
	if err != nil {
		return nil, zk.Stat{}, err
	}
	data, st, err := n.s.Get(ctx, full)
	return data, st, n.wrap(err)
}

// Set is Session.Set inside the namespace.
func (n *Namespace) Set(ctx context.Context, path string, data []byte, version int32) (zk.Stat, error) {
	full, err := n.Path(path)
	if err != nil {
		return zk.Stat{}, err
	}
	st, err := n.s.Set(ctx, full, data, version)
	return st, n.wrap(err)
}

// Delete is Session.Delete inside the namespace.
func (n *Namespace) Delete(ctx context.Context, path string, version int32) error {
	full, err := n.Path(path)
	if err != nil {
		return err
	}
	return n.wrap(n.s.Delete(ctx, full, version))
}

// DeleteAll is Session.DeleteAll inside the namespace.
func (n *Namespace) DeleteAll(ctx context.Context, path string) error {
	full, err := n.Path(path)
	if err != nil {
		return err
	}
	return n.wrap(n.s.DeleteAll(ctx, full))
}

// Exists is Session.Exists inside the namespace.
func (n *Namespace) Exists(ctx context.Context, path string) (bool, zk.Stat, error) {
	full, err := n.Path(path)
	if err != nil {
		return false, zk.Stat{}, err
	}
	ok, st, err := n.s.Exists(ctx, full)
	return ok, st, n.wrap(err)
}

// Children is Session.Children inside the namespace.
func (n *Namespace) Children(ctx context.Context, path string) ([]string, zk.Stat, error) {
	full, err := n.Path(path)
	if err != nil {
		return nil, zk.Stat{}, err
	}
	names, st, err := n.s.Children(ctx, full)
	return names, st, n.wrap(err)
}

// AllChildrenNumber is Session.AllChildrenNumber inside the namespace.
func (n *Namespace) AllChildrenNumber(ctx context.Context, path string) (int64, error) {
	full, err := n.Path(path)
	if err != nil {
		return 0, err
	}
	c, err := n.s.AllChildrenNumber(ctx, full)
	return c, n.wrap(err)
}

// GetACL is Session.GetACL inside the namespace.
func (n *Namespace) GetACL(ctx context.Context, path string) ([]zk.ACL, zk.Stat, error) {
	full, err := n.Path(path)
	if err != nil {
		return nil, zk.Stat{}, err
	}
	acl, st, err := n.s.GetACL(ctx, full)
	return acl, st, n.wrap(err)
}

// SetACL is Session.SetACL inside the namespace.
func (n *Namespace) SetACL(ctx context.Context, path string, acl []zk.ACL, aversion int32) (zk.Stat, error) {
	full, err := n.Path(path)
	if err != nil {
		return zk.Stat{}, err
	}
	st, err := n.s.SetACL(ctx, full, acl, aversion)
	return st, n.wrap(err)
}

// Sync is Session.Sync inside the namespace.
func (n *Namespace) Sync(ctx context.Context, path string) error {
	full, err := n.Path(path)
	if err != nil {
		return err
	}
	return n.wrap(n.s.Sync(ctx, full))
}

// Ephemerals is Session.Ephemerals inside the namespace: the session's
// ephemeral nodes under the root whose relative path starts with prefix.
func (n *Namespace) Ephemerals(ctx context.Context, prefix string) ([]string, error) {
	full, err := n.Path(prefix)
	if err != nil {
		return nil, err
	}
	all, err := n.s.Ephemerals(ctx, full)
	if err != nil {
		return nil, n.wrap(err)
	}
	out := make([]string, 0, len(all))
	for _, p := range all {
		if p == n.root || strings.HasPrefix(p, n.root+"/") || n.root == "/" {
			out = append(out, n.rel(p))
		}
	}
	return out, nil
}
