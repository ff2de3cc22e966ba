package engine

import (
	"fmt"

	"github.com/embedzk/zk/internal/zkerr"
	"github.com/embedzk/zk/znode"
)

// Path returns the path the op works on.
func (o Op) Path() string { return o.txn.Path }

// Within returns the op moved below root, as ZooKeeper's chroot moves a
// client's paths: "/" is root itself and "/a" is root+"/a". The op's path
// must be absolute (ErrInvalidPath), so the result never leaves root once
// the session has validated it (".." is no path component); and a create
// of "/" is refused (ErrBadArguments): it would make root itself or, with a
// sequential mode, a sibling of root. Everything else about the op stays.
func (o Op) Within(root string) (Op, error) {
	full, err := within(root, o.txn.Path)
	if err != nil {
		return Op{}, err
	}
	if o.txn.Type == znode.TxnCreate && full == root && root != "/" {
		return Op{}, fmt.Errorf("zk: create of %q below %s: %w: it would make the root itself or a sibling of it", o.txn.Path, root, zkerr.ErrBadArguments)
	}
	o.txn.Path = full
	return o, nil
}

// Path returns the path the read works on.
func (o ReadOp) Path() string { return o.path }

// Within returns the read moved below root, as Op.Within.
func (o ReadOp) Within(root string) (ReadOp, error) {
	full, err := within(root, o.path)
	if err != nil {
		return ReadOp{}, err
	}
	o.path = full
	return o, nil
}

// within maps an absolute path below root.
func within(root, path string) (string, error) {
	if err := znode.ValidatePath(root); err != nil {
		return "", fmt.Errorf("zk: root %q: %w", root, err)
	}
	if path == "" || path[0] != '/' {
		return "", fmt.Errorf("zk: %q below %s: %w: not an absolute path", path, root, zkerr.ErrInvalidPath)
	}
	switch {
	case root == "/":
		return path, nil
	case path == "/":
		return root, nil
	}
	return root + path, nil
}
