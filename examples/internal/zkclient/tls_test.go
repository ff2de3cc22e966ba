package zkclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/testpki"
)

// pki is a test CA, its certificate in dir/ca.pem, and a client key store
// dir/client.pem (CN=client) it issued.
type pki struct {
	dir string
	ca  *testpki.CA
}

func newPKI(t *testing.T) *pki {
	p := &pki{dir: t.TempDir(), ca: testpki.NewCA(t, "zkclient test CA")}
	p.write(t, "ca.pem", p.ca.CertPEM())
	cert, key := p.ca.IssueSubject(t, pkix.Name{CommonName: "client"}, nil, nil)
	p.write(t, "client.pem", cert, key)
	return p
}

func (p *pki) write(t *testing.T, name string, parts ...[]byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, []byte(strings.Join(byteStrings(parts), "")), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func byteStrings(parts [][]byte) []string {
	out := make([]string, len(parts))
	for i, b := range parts {
		out[i] = string(b)
	}
	return out
}

// peer starts a zk peer whose secure client port presents a certificate
// from p's CA named by subject, dns and ips, and checks client
// certificates as auth says; it returns the secure port's address.
func (p *pki) peer(t *testing.T, auth tls.ClientAuthType, subject string, dns []string, ips []net.IP) string {
	t.Helper()
	certPEM, keyPEM := p.ca.IssueSubject(t, pkix.Name{CommonName: subject}, dns, ips)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.ca.Cert)
	ens, err := zk.NewEnsemble(zk.Config{DataDir: t.TempDir(), ClientPort: -1, ClientPortAddress: "127.0.0.1",
		SecureClientPort: -1, SecureClientPortAddress: "127.0.0.1",
		ClientTLS: &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool, ClientAuth: auth}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ens.Close() })
	return ens.SecureClientAddr()
}

// config writes a client configuration file of the lines and reads it.
func (p *pki) config(t *testing.T, lines ...string) (*TLS, error) {
	t.Helper()
	return LoadClientConfig(p.write(t, "client.properties", []byte(strings.Join(lines, "\n")+"\n")))
}

const (
	secureNetty = "zookeeper.client.secure=true\nzookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty"
)

// connectTLS opens a session on addr with t and returns its whoAmI.
func connectTLS(t *testing.T, addr string, tlsc *TLS) ([]string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := Connect(ctx, Config{Servers: []string{addr}, SessionTimeout: 4 * time.Second, TLS: tlsc})
	if err != nil {
		return nil, err
	}
	defer cl.Close(ctx) //nolint:errcheck // test cleanup
	ids, err := cl.WhoAmI(ctx)
	var out []string
	for _, id := range ids {
		out = append(out, id.Scheme+" "+id.User)
	}
	return out, err
}

// TestTLSSession: a session over a secure client port with a client
// certificate (the server needs one: its x509 identity shows in whoAmI),
// with a trust store only (the server asks for none), and refused without
// a certificate where one is needed, and with a trust store of another CA.
func TestTLSSession(t *testing.T) {
	p := newPKI(t)
	ip := []net.IP{net.ParseIP("127.0.0.1")}
	stores := "zookeeper.ssl.keyStore.location=" + filepath.Join(p.dir, "client.pem") +
		"\nzookeeper.ssl.trustStore.location=" + filepath.Join(p.dir, "ca.pem")
	trustOnly := "zookeeper.ssl.trustStore.location=" + filepath.Join(p.dir, "ca.pem")
	mutual := p.peer(t, tls.RequireAndVerifyClientCert, "server", nil, ip)
	tlsc, err := p.config(t, secureNetty, stores)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := connectTLS(t, mutual, tlsc)
	if err != nil || !strings.Contains(strings.Join(ids, ","), "x509 CN=client") {
		t.Errorf("mutual TLS: whoAmI %q, %v", ids, err)
	}
	if tlsc, err = p.config(t, secureNetty, trustOnly); err != nil {
		t.Fatal(err)
	}
	if _, err := connectTLS(t, mutual, tlsc); err == nil {
		t.Error("no client certificate where the server needs one: a session opened")
	}
	none := p.peer(t, tls.NoClientCert, "server", nil, ip)
	if ids, err := connectTLS(t, none, tlsc); err != nil || strings.Contains(strings.Join(ids, ","), "x509") {
		t.Errorf("trust store only: whoAmI %q, %v", ids, err)
	}
	other := newPKI(t)
	if tlsc, err = other.config(t, secureNetty, "zookeeper.ssl.trustStore.location="+filepath.Join(other.dir, "ca.pem")); err != nil {
		t.Fatal(err)
	}
	if _, err := connectTLS(t, none, tlsc); !errors.Is(err, ErrTLSVerify) || !strings.Contains(err.Error(), "unknown authority") {
		t.Errorf("a trust store of another CA: %v, want ErrTLSVerify (unknown authority)", err)
	}
}

