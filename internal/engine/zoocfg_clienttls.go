package engine

import (
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/embedzk/zk/internal/keystore"
)

// zoo.cfg keys of the secure client port (documented at ParseZooCfg), as
// ZooKeeper names them.
const (
	keySecurePort     = "secureClientPort"
	keySecureAddr     = "secureClientPortAddress"
	keyClientKeyStore = "ssl.keyStore.location"
	keyClientKSType   = "ssl.keyStore.type"
	keyClientKSPass   = "ssl.keyStore.password"
	keyClientKSPath   = "ssl.keyStore.passwordPath"
	keyClientTSPath   = "ssl.trustStore.passwordPath"
	keyClientTrust    = "ssl.trustStore.location"
	keyClientTSType   = "ssl.trustStore.type"
	keyClientTSPass   = "ssl.trustStore.password"
	keyClientAuth     = "ssl.clientAuth"
	keyX509SuperUser  = "X509AuthenticationProvider.superUser"
	nettyFactory      = "org.apache.zookeeper.server.NettyServerCnxnFactory"
	nioFactory        = "org.apache.zookeeper.server.NIOServerCnxnFactory"
	x509Provider      = "org.apache.zookeeper.server.auth.X509AuthenticationProvider"
	keyEnforceAuth    = "enforce.auth.enabled"
	keyEnforceSchemes = "enforce.auth.schemes"
	keyRequireSASL    = "sessionRequireClientSASLAuth"
	keyUnification    = "client.portUnification"
)

// zooClientTLS collects the secure client port's keys of a zoo.cfg while it
// is parsed; load then reads the files they name.
type zooClientTLS struct {
	values map[string]string
}

// set records key if it is one of the secure client port's keys.
func (z *zooClientTLS) set(c *Config, key, value string) (known bool, err error) {
	switch key {
	case keySecurePort:
		return true, setInt(&c.SecureClientPort, value)
	case keySecureAddr:
		c.SecureClientPortAddress = value
		return true, nil
	case keyX509SuperUser:
		c.X509SuperUser = value
		return true, nil
	case keyUnification:
		// Java's Boolean.getBoolean: "true" in any case, else false.
		c.ClientPortUnification = strings.EqualFold(value, "true")
	case keyEnforceAuth, keyRequireSASL, keyEnforceSchemes:
		// Java's Boolean.parseBoolean: "true" in any case, else false.
	case "serverCnxnFactory":
		// ZooKeeper serves TLS with Netty's factory; zk's client I/O is
		// chosen by zk.clientIO, and TLS connections get a reader each.
		if value != nettyFactory && value != nioFactory {
			return true, fmt.Errorf("%q is not ZooKeeper's NIO or Netty factory", value)
		}
	case keyClientKeyStore, keyClientTrust, keyClientKSPass, keyClientTSPass, keyClientKSPath, keyClientTSPath:
	case keyClientKSType, keyClientTSType:
		if _, err := keystore.TypeOf(value, ""); err != nil {
			return true, err
		}
	case keyClientAuth:
		if _, ok := clientAuthOf(value); !ok {
			return true, fmt.Errorf("%q is not need, want or none", value)
		}
	case keyClientProtocol, keyClientProtocols, keyClientCiphers:
		// Checked by load, which knows them all (zoocfg_tlsopts.go).
	case keyClientHostname:
		// ZooKeeper's client port never checks a client's host name against
		// its certificate (ClientX509Util); the key is its clients'.
		return true, nil
	default:
		if strings.HasPrefix(key, "authProvider.") && value == x509Provider {
			return true, nil // x509 identities come with every verified client certificate
		}
		return false, nil
	}
	if z.values == nil {
		z.values = map[string]string{}
	}
	z.values[key] = value
	return true, nil
}

// clientAuthOf maps ssl.clientAuth to crypto/tls (need, ZooKeeper's
// default, when empty).
func clientAuthOf(v string) (tls.ClientAuthType, bool) {
	switch strings.ToLower(v) {
	case "", "need":
		return tls.RequireAndVerifyClientCert, true
	case "want":
		return tls.VerifyClientCertIfGiven, true
	case "none":
		return tls.NoClientCert, true
	}
	return 0, false
}

