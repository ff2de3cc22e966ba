package wire_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	gozk "github.com/go-zookeeper/zk"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/wire"
)

// TestClientPortFromServerLineLikeZooKeeper: a zoo.cfg with no clientPort
// and one server line that names the client address (as ZooKeeper 3.5's
// dynamic configuration files write it) runs standalone and serves
// clients there, on a real ZooKeeper 3.8 and on zk.
func TestClientPortFromServerLineLikeZooKeeper(t *testing.T) {
	lines := func(client int) string {
		return fmt.Sprintf("tickTime=500\nadmin.enableServer=false\nserver.1=127.0.0.1:%d:%d;127.0.0.1:%d\n", freePort(t), freePort(t), client)
	}
	realPort := freePort(t)
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "myid"), []byte("1"), 0o644))
	runZooCfg(t, dir, lines(realPort)+"dataDir="+dir+"\n", zkJars)
	waitZK(t, fmt.Sprintf("127.0.0.1:%d", realPort))

	zkPort := freePort(t)
	cfg, ignored, err := engine.ParseZooCfg(strings.NewReader(lines(zkPort)+"dataDir=/zk\n"), []byte("1"))
	must(t, err)
	if len(ignored) != 0 || cfg.ClientPort != zkPort || cfg.ClientPortAddress != "127.0.0.1" || len(cfg.Servers) != 0 {
		t.Fatalf("parsed client port %d on %q, servers %v, ignored %v", cfg.ClientPort, cfg.ClientPortAddress, cfg.Servers, ignored)
	}
	cfg.FS, cfg.ManualClock, cfg.Rand, cfg.ClientIO = vfs.NewMem(), true, &seeded{x: 7}, wire.ClientIOForTests()
	e := startPeer(t, cfg)
	if e.ClientAddr() != fmt.Sprintf("127.0.0.1:%d", zkPort) {
		t.Fatalf("zk serves clients on %q", e.ClientAddr())
	}
	for _, port := range []int{realPort, zkPort} {
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		c, _ := dial(t, addr)
		if _, err := c.Create("/line", nil, 0, gozk.WorldACL(gozk.PermAll)); err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		// One voting server: standalone on both (standaloneEnabled's default).
		if srvr := fourLetter(t, addr, "srvr"); !strings.Contains(srvr, "Mode: standalone") {
			t.Errorf("%s: srvr says\n%s", addr, srvr)
		}
	}
}
