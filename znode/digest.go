package znode

import (
	"encoding/binary"

	"github.com/embedzk/zk/internal/crc64ecma"
)

// The tree digest is the sum, modulo 2^64, of one 64-bit hash per node and
// one per session. A sum does not depend on order, so Apply keeps it up to
// date incrementally (subtract a node's old hash, add its new one) and
// Restore recomputes it from a stream in any order.
//
// A node's hash covers its path, kind, owner/TTL, the persisted Stat fields
// that every replica computes identically (czxid, mzxid, pzxid, ctime,
// mtime, version, cversion, aversion), the crc64 of its data, whether the
// data is null (ZooKeeper's digest leaves that out; zk's catches replicas
// that disagree on it, and a tree with no null data has the digest it had
// before null data was kept apart) and its ACL.
// Derived fields (numChildren, dataLength) are left out, as in ZooKeeper's
// DigestCalculator, and so are the two built-in nodes below /zookeeper/
// (quota and config; ZooKeeper leaves out its whole /zookeeper/ subtree,
// where it keeps quota statistics and the dynamic configuration). Nodes
// below /zookeeper/ count like any other, quota statistics included: every
// replica updates them in Apply, so a divergence there must be seen too. A session's hash covers its id, timeout
// and password.

// dataHash is the hash of a node's data stored in its value: hash/crc64's
// ECMA checksum, which crc64ecma computes faster and bit for bit the same
// (trees and snapshots hold these values, and peers compare digests made
// from them).
func dataHash(data []byte) uint64 {
	return crc64ecma.Checksum(data)
}

// mix64 is a bijective finalizer (splitmix64's) so that the linear crc does
// not make sums of hashes cancel in structured ways.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// nodeDigest is the contribution of the node at path to the tree digest.
func nodeDigest(path string, n *node) uint64 {
	if path == QuotaPath || path == ConfigPath {
		return 0
	}
	var stack [256]byte
	b := append(stack[:0], 'n')
	b = append(b, path...)
	b = append(b, 0, n.kindByte()) // null data counts (never set in older trees)
	for _, v := range [...]int64{n.owner, n.czxid, n.mzxid, n.pzxid, n.ctime, n.mtime} {
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	for _, v := range [...]int32{n.version, n.cversion, n.aversion} {
		b = binary.BigEndian.AppendUint32(b, uint32(v))
	}
	b = binary.BigEndian.AppendUint64(b, n.dataHash)
	for _, a := range n.acl {
		b = binary.BigEndian.AppendUint32(b, uint32(a.Perms))
		b = append(b, a.Scheme...)
		b = append(b, 0)
		b = append(b, a.ID...)
		b = append(b, 0)
	}
	return mix64(crc64ecma.Checksum(b) ^ 0x6e6f6465)
}

// sessionDigest is the contribution of a session to the tree digest.
func sessionDigest(s SessionInfo) uint64 {
	var stack [64]byte
	b := append(stack[:0], 's')
	b = binary.BigEndian.AppendUint64(b, uint64(s.ID))
	b = binary.BigEndian.AppendUint32(b, uint32(s.Timeout))
	b = append(b, s.Password...)
	return mix64(crc64ecma.Checksum(b) ^ 0x73657373)
}
