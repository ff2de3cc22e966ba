package wire_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	gozk "github.com/go-zookeeper/zk"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/wire"
	"github.com/embedzk/zk/zab/transport"
)

// TestReconfigOverTheWire: go-zookeeper's incremental reconfig removes a
// follower; only the super user may (NOAUTH otherwise, as ZooKeeper's ACL on
// /zookeeper/config); /zookeeper/config shows the new configuration; a
// stale -v is BADVERSION.
func TestReconfigOverTheWire(t *testing.T) {
	ids := []int64{1, 2, 3}
	var servers []engine.Server
	for _, id := range ids {
		servers = append(servers, engine.Server{ID: id, Host: "inmem", QuorumPort: 2000 + int(id), ElectionPort: 3000 + int(id)})
	}
	network := transport.NewNetwork(transport.NetworkOptions{Peers: ids})
	t.Cleanup(network.Close)
	var peers []*engine.Ensemble
	for _, id := range ids {
		cfg := peerConfig()
		cfg.ManualClock, cfg.TickTime, cfg.FS = false, 50*time.Millisecond, vfs.NewMem()
		cfg.ID, cfg.Servers, cfg.Transport = id, servers, network.Restart(id)
		cfg.Rand = &seeded{x: uint64(id) * 0x9e3779b97f4a7c15}
		cfg.ReconfigEnabled, cfg.SuperDigest = true, engine.DigestAuth("super", "pw")
		e, err := wire.NewEnsemble(cfg)
		must(t, err)
		t.Cleanup(func() { e.Close() })
		peers = append(peers, e)
	}
	for _, e := range peers {
		must(t, e.WaitServing(testCtx(t)))
	}
	gone := "3" // a follower, so that peer 1 serves on
	if peers[2].Status().Mode == engine.ModeLeading {
		gone = "2"
	}
	c, _ := dial(t, peers[0].ClientAddr())
	if _, err := c.IncrementalReconfig(nil, []string{gone}, -1); !errors.Is(err, gozk.ErrNoAuth) {
		t.Fatalf("reconfig without the super user: %v", err)
	}
	must(t, c.AddAuth("digest", []byte("super:pw")))
	st, err := c.IncrementalReconfig(nil, []string{gone}, -1)
	must(t, err)
	data, st2, err := c.Get("/zookeeper/config")
	must(t, err)
	if strings.Contains(string(data), "server."+gone+"=") || !strings.Contains(string(data), "server.1=") || st2.Mzxid != st.Mzxid {
		t.Fatalf("/zookeeper/config after removing %s: %q (stat %+v, reconfig's %+v)", gone, data, st2, st)
	}
	if _, err := c.IncrementalReconfig(nil, []string{"1"}, 1); !errors.Is(err, gozk.ErrBadVersion) {
		t.Fatalf("reconfig with a stale version: %v", err)
	}
}
