package transport

import (
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"
)

func TestTCPConfigValidation(t *testing.T) {
	ok := func() TCPConfig {
		return TCPConfig{ID: 1, Listen: "127.0.0.1:0", Peers: map[int64]string{2: "127.0.0.1:1"}, Secret: testSecret}
	}
	cases := []struct {
		field string
		mod   func(*TCPConfig)
	}{
		{"ID", func(c *TCPConfig) { c.ID = 0 }},
		{"Listen", func(c *TCPConfig) { c.Listen = "" }},
		{"Peers", func(c *TCPConfig) { c.Peers = map[int64]string{-2: "127.0.0.1:1"} }},
		{"Peers[2]", func(c *TCPConfig) { c.Peers = map[int64]string{2: ""} }},
		{"Secret", func(c *TCPConfig) { c.Secret = nil }},
		{"Secret", func(c *TCPConfig) { c.Secret = []byte("short") }},
		{"MaxFrame", func(c *TCPConfig) { c.MaxFrame = 2 << 30 }},
		{"MaxQueue", func(c *TCPConfig) { c.MaxQueue = -1 }},
		{"Backoff.Max", func(c *TCPConfig) { c.Backoff = Backoff{Min: time.Second, Max: time.Millisecond} }},
		{"IdleTimeout", func(c *TCPConfig) { c.Heartbeat, c.IdleTimeout = time.Second, time.Second }},
		{"TLS.ClientCAs", func(c *TCPConfig) { c.TLS = NewPKI(t).PeerConfig(t, 1); c.TLS.ClientCAs = nil }},
		{"TLS.RootCAs", func(c *TCPConfig) { c.TLS = NewPKI(t).PeerConfig(t, 1); c.TLS.RootCAs = nil }},
		{"TLS.InsecureSkipVerify", func(c *TCPConfig) { c.TLS = NewPKI(t).PeerConfig(t, 1); c.TLS.InsecureSkipVerify = true }},
		{"TLS needs Certificates", func(c *TCPConfig) { c.TLS = NewPKI(t).PeerConfig(t, 1); c.TLS.Certificates = nil }},
	}
	for _, c := range cases {
		cfg := ok()
		c.mod(&cfg)
		tr, err := NewTCP(cfg)
		if err == nil {
			tr.Close()
			t.Errorf("%s: accepted", c.field)
			continue
		}
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: %v", c.field, err)
		}
	}
	// The server list may include the local peer, whose entry is the
	// listen address.
	cfg := ok()
	cfg.Listen = ""
	cfg.Peers = map[int64]string{1: "127.0.0.1:0", 2: "127.0.0.1:1"}
	tr, err := NewTCP(cfg)
	if err != nil {
		t.Fatalf("Peers with the local id: %v", err)
	}
	defer tr.Close()
	if err := tr.Send(1, nil); !errors.Is(err, ErrUnknownPeer) {
		t.Fatalf("Send to self: %v", err)
	}
}

// TestTCPDialDirection: the higher id dials, and the connection carries
// frames both ways.
func TestTCPDialDirection(t *testing.T) {
	g := startGroup(t, []int64{1, 2}, nil)
	expect(t, g.tr(1), EventUp, 2)
	expect(t, g.tr(2), EventUp, 1)
	// Peer 2 dialed: it logs peer 1's listening address as the remote one.
	g.nodes[2].log.Wait(t, "connection up", "addr="+g.addrs[1])
	for _, d := range [][2]int64{{1, 2}, {2, 1}} {
		if err := g.tr(d[0]).Send(d[1], []byte("hi")); err != nil {
			t.Fatal(err)
		}
		if ev := expect(t, g.tr(d[1]), EventFrame, d[0]); string(ev.Frame) != "hi" {
			t.Fatalf("got %q", ev.Frame)
		}
	}
}

func TestTCPWrongSecret(t *testing.T) {
	g := startGroup(t, []int64{1, 2}, func(c *TCPConfig) {
		if c.ID == 2 {
			c.Secret = []byte("another-secret-0123456789")
		}
	})
	// The dialer proves itself first: the acceptor finds the proof wrong,
	// logs the refused connection and tells the dialer why.
	g.nodes[1].log.Wait(t, "rejected connection", "peer 2 did not prove the shared secret")
	g.nodes[2].log.Wait(t, "dial failed", "rejected by the peer", "did not prove the shared secret")
	noEvent(t, g.tr(1))
	noEvent(t, g.tr(2))
	if err := g.tr(2).Send(1, []byte("x")); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("Send: %v", err)
	}
}

