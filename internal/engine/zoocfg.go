package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/embedzk/zk/internal/props"
	"github.com/embedzk/zk/znode"
)

// ParseZooCfg reads a ZooKeeper zoo.cfg into a Config, so a ZooKeeper user can
// bring their files. myid is the content of the data directory's myid file
// (nil for a standalone configuration; LoadZooCfg reads it). Keys zk has no use for
// (metrics providers other than Prometheus, ...) are returned in ignored
// so the caller can log them; malformed values are errors naming the key and
// line. The result still needs Validate.
//
// The peer's own server line may name its client address
// (server.N=host:quorumPort:electionPort;[host:]port), as ZooKeeper 3.5
// and later write it: that is its client port, with or without clientPort
// (which must then agree, as in ZooKeeper). A configuration of one voting
// server runs standalone (no Servers), as ZooKeeper's does with
// standaloneEnabled=true, its default; standaloneEnabled=false or
// reconfigEnabled=true keeps it a one-server ensemble, which reconfig may
// grow; standaloneEnabled=false also lets a reconfig shrink an ensemble to
// one participant (Config.StandaloneDisabled). Observers without a quorum
// are refused, as in ZooKeeper, and so is (beyond ZooKeeper, which would
// run it standalone on its old data) one server line that is not myid's:
// the file a shrink to one participant leaves on the servers it removed.
//
// The AdminServer is on at 0.0.0.0:8080 (Config.AdminServerPort) unless
// admin.enableServer=false, as in ZooKeeper; admin.serverAddress,
// admin.serverPort, admin.commandURL and admin.idleTimeout set it.
//
// A replicated peer needs peer authentication, which zoo.cfg gives with
// these keys (files are read now; relative paths are relative to the
// working directory, as ZooKeeper's):
//
//	quorum.auth.secret.location      a file holding the shared secret (Config.PeerSecret):
//	                                 random bytes, at least 16, the same on every peer; one
//	                                 trailing newline is not part of it
//	sslQuorum=true                   mutual TLS between peers (Config.PeerTLS):
//	ssl.quorum.certificate.location  this peer's certificate chain (PEM); the certificate must
//	                                 carry the DNS name zk-peer-<myid>
//	ssl.quorum.privateKey.location   its private key, unencrypted PEM
//	ssl.quorum.keyStore.location     instead of the two above, a key store with both
//	ssl.quorum.trustStore.location   the CA certificates peers are verified against
//
// The stores are PEM, JKS or PKCS12 files (ssl.quorum.keyStore.type and
// ssl.quorum.trustStore.type, or guessed from the file name as ZooKeeper
// guesses it), opened with ssl.quorum.keyStore.password and
// ssl.quorum.trustStore.password or the files their *.passwordPath keys
// name (internal/keystore). Without sslQuorum=true the TLS files are not
// read (as in ZooKeeper) and their keys are returned in ignored. With both
// a secret and TLS, peers must pass both.
//
// group.N=id:id:... and weight.N=w make the quorum hierarchical, as in
// ZooKeeper (Config.Groups, in increasing order of N, and Config.Weights).
//
// reconfigEnabled sets Config.ReconfigEnabled; dynamicConfigFile names
// ZooKeeper's dynamic configuration file, read now: its server, group and
// weight lines are the membership (zoo.cfg then has none), and zk rewrites
// it as reconfigs commit (Config.DynamicConfigFile).
//
// metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
// sets MetricsHTTPAddress from metricsProvider.httpHost and
// metricsProvider.httpPort (defaults 0.0.0.0 and 7000); the metrics
// themselves go to Config.Registerer, which the caller sets.
//
// DigestAuthenticationProvider.superDigest sets Config.SuperDigest
// ("super:<base64 sha1>"), as the same line in ZooKeeper's zoo.cfg sets its
// system property zookeeper.DigestAuthenticationProvider.superDigest;
// DigestAuthenticationProvider.digestAlg sets Config.DigestAlg (a name
// zk's digests lack is an error, even empty, as ZooKeeper fails to start
// with it) and DigestAuthenticationProvider.enabled anything but "true",
// in any case, sets Config.NoDigestAuth (Java's Boolean.parseBoolean);
// superUser sets Config.SASLSuperUser (zookeeper.superUser). The SASL users
// come from a JAAS file (LoadJAAS), as ZooKeeper's come from the one its
// JVM's java.security.auth.login.config names. An authProvider.N key naming
// ZooKeeper's SASLAuthenticationProvider is accepted (zk always serves the
// sasl ACL scheme); other authProvider keys are returned in ignored.
//
// secureClientPort (and secureClientPortAddress) serves the client protocol
// over TLS (Config.SecureClientPort, Config.ClientTLS), from key and trust
// stores as ZooKeeper reads them:
//
//	ssl.keyStore.location    the server's key and certificate chain: PEM, JKS or PKCS12
//	ssl.trustStore.location  the CA certificates clients' certificates are verified against
//	ssl.keyStore.type        PEM, JKS or PKCS12 (and ssl.trustStore.type); guessed from the
//	                         file name when unset (.jks, .p12 or .pfx, else PEM)
//	ssl.keyStore.password    the store's password, also its key's (and ssl.trustStore.password);
//	                         ssl.keyStore.passwordPath names a file holding it instead
//	ssl.clientAuth           need (default), want or none
//	ssl.protocol             the TLS version served without ssl.enabledProtocols (TLSv1.2 by default, as ZooKeeper 3.8)
//	ssl.enabledProtocols     the versions served, comma-separated, with no gap (TLSv1.2,TLSv1.3)
//	ssl.ciphersuites         the TLS 1.2 cipher suites, comma-separated IANA names (ZooKeeper's twelve
//	                         ECDHE suites by default; those crypto/tls lacks are returned in ignored)
//
// ssl.hostnameVerification is accepted: ZooKeeper's client port never
// checks a client's host name either. client.portUnification=true serves
// TLS on the plain client port too (Config.ClientPortUnification), from
// the same stores, with or without secureClientPort; as in ZooKeeper it
// needs serverCnxnFactory set to Netty's factory, and is returned in
// ignored otherwise.
//
// enforce.auth.enabled with enforce.auth.schemes, or
// sessionRequireClientSASLAuth, sets Config.EnforceAuthSchemes.
// X509AuthenticationProvider.superUser sets Config.X509SuperUser;
// serverCnxnFactory (NIO or Netty) and authProvider.N naming ZooKeeper's
// X509AuthenticationProvider are accepted.
//
// autopurge.purgeInterval is in hours; 0 or absent means no purge, as in
// ZooKeeper: PurgeInterval is then negative and no snapshot or log file is
// ever deleted (see Config.PurgeInterval). maxClientCnxns absent means
// ZooKeeper's default, 60 connections per client address; 0 means no limit.
// maxCnxns, globalOutstandingLimit, skipACL (which only "yes" turns on),
// forceSync and leaderServes (which only "no" turns off) set MaxCnxns,
// GlobalOutstandingLimit, SkipACL, NoForceSync and NoLeaderServes, as
// ZooKeeper takes them from zoo.cfg as the system properties
// zookeeper.<key> and compares them so, case and all.
//
// audit.enable=true (in any case) sets AuditEnabled.
func ParseZooCfg(r io.Reader, myid []byte) (cfg Config, ignored []string, err error) {
	z := zooParse{standalone: zooStandalone{enabled: true}}
	cfg.MaxClientCnxns = DefaultZooCfgMaxClientCnxns // unless the file says otherwise
	var text strings.Builder
	err = zooLines(io.TeeReader(r, &text), func(line int, key, value string) error {
		known, err := z.set(&cfg, key, value, line)
		if err != nil {
			return fmt.Errorf("%w: zoo.cfg line %d: %s: %v", ErrInvalidConfig, line, key, err)
		}
		if !known {
			ignored = append(ignored, key)
		}
		return nil
	})
	if err != nil {
		return Config{}, nil, err
	}
	notRead, err := z.finish(&cfg, myid)
	if err != nil {
		return Config{}, nil, err
	}
	cfg.InitialConfig = text.String()
	return cfg, append(ignored, notRead...), nil
}

