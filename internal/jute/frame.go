package jute

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxBuffer is ZooKeeper's default jute.maxbuffer: the largest frame
// a server accepts (0xfffff bytes).
const DefaultMaxBuffer = 0xfffff

// ErrFrameTooLarge reports a frame length over the limit (or negative);
// ZooKeeper closes the connection on it.
var ErrFrameTooLarge = errors.New("zk: frame length outside 0..jute.maxbuffer")

// ReadFrameLen reads a frame's 4-byte length and checks it against max
// before anything is allocated for the body.
func ReadFrameLen(r io.Reader, hdr *[4]byte, max int) (int, error) {
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, err
	}
	n := int32(binary.BigEndian.Uint32(hdr[:]))
	if n < 0 || int64(n) > int64(max) {
		return 0, fmt.Errorf("%w: %d (limit %d)", ErrFrameTooLarge, n, max)
	}
	return int(n), nil
}

// ReadFrame reads one frame of at most max bytes into buf (grown as needed)
// and returns the body.
func ReadFrame(r io.Reader, buf []byte, max int) ([]byte, error) {
	var hdr [4]byte
	n, err := ReadFrameLen(r, &hdr, max)
	if err != nil {
		return nil, err
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// BeginFrame appends a placeholder length to b; EndFrame fills it in.
func BeginFrame(b []byte) ([]byte, int) { return append(b, 0, 0, 0, 0), len(b) }

// EndFrame writes the length of the frame that starts at start.
func EndFrame(b []byte, start int) []byte {
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-4))
	return b
}

// AppendFrame appends the records as one frame.
func AppendFrame(b []byte, recs ...Record) []byte {
	b, start := BeginFrame(b)
	return EndFrame(Marshal(b, recs...), start)
}
