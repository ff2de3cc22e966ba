package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/embedzk/zk"
	"github.com/embedzk/zk/examples/internal/zkclient"
)

// printStatus prints everything zk.Status tells of the peer.
func printStatus(w io.Writer, st zk.Status) {
	hex := func(z int64) string { return fmt.Sprintf("0x%x", z) }
	serving := "serving"
	if !st.Serving {
		serving = "not serving: " + st.Why
	}
	var b strings.Builder
	row := func(k, format string, args ...any) {
		fmt.Fprintf(&b, "  %-12s %s\n", k+":", fmt.Sprintf(format, args...))
	}
	fmt.Fprintf(&b, "status of zk peer %d (kill -USR1 prints it again):\n", st.ID)
	row("Mode", "%s (%s)", modeName(st.Mode), serving)
	row("Leader", "%d, epoch %d, election round %d", st.Leader, st.Epoch, st.Round)
	row("Zxid", "last logged %s, applied %s", hex(st.LastZxid), hex(st.Applied))
	row("Peers", "%v", st.Peers)
	row("Sessions", "%d attached, %d requests in flight", st.Sessions, st.Requests)
	row("Znodes", "%d (%d ephemeral), %d bytes of paths and data", st.Znodes, st.Ephemerals, st.DataSize)
	row("Watches", "%d", st.Watches)
	row("Fsync p99", "%v (the last 128 fsyncs of the log)", st.FsyncP99.Round(time.Microsecond))
	for _, l := range st.Learners {
		kind := "follower"
		if l.Observer {
			kind = "observer"
		}
		row("Learner", "%d (%s): %s, sync %s, zxid %s, lag %d txns / %v, heard %v ago", l.ID, kind, l.Phase, l.Sync,
			hex(l.Zxid), l.LagTxns, l.Lag, l.Silent)
	}
	if st.Err != nil {
		row("Error", "%v", st.Err)
	}
	io.WriteString(w, b.String())
}

// status asks the peer of path for its mode with the srvr four-letter word,
// as zkServer.sh status does: on the client port, or on the secure client
// port when zoo.cfg sets only that one, over TLS with the peer's own stores
// (its key store's certificate for a port that asks for one, its trust
// store's CAs to verify the peer). Without a client address it asks
// localhost, as zkServer.sh does.
func status(path string, stdout io.Writer) error {
	cfg, _, err := zk.LoadZooCfg(path)
	if err != nil {
		return err
	}
	port, host, secure := statusTarget(cfg)
	if port <= 0 {
		return errors.New("no clientPort or secureClientPort in " + path)
	}
	if secure && (cfg.ClientTLS == nil || cfg.ClientTLS.ClientCAs == nil) {
		return errors.New("the secure client port's certificate cannot be verified without ssl.trustStore.location in " + path)
	}
	fmt.Fprintf(stdout, "Client port found: %d. Client address: %s. Client SSL: %t.\n", port, host, secure)
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	mode, err := statusMode(addr, host, secure, cfg.ClientTLS)
	if err != nil {
		// zkServer.sh's line; the reason goes to stderr.
		fmt.Fprintln(stdout, "Error contacting service. It is probably not running.")
		return err
	}
	fmt.Fprintln(stdout, mode)
	return nil
}

// statusMode asks the peer at addr srvr and returns its "Mode: " line.
func statusMode(addr, host string, secure bool, server *tls.Config) (string, error) {
	nc, err := statusDial(addr, host, secure, server)
	if err != nil {
		return "", fmt.Errorf("no peer answers at %s: %w", addr, err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	out, err := zkclient.FourLetterWord(nc, "srvr")
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "Mode: ") {
			return line, nil
		}
	}
	return "", fmt.Errorf("the peer at %s answered: %s", addr, strings.TrimSpace(string(out)))
}

// statusTarget is the port and host status asks, as zkServer.sh picks
// them: the client port, else the secure one; localhost when zoo.cfg names
// no address for it. The port is 0 when zoo.cfg has neither.
func statusTarget(cfg zk.Config) (port int, host string, secure bool) {
	port, host = cfg.ClientPort, cfg.ClientPortAddress
	if port <= 0 {
		port, host, secure = cfg.SecureClientPort, cfg.SecureClientPortAddress, true
	}
	if host == "" {
		host = "localhost"
	}
	return max(port, 0), host, secure
}

// statusDial connects to addr, over TLS when secure, with the peer's own
// TLS configuration turned into a client's. Its certificate must chain to
// the trust store's CAs and name the address connected to or host, as
// ZooKeeper's trust manager checks a server (the socket's IP address
// first, then its host name).
func statusDial(addr, host string, secure bool, server *tls.Config) (net.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	nc, err := d.Dial("tcp", addr)
	if err != nil || !secure {
		return nc, err
	}
	ip, _, _ := net.SplitHostPort(nc.RemoteAddr().String())
	tc := tls.Client(nc, &tls.Config{
		Certificates: server.Certificates, MinVersion: tls.VersionTLS12,
		InsecureSkipVerify: true, // verified below, by IP or name
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyPeer(cs.PeerCertificates, server.ClientCAs, ip, host)
		},
	})
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err != nil {
		nc.Close()
		return nil, err
	}
	return tc, nil
}

// verifyPeer checks a server's certificate chain against roots and its
// leaf against ip, else host.
func verifyPeer(chain []*x509.Certificate, roots *x509.CertPool, ip, host string) error {
	if len(chain) == 0 {
		return errors.New("the peer sent no certificate")
	}
	if roots == nil {
		return errors.New("no trust store to verify the peer's certificate with")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter}); err != nil {
		return err
	}
	if err := chain[0].VerifyHostname(ip); err == nil {
		return nil
	}
	return chain[0].VerifyHostname(host)
}
