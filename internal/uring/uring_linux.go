//go:build linux

package uring

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"unsafe"
)

const (
	sysSetup = 425
	sysEnter = 426

	enterGetEvents = 1

	// Setup flags (Linux 6.1): only the thread that made the ring submits
	// to it, and the kernel's completion work for its operations runs only
	// when that thread enters to collect completions, not in interrupts
	// and wake-ups of their own.
	setupSingleIssuer = 1 << 12
	setupDeferTaskrun = 1 << 13
	featSingleMmap    = 1
	// The features a ring must have here: receives and sends polled by
	// the kernel rather than run on its worker threads (fast poll, Linux
	// 5.7), and workers that are threads of this process, charged to it
	// (native workers, Linux 5.12). An older kernel's io_uring is refused.
	featFastPoll      = 1 << 5
	featNativeWorkers = 1 << 9
	featNeeded        = featFastPoll | featNativeWorkers

	offSQRing = 0
	offCQRing = 0x8000000
	offSQEs   = 0x10000000
)

// The operations used here (include/uapi/linux/io_uring.h).
const (
	OpTimeout = 11
	OpAccept  = 13
	OpRead    = 22
	OpSend    = 26
	OpRecv    = 27
)

type sqringOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqringOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqringOffsets
	cqOff                                                                  cqringOffsets
}

// SQE is one submission queue entry, as the kernel lays it out.
type SQE struct {
	Opcode      uint8
	Flags       uint8
	Ioprio      uint16
	Fd          int32
	Off         uint64
	Addr        uint64
	Len         uint32
	OpFlags     uint32
	UserData    uint64
	BufIndex    uint16
	Personality uint16
	SpliceFdIn  int32
	Addr3       uint64
	pad         uint64
}

// CQE is one completion: the SQE's UserData and its result (a byte count,
// a descriptor, or a negated errno).
type CQE struct {
	UserData uint64
	Res      int32
	Flags    uint32
}

// Timespec is the kernel's timespec for OpTimeout.
type Timespec struct {
	Sec, Nsec int64
}

// Ring is one io_uring with its queues mapped.
type Ring struct {
	fd                     int
	sqHead, sqTail, sqMask *uint32
	sqArray                []uint32
	sqes                   []SQE
	cqHead, cqTail, cqMask *uint32
	cqes                   []CQE
	queued                 uint32 // SQEs written since the last enter
	deferred               bool   // completions appear only in an enter that asks for them
	sqMem, cqMem, sqeMem   []byte
}

// New makes a ring of entries submission entries (a power of two).
func New(entries uint32) (*Ring, error) { return newRing(entries, 0) }

// NewOwned makes a ring that only the calling thread will ever enter (the
// caller holds it with runtime.LockOSThread, and closes the ring on it):
// where the kernel allows (Linux 6.1), its completion work is deferred to
// that thread's enter calls, which costs less than the kernel's own
// wake-ups. Elsewhere it is New's ring.
func NewOwned(entries uint32) (*Ring, error) {
	r, err := newRing(entries, setupSingleIssuer|setupDeferTaskrun)
	if errors.Is(err, syscall.EINVAL) {
		return New(entries) // a kernel without these flags
	}
	if r != nil {
		r.deferred = true
	}
	return r, err
}

func newRing(entries, flags uint32) (*Ring, error) {
	p := params{flags: flags}
	fd, _, errno := syscall.Syscall(sysSetup, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", errno)
	}
	if p.features&featNeeded != featNeeded {
		syscall.Close(int(fd))
		return nil, fmt.Errorf("io_uring: this kernel's lacks fast poll or native workers (features %#x): Linux 5.12 or later has both", p.features)
	}
	r := &Ring{fd: int(fd)}
	if err := r.mmap(&p); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (r *Ring) mmap(p *params) error {
	sqSize := int(p.sqOff.array + p.sqEntries*4)
	cqSize := int(p.cqOff.cqes + p.cqEntries*uint32(unsafe.Sizeof(CQE{})))
	if p.features&featSingleMmap != 0 {
		sqSize = max(sqSize, cqSize)
	}
	var err error
	prot, flags := syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE
	if r.sqMem, err = syscall.Mmap(r.fd, offSQRing, sqSize, prot, flags); err != nil {
		return fmt.Errorf("io_uring mmap sq: %w", err)
	}
	r.cqMem = r.sqMem
	if p.features&featSingleMmap == 0 {
		if r.cqMem, err = syscall.Mmap(r.fd, offCQRing, cqSize, prot, flags); err != nil {
			r.cqMem = nil
			return fmt.Errorf("io_uring mmap cq: %w", err)
		}
	}
	sqeSize := int(p.sqEntries) * int(unsafe.Sizeof(SQE{}))
	if r.sqeMem, err = syscall.Mmap(r.fd, offSQEs, sqeSize, prot, flags); err != nil {
		return fmt.Errorf("io_uring mmap sqes: %w", err)
	}
	u32 := func(b []byte, off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&b[off])) }
	r.sqHead, r.sqTail, r.sqMask = u32(r.sqMem, p.sqOff.head), u32(r.sqMem, p.sqOff.tail), u32(r.sqMem, p.sqOff.ringMask)
	r.sqArray = unsafe.Slice(u32(r.sqMem, p.sqOff.array), p.sqEntries)
	r.sqes = unsafe.Slice((*SQE)(unsafe.Pointer(&r.sqeMem[0])), p.sqEntries)
	r.cqHead, r.cqTail, r.cqMask = u32(r.cqMem, p.cqOff.head), u32(r.cqMem, p.cqOff.tail), u32(r.cqMem, p.cqOff.ringMask)
	r.cqes = unsafe.Slice((*CQE)(unsafe.Pointer(&r.cqMem[p.cqOff.cqes])), p.cqEntries)
	return nil
}

