package wire_test

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/embedzk/zk/internal/engine"
	"github.com/embedzk/zk/internal/jute"
	"github.com/embedzk/zk/internal/testpki"
	"github.com/embedzk/zk/internal/zkerr"
)

// The secure client port: the client protocol over TLS, client
// certificates giving the session an x509 identity, as ZooKeeper's
// NettyServerCnxnFactory with X509AuthenticationProvider does.

const (
	bobDN  = "CN=bob,O=zk-test"
	rootDN = "CN=root,O=zk-test"
)

// tlsFiles are the PEM files of a test PKI in a temporary directory.
type tlsFiles struct {
	dir      string
	ca       string // the trusted CA's certificate
	keyStore string // the server's certificate chain and PKCS#8 key, ZooKeeper's PEM key store
	server   *tls.Config
	// cert, key and both (certificate then key) of each client: bob, root
	// and rogue (CN=rogue,O=zk-test, issued by a CA the server does not
	// trust).
	cert, key, both map[string]string
	pairs           map[string]tls.Certificate
}

// newTLSFiles writes a CA, a server certificate for 127.0.0.1 and
// localhost, the clients bob and root, and rogue from an untrusted CA.
func newTLSFiles(t testing.TB) *tlsFiles {
	t.Helper()
	f := &tlsFiles{dir: t.TempDir(), cert: map[string]string{}, key: map[string]string{},
		both: map[string]string{}, pairs: map[string]tls.Certificate{}}
	write := func(name string, parts ...[]byte) string {
		path := filepath.Join(f.dir, name)
		must(t, os.WriteFile(path, joinPEM(parts), 0o600))
		return path
	}
	ca := testpki.NewCA(t, "zk test CA")
	f.ca = write("ca.pem", ca.CertPEM())
	srvCert, srvKey := ca.Issue(t, "zk server", []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")})
	f.keyStore = write("server.pem", srvCert, ca.CertPEM(), srvKey)
	other := testpki.NewCA(t, "untrusted CA")
	for name, issuer := range map[string]*testpki.CA{"bob": ca, "root": ca, "rogue": other} {
		certPEM, keyPEM := issuer.IssueSubject(t, pkix.Name{CommonName: name, Organization: []string{"zk-test"}}, nil, nil)
		f.cert[name] = write(name+".crt", certPEM)
		f.key[name] = write(name+".key", keyPEM)
		f.both[name] = write(name+".pem", certPEM, keyPEM)
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		must(t, err)
		f.pairs[name] = pair
	}
	pair, err := tls.LoadX509KeyPair(f.keyStore, f.keyStore)
	must(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	f.server = &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	return f
}

func joinPEM(parts [][]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// client is a client TLS configuration that trusts the test CA and
// presents the certificate of name ("" for none) when asked for one.
func (f *tlsFiles) client(t testing.TB, name string) *tls.Config {
	t.Helper()
	ca, err := os.ReadFile(f.ca)
	must(t, err)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	c := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	if name != "" {
		// Sent whatever CAs the server names: with Certificates, crypto/tls
		// would send none for rogue, whose issuer the server does not list.
		pair := f.pairs[name]
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
	}
	return c
}

// tlsPeer starts a peer with a plain and a secure client port whose client
// certificates are checked as auth says; root is the x509 super user.
func tlsPeer(t testing.TB, auth tls.ClientAuthType) (*engine.Ensemble, *tlsFiles) {
	t.Helper()
	f := newTLSFiles(t)
	cfg := peerConfig()
	cfg.SecureClientPort, cfg.SecureClientPortAddress = -1, "127.0.0.1"
	cfg.ClientTLS = f.server.Clone()
	cfg.ClientTLS.ClientAuth = auth
	cfg.X509SuperUser = rootDN
	e := startPeer(t, cfg)
	if e.SecureClientAddr() == "" || e.SecureClientAddr() == e.ClientAddr() {
		t.Fatalf("SecureClientAddr %q, ClientAddr %q", e.SecureClientAddr(), e.ClientAddr())
	}
	return e, f
}

// tlsDial opens a TLS connection to addr and completes the handshake.
func tlsDial(t testing.TB, addr string, cfg *tls.Config) *rawConn {
	t.Helper()
	d := &net.Dialer{Timeout: 10 * time.Second}
	nc, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		t.Fatalf("TLS dial of %s: %v", addr, err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawConn{t: t, nc: nc}
}

// tlsRefused reports the error with which the server at addr refuses a TLS
// client configured by cfg: in the handshake, or (TLS 1.3, where the
// server checks the client's certificate after the client finished) at
// the first read after a connect request. nil: a session opened.
func tlsRefused(t testing.TB, addr string, cfg *tls.Config) error {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	must(t, err)
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	tc := tls.Client(nc, cfg)
	if err := tc.Handshake(); err != nil {
		return err
	}
	req := jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16), HasReadOnly: true}
	if _, err := tc.Write(jute.AppendFrame(nil, &req)); err != nil {
		return err
	}
	_, err = jute.ReadFrame(tc, nil, 1<<20)
	return err
}

// TestSecureTLSGoZK: go-zookeeper, dialing TLS with bob's certificate,
// creates, reads and writes nodes, among them one only x509:bob may use.
func TestSecureTLSGoZK(t *testing.T) {
	e, f := tlsPeer(t, tls.RequireAndVerifyClientCert)
	cc := f.client(t, "bob")
	dialer := func(network, address string, timeout time.Duration) (net.Conn, error) {
		return tls.DialWithDialer(&net.Dialer{Timeout: timeout}, network, address, cc)
	}
	c, events, err := gozk.Connect([]string{e.SecureClientAddr()}, 4*time.Second, gozk.WithDialer(dialer), gozk.WithLogger(quiet{}))
	must(t, err)
	t.Cleanup(c.Close)
	waitState(t, events, gozk.StateHasSession)
	_, err = c.Create("/g", []byte("one"), 0, gozk.WorldACL(gozk.PermAll))
	must(t, err)
	_, err = c.Set("/g", []byte("two"), 0)
	must(t, err)
	if data, stat, err := c.Get("/g"); err != nil || string(data) != "two" || stat.Version != 1 {
		t.Fatalf("get /g: %q %+v %v", data, stat, err)
	}
	_, err = c.Create("/g/bob", []byte("b"), 0, []gozk.ACL{{Perms: gozk.PermAll, Scheme: "x509", ID: bobDN}})
	must(t, err)
	if data, _, err := c.Get("/g/bob"); err != nil || string(data) != "b" {
		t.Fatalf("bob's get of his x509 node: %q %v", data, err)
	}
	plain, _ := dial(t, e.ClientAddr())
	_, _, err = plain.Get("/g/bob")
	wantErr(t, err, gozk.ErrNoAuth)
	if data, _, err := plain.Get("/g"); err != nil || string(data) != "two" {
		t.Fatalf("plain get of /g: %q %v", data, err)
	}
}

// TestSecureTLSIdentity: a client whose certificate verified is
// {x509, its subject DN} beside its ip identity; x509 ACL entries (and
// the auth entry, which expands to it) match it and no plain client; the
// x509 super user passes every check.
func TestSecureTLSIdentity(t *testing.T) {
	e, f := tlsPeer(t, tls.RequireAndVerifyClientCert)
	bob := tlsDial(t, e.SecureClientAddr(), f.client(t, "bob"))
	bob.connect(jute.ConnectRequest{})
	if got := fmt.Sprint(whoAmI(bob)); got != "[ip 127.0.0.1 x509 "+bobDN+"]" {
		t.Fatalf("whoAmI of bob over TLS: %s", got)
	}
	bobOnly := []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "x509", ID: bobDN}}}
	bob.ok(jute.OpCreate, &jute.CreateRequest{Path: "/x", Data: []byte("x"), ACL: bobOnly}, nil)
	bob.ok(jute.OpGetData, &jute.PathWatchRequest{Path: "/x"}, nil)
	bob.ok(jute.OpCreate, &jute.CreateRequest{Path: "/a", ACL: []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "auth"}}}}, nil)
	var acl jute.GetACLResponse
	bob.ok(jute.OpGetACL, &jute.PathRequest{Path: "/a"}, &acl)
	if got := fmt.Sprint(acl.ACL); got != "[{31 {x509 "+bobDN+"}}]" {
		t.Fatalf("the auth ACL became %s, want x509:%s", got, bobDN)
	}
	plain := rawDial(t, e.ClientAddr())
	plain.connect(jute.ConnectRequest{})
	if h, _, _ := plain.call(jute.OpGetData, &jute.PathWatchRequest{Path: "/x"}); h.Err != int32(zkerr.CodeNoAuth) {
		t.Fatalf("getData of x509:bob's node on the plain port: error %d, want NOAUTH", h.Err)
	}
	root := tlsDial(t, e.SecureClientAddr(), f.client(t, "root"))
	root.connect(jute.ConnectRequest{})
	who := fmt.Sprint(whoAmI(root))
	if !strings.Contains(who, "x509 "+rootDN) || !strings.Contains(who, "super") {
		t.Fatalf("whoAmI of the x509 super user: %s", who)
	}
	root.ok(jute.OpSetData, &jute.SetDataRequest{Path: "/x", Data: []byte("y"), Version: -1}, nil)
	root.ok(jute.OpGetData, &jute.PathWatchRequest{Path: "/a"}, nil)
}

