package znode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// errCorrupt reports a stored or streamed value that does not decode.
var errCorrupt = errors.New("znode: corrupt value")

// kind is how a node lives and dies; stored explicitly so that the kind
// never has to be guessed from ephemeralOwner.
type kind uint8

const (
	kindPersistent kind = 0
	kindEphemeral  kind = 1
	kindContainer  kind = 2
	kindTTL        kind = 3
)

// MaxTTL is the largest TTL, in ms (EphemeralType.TTL.maxValue()).
const MaxTTL int64 = 1<<40 - 1

// node is a decoded node value. data aliases the decoded bytes.
type node struct {
	kind  kind
	owner int64 // kindEphemeral: the session; kindTTL: the TTL in ms; else 0

	czxid, mzxid, pzxid int64
	ctime, mtime        int64
	version             int32
	// cversion counts the creates of children, as ZooKeeper's persisted
	// StatPersisted.cversion does: it names sequential children and tells
	// the reaper a container has been used. Stat reports another number.
	cversion    int32
	aversion    int32
	numChildren int32

	dataHash uint64 // crc64 of data, so the digest never rereads data
	acl      []ACL
	// data is the node's data: nil is ZooKeeper's null (created or set
	// with no data), apart from a non-nil empty slice (data of length 0).
	data []byte
}

// stat returns the Stat a client sees, as DataNode.copyStat makes it:
//   - Cversion counts every create and every delete of a child. Only the
//     creates are stored; each child no longer there was deleted once, so
//     the count is 2*creates - numChildren (in int32 arithmetic, wrapping as
//     Java's does). The built-in nodes, whose children were never
//     "created", start negative: / at -1, /zookeeper at -2.
//   - EphemeralOwner is the owning session of an ephemeral node and 0 for
//     every other kind: ZooKeeper keeps marker values for container and TTL
//     nodes in its persisted stat but never shows them
//     (DataNode.getClientEphemeralOwner).
func (n *node) stat() Stat {
	var owner int64
	if n.kind == kindEphemeral {
		owner = n.owner
	}
	return Stat{
		Czxid: n.czxid, Mzxid: n.mzxid, Pzxid: n.pzxid,
		Ctime: n.ctime, Mtime: n.mtime,
		Version: n.version, Cversion: n.cversion*2 - n.numChildren, Aversion: n.aversion,
		EphemeralOwner: owner,
		DataLength:     int32(len(n.data)),
		NumChildren:    n.numChildren,
	}
}

// Node value encoding, version 1 (all integers big-endian):
//
//	[0]      format version (1)
//	[1]      kind, with bit 0x80 (nullData) set when the data is null
//	[2:10]   owner (session or TTL)
//	[10:50]  czxid, mzxid, pzxid, ctime, mtime (int64 each)
//	[50:62]  version, cversion, aversion (int32 each)
//	[62:66]  numChildren (int32)
//	[66:74]  crc64 of data
//	[74:]    uvarint ACL count, then per entry: uvarint perms, uvarint len +
//	         scheme, uvarint len + id; then the data (the rest of the value,
//	         nothing when the data is null)
//
// Values written before null data was kept apart never have the nullData
// bit: their data, empty or not, reads back as it was served (a non-nil
// slice), so trees and snapshots written then need no conversion.
const (
	valueVersion   = 1
	valueFixedSize = 74
	nullData       = 0x80
	// Sanity bounds of the decoder, above anything a request can store (a
	// request is at most 2 MiB, engine.MaxJuteMaxBuffer, and an ACL entry
	// at least 12 bytes of it): a node whose ACL the tree took must read
	// back.
	maxACLEntries   = 1 << 20
	maxACLFieldSize = 8 << 20
)

// kindByte is byte [1] of n's value: the kind, and nullData if its data
// is null.
func (n *node) kindByte() byte {
	if n.data == nil {
		return byte(n.kind) | nullData
	}
	return byte(n.kind)
}

