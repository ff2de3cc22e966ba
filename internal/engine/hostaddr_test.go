package engine

import (
	"net"
	"net/netip"
	"testing"
)

// TestJavaHostAddress: addresses as Java's getHostAddress writes them.
func TestJavaHostAddress(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"127.0.0.1", "127.0.0.1"},
		{"::ffff:10.1.2.3", "10.1.2.3"}, // Java makes a mapped address IPv4
		{"::1", "0:0:0:0:0:0:0:1"},
		{"::", "0:0:0:0:0:0:0:0"},
		{"2001:DB8::0A:ff00", "2001:db8:0:0:0:0:a:ff00"},
		{"fd00::2", "fd00:0:0:0:0:0:0:2"},
		{"fe80::1%2", "fe80:0:0:0:0:0:0:1%2"},
		{"::0.0.0.1", "0:0:0:0:0:0:0:1"}, // IPv4-compatible: IPv6 to Java 17 too
	} {
		if got := JavaHostAddress(netip.MustParseAddr(c.in)); got != c.want {
			t.Errorf("JavaHostAddress(%s) = %s, want %s", c.in, got, c.want)
		}
	}
}

// TestJavaSocketAddr: a connection's address as Java 17's
// InetSocketAddress (after its "/") and Jackson write it; a zone that
// names an interface becomes its index.
func TestJavaSocketAddr(t *testing.T) {
	lo, err := net.InterfaceByIndex(1)
	if err != nil {
		t.Skip("no interface of index 1:", err)
	}
	for _, c := range []struct {
		in   net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2181}, "127.0.0.1:2181"},
		{&net.TCPAddr{IP: net.ParseIP("::1"), Port: 40000}, "[0:0:0:0:0:0:0:1]:40000"},
		{&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 1, Zone: lo.Name}, "[fe80:0:0:0:0:0:0:1%1]:1"},
		{&net.TCPAddr{IP: net.ParseIP("fe80::1"), Port: 1, Zone: "7"}, "[fe80:0:0:0:0:0:0:1%7]:1"},
		{&net.UnixAddr{Name: "/s", Net: "unix"}, "/s"},
	} {
		if got := JavaSocketAddr(c.in); got != c.want {
			t.Errorf("JavaSocketAddr(%v) = %s, want %s", c.in, got, c.want)
		}
	}
}