// zooParse holds the collectors of zoo.cfg's key families while a file is
// parsed.
type zooParse struct {
	auth       zooAuth
	ctls       zooClientTLS
	metrics    zooMetrics
	quorum     zooQuorum
	admin      zooAdmin
	standalone zooStandalone
}

// set applies one key; known is false for keys zk ignores.
func (z *zooParse) set(cfg *Config, key, value string, line int) (known bool, err error) {
	known, err = z.auth.set(key, value, line)
	if !known {
		known, err = z.ctls.set(cfg, key, value)
	}
	if !known {
		known, err = z.metrics.set(key, value)
	}
	if !known {
		known, err = z.quorum.set(key, value)
	}
	if !known {
		known, err = z.admin.set(key, value)
	}
	if !known {
		known, err = z.standalone.set(key, value)
	}
	if !known {
		known, err = cfg.setZooKey(key, value)
	}
	return known, err
}

// finish reads the files the keys name and settles what depends on
// several keys or on the peer's id (myid); it returns the keys read but
// not used.
func (z *zooParse) finish(cfg *Config, myid []byte) (ignored []string, err error) {
	if cfg.PurgeInterval == 0 {
		cfg.PurgeInterval = -1 // no autopurge.purgeInterval: ZooKeeper does not purge
	}
	notRead, err := z.auth.load(cfg)
	if err != nil {
		return nil, err
	}
	if z.admin.usesQuorumStores() {
		notRead = slices.DeleteFunc(notRead, func(k string) bool { return k == keyKeyStore || k == keyTrustStore })
	}
	ignored = append(ignored, notRead...)
	if notRead, err = z.ctls.load(cfg); err != nil {
		return nil, err
	}
	ignored = append(ignored, notRead...)
	ignored = append(ignored, z.metrics.apply(cfg)...)
	z.quorum.apply(cfg)
	z.admin.apply(cfg)
	if err := z.admin.loadTLS(cfg, &z.auth); err != nil {
		return nil, err
	}
	if err := cfg.loadDynamicConfig(); err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(myid))) > 0 {
		if cfg.ID, err = parseMyID(myid); err != nil {
			return nil, err
		}
	}
	if cfg.ClientPortAddress != "" && cfg.ClientPort == 0 {
		return nil, fmt.Errorf("%w: zoo.cfg: clientPortAddress is set but clientPort is not", ErrInvalidConfig)
	}
	if err := cfg.clientPortFromServerLine(); err != nil {
		return nil, err
	}
	if err := z.standalone.apply(cfg); err != nil {
		return nil, err
	}
	return ignored, nil
}

