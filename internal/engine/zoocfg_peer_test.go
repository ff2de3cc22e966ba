package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/embedzk/zk/internal/testpki"
	"github.com/embedzk/zk/zab/transport"
)

// testCA writes PEM files for a throwaway CA (internal/testpki) and the
// peer certificates it signs into dir.
type testCA struct {
	*testpki.CA
	t   *testing.T
	dir string
}

func newTestCA(t *testing.T, dir string) *testCA {
	t.Helper()
	ca := &testCA{CA: testpki.NewCA(t, "zk zoo.cfg test CA"), t: t, dir: dir}
	ca.write("ca.pem", ca.CertPEM())
	return ca
}

func (ca *testCA) write(name string, data []byte) string {
	ca.t.Helper()
	path := filepath.Join(ca.dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		ca.t.Fatal(err)
	}
	return path
}

// peer issues a certificate for the DNS name and returns it and its key,
// PEM encoded.
func (ca *testCA) peer(name string) (certPEM, keyPEM []byte) {
	ca.t.Helper()
	return ca.Issue(ca.t, name, []string{name}, nil)
}

// zooCfgPeers writes, for each of n peers, a data directory with a myid
// file and a zoo.cfg that lists every server, plus authLines(id) (which may
// write files into the peer's directory). It returns the zoo.cfg paths.
func zooCfgPeers(t *testing.T, n int, authLines func(id int, dir string) string) []string {
	t.Helper()
	ports := freePorts(t, 2*n)
	var servers strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&servers, "server.%d=127.0.0.1:%d:%d\n", i, ports[2*i-2], ports[2*i-1])
	}
	var paths []string
	for id := 1; id <= n; id++ {
		dir := t.TempDir()
		data := filepath.Join(dir, "data")
		if err := os.MkdirAll(data, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, "myid"), fmt.Appendf(nil, "%d\n", id), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := fmt.Sprintf("tickTime=100\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=2181\n%s%s",
			data, servers.String(), authLines(id, dir))
		path := filepath.Join(dir, "zoo.cfg")
		if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	return paths
}

