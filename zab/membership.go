package zab

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"

	"github.com/embedzk/zk/election"
)

// Membership is one configuration of the ensemble: who votes, who observes,
// and (optionally) ZooKeeper's hierarchical groups and weights. Its version
// is the zxid of the log entry that made it (0 for the one a peer was
// started with).
type Membership struct {
	Voters    []int64
	Observers []int64
	// Groups splits the voters into ZooKeeper's hierarchical groups; nil is
	// a majority of the voters (or, with Weights, one group of them all).
	Groups  [][]int64
	Weights map[int64]int64 // voter -> weight (default 1)
}

// Quorum returns m's quorum rule after checking m: ids in 1..MaxPeerID, no
// id twice, at least one voter whose vote counts.
func (m Membership) Quorum() (election.Quorum, error) {
	seen := map[int64]bool{}
	for _, id := range slices.Concat(m.Voters, m.Observers) {
		if id < 1 || id > election.MaxPeerID {
			return nil, fmt.Errorf("%w: server id %d outside 1..%d", ErrBadMembership, id, election.MaxPeerID)
		}
		if seen[id] {
			return nil, fmt.Errorf("%w: server %d listed twice", ErrBadMembership, id)
		}
		seen[id] = true
	}
	if len(m.Voters) == 0 {
		return nil, fmt.Errorf("%w: no voter", ErrBadMembership)
	}
	var q election.Quorum
	var err error
	if m.Groups == nil && m.Weights == nil {
		q, err = election.NewMajority(m.Voters)
	} else {
		groups := m.Groups
		if groups == nil {
			groups = [][]int64{slices.Clone(m.Voters)}
		}
		q, err = election.NewHierarchical(groups, m.Weights)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadMembership, err)
	}
	if !slices.Equal(q.Voters(), slices.Sorted(slices.Values(m.Voters))) {
		return nil, fmt.Errorf("%w: the groups' members %v are not the voters %v", ErrBadMembership, q.Voters(), m.Voters)
	}
	return q, nil
}

// Has reports whether id is a voter or an observer of m.
func (m Membership) Has(id int64) bool {
	return slices.Contains(m.Voters, id) || slices.Contains(m.Observers, id)
}

// String is for logs: "voters [1 2 3] observers [4]".
func (m Membership) String() string {
	s := fmt.Sprintf("voters %v", m.Voters)
	if len(m.Observers) > 0 {
		s += fmt.Sprintf(" observers %v", m.Observers)
	}
	if m.Groups != nil {
		s += fmt.Sprintf(" groups %v", m.Groups)
	}
	if m.Weights != nil {
		s += fmt.Sprintf(" weights %v", m.Weights)
	}
	return s
}

func (m Membership) clone() Membership {
	c := Membership{Voters: slices.Clone(m.Voters), Observers: slices.Clone(m.Observers), Weights: maps.Clone(m.Weights)}
	for _, g := range m.Groups {
		c.Groups = append(c.Groups, slices.Clone(g))
	}
	return c
}

// membershipOf returns the membership cfg describes and whether it can be
// encoded (a custom Quorum other than Majority and Hierarchical cannot).
func membershipOf(cfg Config) (Membership, bool) {
	m := Membership{Voters: slices.Clone(cfg.Voters), Observers: slices.Clone(cfg.Observers)}
	switch q := cfg.Quorum.(type) {
	case nil, *election.Majority:
		return m, true
	case *election.Hierarchical:
		m.Groups, m.Weights = q.Groups(), q.Weights()
		return m, true
	}
	return m, false
}

// configMarker starts the Data of every configuration entry. zk's own
// entries start with their format version (a small number), so they never
// begin with 0xff; Propose refuses data that does.
var configMarker = []byte{0xff, 'z', 'k', 'c', 1}

// maxMembers bounds every list of a decoded membership.
const maxMembers = election.MaxPeerID + 1

// IsConfigEntry reports whether data is a configuration entry's.
func IsConfigEntry(data []byte) bool { return bytes.HasPrefix(data, configMarker) }

