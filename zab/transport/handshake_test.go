package transport

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
)

var secretA = []byte("secret-A-0123456789")

// pipeHandshake runs both sides over net.Pipe.
func pipeHandshake(t *testing.T, dialer, acceptor, claimed int64, dSecret, aSecret []byte, admit func(int64) error) (dErr, aErr error, got int64) {
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
	dErr = dialHandshake(newFrameRW(dc), claimed, dialer, dSecret)
	dc.Close()
	<-done
	return dErr, aErr, got
}

func admitAll(int64) error { return nil }

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
	// The acceptor proves first, so the dialer notices and hangs up.
	if !errors.Is(dErr, ErrAuth) {
		t.Fatalf("dialer: %v, want ErrAuth", dErr)
	}
	if aErr == nil {
		t.Fatalf("acceptor accepted a dialer without the secret")
	}
}

func TestHandshakeAdmitRefusal(t *testing.T) {
	refuse := func(id int64) error { return fmt.Errorf("%w: no peer %d here", ErrUnknownPeer, id) }
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
