package main

import (
	"reflect"
	"testing"
)

// TestTokenize holds zkCli's line splitting (ARGS_PATTERN and
// QUOTED_PATTERN), quirks included, as ZooKeeper 3.8's Java regexes split
// these lines.
func TestTokenize(t *testing.T) {
	for _, c := range []struct {
		line string
		want []string
	}{
		{"ls /", []string{"ls", "/"}},
		{"  ls   -s\t/a  ", []string{"ls", "-s", "/a"}},
		{`create /q "hello world"`, []string{"create", "/q", "hello world"}},
		{`create /q 'single quoted'`, []string{"create", "/q", "single quoted"}},
		{`create /q ""`, []string{"create", "/q", ""}},
		{`create /q "unterminated`, []string{"create", "/q", "unterminated"}}, // the quote is skipped
		{`set /a x"y z"`, []string{"set", "/a", `x"y`, `z"`}},
		{`set /a "x y"z`, []string{"set", "/a", "x y", "z"}},
		{`set /a 'it''s'`, []string{"set", "/a", "it", "s"}},
		{"   ", []string{" "}}, // zkCli: "Command not found  "
		{`"`, nil},             // nothing to parse
		{"", nil},
		{"a\x0bb", []string{"a", "b"}}, // Java's \s includes the vertical tab
	} {
		if got := tokenize(c.line); !reflect.DeepEqual(got, c.want) {
			t.Errorf("tokenize(%q) = %q, want %q", c.line, got, c.want)
		}
	}
}

// TestOptionParser holds Commons CLI's DefaultParser rules zkCli's
// commands rely on, with its messages.
func TestOptionParser(t *testing.T) {
	for _, c := range []struct {
		spec   string
		tokens []string
		args   []string
		values map[string]string
		err    string
	}{
		{"swR", []string{"ls", "-s", "/"}, []string{"ls", "/"}, map[string]string{"s": ""}, ""},
		{"swR", []string{"ls", "-sR", "/"}, []string{"ls", "/"}, map[string]string{"s": "", "R": ""}, ""},
		{"swR", []string{"ls", "/", "-w"}, []string{"ls", "/"}, map[string]string{"w": ""}, ""},
		{"swR", []string{"ls", "-x", "/"}, nil, nil,
			"org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -x"},
		{"swR", []string{"ls", "-sx", "/"}, nil, nil,
			"org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -sx"},
		{"swR", []string{"ls", "--foo"}, nil, nil,
			"org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: --foo"},
		{"swR", []string{"ls", "-s", "--", "-w"}, []string{"ls", "-w"}, map[string]string{"s": ""}, ""},
		{"swR", []string{"ls", "-", "/"}, []string{"ls", "-", "/"}, map[string]string{}, ""},
		{"v:", []string{"delete", "-v", "3", "/a"}, []string{"delete", "/a"}, map[string]string{"v": "3"}, ""},
		{"v:", []string{"delete", "-v3", "/a"}, []string{"delete", "/a"}, map[string]string{"v": "3"}, ""},
		{"v:", []string{"delete", "-v=3", "/a"}, []string{"delete", "/a"}, map[string]string{"v": "3"}, ""},
		{"v:", []string{"delete", "-v", "-1", "/a"}, []string{"delete", "/a"}, map[string]string{"v": "-1"}, ""},
		{"v:", []string{"delete", "-v", "-x", "/a"}, []string{"delete", "/a"}, map[string]string{"v": "-x"}, ""},
		{"v:", []string{"delete", "-v", "1", "-v", "2", "/a"}, []string{"delete", "/a"}, map[string]string{"v": "1"}, ""},
		{"v:", []string{"delete", "-v"}, nil, nil,
			"org.apache.commons.cli.MissingArgumentException: Missing argument for option: v"},
		{"sv:", []string{"set", "-v", "-s", "/a", "d"}, nil, nil,
			"org.apache.commons.cli.MissingArgumentException: Missing argument for option: v"},
		{"sv:", []string{"set", "-s=1", "/a", "d"}, nil, nil,
			"org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: -s=1"},
		{"t:", []string{"create", "-t", `"5"`, "/a"}, []string{"create", "/a"}, map[string]string{"t": "5"}, ""},
	} {
		p, err := flags(c.spec).parse(c.tokens)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%q: error %v, want %q", c.tokens, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.tokens, err)
			continue
		}
		if !reflect.DeepEqual(p.args, c.args) {
			t.Errorf("%q: args %q, want %q", c.tokens, p.args, c.args)
		}
		for name, v := range c.values {
			if !p.has(name) || p.value(name) != v {
				t.Errorf("%q: option %s = %v %q, want %q", c.tokens, name, p.has(name), p.value(name), v)
			}
		}
		if len(p.seen) != len(c.values) {
			t.Errorf("%q: options %v, want %v", c.tokens, p.seen, c.values)
		}
	}
}

// TestOptionGroup holds the exclusive and required group of setquota and
// delquota, with Commons CLI's messages (as zkCli 3.8 printed them).
func TestOptionGroup(t *testing.T) {
	missing := "org.apache.commons.cli.MissingOptionException: Missing required option: " +
		"[-n num soft quota, -b bytes soft quota, -N num hard quota, -B bytes hard quota]"
	both := "org.apache.commons.cli.AlreadySelectedException: The option 'b' was specified " +
		"but an option from this group has already been selected: 'n'"
	for _, c := range []struct {
		values bool
		tokens []string
		err    string
	}{
		{true, []string{"setquota", "/a"}, missing},
		{true, []string{"setquota", "-n", "5", "-b", "10", "/a"}, both},
		{true, []string{"setquota", "-n", "5", "-n", "6", "/a"}, ""},
		{true, []string{"setquota", "-B", "5", "/a"}, ""},
		{false, []string{"delquota", "/a"}, ""},
		{false, []string{"delquota", "-n", "-b", "/a"}, both},
	} {
		_, err := quotaFlags(c.values).parse(c.tokens)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.err {
			t.Errorf("%q: error %q, want %q", c.tokens, got, c.err)
		}
	}
}

func TestJavaNumbers(t *testing.T) {
	for _, c := range []struct {
		s    string
		want int32
		ok   bool
	}{
		{"1", 1, true}, {"0x1f", 31, true}, {"#10", 16, true}, {"010", 8, true}, {"-0x10", -16, true},
		{"0", 0, true}, {"abc", 0, false}, {"", 0, false}, {"2147483648", 0, false}, {"--1", 0, false},
		{"0x", 0, false}, {"1_0", 0, false},
	} {
		got, ok := javaDecodeInt(c.s)
		if got != c.want || ok != c.ok {
			t.Errorf("Integer.decode(%q) = %d, %v; want %d, %v", c.s, got, ok, c.want, c.ok)
		}
	}
	for _, c := range []struct {
		s  string
		ok bool
	}{{"-1", true}, {"+5", true}, {"1.5", false}, {"0x10", false}, {"2147483647", true}, {"2147483648", false}, {"+-1", false}} {
		if _, ok := javaParseInt(c.s); ok != c.ok {
			t.Errorf("Integer.parseInt(%q) ok = %v, want %v", c.s, ok, c.ok)
		}
	}
	for _, c := range []struct {
		s  string
		ok bool
	}{{"-5", true}, {"-1.5e3", true}, {"-5d", true}, {"-Infinity", true}, {"-inf", false}, {"-x", false}, {"-", false}} {
		if got := isJavaDouble(c.s); got != c.ok {
			t.Errorf("isJavaDouble(%q) = %v, want %v", c.s, got, c.ok)
		}
	}
}
