package transport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ProtocolVersion is the wire protocol version carried in every frame header.
const ProtocolVersion byte = 1

// magic opens every TCP stream, in both directions, before any frame.
const magic = "zkPT"

// Frame header: 4-byte big-endian payload length, 1-byte protocol version,
// 1-byte frame kind. The payload follows.
const headerLen = 6

// Frame kinds.
const (
	kindHello     byte = 1  // dialer -> acceptor: claimed id, target id, nonce
	kindChallenge byte = 2  // acceptor -> dialer: its id, nonce, proof
	kindProof     byte = 3  // dialer -> acceptor: proof
	kindWelcome   byte = 4  // acceptor -> dialer: accepted, frames follow
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
	r   *bufio.Reader
	w   *bufio.Writer
	hdr [headerLen]byte // write side only
}

const streamBuffer = 64 << 10

func newFrameRW(rw io.ReadWriter) *frameRW {
	return &frameRW{r: bufio.NewReaderSize(rw, streamBuffer), w: bufio.NewWriterSize(rw, streamBuffer)}
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

// writeMagic buffers the stream's opening bytes.
func (f *frameRW) writeMagic() error {
	_, err := f.w.WriteString(magic)
	return err
}

// readMagic checks the stream's opening bytes.
func (f *frameRW) readMagic() error {
	var m [len(magic)]byte
	if _, err := io.ReadFull(f.r, m[:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("reading magic: %w", err)
	}
	if string(m[:]) != magic {
		return fmt.Errorf("%w: bad magic %q: not a zk peer", ErrProtocol, m[:])
	}
	return nil
}