// TestSecureTLSClientAuthNeed: with ssl.clientAuth need (ZooKeeper's
// default) a client without a certificate, or with one the trust store
// did not issue, is refused in the TLS handshake, and one that speaks no
// TLS is closed; the plain port and other TLS clients go on, also while a
// client that connected to the secure port sends nothing.
func TestSecureTLSClientAuthNeed(t *testing.T) {
	e, f := tlsPeer(t, tls.RequireAndVerifyClientCert)
	for _, name := range []string{"", "rogue"} {
		if err := tlsRefused(t, e.SecureClientAddr(), f.client(t, name)); err == nil {
			t.Errorf("client certificate %q: a session opened", name)
		}
	}
	// A client that speaks no TLS is closed (ZooKeeper's handshake fails);
	// one that connects and says nothing holds up no other client.
	clear := rawDial(t, e.SecureClientAddr())
	clear.write(jute.AppendFrame(nil, &jute.ConnectRequest{TimeOut: 4000, Passwd: make([]byte, 16)}))
	if !clear.closed() {
		t.Fatal("a plaintext client's connection to the secure port stays open")
	}
	rawDial(t, e.SecureClientAddr())
	plain := rawDial(t, e.ClientAddr())
	plain.connect(jute.ConnectRequest{})
	if got := fmt.Sprint(whoAmI(plain)); got != "[ip 127.0.0.1]" {
		t.Fatalf("whoAmI on the plain port: %s", got)
	}
	if err := tlsRefused(t, e.SecureClientAddr(), f.client(t, "bob")); err != nil {
		t.Fatalf("bob after the refusals: %v", err)
	}
}

