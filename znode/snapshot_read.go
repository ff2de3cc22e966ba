package znode

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
)

// ErrBadSnapshot reports a snapshot stream that is malformed, inconsistent
// or fails its checksum or digest.
var ErrBadSnapshot = errors.New("znode: bad snapshot stream")

const (
	maxSnapPath  = 1 << 20
	maxSnapValue = 1 << 30
	readChunk    = 64 << 10
)

// snapSink receives the verified records of a snapshot stream.
type snapSink interface {
	node(path string, n *node, value []byte) error
	session(id int64, value []byte) error
}

// byteReader is what the stream reader reads from.
type byteReader interface {
	io.Reader
	io.ByteReader
}

// crcReader keeps the checksum of everything read through it.
type crcReader struct {
	r   byteReader
	crc hash.Hash32
	one [1]byte
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.crc.Write(p[:n])
	return n, err
}

func (c *crcReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.one[0] = b
		c.crc.Write(c.one[:])
	}
	return b, err
}

// readN reads n bytes, growing the buffer as data arrives so that a lying
// length cannot make it allocate more than the stream holds.
func readN(r io.Reader, n uint64, buf []byte) ([]byte, error) {
	buf = buf[:0]
	for uint64(len(buf)) < n {
		chunk := min(n-uint64(len(buf)), readChunk)
		start := len(buf)
		buf = append(buf, make([]byte, chunk)...)
		if _, err := io.ReadFull(r, buf[start:]); err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// snapCheck verifies the structure of the tree a stream describes.
type snapCheck struct {
	lastKey   []byte
	lastSess  int64
	sessions  int64
	nodes     int64
	sizes     treeSizes
	digest    uint64
	want      map[string]int32 // parents still owed children
	owners    map[int64]bool   // owners of ephemerals; true once seen as a session
	haveSys   int
	inSession bool
	pathBuf   []byte
}

// readSnapshot reads and verifies a whole stream, handing each record to
// sink, and returns the meta it describes. Every error wraps ErrBadSnapshot
// except the sink's and the reader's own.
func readSnapshot(src io.Reader, sink snapSink) (meta, error) {
	br, ok := src.(byteReader)
	if !ok {
		br = bufio.NewReaderSize(src, 256<<10)
	}
	r := &crcReader{r: br, crc: crc32.New(castagnoli)}
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return meta{}, fmt.Errorf("%w: header: %w", ErrBadSnapshot, err)
	}
	if string(hdr[:6]) != snapMagic || binary.BigEndian.Uint16(hdr[6:]) != snapVersion {
		return meta{}, fmt.Errorf("%w: header %q", ErrBadSnapshot, hdr[:])
	}
	c := &snapCheck{want: map[string]int32{}, owners: map[int64]bool{}}
	var buf []byte
	for {
		tag, err := r.ReadByte()
		if err != nil {
			return meta{}, fmt.Errorf("%w: record tag: %w", ErrBadSnapshot, noEOF(err))
		}
		switch tag {
		case recNode:
			buf, err = c.readNode(r, sink, buf)
		case recSession:
			buf, err = c.readSession(r, sink, buf)
		case recEnd:
			return c.readEnd(r)
		default:
			err = fmt.Errorf("%w: record tag %#x", ErrBadSnapshot, tag)
		}
		if err != nil {
			return meta{}, err
		}
	}
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func readBytes(r *crcReader, limit uint64, buf []byte, what string) ([]byte, error) {
	l, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %s length: %w", ErrBadSnapshot, what, noEOF(err))
	}
	if l > limit {
		return nil, fmt.Errorf("%w: %s length %d", ErrBadSnapshot, what, l)
	}
	b, err := readN(r, l, buf)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadSnapshot, what, noEOF(err))
	}
	return b, nil
}

func (c *snapCheck) readNode(r *crcReader, sink snapSink, buf []byte) ([]byte, error) {
	if c.inSession {
		return buf, fmt.Errorf("%w: node record after session records", ErrBadSnapshot)
	}
	pb, err := readBytes(r, maxSnapPath, c.pathBuf, "path")
	if err != nil {
		return buf, err
	}
	c.pathBuf = pb
	path := string(pb)
	if buf, err = readBytes(r, maxSnapValue, buf, "node value"); err != nil {
		return buf, err
	}
	n, err := decodeNode(buf)
	if err != nil {
		return buf, fmt.Errorf("%w: node %q: %w", ErrBadSnapshot, path, err)
	}
	if err := c.checkNode(path, &n); err != nil {
		return buf, err
	}
	return buf, sink.node(path, &n, buf)
}

