package engine

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/embedzk/zk/internal/keystore"
)

// zoo.cfg keys for peer authentication (documented at ParseZooCfg).
// ZooKeeper authenticates quorum peers with SASL, or with TLS from Java key
// stores; zk with a shared secret or mutual TLS from PEM files, under names
// in ZooKeeper's style. sslQuorum, ssl.quorum.keyStore.* and
// ssl.quorum.trustStore.* are ZooKeeper's own keys (PEM, JKS or PKCS12
// stores, package keystore).
const (
	keySecretFile    = "quorum.auth.secret.location"
	keySSLQuorum     = "sslQuorum"
	keyCertFile      = "ssl.quorum.certificate.location"
	keyPrivKeyFile   = "ssl.quorum.privateKey.location"
	keyKeyStore      = "ssl.quorum.keyStore.location"
	keyKeyStoreType  = "ssl.quorum.keyStore.type"
	keyKeyStorePass  = "ssl.quorum.keyStore.password"
	keyKeyStorePath  = "ssl.quorum.keyStore.passwordPath"
	keyTrustStore    = "ssl.quorum.trustStore.location"
	keyTrustStoreTyp = "ssl.quorum.trustStore.type"
	keyTrustStorePas = "ssl.quorum.trustStore.password"
	keyTrustStorePth = "ssl.quorum.trustStore.passwordPath"
)

// zooAuth collects the peer-authentication keys of a zoo.cfg while it is
// parsed; load then reads the files they name.
type zooAuth struct {
	values map[string]string
	lines  map[string]int
}

// set records key if it is a peer-authentication key.
func (a *zooAuth) set(key, value string, line int) (known bool, err error) {
	switch key {
	case keySecretFile, keyCertFile, keyPrivKeyFile, keyKeyStore, keyTrustStore,
		keyKeyStorePass, keyKeyStorePath, keyTrustStorePas, keyTrustStorePth:
	case keySSLQuorum:
		if _, err := zooBool(value); err != nil {
			return true, err
		}
	case keyKeyStoreType, keyTrustStoreTyp:
		if _, err := keystore.TypeOf(value, ""); err != nil {
			return true, err
		}
	default:
		return false, nil
	}
	if a.values == nil {
		a.values, a.lines = map[string]string{}, map[string]int{}
	}
	a.values[key], a.lines[key] = value, line
	return true, nil
}

// load reads the secret and the TLS files into cfg. TLS files count only
// with sslQuorum=true, as in ZooKeeper; otherwise their keys are returned
// as ignored.
func (a *zooAuth) load(cfg *Config) (ignored []string, err error) {
	if path := a.values[keySecretFile]; path != "" {
		if cfg.PeerSecret, err = readSecretFile(path); err != nil {
			return nil, a.fail(keySecretFile, err)
		}
	}
	tlsKeys := []string{keyCertFile, keyPrivKeyFile, keyKeyStore, keyTrustStore}
	if on, _ := zooBool(a.values[keySSLQuorum]); !on {
		for _, k := range tlsKeys {
			if _, ok := a.values[k]; ok {
				ignored = append(ignored, k)
			}
		}
		return ignored, nil
	}
	cfg.PeerTLS, err = a.loadTLS()
	return nil, err
}

func (a *zooAuth) fail(key string, err error) error {
	return fmt.Errorf("%w: zoo.cfg line %d: %s: %v", ErrInvalidConfig, a.lines[key], key, err)
}

// readSecretFile reads a shared secret; one trailing line end ("\n" or
// "\r\n", as an editor or echo leaves) is not part of it.
func readSecretFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r")), nil
}

// loadTLS builds the mutual-TLS configuration from the PEM files.
func (a *zooAuth) loadTLS() (*tls.Config, error) {
	v := a.values
	var cert tls.Certificate
	var err error
	switch {
	case v[keyKeyStore] != "" && (v[keyCertFile] != "" || v[keyPrivKeyFile] != ""):
		return nil, a.fail(keyKeyStore, fmt.Errorf("set either it or %s and %s, not both", keyCertFile, keyPrivKeyFile))
	case v[keyKeyStore] != "":
		if cert, err = loadKeyStore(v, a.fail, keyKeyStore, keyKeyStoreType, keyKeyStorePass, keyKeyStorePath); err != nil {
			return nil, err
		}
	case v[keyCertFile] != "" && v[keyPrivKeyFile] != "":
		if cert, err = tls.LoadX509KeyPair(v[keyCertFile], v[keyPrivKeyFile]); err != nil {
			return nil, a.fail(keyCertFile, err)
		}
	default:
		return nil, fmt.Errorf("%w: zoo.cfg: %s=true needs %s and %s (or %s)", ErrInvalidConfig,
			keySSLQuorum, keyCertFile, keyPrivKeyFile, keyKeyStore)
	}
	if v[keyTrustStore] == "" {
		return nil, fmt.Errorf("%w: zoo.cfg: %s=true needs %s", ErrInvalidConfig, keySSLQuorum, keyTrustStore)
	}
	pool, err := loadTrustStore(v, a.fail, keyTrustStore, keyTrustStoreTyp, keyTrustStorePas, keyTrustStorePth)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      pool,
		ClientCAs:    pool,
		MinVersion:   tls.VersionTLS12,
	}, nil
}

// storePassword is a store's password as ZooKeeper's X509Util reads it:
// the file its passwordPath key names, if set, else its password key.
func storePassword(v map[string]string, passKey, pathKey string) (string, error) {
	if p := v[pathKey]; p != "" {
		return keystore.ReadPassword(p)
	}
	return v[passKey], nil
}

// loadKeyStore reads the key store the location key of v names, of the
// type and with the password the other keys give (package keystore); fail
// makes the error of the key at fault.
func loadKeyStore(v map[string]string, fail func(string, error) error, locKey, typeKey, passKey, pathKey string) (tls.Certificate, error) {
	pw, err := storePassword(v, passKey, pathKey)
	if err != nil {
		return tls.Certificate{}, fail(pathKey, err)
	}
	cert, err := keystore.Load(v[locKey], v[typeKey], pw)
	if err != nil {
		return tls.Certificate{}, fail(locKey, err)
	}
	return cert, nil
}

// loadTrustStore reads the trust store the location key of v names.
func loadTrustStore(v map[string]string, fail func(string, error) error, locKey, typeKey, passKey, pathKey string) (*x509.CertPool, error) {
	pw, err := storePassword(v, passKey, pathKey)
	if err != nil {
		return nil, fail(pathKey, err)
	}
	pool, err := keystore.LoadTrust(v[locKey], v[typeKey], pw)
	if err != nil {
		return nil, fail(locKey, err)
	}
	return pool, nil
}
