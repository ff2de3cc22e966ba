package zab

import (
	"fmt"

	"github.com/embedzk/zk/election"
)

// Entry is one transaction of the log. Data is opaque to zab.
type Entry struct {
	Zxid int64  `codec:"z"`
	Data []byte `codec:"d,omitempty"`
}

// MsgType names a message; the names are ZooKeeper's.
type MsgType uint8

// The message types.
const (
	MsgNotification MsgType = iota + 1 // FLE vote: Leader, Zxid, Epoch, Round, State; Committed = the sender's configuration version
	MsgFollowerInfo                    // learner -> leader: PeerEpoch = accepted epoch, Zxid = last zxid
	MsgObserverInfo                    // same, from an observer
	MsgLeaderInfo                      // leader -> learner: Epoch = the new epoch (NEWEPOCH)
	MsgAckEpoch                        // learner -> leader: Epoch, PeerEpoch = current epoch or -1, Zxid = last zxid
	MsgTrunc                           // leader -> learner: truncate the log after Zxid
	MsgDiff                            // leader -> learner: Entries to append (one batch of a DIFF)
	MsgSnap                            // leader -> learner: a snapshot chunk (Zxid, Offset, Data, Last)
	MsgDiffAck                         // learner -> leader: the DIFF batch ending at Zxid is durable (flow control)
	MsgNewLeader                       // leader -> learner: Epoch, Zxid = where the sync ends, Committed
	MsgAck                             // learner -> leader: durable through Zxid (a proposal, or NEWLEADER)
	MsgUpToDate                        // leader -> learner: the leader is established; Committed
	MsgProposal                        // leader -> follower: one entry
	MsgCommit                          // leader -> follower: committed through Zxid
	MsgInform                          // leader -> observer: committed entries
	MsgPing                            // heartbeat, both ways: ID = the leader's round
	MsgSync                            // learner -> leader: a read barrier, ID
	MsgSynced                          // leader -> learner: barrier ID done at Zxid, or Failed
	MsgApp                             // an opaque app message, any peer to any peer: Data
	MsgSnapAck                         // learner -> leader: the snapshot at Zxid is durable up to Offset (flow control)
	msgTypeEnd
)

var msgTypeNames = [...]string{"", "NOTIFICATION", "FOLLOWERINFO", "OBSERVERINFO", "LEADERINFO", "ACKEPOCH",
	"TRUNC", "DIFF", "SNAP", "DIFFACK", "NEWLEADER", "ACK", "UPTODATE", "PROPOSAL", "COMMIT", "INFORM",
	"PING", "SYNC", "SYNCED", "APP", "SNAPACK"}

func (t MsgType) String() string {
	if t > 0 && t < msgTypeEnd {
		return msgTypeNames[t]
	}
	return fmt.Sprintf("MsgType(%d)", uint8(t))
}

// Message is every peer message: one struct, the fields a type does not use
// are zero (the encoding omits them: wire.go). From is the sender; 0 only in snapshot
// chunks built by SnapshotMessages (the transport names the sender anyway).
type Message struct {
	Type  MsgType `codec:"t"`
	From  int64   `codec:"f,omitempty"`
	Epoch int64   `codec:"e,omitempty"` // ZAB: the leader's epoch; notification: the vote's epoch
	Zxid  int64   `codec:"z,omitempty"`

	Leader int64 `codec:"l,omitempty"` // notification: proposed leader
	Round  int64 `codec:"r,omitempty"` // notification: logical clock
	State  uint8 `codec:"s,omitempty"` // notification: election.State of the sender

	PeerEpoch int64   `codec:"p,omitempty"` // FOLLOWERINFO / ACKEPOCH
	Committed int64   `codec:"c,omitempty"` // NEWLEADER / UPTODATE
	Entries   []Entry `codec:"n,omitempty"` // DIFF / PROPOSAL / INFORM
	Data      []byte  `codec:"d,omitempty"` // APP payload / SNAP chunk
	Offset    int64   `codec:"o,omitempty"` // SNAP: offset of Data in the stream
	Last      bool    `codec:"x,omitempty"` // SNAP: last chunk
	ID        uint64  `codec:"i,omitempty"` // PING round / SYNC and SYNCED id
	Failed    bool    `codec:"k,omitempty"` // SYNCED: the barrier failed
}

// field bits, for the table of which fields each type may carry.
const (
	fEpoch = 1 << iota
	fZxid
	fLeader
	fRound
	fState
	fPeerEpoch
	fCommitted
	fEntries
	fData
	fOffset
	fLast
	fID
	fFailed
)

var allowed = [msgTypeEnd]int{
	MsgNotification: fEpoch | fZxid | fLeader | fRound | fState | fCommitted,
	MsgFollowerInfo: fPeerEpoch | fZxid,
	MsgObserverInfo: fPeerEpoch | fZxid,
	MsgLeaderInfo:   fEpoch,
	MsgAckEpoch:     fEpoch | fPeerEpoch | fZxid,
	MsgTrunc:        fEpoch | fZxid,
	MsgDiff:         fEpoch | fEntries,
	MsgSnap:         fZxid | fData | fOffset | fLast,
	MsgDiffAck:      fEpoch | fZxid,
	MsgNewLeader:    fEpoch | fZxid | fCommitted | fData,
	MsgAck:          fEpoch | fZxid,
	MsgUpToDate:     fEpoch | fCommitted,
	MsgProposal:     fEpoch | fEntries,
	MsgCommit:       fEpoch | fZxid,
	MsgInform:       fEpoch | fEntries,
	MsgPing:         fEpoch | fID,
	MsgSync:         fEpoch | fID,
	MsgSynced:       fEpoch | fID | fZxid | fFailed,
	MsgApp:          fData,
	MsgSnapAck:      fEpoch | fZxid | fOffset,
}

