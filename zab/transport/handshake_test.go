package transport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

var secretA = []byte("secret-A-0123456789")

// pipeHandshake runs both sides over net.Pipe.
func pipeHandshake(t *testing.T, dialer, acceptor, claimed int64, dSecret, aSecret []byte, admit func(int64, string) error) (dErr, aErr error, got int64) {
	t.Helper()
	dc, ac := net.Pipe()
	defer dc.Close()
	defer ac.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		got, aErr = acceptHandshake(newFrameRW(ac), acceptor, aSecret, admit)
		ac.Close() // unblock a dialer still waiting
	}()
	dErr = dialHandshake(newFrameRW(dc), claimed, dialer, dSecret, "")
	dc.Close()
	<-done
	return dErr, aErr, got
}

func admitAll(int64, string) error { return nil }

func TestHandshakeSucceeds(t *testing.T) {
	for _, secret := range [][]byte{secretA, nil} {
		dErr, aErr, got := pipeHandshake(t, 1, 1, 2, secret, secret, admitAll)
		if dErr != nil || aErr != nil || got != 2 {
			t.Fatalf("secret %q: dialer %v, acceptor %v, id %d", secret, dErr, aErr, got)
		}
	}
}

func TestHandshakeWrongSecret(t *testing.T) {
	dErr, aErr, _ := pipeHandshake(t, 1, 1, 2, []byte("secret-B-0123456789"), secretA, admitAll)
	// The dialer proves first: the acceptor refuses it and says why.
	if !errors.Is(aErr, ErrAuth) {
		t.Fatalf("acceptor: %v, want ErrAuth", aErr)
	}
	if !errors.Is(dErr, ErrAuth) || !strings.Contains(dErr.Error(), "did not prove the shared secret") {
		t.Fatalf("dialer: %v, want a reject saying why", dErr)
	}
}

func TestHandshakeAdmitRefusal(t *testing.T) {
	refuse := func(id int64, _ string) error { return fmt.Errorf("%w: no peer %d here", ErrUnknownPeer, id) }
	dErr, aErr, _ := pipeHandshake(t, 1, 1, 99, secretA, secretA, refuse)
	if !errors.Is(aErr, ErrUnknownPeer) {
		t.Fatalf("acceptor: %v, want ErrUnknownPeer", aErr)
	}
	if !errors.Is(dErr, ErrAuth) || !strings.Contains(dErr.Error(), "no peer 99 here") {
		t.Fatalf("dialer: %v, want ErrAuth with the reason", dErr)
	}
}

func TestHandshakeWrongTarget(t *testing.T) {
	// The dialer meant peer 5 but reached peer 1.
	dErr, aErr, _ := pipeHandshake(t, 5, 1, 7, secretA, secretA, admitAll)
	if !errors.Is(aErr, ErrProtocol) || !errors.Is(dErr, ErrAuth) {
		t.Fatalf("dialer %v, acceptor %v", dErr, aErr)
	}
}

func TestProofBindsEverything(t *testing.T) {
	nD, nA := make([]byte, nonceLen), make([]byte, nonceLen)
	nA[0] = 1
	base := proof(secretA, labelDialer, 2, 1, nD, nA)
	variants := map[string][]byte{
		"other label":    proof(secretA, labelAcceptor, 2, 1, nD, nA),
		"other dialer":   proof(secretA, labelDialer, 3, 1, nD, nA),
		"other acceptor": proof(secretA, labelDialer, 2, 3, nD, nA),
		"swapped ids":    proof(secretA, labelDialer, 1, 2, nD, nA),
		"swapped nonces": proof(secretA, labelDialer, 2, 1, nA, nD),
		"other secret":   proof([]byte("secret-B-0123456789"), labelDialer, 2, 1, nD, nA),
	}
	for name, p := range variants {
		if verify(secretA, p, labelDialer, 2, 1, nD, nA) {
			t.Errorf("%s: accepted as the dialer's proof", name)
		}
	}
	if !verify(secretA, base, labelDialer, 2, 1, nD, nA) {
		t.Fatal("the right proof is refused")
	}
}

