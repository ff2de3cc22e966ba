package engine

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// zoo.cfg keys that shape the secure client port's TLS as ZooKeeper's
// ClientX509Util reads them (zookeeper.ssl.*).
const (
	keyClientProtocol  = "ssl.protocol"
	keyClientProtocols = "ssl.enabledProtocols"
	keyClientCiphers   = "ssl.ciphersuites"
	keyClientHostname  = "ssl.hostnameVerification"
)

// zkDefaultProtocol is ZooKeeper 3.8's ssl.protocol default; with no
// ssl.enabledProtocols it is the one version its server speaks.
const zkDefaultProtocol = "TLSv1.2"

// zkDefaultCiphers are ZooKeeper 3.8's cipher suites when
// ssl.ciphersuites is unset, in its order for Java 9 and later (GCM, then
// CBC). Go implements all but the two ECDHE AES-256-CBC-SHA384 ones, which
// tlsCipherSuites leaves out.
var zkDefaultCiphers = []string{
	"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
	"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
	"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
	"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
}

// tlsVersionOf maps Java's protocol names to crypto/tls versions.
var tlsVersionOf = map[string]uint16{
	"TLSv1": tls.VersionTLS10, "TLSv1.1": tls.VersionTLS11, "TLSv1.2": tls.VersionTLS12, "TLSv1.3": tls.VersionTLS13,
}

// tlsVersionRange is the versions the secure client port speaks, as
// ZooKeeper's SSLContextAndOptions chooses them on Java 17: ssl.protocol
// (TLSv1.2 by default) names the SSLContext, and ssl.enabledProtocols
// (comma-separated) the versions, or that protocol alone if unset. Java
// 17 disables TLSv1 and TLSv1.1 (jdk.tls.disabledAlgorithms), so they are
// dropped; crypto/tls serves a range of versions, so the rest must have no
// gap.
func tlsVersionRange(protocol, enabled string) (minV, maxV uint16, err error) {
	if protocol == "" {
		protocol = zkDefaultProtocol
	}
	if _, ok := tlsVersionOf[protocol]; !ok && protocol != "TLS" {
		return 0, 0, fmt.Errorf("%s: %q is not TLS, TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3", keyClientProtocol, protocol)
	}
	names, key := []string{protocol}, keyClientProtocol
	if enabled != "" {
		names, key = strings.Split(enabled, ","), keyClientProtocols
	}
	have := map[uint16]bool{}
	for _, n := range names {
		v, ok := tlsVersionOf[strings.TrimSpace(n)]
		if !ok {
			return 0, 0, fmt.Errorf("%s: %q is not TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3", key, strings.TrimSpace(n))
		}
		if v < tls.VersionTLS12 {
			continue // disabled by Java 17, so never served by ZooKeeper
		}
		have[v] = true
		if minV == 0 || v < minV {
			minV = v
		}
		maxV = max(maxV, v)
	}
	if len(have) == 0 {
		return 0, 0, fmt.Errorf("%s %q: no version Java 17 serves (TLSv1.2, TLSv1.3)", key, strings.Join(names, ","))
	}
	for v := minV; v <= maxV; v++ {
		if !have[v] {
			return 0, 0, fmt.Errorf("%s %q: zk serves a range of TLS versions with no gap", key, enabled)
		}
	}
	return minV, maxV, nil
}

// tlsCipherSuites maps ssl.ciphersuites (comma-separated IANA names, as
// Java and Go both name them; ZooKeeper's list when empty) to the TLS 1.2
// and earlier suites crypto/tls implements and Java 17 serves, and reports
// whether the list names a TLS 1.3 suite: Go serves all of TLS 1.3's suites
// or none. Other names in list are returned in skipped.
func tlsCipherSuites(list string) (ids []uint16, has13 bool, skipped []string) {
	names := zkDefaultCiphers
	if list != "" {
		names = strings.Split(list, ",")
	}
	known, only13 := map[string]uint16{}, map[string]bool{}
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		switch {
		case len(cs.SupportedVersions) == 1 && cs.SupportedVersions[0] == tls.VersionTLS13:
			only13[cs.Name] = true
		case !strings.Contains(cs.Name, "RC4") && !strings.Contains(cs.Name, "3DES"):
			// Java 17 disables RC4 and 3DES suites (jdk.tls.disabledAlgorithms).
			known[cs.Name] = cs.ID
		}
	}
	for _, n := range names {
		n = strings.TrimSpace(n)
		switch id, ok := known[n]; {
		case ok:
			ids = append(ids, id)
		case only13[n]:
			has13 = true
		case list != "":
			skipped = append(skipped, n) // ZooKeeper's own defaults are not the user's to hear about
		}
	}
	return ids, has13, skipped
}

// applyTLSOptions sets tc's versions and cipher suites from the zoo.cfg
// keys above; skipped names the cipher suites crypto/tls lacks. As in
// ZooKeeper, whose default suites are all TLS 1.2 ones, TLS 1.3 is served
// only when ssl.ciphersuites names one of its suites; a configuration that
// would serve no version is refused (ZooKeeper starts, and fails every
// handshake).
func (z *zooClientTLS) applyTLSOptions(tc *tls.Config) (skipped []string, err error) {
	minV, maxV, err := tlsVersionRange(z.values[keyClientProtocol], z.values[keyClientProtocols])
	if err != nil {
		return nil, err
	}
	ids, has13, skipped := tlsCipherSuites(z.values[keyClientCiphers])
	if !has13 {
		maxV = min(maxV, tls.VersionTLS12)
	}
	if len(ids) == 0 {
		minV = max(minV, tls.VersionTLS13)
	}
	if minV > maxV {
		return nil, fmt.Errorf("%s %q: no suite for the TLS versions served (%s, %s): TLS 1.3 needs one of its suites listed, TLS 1.2 and earlier one of theirs",
			keyClientCiphers, z.values[keyClientCiphers], keyClientProtocol, keyClientProtocols)
	}
	tc.MinVersion, tc.MaxVersion, tc.CipherSuites = minV, maxV, ids
	return skipped, nil
}
