package wire_test

import (
	"fmt"
	"testing"

	gozk "github.com/go-zookeeper/zk"
)

// BenchmarkWireZKGets: getData of 1 KiB values from 64 go-zookeeper clients
// against a zk peer alone (for profiling: -cpuprofile).
func BenchmarkWireZKGets(b *testing.B) {
	cs := clients(b, benchClients, benchPeer(b))
	value := make([]byte, 1024)
	for i := 0; i < benchClients; i++ {
		_, err := cs[0].Create(fmt.Sprintf("/n%d", i), value, 0, open)
		must(b, err)
	}
	b.ResetTimer()
	rate := run(b, cs, b.N, func(c *gozk.Conn, i int) error {
		_, _, err := c.Get(fmt.Sprintf("/n%d", i%benchClients))
		return err
	})
	b.ReportMetric(rate, "gets/s")
}

// BenchmarkWireZKSets: setData of 1 KiB values from 64 go-zookeeper clients
// against a zk peer alone (for profiling: -cpuprofile, -memprofile).
func BenchmarkWireZKSets(b *testing.B) {
	cs := clients(b, benchClients, benchPeer(b))
	value := make([]byte, 1024)
	for i := 0; i < benchClients; i++ {
		_, err := cs[0].Create(fmt.Sprintf("/n%d", i), value, 0, open)
		must(b, err)
	}
	b.ResetTimer()
	rate := run(b, cs, b.N, func(c *gozk.Conn, i int) error {
		_, err := c.Set(fmt.Sprintf("/n%d", i%benchClients), value, -1)
		return err
	})
	b.ReportMetric(rate, "sets/s")
}
