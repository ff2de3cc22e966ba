package znode

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/dirsync"
)

// The tree's directory holds one or more Pebble directories named
// "tree-NNNNNN" and a small file CURRENT naming the one in use. Restore
// builds a new Pebble directory beside the old one, makes it durable, then
// switches CURRENT with a write to a temporary file, a sync, a rename and a
// sync of the directory, so that after a crash Open finds either the old tree
// or the new one. Open removes every Pebble directory CURRENT does not name.

const (
	currentFile = "CURRENT"
	currentTemp = "CURRENT.tmp"
	dbPrefix    = "tree-"
)

func dbName(seq int) string { return fmt.Sprintf("%s%06d", dbPrefix, seq) }

func dbSeq(name string) (int, bool) {
	s, ok := strings.CutPrefix(name, dbPrefix)
	if !ok || len(s) < 6 || s[0] == '+' || s[0] == '-' {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0
}

// readCurrent returns the Pebble directory CURRENT names; found is false if
// there is no CURRENT (a tree that was never completely created).
func readCurrent(fs vfs.FS, dir string) (name string, found bool, err error) {
	f, err := fs.Open(fs.PathJoin(dir, currentFile))
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("znode: open CURRENT: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64))
	if err != nil {
		return "", false, fmt.Errorf("znode: read CURRENT: %w", err)
	}
	name = strings.TrimSuffix(string(b), "\n")
	if _, ok := dbSeq(name); !ok {
		return "", false, fmt.Errorf("znode: %w: CURRENT names %q", errCorrupt, name)
	}
	return name, true, nil
}

// writeCurrent atomically and durably points CURRENT at name.
func writeCurrent(fs vfs.FS, dir, name string) error {
	tmp := fs.PathJoin(dir, currentTemp)
	f, err := fs.Create(tmp, vfs.WriteCategoryUnspecified)
	if err != nil {
		return fmt.Errorf("znode: create %s: %w", tmp, err)
	}
	_, err = io.WriteString(f, name+"\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fs.Rename(tmp, fs.PathJoin(dir, currentFile))
	}
	if err == nil {
		err = dirsync.Sync(fs, dir)
	}
	if err != nil {
		return fmt.Errorf("znode: switch CURRENT to %s: %w", name, err)
	}
	return nil
}

// mkdirAllSynced creates dir and any missing parents, and syncs the parent
// of each directory it created so that the new entries survive a crash.
func mkdirAllSynced(fs vfs.FS, dir string) error {
	var missing []string
	for d := dir; ; {
		if _, err := fs.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
		parent := fs.PathDir(d)
		if parent == d {
			break
		}
		d = parent
	}
	if len(missing) == 0 {
		return nil
	}
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := dirsync.Sync(fs, fs.PathDir(missing[i])); err != nil {
			return err
		}
	}
	return nil
}

// removeStale removes every Pebble directory but keep, and a leftover
// temporary CURRENT.
func removeStale(fs vfs.FS, dir, keep string) error {
	names, err := fs.List(dir)
	if err != nil {
		return fmt.Errorf("znode: list %s: %w", dir, err)
	}
	for _, n := range names {
		_, isDB := dbSeq(n)
		if (isDB && n != keep) || n == currentTemp {
			if err := fs.RemoveAll(fs.PathJoin(dir, n)); err != nil {
				return fmt.Errorf("znode: remove %s: %w", n, err)
			}
		}
	}
	return nil
}

// nextDBName returns a Pebble directory name above every existing one.
func nextDBName(fs vfs.FS, dir string) (string, error) {
	names, err := fs.List(dir)
	if err != nil {
		return "", fmt.Errorf("znode: list %s: %w", dir, err)
	}
	top := 0
	for _, n := range names {
		if s, ok := dbSeq(n); ok && s > top {
			top = s
		}
	}
	return dbName(top + 1), nil
}

// writeInitialTree writes what every new tree holds, as ZooKeeper's
// DataTree constructor: "/" (OPEN_ACL_UNSAFE) with the child "zookeeper";
// "/zookeeper" (OPEN_ACL_UNSAFE) with "quota" and "config";
// "/zookeeper/quota" (OPEN_ACL_UNSAFE); "/zookeeper/config"
// (READ_ACL_UNSAFE, aversion -1, as DataTree.addConfigNode leaves it). All
// their other Stat fields are zero and their data is empty (not null), as
// ZooKeeper's. The applied zxid is 0.
func writeInitialTree(db *pebble.DB) (meta, error) {
	initial := []struct {
		path string
		n    node
	}{
		{RootPath, node{numChildren: 1, acl: OpenACLUnsafe(), data: []byte{}}},
		{SystemPath, node{numChildren: 2, acl: OpenACLUnsafe(), data: []byte{}}},
		{QuotaPath, node{acl: OpenACLUnsafe(), data: []byte{}}},
		{ConfigPath, node{aversion: -1, acl: ReadACLUnsafe(), data: []byte{}}},
	}
	b := db.NewBatch()
	defer b.Close()
	var m meta
	for _, e := range initial {
		e.n.dataHash = dataHash(nil)
		if err := b.Set(nodeKey(e.path), encodeNode(&e.n), nil); err != nil {
			return meta{}, err
		}
		m.digest += nodeDigest(e.path, &e.n)
		m.nodes++
		m.sizes.add(e.path, &e.n, 1)
	}
	if err := b.Set(metaKey, encodeMeta(m), nil); err != nil {
		return meta{}, err
	}
	return m, b.Commit(pebble.NoSync)
}
