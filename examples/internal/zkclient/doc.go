// Package zkclient is a small ZooKeeper client on ZooKeeper's client
// protocol (the jute records of internal/jute over TCP), for the examples
// that talk to a running server: a zk peer's client port
// (Config.ClientPort) or a real ZooKeeper. It is what zkcli's -server uses.
//
// # Contract
//
// Connect opens a session on one of the configured addresses and returns
// once the handshake succeeded. The client then owns two goroutines per
// connection (a reader and a pinger) and one that reconnects: when the
// connection fails (a read times out after two thirds of the negotiated
// session timeout, the server closes it, a reply is malformed), the client
// tries the next address of the list with the same session id and
// password, re-registers its watches (setWatches/setWatches2, relative to
// the last zxid it saw) and re-sends its credentials, until the server
// accepts the session or declares it expired. Close ends the session
// (closeSession) and stops every goroutine.
//
// A ReadOnly session that a server took read-only (StateConnectedReadOnly)
// looks for a read-write server as the Java client's send thread does:
// once the interval since the last probe (or since the client started)
// reaches the current one, which starts at 100 ms and doubles at each
// probe up to 60 s, the client takes the next address of its list (the
// turn its reconnects take: every len(Servers) probes this is the server
// it is connected to, which answers ro) and sends it the four-letter word
// isro. A server that answers rw resets the interval to 100 ms; the client
// drops its read-only connection (its pending calls fail with
// ConnectionLoss, and a Disconnected event is queued) and connects to that
// server first, then, if it fails, to the addresses after it. As in
// ZooKeeper, the connect renews the session if a read-write server took it
// before (seenRwServerBefore) and otherwise asks for a new one (session id
// 0: the read-only session's id is not kept and no Expired is queued);
// either way its watches are re-registered and the server's answer queues
// SyncConnected (ConnectedReadOnly if it is read-only after all, and the
// search goes on). The interval and the time of the last probe are the
// client's, not the connection's: a reconnect to a read-only server does
// not reset them. Unlike the Java client, whose send thread probes in line
// (its connect unbounded, its read bounded by 1 s) and waits up to 1 s at
// random before a reconnect, this client probes beside the connection
// (connect and read bounded by 1 s each) and connects at once.
//
// Requests are sent in the order calls make them and replies are matched
// by xid in that order (the server answers in order; a reply out of order
// fails the connection). A call made while the client is reconnecting
// waits for the connection (or its ctx). A call whose connection fails
// before its reply returns zkerr.ErrConnectionLoss: its outcome is
// unknown. Errors the server returns are zk's sentinel errors
// (zkerr.FromCode of the reply's code), so errors.Is(err, zk.ErrNoNode)
// works as on an embedded session.
//
// Watches are ZooKeeper's default watcher's: a call with watch=true leaves
// a one-shot watch, AddWatch a persistent one, and every notification and
// every change of the connection's state (Disconnected, SyncConnected,
// Expired, Closed) is queued in arrival order for Events, as a ZooKeeper
// client's event thread delivers them. RemoveWatches follows ZooKeeper's
// client: the server removes, then the client removes its own
// registrations and queues the removal events.
//
// The event queue is unbounded: the reader never blocks on a slow
// consumer, as a ZooKeeper client's event queue.
//
// # TLS
//
// With Config.TLS every connection of the session (not the isro probes,
// which the Java client sends in plain text too) runs a TLS handshake,
// bounded as the connection attempt is, before the connect request: a
// secure client port, as ZooKeeper 3.8's Netty client socket with
// zookeeper.client.secure. The server's chain is checked against the
// trust store's CAs (the system's without one) and, with VerifyHost, its
// names as ZKTrustManager checks them (the IP address dialled, else the
// connect string's host name or, for an IP, its reverse lookup; SANs, or
// the CN when there is none); a refused certificate is ErrTLSVerify. A
// failed handshake counts as a server that did not answer: Connect fails
// at once when no server of the list did.
//
// LoadClientConfig reads that TLS from a ZooKeeper client configuration
// file (zkCli's -client-configuration; java.util.Properties, read by
// internal/props), as ZKClientConfig and ClientX509Util read it:
// zookeeper.client.secure (true in any case; anything else is false),
// zookeeper.clientCnxnSocket (ZooKeeper's NIO or Netty socket; secure
// needs Netty: the Java NIO socket ignores it and talks plain text to the
// secure port, which zk refuses up front), zookeeper.ssl.keyStore.* and
// zookeeper.ssl.trustStore.* (location, password, passwordPath, type:
// PEM, JKS or PKCS12, read by internal/keystore), ssl.hostnameVerification
// (default true; it applies only with a trust store, as in Java),
// ssl.protocol (TLSv1.2 by default, offering TLS 1.2; TLSv1.3 and TLS
// offer 1.2 and 1.3). ssl.clientAuth and ssl.handshakeDetectionTimeoutMillis
// are checked (the Java client fails on a bad value) and otherwise
// unused. As the 3.8 Netty client, it applies neither ssl.enabledProtocols
// nor ssl.ciphersuites; ssl.crl and ssl.ocsp (revocation), SASL and
// Kerberos keys, zookeeper.request.timeout, jute.maxbuffer and every
// other key are ignored. Stores are read when the file is, so a store
// that cannot be read is an error of LoadClientConfig (the Java client
// fails each connection attempt instead); every error wraps
// ErrClientConfig, an unknown socket class ErrSocketClass too.
package zkclient
