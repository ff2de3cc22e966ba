package wire_test

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/zkerr"
)

// saslConfig is peerConfig with the SASL users bob and the super user
// root.
func saslConfig() engine.Config {
	cfg := peerConfig()
	cfg.SASLUsers = map[string]string{"bob": "bobsecret", "root": "rootsecret"}
	cfg.SASLSuperUser = "root"
	return cfg
}

// saslPeer starts a peer configured by saslConfig.
func saslPeer(t *testing.T) *engine.Ensemble { return startPeer(t, saslConfig()) }

// saslClient is a test-side DIGEST-MD5 client (RFC 2831, qop auth), written
// apart from internal/digestmd5: the digest-response to challenge for user
// and password, with the digest-uri kazoo and the Java client send.
func saslClient(t *testing.T, challenge []byte, user, password string) []byte {
	t.Helper()
	fields := map[string]string{}
	for _, part := range strings.Split(string(challenge), ",") {
		k, v, _ := strings.Cut(part, "=")
		fields[strings.TrimSpace(k)] = strings.Trim(v, `"`)
	}
	realm, nonce, cnonce, uri := fields["realm"], fields["nonce"], "c0ffee", "zookeeper/zk-sasl-md5"
	if realm != "zk-sasl-md5" || nonce == "" {
		t.Fatalf("challenge %q: want realm zk-sasl-md5 and a nonce", challenge)
	}
	h := func(s string) []byte { x := md5.Sum([]byte(s)); return x[:] }
	hx := func(b []byte) string { return hex.EncodeToString(b) }
	a1 := string(h(user+":"+realm+":"+password)) + ":" + nonce + ":" + cnonce
	a2 := "AUTHENTICATE:" + uri
	resp := hx(h(hx(h(a1)) + ":" + nonce + ":00000001:" + cnonce + ":auth:" + hx(h(a2))))
	return []byte(fmt.Sprintf(`charset=utf-8,username="%s",realm="%s",nonce="%s",nc=00000001,cnonce="%s",digest-uri="%s",maxbuf=65536,response=%s,qop=auth`,
		user, realm, nonce, cnonce, uri, resp))
}

// saslLogin runs the two steps of an exchange on r and returns the second
// reply's header and token.
func saslLogin(t *testing.T, r *rawConn, user, password string) (jute.ReplyHeader, []byte) {
	t.Helper()
	var tok jute.SASLToken
	r.ok(jute.OpSASL, &jute.SASLToken{Token: []byte{}}, &tok)
	h, body, _ := r.call(jute.OpSASL, &jute.SASLToken{Token: saslClient(t, tok.Token, user, password)})
	if h.Err != 0 {
		return h, nil
	}
	must(t, jute.Unmarshal(body, &tok))
	return h, tok.Token
}

// TestSASLDigestMD5: a client that completes a DIGEST-MD5 exchange is
// {"sasl", user} on its connection (whoAmI), which sasl ACL entries
// match; the configured super user passes every check; the identity, as
// every other of a connection, is gone after a re-attach.
func TestSASLDigestMD5(t *testing.T) {
	e := saslPeer(t)
	bob := rawDial(t, e.ClientAddr())
	sess := bob.connect(jute.ConnectRequest{})
	h, rspauth := saslLogin(t, bob, "bob", "bobsecret")
	if h.Err != 0 || h.Zxid != 0 || !strings.HasPrefix(string(rspauth), "rspauth=") {
		t.Fatalf("exchange: %+v, token %q", h, rspauth)
	}
	if got := fmt.Sprint(whoAmI(bob)); got != "[ip 127.0.0.1 sasl bob]" {
		t.Fatalf("whoAmI after SASL: %s", got)
	}
	bobOnly := []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "sasl", ID: "bob"}}}
	bob.ok(jute.OpCreate, &jute.CreateRequest{Path: "/s", Data: []byte("x"), ACL: bobOnly}, nil)
	bob.ok(jute.OpGetData, &jute.PathWatchRequest{Path: "/s"}, nil)
	// "auth" expands to the session's sasl identity, as in ZooKeeper.
	bob.ok(jute.OpCreate, &jute.CreateRequest{Path: "/a", ACL: []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "auth"}}}}, nil)
	var acl jute.GetACLResponse
	bob.ok(jute.OpGetACL, &jute.PathRequest{Path: "/a"}, &acl)
	if fmt.Sprint(acl.ACL) != "[{31 {sasl bob}}]" {
		t.Fatalf("the auth ACL became %v, want sasl:bob", acl.ACL)
	}
	other := rawDial(t, e.ClientAddr())
	other.connect(jute.ConnectRequest{})
	if h, _, _ := other.call(jute.OpGetData, &jute.PathWatchRequest{Path: "/s"}); h.Err != int32(zkerr.CodeNoAuth) {
		t.Fatalf("getData of sasl:bob's node by another client: error %d, want NOAUTH", h.Err)
	}
	root := rawDial(t, e.ClientAddr())
	root.connect(jute.ConnectRequest{})
	if h, _ := saslLogin(t, root, "root", "rootsecret"); h.Err != 0 {
		t.Fatalf("root's exchange: %+v", h)
	}
	if got := fmt.Sprint(whoAmI(root)); got != "[ip 127.0.0.1 sasl root super ]" {
		t.Fatalf("whoAmI of the super user: %s", got)
	}
	root.ok(jute.OpSetData, &jute.SetDataRequest{Path: "/s", Data: []byte("y"), Version: -1}, nil)
	// A re-attach starts with the connection's ip identity only.
	back := rawDial(t, e.ClientAddr())
	back.connect(jute.ConnectRequest{SessionID: sess.SessionID, Passwd: sess.Passwd})
	if got := fmt.Sprint(whoAmI(back)); got != "[ip 127.0.0.1]" {
		t.Fatalf("whoAmI after a re-attach: %s", got)
	}
}

