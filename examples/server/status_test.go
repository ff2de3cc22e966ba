package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/testpki"
)

// writeStores writes a CA (ca.pem) and a server certificate it signed for
// the given names and addresses, with its key (server.pem), into dir. With
// otherCA the trust store is another CA's.
func writeStores(t *testing.T, dir string, dns []string, ips []net.IP, otherCA bool) {
	t.Helper()
	ca := testpki.NewCA(t, "status test CA")
	cert, key := ca.Issue(t, "zk", dns, ips)
	if otherCA {
		ca = testpki.NewCA(t, "another CA")
	}
	must(t, os.WriteFile(filepath.Join(dir, "ca.pem"), ca.CertPEM(), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "server.pem"), append(cert, key...), 0o600))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestStatusVerifiesAsZooKeeper: status checks a secure peer's certificate
// as ZooKeeper's trust manager does: the address it connected to, else the
// host it asked. A certificate naming only 127.0.0.1 and one naming only
// localhost both pass when status asks localhost; one naming neither fails.
func TestStatusVerifiesAsZooKeeper(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dns     []string
		ips     []net.IP
		otherCA bool
		ok      bool
	}{
		{"IP only", nil, []net.IP{net.IPv4(127, 0, 0, 1)}, false, true},
		{"name only", []string{"localhost"}, nil, false, true},
		{"neither", []string{"elsewhere.example"}, []net.IP{net.IPv4(10, 9, 8, 7)}, false, false},
		{"another CA", []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeStores(t, dir, tc.dns, tc.ips, tc.otherCA)
			port := freePort(t)
			text := fmt.Sprintf("tickTime=200\ndataDir=%[1]s/data\nadmin.enableServer=false\n"+
				"secureClientPort=%[2]d\nsecureClientPortAddress=localhost\n"+
				"ssl.keyStore.location=%[1]s/server.pem\nssl.trustStore.location=%[1]s/ca.pem\n"+
				"ssl.clientAuth=none\n", dir, port) // the peer asks status for no certificate: only status verifies
			cfg := startFromCfg(t, dir, text)
			var st strings.Builder
			err := status(cfg, &st)
			want := fmt.Sprintf("Client port found: %d. Client address: localhost. Client SSL: true.\nMode: standalone\n", port)
			switch {
			case tc.ok && (err != nil || st.String() != want):
				t.Errorf("status: %v, printed %q, want %q", err, st.String(), want)
			case !tc.ok && (err == nil || !strings.Contains(err.Error(), "certificate")):
				t.Errorf("status of a peer whose certificate it must refuse: %v, printed %q", err, st.String())
			}
		})
	}
}

// TestStatusTarget: status asks the client port, else the secure one, on
// localhost when zoo.cfg names no address, as zkServer.sh does.
func TestStatusTarget(t *testing.T) {
	for _, tc := range []struct {
		cfg    zk.Config
		port   int
		host   string
		secure bool
	}{
		{zk.Config{ClientPort: 2181}, 2181, "localhost", false},
		{zk.Config{ClientPort: 2181, ClientPortAddress: "0.0.0.0"}, 2181, "0.0.0.0", false},
		{zk.Config{SecureClientPort: 2281}, 2281, "localhost", true},
		{zk.Config{SecureClientPort: 2281, SecureClientPortAddress: "127.0.0.1"}, 2281, "127.0.0.1", true},
		{zk.Config{ClientPort: 2181, SecureClientPort: 2281}, 2181, "localhost", false},
		{zk.Config{}, 0, "localhost", true},
	} {
		port, host, secure := statusTarget(tc.cfg)
		if port != tc.port || host != tc.host || secure != tc.secure {
			t.Errorf("%+v: %d %q %t, want %d %q %t", tc.cfg, port, host, secure, tc.port, tc.host, tc.secure)
		}
	}
}
