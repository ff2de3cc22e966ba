package engine

// Path returns the path the op works on.
func (o Op) Path() string { return o.txn.Path }

// WithPath returns a copy of the op on another path, for a view of a session
// that maps paths (a namespace, ZooKeeper's chroot). Everything else about
// the op (data, version, mode, ACL) stays.
func (o Op) WithPath(path string) Op {
	o.txn.Path = path
	return o
}

// Path returns the path the read works on.
func (o ReadOp) Path() string { return o.path }

// WithPath returns a copy of the read on another path.
func (o ReadOp) WithPath(path string) ReadOp {
	o.path = path
	return o
}
