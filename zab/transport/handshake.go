package transport

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/embedzk/zk/internal/codec"
)

// The handshake, protocol version 2, in order (every message is one frame,
// msgpack payload; the package documentation explains the choices):
//
//	dialer   -> acceptor  preamble, hello{From: dialer, To: acceptor, Nonce: nD}
//	acceptor -> dialer    preamble, challenge{From: acceptor, To: dialer, Nonce: nA}
//	                      (or reject{Reason})
//	dialer   -> acceptor  proof{Proof: pD}
//	acceptor -> dialer    welcome{Proof: pA} (or reject{Reason})
//
// With a shared secret, pD = HMAC-SHA256(secret, "zk-transport dialer" |
// version | dialer | acceptor | nD | nA) and pA the same with the label
// "zk-transport acceptor". The dialer proves first: nothing the acceptor
// sends before pD has checked out depends on the secret. Both proofs bind
// both ids and both fresh nonces, so a proof cannot be replayed on another
// connection, reflected back, or reused for another id. Without a secret
// (TLS only) proofs are empty and identity comes from the certificates.

const nonceLen = 32

const (
	labelAcceptor = "zk-transport acceptor"
	labelDialer   = "zk-transport dialer"
)

type helloMsg struct {
	From  int64
	To    int64
	Nonce []byte
	// Addr is the address the dialer listens on, so that an acceptor that
	// does not know it yet (it is joining by reconfiguration) can add it;
	// empty from a dialer that does not say.
	Addr string `codec:",omitempty"`
}

type challengeMsg struct {
	From  int64
	To    int64
	Nonce []byte
}

type proofMsg struct {
	Proof []byte
}

type welcomeMsg struct {
	Proof []byte
}

type rejectMsg struct {
	Reason string
}

// proof computes the MAC one side shows the other.
func proof(secret []byte, label string, dialer, acceptor int64, nD, nA []byte) []byte {
	m := hmac.New(sha256.New, secret)
	var ids [17]byte
	ids[0] = ProtocolVersion
	binary.BigEndian.PutUint64(ids[1:9], uint64(dialer))
	binary.BigEndian.PutUint64(ids[9:17], uint64(acceptor))
	m.Write([]byte(label))
	m.Write(ids[:])
	m.Write(nD)
	m.Write(nA)
	return m.Sum(nil)
}

// verify reports whether got is the expected proof. Without a secret there
// is nothing to check.
func verify(secret, got []byte, label string, dialer, acceptor int64, nD, nA []byte) bool {
	if len(secret) == 0 {
		return true
	}
	return hmac.Equal(got, proof(secret, label, dialer, acceptor, nD, nA))
}

// makeProof is proof, or nothing without a secret.
func makeProof(secret []byte, label string, dialer, acceptor int64, nD, nA []byte) []byte {
	if len(secret) == 0 {
		return nil
	}
	return proof(secret, label, dialer, acceptor, nD, nA)
}

// newNonce draws a fresh nonce from f.rand (crypto/rand unless a test set
// another source).
func (f *frameRW) newNonce() ([]byte, error) {
	n := make([]byte, nonceLen)
	src := f.rand
	if src == nil {
		src = rand.Reader
	}
	if _, err := io.ReadFull(src, n); err != nil {
		return nil, fmt.Errorf("transport: nonce: %w", err)
	}
	return n, nil
}

func (f *frameRW) writeMsg(kind byte, v any) error {
	b, err := codec.Marshal(v)
	if err != nil {
		return err
	}
	return f.writeFrame(kind, b)
}

// send buffers one handshake message and flushes.
func (f *frameRW) send(kind byte, v any) error {
	if err := f.writeMsg(kind, v); err != nil {
		return err
	}
	return f.w.Flush()
}

// readMsg reads one handshake frame of kind want into v. A reject frame
// becomes an ErrAuth error carrying its reason.
func (f *frameRW) readMsg(want byte, v any) error {
	kind, payload, err := f.readFrame(maxHandshakeFrame)
	if err != nil {
		return err
	}
	if kind == kindReject {
		var r rejectMsg
		if err := codec.Unmarshal(payload, &r); err != nil {
			return fmt.Errorf("%w: malformed reject: %w", ErrProtocol, err)
		}
		return fmt.Errorf("%w: rejected by the peer: %q", ErrAuth, r.Reason)
	}
	if kind != want {
		return fmt.Errorf("%w: handshake frame kind %d, want %d", ErrProtocol, kind, want)
	}
	if err := codec.Unmarshal(payload, v); err != nil {
		return fmt.Errorf("%w: handshake frame %d: %w", ErrProtocol, kind, err)
	}
	return nil
}