// TestSecureTLSClientAuthWant: with want, a client without a certificate
// opens a session with no x509 identity (ZooKeeper keeps its connection);
// one with a certificate gets its identity; an untrusted one is refused.
// zk and ZooKeeper 3.8 alike.
func TestSecureTLSClientAuthWant(t *testing.T) {
	onBoth(t, tls.VerifyClientCertIfGiven, "want", func(t *testing.T, secure, _ string, f *tlsFiles) {
		anon := tlsDial(t, secure, f.client(t, ""))
		anon.connect(jute.ConnectRequest{})
		if got := fmt.Sprint(whoAmI(anon)); got != "[ip 127.0.0.1]" {
			t.Fatalf("whoAmI without a certificate: %s", got)
		}
		createRaw(anon, "/anon", 0)
		bob := tlsDial(t, secure, f.client(t, "bob"))
		bob.connect(jute.ConnectRequest{})
		if got := fmt.Sprint(whoAmI(bob)); got != "[ip 127.0.0.1 x509 "+bobDN+"]" {
			t.Fatalf("whoAmI of bob: %s", got)
		}
		if err := tlsRefused(t, secure, f.client(t, "rogue")); err == nil {
			t.Fatal("an untrusted certificate opened a session")
		}
	})
}

// TestSecureTLSClientAuthNone: with none the server asks for no
// certificate, so a client that has one sends none and is only its ip;
// zk and ZooKeeper 3.8 alike.
func TestSecureTLSClientAuthNone(t *testing.T) {
	onBoth(t, tls.NoClientCert, "none", func(t *testing.T, secure, _ string, f *tlsFiles) {
		asked := false
		cc := f.client(t, "")
		cc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			asked = true
			pair := f.pairs["bob"]
			return &pair, nil
		}
		r := tlsDial(t, secure, cc)
		r.connect(jute.ConnectRequest{})
		if got := fmt.Sprint(whoAmI(r)); got != "[ip 127.0.0.1]" {
			t.Fatalf("whoAmI: %s", got)
		}
		if asked {
			t.Fatal("the server asked for a client certificate")
		}
	})
}