// TestSASLRefused: a wrong password, an unknown user, a malformed token, a
// step after the exchange ended, and any SASL request to a peer without
// SASL users are answered AUTHFAILED and the connection closes, as
// ZooKeeper closes it; other connections go on.
func TestSASLRefused(t *testing.T) {
	e := saslPeer(t)
	fail := func(name string, r *rawConn, h jute.ReplyHeader) {
		t.Helper()
		if h.Err != int32(zkerr.CodeAuthFailed) {
			t.Fatalf("%s: error %d, want AUTHFAILED", name, h.Err)
		}
		if !r.closed() {
			t.Fatalf("%s: the connection stays open", name)
		}
	}
	for name, cred := range map[string][2]string{"wrong password": {"bob", "nope"}, "unknown user": {"eve", "bobsecret"}} {
		r := rawDial(t, e.ClientAddr())
		r.connect(jute.ConnectRequest{})
		h, _ := saslLogin(t, r, cred[0], cred[1])
		fail(name, r, h)
	}
	r := rawDial(t, e.ClientAddr())
	r.connect(jute.ConnectRequest{})
	h, _, _ := r.call(jute.OpSASL, &jute.SASLToken{Token: []byte("username=bob")})
	fail("a first token that is not empty", r, h)
	r = rawDial(t, e.ClientAddr())
	r.connect(jute.ConnectRequest{})
	saslLogin(t, r, "bob", "bobsecret")
	h, _, _ = r.call(jute.OpSASL, &jute.SASLToken{Token: []byte{}})
	fail("a step after the exchange", r, h)

	plain := startPeer(t, peerConfig())
	r = rawDial(t, plain.ClientAddr())
	r.connect(jute.ConnectRequest{})
	h, _, _ = r.call(jute.OpSASL, &jute.SASLToken{Token: []byte{}})
	fail("no SASL users", r, h)

	ok := rawDial(t, e.ClientAddr())
	ok.connect(jute.ConnectRequest{})
	createRaw(ok, "/still", 0)
}

// kazooJAAS is the JAAS file kazoo's own test harness gives ZooKeeper for
// its SASL tests.
const kazooJAAS = `
Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_super="super_secret"
    user_jaasuser="jaas_password";
};`

// TestInteropKazooSASL runs kazoo's SASL DIGEST-MD5 tests' steps (its
// sasl_options and its legacy auth_data form) against a peer configured
// from kazoo's own JAAS file: a node with a sasl ACL, refused to a client
// without it; bad credentials fail the authentication (the session state
// kazoo records is AUTH_FAILED).
func TestInteropKazooSASL(t *testing.T) {
	needTool(t, python, "-c", "import kazoo, puresasl")
	jaas := filepath.Join(t.TempDir(), "jaas.conf")
	must(t, os.WriteFile(jaas, []byte(kazooJAAS), 0o600))
	users, err := engine.LoadJAAS(jaas)
	must(t, err)
	cfg := peerConfig()
	cfg.SASLUsers = users
	e := startPeer(t, cfg)
	out, err := exec.Command(python, "-c", kazooSASLScript, e.ClientAddr()).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "kazoo sasl ok") {
		t.Fatalf("kazoo: %v\n%s", err, out)
	}
}

