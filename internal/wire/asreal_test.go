package wire_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	gozk "github.com/go-zookeeper/zk"

	"github.com/embedzk/zk/internal/jute"
)

// TestAsRealZooKeeper runs the same steps against a real ZooKeeper 3.8
// (started here) and a zk peer, and checks each system gives ZooKeeper's
// answer, stated in each subtest.
func TestAsRealZooKeeper(t *testing.T) {
	real := startRealZK(t)
	e := startPeer(t, peerConfig())
	systems := []struct{ name, addr string }{{"ZooKeeper", real}, {"zk", e.ClientAddr()}}
	for _, c := range []struct {
		name string
		run  func(t *testing.T, addr string) string
		want string
	}{
		{"null and empty data", nullAndEmptyData, "/n null\n/e empty\n/s1 null\n/s2 empty\n/m1 null\n/m2 empty\n" +
			"multiRead null empty\n/ empty\n/zookeeper empty\n/zookeeper/config empty\n"},
		{"empty digest credential", emptyDigestCredential, "empty: ok\nnull: zk: client authentication failed\n"},
		{"whoAmI after an empty digest", whoAmIEmptyDigest, "digest:\nip:127.0.0.1\nnull credential: error -115, connection closed\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, s := range systems {
				if got := c.run(t, s.addr); got != c.want {
					t.Errorf("%s answered:\n%s\nwant:\n%s", s.name, got, c.want)
				}
			}
		})
	}
}

// dataKind names what a read returned: null (nil), empty or data.
func dataKind(b []byte) string {
	switch {
	case b == nil:
		return "null"
	case len(b) == 0:
		return "empty"
	}
	return fmt.Sprintf("%q", b)
}

// nullAndEmptyData: ZooKeeper keeps null data (a create or setData whose
// buffer is null, length -1 on the wire) apart from empty data (length 0):
// getData and multiRead answer each as it was written; the built-in nodes
// have empty data.
func nullAndEmptyData(t *testing.T, addr string) string {
	c, _ := dial(t, addr)
	steps := []error{
		errOnly(c.Create("/n", nil, 0, open)),
		errOnly(c.Create("/e", []byte{}, 0, open)),
		errOnly(c.Create("/s1", []byte("x"), 0, open)),
		errOnly(c.Set("/s1", nil, -1)),
		errOnly(c.Create("/s2", nil, 0, open)),
		errOnly(c.Set("/s2", []byte{}, -1)),
		errOnly(c.Multi(&gozk.CreateRequest{Path: "/m1", Acl: open}, &gozk.CreateRequest{Path: "/m2", Data: []byte{}, Acl: open})),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	var sb strings.Builder
	for _, p := range []string{"/n", "/e", "/s1", "/s2", "/m1", "/m2"} {
		b, _, err := c.Get(p)
		must(t, err)
		fmt.Fprintf(&sb, "%s %s\n", p, dataKind(b))
	}
	r := rawDial(t, addr)
	r.connect(jute.ConnectRequest{})
	var mr jute.MultiResponse
	r.ok(jute.OpMultiRead, &jute.MultiRequest{Ops: []jute.MultiOp{{Type: jute.OpGetData, Path: "/n"}, {Type: jute.OpGetData, Path: "/e"}}}, &mr)
	fmt.Fprintf(&sb, "multiRead %s %s\n", dataKind(mr.Results[0].Data), dataKind(mr.Results[1].Data))
	for _, p := range []string{"/", "/zookeeper", "/zookeeper/config"} {
		b, _, err := c.Get(p)
		must(t, err)
		fmt.Fprintf(&sb, "%s %s\n", p, dataKind(b))
	}
	return sb.String()
}

func errOnly[T any](_ T, err error) error { return err }

// emptyDigestCredential: DigestAuthenticationProvider takes an empty
// credential (the identity of user "" and password ""), but a null one
// (length -1) fails in the provider: the server answers AUTHFAILED and
// closes the connection, and the client's session is in AuthFailed.
func emptyDigestCredential(t *testing.T, addr string) string {
	var sb strings.Builder
	c, _ := dial(t, addr)
	fmt.Fprintf(&sb, "empty: %s\n", okOrErr(c.AddAuth("digest", []byte{})))
	c2, _ := dial(t, addr)
	fmt.Fprintf(&sb, "null: %s\n", okOrErr(c2.AddAuth("digest", nil)))
	return sb.String()
}

func okOrErr(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// whoAmIEmptyDigest: whoAmI lists the identities of the session (in a
// hash set's order in ZooKeeper: compared sorted here): the empty digest
// credential's user is "", and the ip identity is the connection's
// address. A null credential is answered AUTHFAILED (-115) and the
// connection closes.
func whoAmIEmptyDigest(t *testing.T, addr string) string {
	r := rawDial(t, addr)
	r.connect(jute.ConnectRequest{})
	r.ok(jute.OpAuth, &jute.AuthPacket{Scheme: "digest", Auth: []byte{}}, nil)
	var who jute.WhoAmIResponse
	r.ok(jute.OpWhoAmI, nil, &who)
	var lines []string
	for _, ci := range who.ClientInfo {
		lines = append(lines, ci.AuthScheme+":"+ci.User)
	}
	slices.Sort(lines)
	bad := rawDial(t, addr)
	bad.connect(jute.ConnectRequest{})
	h, _, _ := bad.call(jute.OpAuth, &jute.AuthPacket{Scheme: "digest"})
	// The next request gets no answer: the connection closed.
	closed := "connection closed"
	bad.write(jute.AppendFrame(nil, &jute.RequestHeader{Xid: 99, Type: jute.OpExists}, &jute.PathWatchRequest{Path: "/"}))
	if _, err := jute.ReadFrame(bad.nc, nil, 1<<20); err == nil {
		closed = "connection open"
	}
	return strings.Join(lines, "\n") + fmt.Sprintf("\nnull credential: error %d, %s\n", h.Err, closed)
}
