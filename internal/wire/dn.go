package wire

import (
	"encoding/asn1"
	"strings"
	"unicode/utf8"
)

// javaDN formats a certificate's raw subject (its DER RDNSequence) as
// Java's X500Principal.getName() does (RFC 2253), which is the name
// ZooKeeper's X509AuthenticationProvider gives a client: the RDNs in
// reverse order, separated by ','; the values of a multi-valued RDN joined
// by '+'; the keywords CN, C, L, ST, O, OU, STREET, DC and UID, every
// other attribute as its dotted OID with the value's DER in hex
// ("2.5.4.5=#130234..."); in a string value the characters ,=+<>#;"\ are
// escaped with a backslash, and so is each space or CR of a leading or
// trailing run of them.
// Go's pkix.Name.String orders and names attributes differently, so an
// x509 ACL or super user written for ZooKeeper would not match it.
func javaDN(raw []byte) (string, bool) {
	var rdns []javaRDNSET
	if rest, err := asn1.Unmarshal(raw, &rdns); err != nil || len(rest) > 0 {
		return "", false
	}
	parts := make([]string, 0, len(rdns))
	for i := len(rdns) - 1; i >= 0; i-- {
		avas := make([]string, 0, len(rdns[i]))
		for _, a := range rdns[i] {
			avas = append(avas, a.rfc2253())
		}
		parts = append(parts, strings.Join(avas, "+"))
	}
	return strings.Join(parts, ","), true
}

// javaRDNSET is one relative distinguished name (an ASN.1 SET OF; the
// suffix tells encoding/asn1 so), its values kept raw.
type javaRDNSET []javaAVA

type javaAVA struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// javaKeywords are the attribute names Java writes in RFC 2253 form.
func javaKeyword(oid asn1.ObjectIdentifier) string {
	switch oid.String() {
	case "2.5.4.3":
		return "CN"
	case "2.5.4.6":
		return "C"
	case "2.5.4.7":
		return "L"
	case "2.5.4.8":
		return "ST"
	case "2.5.4.10":
		return "O"
	case "2.5.4.11":
		return "OU"
	case "2.5.4.9":
		return "STREET"
	case "0.9.2342.19200300.100.1.25":
		return "DC"
	case "0.9.2342.19200300.100.1.1":
		return "UID"
	}
	return ""
}

func (a javaAVA) rfc2253() string {
	key := javaKeyword(a.Type)
	s, isString := derString(a.Value)
	if key == "" || !isString {
		if key == "" {
			key = a.Type.String()
		}
		var b strings.Builder
		b.WriteString(key)
		b.WriteString("=#")
		const hex = "0123456789abcdef"
		for _, c := range a.Value.FullBytes {
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
		return b.String()
	}
	// Java escapes every space and CR of the value's leading and trailing
	// runs of them.
	isPad := func(r rune) bool { return r == ' ' || r == '\r' }
	lead := len(s) - len(strings.TrimLeftFunc(s, isPad))
	trail := len(strings.TrimRightFunc(s, isPad))
	var b strings.Builder
	b.WriteString(key)
	b.WriteByte('=')
	for i, r := range s {
		switch {
		case strings.ContainsRune(`,=+<>#;"\`, r), isPad(r) && (i < lead || i >= trail):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == 0:
			b.WriteString(`\00`)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// derString is the text of a DER string value Java reads as one
// (UTF8String, PrintableString, IA5String, T61String as Latin-1,
// BMPString); false for any other type, which Java writes in hex.
func derString(v asn1.RawValue) (string, bool) {
	if v.Class != asn1.ClassUniversal {
		return "", false
	}
	switch v.Tag {
	case asn1.TagUTF8String, asn1.TagPrintableString, asn1.TagIA5String:
		if !utf8.Valid(v.Bytes) {
			return "", false
		}
		return string(v.Bytes), true
	case asn1.TagT61String:
		r := make([]rune, len(v.Bytes))
		for i, c := range v.Bytes {
			r[i] = rune(c)
		}
		return string(r), true
	case asn1.TagBMPString:
		if len(v.Bytes)%2 != 0 {
			return "", false
		}
		r := make([]rune, 0, len(v.Bytes)/2)
		for i := 0; i < len(v.Bytes); i += 2 {
			r = append(r, rune(v.Bytes[i])<<8|rune(v.Bytes[i+1]))
		}
		return string(r), true
	}
	return "", false
}
