package transport

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"time"
)

// TCPConfig configures NewTCP. The zero value of every optional field means
// its default.
type TCPConfig struct {
	// ID is the local peer's id (myid), > 0.
	ID int64
	// Listen is the host:port this peer listens on: its quorum port. Ignored
	// when Listener is set. If both are empty, Peers[ID] is used.
	Listen string
	// Listener, if set, is used instead of listening on Listen; the TCP
	// owns it and closes it on Close.
	Listener net.Listener
	// Peers maps the id of every other peer (observers included) to its
	// host:port. An entry for ID itself is allowed and only serves as the
	// default listen address, so a whole server list can be passed.
	Peers map[int64]string
	// Secret is the shared secret of the HMAC challenge-response: random
	// bytes, at least MinSecretLen of them, that pass CheckSecret. Required
	// unless TLS is set; with both, both are checked.
	Secret []byte
	// TLS, if set, runs every connection over mutual TLS. It must have
	// Certificates, ClientCAs and RootCAs; a peer's certificate must carry
	// the DNS name PeerName(id) (see PeerName).
	TLS *tls.Config
	// MaxFrame bounds one frame's payload, sent or received (default
	// DefaultMaxFrame, at most 1 GiB).
	MaxFrame int
	// MaxQueue bounds the bytes queued to one peer and not yet written; a
	// Send beyond it breaks the connection (default DefaultMaxQueue).
	MaxQueue int
	// DialTimeout bounds one dial (default 5s).
	DialTimeout time.Duration
	// HandshakeTimeout bounds the handshake, TLS included (default 5s).
	HandshakeTimeout time.Duration
	// Backoff is the delay between dials to a peer (default 50ms..5s).
	Backoff Backoff
	// Heartbeat is how long a connection may stay silent before a ping is
	// written (default 1s).
	Heartbeat time.Duration
	// IdleTimeout breaks a connection from which nothing (frame or ping)
	// arrived for this long; it detects half-open connections. It must
	// exceed Heartbeat (default 10s).
	IdleTimeout time.Duration
	// Trace, if set, is called when data frames to a peer are written to
	// its socket (point "written", n: the batch's frames) and when a
	// frame from a peer was read ("read", n: 1), on the connection's
	// goroutines. For latency benchmarks; it must be quick.
	Trace func(point string, peer int64, n int)
	// EventBuffer is the capacity of the Events channel (default
	// DefaultEventBuffer).
	EventBuffer int
	// MaxHandshakes bounds the accepted connections that have not yet sent
	// a hello naming a member allowed to dial this peer (default 64). At
	// the bound, the oldest of them is closed to make room: a peer, which
	// speaks at once, gets through a flood of silent connections. Each
	// member that may dial also has a slot of its own for the rest of its
	// handshake, which such connections never take. See the package
	// documentation.
	MaxHandshakes int
	// MaxHandshakesPerHost bounds the connections of MaxHandshakes from one
	// source IP address; at the bound, that source's oldest is closed
	// (default 16).
	MaxHandshakesPerHost int
	// AcceptStrangers admits a dialer that no configuration lists, once it
	// has proven the secret (and, with TLS, its certificate), and adds it
	// as a peer at the address its hello names (at most 16 such peers
	// that no configuration has listed since; a configuration naming the
	// peer at another address is then refused by AddPeer). It also makes
	// this transport knock: dial each peer of Peers with a higher id while there is no
	// connection to it, so that a peer that does not list this one yet
	// learns it (a peer that knows it refuses the knock and dials this one
	// itself). A server joining by dynamic reconfiguration needs both: it
	// connects and syncs before the change that adds it commits. Off by
	// default; the package documentation says what it opens.
	AcceptStrangers bool
	// Advertise is the address this peer's hello names, where peers that
	// learn it from the hello dial it (default Listen if set, else the
	// listener's address).
	Advertise string
	// Seed seeds the backoff jitter; 0 draws a seed from crypto/rand.
	Seed uint64
	// Logger receives rejected peers, connection changes and dial failures
	// (default: discard).
	Logger *slog.Logger
}

// Backoff is an exponential reconnect backoff: the first redial waits about
// Min, each failure doubles the wait up to Max, and a successful handshake
// resets it. Each wait is jittered to between half and all of its value.
type Backoff struct {
	Min, Max time.Duration
}

const (
	defaultDialTimeout      = 5 * time.Second
	defaultHandshakeTimeout = 5 * time.Second
	defaultBackoffMin       = 50 * time.Millisecond
	defaultBackoffMax       = 5 * time.Second
	defaultHeartbeat        = time.Second
	defaultIdleTimeout      = 10 * time.Second
	defaultMaxHandshakes    = 64
	defaultMaxPerHost       = 16
)