// TestSecureTLSAddAuthX509: an auth packet of scheme x509 (zkCli's
// "addauth x509 ...") is ZooKeeper's X509AuthenticationProvider reading
// the connection's certificate, whatever the packet's data: over TLS with
// a verified certificate it succeeds and the identity stays the
// certificate's; on the plain port it is AUTHFAILED and the connection
// closes. zk and ZooKeeper 3.8 alike.
func TestSecureTLSAddAuthX509(t *testing.T) {
	onBoth(t, tls.RequireAndVerifyClientCert, "need", func(t *testing.T, secure, plain string, f *tlsFiles) {
		bob := tlsDial(t, secure, f.client(t, "bob"))
		bob.connect(jute.ConnectRequest{})
		h, _, _, err := bob.tryCall(jute.OpAuth, &jute.AuthPacket{Scheme: "x509", Auth: []byte(rootDN)})
		if err != nil || h.Err != 0 {
			t.Fatalf("addauth x509 over TLS: error %d, %v; want success", h.Err, err)
		}
		if got := fmt.Sprint(whoAmI(bob)); got != "[ip 127.0.0.1 x509 "+bobDN+"]" {
			t.Fatalf("whoAmI after addauth x509: %s", got)
		}
		p := rawDial(t, plain)
		p.connect(jute.ConnectRequest{})
		h, _, _, err = p.tryCall(jute.OpAuth, &jute.AuthPacket{Scheme: "x509", Auth: []byte(bobDN)})
		if err != nil || h.Err != int32(zkerr.CodeAuthFailed) || !p.closed() {
			t.Fatalf("addauth x509 on the plain port: error %d, %v; want AUTHFAILED and a close", h.Err, err)
		}
	})
}

// onBoth runs check against a zk peer whose secure port checks client
// certificates as auth says and against a real ZooKeeper 3.8 with
// ssl.clientAuth=zkAuth: the secure and plain addresses and the PKI.
func onBoth(t *testing.T, auth tls.ClientAuthType, zkAuth string, check func(t *testing.T, secure, plain string, f *tlsFiles)) {
	t.Run("zk", func(t *testing.T) {
		e, f := tlsPeer(t, auth)
		check(t, e.SecureClientAddr(), e.ClientAddr(), f)
	})
	t.Run("ZooKeeper", func(t *testing.T) {
		f := newTLSFiles(t)
		secure, plain := startRealZKTLS(t, f, zkAuth)
		check(t, secure, plain, f)
	})
}

