package transport

import (
	"errors"
	"maps"
	"net"
	"testing"

	"github.com/embedzk/zk/zab/transport/internal/leak"
)

// TestAddPeer: peers 1 and 2 know only 1 and 2; peer 3 starts knowing all
// three. 3 dials both, which refuse it until they add it; then frames flow
// both ways. Adding again at the same address is a no-op; at another
// address, the local id, or after Close, an error.
func TestAddPeer(t *testing.T) {
	leak.Check(t)
	g := &group{t: t, addrs: map[int64]string{}, nodes: map[int64]*node{}}
	lns := map[int64]net.Listener{}
	for _, id := range []int64{1, 2, 3} {
		ln := listenLocal(t)
		lns[id] = ln
		g.addrs[id] = ln.Addr().String()
	}
	for _, id := range []int64{1, 2, 3} {
		addrs := maps.Clone(g.addrs)
		if id != 3 {
			delete(addrs, 3)
		}
		log := NewLogCapture(t)
		cfg := baseConfig(id, addrs, log)
		cfg.Listener = lns[id]
		g.start(id, cfg, log)
	}
	expect(t, g.tr(1), EventUp, 2)
	expect(t, g.tr(2), EventUp, 1)
	noEvent(t, g.tr(3))
	for _, id := range []int64{1, 2} {
		if err := g.tr(id).AddPeer(3, g.addrs[3]); err != nil {
			t.Fatal(err)
		}
		expect(t, g.tr(id), EventUp, 3)
		expect(t, g.tr(3), EventUp, id)
		if err := g.tr(id).Send(3, []byte("hello")); err != nil {
			t.Fatal(err)
		}
		if ev := expect(t, g.tr(3), EventFrame, id); string(ev.Frame) != "hello" {
			t.Fatalf("frame %q", ev.Frame)
		}
	}
	if err := g.tr(1).AddPeer(3, g.addrs[3]); err != nil {
		t.Fatalf("adding again: %v", err)
	}
	for _, bad := range []struct {
		id   int64
		addr string
	}{{3, "127.0.0.1:1"}, {1, "127.0.0.1:1"}, {0, "x:1"}, {9, ""}} {
		if err := g.tr(1).AddPeer(bad.id, bad.addr); !errors.Is(err, ErrConfig) {
			t.Errorf("AddPeer(%d, %q): %v", bad.id, bad.addr, err)
		}
	}
	g.tr(1).Close()
	if err := g.tr(1).AddPeer(7, "127.0.0.1:1"); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
