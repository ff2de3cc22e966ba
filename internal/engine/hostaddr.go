package engine

import (
	"net"
	"net/netip"
	"strconv"
)

// JavaHostAddress writes a as Java's InetAddress.getHostAddress does, the
// form ZooKeeper prints client addresses in (the ip identity, the audit
// log's ip, cons and the AdminServer's connections): an IPv4 address (an
// IPv4-mapped IPv6 one too, which Java's InetAddress turns into IPv4) in
// dotted decimal; an IPv6 address as its eight groups in lower-case hex
// without leading zeros, none left out (0:0:0:0:0:0:0:1, where Go writes
// ::1), then %zone if a has one. Java writes a zone as the numeric scope
// id of the socket's address: JavaSocketAddr gives it that form.
func JavaHostAddress(a netip.Addr) string {
	a = a.Unmap()
	if !a.Is6() {
		return a.String() // IPv4, or the zero Addr's "invalid IP"
	}
	b := a.As16()
	out := make([]byte, 0, 40)
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			out = append(out, ':')
		}
		out = strconv.AppendUint(out, uint64(b[i])<<8|uint64(b[i+1]), 16)
	}
	if z := a.Zone(); z != "" {
		out = append(append(out, '%'), z...)
	}
	return string(out)
}

// JavaSocketAddr writes addr, a TCP connection's remote address, as
// Jackson and Java 17's InetSocketAddress.toString write an unresolved
// host's address after its "/": host:port, the host in JavaHostAddress's
// form, bracketed if IPv6, its zone (an interface name in Go) written as
// the interface's index. Any other address is written as Go writes it.
func JavaSocketAddr(addr net.Addr) string {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	ap := ta.AddrPort()
	a := ap.Addr()
	if z := a.Zone(); z != "" {
		if ifi, err := net.InterfaceByName(z); err == nil {
			a = a.WithZone(strconv.Itoa(ifi.Index))
		}
	}
	host := JavaHostAddress(a)
	if a.Unmap().Is6() {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(int(ap.Port()))
}