// LoadZooCfg reads the zoo.cfg file at path and the myid file in its dataDir
// (if there is one) into a Config; see ParseZooCfg.
func LoadZooCfg(path string) (Config, []string, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return Config{}, nil, fmt.Errorf("zk: %w", err)
	}
	var myid []byte
	if dir := lastValue(text, "dataDir"); dir != "" {
		myid, err = os.ReadFile(filepath.Join(dir, "myid"))
		switch {
		case os.IsNotExist(err):
			myid = nil
		case err != nil:
			return Config{}, nil, fmt.Errorf("zk: %w", err)
		default:
			if _, err := parseMyID(myid); err != nil { // an empty file too, as ZooKeeper refuses it
				return Config{}, nil, err
			}
		}
	}
	return ParseZooCfg(bytes.NewReader(text), myid)
}

// lastValue returns the value of zoo.cfg's last key=value line for key
// (what ParseZooCfg takes), "" when there is none or the text is malformed
// (ParseZooCfg then says where).
func lastValue(text []byte, key string) string {
	value := ""
	err := zooLines(bytes.NewReader(text), func(_ int, k, v string) error {
		if k == key {
			value = v
		}
		return nil
	})
	if err != nil {
		return ""
	}
	return value
}

// zooLines calls fn with each key of a zoo.cfg and its value, both
// trimmed, read with java.util.Properties' rules (internal/props): a key
// given twice comes once, with its last value.
func zooLines(r io.Reader, fn func(line int, key, value string) error) error {
	entries, err := readProps(r, "zoo.cfg")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := fn(e.Line, e.Key, e.Value); err != nil {
			return err
		}
	}
	return nil
}

// readProps reads a zoo.cfg or another file of properties (name is what
// errors call it); a line it cannot read is ErrInvalidConfig.
func readProps(r io.Reader, name string) ([]props.Entry, error) {
	entries, err := props.Read(r, name)
	var syntax *props.SyntaxError
	switch {
	case errors.As(err, &syntax):
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	case err != nil:
		return nil, fmt.Errorf("zk: %w", err)
	}
	return entries, nil
}

func parseMyID(myid []byte) (int64, error) {
	id := strings.TrimSpace(string(myid))
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: myid: %q is not a number", ErrInvalidConfig, id)
	}
	return n, nil
}