// TestSecureTLSFourLetterWords: ruok over the secure port answers imok,
// as ZooKeeper's Netty factory answers four-letter words after the
// handshake.
func TestSecureTLSFourLetterWords(t *testing.T) {
	e, f := tlsPeer(t, tls.RequireAndVerifyClientCert)
	r := tlsDial(t, e.SecureClientAddr(), f.client(t, "bob"))
	r.write([]byte("ruok"))
	b, err := io.ReadAll(r.nc)
	if string(b) != "imok" {
		t.Fatalf("ruok over TLS: %q, %v", b, err)
	}
}

// TestSecureTLSOnly: a peer with the secure port alone (ClientPort 0)
// serves TLS clients and no plain one; a peer without it has no secure
// address.
func TestSecureTLSOnly(t *testing.T) {
	f := newTLSFiles(t)
	cfg := peerConfig()
	cfg.ClientPort, cfg.SecureClientPort, cfg.SecureClientPortAddress, cfg.ClientTLS = 0, -1, "127.0.0.1", f.server
	cfg.FourLetterWords = []string{"*"}
	e := startPeer(t, cfg)
	if e.ClientAddr() != "" || e.SecureClientAddr() == "" {
		t.Fatalf("ClientAddr %q, SecureClientAddr %q", e.ClientAddr(), e.SecureClientAddr())
	}
	// conf prints a port that is off as -1, as ZooKeeper's does.
	w := tlsDial(t, e.SecureClientAddr(), f.client(t, "bob"))
	w.write([]byte("conf"))
	conf, _ := io.ReadAll(w.nc)
	_, port, _ := net.SplitHostPort(e.SecureClientAddr())
	if !strings.Contains(string(conf), "clientPort=-1\nsecureClientPort="+port+"\n") {
		t.Fatalf("conf of a peer with the secure port only:\n%s", conf)
	}
	r := tlsDial(t, e.SecureClientAddr(), f.client(t, "bob"))
	r.connect(jute.ConnectRequest{})
	createRaw(r, "/only", 0)
	if plain := startPeer(t, peerConfig()); plain.SecureClientAddr() != "" {
		t.Fatalf("SecureClientAddr of a peer without it: %q", plain.SecureClientAddr())
	}
}

// TestInteropKazooTLS runs kazoo over TLS with bob's certificate: create,
// get, and a node with an x509 ACL that a plain client may not read.
func TestInteropKazooTLS(t *testing.T) {
	needTool(t, python, "-c", "import kazoo")
	e, f := tlsPeer(t, tls.RequireAndVerifyClientCert)
	out, err := exec.Command(python, "-c", kazooTLSScript, e.SecureClientAddr(), e.ClientAddr(),
		f.ca, f.cert["bob"], f.key["bob"]).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "kazoo tls ok") {
		t.Fatalf("kazoo: %v\n%s", err, out)
	}
}

const kazooTLSScript = `
import sys
from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.security import make_acl
secure, plainaddr, ca, cert, key = sys.argv[1:6]
zk = KazooClient(hosts=secure, timeout=10, use_ssl=True, verify_certs=True, ca=ca, certfile=cert, keyfile=key)
zk.start(timeout=15)
zk.create("/kt", b"kt")
data, stat = zk.get("/kt")
assert data == b"kt", data
zk.create("/kt/bob", b"b", acl=(make_acl("x509", "CN=bob,O=zk-test", all=True),))
data, _ = zk.get("/kt/bob")
assert data == b"b", data
plain = KazooClient(hosts=plainaddr, timeout=10)
plain.start(timeout=15)
try:
    plain.get("/kt/bob")
    raise SystemExit("a plain client read x509:bob's node")
except NoAuthError:
    pass
plain.stop(); plain.close()
zk.stop(); zk.close()
print("kazoo tls ok")
`

