// Package digestmd5 is the server side of one SASL DIGEST-MD5 authentication
// exchange (RFC 2831), as ZooKeeper's client port speaks it.
//
// It behaves as the JDK's DIGEST-MD5 SaslServer does when Apache ZooKeeper
// 3.8 creates it with
//
//	Sasl.createSaslServer("DIGEST-MD5", "zookeeper", "zk-sasl-md5", null, handler)
//
// so the Java ZooKeeper client (the JDK's DigestMD5Client) and kazoo (pure-sasl)
// authenticate against it unchanged. A Server takes the client's empty
// initial token and answers with a challenge offering the realm serverName,
// a fresh nonce (30 random bytes, base64), qop "auth", charset=utf-8 and
// algorithm=md5-sess. It then takes the client's digest-response, verifies it
// against the password the lookup returns, and answers "rspauth=..." so the
// client can check the server in turn. Every failure ends the exchange with
// an error wrapping ErrAuthFailed.
//
// # What it checks
//
// The digest-response is a comma-separated list of name=value and
// name="quoted value" directives (names case-insensitive; a known directive
// at most once; unknown directives ignored), of at most 4096 bytes. It must
// carry username, realm (exactly serverName), nonce (exactly the one sent),
// cnonce, nc (exactly 00000001), digest-uri (protocol/serverName, compared
// case-insensitively; the client's spelling is what is hashed) and response
// (32 hex digits, compared in constant time). qop, if present, must be
// "auth"; charset, if present, "utf-8"; maxbuf, if present, a decimal int32.
// authzid, if present, takes part in A1, but User reports the username:
// ZooKeeper replaces the authorization id with the authenticated user's name.
//
// Character sets follow the JDK: the username is decoded as UTF-8 whether or
// not the client sent charset=utf-8 (the server offered it); the username,
// realm and password are each hashed in ISO 8859-1 when every character fits
// in it, otherwise in UTF-8.
//
// # Where it departs from the JDK
//
// The JDK ignores a non-empty initial token; Server refuses it. The JDK's
// server never reads nc (it looks for a "nonce-count" directive instead) and
// hashes with 00000001; Server requires nc=00000001, as RFC 2831 does. The
// JDK splits directives on white space as well as commas, and takes a
// directive with no "=" or an empty unquoted value; Server refuses these. The
// JDK's challenge carries no qop directive (meaning "auth"); Server's says
// qop="auth". None of this matters to the clients above.
//
// # What it does not do
//
// No integrity or confidentiality layer (qop auth-int and auth-conf are
// refused, so there is no wrap or unwrap), no subsequent authentication (a
// nonce serves one exchange, with nc 00000001), no GSSAPI or any other
// mechanism, and no client side.
package digestmd5
