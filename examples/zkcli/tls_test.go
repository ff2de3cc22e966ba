package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/testpki"
)

// tlsDir holds a test PKI as PEM stores: ca.pem (the CA), server.pem (a
// key store for 127.0.0.1), client.pem (CN=client), and other.pem, a CA
// that issued none of them.
type tlsDir struct {
	dir    string
	ca     *testpki.CA
	server tls.Certificate
}

func newTLSDir(t *testing.T) *tlsDir {
	d := &tlsDir{dir: t.TempDir(), ca: testpki.NewCA(t, "zkcli test CA")}
	d.write(t, "ca.pem", d.ca.CertPEM())
	d.write(t, "other.pem", testpki.NewCA(t, "other CA").CertPEM())
	cert, key := d.ca.Issue(t, "server", nil, []net.IP{net.ParseIP("127.0.0.1")})
	d.write(t, "server.pem", cert, d.ca.CertPEM(), key)
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	d.server = pair
	cert, key = d.ca.IssueSubject(t, pkix.Name{CommonName: "client"}, nil, nil)
	d.write(t, "client.pem", cert, key)
	return d
}

// write writes the parts to the file name of d and returns its path.
func (d *tlsDir) write(t *testing.T, name string, parts ...[]byte) string {
	t.Helper()
	path := filepath.Join(d.dir, name)
	if err := os.WriteFile(path, bytes.Join(parts, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// props writes a client configuration of the lines (store names relative
// to d) and returns its path.
func (d *tlsDir) props(t *testing.T, name string, lines ...string) string {
	t.Helper()
	text := strings.ReplaceAll(strings.Join(lines, "\n"), "DIR/", d.dir+"/")
	return d.write(t, name, []byte(text+"\n"))
}

// peer starts a zk peer whose secure client port presents cert and checks
// client certificates as auth says; it returns the secure address.
func (d *tlsDir) peer(t *testing.T, auth tls.ClientAuthType, cert tls.Certificate) string {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(d.ca.Cert)
	ens, err := zk.NewEnsemble(zk.Config{DataDir: t.TempDir(), ClientPort: -1, ClientPortAddress: "127.0.0.1",
		SecureClientPort: -1, SecureClientPortAddress: "127.0.0.1",
		ClientTLS: &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: auth}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ens.Close() })
	return ens.SecureClientAddr()
}

const nettySecure = "zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty\nzookeeper.client.secure=true"

// zkcli runs the program with args and the script, and returns its exit
// code and its output (stdout then stderr).
func zkcli(script string, args ...string) (int, string) {
	var out, errw bytes.Buffer
	code := run(args, strings.NewReader(script), &out, &errw)
	return code, out.String() + errw.String()
}

// mutualTLSScript checks a session whose client certificate is CN=client.
const mutualTLSScript = "create /tls x\nget /tls\nwhoami\nquit\n"

func checkMutual(t *testing.T, what string, code int, out string) {
	t.Helper()
	for _, want := range []string{"Created /tls\n", "\nx\n", "Auth scheme: User\n", "x509: CN=client\n"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("%s: exit %d, output lacks %q:\n%s", what, code, want, out)
			return
		}
	}
}

// TestClientConfigurationTLS: -client-configuration connects over TLS as
// zkCli's does: with a key store to a port that needs a client
// certificate (the session is x509 CN=client), with a trust store only to
// one that asks for none; connect keeps the configuration; a trust store
// of another CA, or a certificate for another host with
// hostnameVerification on, fails the connection.
func TestClientConfigurationTLS(t *testing.T) {
	d := newTLSDir(t)
	mutualCf := d.props(t, "mutual.properties", nettySecure, "zookeeper.ssl.keyStore.location=DIR/client.pem",
		"zookeeper.ssl.trustStore.location=DIR/ca.pem")
	need := d.peer(t, tls.RequireAndVerifyClientCert, d.server)
	code, out := zkcli(mutualTLSScript, "-server", need, "-client-configuration", mutualCf)
	checkMutual(t, "key and trust store", code, out)
	code, out = zkcli("connect "+d.peer(t, tls.RequireAndVerifyClientCert, d.server)+"\n"+mutualTLSScript,
		"-data", t.TempDir(), "-client-configuration", mutualCf)
	checkMutual(t, "connect from the embedded peer", code, out)

	trustCf := d.props(t, "trust.properties", nettySecure, "zookeeper.ssl.trustStore.location=DIR/ca.pem")
	if code, out := zkcli("", "-server", need, "-client-configuration", trustCf, "ls", "/"); code != 1 {
		t.Errorf("no client certificate for a port that needs one: exit %d:\n%s", code, out)
	}
	none := d.peer(t, tls.NoClientCert, d.server)
	if code, out := zkcli("", "-server", none, "-client-configuration", trustCf, "ls", "/"); code != 0 || !strings.HasSuffix(out, "[zookeeper]\n") {
		t.Errorf("trust store only: exit %d:\n%s", code, out)
	}
	otherCf := d.props(t, "other.properties", nettySecure, "zookeeper.ssl.trustStore.location=DIR/other.pem")
	if code, out := zkcli("", "-server", none, "-client-configuration", otherCf, "ls", "/"); code != 1 || !strings.Contains(out, "certificate signed by unknown authority") {
		t.Errorf("a trust store of another CA: exit %d:\n%s", code, out)
	}

	cert, key := d.ca.Issue(t, "server", []string{"elsewhere.invalid"}, nil)
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	elsewhere := d.peer(t, tls.NoClientCert, pair)
	if code, out := zkcli("", "-server", elsewhere, "-client-configuration", trustCf, "ls", "/"); code != 1 || !strings.Contains(out, "hostnameVerification") {
		t.Errorf("a certificate for another host: exit %d:\n%s", code, out)
	}
	offCf := d.props(t, "off.properties", nettySecure, "zookeeper.ssl.trustStore.location=DIR/ca.pem", "zookeeper.ssl.hostnameVerification=false")
	if code, out := zkcli("", "-server", elsewhere, "-client-configuration", offCf, "ls", "/"); code != 0 {
		t.Errorf("a certificate for another host, hostnameVerification=false: exit %d:\n%s", code, out)
	}
}

// TestClientConfigurationErrors: a file that cannot be read or used is
// reported before any connection, with zkCli's exit code: 2 (its
// INVALID_INVOCATION, for what ZKClientConfig cannot read; zk adds the
// stores and TLS keys, which zkCli reads at each connection attempt), 1
// for a socket class (zkCli dies of the exception).
func TestClientConfigurationErrors(t *testing.T) {
	d := newTLSDir(t)
	for _, c := range []struct {
		name, file string
		code       int
		want       string
	}{
		{"a missing file", filepath.Join(d.dir, "none.properties"), 2, "Error while processing " + filepath.Join(d.dir, "none.properties")},
		{"a malformed file", d.props(t, "bad.properties", `zookeeper.client.secure=\u12`), 2, "bad.properties line 1: malformed"},
		{"a missing store", d.props(t, "nostore.properties", nettySecure, "zookeeper.ssl.keyStore.location=DIR/none.pem"), 2, "zookeeper.ssl.keyStore: open " + filepath.Join(d.dir, "none.pem")},
		{"an unknown socket", d.props(t, "socket.properties", "zookeeper.clientCnxnSocket=a.Socket"), 1, "Couldn't instantiate a.Socket"},
		{"secure on NIO", d.props(t, "nio.properties", "zookeeper.client.secure=true"), 2, "needs zookeeper.clientCnxnSocket"},
	} {
		for _, args := range [][]string{{"-server", "127.0.0.1:1", "ls", "/"}, {"-data", t.TempDir()}} {
			code, out := zkcli("quit\n", append([]string{"-client-configuration", c.file}, args...)...)
			if code != c.code || !strings.Contains(out, c.want) || strings.Contains(out, "Connecting to") {
				t.Errorf("%s %q: exit %d, want %d and %q before connecting:\n%s", c.name, args, code, c.code, c.want, out)
			}
		}
	}
}

// TestClientConfigurationRealZooKeeper: the same session against a real
// ZooKeeper 3.8's secure client port (Netty, PEM stores, client
// certificates needed).
func TestClientConfigurationRealZooKeeper(t *testing.T) {
	t.Parallel()
	d := newTLSDir(t)
	// Debian's zookeeper.jar lacks netty-codec and netty-resolver in its
	// manifest; TLS needs them.
	jars := append(slices.Clone(zkJars), "/usr/share/java/netty-codec.jar", "/usr/share/java/netty-resolver.jar")
	for _, p := range append([]string{"/usr/bin/java"}, jars...) {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s is missing: this test needs Debian's zookeeper (apt-get install -y zookeeper)", p)
		}
	}
	dir := t.TempDir()
	plain, secure := freePort(t), freePort(t)
	runRealZK(t, dir, fmt.Sprintf(`tickTime=2000
dataDir=%s
clientPort=%d
clientPortAddress=127.0.0.1
secureClientPort=%d
secureClientPortAddress=127.0.0.1
admin.enableServer=false
serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory
authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider
ssl.keyStore.location=%s/server.pem
ssl.trustStore.location=%s/ca.pem
ssl.clientAuth=need
`, dir, plain, secure, d.dir, d.dir), jars)
	deadline := time.Now().Add(60 * time.Second)
	for !zkServing(fmt.Sprintf("127.0.0.1:%d", plain)) {
		if time.Now().After(deadline) {
			t.Fatal("ZooKeeper did not serve within 60s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Its secure port starts after the plain one serves.
	for {
		nc, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", secure), time.Second)
		if err == nil {
			nc.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ZooKeeper's secure port did not listen within 60s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cf := d.props(t, "mutual.properties", nettySecure, "zookeeper.ssl.keyStore.location=DIR/client.pem",
		"zookeeper.ssl.trustStore.location=DIR/ca.pem")
	code, out := zkcli(mutualTLSScript, "-server", fmt.Sprintf("127.0.0.1:%d", secure), "-client-configuration", cf)
	checkMutual(t, "real ZooKeeper", code, out)
	otherCf := d.props(t, "other.properties", nettySecure, "zookeeper.ssl.trustStore.location=DIR/other.pem")
	if code, out := zkcli("", "-server", fmt.Sprintf("127.0.0.1:%d", secure), "-client-configuration", otherCf, "ls", "/"); code != 1 || !strings.Contains(out, "unknown authority") {
		t.Errorf("real ZooKeeper, a trust store of another CA: exit %d:\n%s", code, out)
	}
}

// TestClientConfigurationLikeZkCli: the real zkCli 3.8 reads the same
// client configuration file and opens the same x509 session on a zk
// peer's secure port: both shells print the same whoami.
func TestClientConfigurationLikeZkCli(t *testing.T) {
	t.Parallel()
	const zkCliSh = "/usr/share/zookeeper/bin/zkCli.sh"
	if _, err := os.Stat(zkCliSh); err != nil {
		t.Fatalf("%s is missing: this test needs Debian's zookeeper (apt-get install -y zookeeper)", zkCliSh)
	}
	d := newTLSDir(t)
	cf := d.props(t, "mutual.properties", nettySecure, "zookeeper.ssl.keyStore.location=DIR/client.pem",
		"zookeeper.ssl.trustStore.location=DIR/ca.pem")
	addr := d.peer(t, tls.RequireAndVerifyClientCert, d.server)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, zkCliSh, "-server", addr, "-client-configuration", cf)
	// Debian's zookeeper.jar lists netty-handler but not the netty-codec
	// and netty-resolver its Netty socket needs (internal/wire's
	// TestInteropZkCliTLS).
	cmd.Env = append(os.Environ(), "CLIENT_JVMFLAGS=-cp /etc/zookeeper/conf:/usr/share/java/zookeeper.jar:/usr/share/java/netty-codec.jar:/usr/share/java/netty-resolver.jar")
	cmd.Stdin = strings.NewReader("whoami\nquit\n")
	real, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("zkCli.sh: %v\n%s", err, real)
	}
	_, ours := zkcli("whoami\nquit\n", "-server", addr, "-client-configuration", cf)
	const want = "Auth scheme: User\nip: 127.0.0.1\nx509: CN=client\n"
	if !strings.Contains(string(real), want) || !strings.Contains(ours, want) {
		t.Errorf("whoami, want %q\nzkCli:\n%s\nzkcli:\n%s", want, real, ours)
	}
}
