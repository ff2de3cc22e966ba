package main

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// argsPattern splits a command line as zkCli's MyCommandOptions.parseCommand
// does (its ARGS_PATTERN, with Java's \s spelled out): a token is a run of
// non-blanks not starting with a quote, or a whole "double" or 'single'
// quoted string, whose quotes are then removed. Go's regexp prefers
// alternatives and repetitions in Java's order, so the same lines give the
// same tokens, quirks included (an unmatched quote is skipped; a line of
// blanks is one blank token).
var argsPattern = regexp.MustCompile(
	"[ \t\n\x0B\f\r]*([^\"'][^ \t\n\x0B\f\r]*|\"[^\"]*\"|'[^']*')[ \t\n\x0B\f\r]*")

const javaSpaceChar = "\t\n\v\f\r "

// tokenize splits line into its command and arguments. An empty result
// means the line holds nothing zkCli can parse.
func tokenize(line string) []string {
	var out []string
	for _, m := range argsPattern.FindAllStringSubmatch(line, -1) {
		out = append(out, unquote(m[1]))
	}
	return out
}

// unquote is zkCli's QUOTED_PATTERN: a token enclosed in a pair of the same
// quote loses them, unless a line terminator sits inside (Java's "." does
// not match one).
func unquote(v string) string {
	n := len(v)
	if n < 2 || (v[0] != '"' && v[0] != '\'') || v[n-1] != v[0] {
		return v
	}
	if strings.ContainsAny(v[1:n-1], "\r\n\u0085\u2028\u2029") {
		return v
	}
	return v[1 : n-1]
}

// javaString returns b decoded as Java's new String(b, UTF_8) does: every
// byte that is not part of valid UTF-8 becomes U+FFFD.
func javaString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		sb.WriteRune(r) // RuneError for an invalid byte, with n == 1
		b = b[n:]
	}
	return sb.String()
}

// optionSpec describes a command's options as Apache Commons CLI's Options
// does for zkCli: single-letter names, each taking one value or none, and
// at most one exclusive group (setquota's and delquota's), maybe required.
type optionSpec struct {
	takesArg map[string]bool
	group    []string // exclusive group, in declaration order
	required bool     // the group is required
	descs    map[string]string
}

// parsedOptions is what DefaultParser.parse returns: the options seen, with
// their values in order, and the other tokens (the command name included).
type parsedOptions struct {
	values map[string][]string
	seen   map[string]bool
	args   []string
}

func (p *parsedOptions) has(name string) bool { return p.seen[name] }

