//go:build unix

package proctest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/entry"
	"github.com/embedzk/zk/wal"
	"github.com/embedzk/zk/zab"
)

// logEntry is one entry of a peer's transaction log.
type logEntry struct {
	zxid int64
	raw  []byte
	en   entry.Entry
}

// readLog reads the whole transaction log of a stopped peer.
func readLog(peerDir string) ([]logEntry, error) {
	d := dataDir(peerDir)
	l, err := wal.Open(wal.Options{FS: vfs.Default, Dir: filepath.Join(d, "log"), SnapDir: filepath.Join(d, "snapshots")})
	if err != nil {
		return nil, err
	}
	defer l.Close()
	if l.Base() != 0 {
		return nil, fmt.Errorf("%s: the log starts after zxid %#x, not at the beginning", peerDir, l.Base())
	}
	var out []logEntry
	err = l.ReadFrom(0, func(e wal.Entry) error {
		data := e.Data
		if _, payload, ok, _ := zab.DecodeConfigEntry(data); ok {
			data = payload // a configuration entry carries a setData of /zookeeper/config
		}
		en, err := entry.Decode(data)
		if err != nil {
			return fmt.Errorf("zxid %#x: %w", e.Zxid, err)
		}
		out = append(out, logEntry{zxid: e.Zxid, raw: e.Data, en: en})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", peerDir, err)
	}
	return out, nil
}

// splitAt splits a log into the entries up to zxid and those after it.
func splitAt(log []logEntry, zxid int64) (upTo, after []logEntry) {
	i := 0
	for i < len(log) && log[i].zxid <= zxid {
		i++
	}
	return log[:i], log[i:]
}

// sameLogs compares the committed logs of the peers entry by entry.
func sameLogs(logs map[int64][]logEntry) error {
	ref := logs[peerIDs[0]]
	for _, id := range peerIDs[1:] {
		l := logs[id]
		for i := 0; i < len(ref) || i < len(l); i++ {
			switch {
			case i >= len(ref):
				return fmt.Errorf("peer %d's committed log has entry %#x beyond peer %d's end", id, l[i].zxid, peerIDs[0])
			case i >= len(l):
				return fmt.Errorf("peer %d's committed log ends before entry %#x of peer %d", id, ref[i].zxid, peerIDs[0])
			case l[i].zxid != ref[i].zxid || !bytes.Equal(l[i].raw, ref[i].raw):
				return fmt.Errorf("committed logs differ at entry %d: peer %d has %#x, peer %d has %#x (or different bytes)",
					i, peerIDs[0], ref[i].zxid, id, l[i].zxid)
			}
		}
	}
	return nil
}

// converge dumps every peer's tree until all three are at the same applied
// zxid with identical trees (clients are quiet by then; sessions may still
// expire, so it polls), or ctx ends.
func (c *cluster) converge(ctx context.Context) map[int64]*treeDump {
	c.t.Helper()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		dumps, why := c.dumpAll(ctx)
		if why == "" {
			return dumps
		}
		select {
		case <-ctx.Done():
			c.t.Fatalf("the peers did not converge: %s", why)
		case <-tick.C:
		}
	}
}

// dumpAll dumps every peer; why says what differs ("" if nothing).
func (c *cluster) dumpAll(ctx context.Context) (map[int64]*treeDump, string) {
	dumps := map[int64]*treeDump{}
	for _, id := range peerIDs {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := c.procs[id].call(dctx, "dump "+dumpPath(c.peerDir(id)))
		cancel()
		if err != nil {
			return nil, err.Error()
		}
		b, err := os.ReadFile(dumpPath(c.peerDir(id)))
		if err != nil {
			return nil, err.Error()
		}
		var d treeDump
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, err.Error()
		}
		dumps[id] = &d
	}
	ref := dumps[peerIDs[0]]
	for _, id := range peerIDs[1:] {
		if d := dumps[id]; d.Applied != ref.Applied {
			return nil, fmt.Sprintf("peer %d applied %#x, peer %d %#x", peerIDs[0], ref.Applied, id, d.Applied)
		}
		if why := diffTrees(ref, dumps[id]); why != "" {
			return nil, why
		}
	}
	return dumps, ""
}

// diffTrees describes the first difference between two dumps.
func diffTrees(a, b *treeDump) string {
	for p, na := range a.Nodes {
		nb, ok := b.Nodes[p]
		switch {
		case !ok:
			return fmt.Sprintf("at %#x %s is on peer %d, not on peer %d", a.Applied, p, a.ID, b.ID)
		case !bytes.Equal(na.Data, nb.Data) || na.Stat != nb.Stat:
			return fmt.Sprintf("at %#x %s differs: peer %d %q %+v, peer %d %q %+v", a.Applied, p, a.ID, na.Data, na.Stat, b.ID, nb.Data, nb.Stat)
		}
	}
	for p := range b.Nodes {
		if _, ok := a.Nodes[p]; !ok {
			return fmt.Sprintf("at %#x %s is on peer %d, not on peer %d", a.Applied, p, b.ID, a.ID)
		}
	}
	return ""
}