func (m *Message) present() int {
	var f int
	set := func(ok bool, bit int) {
		if ok {
			f |= bit
		}
	}
	set(m.Epoch != 0, fEpoch)
	set(m.Zxid != 0, fZxid)
	set(m.Leader != 0, fLeader)
	set(m.Round != 0, fRound)
	set(m.State != 0, fState)
	set(m.PeerEpoch != 0, fPeerEpoch)
	set(m.Committed != 0, fCommitted)
	set(len(m.Entries) != 0, fEntries)
	set(len(m.Data) != 0, fData)
	set(m.Offset != 0, fOffset)
	set(m.Last, fLast)
	set(m.ID != 0, fID)
	set(m.Failed, fFailed)
	return f
}

// Validate checks a message on its own: a known type, only the fields that
// type carries, and sane values (ids, epochs, zxids, increasing entries).
// It knows nothing of the receiver's state; Step checks the rest.
func (m *Message) Validate() error {
	if m == nil {
		return fmt.Errorf("%w: nil", ErrBadMessage)
	}
	if m.Type == 0 || m.Type >= msgTypeEnd {
		return fmt.Errorf("%w: type %d", ErrBadMessage, m.Type)
	}
	if extra := m.present() &^ allowed[m.Type]; extra != 0 {
		return fmt.Errorf("%w: %v carries fields it has no use for (%#x)", ErrBadMessage, m.Type, extra)
	}
	if m.From < 0 || m.From > election.MaxPeerID {
		return fmt.Errorf("%w: from %d", ErrBadMessage, m.From)
	}
	if m.Type == MsgNotification {
		return m.validateNotification()
	}
	switch {
	case m.Epoch < 0 || m.Epoch > MaxEpoch:
		return fmt.Errorf("%w: %v epoch %d", ErrStaleEpoch, m.Type, m.Epoch)
	case m.Zxid < 0 || EpochOf(m.Zxid) > MaxEpoch:
		return fmt.Errorf("%w: %v zxid %#x", ErrBadMessage, m.Type, m.Zxid)
	case m.PeerEpoch < -1 || m.PeerEpoch > MaxEpoch || (m.PeerEpoch == -1 && m.Type != MsgAckEpoch):
		return fmt.Errorf("%w: %v peer epoch %d", ErrBadMessage, m.Type, m.PeerEpoch)
	case m.Committed < 0 || m.Offset < 0:
		return fmt.Errorf("%w: %v committed %#x offset %d", ErrBadMessage, m.Type, m.Committed, m.Offset)
	}
	if err := validateEntries(m.Entries); err != nil {
		return fmt.Errorf("%w: %v: %v", ErrBadMessage, m.Type, err)
	}
	return m.validateRequired()
}

func (m *Message) validateNotification() error {
	n := m.notification()
	if err := n.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	return nil
}

// validateRequired checks what each type cannot do without.
func (m *Message) validateRequired() error {
	var missing string
	switch m.Type {
	case MsgLeaderInfo, MsgAckEpoch, MsgTrunc, MsgDiff, MsgDiffAck, MsgNewLeader, MsgAck, MsgUpToDate,
		MsgProposal, MsgCommit, MsgInform, MsgPing, MsgSync, MsgSynced, MsgSnapAck:
		if m.Epoch == 0 {
			missing = "epoch"
		}
	}
	switch {
	case missing != "":
	case (m.Type == MsgDiff || m.Type == MsgInform) && len(m.Entries) == 0:
		missing = "entries"
	case m.Type == MsgProposal && len(m.Entries) != 1:
		return fmt.Errorf("%w: PROPOSAL with %d entries", ErrBadMessage, len(m.Entries))
	case (m.Type == MsgCommit || m.Type == MsgDiffAck) && m.Zxid == 0:
		missing = "zxid"
	}
	if missing != "" {
		return fmt.Errorf("%w: %v without %s", ErrBadMessage, m.Type, missing)
	}
	for _, e := range m.Entries {
		if EpochOf(e.Zxid) > m.Epoch {
			return fmt.Errorf("%w: %v of epoch %d carries zxid %#x", ErrStaleEpoch, m.Type, m.Epoch, e.Zxid)
		}
	}
	return nil
}

func validateEntries(ents []Entry) error {
	var prev int64
	for _, e := range ents {
		if e.Zxid <= prev || CounterOf(e.Zxid) == 0 || EpochOf(e.Zxid) < 1 || EpochOf(e.Zxid) > MaxEpoch {
			return fmt.Errorf("entry zxid %#x after %#x", e.Zxid, prev)
		}
		prev = e.Zxid
	}
	return nil
}

func (m *Message) notification() election.Notification {
	return election.Notification{
		Vote:  election.Vote{Leader: m.Leader, Zxid: m.Zxid, Epoch: m.Epoch},
		Round: m.Round,
		State: election.State(m.State),
	}
}

func notificationMessage(from int64, n election.Notification) *Message {
	return &Message{Type: MsgNotification, From: from, Leader: n.Leader, Zxid: n.Zxid, Epoch: n.Epoch,
		Round: n.Round, State: uint8(n.State)}
}

func dataBytes(ents []Entry) int {
	n := 0
	for _, e := range ents {
		n += len(e.Data)
	}
	return n
}