// setZooKey applies one zoo.cfg key; known is false for keys zk ignores.
func (c *Config) setZooKey(key, value string) (known bool, err error) {
	for _, set := range []func(key, value string) (bool, error){c.setReaperZooKey, c.setQuotaZooKey,
		c.setReadOnlyZooKey, c.setLocalSessionZooKey, c.setReconfigZooKey} {
		if known, err := set(key, value); known {
			return true, err
		}
	}
	if key == "audit.enable" { // the system property zookeeper.audit.enable
		c.AuditEnabled = strings.EqualFold(value, "true") // as Java's Boolean.getBoolean
		return true, nil
	}
	switch key {
	case "tickTime":
		return true, setMillis(&c.TickTime, value)
	case "initLimit":
		return true, setInt(&c.InitLimit, value)
	case "syncLimit":
		return true, setInt(&c.SyncLimit, value)
	case "dataDir":
		c.DataDir = value
		return true, nil
	case "dataLogDir":
		c.DataLogDir = value
		return true, nil
	case "preAllocSize":
		var kib int
		if err := setInt(&kib, value); err != nil {
			return true, err
		}
		c.PreAllocSize = int64(kib) << 10
		if kib <= 0 {
			c.PreAllocSize = -1 // ZooKeeper: 0 (or less) does not pad
		}
		return true, nil
	case "forceSync": // zookeeper.forceSync, which only "no" turns off
		c.NoForceSync = value == "no"
		return true, nil
	case "jute.maxbuffer":
		// A Java integer property: decimal, or hex as 0xfffff (Integer.decode).
		n, err := strconv.ParseInt(value, 0, 32)
		if err != nil {
			return true, fmt.Errorf("%q is not an integer", value)
		}
		c.JuteMaxBuffer = int(n)
		return true, nil
	case "autopurge.purgeInterval":
		var hours int
		if err := setInt(&hours, value); err != nil {
			return true, err
		}
		c.PurgeInterval = time.Duration(hours) * time.Hour
		if hours <= 0 {
			c.PurgeInterval = -1 // ZooKeeper: 0 (or less) disables the purge task
		}
		return true, nil
	}
	if known, err := c.setLimitKey(key, value); known {
		return true, err
	}
	if known, err := c.setClientKey(key, value); known {
		return true, err
	}
	if strings.HasPrefix(key, "server.") {
		s, err := parseServerLine(key, value)
		if err != nil {
			return true, err
		}
		c.Servers = append(c.Servers, s)
		return true, nil
	}
	return false, nil
}

// setLimitKey applies a zoo.cfg key of a count or a bound, with the
// values ZooKeeper corrects corrected as it does; known is false for
// other keys.
func (c *Config) setLimitKey(key, value string) (known bool, err error) {
	switch key {
	case "maxClientCnxns":
		err := setInt(&c.MaxClientCnxns, value)
		c.MaxClientCnxns = max(c.MaxClientCnxns, 0) // ZooKeeper: no limit below 1
		return true, err
	case "maxCnxns": // ZooKeeper's system property zookeeper.maxCnxns
		err := setInt(&c.MaxCnxns, value)
		c.MaxCnxns = max(c.MaxCnxns, 0) // ZooKeeper: no limit below 1
		return true, err
	case "globalOutstandingLimit": // zookeeper.globalOutstandingLimit
		err := setInt(&c.GlobalOutstandingLimit, value)
		// ZooKeeper's limit below 1 throttles a connection as soon as
		// anything is in flight: so does 1.
		c.GlobalOutstandingLimit = max(c.GlobalOutstandingLimit, 1)
		return true, err
	case "minSessionTimeout":
		return true, setSessionMillis(&c.MinSessionTimeout, value)
	case "maxSessionTimeout":
		return true, setSessionMillis(&c.MaxSessionTimeout, value)
	case "snapCount":
		err := setInt(&c.SnapCount, value)
		c.SnapCount = max(c.SnapCount, 2) // as ZooKeeper's SyncRequestProcessor raises it
		return true, err
	case "autopurge.snapRetainCount":
		err := setInt(&c.SnapRetainCount, value)
		c.SnapRetainCount = max(c.SnapRetainCount, 3) // as ZooKeeper's purge raises it
		return true, err
	}
	return false, nil
}

