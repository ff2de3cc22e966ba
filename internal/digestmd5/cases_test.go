package digestmd5

import (
	"strings"
)

// respCase is one digest-response, built against whatever nonce the server
// under test issued. The Go exchange test runs every case against Server; the
// JDK differential test runs the same bytes against the JDK's SaslServer.
type respCase struct {
	name string
	edit func(*fields)       // before the response value is computed
	kvs  func([]kv) []kv     // after: edits the directives sent
	wire func([]byte) []byte // last: edits the bytes sent
	ok   bool                // Server accepts it
	// reason, for a refusal, is a substring of the error: the refusal must
	// come from the check the case is about.
	reason string
	// jdkDiffers marks a deliberate difference from the JDK server, which
	// decides the other way; the reason is in the case's name.
	jdkDiffers bool
}

// build returns the fields and the token of c for nonce.
func (c respCase) build(nonce string) (fields, []byte) {
	f := defaultFields(nonce)
	if c.edit != nil {
		c.edit(&f)
	}
	d := f.directives()
	if c.kvs != nil {
		d = c.kvs(d)
	}
	tok := render(d)
	if c.wire != nil {
		tok = c.wire(tok)
	}
	return f, tok
}

func user(name, hashUser, hashPass string) func(*fields) {
	return func(f *fields) { f.user, f.hashUser, f.hashPass = name, hashUser, hashPass }
}

// padTo pads a token with an unknown directive to exactly n bytes.
func padTo(n int) func([]byte) []byte {
	return func(b []byte) []byte {
		const frame = `,x-pad=""`
		return append(b, []byte(`,x-pad="`+strings.Repeat("a", n-len(b)-len(frame))+`"`)...)
	}
}

func appendRaw(s string) func([]byte) []byte {
	return func(b []byte) []byte { return append(append([]byte(nil), b...), s...) }
}

func upperResponse(d []kv) []kv {
	out := append([]kv(nil), d...)
	for i := range out {
		if out[i].name == "response" {
			out[i].value = strings.ToUpper(out[i].value)
		}
	}
	return out
}

// upperNamesSpaced writes names in upper case with whitespace around every
// '=' and ','. No value in these tests contains '=' or ','.
func upperNamesSpaced(b []byte) []byte {
	s := string(b)
	for _, n := range []string{"charset", "username", "realm", "nonce", "nc", "cnonce", "digest-uri", "maxbuf", "response", "qop"} {
		s = strings.Replace(s, n+"=", strings.ToUpper(n)+"=", 1)
	}
	s = strings.ReplaceAll(s, "=", " \t= ")
	s = strings.ReplaceAll(s, ",", "\r\n ,  ")
	return []byte("  " + s + " ")
}

