package zab

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// sampleMessages has one valid message of every type.
func sampleMessages() []*Message {
	e := int64(3)
	ents := []Entry{{Zxid: MakeZxid(2, 7), Data: []byte("a")}, {Zxid: MakeZxid(3, 1), Data: []byte("bc")}}
	return []*Message{
		{Type: MsgNotification, From: 1, Leader: 2, Zxid: MakeZxid(2, 7), Epoch: 2, Round: 4, State: 1},
		{Type: MsgNotification, From: 9, Leader: 0, Zxid: -1, Epoch: -1, Round: 1, State: 1},
		{Type: MsgFollowerInfo, From: 1, PeerEpoch: 2, Zxid: MakeZxid(2, 7)},
		{Type: MsgObserverInfo, From: 9},
		{Type: MsgLeaderInfo, From: 2, Epoch: e},
		{Type: MsgAckEpoch, From: 1, Epoch: e, PeerEpoch: -1, Zxid: 5},
		{Type: MsgTrunc, From: 2, Epoch: e, Zxid: MakeZxid(2, 3)},
		{Type: MsgDiff, From: 2, Epoch: e, Entries: ents},
		{Type: MsgSnap, Zxid: MakeZxid(2, 7), Offset: 64, Data: []byte{1, 2, 3}, Last: true},
		{Type: MsgDiffAck, From: 1, Epoch: e, Zxid: MakeZxid(3, 1)},
		{Type: MsgNewLeader, From: 2, Epoch: e, Zxid: MakeZxid(3, 1), Committed: MakeZxid(2, 7)},
		{Type: MsgAck, From: 1, Epoch: e, Zxid: MakeZxid(3, 1)},
		{Type: MsgUpToDate, From: 2, Epoch: e, Committed: MakeZxid(3, 1)},
		{Type: MsgProposal, From: 2, Epoch: e, Entries: ents[1:]},
		{Type: MsgCommit, From: 2, Epoch: e, Zxid: MakeZxid(3, 1)},
		{Type: MsgInform, From: 2, Epoch: e, Entries: ents},
		{Type: MsgPing, From: 2, Epoch: e, ID: 12},
		{Type: MsgSync, From: 1, Epoch: e, ID: 1 << 60},
		{Type: MsgSynced, From: 2, Epoch: e, ID: 1 << 60, Zxid: MakeZxid(3, 1)},
		{Type: MsgSynced, From: 2, Epoch: e, ID: 5, Failed: true},
		{Type: MsgApp, From: 1, Data: []byte("forwarded write")},
		{Type: MsgApp, From: 1},
		{Type: MsgSnapAck, From: 2, Epoch: e, Zxid: MakeZxid(2, 9), Offset: 1 << 20},
	}
}

