package transport

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// NetworkOptions configures NewNetwork.
type NetworkOptions struct {
	// Peers is the membership: distinct ids > 0.
	Peers []int64
	// Manual makes the network deterministic: nothing is delivered until
	// the caller picks it from Pending and calls Deliver (or DeliverAll).
	// No goroutine runs. Otherwise every endpoint has a goroutine that
	// delivers as soon as it can (after SetDelay's delay).
	Manual bool
	// MaxFrame bounds a frame (default DefaultMaxFrame).
	MaxFrame int
	// MaxQueue bounds the bytes queued on one link (sender to receiver)
	// before the connection breaks (default DefaultMaxQueue).
	MaxQueue int
	// EventBuffer is the capacity of each endpoint's Events channel
	// (default 1024). In manual mode an event is pending only while its
	// receiver's channel has room, so Deliver never blocks.
	EventBuffer int
}

const defaultMemEventBuffer = 1024

// Link is a direction between two peers.
type Link struct {
	From, To int64
}

// LinkStats counts what happened to the frames of one link.
type LinkStats struct {
	Sent           int64 // frames accepted by Send
	SentBytes      int64
	Delivered      int64 // frames handed to the receiver
	DeliveredBytes int64
	Dropped        int64 // accepted frames lost: break, block, crash, partition
	Refused        int64 // Sends that returned ErrNotConnected or ErrOverflow
}

// Network is an in-memory network of endpoints, one per peer id, with fault
// controls. All methods are safe for concurrent use. In manual mode it is
// deterministic: the same calls in the same order give the same events,
// Pending lists and Stats. Methods taking peer ids panic on an id outside
// the membership (a test bug); Endpoint.Send and Disconnect return
// ErrUnknownPeer instead, as the Transport contract says.
type Network struct {
	opts NetworkOptions
	ids  []int64 // sorted membership
	now  func() time.Time

	mu       sync.Mutex
	eps      map[int64]*Endpoint // current incarnation per id
	conns    map[pair]uint64     // live connection id per pair
	links    map[Link]*memLink   // events queued for Link.To about Link.From
	groups   map[int64]int       // nil: no partition
	isolated map[int64]bool
	cut      map[pair]bool
	blocked  map[Link]bool
	paused   map[int64]bool
	delays   map[Link]time.Duration
	stats    map[Link]*LinkStats
	lastConn uint64
	lastSeq  uint64
	closed   bool
}

// pair is an unordered pair of peers, lo < hi.
type pair struct{ lo, hi int64 }

func mkpair(a, b int64) pair {
	if a > b {
		a, b = b, a
	}
	return pair{a, b}
}

// NewNetwork makes a network for opts.Peers. It panics on an invalid
// membership (an id <= 0 or a duplicate): a test bug.
func NewNetwork(opts NetworkOptions) *Network {
	ids := slices.Clone(opts.Peers)
	slices.Sort(ids)
	for i, id := range ids {
		if id <= 0 || (i > 0 && ids[i-1] == id) {
			panic(fmt.Sprintf("transport: NewNetwork: invalid or duplicate peer id %d", id))
		}
	}
	if opts.MaxFrame < 0 || opts.MaxQueue < 0 || opts.EventBuffer < 0 {
		panic("transport: NewNetwork: negative MaxFrame, MaxQueue or EventBuffer")
	}
	setDefault(&opts.MaxFrame, DefaultMaxFrame)
	setDefault(&opts.MaxQueue, DefaultMaxQueue)
	setDefault(&opts.EventBuffer, defaultMemEventBuffer)
	return &Network{
		opts:     opts,
		ids:      ids,
		now:      time.Now,
		eps:      make(map[int64]*Endpoint),
		conns:    make(map[pair]uint64),
		links:    make(map[Link]*memLink),
		isolated: make(map[int64]bool),
		cut:      make(map[pair]bool),
		blocked:  make(map[Link]bool),
		paused:   make(map[int64]bool),
		delays:   make(map[Link]time.Duration),
		stats:    make(map[Link]*LinkStats),
	}
}

// Peers returns the membership, sorted.
func (n *Network) Peers() []int64 { return slices.Clone(n.ids) }

