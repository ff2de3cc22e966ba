package engine

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
)

// zoo.cfg keys of the secure client port (documented at ParseZooCfg), as
// ZooKeeper names them; PEM files only.
const (
	keySecurePort     = "secureClientPort"
	keySecureAddr     = "secureClientPortAddress"
	keyClientKeyStore = "ssl.keyStore.location"
	keyClientKSType   = "ssl.keyStore.type"
	keyClientKSPass   = "ssl.keyStore.password"
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
	case keyEnforceAuth, keyRequireSASL:
		if value != "true" && value != "false" {
			return true, fmt.Errorf("%q is not true or false", value)
		}
	case keyEnforceSchemes:
	case "serverCnxnFactory":
		// ZooKeeper serves TLS with Netty's factory; zk's client I/O is
		// chosen by zk.clientIO, and TLS connections get a reader each.
		if value != nettyFactory && value != nioFactory {
			return true, fmt.Errorf("%q is not ZooKeeper's NIO or Netty factory", value)
		}
		return true, nil
	case keyClientKeyStore, keyClientTrust:
	case keyClientKSType, keyClientTSType:
		if !strings.EqualFold(value, "PEM") && value != "" {
			return true, fmt.Errorf("zk reads PEM files only, not %q", value)
		}
	case keyClientKSPass, keyClientTSPass:
		if value != "" {
			return true, fmt.Errorf("zk reads unencrypted PEM files only: protect them by their permissions")
		}
	case keyClientAuth:
		if _, ok := clientAuthOf(value); !ok {
			return true, fmt.Errorf("%q is not need, want or none", value)
		}
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
// secureClientPort; without it their keys are returned as ignored.
func (z *zooClientTLS) load(cfg *Config) (ignored []string, err error) {
	if err := z.loadEnforce(cfg); err != nil {
		return nil, err
	}
	if cfg.SecureClientPort == 0 {
		for _, k := range []string{keyClientKeyStore, keyClientTrust, keyClientAuth} {
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
		return nil, fail(keySecurePort, fmt.Errorf("needs %s (a PEM file with the server's certificate chain and key)", keyClientKeyStore))
	}
	pem, err := os.ReadFile(ks)
	if err != nil {
		return nil, fail(keyClientKeyStore, err)
	}
	cert, err := tls.X509KeyPair(pem, pem)
	if err != nil {
		return nil, fail(keyClientKeyStore, err)
	}
	auth, _ := clientAuthOf(z.values[keyClientAuth])
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: auth, MinVersion: tls.VersionTLS12}
	if ts := z.values[keyClientTrust]; ts != "" {
		ca, err := os.ReadFile(ts)
		if err != nil {
			return nil, fail(keyClientTrust, err)
		}
		tc.ClientCAs = x509.NewCertPool()
		if !tc.ClientCAs.AppendCertsFromPEM(ca) {
			return nil, fail(keyClientTrust, fmt.Errorf("no PEM certificate in %s", ts))
		}
	} else if auth != tls.NoClientCert {
		return nil, fail(keyClientAuth, fmt.Errorf("verifying clients' certificates needs %s", keyClientTrust))
	}
	cfg.ClientTLS = tc
	return nil, nil
}

// loadEnforce sets Config.EnforceAuthSchemes as ZooKeeper's
// AuthenticationHelper reads its properties: sessionRequireClientSASLAuth
// means sasl alone; otherwise enforce.auth.enabled=true needs
// enforce.auth.schemes (comma-separated).
func (z *zooClientTLS) loadEnforce(cfg *Config) error {
	if z.values[keyRequireSASL] == "true" {
		cfg.EnforceAuthSchemes = []string{"sasl"}
		return nil
	}
	if z.values[keyEnforceAuth] != "true" {
		return nil
	}
	for _, s := range strings.Split(z.values[keyEnforceSchemes], ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.EnforceAuthSchemes = append(cfg.EnforceAuthSchemes, s)
		}
	}
	if len(cfg.EnforceAuthSchemes) == 0 {
		return fmt.Errorf("%w: zoo.cfg: %s=true needs %s", ErrInvalidConfig, keyEnforceAuth, keyEnforceSchemes)
	}
	return nil
}
