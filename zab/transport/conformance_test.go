package transport_test

import (
	"crypto/tls"
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/embedzk/zk/zab/transport"
	"github.com/embedzk/zk/zab/transport/transporttest"
)

const (
	suiteMaxFrame = 64 << 10
	suiteMaxQueue = 256 << 10
)

func TestConformanceMemAuto(t *testing.T) {
	transporttest.Run(t, transporttest.Options{New: newMemCluster(false), MaxFrame: suiteMaxFrame, MaxQueue: suiteMaxQueue})
}

func TestConformanceMemManual(t *testing.T) {
	transporttest.Run(t, transporttest.Options{New: newMemCluster(true), Manual: true, MaxFrame: suiteMaxFrame, MaxQueue: suiteMaxQueue})
}

func TestConformanceTCPSecret(t *testing.T) {
	transporttest.Run(t, transporttest.Options{New: newTCPCluster(false, true), MaxFrame: suiteMaxFrame, MaxQueue: suiteMaxQueue})
}

func TestConformanceTCPTLS(t *testing.T) {
	transporttest.Run(t, transporttest.Options{New: newTCPCluster(true, false), MaxFrame: suiteMaxFrame, MaxQueue: suiteMaxQueue})
}

func TestConformanceTCPTLSAndSecret(t *testing.T) {
	if testing.Short() {
		t.Skip("the TLS and secret variants cover both halves")
	}
	transporttest.Run(t, transporttest.Options{New: newTCPCluster(true, true), MaxFrame: suiteMaxFrame, MaxQueue: suiteMaxQueue})
}

type memCluster struct {
	net    *transport.Network
	manual bool
	rng    *rand.Rand
}

func newMemCluster(manual bool) func(*testing.T, []int64, int64) transporttest.Cluster {
	return func(t *testing.T, ids []int64, seed int64) transporttest.Cluster {
		return &memCluster{
			net: transport.NewNetwork(transport.NetworkOptions{
				Peers: ids, Manual: manual, MaxFrame: suiteMaxFrame, MaxQueue: suiteMaxQueue, EventBuffer: 16,
			}),
			manual: manual,
			rng:    rand.New(rand.NewPCG(uint64(seed), 1)),
		}
	}
}

func (c *memCluster) Transport(id int64) transport.Transport { return c.net.Endpoint(id) }
func (c *memCluster) Restart(id int64) transport.Transport   { return c.net.Restart(id) }
func (c *memCluster) Close()                                 { c.net.Close() }

// Step delivers one pending event chosen at random, from the seed. (When
// other goroutines send or disconnect at the same time, what was pending may
// be gone by Deliver: then it looks again.)
func (c *memCluster) Step() bool {
	if !c.manual {
		return false
	}
	for {
		ps := c.net.Pending()
		if len(ps) == 0 {
			return false
		}
		err := c.net.Deliver(ps[c.rng.IntN(len(ps))])
		if err == nil {
			return true
		}
		if !errors.Is(err, transport.ErrNotPending) {
			panic(err)
		}
	}
}

type tcpCluster struct {
	t     *testing.T
	addrs map[int64]string
	cfg   func(id int64) transport.TCPConfig

	mu  sync.Mutex
	trs map[int64]*transport.TCP
}

var testSecret = []byte("0123456789abcdef-shared-secret")

func newTCPCluster(useTLS, useSecret bool) func(*testing.T, []int64, int64) transporttest.Cluster {
	return func(t *testing.T, ids []int64, seed int64) transporttest.Cluster {
		c := &tcpCluster{t: t, addrs: make(map[int64]string), trs: make(map[int64]*transport.TCP)}
		lns := make(map[int64]net.Listener)
		for _, id := range ids {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			lns[id] = ln
			c.addrs[id] = ln.Addr().String()
		}
		var tlsConfs map[int64]*tls.Config
		if useTLS {
			pki := transport.NewPKI(t)
			tlsConfs = make(map[int64]*tls.Config)
			for _, id := range ids {
				tlsConfs[id] = pki.PeerConfig(t, id)
			}
		}
		c.cfg = func(id int64) transport.TCPConfig {
			cfg := transport.TCPConfig{
				ID:          id,
				Peers:       c.addrs,
				MaxFrame:    suiteMaxFrame,
				MaxQueue:    suiteMaxQueue,
				EventBuffer: 16,
				Backoff:     transport.Backoff{Min: time.Millisecond, Max: 20 * time.Millisecond},
				Seed:        uint64(seed)*1000 + uint64(id),
				Logger:      transport.NewLogCapture(t).Logger(),
			}
			if useSecret {
				cfg.Secret = testSecret
			}
			if useTLS {
				cfg.TLS = tlsConfs[id]
			}
			return cfg
		}
		for _, id := range ids {
			cfg := c.cfg(id)
			cfg.Listener = lns[id]
			c.start(id, cfg)
		}
		return c
	}
}

func (c *tcpCluster) start(id int64, cfg transport.TCPConfig) *transport.TCP {
	tr, err := transport.NewTCP(cfg)
	if err != nil {
		c.t.Fatalf("NewTCP(%d): %v", id, err)
	}
	c.mu.Lock()
	c.trs[id] = tr
	c.mu.Unlock()
	return tr
}

func (c *tcpCluster) Transport(id int64) transport.Transport {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.trs[id]
}

// Restart closes id's transport and starts a new one on the same address.
func (c *tcpCluster) Restart(id int64) transport.Transport {
	c.mu.Lock()
	old := c.trs[id]
	c.mu.Unlock()
	_ = old.Close()
	cfg := c.cfg(id)
	cfg.Listen = c.addrs[id]
	return c.start(id, cfg)
}

func (c *tcpCluster) Step() bool { return false }

func (c *tcpCluster) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, tr := range c.trs {
		_ = tr.Close()
	}
}