// runZooCfgEnsemble loads each zoo.cfg and starts a peer from it as it is,
// then checks that the peers elect a leader and commit a write.
func runZooCfgEnsemble(t *testing.T, paths []string) {
	t.Helper()
	var ens []*Ensemble
	t.Cleanup(func() {
		for _, e := range ens {
			e.Close()
		}
	})
	for _, path := range paths {
		cfg, _, err := LoadZooCfg(path)
		if err != nil {
			t.Fatal(err)
		}
		e, err := NewEnsemble(cfg)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		ens = append(ens, e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, e := range ens {
		if err := e.WaitServing(ctx); err != nil {
			t.Fatal(err)
		}
	}
	leaders := 0
	for _, e := range ens {
		if e.Status().Mode == ModeLeading {
			leaders++
		}
	}
	if leaders != 1 {
		t.Fatalf("%d leaders", leaders)
	}
	s, err := ens[0].NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "/from-zoo-cfg", []byte("v")); err != nil {
		t.Fatal(err)
	}
	for i, e := range ens {
		r, err := e.NewSession(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Sync(ctx, "/"); err != nil {
			t.Fatal(err)
		}
		if data, _, err := r.Get(ctx, "/from-zoo-cfg"); err != nil || string(data) != "v" {
			t.Fatalf("peer %d: %q, %v", i+1, data, err)
		}
	}
}

// TestZooCfgEnsembleWithSecret: three zoo.cfg files naming a secret file
// are enough to run a replicated ensemble, with no code between LoadZooCfg
// and NewEnsemble.
func TestZooCfgEnsembleWithSecret(t *testing.T) {
	secretDir := t.TempDir()
	secret := filepath.Join(secretDir, "peer.secret")
	if err := os.WriteFile(secret, []byte("6b1f0c29e8d54a73b02f9e6c1d8a4357\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	runZooCfgEnsemble(t, zooCfgPeers(t, 3, func(int, string) string {
		return "quorum.auth.secret.location=" + secret + "\n"
	}))
}

// TestZooCfgEnsembleWithTLS: the same with mutual TLS from PEM files: peers
// 1 and 2 name a certificate and a key file, peer 3 one key store file with
// both; the secret is checked too.
func TestZooCfgEnsembleWithTLS(t *testing.T) {
	ca := newTestCA(t, t.TempDir())
	secret := ca.write("peer.secret", []byte("9d4e2a7b0c3f8e1d6a5b4c2f0e9d8c7b"))
	runZooCfgEnsemble(t, zooCfgPeers(t, 3, func(id int, dir string) string {
		cert, key := ca.peer(transport.PeerName(int64(id)))
		lines := "sslQuorum=true\nssl.quorum.trustStore.location=" + filepath.Join(ca.dir, "ca.pem") + "\n" +
			"ssl.quorum.trustStore.type=PEM\nquorum.auth.secret.location=" + secret + "\n"
		if id == 3 {
			store := filepath.Join(dir, "keystore.pem")
			os.WriteFile(store, append(key, cert...), 0o600)
			return lines + "ssl.quorum.keyStore.location=" + store + "\nssl.quorum.keyStore.type=PEM\n"
		}
		certFile, keyFile := filepath.Join(dir, "peer.pem"), filepath.Join(dir, "peer.key")
		os.WriteFile(certFile, cert, 0o644)
		os.WriteFile(keyFile, key, 0o600)
		return lines + "ssl.quorum.certificate.location=" + certFile + "\nssl.quorum.privateKey.location=" + keyFile + "\n"
	}))
}

// TestParseZooCfgPeerAuth: what the keys produce, and the errors of each.
func TestParseZooCfgPeerAuth(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir)
	cert, key := ca.peer(transport.PeerName(1))
	certFile, keyFile := ca.write("c.pem", cert), ca.write("k.pem", key)
	caFile := filepath.Join(dir, "ca.pem")
	secretFile := ca.write("s", []byte("6b1f0c29e8d54a73b02f9e6c1d8a4357\r\n"))
	tlsKeys := "ssl.quorum.certificate.location=" + certFile + "\nssl.quorum.privateKey.location=" + keyFile +
		"\nssl.quorum.trustStore.location=" + caFile + "\n"

	cfg, ignored, err := ParseZooCfg(strings.NewReader("quorum.auth.secret.location="+secretFile+"\n"+tlsKeys), nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(cfg.PeerSecret) != "6b1f0c29e8d54a73b02f9e6c1d8a4357" {
		t.Fatalf("secret %q: the line end must not be part of it", cfg.PeerSecret)
	}
	if cfg.PeerTLS != nil || len(ignored) != 3 {
		t.Fatalf("without sslQuorum=true the TLS files must be ignored (and said so): %v", ignored)
	}
	cfg, _, err = ParseZooCfg(strings.NewReader("sslQuorum=true\n"+tlsKeys), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.PeerTLS; c == nil || len(c.Certificates) != 1 || c.RootCAs == nil || c.ClientCAs == nil {
		t.Fatalf("PeerTLS %+v", cfg.PeerTLS)
	}
	bad := map[string]string{
		"sslQuorum=yes":    "sslQuorum",
		"sslQuorum=true\n": "needs ssl.quorum.certificate.location",
		"sslQuorum=true\nssl.quorum.keyStore.location=" + keyFile + "\nssl.quorum.certificate.location=" + certFile:                            "not both",
		"sslQuorum=true\nssl.quorum.certificate.location=" + certFile + "\nssl.quorum.privateKey.location=" + keyFile:                          "needs ssl.quorum.trustStore.location",
		"sslQuorum=true\nssl.quorum.keyStore.location=" + keyFile + "\nssl.quorum.trustStore.location=" + caFile:                               "ssl.quorum.keyStore.location",
		"sslQuorum=true\n" + strings.Replace(tlsKeys, caFile, keyFile, 1):                                                                      "no trusted certificate",
		"sslQuorum=true\nssl.quorum.keyStore.location=" + keyFile + "\nssl.quorum.keyStore.type=JKS\nssl.quorum.trustStore.location=" + caFile: "PKCS12",
		"ssl.quorum.keyStore.type=BCFKS": "zk reads PEM, JKS and PKCS12",
		"sslQuorum=true\n" + tlsKeys + "ssl.quorum.trustStore.passwordPath=" + dir + "/no\n": "passwordPath",
		"quorum.auth.secret.location=" + dir + "/no":                                         "no such file",
	}
	for text, want := range bad {
		_, _, err := ParseZooCfg(strings.NewReader(text), nil)
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want ErrInvalidConfig saying %q", text, err, want)
		}
	}
}

// TestValidatePeerTLSNamesThisPeer: a certificate made for another peer is
// refused at Validate rather than at every handshake.
func TestValidatePeerTLSNamesThisPeer(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir)
	cert, key := ca.peer(transport.PeerName(2))
	text := "sslQuorum=true\nserver.1=127.0.0.1:1:1\nserver.2=127.0.0.1:2:2\ndataDir=" + dir +
		"\nssl.quorum.certificate.location=" + ca.write("c.pem", cert) +
		"\nssl.quorum.privateKey.location=" + ca.write("k.pem", key) +
		"\nssl.quorum.trustStore.location=" + filepath.Join(dir, "ca.pem") + "\n"
	cfg, _, err := ParseZooCfg(strings.NewReader(text), []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "PeerTLS") ||
		!strings.Contains(err.Error(), "zk-peer-1") {
		t.Fatalf("Validate: %v, want an error naming PeerTLS and zk-peer-1", err)
	}
	cfg.ID = 2
	if err := cfg.Validate(); err != nil {
		t.Fatalf("peer 2's own certificate: %v", err)
	}
}