// TestTCPDialerWithoutSecret: a client that cannot prove the secret is
// refused by the acceptor, and told so.
func TestTCPDialerWithoutSecret(t *testing.T) {
	g := startGroup(t, []int64{1, 2}, nil)
	expect(t, g.tr(1), EventUp, 2)
	expect(t, g.tr(2), EventUp, 1)
	r := dialRaw(t, g.addrs[1])
	nD := make([]byte, nonceLen)
	r.f.writePreamble()
	r.f.writeMsg(kindHello, helloMsg{From: 2, To: 1, Nonce: nD})
	r.f.w.Flush()
	if _, err := r.f.readPreamble(); err != nil {
		t.Fatal(err)
	}
	var ch challengeMsg
	if err := r.f.readMsg(kindChallenge, &ch); err != nil {
		t.Fatal(err)
	}
	r.f.writeMsg(kindProof, proofMsg{Proof: proof([]byte("guessed-secret-0123456789"), labelDialer, 2, 1, nD, ch.Nonce)})
	r.f.w.Flush()
	if err := r.f.readMsg(kindWelcome, &welcomeMsg{}); !errors.Is(err, ErrAuth) {
		t.Fatalf("spoofer got %v, want a reject", err)
	}
	r.expectClosed()
	g.nodes[1].log.Wait(t, "rejected connection", "peer 2 did not prove the shared secret")
	// The real peer 2's connection was not touched.
	noEvent(t, g.tr(1))
	if err := g.tr(2).Send(1, []byte("still here")); err != nil {
		t.Fatal(err)
	}
	expect(t, g.tr(1), EventFrame, 2)
}

// TestTCPReplay: a recorded proof is useless on a new connection, because
// the acceptor's nonce is fresh.
func TestTCPReplay(t *testing.T) {
	g := soloPeer1(t, nil)
	nD := make([]byte, nonceLen)
	attempt := func(replayed []byte) ([]byte, error) {
		r := dialRaw(t, g.addrs[1])
		r.f.writePreamble()
		r.f.writeMsg(kindHello, helloMsg{From: 2, To: 1, Nonce: nD})
		r.f.w.Flush()
		if _, err := r.f.readPreamble(); err != nil {
			t.Fatal(err)
		}
		var ch challengeMsg
		if err := r.f.readMsg(kindChallenge, &ch); err != nil {
			t.Fatal(err)
		}
		p := replayed
		if p == nil {
			p = proof(testSecret, labelDialer, 2, 1, nD, ch.Nonce)
		}
		r.f.writeMsg(kindProof, proofMsg{Proof: p})
		r.f.w.Flush()
		err := r.f.readMsg(kindWelcome, &welcomeMsg{})
		r.conn.Close()
		return p, err
	}
	recorded, err := attempt(nil)
	if err != nil {
		t.Fatalf("honest handshake: %v", err)
	}
	expect(t, g.tr(1), EventUp, 2)
	if _, err := attempt(recorded); !errors.Is(err, ErrAuth) {
		t.Fatalf("replayed proof: %v, want a reject", err)
	}
	g.nodes[1].log.Wait(t, "rejected connection", "did not prove")
	expect(t, g.tr(1), EventDown, 2) // the honest connection, closed by the client
	noEvent(t, g.tr(1))
}

func TestTCPUnknownAndWrongDirection(t *testing.T) {
	g := startGroup(t, []int64{2}, func(c *TCPConfig) {
		c.Peers = map[int64]string{1: closedAddr(t), 3: closedAddr(t)}
	})
	cases := []struct {
		from, to int64
		reason   string
	}{
		{99, 2, "unknown peer"},
		{0, 2, "unknown peer"},
		{2, 2, "unknown peer"},
		{1, 2, "only the higher id of a pair dials"},
		{3, 7, "addressed peer 7"},
	}
	seen := map[string]int{}
	for _, c := range cases {
		r := dialRaw(t, g.addrs[2])
		err := dialHandshake(r.f, c.from, c.to, testSecret, "")
		if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("claiming %d to %d: %v, want a reject saying %q", c.from, c.to, err, c.reason)
		}
		r.expectClosed()
		seen[c.reason]++
		g.nodes[2].log.WaitCount(t, seen[c.reason], "rejected connection", c.reason)
	}
	noEvent(t, g.tr(2))
}

// TestTCPNewConnectionReplacesOld: a second authenticated connection from
// the same peer wins (a restarted peer whose old connection is half-open);
// the consumer sees the old one's Down before the new one's Up.
func TestTCPNewConnectionReplacesOld(t *testing.T) {
	g := soloPeer1(t, nil)
	first := authedRaw(t, g)
	first.frame(kindData, []byte("first"))
	if ev := expect(t, g.tr(1), EventFrame, 2); string(ev.Frame) != "first" {
		t.Fatalf("got %q", ev.Frame)
	}
	second := dialRaw(t, g.addrs[1])
	if err := dialHandshake(second.f, 2, 1, testSecret, ""); err != nil {
		t.Fatal(err)
	}
	expect(t, g.tr(1), EventDown, 2)
	expect(t, g.tr(1), EventUp, 2)
	first.expectClosed()
	second.frame(kindData, []byte("second"))
	if ev := expect(t, g.tr(1), EventFrame, 2); string(ev.Frame) != "second" {
		t.Fatalf("got %q", ev.Frame)
	}
	g.nodes[1].log.Wait(t, "new connection replaces the current one")
	noEvent(t, g.tr(1))
}

