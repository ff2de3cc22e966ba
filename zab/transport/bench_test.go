package transport_test

import (
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/embedzk/zk/zab/transport"
)

// benchStream sends b.N frames of size bytes from one transport to another,
// keeping at most window frames in flight so no queue overflows.
func benchStream(b *testing.B, from, to transport.Transport, size, window int) {
	awaitUp(b, from, to.ID())
	awaitUp(b, to, from.ID())
	var got atomic.Int64
	progress := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range to.Events() {
			if ev.Kind != transport.EventFrame {
				continue
			}
			got.Add(1)
			select {
			case progress <- struct{}{}:
			default:
			}
		}
	}()
	frame := make([]byte, size)
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for int64(i)-got.Load() >= int64(window) {
			<-progress
		}
		if err := from.Send(to.ID(), frame); err != nil {
			b.Fatalf("Send %d: %v", i, err)
		}
	}
	for got.Load() < int64(b.N) {
		<-progress
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
	from.Close()
	to.Close()
	<-done
}

func awaitUp(b *testing.B, tr transport.Transport, peer int64) {
	timer := time.NewTimer(20 * time.Second)
	defer timer.Stop()
	for {
		select {
		case ev := <-tr.Events():
			if ev.Kind == transport.EventUp && ev.Peer == peer {
				return
			}
		case <-timer.C:
			b.Fatalf("peer %d never up with %d", tr.ID(), peer)
		}
	}
}

func tcpPair(b *testing.B, useTLS bool) (*transport.TCP, *transport.TCP) {
	ln1, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addrs := map[int64]string{1: ln1.Addr().String(), 2: ln2.Addr().String()}
	pki := transport.NewPKI(b)
	mk := func(id int64, ln net.Listener) *transport.TCP {
		cfg := transport.TCPConfig{ID: id, Listener: ln, Peers: addrs, Secret: testSecret}
		if useTLS {
			cfg.Secret, cfg.TLS = nil, pki.PeerConfig(b, id)
		}
		tr, err := transport.NewTCP(cfg)
		if err != nil {
			b.Fatal(err)
		}
		return tr
	}
	return mk(1, ln1), mk(2, ln2)
}

func BenchmarkTCP1KiB(b *testing.B) {
	t1, t2 := tcpPair(b, false)
	benchStream(b, t2, t1, 1<<10, 4096)
}

func BenchmarkTCP64KiB(b *testing.B) {
	t1, t2 := tcpPair(b, false)
	benchStream(b, t2, t1, 64<<10, 256)
}

func BenchmarkTLS1KiB(b *testing.B) {
	t1, t2 := tcpPair(b, true)
	benchStream(b, t2, t1, 1<<10, 4096)
}

func BenchmarkMem1KiB(b *testing.B) {
	net := transport.NewNetwork(transport.NetworkOptions{Peers: []int64{1, 2}})
	defer net.Close()
	benchStream(b, net.Endpoint(2), net.Endpoint(1), 1<<10, 4096)
}