// EncodeConfigEntry returns the Data of an entry that makes m the
// membership, carrying payload (the driver's, opaque to zab: for example
// the peers' addresses) after it.
func EncodeConfigEntry(m Membership, payload []byte) ([]byte, error) {
	if _, err := m.Quorum(); err != nil {
		return nil, err
	}
	b := appendMembership(slices.Clone(configMarker), m)
	return append(b, payload...), nil
}

// DecodeConfigEntry decodes a configuration entry's Data: the membership and
// the driver's payload (aliasing data). ok is false when data is not a
// configuration entry; err is set when it is one but malformed.
func DecodeConfigEntry(data []byte) (m Membership, payload []byte, ok bool, err error) {
	if !IsConfigEntry(data) {
		return Membership{}, nil, false, nil
	}
	m, rest, err := decodeMembership(data[len(configMarker):])
	if err != nil {
		return Membership{}, nil, true, err
	}
	if _, err := m.Quorum(); err != nil {
		return Membership{}, nil, true, err
	}
	return m, rest, true, nil
}

func appendIDs(b []byte, ids []int64) []byte {
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = binary.AppendUvarint(b, uint64(id))
	}
	return b
}

// appendMembership: voters, observers, groups (count+1; 0 = nil), weights
// (count+1, pairs in id order; 0 = nil), each a uvarint list.
func appendMembership(b []byte, m Membership) []byte {
	b = appendIDs(b, m.Voters)
	b = appendIDs(b, m.Observers)
	if m.Groups == nil {
		b = binary.AppendUvarint(b, 0)
	} else {
		b = binary.AppendUvarint(b, uint64(len(m.Groups))+1)
		for _, g := range m.Groups {
			b = appendIDs(b, g)
		}
	}
	if m.Weights == nil {
		return binary.AppendUvarint(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(m.Weights))+1)
	for _, id := range slices.Sorted(maps.Keys(m.Weights)) {
		b = binary.AppendUvarint(b, uint64(id))
		b = binary.AppendUvarint(b, uint64(m.Weights[id]))
	}
	return b
}

type memberReader struct {
	b   []byte
	err error
}

func (r *memberReader) uvarint(limit uint64) uint64 {
	if r.err != nil {
		return 0
	}
	v, k := binary.Uvarint(r.b)
	if k <= 0 || v > limit {
		r.err = fmt.Errorf("%w: malformed membership", ErrBadMembership)
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *memberReader) ids() []int64 {
	n := r.uvarint(maxMembers)
	var ids []int64
	for i := uint64(0); i < n && r.err == nil; i++ {
		ids = append(ids, int64(r.uvarint(election.MaxPeerID)))
	}
	return ids
}

func decodeMembership(b []byte) (Membership, []byte, error) {
	r := &memberReader{b: b}
	m := Membership{Voters: r.ids(), Observers: r.ids()}
	if g := r.uvarint(maxMembers + 1); g > 0 {
		m.Groups = make([][]int64, 0, g-1)
		for i := uint64(1); i < g && r.err == nil; i++ {
			m.Groups = append(m.Groups, r.ids())
		}
	}
	if w := r.uvarint(maxMembers + 1); w > 0 {
		m.Weights = map[int64]int64{}
		for i := uint64(1); i < w && r.err == nil; i++ {
			id := int64(r.uvarint(election.MaxPeerID))
			m.Weights[id] = int64(r.uvarint(election.MaxWeight))
		}
	}
	return m, r.b, r.err
}

// encodeVersioned is a NEWLEADER's Data: the version, then the membership.
func encodeVersioned(version int64, m Membership) []byte {
	return appendMembership(binary.AppendUvarint(nil, uint64(version)), m)
}

func decodeVersioned(b []byte) (int64, Membership, error) {
	r := &memberReader{b: b}
	v := int64(r.uvarint(1<<63 - 1))
	if r.err != nil {
		return 0, Membership{}, r.err
	}
	m, rest, err := decodeMembership(r.b)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("%w: %d trailing bytes", ErrBadMembership, len(rest))
	}
	if err == nil {
		_, err = m.Quorum()
	}
	return v, m, err
}
