package znode

import (
	"strconv"
	"strings"
)

// The ip scheme, as ZooKeeper's IPAuthenticationProvider: an ACL id is an
// IPv4 or IPv6 address, optionally followed by "/bits" (a CIDR-style prefix
// length); a session's ip identity matches when both addresses agree on the
// first bits bits. Parsing follows the Java code, including its leniencies
// (Integer.parseInt accepts a sign).

// ipMatches reports whether the address id lies within the ACL entry expr.
func ipMatches(id, expr string) bool {
	aclAddr, bits, ok := parseIPExpr(expr)
	if !ok {
		return false
	}
	remote := ipBytes(id)
	if remote == nil || len(remote) != len(aclAddr) {
		return false
	}
	maskIP(aclAddr, bits)
	maskIP(remote, bits)
	for i := range remote {
		if remote[i] != aclAddr[i] {
			return false
		}
	}
	return true
}

// validIPID mirrors IPAuthenticationProvider.isValid.
func validIPID(id string) bool {
	_, _, ok := parseIPExpr(id)
	return ok
}

func parseIPExpr(expr string) (addr []byte, bits int, ok bool) {
	parts := strings.SplitN(expr, "/", 2)
	addr = ipBytes(parts[0])
	if addr == nil {
		return nil, 0, false
	}
	bits = len(addr) * 8
	if len(parts) == 2 {
		v, err := strconv.ParseInt(parts[1], 10, 32)
		if err != nil || v < 0 || int(v) > len(addr)*8 {
			return nil, 0, false
		}
		bits = int(v)
	}
	return addr, bits, true
}

// ipBytes parses an IPv6 address if s contains ':', else an IPv4 address if
// it contains '.', else nothing.
func ipBytes(s string) []byte {
	switch {
	case strings.Contains(s, ":"):
		return ipv6Bytes(s)
	case strings.Contains(s, "."):
		return ipv4Bytes(s)
	}
	return nil
}

func ipv4Bytes(s string) []byte {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return nil
	}
	b := make([]byte, 4)
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 32)
		if err != nil || v < 0 || v > 255 {
			return nil
		}
		b[i] = byte(v)
	}
	return b
}

func ipv6Bytes(s string) []byte {
	halves := strings.Split(s, "::")
	var head, tail []string
	switch len(halves) {
	case 1:
		head = strings.Split(halves[0], ":")
		if len(head) != 8 {
			return nil
		}
	case 2:
		if halves[0] != "" {
			head = strings.Split(halves[0], ":")
		}
		if halves[1] != "" {
			tail = strings.Split(halves[1], ":")
		}
		if len(head)+len(tail) >= 8 {
			return nil
		}
	default:
		return nil
	}
	b := make([]byte, 16)
	if !ipv6Segments(b[:2*len(head)], head) || !ipv6Segments(b[16-2*len(tail):], tail) {
		return nil
	}
	return b
}

func ipv6Segments(dst []byte, segs []string) bool {
	for i, seg := range segs {
		if seg == "" || len(seg) > 4 {
			return false
		}
		v, err := strconv.ParseInt(seg, 16, 32)
		if err != nil {
			return false
		}
		dst[2*i] = byte(v >> 8)
		dst[2*i+1] = byte(v)
	}
	return true
}

// maskIP clears every bit of b after the first bits bits.
func maskIP(b []byte, bits int) {
	start := bits / 8
	m := ^byte((1 << (8 - bits%8)) - 1)
	for ; start < len(b); start++ {
		b[start] &= m
		m = 0
	}
}
