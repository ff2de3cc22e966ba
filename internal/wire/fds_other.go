//go:build !unix

package wire

// fileDescriptors: mntr reports no descriptor counts here, as ZooKeeper
// reports them only on Unix.
func fileDescriptors() (open, limit int64, ok bool) { return 0, 0, false }
