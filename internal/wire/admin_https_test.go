package wire_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/engine"
)

// adminStoreLines are the zoo.cfg lines of the quorum's stores
// (internal/keystore/testdata), which ZooKeeper's AdminServer serves HTTPS
// with.
func adminStoreLines(t *testing.T) (lines string, ca *x509.CertPool) {
	t.Helper()
	dir, err := filepath.Abs("../keystore/testdata")
	must(t, err)
	pem, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	must(t, err)
	ca = x509.NewCertPool()
	ca.AppendCertsFromPEM(pem)
	return fmt.Sprintf("ssl.quorum.keyStore.location=%[1]s/server.jks\nssl.quorum.keyStore.password=zksecret\n"+
		"ssl.quorum.trustStore.location=%[1]s/trust.jks\nssl.quorum.trustStore.password=zksecret\n", dir), ca
}

// adminHTTPSResult is what one server's admin port did for a client.
type adminHTTPSResult struct {
	httpsOK, httpOK bool   // a JSON ruok answer over HTTPS, over plain HTTP
	hsts            string // the Strict-Transport-Security of the HTTPS answer
}

func probeAdmin(t *testing.T, hostPort string, ca *x509.CertPool) adminHTTPSResult {
	t.Helper()
	var r adminHTTPSResult
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca}}}
	ok := func(scheme string) (bool, string) {
		resp, err := client.Get(scheme + "://" + hostPort + "/commands/ruok")
		if err != nil {
			return false, ""
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusOK && strings.Contains(string(body), `"command" : "ruok"`), resp.Header.Get("Strict-Transport-Security")
	}
	r.httpsOK, r.hsts = ok("https")
	r.httpOK, _ = ok("http")
	return r
}

// TestAdminServerHTTPSLikeZooKeeper gives a real ZooKeeper 3.8 and a zk
// peer the same admin.forceHttps or admin.portUnification lines with the
// quorum's stores: both serve the commands over HTTPS with the same HSTS
// header, and over plain HTTP only with port unification.
func TestAdminServerHTTPSLikeZooKeeper(t *testing.T) {
	stores, ca := adminStoreLines(t)
	for _, mode := range []string{"admin.forceHttps=true\n", "admin.portUnification=true\n"} {
		t.Run(strings.TrimSuffix(mode, "=true\n"), func(t *testing.T) {
			dir := t.TempDir()
			port, aport := freePort(t), freePort(t)
			runZooCfg(t, dir, fmt.Sprintf("%sdataDir=%s\nclientPort=%d\nadmin.serverPort=%d\n%s%s", adminZooCfg, dir, port, aport, stores, mode), adminJars)
			waitZK(t, fmt.Sprintf("127.0.0.1:%d", port))

			parsed, ignored, err := engine.ParseZooCfg(strings.NewReader(adminZooCfg+"dataDir=/unused\nclientPort=1\n"+stores+mode), nil)
			must(t, err)
			if len(ignored) != 0 {
				t.Fatalf("zoo.cfg keys ignored: %v", ignored)
			}
			cfg := peerConfig()
			cfg.AdminServerPort, cfg.AdminServerAddress = -1, "127.0.0.1"
			cfg.AdminTLS, cfg.AdminPortUnification = parsed.AdminTLS, parsed.AdminPortUnification
			e := startPeer(t, cfg)

			var real adminHTTPSResult
			deadline := time.Now().Add(30 * time.Second)
			for real = probeAdmin(t, fmt.Sprintf("127.0.0.1:%d", aport), ca); !real.httpsOK && time.Now().Before(deadline); {
				time.Sleep(100 * time.Millisecond) // the JVM's AdminServer starts after the client port
				real = probeAdmin(t, fmt.Sprintf("127.0.0.1:%d", aport), ca)
			}
			got := probeAdmin(t, e.AdminAddr(), ca)
			if got != real {
				t.Errorf("zk %+v, ZooKeeper %+v", got, real)
			}
			if !real.httpsOK || real.hsts == "" || real.httpOK != strings.Contains(mode, "portUnification") {
				t.Errorf("ZooKeeper did not serve as expected: %+v", real)
			}
			// Garbage, some of it starting as a TLS handshake does, ends
			// each connection and leaves the port serving.
			adminGarbage(t, e.AdminAddr(), 60)
			if again := probeAdmin(t, e.AdminAddr(), ca); again != got {
				t.Errorf("after the garbage: %+v, before %+v", again, got)
			}
		})
	}
}