const kazooSASLScript = `
import sys
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import make_acl
from kazoo.protocol.states import KeeperState
import threading

class Recorder(KazooClient):
    # records the session states kazoo's connection goes through
    def __init__(self, *args, **kwargs):
        self.states, self.ended = [], threading.Event()
        super().__init__(*args, **kwargs)

    def _session_callback(self, state):
        self.states.append(state)
        if state in (KeeperState.AUTH_FAILED, KeeperState.CLOSED):
            self.ended.set()
        return super()._session_callback(state)

hosts = sys.argv[1]
plain = KazooClient(hosts=hosts, timeout=10)
plain.start(timeout=15)
for kw in ({"sasl_options": {"mechanism": "DIGEST-MD5", "username": "jaasuser", "password": "jaas_password"}},
           {"auth_data": [("sasl", "jaasuser:jaas_password")]}):
    zk = KazooClient(hosts=hosts, timeout=10, **kw)
    zk.start(timeout=15)
    zk.create("/1", acl=(make_acl("sasl", credential="jaasuser", all=True),))
    try:
        plain.get("/1")
        raise SystemExit("a client without the sasl identity read /1")
    except NoAuthError:
        pass
    zk.delete("/1")
    zk.stop(); zk.close()
for kw in ({"sasl_options": {"mechanism": "DIGEST-MD5", "username": "baduser", "password": "badpassword"}},
           {"auth_data": [("sasl", "jaasuser:wrong")]}):
    # kazoo reports CONNECTED before its SASL exchange, then AUTH_FAILED
    # and CLOSED in quick succession: its start, or a request, may see any
    # of them (its start once raised its timeout error at once, in CI).
    # The session states it went through tell what happened.
    zk = Recorder(hosts=hosts, timeout=10, **kw)
    zk.start_async()
    if not zk.ended.wait(15):
        raise SystemExit("bad SASL credentials did not end the connection: %r %r" % (kw, zk.states))
    if KeeperState.AUTH_FAILED not in zk.states:
        raise SystemExit("bad SASL credentials did not fail the authentication: %r %r" % (kw, zk.states))
    zk.stop(); zk.close()
print("kazoo sasl ok")
`

// TestInteropZkCliSASL runs zkCli.sh with a JAAS Client section, as a
// ZooKeeper user logs in with SASL: the Java client's DIGEST-MD5 exchange
// completes and whoami shows the sasl identity.
func TestInteropZkCliSASL(t *testing.T) {
	needTool(t, zkCli)
	e := saslPeer(t)
	jaas := filepath.Join(t.TempDir(), "client.jaas")
	must(t, os.WriteFile(jaas, []byte(`Client {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    username="bob"
    password="bobsecret";
};`), 0o600))
	cmd := exec.Command(zkCli, "-server", e.ClientAddr())
	cmd.Env = append(os.Environ(), "CLIENT_JVMFLAGS=-Djava.security.auth.login.config="+jaas)
	cmd.Stdin = strings.NewReader("whoami\ncreate /z z sasl:bob:cdrwa\ngetAcl /z\nget /z\nquit\n")
	out, err := cmd.CombinedOutput()
	text := string(out)
	if err != nil {
		t.Fatalf("zkCli.sh: %v\n%s", err, text)
	}
	for _, want := range []string{"sasl: bob", "Created /z", "'sasl,'bob"} {
		if !strings.Contains(text, want) {
			t.Errorf("zkCli output lacks %q", want)
		}
	}
	for _, bad := range []string{"AuthFailed", "Insufficient permission", "SaslException"} {
		if strings.Contains(text, bad) {
			t.Errorf("zkCli output has %q", bad)
		}
	}
	if t.Failed() {
		t.Logf("zkCli output:\n%s", text)
	}
}