// value returns the option's first value.
func (p *parsedOptions) value(name string) string {
	if v := p.values[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// optParser holds the state of one parse, as DefaultParser does.
type optParser struct {
	spec     *optionSpec
	out      *parsedOptions
	current  string // the option waiting for its value, "" if none
	skip     bool   // after "--": every token is an argument
	selected string // the group's selected option
	expected bool   // the required group is still missing
}

// parse parses tokens (the command name first) as DefaultParser.parse(
// options, tokens) does, with stopAtNonOption false. Its errors carry
// Commons CLI's exception names and messages, as zkCli prints them.
func (s *optionSpec) parse(tokens []string) (*parsedOptions, error) {
	p := &optParser{
		spec:     s,
		out:      &parsedOptions{values: map[string][]string{}, seen: map[string]bool{}},
		expected: s.required,
	}
	for _, t := range tokens {
		if err := p.token(t); err != nil {
			return nil, err
		}
	}
	if err := p.checkRequiredArg(); err != nil {
		return nil, err
	}
	if p.expected {
		var names []string
		for _, g := range s.group {
			names = append(names, "-"+g+" "+s.descs[g])
		}
		return nil, cliErr("org.apache.commons.cli.MissingOptionException: Missing required option: [" +
			strings.Join(names, ", ") + "]")
	}
	return p.out, nil
}

func (p *optParser) token(t string) error {
	switch {
	case p.skip:
		p.out.args = append(p.out.args, t)
	case t == "--":
		p.skip = true
	case p.current != "" && p.isArgument(t):
		p.addValue(stripQuotes(t))
	case strings.HasPrefix(t, "--"):
		return unrecognized(t) // zkCli's commands have no long options
	case strings.HasPrefix(t, "-") && t != "-":
		if err := p.shortOption(t); err != nil {
			return err
		}
	default:
		p.out.args = append(p.out.args, t)
	}
	return nil
}

// shortOption is handleShortAndLongOption for a spec without long options.
func (p *optParser) shortOption(token string) error {
	t := token[1:]
	eq := strings.IndexByte(t, '=')
	switch {
	case len(t) == 1:
		if _, ok := p.spec.takesArg[t]; ok {
			return p.option(t)
		}
		return unrecognized(token)
	case eq == -1:
		if _, ok := p.spec.takesArg[t]; ok {
			return p.option(t)
		}
		return p.concatenated(token)
	case eq == 1 && p.spec.takesArg[t[:1]]:
		if err := p.option(t[:1]); err != nil {
			return err
		}
		p.addValue(t[2:])
		p.current = ""
		return nil
	}
	return unrecognized(token)
}

// concatenated is handleConcatenatedOptions: "-sR", or "-v5" where an
// option taking a value takes the rest of the token.
func (p *optParser) concatenated(token string) error {
	for i := 1; i < len(token); i++ {
		ch := token[i : i+1]
		if _, ok := p.spec.takesArg[ch]; !ok {
			return unrecognized(token)
		}
		if err := p.option(ch); err != nil {
			return err
		}
		if p.current != "" && len(token) != i+1 {
			p.addValue(token[i+1:])
			return nil
		}
	}
	return nil
}

// option is handleOption: it checks the previous option got its value,
// updates the group and makes name the current option if it takes one.
func (p *optParser) option(name string) error {
	if err := p.checkRequiredArg(); err != nil {
		return err
	}
	for _, g := range p.spec.group {
		if g != name {
			continue
		}
		p.expected = false
		if p.selected != "" && p.selected != name {
			return cliErr("org.apache.commons.cli.AlreadySelectedException: The option '" + name +
				"' was specified but an option from this group has already been selected: '" + p.selected + "'")
		}
		p.selected = name
	}
	p.out.seen[name] = true
	p.current = ""
	if p.spec.takesArg[name] {
		p.current = name
	}
	return nil
}

func (p *optParser) addValue(v string) {
	p.out.values[p.current] = append(p.out.values[p.current], v)
	p.current = "" // every option here takes exactly one value
}

func (p *optParser) checkRequiredArg() error {
	if p.current != "" {
		return cliErr("org.apache.commons.cli.MissingArgumentException: Missing argument for option: " + p.current)
	}
	return nil
}

// isArgument is DefaultParser.isArgument: a token that is not an option,
// or a negative number.
func (p *optParser) isArgument(t string) bool {
	return !p.isShortOption(t) || isJavaDouble(t)
}

func (p *optParser) isShortOption(t string) bool {
	if !strings.HasPrefix(t, "-") || len(t) == 1 {
		return false
	}
	name := t[1:]
	if i := strings.IndexByte(name, '='); i >= 0 {
		name = name[:i]
	}
	if _, ok := p.spec.takesArg[name]; ok {
		return true
	}
	if name == "" {
		return false
	}
	_, ok := p.spec.takesArg[name[:1]]
	return ok
}

// isJavaDouble approximates Double.parseDouble's acceptance.
func isJavaDouble(t string) bool {
	t = strings.Trim(t, javaSpaceChar)
	if n := len(t); n > 0 && strings.ContainsRune("fFdD", rune(t[n-1])) {
		t = t[:n-1]
	}
	body := strings.TrimLeft(t, "+-")
	if body == "NaN" || body == "Infinity" {
		return len(t)-len(body) <= 1
	}
	if strings.ContainsAny(t, "_iInN") {
		return false
	}
	_, err := strconv.ParseFloat(t, 64)
	return err == nil
}

// stripQuotes is Commons CLI's Util.stripLeadingAndTrailingQuotes.
func stripQuotes(s string) string {
	n := len(s)
	if n > 1 && s[0] == '"' && s[n-1] == '"' && !strings.Contains(s[1:n-1], `"`) {
		return s[1 : n-1]
	}
	return s
}

func unrecognized(token string) error {
	return cliErr("org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: " + token)
}

// javaDecodeInt is Integer.decode: an optional sign, then decimal, 0x / 0X /
// # hexadecimal, or 0 octal.
func javaDecodeInt(s string) (int32, bool) {
	neg := false
	body := s
	if body != "" && (body[0] == '-' || body[0] == '+') {
		neg = body[0] == '-'
		body = body[1:]
	}
	base := 10
	switch {
	case strings.HasPrefix(body, "0x"), strings.HasPrefix(body, "0X"):
		base, body = 16, body[2:]
	case strings.HasPrefix(body, "#"):
		base, body = 16, body[1:]
	case strings.HasPrefix(body, "0") && len(body) > 1:
		base, body = 8, body[1:]
	}
	if body == "" || body[0] == '-' || body[0] == '+' {
		return 0, false
	}
	v, err := strconv.ParseInt(body, base, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		v = -v
	}
	if v < -1<<31 || v > 1<<31-1 {
		return 0, false
	}
	return int32(v), true
}

// javaParseInt is Integer.parseInt: an optional sign and decimal digits.
func javaParseInt(s string) (int32, bool) {
	if s == "" || strings.ContainsAny(s, "_ ") || (len(s) > 1 && (s[1] == '+' || s[1] == '-')) {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 32)
	return int32(v), err == nil
}

// javaParseLong is Long.parseLong.
func javaParseLong(s string) (int64, bool) {
	if s == "" || strings.ContainsAny(s, "_ ") || (len(s) > 1 && (s[1] == '+' || s[1] == '-')) {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}