// Close unmaps the ring and closes it. The kernel cancels what is still in
// flight.
func (r *Ring) Close() error {
	if r.sqeMem != nil {
		syscall.Munmap(r.sqeMem)
	}
	if r.cqMem != nil && (r.sqMem == nil || &r.cqMem[0] != &r.sqMem[0]) {
		syscall.Munmap(r.cqMem)
	}
	if r.sqMem != nil {
		syscall.Munmap(r.sqMem)
	}
	r.sqeMem, r.cqMem, r.sqMem = nil, nil, nil
	return syscall.Close(r.fd)
}

// Available reports why this kernel refuses io_uring, or nil.
func Available() error {
	r, err := New(8)
	if err != nil {
		return err
	}
	return r.Close()
}

// Queue writes one SQE; when the queue is full it first submits what is
// queued.
func (r *Ring) Queue(s SQE) error {
	tail := *r.sqTail
	if tail-atomic.LoadUint32(r.sqHead) >= uint32(len(r.sqes)) {
		if err := r.Enter(0); err != nil {
			return err
		}
	}
	i := tail & *r.sqMask
	r.sqes[i] = s
	r.sqArray[i] = i
	atomic.StoreUint32(r.sqTail, tail+1)
	r.queued++
	return nil
}

// Queued reports the SQEs not submitted yet.
func (r *Ring) Queued() uint32 { return r.queued }

// Enter submits what is queued and waits for at least wait completions
// (none: it only submits; an owned ring's enter also collects the
// completions the kernel holds for it, which Ready and Reap then see). It
// is a blocking system call: the goroutine's P is handed off while it
// waits.
func (r *Ring) Enter(wait uint32) error {
	for {
		flags := uintptr(0)
		if wait > 0 || r.deferred {
			flags = enterGetEvents
		}
		n, _, errno := syscall.Syscall6(sysEnter, uintptr(r.fd), uintptr(r.queued), uintptr(wait), flags, 0, 0)
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return fmt.Errorf("io_uring_enter: %w", errno)
		}
		r.queued -= uint32(n)
		return nil
	}
}

// Ready reports whether a completion waits to be reaped.
func (r *Ring) Ready() bool { return *r.cqHead != atomic.LoadUint32(r.cqTail) }

// Reap calls fn for each completion there is, in order.
func (r *Ring) Reap(fn func(c CQE)) {
	head := *r.cqHead
	tail := atomic.LoadUint32(r.cqTail)
	for ; head != tail; head++ {
		c := r.cqes[head&*r.cqMask]
		atomic.StoreUint32(r.cqHead, head+1) // fn may queue and enter
		fn(c)
	}
}

// Recv is an SQE that receives into b.
func Recv(fd int, b []byte, user uint64) SQE {
	return SQE{Opcode: OpRecv, Fd: int32(fd), Addr: uint64(uintptr(unsafe.Pointer(&b[0]))), Len: uint32(len(b)), UserData: user}
}

// Send is an SQE that sends b (MSG_NOSIGNAL: a closed peer is an error,
// not a signal).
func Send(fd int, b []byte, user uint64) SQE {
	return SQE{Opcode: OpSend, Fd: int32(fd), Addr: uint64(uintptr(unsafe.Pointer(&b[0]))), Len: uint32(len(b)),
		OpFlags: syscall.MSG_NOSIGNAL, UserData: user}
}

// Read is an SQE that reads into b (an eventfd's counter, say).
func Read(fd int, b []byte, user uint64) SQE {
	return SQE{Opcode: OpRead, Fd: int32(fd), Addr: uint64(uintptr(unsafe.Pointer(&b[0]))), Len: uint32(len(b)), UserData: user}
}

// Accept is an SQE that accepts a connection on the listening fd.
func Accept(fd int, user uint64) SQE {
	return SQE{Opcode: OpAccept, Fd: int32(fd), OpFlags: syscall.SOCK_CLOEXEC, UserData: user}
}

// Timeout is an SQE that completes (with -ETIME) after ts.
func Timeout(ts *Timespec, user uint64) SQE {
	return SQE{Opcode: OpTimeout, Fd: -1, Addr: uint64(uintptr(unsafe.Pointer(ts))), Len: 1, UserData: user}
}
