// Package transport moves opaque byte frames between the peers of a zk
// ensemble. The ZAB core never imports it: the root package's driver encodes
// the core's messages into frames, hands them to a Transport, and feeds the
// Transport's events back to the core. Peers are identified by int64 ids
// (myid, > 0); the membership is given when a transport is made, and TCP
// learns more peers by AddPeer (a reconfiguration) and, with
// AcceptStrangers, from the handshakes of authenticated joiners.
//
// Two implementations live here: TCP (NewTCP), for real ensembles, and
// Network/Endpoint (NewNetwork), an in-memory network with fault controls
// for tests and the deterministic simulation. The subpackage transporttest
// holds the conformance suite both pass.
//
// # Contract
//
//   - Connections. Between two peers there is at most one connection at a
//     time; the transport (re)establishes it by itself. Each side sees
//     EventUp when it comes up and EventDown when it breaks, in order with
//     the frames: Up, frames..., Down, Up, frames..., Down...
//   - Per connection, FIFO and gap-free: the frames a peer receives on one
//     connection are a prefix of the frames the other side's Send accepted
//     on it, in order, each at most once. A lost frame (queue overflow,
//     break, partition) breaks the connection: nothing accepted after it on
//     that connection is delivered, and both sides get EventDown. Across
//     connections nothing is promised: what was in flight may be lost, and
//     the consumer (the ZAB core) resynchronizes on EventUp.
//   - Send never blocks. It returns ErrNotConnected (frame dropped) when
//     there is no connection, and ErrOverflow when the outbound queue to the
//     peer, bounded in bytes (MaxQueue), is full: the frame is dropped and the
//     connection broken, never silently thinned. A frame into an empty queue
//     always fits, so a MaxFrame frame can be sent whatever MaxQueue is. Each
//     queued frame is counted at its length plus 64 bytes.
//   - Ownership. Send only reads its frame, possibly after it returns: the
//     caller must not modify it afterwards, but may pass one slice to several
//     Sends (a broadcast). Event.Frame belongs to the receiver alone.
//   - Frames are delivered only to the peer they were sent to, only from an
//     authenticated member, and never over MaxFrame (a received length over
//     the limit breaks the connection before the payload is allocated).
//   - Events() is one buffered channel per transport; the consumer must read
//     it continuously. A slow consumer applies back-pressure (TCP stops
//     reading its sockets, the in-memory network stops delivering), so the
//     senders' queues fill and, past MaxQueue, their connections break:
//     memory stays bounded.
//   - Disconnect breaks the current connection to a peer (it re-forms); use
//     it when the peer's stream can no longer be trusted.
//   - Close stops every goroutine the transport started, closes its
//     connections and then the Events channel, and returns only when all are
//     gone. Calls after Close return ErrClosed; Close itself is idempotent.
//   - All methods are safe for concurrent use.
//
// # TCP
//
// One multiplexed port per peer: zk uses the quorum port of
// server.N=host:quorumPort:electionPort[:observer] for everything (election
// and ZAB frames travel on the same connection; the driver tells them apart
// inside the frame), and the election port is unused. Observers are peers
// like any other here.
//
// One connection per pair: the higher id dials the lower; the lower never
// dials, and refuses (and logs) a connection from a lower id. When a new
// connection authenticates as a peer that already has one (a restarted
// peer, or a dialer whose old connection is half-open), the new one wins:
// the old one is closed, and the consumer sees its EventDown before the new
// EventUp. A connection that fails to authenticate never touches the
// current one.
//
// Wire format. Each side opens with a preamble: the 4 magic bytes "zkPT"
// and the protocol version (ProtocolVersion, 2). An acceptor that gets
// another version answers with its own preamble and closes, so both sides
// can log which versions met. Every frame is then: a 4-byte big-endian
// payload length, 1 byte protocol version, 1 byte frame kind, the payload.
// A frame of another version, an unknown kind, or a length over the limit
// breaks the connection (before the payload is read or allocated). Until
// the handshake completes the limit is 1 KiB whatever MaxFrame is. After
// it, the kinds are data (an opaque frame) and ping (empty; written after
// Heartbeat of silence). A connection on which nothing arrives for
// IdleTimeout is broken, which detects half-open connections.
//
// Handshake, before any frame is trusted (payloads msgpack via
// internal/codec): the dialer sends hello{its id, the id it means to reach,
// a 32-byte nonce nD}; the acceptor checks the claimed id is a member with
// a higher id (and, with TLS, that the verified client certificate names
// it), then answers challenge{its id, a 32-byte nonce nA}; the dialer
// answers proof{pD}; the acceptor checks pD and answers welcome{pA}; the
// dialer checks pA. Each refusal is logged by the refusing side, sent as a
// reject frame with a reason, and followed by close; a refused peer
// produces no event anywhere. With a shared secret each proof is
// HMAC-SHA256 over a role label, the version, both ids and both nonces, so
// it binds the identity, the direction and this very connection: a proof
// cannot be replayed (the other side's nonce is fresh), reflected (the
// labels differ) or moved to another id. With TLS (mutual, at least TLS
// 1.2) identity comes from the certificates: a peer's certificate must
// carry the DNS SAN PeerName(id), "zk-peer-<id>"; the dialer checks the
// acceptor's through ServerName, the acceptor checks the dialer's against
// its claimed id. With both, both are checked.
//
// Who proves first, and what each side can learn. With a shared secret
// and no TLS, one side must show a secret-dependent value before the other
// has shown anything, and whoever receives it can test guesses of the
// secret against it offline. The dialer goes first, because anyone who
// can reach the port can be a dialer, while an acceptor is what a dialer
// chose to reach: a configured address.
//   - An unauthenticated dialer (anyone who connects) receives only the
//     preamble and challenge{acceptor id, random nA}: nothing that depends
//     on the secret. Its proof is checked and refused, so each connection
//     tests one guess, online, within the handshake bounds below.
//   - An unauthenticated acceptor (someone who answers at a configured
//     peer's address, by owning it or by intercepting the path) receives
//     pD = HMAC(secret, ..., nD, nA) for an nA it chose, and can test
//     guesses against it offline; it never gets a welcome it could use,
//     since the dialer refuses a wrong pA. That is why CheckSecret refuses
//     short and patterned secrets (a random secret of 16 bytes or more is
//     beyond any search), and why a network where addresses can be
//     hijacked calls for TLS: with TLS the acceptor's certificate is
//     verified before any proof travels, and the proof travels encrypted.
//
// A password-authenticated key exchange (SPAKE2, CPace) would leave no
// offline test to either side, but the standard library has none, and
// with random secrets the test is worthless anyway. A shared secret
// authenticates the handshake only: frames after it are neither encrypted
// nor integrity-protected, so use TLS on networks you do not trust. Anyone
// holding the secret can claim any id.
//
// Handshake bounds (accept side). Every handshake ends within
// HandshakeTimeout of the accept. Until its hello names a member that may
// dial this peer, a connection is anonymous: at most MaxHandshakes of them
// at once, and MaxHandshakesPerHost from one source IP address. At either
// bound the oldest anonymous connection (of that source, or overall) is
// closed to make room, so the newest always gets in: a peer, which sends
// its hello as soon as it connects, is through long before silent
// connections can push it out (the accept loop lets each new connection
// read what has arrived before it accepts the next), while silent
// connections only push each other out. From its hello on, a handshake holds the slot of the id it
// claims, one per member that may dial, which anonymous connections never
// take; a newer claim of the same id replaces an older one. So a client
// that holds any number of silent connections open and re-dials them
// cannot keep a configured peer out (TestTCPRejoinDuringFlood). What it
// can still do: one that knows a member's id and claims it faster than the
// member finishes its handshake (one round trip) can delay that member;
// TLS (the claim is made only after the certificate is verified) or
// filtering the quorum port to the members' addresses stops that.
//
// Strangers (TCPConfig.AcceptStrangers, off by default). A server joining
// by dynamic reconfiguration lists the members and itself, but the members
// do not list it until the change that adds it commits, and the change
// needs it connected and synced first. So every hello names the address
// its sender listens on, and an acceptor with AcceptStrangers admits a
// dialer no configuration lists, from either side of the pair, if that
// address is a dialable host:port; the stranger stays in the anonymous
// stage (it never takes a member's slot) and, once its proof checks out,
// is added as a peer at that address. Until a configuration lists it, a
// later hello (the joiner restarted elsewhere) or an AddPeer may move it
// to another address, and its dial loop dials there from its next
// attempt; once listed, its address is the configuration's. A joiner
// with AcceptStrangers also knocks: it dials the peers with higher ids
// while it has no connection to them. One that does not know it admits
// the knock, adds it and from then on dials it, as the rule says (its
// connection replaces the knock's); one that knows it refuses the knock
// (logged at debug level) and dials by itself. What it opens: anyone
// holding the secret (or a certificate the CA signed) can connect under
// an id of its choice and name an address the peer will dial (not an
// unspecified one such as 0.0.0.0, and at most 16 strangers that no
// configuration has listed since, each dialed until Close if its id is
// lower); the secret already lets it claim any member's id, so the trust
// is the same.
//
// Reconnect: each dial loop waits between attempts with exponential backoff
// (Backoff.Min doubling to Backoff.Max, reset by a successful handshake),
// each wait jittered to between half and all of its value from a seeded
// PCG (TCPConfig.Seed, or crypto/rand).
//
// Goroutines: one accept loop, one dial loop per lower peer (and with
// AcceptStrangers one knock loop per higher peer it starts with), one goroutine
// per connection in its handshake (it then reads the connection) and one
// writer per connection. Close stops and waits for all of them.
//
// # In-memory network
//
// NewNetwork makes a Network for a membership; Endpoint(id) is a peer's
// Transport. Two endpoints are connected whenever both are alive and no
// fault separates them; a connection forms at once (its EventUp is queued to
// both sides). Fault controls, all safe for concurrent use: Partition (full
// and partial), Isolate, Cut (one pair), BlockOneWay, Heal, Break, Pause and
// Resume, SetDelay, Crash and Restart. Breaking a connection loses its
// undelivered frames and queues EventDown to each side that had been told
// EventUp. Every endpoint's Events channel holds EventBuffer events.
//
// Automatic mode: each endpoint has a goroutine that delivers, in sending
// order, whatever is deliverable for it (after any delay), blocking on a
// full Events channel.
//
// Manual mode (NetworkOptions.Manual): no goroutine runs and nothing moves
// until the caller says so. Pending lists what can happen next: the head of
// every link's queue (sender to receiver: EventUp, frames, EventDown), sorted
// by receiver then sender, excluding paused peers and receivers whose Events
// channel is full, so Deliver never blocks. Deliver performs one;
// DeliverAll performs them in Pending order until none is left. Every
// choice is the caller's, so a seeded simulation that picks among Pending
// with its own generator, and drains the Events channels on its own
// goroutine, gets bit-identical runs. Delays are ignored in manual mode.
package transport
