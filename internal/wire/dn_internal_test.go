package wire

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"testing"
)

// TestJavaDN: subjects in the order a certificate holds them, with
// repeated and multi-valued RDNs, attributes Java names and ones it writes
// as OIDs, and every character RFC 2253 escapes. The expected names are
// what Java 17's X500Principal.getName() printed for certificates with
// these very subjects (ZooKeeper's x509 identity), not Go's
// pkix.Name.String(), which gives "CN=bob,O=zk-test" for the first.
func TestJavaDN(t *testing.T) {
	oid := func(ids ...int) asn1.ObjectIdentifier { return ids }
	ava := func(o asn1.ObjectIdentifier, v any) pkix.AttributeTypeAndValue {
		return pkix.AttributeTypeAndValue{Type: o, Value: v}
	}
	cn, o, ou := oid(2, 5, 4, 3), oid(2, 5, 4, 10), oid(2, 5, 4, 11)
	for _, c := range []struct {
		rdns pkix.RDNSequence
		want string
	}{
		{pkix.RDNSequence{{ava(cn, "bob")}, {ava(o, "zk-test")}}, "O=zk-test,CN=bob"},
		{pkix.RDNSequence{
			{ava(oid(0, 9, 2342, 19200300, 100, 1, 25), "example")}, {ava(ou, "a")}, {ava(ou, "b")},
			{ava(oid(2, 5, 4, 5), "42"), ava(oid(0, 9, 2342, 19200300, 100, 1, 1), "u1")},
			{ava(oid(1, 2, 840, 113549, 1, 9, 1), "x@y.z")}, {ava(cn, ` a,b+c"d#e=f<g>h;i\j `)},
		}, `CN=\ a\,b\+c\"d\#e\=f\<g\>h\;i\\j\ ,1.2.840.113549.1.9.1=#0c057840792e7a,2.5.4.5=#13023432+UID=u1,OU=b,OU=a,DC=example`},
		{pkix.RDNSequence{{ava(cn, "日本 josé")}, {ava(oid(2, 5, 4, 17), "12345")}, {ava(oid(2, 5, 4, 9), "Main St")}},
			"STREET=Main St,2.5.4.17=#13053132333435,CN=日本 josé"},
		{pkix.RDNSequence{{ava(cn, "  two lead  mid  trail  ")}}, `CN=\ \ two lead  mid  trail\ \ `},
	} {
		raw, err := asn1.Marshal(c.rdns)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := javaDN(raw); !ok || got != c.want {
			t.Errorf("javaDN = %q, %v\nwant        %q", got, ok, c.want)
		}
	}
	if _, ok := javaDN([]byte{0x30, 0x03, 0x01}); ok {
		t.Error("javaDN took a malformed subject")
	}
}
