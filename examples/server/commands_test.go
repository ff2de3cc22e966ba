package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestVersion: zkServer.sh's version prints one line with the version and
// the build time, in ZooKeeper's shape, with the Using config line on
// stderr.
func TestVersion(t *testing.T) {
	var out, errb syncBuffer
	if code := run(context.Background(), []string{"version", "/etc/zk/zoo.cfg"}, &out, &errb, nil); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	want := regexp.MustCompile(`^zk, version 3\.8\.0-zk, built on \d{4}-\d\d-\d\d \d\d:\d\d UTC\n$`)
	if !want.MatchString(out.String()) || errb.String() != "Using config: /etc/zk/zoo.cfg\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), errb.String())
	}
}

// TestPrintCmd: print-cmd prints the command start would run: this
// program as start-foreground on the configuration, with the flags given,
// its output to the .out file in $ZOO_LOG_DIR.
func TestPrintCmd(t *testing.T) {
	cfg := writeCfg(t, freePort(t), freePort(t))
	logDir := t.TempDir()
	t.Setenv("ZOO_LOG_DIR", logDir)
	t.Setenv("USER", "u")
	t.Setenv("HOSTNAME", "h")
	var out, errb syncBuffer
	if code := run(context.Background(), []string{"print-cmd", cfg, "-rejoin"}, &out, &errb, nil); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	want := shellQuote(self) + " start-foreground -config " + shellQuote(cfg) + " -rejoin=true > " +
		shellQuote(filepath.Join(logDir, "zookeeper-u-server-h.out")) + " 2>&1 < /dev/null\n"
	if out.String() != want {
		t.Errorf("stdout %q\nwant   %q", out.String(), want)
	}
	for in, want := range map[string]string{"/a/b-c_d.cfg": "/a/b-c_d.cfg", "": "''", "a b": "'a b'",
		"$HOME": "'$HOME'", "it's": `'it'\''s'`, "`x`": "'`x`'"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
	if code := run(context.Background(), []string{"print-cmd", "/nonexistent/zoo.cfg"}, &out, &errb, nil); code != 1 {
		t.Errorf("print-cmd of a missing file: exit %d", code)
	}
}
