// Package keystore reads the key and trust stores ZooKeeper's TLS settings
// name (ssl.keyStore.*, ssl.trustStore.*, and their ssl.quorum.* twins),
// in the three types Apache ZooKeeper 3.8 reads on a stock JVM:
//
//   - PEM: certificates ("CERTIFICATE") and, in a key store, one private key
//     in PKCS#8 ("PRIVATE KEY"), or, with a password, encrypted PKCS#8
//     ("ENCRYPTED PRIVATE KEY") with PKCS#12's PBE-SHA1-3DES (the scheme
//     ZooKeeper 3.8 reads on Java 17) or PBES2 with PBKDF2 and AES-CBC
//     (openssl's default, which that ZooKeeper cannot read). A plain key
//     with a password set is refused, as ZooKeeper refuses it; PKCS#1 and
//     SEC 1 keys, which ZooKeeper refuses, are read;
//   - JKS: Java's own format (magic 0xFEEDFEED), its integrity digest
//     checked with the password ("" when none is set: ZooKeeper passes an
//     empty one, which Java checks), and a private key unsealed with it
//     (Sun's key protector, OID 1.3.6.1.4.1.42.2.17.1.1), as ZooKeeper
//     passes the store's password for its keys;
//   - PKCS12: read with software.sslmate.com/src/go-pkcs12, which knows the
//     legacy and the PBES2 encryptions that keytool and openssl write.
//
// A key store is one private key with its certificate chain: the first
// private-key entry of a JKS or PKCS12 file, with its chain. A trust store
// is the CA certificates clients or peers are verified against: a PEM
// file's certificates, a JKS file's trusted-certificate entries, a PKCS12
// file's certificates marked trusted (as keytool -importcert marks them; a
// PKCS12 trust store that also holds a key is refused).
//
// The type is the store's *.type setting, case-insensitive; empty means
// from the file name as ZooKeeper guesses it (.jks, .p12, .pem; any other
// name is an error). As Java 17's KeyStore (keystore.type.compat), a
// store of type JKS that holds PKCS12 is read as PKCS12 and the other way
// round. A store that cannot be read, or a wrong password, is an error that
// names the file; nothing is ever half read.
package keystore