// parseServerLine parses server.N=host:quorumPort:electionPort[:role][;[clientHost:]clientPort].
func parseServerLine(key, value string) (Server, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(key, "server."), 10, 64)
	if err != nil {
		return Server{}, fmt.Errorf("bad server id in %q", key)
	}
	addr, client, _ := strings.Cut(value, ";") // the client address is kept as it is
	host, rest, err := splitHost(addr)
	if err != nil {
		return Server{}, err
	}
	parts := strings.Split(rest, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return Server{}, fmt.Errorf("%q is not host:quorumPort:electionPort[:role]", value)
	}
	s := Server{ID: id, Host: host, ClientAddr: strings.TrimSpace(client)}
	if s.QuorumPort, err = strconv.Atoi(parts[0]); err != nil {
		return Server{}, fmt.Errorf("bad quorum port %q", parts[0])
	}
	if s.ElectionPort, err = strconv.Atoi(parts[1]); err != nil {
		return Server{}, fmt.Errorf("bad election port %q", parts[1])
	}
	if len(parts) == 3 {
		switch strings.ToLower(parts[2]) { // as ZooKeeper reads it
		case "observer":
			s.Observer = true
		case "participant":
		default:
			return Server{}, fmt.Errorf("unknown role %q (want participant or observer)", parts[2])
		}
	}
	return s, nil
}

// splitHost separates the host (an IPv6 address in brackets, or anything up
// to the first colon) from the ports that follow it.
func splitHost(addr string) (host, rest string, err error) {
	if strings.HasPrefix(addr, "[") {
		end := strings.Index(addr, "]:")
		if end < 0 {
			return "", "", fmt.Errorf("%q: unterminated IPv6 address", addr)
		}
		return addr[1:end], addr[end+2:], nil
	}
	host, rest, ok := strings.Cut(addr, ":")
	if !ok || host == "" {
		return "", "", fmt.Errorf("%q is not host:quorumPort:electionPort", addr)
	}
	return host, rest, nil
}

func setInt(dst *int, value string) error {
	n, err := strconv.Atoi(value)
	if err != nil {
		return fmt.Errorf("%q is not an integer", value)
	}
	*dst = n
	return nil
}

// setSessionMillis is setMillis where -1 means the default (0 here), as
// ZooKeeper reads minSessionTimeout and maxSessionTimeout.
func setSessionMillis(dst *time.Duration, value string) error {
	if value == "-1" {
		*dst = 0
		return nil
	}
	return setMillis(dst, value)
}

func setMillis(dst *time.Duration, value string) error {
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a number of milliseconds", value)
	}
	*dst = time.Duration(n) * time.Millisecond
	return nil
}

// keySuperDigest is the zoo.cfg key of the super user's digest: ZooKeeper
// sets each key it does not know as the system property zookeeper.<key>,
// and reads this one's as zookeeper.DigestAuthenticationProvider.superDigest.
const keySuperDigest = "DigestAuthenticationProvider.superDigest"

// setClientKey applies a zoo.cfg key of the client port; known is false for
// other keys.
func (c *Config) setClientKey(key, value string) (known bool, err error) {
	switch key {
	case "clientPort":
		return true, setInt(&c.ClientPort, value)
	case "clientPortAddress":
		c.ClientPortAddress = value
		return true, nil
	case "zk.clientIO":
		c.ClientIO = value
		return true, nil
	case keySuperDigest:
		c.SuperDigest = value
		return true, nil
	case "DigestAuthenticationProvider.digestAlg":
		// Any value, even empty, is a name for Java's MessageDigest.
		if _, err := znode.ParseDigestAlg(value); err != nil {
			return true, err
		}
		c.DigestAlg = value
		return true, nil
	case "DigestAuthenticationProvider.enabled": // Boolean.parseBoolean
		c.NoDigestAuth = !strings.EqualFold(value, "true")
		return true, nil
	case "superUser":
		c.SASLSuperUser = value
		return true, nil
	case "skipACL": // zookeeper.skipACL, which only "yes" turns on
		c.SkipACL = value == "yes"
		return true, nil
	case "leaderServes": // zookeeper.leaderServes, which only "no" turns off
		c.NoLeaderServes = value == "no"
		return true, nil
	case "4lw.commands.whitelist":
		c.FourLetterWords = nil
		for _, w := range strings.Split(value, ",") {
			if w = strings.TrimSpace(w); w != "" {
				c.FourLetterWords = append(c.FourLetterWords, w)
			}
		}
		return true, nil
	}
	if strings.HasPrefix(key, "authProvider.") && value == saslProvider {
		return true, nil // the sasl scheme is always served
	}
	return false, nil
}

// saslProvider is ZooKeeper's class serving the sasl ACL scheme, which a
// zoo.cfg names in an authProvider.N key; zk always serves the scheme.
const saslProvider = "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