// load reads the key and trust stores into cfg.ClientTLS when zoo.cfg sets
// secureClientPort or client.portUnification; without either their keys
// are returned as ignored.
func (z *zooClientTLS) load(cfg *Config) (ignored []string, err error) {
	if err := z.loadEnforce(cfg); err != nil {
		return nil, err
	}
	if cfg.ClientPortUnification && (z.values["serverCnxnFactory"] != nettyFactory || cfg.ClientPort == 0) {
		// ZooKeeper unifies the plain port only in its Netty factory, and
		// only when there is a plain port.
		cfg.ClientPortUnification = false
		ignored = append(ignored, keyUnification)
	}
	if cfg.SecureClientPort == 0 && !cfg.ClientPortUnification {
		for _, k := range []string{keyClientKeyStore, keyClientTrust, keyClientAuth, keyClientProtocol, keyClientProtocols, keyClientCiphers,
			keyClientKSType, keyClientTSType, keyClientKSPass, keyClientTSPass, keyClientKSPath, keyClientTSPath} {
			if _, ok := z.values[k]; ok {
				ignored = append(ignored, k)
			}
		}
		return ignored, nil
	}
	fail := func(key string, err error) error {
		return fmt.Errorf("%w: zoo.cfg: %s: %v", ErrInvalidConfig, key, err)
	}
	ks := z.values[keyClientKeyStore]
	if ks == "" {
		key := keySecurePort
		if cfg.SecureClientPort == 0 {
			key = keyUnification
		}
		return nil, fail(key, fmt.Errorf("needs %s (the server's certificate chain and key)", keyClientKeyStore))
	}
	cert, err := loadKeyStore(z.values, fail, keyClientKeyStore, keyClientKSType, keyClientKSPass, keyClientKSPath)
	if err != nil {
		return nil, err
	}
	auth, _ := clientAuthOf(z.values[keyClientAuth])
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: auth}
	skipped, err := z.applyTLSOptions(tc)
	if err != nil {
		return nil, fmt.Errorf("%w: zoo.cfg: %v", ErrInvalidConfig, err)
	}
	for _, name := range skipped {
		ignored = append(ignored, keyClientCiphers+": "+name)
	}
	if z.values[keyClientTrust] != "" {
		if tc.ClientCAs, err = loadTrustStore(z.values, fail, keyClientTrust, keyClientTSType, keyClientTSPass, keyClientTSPath); err != nil {
			return nil, err
		}
	} else if auth != tls.NoClientCert {
		return nil, fail(keyClientAuth, fmt.Errorf("verifying clients' certificates needs %s", keyClientTrust))
	}
	cfg.ClientTLS = tc
	return ignored, nil
}

// loadEnforce sets Config.EnforceAuthSchemes as ZooKeeper's
// AuthenticationHelper reads its properties: sessionRequireClientSASLAuth
// means sasl alone; otherwise enforce.auth.enabled=true needs
// enforce.auth.schemes (comma-separated).
func (z *zooClientTLS) loadEnforce(cfg *Config) error {
	schemes, err := enforcedSchemes(z.values[keyEnforceAuth], z.values[keyEnforceSchemes], z.values[keyRequireSASL])
	if err != nil {
		return fmt.Errorf("%w: zoo.cfg: %v", ErrInvalidConfig, err)
	}
	cfg.EnforceAuthSchemes = schemes
	return nil
}

// enforcedSchemes is Config.EnforceAuthSchemes from ZooKeeper's properties
// enforce.auth.enabled, enforce.auth.schemes and
// sessionRequireClientSASLAuth (as zoo.cfg keys or as the JVM's
// zookeeper.* system properties), read as its AuthenticationHelper reads
// them: booleans as Java's Boolean.parseBoolean; the schemes split at
// commas and trimmed, an empty one refused, as ZooKeeper finds no provider
// for it.
func enforcedSchemes(enabled, schemes, requireSASL string) ([]string, error) {
	if strings.EqualFold(requireSASL, "true") {
		return []string{"sasl"}, nil
	}
	if !strings.EqualFold(enabled, "true") {
		return nil, nil
	}
	if schemes == "" {
		return nil, fmt.Errorf("%s=true needs %s", keyEnforceAuth, keyEnforceSchemes)
	}
	var out []string
	for _, s := range strings.Split(schemes, ",") {
		if s = strings.TrimSpace(s); s == "" {
			return nil, fmt.Errorf("%s %q: an empty scheme", keyEnforceSchemes, schemes)
		}
		out = append(out, s)
	}
	return out, nil
}