// withDefaults returns a copy of c with defaults filled in.
func (c TCPConfig) withDefaults() TCPConfig {
	c.Peers = maps.Clone(c.Peers)
	c.Secret = append([]byte(nil), c.Secret...)
	setDefault(&c.MaxFrame, DefaultMaxFrame)
	setDefault(&c.MaxQueue, DefaultMaxQueue)
	setDefault(&c.DialTimeout, defaultDialTimeout)
	setDefault(&c.HandshakeTimeout, defaultHandshakeTimeout)
	setDefault(&c.Backoff.Min, defaultBackoffMin)
	setDefault(&c.Backoff.Max, max(defaultBackoffMax, c.Backoff.Min))
	setDefault(&c.Heartbeat, defaultHeartbeat)
	setDefault(&c.IdleTimeout, max(defaultIdleTimeout, 2*c.Heartbeat))
	setDefault(&c.EventBuffer, DefaultEventBuffer)
	setDefault(&c.MaxHandshakes, defaultMaxHandshakes)
	setDefault(&c.MaxHandshakesPerHost, min(defaultMaxPerHost, c.MaxHandshakes))
	if c.Listen == "" {
		c.Listen = c.Peers[c.ID]
	}
	delete(c.Peers, c.ID)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func setDefault[T int | time.Duration](v *T, d T) {
	if *v == 0 {
		*v = d
	}
}

// validate checks a defaulted configuration; errors name the field.
func (c *TCPConfig) validate() error {
	if c.ID <= 0 {
		return fmt.Errorf("%w: TCPConfig.ID must be positive, got %d", ErrConfig, c.ID)
	}
	if c.Listener == nil && c.Listen == "" {
		return fmt.Errorf("%w: TCPConfig.Listen (or Listener, or Peers[ID]) must be set", ErrConfig)
	}
	for id, addr := range c.Peers {
		if id <= 0 {
			return fmt.Errorf("%w: TCPConfig.Peers: id %d must be positive", ErrConfig, id)
		}
		if addr == "" {
			return fmt.Errorf("%w: TCPConfig.Peers[%d]: empty address", ErrConfig, id)
		}
	}
	if c.TLS == nil && len(c.Secret) == 0 {
		return fmt.Errorf("%w: TCPConfig.Secret or TCPConfig.TLS must be set: peers must authenticate", ErrConfig)
	}
	if len(c.Secret) > 0 {
		if err := CheckSecret(c.Secret); err != nil {
			return fmt.Errorf("%w: TCPConfig.Secret: %w", ErrConfig, err)
		}
	}
	if c.TLS != nil {
		if err := validateTLS(c.TLS); err != nil {
			return err
		}
	}
	if c.MaxFrame < 0 || c.MaxFrame > maxFrameLimit {
		return fmt.Errorf("%w: TCPConfig.MaxFrame must be in 1..%d, got %d", ErrConfig, maxFrameLimit, c.MaxFrame)
	}
	if c.MaxQueue < 0 || c.EventBuffer < 0 || c.MaxHandshakes < 0 || c.MaxHandshakesPerHost < 0 {
		return fmt.Errorf("%w: TCPConfig.MaxQueue, EventBuffer, MaxHandshakes and MaxHandshakesPerHost must not be negative", ErrConfig)
	}
	if c.MaxHandshakesPerHost > c.MaxHandshakes {
		return fmt.Errorf("%w: TCPConfig.MaxHandshakesPerHost (%d) exceeds MaxHandshakes (%d)", ErrConfig, c.MaxHandshakesPerHost, c.MaxHandshakes)
	}
	if c.DialTimeout < 0 || c.HandshakeTimeout < 0 || c.Backoff.Min < 0 {
		return fmt.Errorf("%w: TCPConfig timeouts must not be negative", ErrConfig)
	}
	if c.Backoff.Max < c.Backoff.Min {
		return fmt.Errorf("%w: TCPConfig.Backoff.Max (%v) is below Min (%v)", ErrConfig, c.Backoff.Max, c.Backoff.Min)
	}
	if c.Heartbeat <= 0 || c.IdleTimeout <= c.Heartbeat {
		return fmt.Errorf("%w: TCPConfig.IdleTimeout (%v) must exceed Heartbeat (%v)", ErrConfig, c.IdleTimeout, c.Heartbeat)
	}
	return nil
}
