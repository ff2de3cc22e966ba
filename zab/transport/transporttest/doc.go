// Package transporttest is the conformance suite of the transport.Transport
// contract. Run checks an implementation through a Cluster: a set of
// transports, one per peer id, that the suite creates, restarts and closes.
// Every event every transport emits is recorded and checked against the
// contract as it arrives (Up, frames..., Down per peer; nothing from
// strangers; nothing over MaxFrame), and every subtest ends with a check
// that no goroutine of the module outlived the cluster.
//
// The suite works with transports that move by themselves (real networks,
// the automatic in-memory network) and with manual ones that only move when
// stepped (Options.Manual): then it delivers by calling Cluster.Step, whose
// choices may be random but must come from the seed it was given.
package transporttest