var successCases = []respCase{
	{name: "alice", ok: true},
	{name: "no qop means auth", kvs: without("qop"), ok: true},
	{name: "no charset", edit: func(f *fields) { f.charset = "" }, ok: true},
	{name: "no maxbuf", kvs: without("maxbuf"), ok: true},
	{name: "authzid", edit: func(f *fields) { f.authzid, f.withAuthzid = "bob", true }, ok: true},
	{name: "empty authzid", edit: func(f *fields) { f.withAuthzid = true }, ok: true},
	{name: "Latin-1 user and password hashed in ISO 8859-1",
		edit: user("josé", "jos\xe9", "p\xe4ssw\xf6rd"), ok: true},
	{name: "non-Latin-1 user and password hashed in UTF-8",
		edit: user("日本", "日本", "パスワード"), ok: true},
	{name: "UTF-8 user without charset (the JDK decodes UTF-8 regardless)",
		edit: func(f *fields) { user("日本", "日本", "パスワード")(f); f.charset = "" }, ok: true},
	{name: "Latin-1 user, non-Latin-1 password", edit: user("müller", "m\xfcller", "密码"), ok: true},
	{name: "escaped quote and backslash in username",
		edit: user(`a"b\c`, `a"b\c`, `quoted"pw\`), ok: true},
	{name: "digest-uri in other case, hashed as sent",
		edit: func(f *fields) { f.uri, f.hashURI = "ZooKeeper/ZK-SASL-MD5", "ZooKeeper/ZK-SASL-MD5" }, ok: true},
	{name: "upper-case names and whitespace", wire: upperNamesSpaced, ok: true},
	{name: "empty list elements", wire: func(b []byte) []byte {
		return []byte(",, ," + strings.Replace(string(b), ",", ",,", 1) + ",")
	}, ok: true},
	{name: "unknown directives ignored, even twice",
		kvs: func(d []kv) []kv { return appendKV("x-ext", "1")(appendKV("x-ext", `"2"`)(d)) }, ok: true},
	{name: "cipher ignored with qop auth", kvs: appendKV("cipher", "rc4"), ok: true},
	{name: "token of exactly 4096 bytes", wire: padTo(4096), ok: true},
}

var refusalCases = []respCase{
	{name: "username twice", reason: `appears more than once`, kvs: duplicate("username")},
	{name: "realm twice", reason: `appears more than once`, kvs: duplicate("realm")},
	{name: "nonce twice", reason: `appears more than once`, kvs: duplicate("nonce")},
	{name: "cnonce twice", reason: `appears more than once`, kvs: duplicate("cnonce")},
	{name: "nc twice (the JDK does not know nc)", reason: `appears more than once`, kvs: duplicate("nc"), jdkDiffers: true},
	{name: "qop twice", reason: `appears more than once`, kvs: duplicate("qop")},
	{name: "digest-uri twice", reason: `appears more than once`, kvs: duplicate("digest-uri")},
	{name: "response twice", reason: `appears more than once`, kvs: duplicate("response")},
	{name: "maxbuf twice", reason: `appears more than once`, kvs: duplicate("maxbuf")},
	{name: "charset twice", reason: `appears more than once`, kvs: duplicate("charset")},
	{name: "cipher twice", reason: `appears more than once`, kvs: func(d []kv) []kv { return appendKV("cipher", "rc4")(appendKV("cipher", "rc4")(d)) }},
	{name: "authzid twice", reason: `appears more than once`, edit: func(f *fields) { f.authzid, f.withAuthzid = "bob", true }, kvs: duplicate("authzid")},
	{name: "missing username", reason: `missing username`, kvs: without("username")},
	{name: "missing realm", reason: `missing realm`, kvs: without("realm")},
	{name: "missing nonce", reason: `missing nonce`, kvs: without("nonce")},
	{name: "missing cnonce", reason: `missing cnonce`, kvs: without("cnonce")},
	{name: "missing nc (the JDK defaults it)", reason: `missing nc`, kvs: without("nc"), jdkDiffers: true},
	{name: "missing response", reason: `missing response`, kvs: without("response")},
	{name: "missing digest-uri", reason: `missing digest-uri`, kvs: without("digest-uri")},
	{name: "qop auth-int", reason: `is not auth`, kvs: set("qop", "auth-int")},
	{name: "qop auth-conf", reason: `is not auth`, kvs: set("qop", "auth-conf")},
	{name: "qop AUTH", reason: `is not auth`, kvs: set("qop", "AUTH")},
	{name: "qop list", reason: `is not auth`, kvs: set("qop", `"auth,auth-int"`)},
	{name: "other nonce", reason: `nonce does not match`, edit: func(f *fields) { f.nonce += "x" }},
	{name: "empty nonce", reason: `nonce does not match`, edit: func(f *fields) { f.nonce = "" }},
	{name: "nc 2", reason: `nc "`, edit: func(f *fields) { f.nc, f.hashNC = "00000002", "00000002" }},
	{name: "nc 1 unpadded (the JDK ignores nc)", reason: `nc "`, edit: func(f *fields) { f.nc = "1" }, jdkDiffers: true},
	{name: "other realm", reason: `was not offered`, edit: func(f *fields) { f.realm, f.hashRealm = "other", "other" }},
	{name: "realm in other case", reason: `was not offered`, edit: func(f *fields) { f.realm, f.hashRealm = "ZK-SASL-MD5", "ZK-SASL-MD5" }},
	{name: "empty realm", reason: `was not offered`, edit: func(f *fields) { f.realm, f.hashRealm = "", "" }},
	{name: "digest-uri other host", reason: `is not zookeeper/zk-sasl-md5`, edit: func(f *fields) { f.uri, f.hashURI = "zookeeper/other", "zookeeper/other" }},
	{name: "digest-uri other protocol", reason: `is not zookeeper/zk-sasl-md5`, edit: func(f *fields) { f.uri, f.hashURI = "imap/zk-sasl-md5", "imap/zk-sasl-md5" }},
	{name: "digest-uri with serv-name", reason: `is not zookeeper/zk-sasl-md5`, edit: func(f *fields) { f.uri, f.hashURI = testURI+"/x", testURI+"/x" }},
	{name: "digest-uri protocol only", reason: `is not zookeeper/zk-sasl-md5`, edit: func(f *fields) { f.uri, f.hashURI = "zookeeper", "zookeeper" }},
	{name: "charset iso-8859-1", reason: `is not utf-8`, edit: func(f *fields) { f.charset = "iso-8859-1" }},
	{name: "charset UTF-8 (the JDK wants it lower-case)", reason: `is not utf-8`, edit: func(f *fields) { f.charset = "UTF-8" }},
	{name: "response of 31 hex digits", reason: `not 32 hex digits`, kvs: set("response", strings.Repeat("a", 31))},
	{name: "response of 33 hex digits", reason: `not 32 hex digits`, kvs: set("response", strings.Repeat("a", 33))},
	{name: "response not hex", reason: `not 32 hex digits`, kvs: set("response", strings.Repeat("g", 32))},
	{name: "response in upper case", reason: `wrong response`, kvs: upperResponse},
	{name: "unknown user", reason: `unknown user`, edit: user("mallory", "mallory", "secret")},
	{name: "wrong password", reason: `wrong response`, edit: func(f *fields) { f.hashPass = "wrong" }},
	{name: "authzid hashed but not sent", reason: `wrong response`, edit: func(f *fields) { f.authzid, f.withAuthzid = "bob", true },
		kvs: without("authzid")},
	{name: "authzid sent but not hashed", reason: `wrong response`, kvs: appendKV("authzid", `"bob"`)},
	{name: "Latin-1 user hashed in UTF-8", reason: `wrong response`, edit: user("josé", "josé", "p\xe4ssw\xf6rd")},
	{name: "Latin-1 password hashed in UTF-8", reason: `wrong response`, edit: user("josé", "jos\xe9", "pässwörd")},
	{name: "non-Latin-1 password hashed as unmappable ISO 8859-1", reason: `wrong response`, edit: user("müller", "m\xfcller", "??")},
	{name: "username in ISO 8859-1 bytes", reason: `not valid UTF-8`, edit: func(f *fields) {
		user("jos\xe9", "jos\xe9", "p\xe4ssw\xf6rd")(f)
		f.charset = ""
	}},
	{name: "maxbuf not a number", reason: `maxbuf`, kvs: set("maxbuf", "abc")},
	{name: "maxbuf too large", reason: `maxbuf`, kvs: set("maxbuf", "99999999999")},
	{name: "token of 4097 bytes", reason: `exceeds 4096`, wire: padTo(4097)},
	{name: "empty token", reason: `missing username`, wire: func([]byte) []byte { return nil }},
	{name: "unterminated quoted-string", reason: `malformed`, wire: appendRaw(`,x="abc`)},
	{name: "trailing backslash", reason: `malformed`, wire: appendRaw(`,x="abc\`)},
	{name: "directive without '='", reason: `malformed`, wire: appendRaw(`,x`), jdkDiffers: true},
	{name: "empty name", reason: `malformed`, wire: appendRaw(`,="a"`)},
	{name: "bytes after quoted-string", reason: `malformed`, wire: appendRaw(`,x="a"b`)},
	{name: "space instead of comma (the JDK splits on LWS)", reason: `malformed`, wire: func(b []byte) []byte {
		return []byte(strings.Replace(string(b), ",", " ", 1))
	}, jdkDiffers: true},
	{name: "empty unquoted value", reason: `malformed`, wire: appendRaw(`,x=,y=1`), jdkDiffers: true},
	{name: "space inside a name", reason: `malformed`, wire: appendRaw(`,x y=1`)},
}
