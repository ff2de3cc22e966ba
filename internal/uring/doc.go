// Package uring is the smallest io_uring the client port needs: one ring's
// submission and completion queues mapped into the process, SQEs for
// receive, send, read (an eventfd), timeout and accept, one enter call that
// submits what is queued and waits, and the reaping of completions. It has
// no state beyond the ring and no goroutine; its owner calls it from one
// goroutine at a time.
//
// Available reports whether the kernel lets this process make a ring (it
// may not: a kernel before Linux 5.12, whose rings lack fast poll or
// native workers, a seccomp filter, io_uring_disabled). On systems
// other than Linux it always says no, and the package has nothing else.
//
// The caller keeps every buffer an SQE points at reachable and unmoved
// until its completion is reaped: heap memory held by the caller's own
// structures (Go never moves heap objects).
package uring
