package znode

import (
	"encoding/binary"
	"strings"
)

// Key layout (see doc.go). Every key starts with a one-byte space tag.
const (
	spaceNode      = 'n' // 'n' + parent path + 0x00 + name -> node value
	spaceEphemeral = 'e' // 'e' + be64(session) + path -> empty
	spaceReap      = 'r' // 'r' + path -> empty (containers and TTL nodes)
	spaceSession   = 's' // 's' + be64(session) -> session value
	spaceMeta      = 'm' // 'm' -> applied zxid, digest, node count
)

// metaKey is the one key that records what the tree has applied.
var metaKey = []byte{spaceMeta}

// nodeKey returns the key of the node at path: the parent's path, a NUL and
// the node's name. The root ("/") has the key 'n' 0x00. Paths never contain
// NUL, so the children of P are exactly the keys with prefix childPrefix(P),
// and a parent's key sorts before its children's keys (NUL < '/').
func nodeKey(path string) []byte {
	return appendNodeKey(make([]byte, 0, len(path)+2), path)
}

func appendNodeKey(dst []byte, path string) []byte {
	dst = append(dst, spaceNode)
	if path == "/" {
		return append(dst, 0)
	}
	i := strings.LastIndexByte(path, '/')
	parent := path[:i]
	if i == 0 {
		parent = "/"
	}
	dst = append(dst, parent...)
	dst = append(dst, 0)
	return append(dst, path[i+1:]...)
}

// childPrefix returns the prefix shared by the keys of path's children.
func childPrefix(path string) []byte {
	k := make([]byte, 0, len(path)+2)
	k = append(k, spaceNode)
	k = append(k, path...)
	return append(k, 0)
}

// descendantPrefixes returns the key prefixes that together hold every
// descendant of path (and nothing else): its children ('n' P 0x00) and the
// deeper nodes ('n' P '/'). For the root, 'n' '/' holds every node but the
// root itself.
func descendantPrefixes(path string) [][]byte {
	if path == "/" {
		return [][]byte{{spaceNode, '/'}}
	}
	deeper := append([]byte{spaceNode}, path...)
	deeper = append(deeper, '/')
	return [][]byte{childPrefix(path), deeper}
}

// pathFromNodeKey inverts nodeKey. ok is false for a key that is not a node
// key.
func pathFromNodeKey(key []byte) (string, bool) {
	var buf [128]byte // most paths: the string is the one allocation
	b, ok := appendNodePath(buf[:0], key)
	return string(b), ok
}

// appendNodePath appends the path of a node key to dst; false: key is not
// a node key.
func appendNodePath(dst, key []byte) ([]byte, bool) {
	if len(key) < 2 || key[0] != spaceNode {
		return dst, false
	}
	rest := key[1:]
	i := lastIndexByte(rest, 0)
	if i < 0 {
		return dst, false
	}
	parent, name := rest[:i], rest[i+1:]
	switch {
	case len(parent) == 0 && len(name) == 0:
		return append(dst, '/'), true
	case len(parent) == 0 || len(name) == 0:
		return dst, false
	case len(parent) == 1 && parent[0] == '/':
		return append(append(dst, '/'), name...), true
	}
	return append(append(append(dst, parent...), '/'), name...), true
}

func lastIndexByte(b []byte, c byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == c {
			return i
		}
	}
	return -1
}

// nameFromChildKey returns the child name in a key that has prefix p.
func nameFromChildKey(key, p []byte) string {
	return string(key[len(p):])
}

func ephemeralKey(session int64, path string) []byte {
	k := make([]byte, 0, 9+len(path))
	k = append(k, spaceEphemeral)
	k = binary.BigEndian.AppendUint64(k, uint64(session))
	return append(k, path...)
}

func ephemeralPrefix(session int64, pathPrefix string) []byte {
	return ephemeralKey(session, pathPrefix)
}

func reapKey(path string) []byte {
	k := make([]byte, 0, 1+len(path))
	k = append(k, spaceReap)
	return append(k, path...)
}

func sessionKey(id int64) []byte {
	k := make([]byte, 0, 9)
	k = append(k, spaceSession)
	return binary.BigEndian.AppendUint64(k, uint64(id))
}

// prefixEnd returns the smallest key greater than every key with prefix p,
// or nil if there is none (p is all 0xff).
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