func (c *snapCheck) checkNode(path string, n *node) error {
	if err := ValidatePath(path); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSnapshot, err)
	}
	key := nodeKey(path)
	switch {
	case c.lastKey == nil && path != "/":
		return fmt.Errorf("%w: first node is %q, not /", ErrBadSnapshot, path)
	case c.lastKey != nil && bytes.Compare(key, c.lastKey) <= 0:
		return fmt.Errorf("%w: node %q out of order", ErrBadSnapshot, path)
	case n.dataHash != dataHash(n.data):
		return fmt.Errorf("%w: node %q: data checksum", ErrBadSnapshot, path)
	case n.kind == kindEphemeral && n.numChildren != 0:
		return fmt.Errorf("%w: ephemeral %q has children", ErrBadSnapshot, path)
	}
	c.lastKey = key
	if path != "/" {
		parent := Parent(path)
		if c.want[parent] <= 0 {
			return fmt.Errorf("%w: node %q: parent missing or has fewer children", ErrBadSnapshot, path)
		}
		if c.want[parent]--; c.want[parent] == 0 {
			delete(c.want, parent)
		}
	}
	if n.numChildren > 0 {
		c.want[path] = n.numChildren
	}
	switch path {
	case RootPath, SystemPath, QuotaPath, ConfigPath:
		c.haveSys++
	}
	if n.kind == kindEphemeral {
		c.owners[n.owner] = false
	}
	c.nodes++
	c.sizes.add(path, n, 1)
	c.digest += nodeDigest(path, n)
	return nil
}

func (c *snapCheck) readSession(r *crcReader, sink snapSink, buf []byte) ([]byte, error) {
	var idb [8]byte
	if _, err := io.ReadFull(r, idb[:]); err != nil {
		return buf, fmt.Errorf("%w: session id: %w", ErrBadSnapshot, noEOF(err))
	}
	id := int64(binary.BigEndian.Uint64(idb[:]))
	if id == 0 || (c.inSession && uint64(id) <= uint64(c.lastSess)) {
		return buf, fmt.Errorf("%w: session 0x%x out of order", ErrBadSnapshot, uint64(id))
	}
	c.inSession, c.lastSess = true, id
	buf, err := readBytes(r, maxSnapValue, buf, "session value")
	if err != nil {
		return buf, err
	}
	s, err := decodeSession(id, buf)
	if err != nil {
		return buf, fmt.Errorf("%w: %w", ErrBadSnapshot, err)
	}
	if _, ok := c.owners[id]; ok {
		c.owners[id] = true
	}
	c.sessions++
	c.digest += sessionDigest(s)
	return buf, sink.session(id, buf)
}

func (c *snapCheck) readEnd(r *crcReader) (meta, error) {
	var end [32]byte
	if _, err := io.ReadFull(r, end[:]); err != nil {
		return meta{}, fmt.Errorf("%w: end record: %w", ErrBadSnapshot, noEOF(err))
	}
	sum := r.crc.Sum32()
	var crc [4]byte
	if _, err := io.ReadFull(r.r, crc[:]); err != nil {
		return meta{}, fmt.Errorf("%w: checksum: %w", ErrBadSnapshot, noEOF(err))
	}
	if binary.BigEndian.Uint32(crc[:]) != sum {
		return meta{}, fmt.Errorf("%w: checksum mismatch", ErrBadSnapshot)
	}
	m := meta{
		zxid:   int64(binary.BigEndian.Uint64(end[0:])),
		digest: binary.BigEndian.Uint64(end[8:]),
		nodes:  int64(binary.BigEndian.Uint64(end[16:])),
		sizes:  c.sizes,
	}
	sessions := int64(binary.BigEndian.Uint64(end[24:]))
	switch {
	case m.zxid < 0:
		return meta{}, fmt.Errorf("%w: zxid %d", ErrBadSnapshot, m.zxid)
	case m.nodes != c.nodes || sessions != c.sessions:
		return meta{}, fmt.Errorf("%w: counts %d/%d, stream holds %d/%d", ErrBadSnapshot, m.nodes, sessions, c.nodes, c.sessions)
	case m.digest != c.digest:
		return meta{}, fmt.Errorf("%w: digest %#x, content gives %#x", ErrBadSnapshot, m.digest, c.digest)
	case len(c.want) != 0:
		return meta{}, fmt.Errorf("%w: %d nodes miss children", ErrBadSnapshot, len(c.want))
	case c.haveSys != 4:
		return meta{}, fmt.Errorf("%w: system nodes missing", ErrBadSnapshot)
	}
	for owner, seen := range c.owners {
		if !seen {
			return meta{}, fmt.Errorf("%w: ephemerals of unknown session 0x%x", ErrBadSnapshot, uint64(owner))
		}
	}
	return m, nil
}