func TestMessageRoundTrip(t *testing.T) {
	seen := map[MsgType]bool{}
	for _, m := range sampleMessages() {
		b, err := EncodeMessage(m)
		if err != nil {
			t.Fatalf("%v: %v", m.Type, err)
		}
		got, err := DecodeMessage(b)
		if err != nil {
			t.Fatalf("%v: %v", m.Type, err)
		}
		if diff := cmp.Diff(m, got); diff != "" {
			t.Fatalf("%v round trip (-want +got):\n%s", m.Type, diff)
		}
		seen[m.Type] = true
	}
	for typ := MsgType(1); typ < msgTypeEnd; typ++ {
		if !seen[typ] {
			t.Errorf("no sample of %v", typ)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	good, _ := EncodeMessage(&Message{Type: MsgCommit, From: 2, Epoch: 3, Zxid: MakeZxid(3, 1)})
	wrongVersion := append([]byte{1}, good[1:]...)
	invalid := appendMessage(nil, &Message{Type: MsgCommit, Epoch: 3}) // no zxid
	// byte 2 is the presence bits: from (1), epoch (2), zxid (4).
	unknownBit := append(bytes.Clone(good[:2]), 0x80, 0x80, 0x01) // bit 14
	zeroEpoch := rawMessage(MsgCommit, wEpoch|wZxid, 0, 2)
	noEntries := rawMessage(MsgDiff, wEpoch|wEntries, 2, 0)
	lyingCount := rawMessage(MsgDiff, wEpoch|wEntries, 2, 0xff, 0xff, 0xff, 0xff, 0x0f, 2, 0)
	lyingData := rawMessage(MsgApp, wData, 0xff, 0x01, 'x')
	emptyData := rawMessage(MsgApp, wData, 0)
	overlong := rawMessage(MsgPing, wEpoch|wID, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)
	for name, b := range map[string][]byte{
		"empty":            nil,
		"garbage":          []byte("not a message at all"),
		"msgpack, v1":      {0x82, 0xa1, 'v', 0x01, 0xa1, 'm', 0x81, 0xa1, 't', 0x0b},
		"truncated":        good[:len(good)-1],
		"trailing":         append(bytes.Clone(good), 0),
		"wrong version":    wrongVersion,
		"invalid fields":   invalid,
		"a bare int":       {0x05},
		"unknown bit":      unknownBit,
		"present zero":     zeroEpoch,
		"zero entries":     noEntries,
		"lying count":      lyingCount,
		"lying data":       lyingData,
		"empty data":       emptyData,
		"overlong varint":  overlong,
		"padded varint":    rawMessage(MsgCommit, wEpoch|wZxid, 0x84, 0x00, 2),
		"type only":        {ProtocolVersion, byte(MsgPing)},
		"state is missing": rawMessage(MsgNotification, wState),
	} {
		if _, err := DecodeMessage(b); !errors.Is(err, ErrBadMessage) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := EncodeMessage(&Message{Type: MsgProposal, Epoch: 1}); !errors.Is(err, ErrBadMessage) {
		t.Errorf("encoding an invalid message: %v", err)
	}
}

// rawMessage builds an encoding by hand: version, type, presence bits,
// then rest as it is.
func rawMessage(typ MsgType, bits uint64, rest ...byte) []byte {
	b := binary.AppendUvarint([]byte{ProtocolVersion, byte(typ)}, bits)
	return append(b, rest...)
}

// TestDecodeAliasesCapped: decoded byte slices alias the frame (no copy
// of a 1 KiB value per message) but appending to one never writes into it.
func TestDecodeAliasesCapped(t *testing.T) {
	b, _ := EncodeMessage(&Message{Type: MsgDiff, From: 2, Epoch: 3, Entries: []Entry{
		{Zxid: MakeZxid(3, 1), Data: []byte("ab")}, {Zxid: MakeZxid(3, 2), Data: []byte("cd")}}})
	before := bytes.Clone(b)
	m, err := DecodeMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(m.Entries[0].Data, 'X', 'Y', 'Z')
	if !bytes.Equal(b, before) || string(m.Entries[1].Data) != "cd" {
		t.Fatalf("an append wrote into the frame: %q", b)
	}
}

func TestValidateRejects(t *testing.T) {
	for name, m := range map[string]*Message{
		"type 0":              {},
		"from 255":            {Type: MsgApp, From: 255},
		"negative zxid":       {Type: MsgCommit, Epoch: 1, Zxid: -1},
		"negative epoch":      {Type: MsgPing, Epoch: -1, ID: 1},
		"peer epoch -2":       {Type: MsgAckEpoch, Epoch: 1, PeerEpoch: -2},
		"-1 outside ACKEPOCH": {Type: MsgFollowerInfo, PeerEpoch: -1},
		"zero counter":        {Type: MsgDiff, Epoch: 1, Entries: []Entry{{Zxid: MakeZxid(1, 0)}}},
		"duplicate entries":   {Type: MsgDiff, Epoch: 1, Entries: []Entry{{Zxid: 5}, {Zxid: 5}}},
		"epoch-less commit":   {Type: MsgCommit, Zxid: 5},
		"empty diff":          {Type: MsgDiff, Epoch: 1},
		"notification round":  {Type: MsgNotification, Leader: 1, State: 1},
		"data on a ping":      {Type: MsgPing, Epoch: 1, Data: []byte{1}},
		"negative offset":     {Type: MsgSnap, Offset: -1},
	} {
		if err := m.Validate(); err == nil {
			t.Errorf("%s: valid", name)
		}
	}
}

func TestZxid(t *testing.T) {
	z := MakeZxid(5, 7)
	if z != 5<<32|7 || EpochOf(z) != 5 || CounterOf(z) != 7 {
		t.Fatalf("%#x", z)
	}
	if z := MakeZxid(MaxEpoch, MaxCounter); z < 0 || EpochOf(z) != MaxEpoch || CounterOf(z) != MaxCounter {
		t.Fatalf("%#x", z)
	}
	for _, tc := range []struct {
		prev, z int64
		ok      bool
	}{
		{0, MakeZxid(1, 1), true}, {MakeZxid(1, 1), MakeZxid(1, 2), true}, {MakeZxid(1, 1), MakeZxid(1, 3), false},
		{MakeZxid(1, 9), MakeZxid(3, 1), true}, {MakeZxid(1, 9), MakeZxid(3, 2), false}, {MakeZxid(2, 1), MakeZxid(1, 2), false},
	} {
		if follows(tc.prev, tc.z) != tc.ok {
			t.Errorf("follows(%#x, %#x) != %v", tc.prev, tc.z, tc.ok)
		}
	}
}

func TestSnapshotMessages(t *testing.T) {
	for _, size := range []int{0, 1, 9, 10, 11, 30, 95} {
		data := bytes.Repeat([]byte{7}, size)
		var got []byte
		var msgs []*Message
		err := SnapshotMessages(42, bytes.NewReader(data), 10, func(m *Message) error {
			if err := m.Validate(); err != nil {
				t.Fatal(err)
			}
			if m.Offset != int64(len(got)) || m.Zxid != 42 || len(m.Data) > 10 {
				t.Fatalf("size %d: chunk %+v", size, m)
			}
			got = append(got, m.Data...)
			msgs = append(msgs, m)
			return nil
		})
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: %v, %d bytes", size, err, len(got))
		}
		want := max(1, (size+9)/10)
		if len(msgs) != want || !msgs[len(msgs)-1].Last {
			t.Fatalf("size %d: %d messages, last %v", size, len(msgs), msgs[len(msgs)-1].Last)
		}
		for _, m := range msgs[:len(msgs)-1] {
			if m.Last {
				t.Fatalf("size %d: Last before the end", size)
			}
		}
	}
	boom := errors.New("boom")
	if err := SnapshotMessages(1, iotest.ErrReader(boom), 10, func(*Message) error { return nil }); !errors.Is(err, boom) {
		t.Fatalf("reader error: %v", err)
	}
	if err := SnapshotMessages(1, io.LimitReader(bytes.NewReader(make([]byte, 50)), 50), 10, func(*Message) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("emit error: %v", err)
	}
}