// TestTLSHostnameVerification: with ssl.hostnameVerification (the
// default) the server's certificate must name the address dialled (an IP
// SAN), or the connect string's host name (a DNS SAN), or, with no SAN,
// either in its CN; with it false, any certificate of a trusted CA does.
func TestTLSHostnameVerification(t *testing.T) {
	p := newPKI(t)
	trust := "zookeeper.ssl.trustStore.location=" + filepath.Join(p.dir, "ca.pem")
	on, err := p.config(t, secureNetty, trust)
	if err != nil {
		t.Fatal(err)
	}
	off, err := p.config(t, secureNetty, trust, "zookeeper.ssl.hostnameVerification=false")
	if err != nil {
		t.Fatal(err)
	}
	if !on.VerifyHost || off.VerifyHost {
		t.Fatalf("VerifyHost: default %v, false %v", on.VerifyHost, off.VerifyHost)
	}
	elsewhere := p.peer(t, tls.NoClientCert, "server", []string{"elsewhere.invalid"}, []net.IP{net.ParseIP("192.0.2.1")})
	if _, err := connectTLS(t, elsewhere, on); !errors.Is(err, ErrTLSVerify) || !strings.Contains(err.Error(), "hostnameVerification") {
		t.Errorf("a certificate for another host: %v, want ErrTLSVerify naming hostnameVerification", err)
	}
	if _, err := connectTLS(t, elsewhere, off); err != nil {
		t.Errorf("a certificate for another host, hostnameVerification=false: %v", err)
	}
	ok := map[string]string{
		"an IP SAN":      p.peer(t, tls.NoClientCert, "server", nil, []net.IP{net.ParseIP("127.0.0.1")}),
		"the CN, no SAN": p.peer(t, tls.NoClientCert, "127.0.0.1", nil, nil),
	}
	_, port, _ := net.SplitHostPort(p.peer(t, tls.NoClientCert, "server", []string{"localhost"}, nil))
	ok["a DNS SAN"] = net.JoinHostPort("localhost", port)
	for name, addr := range ok {
		if _, err := connectTLS(t, addr, on); err != nil {
			t.Errorf("%s (%s): %v", name, addr, err)
		}
	}
}