// TestInteropZkCliTLS runs zkCli.sh (ZooKeeper 3.8's Java client, Netty
// socket) over TLS with bob's PEM key store: whoami shows the x509
// identity; create and get work.
func TestInteropZkCliTLS(t *testing.T) {
	needTool(t, zkCli)
	e, f := tlsPeer(t, tls.RequireAndVerifyClientCert)
	cmd := exec.Command(zkCli, "-server", e.SecureClientAddr())
	// Debian's zookeeper.jar lists netty-handler but not the netty-codec
	// and netty-resolver it needs in its manifest: without them the Netty
	// socket fails (NoClassDefFoundError, ConnectionLoss). A -cp in
	// CLIENT_JVMFLAGS comes after zkCli.sh's and wins.
	cmd.Env = append(os.Environ(), "CLIENT_JVMFLAGS="+strings.Join([]string{
		"-cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/netty-codec.jar:/usr/share/java/netty-resolver.jar",
		"-Dzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
		"-Dzookeeper.client.secure=true",
		"-Dzookeeper.ssl.keyStore.location=" + f.both["bob"], "-Dzookeeper.ssl.keyStore.type=PEM",
		"-Dzookeeper.ssl.trustStore.location=" + f.ca, "-Dzookeeper.ssl.trustStore.type=PEM",
	}, " "))
	cmd.Stdin = strings.NewReader("whoami\ncreate /tls x\nget /tls\nquit\n")
	out, err := cmd.CombinedOutput()
	text := string(out)
	if err != nil {
		t.Fatalf("zkCli.sh: %v\n%s", err, text)
	}
	for _, want := range []string{"x509: " + bobDN, "Created /tls", "\nx\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("zkCli output lacks %q", want)
		}
	}
	for _, bad := range []string{"Exception", "ConnectionLoss", "SSLHandshake"} {
		if strings.Contains(text, bad) {
			t.Errorf("zkCli output has %q", bad)
		}
	}
	if t.Failed() {
		t.Logf("zkCli output:\n%s", text)
	}
}

// TestSecureTLSLikeZooKeeper runs the same checks against zk and against
// a real ZooKeeper 3.8 (Netty, X509AuthenticationProvider, PEM stores,
// clientAuth need): what whoAmI lists for bob and for the super user,
// x509 ACLs, refused handshakes, ruok over TLS, and identities after a
// session moves between the ports.
func TestSecureTLSLikeZooKeeper(t *testing.T) {
	onBoth(t, tls.RequireAndVerifyClientCert, "need", func(t *testing.T, secure, plain string, f *tlsFiles) {
		checkSecurePort(t, secure, plain, f)
		checkSecureReattach(t, secure, plain, f)
	})
}

func checkSecurePort(t *testing.T, secure, plain string, f *tlsFiles) {
	for _, name := range []string{"", "rogue"} {
		if err := tlsRefused(t, secure, f.client(t, name)); err == nil {
			t.Errorf("client certificate %q: a session opened", name)
		}
	}
	bob := tlsDial(t, secure, f.client(t, "bob"))
	bob.connect(jute.ConnectRequest{})
	if got := fmt.Sprint(whoAmI(bob)); got != "[ip 127.0.0.1 x509 "+bobDN+"]" {
		t.Errorf("whoAmI of bob: %s", got)
	}
	bobOnly := []jute.ACL{{Perms: 31, ID: jute.Id{Scheme: "x509", ID: bobDN}}}
	bob.ok(jute.OpCreate, &jute.CreateRequest{Path: "/like", Data: []byte("x"), ACL: bobOnly}, nil)
	p := rawDial(t, plain)
	p.connect(jute.ConnectRequest{})
	if h, _, _ := p.call(jute.OpGetData, &jute.PathWatchRequest{Path: "/like"}); h.Err != int32(zkerr.CodeNoAuth) {
		t.Errorf("plain getData of x509:bob's node: error %d, want NOAUTH", h.Err)
	}
	root := tlsDial(t, secure, f.client(t, "root"))
	root.connect(jute.ConnectRequest{})
	who := whoAmI(root)
	if !slices.Contains(who, "x509 "+rootDN) || !slices.Contains(who, "super ") || !slices.Contains(who, "ip 127.0.0.1") || len(who) != 3 {
		t.Errorf("whoAmI of the super user: %q", who)
	}
	root.ok(jute.OpDelete, &jute.PathVersionRequest{Path: "/like", Version: -1}, nil)
	r := tlsDial(t, secure, f.client(t, "bob"))
	r.write([]byte("ruok"))
	if b, err := io.ReadAll(r.nc); string(b) != "imok" {
		t.Errorf("ruok over TLS: %q, %v", b, err)
	}
}

