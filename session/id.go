package session

import (
	"math"
	"strconv"
)

const (
	// MinPeerID and MaxPeerID bound the peer ids that may create sessions
	// (ZooKeeper's EphemeralType.MAX_EXTENDED_SERVER_ID is 254: a high byte
	// of 0xff would read as a TTL ephemeral owner).
	MinPeerID = 1
	MaxPeerID = 254

	lowBits = 56
	lowMask = uint64(1)<<lowBits - 1
	// containerOwner is ZooKeeper's CONTAINER_EPHEMERAL_OWNER: never a
	// session id.
	containerOwner = math.MinInt64
)

func checkPeer(peerID int64) {
	if peerID < MinPeerID || peerID > MaxPeerID {
		panic("session: peer id " + strconv.FormatInt(peerID, 10) + " outside 1..254")
	}
}

// InitialID returns the first session id a peer hands out when its clock
// reads nowMs, as ZooKeeper's SessionTrackerImpl.initializeNextSessionId:
// the peer id in the high byte, the low 40 bits of nowMs in the next 40 bits,
// and 16 zero bits for the counter. It panics if peerID is outside 1..254.
func InitialID(peerID int64, nowMs int64) int64 {
	checkPeer(peerID)
	id := int64(uint64(nowMs)<<24>>8 | uint64(peerID)<<lowBits)
	if id == containerOwner {
		id++
	}
	return id
}

// PeerOf returns the id of the peer that created sessionID (its high byte).
func PeerOf(sessionID int64) int64 {
	return int64(uint64(sessionID) >> lowBits)
}

// IDGen hands out the session ids of one peer. It is not safe for
// concurrent use; its owner serializes calls.
type IDGen struct {
	high uint64 // peer id << 56
	low  uint64 // low 56 bits of the next id; lowMask+1 when exhausted
}

// NewIDGen returns a generator whose first id is InitialID(peerID, nowMs).
// It panics if peerID is outside 1..254.
func NewIDGen(peerID, nowMs int64) *IDGen {
	id := InitialID(peerID, nowMs)
	return &IDGen{high: uint64(peerID) << lowBits, low: uint64(id) & lowMask}
}

// Next returns a new session id: never 0, never repeated, always with the
// generator's peer in its high byte. It panics when the peer's 2^56 ids are
// used up (which no real peer reaches).
func (g *IDGen) Next() int64 {
	for {
		if g.low > lowMask {
			panic("session: session ids of this peer exhausted")
		}
		id := int64(g.high | g.low)
		g.low++
		if id != containerOwner {
			return id
		}
	}
}