// TestLoadClientConfig: the keys ZKClientConfig's file sets, read as the
// Java client reads them, and a clear error for each file, key or store
// it cannot use.
func TestLoadClientConfig(t *testing.T) {
	p := newPKI(t)
	ks := "../../../internal/keystore/testdata/"
	trust := "zookeeper.ssl.trustStore.location=" + filepath.Join(p.dir, "ca.pem")
	pwFile := p.write(t, "password", []byte("zksecret\n")) // internal/keystore/testdata's
	for _, c := range []struct {
		name  string
		lines []string
		want  string // a part of the error, "" for none
		is    error
	}{
		{"a \\u escape cut short", []string{"zookeeper.client.secure=true", `x=\u00`}, "Error while processing " + filepath.Join(p.dir, "client.properties") + ": ", ErrClientConfig},
		{"an unknown socket", []string{"zookeeper.clientCnxnSocket: com.example.Socket"}, "Couldn't instantiate com.example.Socket", ErrSocketClass},
		{"secure on the NIO socket", []string{"zookeeper.client.secure=TRUE"}, "needs zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty", ErrClientConfig},
		{"an SSL context supplier", []string{secureNetty, "zookeeper.ssl.context.supplier.class=a.B"}, "cannot load a Java class", nil},
		{"TLSv1.1", []string{secureNetty, "zookeeper.ssl.protocol=TLSv1.1"}, "Java 17 disables it", nil},
		{"an unknown protocol", []string{secureNetty, "zookeeper.ssl.protocol=SSLv9"}, `"SSLv9": not TLS`, nil},
		{"a bad clientAuth", []string{secureNetty, "zookeeper.ssl.clientAuth=sometimes"}, "not none, want or need", nil},
		{"a bad handshake timeout", []string{secureNetty, "zookeeper.ssl.handshakeDetectionTimeoutMillis=5s"}, "not a number", nil},
		{"a missing key store", []string{secureNetty, "zookeeper.ssl.keyStore.location=" + filepath.Join(p.dir, "none.pem")}, "zookeeper.ssl.keyStore: open ", nil},
		{"a store type it cannot tell", []string{secureNetty, "zookeeper.ssl.trustStore.location=" + filepath.Join(p.dir, "client.properties")}, "set its type", nil},
		{"a wrong password", []string{secureNetty, "zookeeper.ssl.trustStore.location=" + ks + "trust.jks", "zookeeper.ssl.trustStore.password=wrong"}, "wrong password", nil},
		{"a missing password file", []string{secureNetty, trust, "zookeeper.ssl.trustStore.passwordPath=" + filepath.Join(p.dir, "none")}, "zookeeper.ssl.trustStore.passwordPath: open ", nil},
		{"not secure", []string{"zookeeper.client.secure=yes", "zookeeper.ssl.keyStore.location=/none"}, "", nil},
		{"secure", []string{secureNetty, "zookeeper.ssl.trustStore.location=" + ks + "trust.jks",
			"zookeeper.ssl.trustStore.password=wrong", "zookeeper.ssl.trustStore.passwordPath=" + pwFile}, "", nil},
	} {
		tlsc, err := p.config(t, c.lines...)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrClientConfig)):
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		case c.is != nil && !errors.Is(err, c.is):
			t.Errorf("%s: %v, want %v", c.name, err, c.is)
		case c.want != "" && tlsc != nil:
			t.Errorf("%s: a TLS configuration with the error", c.name)
		}
		if secure := tlsc != nil; c.want == "" && secure != (c.name == "secure") {
			t.Errorf("%s: TLS %v", c.name, secure)
		}
	}
	if _, err := LoadClientConfig(filepath.Join(p.dir, "missing.properties")); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "Error while processing") {
		t.Errorf("a missing file: %v", err)
	}
}

// TestClientVersions: the versions the Java 17 client offers for
// ssl.protocol (enabledProtocols and ciphersuites are not applied).
func TestClientVersions(t *testing.T) {
	p := newPKI(t)
	for protocol, want := range map[string][2]uint16{
		"":        {tls.VersionTLS12, tls.VersionTLS12},
		"TLSv1.2": {tls.VersionTLS12, tls.VersionTLS12},
		"TLSv1.3": {tls.VersionTLS12, tls.VersionTLS13},
		"TLS":     {tls.VersionTLS12, tls.VersionTLS13},
	} {
		tlsc, err := p.config(t, secureNetty, "zookeeper.ssl.protocol="+protocol, "zookeeper.ssl.enabledProtocols=TLSv1.3")
		if err != nil || tlsc.MinVersion != want[0] || tlsc.MaxVersion != want[1] {
			t.Errorf("ssl.protocol %q: %+v, %v", protocol, tlsc, err)
		}
	}
}

// TestWildcardCN: a certificate without SANs whose CN is "*.example.com"
// names one label in its place, as ZKHostnameVerifier.matchCN
// (matchIdentityStrict) matches it.
func TestWildcardCN(t *testing.T) {
	cert := &x509.Certificate{Subject: pkix.Name{CommonName: "*.example.com"}}
	if !namesHost(cert, "zk1.example.com") {
		t.Fatal("CN *.example.com does not name zk1.example.com; ZooKeeper's verifier accepts it")
	}
	for _, h := range []string{"a.b.example.com", "example.com", "zk1.example.org"} {
		if namesHost(cert, h) {
			t.Errorf("CN *.example.com names %s; ZooKeeper's verifier refuses it", h)
		}
	}
}