func appendNode(dst []byte, n *node) []byte {
	dst = append(dst, valueVersion, n.kindByte())
	dst = binary.BigEndian.AppendUint64(dst, uint64(n.owner))
	for _, v := range [...]int64{n.czxid, n.mzxid, n.pzxid, n.ctime, n.mtime} {
		dst = binary.BigEndian.AppendUint64(dst, uint64(v))
	}
	for _, v := range [...]int32{n.version, n.cversion, n.aversion, n.numChildren} {
		dst = binary.BigEndian.AppendUint32(dst, uint32(v))
	}
	dst = binary.BigEndian.AppendUint64(dst, n.dataHash)
	dst = binary.AppendUvarint(dst, uint64(len(n.acl)))
	for _, a := range n.acl {
		dst = binary.AppendUvarint(dst, uint64(uint32(a.Perms)))
		dst = binary.AppendUvarint(dst, uint64(len(a.Scheme)))
		dst = append(dst, a.Scheme...)
		dst = binary.AppendUvarint(dst, uint64(len(a.ID)))
		dst = append(dst, a.ID...)
	}
	return append(dst, n.data...)
}

func encodeNode(n *node) []byte {
	size := valueFixedSize + 1 + len(n.data)
	for _, a := range n.acl {
		size += 3*binary.MaxVarintLen32 + len(a.Scheme) + len(a.ID)
	}
	return appendNode(make([]byte, 0, size), n)
}

// numChildrenOf reads a node value's child count; b must be at least
// valueFixedSize bytes of valueVersion (decodeNode reads it from there).
func numChildrenOf(b []byte) int32 { return int32(binary.BigEndian.Uint32(b[62:])) }

// decodeNode decodes a node value. It is safe on arbitrary bytes; the
// returned node's data aliases b (nil when it is null, never nil
// otherwise).
func decodeNode(b []byte) (node, error) {
	var n node
	if len(b) < valueFixedSize {
		return n, fmt.Errorf("%w: node value of %d bytes", errCorrupt, len(b))
	}
	if b[0] != valueVersion {
		return n, fmt.Errorf("%w: node value version %d", errCorrupt, b[0])
	}
	n.kind = kind(b[1] &^ nullData)
	null := b[1]&nullData != 0
	n.owner = int64(binary.BigEndian.Uint64(b[2:]))
	i64 := func(off int) int64 { return int64(binary.BigEndian.Uint64(b[off:])) }
	i32 := func(off int) int32 { return int32(binary.BigEndian.Uint32(b[off:])) }
	n.czxid, n.mzxid, n.pzxid, n.ctime, n.mtime = i64(10), i64(18), i64(26), i64(34), i64(42)
	n.version, n.cversion, n.aversion = i32(50), i32(54), i32(58)
	n.numChildren = numChildrenOf(b)
	n.dataHash = binary.BigEndian.Uint64(b[66:])
	if err := checkKind(n.kind, n.owner); err != nil {
		return n, err
	}
	if n.numChildren < 0 {
		return n, fmt.Errorf("%w: negative child count", errCorrupt)
	}
	acl, rest, err := decodeACL(b[valueFixedSize:])
	if err != nil {
		return n, err
	}
	n.acl = acl
	switch {
	case null && len(rest) > 0:
		return n, fmt.Errorf("%w: %d bytes of data in a node whose data is null", errCorrupt, len(rest))
	case null:
		return n, nil
	case len(rest) > math.MaxInt32:
		return n, fmt.Errorf("%w: data too long", errCorrupt)
	}
	n.data = rest
	return n, nil
}

// openACL is the ACL nearly every node has (OpenACLUnsafe). decodeNode
// returns this one slice for it instead of allocating one per node read,
// so no one may modify a decoded node's ACL; nodeFromValue, which hands
// ACLs outside the package, gives a copy.
var openACL = OpenACLUnsafe()[:1:1]

// isOpenACL reports whether acl is the shared openACL.
func isOpenACL(acl []ACL) bool { return len(acl) == 1 && &acl[0] == &openACL[0] }

// decodeACL reads a node value's ACL (a count, then the entries) from the
// start of b and returns what follows it.
func decodeACL(b []byte) ([]ACL, []byte, error) {
	count, k := binary.Uvarint(b)
	if k <= 0 || count > maxACLEntries {
		return nil, nil, fmt.Errorf("%w: ACL count", errCorrupt)
	}
	b = b[k:]
	// Each entry takes at least three bytes: never provision more entries
	// than the input could hold.
	provision := min(count, uint64(len(b)/3))
	var acl []ACL
	for range count {
		perms, k := binary.Uvarint(b)
		if k <= 0 || perms > math.MaxUint32 {
			return nil, nil, fmt.Errorf("%w: ACL perms", errCorrupt)
		}
		b = b[k:]
		var scheme, id string
		var err error
		if scheme, b, err = decodeString(b); err != nil {
			return nil, nil, err
		}
		if id, b, err = decodeString(b); err != nil {
			return nil, nil, err
		}
		a := ACL{Perms: Perm(int32(uint32(perms))), Scheme: scheme, ID: id}
		if count == 1 && a == openACL[0] {
			return openACL, b, nil
		}
		if acl == nil {
			acl = make([]ACL, 0, provision)
		}
		acl = append(acl, a)
	}
	return acl, b, nil
}