// TestZooCfgWithoutPurgeIntervalDoesNotPurge: ZooKeeper purges nothing
// unless autopurge.purgeInterval is set to a positive number of hours.
func TestZooCfgWithoutPurgeIntervalDoesNotPurge(t *testing.T) {
	for _, text := range []string{"tickTime=2000\n", "autopurge.purgeInterval=0\n", "autopurge.purgeInterval=-3\n"} {
		cfg, _, err := ParseZooCfg(strings.NewReader(text), nil)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.withDefaults().PurgeInterval >= 0 {
			t.Errorf("%q: PurgeInterval %v, want purging disabled", text, cfg.withDefaults().PurgeInterval)
		}
	}
}

// snapshotsAfterWrites writes until the log holds want snapshot files, or
// until limit writes are done and patience has passed, and returns how
// many it holds.
func snapshotsAfterWrites(t *testing.T, cfg Config, want, limit int, patience time.Duration) int {
	t.Helper()
	e := openTest(t, cfg)
	defer e.Close()
	s := newSession(t, e)
	// Snapshots run beside the writes and a new one starts only once the
	// last one ended: on a loaded machine limit writes may outrun them, so
	// the writes go on for up to patience.
	start := time.Now()
	for i := 0; (i < limit || time.Since(start) < patience) && len(e.wal.Snapshots()) < want; i++ {
		mustCreate(t, s, fmt.Sprintf("/n%d", i), "x")
	}
	return len(e.wal.Snapshots())
}

// TestNoPurgeKeepsEverySnapshot: with purging disabled, as zoo.cfg's
// autopurge.purgeInterval=0, snapshots beyond SnapRetainCount stay on disk;
// with it enabled, only SnapRetainCount do.
func TestNoPurgeKeepsEverySnapshot(t *testing.T) {
	cfg := testConfig(nil, 1)
	cfg.ManualClock = false
	cfg.SnapCount = 2 // a snapshot every one or two writes
	const want, limit = 6, 2000
	cfg.FS, cfg.PurgeInterval = vfs.NewMem(), -1
	if n := snapshotsAfterWrites(t, cfg, want, limit, 30*time.Second); n < want {
		t.Fatalf("purging disabled: %d snapshot files after %d writes and 30s at least, want all of them (at least %d)", n, limit, want)
	}
	cfg.FS, cfg.PurgeInterval = vfs.NewMem(), 0
	if n := snapshotsAfterWrites(t, cfg, want, 200, 0); n > DefaultSnapRetainCount {
		t.Fatalf("purging enabled: %d snapshot files, want at most %d", n, DefaultSnapRetainCount)
	}
}
