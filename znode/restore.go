package znode

import (
	"errors"
	"fmt"
	"io"

	"github.com/cockroachdb/pebble/v2"
)

// restoreBatchBytes is how much Restore buffers before it commits a batch.
const restoreBatchBytes = 4 << 20

// pebbleSink writes verified snapshot records into a fresh Pebble DB.
type pebbleSink struct {
	db *pebble.DB
	b  *pebble.Batch
}

func (s *pebbleSink) set(key, val []byte) error {
	if err := s.b.Set(key, val, nil); err != nil {
		return err
	}
	if s.b.Len() >= restoreBatchBytes {
		if err := s.b.Commit(pebble.NoSync); err != nil {
			return err
		}
		s.b.Reset()
	}
	return nil
}

func (s *pebbleSink) node(path string, n *node, value []byte) error {
	if err := s.set(nodeKey(path), value); err != nil {
		return err
	}
	switch n.kind {
	case kindEphemeral:
		return s.set(ephemeralKey(n.owner, path), nil)
	case kindContainer, kindTTL:
		return s.set(reapKey(path), nil)
	}
	return nil
}

func (s *pebbleSink) session(id int64, value []byte) error {
	return s.set(sessionKey(id), value)
}

// Restore replaces the whole tree by the content of a snapshot stream and
// returns the stream's zxid. The stream is verified completely (structure,
// checksum, and the digest recomputed from the content) before anything
// changes: the new tree is built in a fresh Pebble directory, made durable,
// and only then does CURRENT switch to it (write, sync, rename, directory
// sync). A crash at any point leaves either the old tree or the new one for
// Open; an error leaves the old tree in place (unless switching CURRENT
// itself failed, after which the tree refuses writes until reopened). The
// new tree is durable on return. If r is an io.ByteReader (a *bufio.Reader)
// Restore reads exactly the stream; otherwise it may buffer past its end.
// Restore must not run concurrently with Apply, reads or Pendings of this
// tree; Pendings must be Reset afterwards.
func (t *Tree) Restore(r io.Reader) (int64, error) {
	fs, dir := t.opts.FS, t.opts.Dir
	name, err := nextDBName(fs, dir)
	if err != nil {
		return 0, err
	}
	db, h, err := t.openDB(name, true)
	if err != nil {
		return 0, err
	}
	m, err := fillDB(db, r)
	if err == nil {
		err = h.flush(db)
	}
	if err != nil {
		err = errors.Join(err, db.Close(), fs.RemoveAll(fs.PathJoin(dir, name)))
		return 0, fmt.Errorf("znode: restore: %w", err)
	}
	if err := writeCurrent(fs, dir, name); err != nil {
		_ = db.Close()
		return 0, t.fail(fmt.Errorf("znode: restore: %w", err))
	}
	t.health = h
	t.resetAutoFlush()
	t.stopFilterBuild() // it reads the old DB
	t.filter.Store(nil)
	old, oldName := t.db, t.name
	t.visible.Add(1)
	t.db, t.name = db, name
	t.cache.clear()
	t.visible.Add(1)
	t.applying.clear()
	t.loadQuotaTop()
	t.applied.Store(&m)
	t.durable.Store(m.zxid)
	t.startFilterBuild()
	t.failed.Store(nil)
	if err := old.Close(); err != nil {
		t.log.Warn("znode: close the replaced tree", "dir", oldName, "err", err)
	}
	if err := fs.RemoveAll(fs.PathJoin(dir, oldName)); err != nil {
		t.log.Warn("znode: remove the replaced tree", "dir", oldName, "err", err)
	}
	return m.zxid, nil
}

// fillDB reads a snapshot stream into the empty db and records its meta.
func fillDB(db *pebble.DB, r io.Reader) (meta, error) {
	sink := &pebbleSink{db: db, b: db.NewBatch()}
	defer func() { _ = sink.b.Close() }()
	m, err := readSnapshot(r, sink)
	if err != nil {
		return meta{}, err
	}
	if err := sink.b.Set(metaKey, encodeMeta(m), nil); err != nil {
		return meta{}, err
	}
	return m, sink.b.Commit(pebble.NoSync)
}