// checkSecureReattach: the x509 identity belongs to a connection, as
// ZooKeeper's authInfo: a session opened over TLS and re-attached on the
// plain port is only its ip there, and one opened on the plain port and
// re-attached over TLS is bob on that connection.
func checkSecureReattach(t *testing.T, secure, plain string, f *tlsFiles) {
	bob := tlsDial(t, secure, f.client(t, "bob"))
	sess := bob.connect(jute.ConnectRequest{})
	p := rawDial(t, plain)
	p.connect(jute.ConnectRequest{SessionID: sess.SessionID, Passwd: sess.Passwd})
	if got := fmt.Sprint(whoAmI(p)); got != "[ip 127.0.0.1]" {
		t.Errorf("whoAmI of the session re-attached on the plain port: %s", got)
	}
	p2 := rawDial(t, plain)
	ps := p2.connect(jute.ConnectRequest{})
	back := tlsDial(t, secure, f.client(t, "bob"))
	back.connect(jute.ConnectRequest{SessionID: ps.SessionID, Passwd: ps.Passwd})
	if got := fmt.Sprint(whoAmI(back)); got != "[ip 127.0.0.1 x509 "+bobDN+"]" {
		t.Errorf("whoAmI of the session re-attached over TLS: %s", got)
	}
}

// startRealZKTLS starts a standalone ZooKeeper 3.8 with a plain and a
// secure client port, f's key and trust stores, ssl.clientAuth, and root
// as its x509 super user, and the zoo.cfg lines extra; it returns the
// secure and plain addresses.
func startRealZKTLS(t *testing.T, f *tlsFiles, clientAuth string, extra ...string) (secure, plain string) {
	t.Helper()
	stores := fmt.Sprintf(`ssl.keyStore.location=%s
ssl.keyStore.type=PEM
ssl.trustStore.location=%s
ssl.trustStore.type=PEM
X509AuthenticationProvider.superUser=%s
ssl.clientAuth=%s
`, f.keyStore, f.ca, rootDN, clientAuth)
	return startRealZKSecure(t, stores+strings.Join(extra, ""))
}

// startRealZKSecure starts a standalone ZooKeeper 3.8 (Netty) with a plain
// and a secure client port, its TLS set by the zoo.cfg lines tlsLines; it
// returns the secure and plain addresses.
func startRealZKSecure(t *testing.T, tlsLines string) (secure, plain string) {
	t.Helper()
	// Debian's zookeeper.jar lacks netty-codec and netty-resolver in its
	// manifest; TLS needs them.
	jars := append(slices.Clone(zkJars), "/usr/share/java/netty-codec.jar", "/usr/share/java/netty-resolver.jar")
	for _, p := range append([]string{"/usr/bin/java"}, jars...) {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing: the real-ZooKeeper tests need Debian's zookeeper (apt-get install -y zookeeper, as .ci/run does)", p)
		}
	}
	dir := t.TempDir()
	plain, secure = fmt.Sprintf("127.0.0.1:%d", freePort(t)), fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := fmt.Sprintf(`tickTime=500
dataDir=%s
clientPort=%s
clientPortAddress=127.0.0.1
secureClientPort=%s
secureClientPortAddress=127.0.0.1
admin.enableServer=false
serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory
authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider
%s`, dir, strings.TrimPrefix(plain, "127.0.0.1:"), strings.TrimPrefix(secure, "127.0.0.1:"), tlsLines)
	runZooCfg(t, dir, cfg, jars, "-Dzookeeper.4lw.commands.whitelist=*")
	waitZK(t, plain)
	waitListening(t, secure)
	return secure, plain
}