func checkKind(k kind, owner int64) error {
	switch k {
	case kindPersistent, kindContainer:
		if owner != 0 {
			return fmt.Errorf("%w: owner %d on kind %d", errCorrupt, owner, k)
		}
	case kindEphemeral:
		if owner == 0 {
			return fmt.Errorf("%w: ephemeral without owner", errCorrupt)
		}
	case kindTTL:
		if owner <= 0 || owner > MaxTTL {
			return fmt.Errorf("%w: TTL %d", errCorrupt, owner)
		}
	default:
		return fmt.Errorf("%w: kind %d", errCorrupt, k)
	}
	return nil
}

func decodeString(b []byte) (string, []byte, error) {
	l, k := binary.Uvarint(b)
	if k <= 0 || l > maxACLFieldSize || l > uint64(len(b)-k) {
		return "", nil, fmt.Errorf("%w: string field", errCorrupt)
	}
	return aclString(b[k : k+int(l)]), b[k+int(l):], nil
}

// aclString returns s as a string, without allocating for the ACL schemes
// and the world ID that nearly every node's ACL holds (a node is decoded
// for every read and write of it).
func aclString(s []byte) string {
	switch string(s) { // compared without a copy
	case "world":
		return "world"
	case "anyone":
		return "anyone"
	case "digest":
		return "digest"
	case "ip":
		return "ip"
	case "auth":
		return "auth"
	case "x509":
		return "x509"
	case "sasl":
		return "sasl"
	}
	return string(s)
}

// Session value: [0] version (1), [1:5] timeout (int32), [5:] password.
func encodeSession(s SessionInfo) []byte {
	b := make([]byte, 0, 5+len(s.Password))
	b = append(b, valueVersion)
	b = binary.BigEndian.AppendUint32(b, uint32(s.Timeout))
	return append(b, s.Password...)
}

func decodeSession(id int64, b []byte) (SessionInfo, error) {
	if len(b) < 5 || b[0] != valueVersion {
		return SessionInfo{}, fmt.Errorf("%w: session value", errCorrupt)
	}
	return SessionInfo{
		ID:       id,
		Timeout:  int32(binary.BigEndian.Uint32(b[1:])),
		Password: append([]byte{}, b[5:]...),
	}, nil
}

// meta is what the meta key records, written in every Apply batch.
type meta struct {
	zxid   int64
	digest uint64
	nodes  int64
	sizes  treeSizes // size.go; unknown (-1) in a meta written before they were kept
}

func encodeMeta(m meta) []byte {
	b := make([]byte, 0, 41)
	b = append(b, valueVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(m.zxid))
	b = binary.BigEndian.AppendUint64(b, m.digest)
	b = binary.BigEndian.AppendUint64(b, uint64(m.nodes))
	b = binary.BigEndian.AppendUint64(b, uint64(m.sizes.dataBytes))
	return binary.BigEndian.AppendUint64(b, uint64(m.sizes.ephemerals))
}

func decodeMeta(b []byte) (meta, error) {
	if (len(b) != 25 && len(b) != 41) || b[0] != valueVersion {
		return meta{}, fmt.Errorf("%w: meta value", errCorrupt)
	}
	m := meta{
		zxid:   int64(binary.BigEndian.Uint64(b[1:])),
		digest: binary.BigEndian.Uint64(b[9:]),
		nodes:  int64(binary.BigEndian.Uint64(b[17:])),
		sizes:  unknownSizes,
	}
	if len(b) == 41 {
		m.sizes = treeSizes{dataBytes: int64(binary.BigEndian.Uint64(b[25:])), ephemerals: int64(binary.BigEndian.Uint64(b[33:]))}
	}
	return m, nil
}