// authedRaw is a raw client authenticated as 2 to peer 1 of g.
func authedRaw(t *testing.T, g *group) *rawPeer {
	t.Helper()
	r := dialRaw(t, g.addrs[1])
	if err := dialHandshake(r.f, 2, 1, testSecret, ""); err != nil {
		t.Fatal(err)
	}
	expect(t, g.tr(1), EventUp, 2)
	return r
}

func soloPeer1(t *testing.T, mod func(*TCPConfig)) *group {
	return startGroup(t, []int64{1}, func(c *TCPConfig) {
		c.Peers = map[int64]string{2: closedAddr(t)}
		if mod != nil {
			mod(c)
		}
	})
}

func TestTCPOversizedFrame(t *testing.T) {
	g := soloPeer1(t, func(c *TCPConfig) { c.MaxFrame = 1024 })
	r := authedRaw(t, g)
	r.frame(kindData, make([]byte, 1024)) // at the limit: fine
	expect(t, g.tr(1), EventFrame, 2)
	// Announce 2 GiB and send nothing more: a reader that trusted the
	// length would wait for (or allocate) it.
	r.write([]byte{0x80, 0, 0, 0, ProtocolVersion, kindData})
	expect(t, g.tr(1), EventDown, 2)
	g.nodes[1].log.Wait(t, "bad frame", "frame too large")
	r.expectClosed()
}

func TestTCPBadFramesAfterHandshake(t *testing.T) {
	cases := []struct {
		name string
		wire []byte
		log  string
	}{
		{"other version", []byte{0, 0, 0, 1, ProtocolVersion + 1, kindData, 'x'}, "unsupported protocol version"},
		{"unknown kind", []byte{0, 0, 0, 1, ProtocolVersion, 99, 'x'}, "frame kind 99"},
		{"handshake kind", []byte{0, 0, 0, 0, ProtocolVersion, kindWelcome}, "frame kind 4"},
		{"ping with payload", []byte{0, 0, 0, 1, ProtocolVersion, kindPing, 'x'}, "frame kind 17"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := soloPeer1(t, nil)
			r := authedRaw(t, g)
			r.write(c.wire)
			expect(t, g.tr(1), EventDown, 2)
			g.nodes[1].log.Wait(t, "bad frame", c.log)
			noEvent(t, g.tr(1))
		})
	}
}

// TestTCPGarbage: random bytes, HTTP, truncated handshakes and oversized
// handshake frames are refused without an event.
func TestTCPGarbage(t *testing.T) {
	g := soloPeer1(t, nil)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	inputs := [][]byte{
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		[]byte(magic + "\x02\x00\x00\x10\x00\x02\x01"),         // a 4 KiB hello: over the handshake limit
		[]byte(magic + "\x02\x00\x00\x00\x02\x02\x01\xc1\xc1"), // malformed msgpack
		[]byte(magic + "\x02\x00\x00\x00\x00\x02\x03"),         // a proof before any hello
		[]byte(magic + "\x01\x00\x00\x00\x00\x01\x01"),         // protocol version 1
	}
	for range 20 {
		b := make([]byte, 1+rng.IntN(300))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		inputs = append(inputs, b)
	}
	t.Logf("seed %d", seed)
	for _, in := range inputs {
		r := dialRaw(t, g.addrs[1])
		r.write(in)
		r.conn.(*net.TCPConn).CloseWrite()
		r.expectClosed()
	}
	// Every refusal is logged, and none produced an event.
	g.nodes[1].log.WaitCount(t, len(inputs), "rejected connection")
	noEvent(t, g.tr(1))
}

func TestTCPHandshakeTimeout(t *testing.T) {
	g := soloPeer1(t, func(c *TCPConfig) { c.HandshakeTimeout = 50 * time.Millisecond })
	r := dialRaw(t, g.addrs[1])
	r.write([]byte(magic)) // and then nothing
	r.expectClosed()
	g.nodes[1].log.Wait(t, "rejected connection", "timeout")
	noEvent(t, g.tr(1))
}

// TestTCPMaxHandshakes: at the bound, the oldest silent connection makes
// room for a new one, so a peer gets in past connections that say nothing.
func TestTCPMaxHandshakes(t *testing.T) {
	g := soloPeer1(t, func(c *TCPConfig) { c.MaxHandshakes = 2 })
	idle1 := dialRaw(t, g.addrs[1])
	idle2 := dialRaw(t, g.addrs[1])
	idle2.write([]byte(magic)) // half a preamble is still anonymous
	authedRaw(t, g)            // the peer's connection closes idle1
	idle1.expectClosed()
	g.nodes[1].log.Wait(t, "handshake bounds reached")
	// And again: the next newcomer closes idle2, now the oldest.
	dialRaw(t, g.addrs[1])
	dialRaw(t, g.addrs[1])
	idle2.expectClosed()
}

// TestTCPLogsAreAttributed: records carry the local peer id.
func TestTCPLogsAreAttributed(t *testing.T) {
	g := startGroup(t, []int64{1, 2}, nil)
	expect(t, g.tr(1), EventUp, 2)
	g.nodes[1].log.Wait(t, "connection up", "peer=1", "remote=2")
}
