package transport

import (
	"errors"
	"fmt"
)

// EventKind says what an Event reports.
type EventKind uint8

const (
	// EventUp reports that a new connection to Peer is up: frames from Peer
	// on that connection follow.
	EventUp EventKind = iota + 1
	// EventDown reports that the connection to Peer broke: frames in flight
	// on it may be lost, and nothing more arrives on it.
	EventDown
	// EventFrame carries one frame from Peer.
	EventFrame
)

// String names the kind as the constants do, without the prefix.
func (k EventKind) String() string {
	switch k {
	case EventUp:
		return "Up"
	case EventDown:
		return "Down"
	case EventFrame:
		return "Frame"
	}
	return fmt.Sprintf("EventKind(%d)", uint8(k))
}

// Event is what a Transport reports on its Events channel.
type Event struct {
	Kind EventKind
	Peer int64
	// Frame is set for EventFrame only. It is owned by the receiver: no other
	// party holds it.
	Frame []byte
}

// Transport connects one local peer to the others of a fixed membership and
// moves opaque byte frames between them. See the package documentation for
// the full contract; transporttest.Run checks it against an implementation.
type Transport interface {
	// ID is the local peer's id.
	ID() int64
	// Send queues frame for peer to and never blocks. The transport only
	// reads frame, and may do so after Send returns: the caller must not
	// modify it afterwards, but may pass the same slice to several Sends.
	// Errors: ErrClosed, ErrUnknownPeer (not a member, or the local id),
	// ErrFrameTooLarge, ErrNotConnected (no connection: the frame is dropped)
	// and ErrOverflow (the outbound queue is full: the frame is dropped and
	// the connection is broken).
	Send(to int64, frame []byte) error
	// Events is the transport's one event channel. The consumer must read
	// it continuously; it is closed by Close.
	Events() <-chan Event
	// Disconnect breaks the current connection to peer, as if the network
	// had: both sides see EventDown, and the connection re-forms by itself.
	// Use it when the stream from peer can no longer be trusted (for
	// example a frame that does not decode). Errors: ErrClosed,
	// ErrUnknownPeer, ErrNotConnected.
	Disconnect(peer int64) error
	// Close stops every goroutine the transport started, closes its
	// connections and the Events channel, and returns when all are gone.
	// Close is idempotent: later calls return nil.
	Close() error
}

// Sentinel errors. Functions wrap them with %w to add detail; test them with
// errors.Is.
var (
	// ErrNotConnected reports a Send or Disconnect while there is no
	// connection to the peer. The frame was dropped.
	ErrNotConnected = errors.New("transport: not connected")
	// ErrClosed reports a call on a closed transport.
	ErrClosed = errors.New("transport: closed")
	// ErrUnknownPeer reports an id that is not a member of the membership
	// (or is the local peer's own id).
	ErrUnknownPeer = errors.New("transport: unknown peer")
	// ErrFrameTooLarge reports a frame over the MaxFrame limit, sent or
	// received. A received one breaks the connection before the payload is
	// allocated.
	ErrFrameTooLarge = errors.New("transport: frame too large")
	// ErrAuth reports a peer that failed to prove its identity, or that
	// rejected ours.
	ErrAuth = errors.New("transport: authentication failed")
	// ErrOverflow reports a Send that found the outbound queue to the peer
	// full. The frame was dropped and the connection broken (it re-forms).
	ErrOverflow = errors.New("transport: outbound queue full, connection broken")
	// ErrProtocol reports bytes from a peer that break the wire protocol:
	// bad magic, an unsupported protocol version, an unexpected or
	// malformed frame.
	ErrProtocol = errors.New("transport: protocol violation")
	// ErrConfig reports an invalid TCPConfig; the message names the field.
	ErrConfig = errors.New("transport: invalid configuration")
	// ErrNotPending reports a Network.Deliver of something that is not (or
	// no longer) deliverable.
	ErrNotPending = errors.New("transport: not a pending delivery")
)

const (
	// DefaultMaxFrame is the default limit on one frame's payload.
	DefaultMaxFrame = 64 << 20
	// DefaultMaxQueue is the default limit on the bytes queued to one peer
	// before the connection is broken.
	DefaultMaxQueue = 64 << 20
	// DefaultEventBuffer is the default capacity of an Events channel.
	DefaultEventBuffer = 256
	// maxFrameLimit bounds MaxFrame settings: the wire length is 32 bits.
	maxFrameLimit = 1 << 30
	// frameOverhead is what one queued frame costs on top of its payload
	// when a queue is measured against MaxQueue, so that a flood of tiny
	// frames is bounded too.
	frameOverhead = 64
)

// queueFull reports whether adding a frame of cost bytes to a queue holding
// queued bytes breaks the limit. A frame into an empty queue always fits, so
// a frame of MaxFrame bytes can be sent whatever MaxQueue is.
func queueFull(queued, cost, limit int) bool {
	return queued > 0 && queued+cost > limit
}
