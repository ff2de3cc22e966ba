package digestmd5

import (
	"errors"
	"fmt"
)

// knownDirective reports whether name is a digest-response directive of
// RFC 2831 §2.1.2, which may appear at most once. Any other name is an
// auth-param and is ignored.
func knownDirective(name string) bool {
	switch name {
	case "username", "realm", "nonce", "cnonce", "nc", "qop", "digest-uri",
		"response", "maxbuf", "charset", "cipher", "authzid":
		return true
	}
	return false
}

// directiveParser walks one digest-response:
//
//	digest-response = 1#( name "=" ( token | quoted-string ) )
//
// with #rule lists (empty elements allowed, LWS around "," and "="),
// quoted-strings whose backslash escapes any byte, and case-insensitive names.
type directiveParser struct {
	b []byte
	i int
}

// parseDirectives parses a digest-response into the values of the known
// directives, keyed by lower-case name. Quoted values are unescaped. It
// refuses malformed syntax and a known directive given twice.
func parseDirectives(b []byte) (map[string][]byte, error) {
	p := directiveParser{b: b}
	out := make(map[string][]byte)
	for {
		p.skipLWS()
		if p.i == len(p.b) {
			return out, nil
		}
		if p.b[p.i] == ',' {
			p.i++ // an empty list element
			continue
		}
		name, value, err := p.directive()
		if err != nil {
			return nil, err
		}
		p.skipLWS()
		if p.i < len(p.b) {
			if p.b[p.i] != ',' {
				return nil, fmt.Errorf("expected ',' after directive %q", name)
			}
			p.i++
		}
		if !knownDirective(name) {
			continue
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("directive %q appears more than once", name)
		}
		out[name] = value
	}
}

// directive reads name LWS "=" LWS value, with p at the name's first byte.
func (p *directiveParser) directive() (string, []byte, error) {
	start := p.i
	for p.i < len(p.b) && isTokenByte(p.b[p.i]) {
		p.i++
	}
	if p.i == start {
		return "", nil, fmt.Errorf("bad directive name at byte %d", start)
	}
	name := lowerASCII(p.b[start:p.i])
	p.skipLWS()
	if p.i == len(p.b) || p.b[p.i] != '=' {
		return "", nil, fmt.Errorf("expected '=' after directive name %q", name)
	}
	p.i++
	p.skipLWS()
	var value []byte
	var err error
	if p.i < len(p.b) && p.b[p.i] == '"' {
		value, err = p.quoted()
	} else {
		value, err = p.unquoted()
	}
	if err != nil {
		return "", nil, fmt.Errorf("directive %q: %w", name, err)
	}
	return name, value, nil
}

// quoted reads a quoted-string, p at its opening quote, and returns its
// content with backslash escapes removed.
func (p *directiveParser) quoted() ([]byte, error) {
	p.i++ // opening quote
	value := []byte{}
	for p.i < len(p.b) {
		c := p.b[p.i]
		p.i++
		switch c {
		case '"':
			return value, nil
		case '\\':
			if p.i == len(p.b) {
				return nil, errors.New("unterminated quoted-string")
			}
			value = append(value, p.b[p.i])
			p.i++
		default:
			value = append(value, c)
		}
	}
	return nil, errors.New("unterminated quoted-string")
}

// unquoted reads an unquoted value: one or more bytes up to LWS or ",".
// Like the JDK it takes any such bytes (a digest-uri sent unquoted, for
// instance), but it refuses control characters and quotes.
func (p *directiveParser) unquoted() ([]byte, error) {
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == ',' || isLWS(c) {
			break
		}
		if c < 0x20 || c == 0x7F || c == '"' {
			return nil, fmt.Errorf("bad byte 0x%02x in unquoted value", c)
		}
		p.i++
	}
	if p.i == start {
		return nil, errors.New("empty value")
	}
	return append([]byte(nil), p.b[start:p.i]...), nil
}

func (p *directiveParser) skipLWS() {
	for p.i < len(p.b) && isLWS(p.b[p.i]) {
		p.i++
	}
}

// isLWS reports LWS = [CRLF] 1*( SP | HT ), taken byte by byte as the JDK
// does.
func isLWS(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

// isTokenByte reports whether c may appear in an RFC 2616 token: a visible
// US-ASCII character other than a separator.
func isTokenByte(c byte) bool {
	if c <= 0x20 || c >= 0x7F {
		return false
	}
	switch c {
	case '(', ')', '<', '>', '@', ',', ';', ':', '\\', '"',
		'/', '[', ']', '?', '=', '{', '}':
		return false
	}
	return true
}

func lowerASCII(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return string(out)
}
