package wire_test

import "testing"

// BenchmarkWireZK: the same workload against a zk peer alone (for
// profiling: -cpuprofile).
func BenchmarkWireZK(b *testing.B) {
	r := rates(b, benchPeer(b), "/bench", b.N)
	for i, name := range []string{"creates", "sets", "gets"} {
		b.ReportMetric(r[i], "zk-"+name+"/s")
	}
}