func (n *Network) member(id int64) bool {
	_, ok := slices.BinarySearch(n.ids, id)
	return ok
}

func (n *Network) mustMember(op string, ids ...int64) {
	for _, id := range ids {
		if !n.member(id) {
			panic(fmt.Sprintf("transport: Network.%s: %d is not a member", op, id))
		}
	}
}

// Endpoint returns the current endpoint of id, creating it on first use. A
// crashed or closed endpoint stays current until Restart. It panics if id is
// not a member.
func (n *Network) Endpoint(id int64) *Endpoint {
	n.mustMember("Endpoint", id)
	n.mu.Lock()
	defer n.mu.Unlock()
	if e := n.eps[id]; e != nil {
		return e
	}
	return n.startLocked(id)
}

// Restart crashes id's current endpoint, if it is alive, and returns a new
// one for id, which connects to the others as a restarted process would.
func (n *Network) Restart(id int64) *Endpoint {
	n.mustMember("Restart", id)
	for {
		n.mu.Lock()
		e := n.eps[id]
		if e == nil || e.dead {
			defer n.mu.Unlock()
			return n.startLocked(id)
		}
		n.mu.Unlock()
		n.kill(e)
	}
}

// Crash kills id's current endpoint with its connections: its peers see
// EventDown, frames queued to or from it are lost, its Events channel is
// closed and Send on it returns ErrClosed.
func (n *Network) Crash(id int64) {
	n.mustMember("Crash", id)
	n.mu.Lock()
	e := n.eps[id]
	n.mu.Unlock()
	if e != nil {
		n.kill(e)
	}
}

// Close crashes every endpoint. Endpoints made afterwards are born closed.
func (n *Network) Close() {
	n.mu.Lock()
	n.closed = true
	eps := make([]*Endpoint, 0, len(n.eps))
	for _, id := range n.ids {
		if e := n.eps[id]; e != nil {
			eps = append(eps, e)
		}
	}
	n.mu.Unlock()
	for _, e := range eps {
		n.kill(e)
	}
}

// Connected reports whether a and b have a live connection (whether or not
// its EventUp has been delivered yet).
func (n *Network) Connected(a, b int64) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.conns[mkpair(a, b)]
	return ok
}

// Stats returns a copy of the per-link counters.
func (n *Network) Stats() map[Link]LinkStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make(map[Link]LinkStats, len(n.stats))
	for l, s := range n.stats {
		out[l] = *s
	}
	return out
}

func (n *Network) stat(l Link) *LinkStats {
	s := n.stats[l]
	if s == nil {
		s = &LinkStats{}
		n.stats[l] = s
	}
	return s
}

// startLocked makes a new endpoint for id and connects it.
func (n *Network) startLocked(id int64) *Endpoint {
	e := &Endpoint{net: n, id: id, events: make(chan Event, n.opts.EventBuffer), gone: make(chan struct{})}
	n.eps[id] = e
	if n.closed {
		e.dead = true
		close(e.events)
		close(e.gone)
		return e
	}
	if !n.opts.Manual {
		e.wake = make(chan struct{}, 1)
		e.stop = make(chan struct{})
		e.done = make(chan struct{})
		go e.run()
	}
	n.reconcileLocked()
	return e
}

// kill crashes e if it is still alive and waits for its goroutine (also
// when another call is already killing it).
func (n *Network) kill(e *Endpoint) {
	n.mu.Lock()
	if e.dead {
		n.mu.Unlock()
		<-e.gone
		return
	}
	e.dead = true
	for _, other := range n.ids {
		if p := mkpair(e.id, other); other != e.id && n.hasConn(p) {
			n.breakLocked(p)
		}
	}
	for _, from := range n.ids {
		n.dropLinkLocked(Link{From: from, To: e.id})
	}
	manual := n.opts.Manual
	if manual {
		close(e.events)
	}
	n.mu.Unlock()
	if !manual {
		close(e.stop)
		<-e.done
		close(e.events)
	}
	close(e.gone)
}

func (n *Network) hasConn(p pair) bool {
	_, ok := n.conns[p]
	return ok
}