// reject tells the dialer why, best effort, and returns err.
func (f *frameRW) reject(err error) error {
	reason := err.Error()
	if len(reason) > 200 {
		reason = reason[:200]
	}
	_ = f.send(kindReject, rejectMsg{Reason: reason})
	return err
}

// versionMismatch is the error for a peer that speaks another version.
func versionMismatch(who string, version byte) error {
	return fmt.Errorf("%w: the %s speaks protocol version %d, this peer speaks %d",
		ErrProtocol, who, version, ProtocolVersion)
}

// dialHandshake runs the dialer's side: self, listening at addr, proves to
// peer, then checks that the other end is peer. On success frames may
// follow on f.
func dialHandshake(f *frameRW, self, peer int64, secret []byte, addr string) error {
	nD, err := f.newNonce()
	if err != nil {
		return err
	}
	if err := f.writePreamble(); err != nil {
		return err
	}
	if err := f.send(kindHello, helloMsg{From: self, To: peer, Nonce: nD, Addr: addr}); err != nil {
		return err
	}
	if v, err := f.readPreamble(); err != nil {
		return err
	} else if v != ProtocolVersion {
		return versionMismatch("acceptor", v)
	}
	var ch challengeMsg
	if err := f.readMsg(kindChallenge, &ch); err != nil {
		return err
	}
	if ch.From != peer || ch.To != self {
		return fmt.Errorf("%w: the acceptor answered as peer %d to peer %d, expected %d to %d",
			ErrAuth, ch.From, ch.To, peer, self)
	}
	if len(ch.Nonce) != nonceLen {
		return fmt.Errorf("%w: acceptor nonce of %d bytes", ErrProtocol, len(ch.Nonce))
	}
	if err := f.send(kindProof, proofMsg{Proof: makeProof(secret, labelDialer, self, peer, nD, ch.Nonce)}); err != nil {
		return err
	}
	var w welcomeMsg
	if err := f.readMsg(kindWelcome, &w); err != nil {
		return err
	}
	if !verify(secret, w.Proof, labelAcceptor, self, peer, nD, ch.Nonce) {
		return fmt.Errorf("%w: peer %d did not prove the shared secret", ErrAuth, peer)
	}
	return nil
}

// acceptHandshake runs the acceptor's side for peer self and returns the
// dialer's proven id. admit vets the claimed id and the address the dialer
// says it listens on (membership, dialing direction, certificate, a
// handshake slot) before the challenge is sent.
// Every refusal after the hello is reported to the dialer, then returned; a
// dialer of another version gets this peer's preamble, so it can say why.
func acceptHandshake(f *frameRW, self int64, secret []byte, admit func(claimed int64, addr string) error) (int64, error) {
	if v, err := f.readPreamble(); err != nil {
		return 0, err
	} else if v != ProtocolVersion {
		if f.writePreamble() == nil {
			_ = f.w.Flush()
		}
		return 0, versionMismatch("dialer", v)
	}
	var h helloMsg
	if err := f.readMsg(kindHello, &h); err != nil {
		return 0, err
	}
	if len(h.Nonce) != nonceLen {
		return 0, fmt.Errorf("%w: dialer nonce of %d bytes", ErrProtocol, len(h.Nonce))
	}
	if err := f.writePreamble(); err != nil {
		return 0, err
	}
	if h.To != self {
		return 0, f.reject(fmt.Errorf("%w: dialer %d addressed peer %d, this is peer %d", ErrProtocol, h.From, h.To, self))
	}
	if err := admit(h.From, h.Addr); err != nil {
		return 0, f.reject(err)
	}
	nA, err := f.newNonce()
	if err != nil {
		return 0, err
	}
	if err := f.send(kindChallenge, challengeMsg{From: self, To: h.From, Nonce: nA}); err != nil {
		return 0, err
	}
	var p proofMsg
	if err := f.readMsg(kindProof, &p); err != nil {
		return 0, err
	}
	if !verify(secret, p.Proof, labelDialer, h.From, self, h.Nonce, nA) {
		return 0, f.reject(fmt.Errorf("%w: peer %d did not prove the shared secret", ErrAuth, h.From))
	}
	if err := f.send(kindWelcome, welcomeMsg{Proof: makeProof(secret, labelAcceptor, h.From, self, h.Nonce, nA)}); err != nil {
		return 0, err
	}
	return h.From, nil
}
