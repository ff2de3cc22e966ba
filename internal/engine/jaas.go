package engine

import (
	"fmt"
	"os"
	"strings"
)

// digestLoginModule is the JAAS login module whose user_<name> options are
// ZooKeeper's SASL DIGEST-MD5 users.
const digestLoginModule = "org.apache.zookeeper.server.auth.DigestLoginModule"

// LoadJAAS reads the SASL users (Config.SASLUsers) from the JAAS
// configuration file at path, as ZooKeeper's server reads the file its
// java.security.auth.login.config system property names: the section
// named "Server", and in it the options user_<name>="<password>" of
// org.apache.zookeeper.server.auth.DigestLoginModule. A file without a
// Server section gives no users. A Server section with another login
// module (Kerberos's Krb5LoginModule) is refused: zk serves DIGEST-MD5
// only. Comments (// and /* */) and quoted or bare values are read as
// Java's ConfigFile reads them.
func LoadJAAS(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("zk: %w", err)
	}
	users, err := ParseJAAS(string(b))
	if err != nil {
		return nil, fmt.Errorf("%w: JAAS file %s: %v", ErrInvalidConfig, path, err)
	}
	return users, nil
}

// ParseJAAS is LoadJAAS on the file's text.
func ParseJAAS(text string) (map[string]string, error) {
	toks, err := jaasTokens(text)
	if err != nil {
		return nil, err
	}
	users := map[string]string{}
	p := jaasParser{toks: toks}
	for !p.done() {
		name := p.word()
		p.want("{")
		for p.err == nil && !p.done() && p.peek() != "}" {
			module, flag := p.word(), p.word()
			if !validJAASFlag(flag) {
				p.fail(fmt.Sprintf("login module %s: flag %q is not required, requisite, sufficient or optional", module, flag))
			}
			opts := map[string]string{}
			for p.err == nil && !p.done() && p.peek() != ";" {
				k := p.word()
				p.want("=")
				opts[k] = p.word()
			}
			p.want(";")
			if p.err == nil && name == "Server" {
				if module != digestLoginModule {
					return nil, fmt.Errorf("section Server: login module %s: zk serves SASL DIGEST-MD5 only (%s)", module, digestLoginModule)
				}
				for k, v := range opts {
					if user, ok := strings.CutPrefix(k, "user_"); ok && user != "" {
						users[user] = v
					}
				}
			}
		}
		p.want("}")
		p.want(";")
		if p.err != nil {
			return nil, p.err
		}
	}
	return users, nil
}

func validJAASFlag(f string) bool {
	switch strings.ToLower(f) {
	case "required", "requisite", "sufficient", "optional":
		return true
	}
	return false
}

// jaasToken is a word (bare or quoted) or one of { } ; =.
type jaasToken struct {
	text   string
	quoted bool
}

// jaasTokens splits a JAAS file into tokens, dropping comments.
func jaasTokens(s string) ([]jaasToken, error) {
	var out []jaasToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.HasPrefix(s[i:], "//"):
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("an unterminated /* comment")
			}
			i += end + 4
		case c == '{' || c == '}' || c == ';' || c == '=':
			out = append(out, jaasToken{text: string(c)})
			i++
		case c == '"':
			var b strings.Builder
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("an unterminated quoted value")
			}
			out = append(out, jaasToken{text: b.String(), quoted: true})
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n{};=\"", rune(s[j])) {
				j++
			}
			out = append(out, jaasToken{text: s[i:j]})
			i = j
		}
	}
	return out, nil
}

// jaasParser walks the tokens; the first error sticks.
type jaasParser struct {
	toks []jaasToken
	i    int
	err  error
}

func (p *jaasParser) done() bool { return p.err != nil || p.i >= len(p.toks) }

func (p *jaasParser) peek() string {
	if p.i >= len(p.toks) || p.toks[p.i].quoted {
		return ""
	}
	return p.toks[p.i].text
}

func (p *jaasParser) fail(msg string) {
	if p.err == nil {
		p.err = fmt.Errorf("token %d: %s", p.i+1, msg)
	}
}

// word takes a bare or quoted word.
func (p *jaasParser) word() string {
	if p.err != nil {
		return ""
	}
	if p.i >= len(p.toks) {
		p.fail("the file ends where a word is due")
		return ""
	}
	t := p.toks[p.i]
	if !t.quoted && strings.Contains("{};=", t.text) {
		p.fail(fmt.Sprintf("%q where a word is due", t.text))
		return ""
	}
	p.i++
	return t.text
}

// want takes the punctuation s.
func (p *jaasParser) want(s string) {
	if p.err != nil {
		return
	}
	if p.peek() != s {
		if p.i >= len(p.toks) {
			p.fail(fmt.Sprintf("the file ends where %q is due", s))
		} else {
			p.fail(fmt.Sprintf("%q where %q is due", p.toks[p.i].text, s))
		}
		return
	}
	p.i++
}
