package znode

import "fmt"

// Reapable returns TxnDeleteContainer txns (Path set, Time = now) for the
// containers that are empty and have had children (cversion > 0) and the TTL
// nodes that are childless and whose data has not changed for longer than
// their TTL at now (ms since the epoch), in path order, at most limit of
// them (limit <= 0: no limit). It reads only the index of containers and TTL
// nodes, never the whole tree. The caller proposes the txns as ordinary
// writes; Apply checks the same rule again at the txn's Time, so a node that
// gained a child or new data meanwhile is left alone on every replica.
func (t *Tree) Reapable(now int64, limit int) ([]Txn, error) {
	snap := t.db.NewSnapshot()
	defer snap.Close()
	r := pebbleReader{snap}
	var paths []string
	err := r.scan([]byte{spaceReap}, func(key, _ []byte) bool {
		paths = append(paths, string(key[1:]))
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("znode: scan reap index: %w", err)
	}
	var out []Txn
	for _, p := range paths {
		b, ok, err := r.get(nodeKey(p))
		if err != nil {
			return nil, fmt.Errorf("znode: reap %s: %w", p, err)
		}
		if !ok {
			return nil, fmt.Errorf("znode: %w: reap index names missing node %q", errCorrupt, p)
		}
		n, err := decodeNode(b)
		if err != nil {
			return nil, fmt.Errorf("znode: reap %s: %w", p, err)
		}
		if n.numChildren == 0 && reapable(&n, now) {
			out = append(out, Txn{Type: TxnDeleteContainer, Path: p, Time: now})
			if limit > 0 && len(out) >= limit {
				break
			}
		}
	}
	return out, nil
}