// waitListening waits until a socket listens on addr's port: ZooKeeper
// starts its secure port after its plain one serves (ZooKeeperServerMain
// starts the two factories in turn), so under load a test could dial the
// secure port before it was bound. It reads the kernel's socket tables
// rather than dial, since ZooKeeper counts a connection that makes no
// handshake as a failed authentication (zk_auth_failed_count).
func waitListening(t testing.TB, addr string) {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	must(t, err)
	n, err := strconv.Atoi(port)
	must(t, err)
	// /proc/net/tcp{,6}: "sl local_address rem_address st ...", the local
	// port in hex after a colon, st 0A for LISTEN.
	local := fmt.Sprintf(":%04X", n)
	deadline := time.Now().Add(90 * time.Second)
	for {
		for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
			b, _ := os.ReadFile(table)
			for _, line := range strings.Split(string(b), "\n") {
				f := strings.Fields(line)
				if len(f) > 3 && strings.HasSuffix(f[1], local) && f[3] == "0A" {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("ZooKeeper's secure port %s did not listen within 90s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runZooCfg writes cfg as dir's zoo.cfg and runs a ZooKeeper server from it
// with jars and the JVM flags, its output in dir's zk.log; it is killed at
// cleanup, and a failed test prints its warnings.
func runZooCfg(t *testing.T, dir, cfg string, jars []string, flags ...string) {
	t.Helper()
	must(t, os.WriteFile(filepath.Join(dir, "zoo.cfg"), []byte(cfg), 0o644))
	args := append([]string{"-Xmx256m"}, flags...)
	args = append(args, "-cp", strings.Join(jars, ":"), "org.apache.zookeeper.server.quorum.QuorumPeerMain", filepath.Join(dir, "zoo.cfg"))
	cmd := exec.Command("/usr/bin/java", args...)
	logf, err := os.Create(filepath.Join(dir, "zk.log"))
	must(t, err)
	cmd.Stdout, cmd.Stderr = logf, logf
	must(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
		if t.Failed() {
			logZKWarnings(t, 1, logf.Name())
		}
	})
}

// TestEnforceAuthX509: with x509 enforced and clientAuth want, a TLS
// client without a certificate (and a plain one) is refused
// SESSIONCLOSEDREQUIRESASLAUTH; one with a verified certificate is served.
func TestEnforceAuthX509(t *testing.T) {
	f := newTLSFiles(t)
	cfg := peerConfig()
	cfg.SecureClientPort, cfg.SecureClientPortAddress = -1, "127.0.0.1"
	cfg.ClientTLS = f.server.Clone()
	cfg.ClientTLS.ClientAuth = tls.VerifyClientCertIfGiven
	cfg.EnforceAuthSchemes = []string{"x509"}
	e := startPeer(t, cfg)
	for name, r := range map[string]*rawConn{
		"TLS without a certificate": tlsDial(t, e.SecureClientAddr(), f.client(t, "")),
		"plain":                     rawDial(t, e.ClientAddr()),
	} {
		r.connect(jute.ConnectRequest{})
		if h, _, _ := r.call(jute.OpGetData, &jute.PathWatchRequest{Path: "/"}); h.Err != int32(zkerr.CodeSessionClosedRequireSASLAuth) || !r.closed() {
			t.Fatalf("%s: error %d, want SESSIONCLOSEDREQUIRESASLAUTH and a close", name, h.Err)
		}
	}
	bob := tlsDial(t, e.SecureClientAddr(), f.client(t, "bob"))
	bob.connect(jute.ConnectRequest{})
	createRaw(bob, "/x509-only", 0)
}
