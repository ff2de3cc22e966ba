package znode

import (
	"fmt"
	"testing"
)

// BenchmarkApplySetDataQuota measures what quotas cost a write: a setData of
// 1 KiB on a tree without any quota, on a tree with a quota on another
// subtree, and on a node inside a quota (whose stats node the same batch
// rewrites). Compare the three in one run (cpu-ns/op, the process's CPU
// time per write, is steadier than ns/op on a busy machine):
//
//	go test ./znode -run x -bench ApplySetDataQuota -count 5
func BenchmarkApplySetDataQuota(b *testing.B) {
	for _, where := range []string{"none", "elsewhere", "inside"} {
		b.Run(where, func(b *testing.B) {
			a := &benchApplier{b: b, tree: benchTree(b)}
			a.fill(2, 1000, kib)
			switch where {
			case "elsewhere":
				a.apply(SetQuotaTxn("/p1", QuotaLimits{Count: 5000, Bytes: -1, CountHard: -1, BytesHard: -1}))
			case "inside":
				a.apply(SetQuotaTxn("/p0", QuotaLimits{Count: 5000, Bytes: -1, CountHard: -1, BytesHard: -1}))
			}
			paths := make([]string, 1000)
			for j := range paths {
				paths[j] = fmt.Sprintf("/p0/n%07d", j)
			}
			i := 0
			b.SetBytes(1024)
			cpu := startCPU(b)
			for b.Loop() {
				a.apply(&Txn{Type: TxnSetData, Path: paths[i%len(paths)], Data: kib, Version: -1, Time: 9})
				i++
			}
			cpu()
		})
	}
}
