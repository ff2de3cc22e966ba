package zkclient

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/embedzk/zk/internal/keystore"
	"github.com/embedzk/zk/internal/props"
)

// The keys of a ZooKeeper client configuration file (ZKClientConfig) that
// LoadClientConfig reads; ClientX509Util's keys start "zookeeper.ssl.".
const (
	keySecure          = "zookeeper.client.secure"
	keySocket          = "zookeeper.clientCnxnSocket"
	keySSL             = "zookeeper.ssl."
	keyContextSupplier = keySSL + "context.supplier.class"
	keyHostname        = keySSL + "hostnameVerification"
	keyProtocol        = keySSL + "protocol"
	keyClientAuth      = keySSL + "clientAuth"
	keyHandshakeMillis = keySSL + "handshakeDetectionTimeoutMillis"
)

// ZooKeeper's two client sockets, as zookeeper.clientCnxnSocket names
// them (the class's simple name or its full one).
const (
	socketNIO   = "org.apache.zookeeper.ClientCnxnSocketNIO"
	socketNetty = "org.apache.zookeeper.ClientCnxnSocketNetty"
)

// ErrClientConfig is wrapped by every error of LoadClientConfig.
var ErrClientConfig = errors.New("zkclient: client configuration")

// ErrSocketClass is wrapped by the error of a zookeeper.clientCnxnSocket
// that names neither of ZooKeeper's sockets (the Java client fails to
// instantiate it; zk cannot load Java classes).
var ErrSocketClass = errors.New("unknown client socket class")

// LoadClientConfig reads a ZooKeeper client configuration file (zkCli's
// -client-configuration, ZKClientConfig) with java.util.Properties'
// rules, and returns its TLS: nil unless zookeeper.client.secure is true.
// See the package documentation for the keys it reads.
func LoadClientConfig(path string) (*TLS, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: Error while processing %s: %w", ErrClientConfig, abs, err)
	}
	defer f.Close()
	entries, err := props.Read(f, abs)
	if err != nil {
		return nil, fmt.Errorf("%w: Error while processing %s: %w", ErrClientConfig, abs, err)
	}
	p := map[string]string{}
	for _, e := range entries {
		p[e.Key] = e.Value
	}
	t, err := clientTLS(p)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrClientConfig, abs, err)
	}
	return t, nil
}

// javaTrue is ZKConfig.getBoolean: "true" in any case is true, any other
// value false.
func javaTrue(v string) bool { return strings.EqualFold(v, "true") }

// clientTLS is the TLS the properties p ask for, as ZooKeeper 3.8's
// client builds it: its socket from zookeeper.clientCnxnSocket, and, with
// zookeeper.client.secure, ClientX509Util's SSLContext.
func clientTLS(p map[string]string) (*TLS, error) {
	netty := false
	switch s := p[keySocket]; s {
	case "", "ClientCnxnSocketNIO", socketNIO:
	case "ClientCnxnSocketNetty", socketNetty:
		netty = true
	default:
		return nil, fmt.Errorf("%w: %s: Couldn't instantiate %s (zk knows %s and %s)", ErrSocketClass, keySocket, s, socketNIO, socketNetty)
	}
	if !javaTrue(p[keySecure]) {
		return nil, nil
	}
	if !netty {
		// ZooKeeper's NIO socket ignores zookeeper.client.secure and talks
		// in plain text to the secure port, which never answers.
		return nil, fmt.Errorf("%s=true needs %s=%s: ZooKeeper's default NIO socket ignores it and connects in plain text",
			keySecure, keySocket, socketNetty)
	}
	if v := p[keyContextSupplier]; v != "" {
		return nil, fmt.Errorf("%s %q: zk cannot load a Java class", keyContextSupplier, v)
	}
	// SSLContextAndOptions, built with the context, throws for these.
	switch v := strings.ToUpper(p[keyClientAuth]); v {
	case "", "NONE", "WANT", "NEED":
	default:
		return nil, fmt.Errorf("%s %q: not none, want or need", keyClientAuth, p[keyClientAuth])
	}
	if v, ok := p[keyHandshakeMillis]; ok {
		if _, err := strconv.ParseInt(v, 10, 32); err != nil {
			return nil, fmt.Errorf("%s %q: not a number", keyHandshakeMillis, v)
		}
	}
	t := &TLS{}
	var err error
	if t.MinVersion, t.MaxVersion, err = clientVersions(p[keyProtocol]); err != nil {
		return nil, err
	}
	if err := t.loadStores(p); err != nil {
		return nil, err
	}
	return t, nil
}

// clientVersions are the TLS versions the Java 17 client offers for the
// SSLContext ssl.protocol names (TLSv1.2 by default): ZooKeeper 3.8's
// Netty client takes its engine's default protocols (TLSv1.2 and earlier
// for TLSv1.2, TLSv1.3 and earlier for TLSv1.3 and TLS), less the ones
// Java 17 disables (TLSv1, TLSv1.1); it applies neither
// ssl.enabledProtocols nor ssl.ciphersuites.
func clientVersions(protocol string) (minV, maxV uint16, err error) {
	switch protocol {
	case "", "TLSv1.2":
		return tls.VersionTLS12, tls.VersionTLS12, nil
	case "TLSv1.3", "TLS":
		return tls.VersionTLS12, tls.VersionTLS13, nil
	case "TLSv1", "TLSv1.1":
		return 0, 0, fmt.Errorf("%s %q: Java 17 disables it, so no version is left to offer", keyProtocol, protocol)
	}
	return 0, 0, fmt.Errorf("%s %q: not TLS, TLSv1.2 or TLSv1.3", keyProtocol, protocol)
}

// loadStores reads the key store and the trust store the properties name
// (X509Util.createSSLContextAndOptionsFromConfig): each only if its
// location is set; a passwordPath's file wins over the password.
func (t *TLS) loadStores(p map[string]string) error {
	if loc := p[keySSL+"keyStore.location"]; loc != "" {
		pw, err := storePassword(p, "keyStore")
		if err != nil {
			return err
		}
		cert, err := keystore.Load(loc, p[keySSL+"keyStore.type"], pw)
		if err != nil {
			return fmt.Errorf("%skeyStore: %w", keySSL, err)
		}
		t.Certificates = []tls.Certificate{cert}
	}
	loc := p[keySSL+"trustStore.location"]
	if loc == "" {
		return nil // the system's CAs, and no host check: Java's default trust manager
	}
	pw, err := storePassword(p, "trustStore")
	if err != nil {
		return err
	}
	if t.Roots, err = keystore.LoadTrust(loc, p[keySSL+"trustStore.type"], pw); err != nil {
		return fmt.Errorf("%strustStore: %w", keySSL, err)
	}
	hv, set := p[keyHostname]
	t.VerifyHost = !set || javaTrue(hv)
	return nil
}

// storePassword is X509Util.getPasswordFromConfigPropertyOrFile for the
// store (keyStore or trustStore).
func storePassword(p map[string]string, store string) (string, error) {
	path := p[keySSL+store+".passwordPath"]
	if path == "" {
		return p[keySSL+store+".password"], nil
	}
	pw, err := keystore.ReadPassword(path)
	if err != nil {
		return "", fmt.Errorf("%s%s.passwordPath: %w", keySSL, store, err)
	}
	return pw, nil
}