// TestEnforceAuth: with EnforceAuthSchemes (ZooKeeper's
// enforce.auth.enabled), a connection without an identity of those
// schemes gets SESSIONCLOSEDREQUIRESASLAUTH for any request but auth and
// sasl, reads, writes and pings alike, and is closed; one that
// authenticated, by SASL or by digest, pipelined or not, is served; with
// sasl required a failed exchange is answered so too.
func TestEnforceAuth(t *testing.T) {
	cfg := saslConfig()
	cfg.EnforceAuthSchemes = []string{"sasl", "digest"}
	e := startPeer(t, cfg)
	refused := func(name string, op int32, req jute.Record) {
		t.Helper()
		r := rawDial(t, e.ClientAddr())
		r.connect(jute.ConnectRequest{})
		h, _, _ := r.call(op, req)
		if h.Err != int32(zkerr.CodeSessionClosedRequireSASLAuth) || !r.closed() {
			t.Fatalf("%s without authentication: error %d, want SESSIONCLOSEDREQUIRESASLAUTH and a close", name, h.Err)
		}
	}
	refused("getData", jute.OpGetData, &jute.PathWatchRequest{Path: "/"})
	refused("create", jute.OpCreate, &jute.CreateRequest{Path: "/x", ACL: openACL})
	refused("ping", jute.OpPing, nil)
	// addauth ip is answered, but ip is not a scheme required here.
	ip := rawDial(t, e.ClientAddr())
	ip.connect(jute.ConnectRequest{})
	ip.ok(jute.OpAuth, &jute.AuthPacket{Scheme: "ip"}, nil)
	if h, _, _ := ip.call(jute.OpExists, &jute.PathWatchRequest{Path: "/"}); h.Err != int32(zkerr.CodeSessionClosedRequireSASLAuth) {
		t.Fatalf("exists after addauth ip: error %d", h.Err)
	}
	bob := rawDial(t, e.ClientAddr())
	bob.connect(jute.ConnectRequest{})
	saslLogin(t, bob, "bob", "bobsecret")
	createRaw(bob, "/by-sasl", 0)
	bob.ok(jute.OpPing, nil, nil)
	// addauth digest and a create sent together: the create waits for it.
	d := rawDial(t, e.ClientAddr())
	d.connect(jute.ConnectRequest{})
	d.write(append(jute.AppendFrame(nil, &jute.RequestHeader{Xid: jute.XidAuth, Type: jute.OpAuth}, &jute.AuthPacket{Scheme: "digest", Auth: []byte("u:p")}),
		jute.AppendFrame(nil, &jute.RequestHeader{Xid: 1, Type: jute.OpCreate}, &jute.CreateRequest{Path: "/by-digest", ACL: openACL})...))
	for _, want := range []int32{jute.XidAuth, 1} {
		var h jute.ReplyHeader
		must(t, jute.Unmarshal(d.read()[:jute.ReplyHeaderSize], &h))
		if h.Xid != want || h.Err != 0 {
			t.Fatalf("pipelined addauth and create: reply %+v, want xid %d OK", h, want)
		}
	}
	// A create sent before the addauth is refused: it runs first.
	early := rawDial(t, e.ClientAddr())
	early.connect(jute.ConnectRequest{})
	early.write(append(jute.AppendFrame(nil, &jute.RequestHeader{Xid: 1, Type: jute.OpCreate}, &jute.CreateRequest{Path: "/early", ACL: openACL}),
		jute.AppendFrame(nil, &jute.RequestHeader{Xid: jute.XidAuth, Type: jute.OpAuth}, &jute.AuthPacket{Scheme: "digest", Auth: []byte("u:p")})...))
	var eh jute.ReplyHeader
	must(t, jute.Unmarshal(early.read()[:jute.ReplyHeaderSize], &eh))
	if eh.Xid != 1 || eh.Err != int32(zkerr.CodeSessionClosedRequireSASLAuth) {
		t.Fatalf("a create before its addauth: reply %+v, want SESSIONCLOSEDREQUIRESASLAUTH", eh)
	}
	bad := rawDial(t, e.ClientAddr())
	bad.connect(jute.ConnectRequest{})
	if h, _ := saslLogin(t, bad, "bob", "wrong"); h.Err != int32(zkerr.CodeSessionClosedRequireSASLAuth) {
		t.Fatalf("a failed SASL exchange with sasl required: error %d", h.Err)
	}
}

// TestEnforceAuthLikeZooKeeper runs the same steps against a real
// ZooKeeper 3.8 with enforce.auth.enabled=true and
// enforce.auth.schemes=digest, and against zk so configured: a request or
// a ping before addauth is answered SESSIONCLOSEDREQUIRESASLAUTH and the
// connection closes; after addauth digest requests are served.
func TestEnforceAuthLikeZooKeeper(t *testing.T) {
	cfg := peerConfig()
	cfg.EnforceAuthSchemes = []string{"digest"}
	real := startOneZK(t, 0, "enforce.auth.enabled=true\nenforce.auth.schemes=digest\n")
	waitZK(t, real)
	servers := map[string]string{"zk": startPeer(t, cfg).ClientAddr(), "ZooKeeper": real}
	for name, addr := range servers {
		t.Run(name, func(t *testing.T) {
			for op, req := range map[int32]jute.Record{jute.OpGetData: &jute.PathWatchRequest{Path: "/"}, jute.OpPing: nil} {
				r := rawDial(t, addr)
				r.connect(jute.ConnectRequest{})
				h, _, _ := r.call(op, req)
				if h.Err != int32(zkerr.CodeSessionClosedRequireSASLAuth) || !r.closed() {
					t.Fatalf("op %d before addauth: error %d, want SESSIONCLOSEDREQUIRESASLAUTH and a close", op, h.Err)
				}
			}
			r := rawDial(t, addr)
			r.connect(jute.ConnectRequest{})
			r.ok(jute.OpAuth, &jute.AuthPacket{Scheme: "digest", Auth: []byte("u:p")}, nil)
			r.ok(jute.OpGetData, &jute.PathWatchRequest{Path: "/zookeeper"}, nil)
			r.ok(jute.OpPing, nil, nil)
		})
	}
}
