package wire

import (
	"testing"

	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/znode"
)

// TestCreateModeTable: the node mode each create op makes with each flag,
// as ZooKeeper 3.8 decides it (createMode's comment). Over the wire a
// container and a persistent node look alike (both report no ephemeral
// owner), so the choice is checked here.
func TestCreateModeTable(t *testing.T) {
	const bad = znode.CreateMode(-1)
	for _, c := range []struct {
		op    int32
		flags int32
		want  znode.CreateMode
		ttl   bool
	}{
		{jute.OpCreate, 0, znode.ModePersistent, false},
		{jute.OpCreate2, 3, znode.ModeEphemeralSequential, false},
		{jute.OpCreate, 4, znode.ModePersistent, false},
		{jute.OpCreate2, 4, znode.ModePersistent, false},
		{jute.OpCreate, 5, bad, false},
		{jute.OpCreateContainer, 0, znode.ModeContainer, false},
		{jute.OpCreateContainer, 1, znode.ModeContainer, false},
		{jute.OpCreateContainer, 4, znode.ModeContainer, false},
		{jute.OpCreateContainer, 2, znode.ModeContainerSequential, false},
		{jute.OpCreateContainer, 3, znode.ModeContainerSequential, false},
		{jute.OpCreateContainer, 6, bad, false},
		{jute.OpCreate, 7, bad, false},
		{jute.OpCreateContainer, 7, bad, false},
		{jute.OpCreate, -1, bad, false},
		{jute.OpCreateContainer, 5, bad, false},
		{jute.OpCreateTTL, 5, znode.ModePersistentWithTTL, true},
		{jute.OpCreateTTL, 6, znode.ModePersistentSequentialWithTTL, true},
		{jute.OpCreateTTL, 0, bad, false},
		{jute.OpCreateTTL, 4, bad, false},
	} {
		mode, ttl, err := createMode(c.op, c.flags)
		if c.want == bad {
			if err == nil {
				t.Errorf("op %d flags %d: mode %v, want BADARGUMENTS", c.op, c.flags, mode)
			}
			continue
		}
		if err != nil || mode != c.want || ttl != c.ttl {
			t.Errorf("op %d flags %d: %v %v %v, want %v %v", c.op, c.flags, mode, ttl, err, c.want, c.ttl)
		}
	}
}