// zeros is a nonce source of zero bytes, so that two handshakes differ only
// by what the test changes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// recordingConn records what one end reads until its second write (the
// dialer's first write is its opening, its second its proof).
type recordingConn struct {
	net.Conn
	mu      sync.Mutex
	read    []byte
	writes  int
	beforeP []byte // what was read before the second write began
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.read = append(c.read, p[:n]...)
	c.mu.Unlock()
	return n, err
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes++
	if c.writes == 2 {
		c.beforeP = append([]byte(nil), c.read...)
	}
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// beforeProof is everything an acceptor holding secret sends to a dialer
// that does not know it, up to the moment the dialer has to prove itself.
func beforeProof(t *testing.T, secret []byte) []byte {
	t.Helper()
	dc, ac := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		af := newFrameRW(ac)
		af.rand = zeros{}
		acceptHandshake(af, 1, secret, admitAll)
		ac.Close()
	}()
	rc := &recordingConn{Conn: dc}
	df := newFrameRW(rc)
	df.rand = zeros{}
	dialHandshake(df, 2, 1, []byte("the dialer's guess, not the secret"), "")
	dc.Close()
	<-done
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.writes < 2 {
		return rc.read // the dialer never got to prove anything
	}
	return rc.beforeP
}

// TestHandshakeNoOracleForDialers: what an acceptor sends before the dialer
// has proved the secret does not depend on the secret, so a stranger who
// connects learns nothing to test guesses against offline.
func TestHandshakeNoOracleForDialers(t *testing.T) {
	a := beforeProof(t, secretA)
	b := beforeProof(t, []byte("secret-B-0123456789"))
	if len(a) == 0 {
		t.Fatal("the acceptor sent nothing")
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("before the dialer proves anything, the acceptor's bytes depend on its secret:\n%x\n%x", a, b)
	}
}

// TestHandshakeDialerChecksTheAcceptor: authentication stays mutual. An
// impostor at a peer's address, which cannot know the secret, sends a
// welcome with a made-up proof; the dialer refuses it.
func TestHandshakeDialerChecksTheAcceptor(t *testing.T) {
	dc, ac := net.Pipe()
	defer dc.Close()
	go func() {
		defer ac.Close()
		f := newFrameRW(ac)
		if _, err := f.readPreamble(); err != nil {
			return
		}
		var h helloMsg
		if f.readMsg(kindHello, &h) != nil {
			return
		}
		f.writePreamble()
		f.send(kindChallenge, challengeMsg{From: 1, To: 2, Nonce: make([]byte, nonceLen)})
		var p proofMsg
		if f.readMsg(kindProof, &p) != nil {
			return
		}
		f.send(kindWelcome, welcomeMsg{Proof: p.Proof}) // reflect the dialer's own proof
		io.Copy(io.Discard, ac)
	}()
	err := dialHandshake(newFrameRW(dc), 2, 1, secretA, "")
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "peer 1 did not prove") {
		t.Fatalf("dialer: %v, want ErrAuth", err)
	}
}

// TestHandshakeVersionMismatch: a dialer of another protocol version is
// refused, and both sides say which versions met.
func TestHandshakeVersionMismatch(t *testing.T) {
	dc, ac := net.Pipe()
	defer dc.Close()
	var aErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, aErr = acceptHandshake(newFrameRW(ac), 1, secretA, admitAll)
		ac.Close()
	}()
	// A future dialer: version 9, then whatever version 9 sends.
	go dc.Write([]byte(magic + "\x09\x00\x00\x00\x03\x09\x01abc"))
	reply, _ := io.ReadAll(dc)
	<-done
	if !errors.Is(aErr, ErrProtocol) || !strings.Contains(aErr.Error(), "dialer speaks protocol version 9, this peer speaks 2") {
		t.Fatalf("acceptor: %v", aErr)
	}
	if want := magic + "\x02"; string(reply) != want {
		t.Fatalf("the acceptor answered %q, want its preamble %q", reply, want)
	}
	// The dialer's side: an acceptor of another version.
	dc, ac = net.Pipe()
	defer dc.Close()
	go func() {
		defer ac.Close()
		go io.Copy(io.Discard, ac) // net.Pipe: the dialer's writes wait for a reader
		ac.Write([]byte(magic + "\x09"))
	}()
	err := dialHandshake(newFrameRW(dc), 2, 1, secretA, "")
	if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "acceptor speaks protocol version 9, this peer speaks 2") {
		t.Fatalf("dialer: %v", err)
	}
}
