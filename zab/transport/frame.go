package transport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ProtocolVersion is the wire protocol version: it follows the magic at the
// start of each stream and is carried in every frame header. Version 2 is
// the handshake in which the dialer proves the secret first (version 1 had
// the acceptor prove first).
const ProtocolVersion byte = 2

// magic opens every TCP stream, in both directions, followed by the
// version byte: together, the preamble.
const magic = "zkPT"

// Frame header: 4-byte big-endian payload length, 1-byte protocol version,
// 1-byte frame kind. The payload follows.
const headerLen = 6

// Frame kinds.
const (
	kindHello     byte = 1  // dialer -> acceptor: claimed id, target id, nonce
	kindChallenge byte = 2  // acceptor -> dialer: its id, its nonce
	kindProof     byte = 3  // dialer -> acceptor: the dialer's proof
	kindWelcome   byte = 4  // acceptor -> dialer: accepted, the acceptor's proof; frames follow
	kindReject    byte = 5  // acceptor -> dialer: a reason, then close
	kindData      byte = 16 // an opaque frame for the consumer
	kindPing      byte = 17 // heartbeat, empty payload
)

// maxHandshakeFrame bounds every frame read before the peer is
// authenticated, so an unknown peer can never make us allocate more.
const maxHandshakeFrame = 1 << 10

// frameRW reads and writes frames on one byte stream. The reading side and
// the writing side may be used by two goroutines at once; each side by one.
type frameRW struct {
	r    *bufio.Reader
	w    *bufio.Writer
	hdr  [headerLen]byte // write side only
	rand io.Reader       // the handshake's nonces; nil means crypto/rand (tests set it)
}

// Buffer sizes: small while a stream is in its handshake (so that
// connections from strangers cost little), large once it carries frames.
const (
	handshakeBuffer = 2 << 10
	streamBuffer    = 64 << 10
)

func newFrameRW(rw io.ReadWriter) *frameRW {
	return &frameRW{r: bufio.NewReaderSize(rw, streamBuffer), w: bufio.NewWriterSize(rw, streamBuffer)}
}

// newHandshakeRW is a frameRW with small buffers, for a stream whose
// handshake has not completed; grow enlarges them afterwards.
func newHandshakeRW(rw io.ReadWriter) *frameRW {
	return &frameRW{r: bufio.NewReaderSize(rw, handshakeBuffer), w: bufio.NewWriterSize(rw, handshakeBuffer)}
}

// grow gives f stream-sized buffers over rw, the stream it was made on.
// The write side must have been flushed. Bytes the small reader holds
// already are read first: the new reader reads through it.
func (f *frameRW) grow(rw io.ReadWriter) {
	if f.r.Buffered() == 0 {
		f.r = bufio.NewReaderSize(rw, streamBuffer)
	} else {
		f.r = bufio.NewReaderSize(f.r, streamBuffer)
	}
	f.w = bufio.NewWriterSize(rw, streamBuffer)
}

// writeFrame buffers one frame; the caller flushes.
func (f *frameRW) writeFrame(kind byte, payload []byte) error {
	binary.BigEndian.PutUint32(f.hdr[0:4], uint32(len(payload)))
	f.hdr[4] = ProtocolVersion
	f.hdr[5] = kind
	if _, err := f.w.Write(f.hdr[:]); err != nil {
		return err
	}
	_, err := f.w.Write(payload)
	return err
}

// readFrame reads one frame whose payload may be at most max bytes. The
// length and version are checked before the payload is allocated. A stream
// that ends cleanly between frames returns io.EOF; inside a frame,
// io.ErrUnexpectedEOF.
func (f *frameRW) readFrame(max int) (kind byte, payload []byte, err error) {
	hdr, err := f.r.Peek(headerLen)
	if err != nil {
		if errors.Is(err, io.EOF) && len(hdr) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[0:4])
	version, kind := hdr[4], hdr[5]
	if _, err := f.r.Discard(headerLen); err != nil {
		return 0, nil, err
	}
	if version != ProtocolVersion {
		return 0, nil, fmt.Errorf("%w: unsupported protocol version %d (this peer speaks %d)",
			ErrProtocol, version, ProtocolVersion)
	}
	if uint64(n) > uint64(max) {
		return 0, nil, fmt.Errorf("%w: %d bytes announced, limit %d", ErrFrameTooLarge, n, max)
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(f.r, payload); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return kind, payload, nil
}

// writePreamble buffers the stream's opening bytes: the magic and
// ProtocolVersion.
func (f *frameRW) writePreamble() error {
	if _, err := f.w.WriteString(magic); err != nil {
		return err
	}
	return f.w.WriteByte(ProtocolVersion)
}

// readPreamble checks the stream's magic and returns the version that
// follows it, which the caller compares with its own.
func (f *frameRW) readPreamble() (version byte, err error) {
	var m [len(magic) + 1]byte
	if _, err := io.ReadFull(f.r, m[:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, fmt.Errorf("reading the preamble: %w", err)
	}
	if string(m[:len(magic)]) != magic {
		return 0, fmt.Errorf("%w: bad magic %q: not a zk peer", ErrProtocol, m[:len(magic)])
	}
	return m[len(magic)], nil
}
