package wire_test

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	gozk "github.com/go-zookeeper/zk"

	"github.com/embedzk/zk/internal/engine"
)

// TestDigestAlgAsRealZK runs the same go-zookeeper steps on ZooKeeper 3.8
// started with zookeeper.DigestAuthenticationProvider.digestAlg=SHA-256,
// then .enabled=false, each set once in zoo.cfg and once as a -D flag, and
// on zk peers configured by the same zoo.cfg line: every system must give
// the answers stated here, getACL's digest ids included.
func TestDigestAlgAsRealZK(t *testing.T) {
	superSHA256 := "DigestAuthenticationProvider.superDigest=" + sha256ID("super", "secret")
	for _, c := range []struct {
		name  string
		lines []string // zoo.cfg lines, or -Dzookeeper.<line> flags
		run   func(t *testing.T, addr string) string
		want  string
	}{
		{"digestAlg=SHA-256", []string{"DigestAuthenticationProvider.digestAlg=SHA-256", superSHA256}, digestSHA256Steps, digestSHA256Want()},
		{"enabled=false", []string{"DigestAuthenticationProvider.enabled=false"}, digestDisabledSteps, digestDisabledWant},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfgLines := strings.Join(c.lines, "\n") + "\n"
			flags := make([]string, len(c.lines))
			for i, l := range c.lines {
				flags[i] = "-Dzookeeper." + l
			}
			systems := []struct{ name, addr string }{
				{"ZooKeeper (zoo.cfg)", startZKWith(t, cfgLines)},
				{"ZooKeeper (-D)", startZKWith(t, "", flags...)},
				{"zk", startPeerWithZooCfg(t, cfgLines)},
			}
			for _, s := range systems {
				if got := c.run(t, s.addr); got != c.want {
					t.Errorf("%s answered:\n%s\nwant:\n%s", s.name, got, c.want)
				}
			}
		})
	}
}

// startZKWith starts a standalone ZooKeeper 3.8 with extra zoo.cfg lines
// and JVM flags, and returns its client address once it serves.
func startZKWith(t *testing.T, lines string, flags ...string) string {
	dir := t.TempDir()
	port := freePort(t)
	cfg := fmt.Sprintf("tickTime=500\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n%s", dir, port, lines)
	runZooCfg(t, dir, cfg, zkJars, flags...)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	waitZK(t, addr)
	return addr
}

// startPeerWithZooCfg starts a zk peer with the digest settings the
// zoo.cfg lines give (engine.ParseZooCfg), and returns its client address.
func startPeerWithZooCfg(t *testing.T, lines string) string {
	parsed, ignored, err := engine.ParseZooCfg(strings.NewReader(lines), nil)
	if err != nil || len(ignored) != 0 {
		t.Fatalf("ParseZooCfg: ignored %v, %v", ignored, err)
	}
	cfg := peerConfig()
	cfg.DigestAlg, cfg.NoDigestAuth, cfg.SuperDigest = parsed.DigestAlg, parsed.NoDigestAuth, parsed.SuperDigest
	return startPeer(t, cfg).ClientAddr()
}

// sha256ID is the digest id of user and password with SHA-256, computed
// here as a client building an ACL would.
func sha256ID(user, password string) string {
	sum := sha256.Sum256([]byte(user + ":" + password))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// digestSHA256Steps: alice's SHA-256 id opens a node whose ACL holds it,
// and is what an "auth" ACL expands to; no credential, a wrong password,
// and alice's SHA-1 id (a node made with go-zookeeper's SHA-1 DigestACL)
// do not open; the SHA-256 super digest opens everything.
func digestSHA256Steps(t *testing.T, addr string) string {
	var sb strings.Builder
	step := func(what string, err error) { fmt.Fprintf(&sb, "%s: %s\n", what, okOrErr(err)) }
	c, _ := dial(t, addr)
	step("addauth alice:pw", c.AddAuth("digest", []byte("alice:pw")))
	step("create /d", errOnly(c.Create("/d", []byte("x"), 0, []gozk.ACL{{Perms: gozk.PermAll, Scheme: "digest", ID: sha256ID("alice", "pw")}})))
	step("create /c auth", errOnly(c.Create("/c", nil, 0, gozk.AuthACL(gozk.PermAll))))
	step("create /s sha1", errOnly(c.Create("/s", nil, 0, gozk.DigestACL(gozk.PermAll, "alice", "pw"))))
	for _, p := range []string{"/d", "/c"} {
		acl, _, err := c.GetACL(p)
		step("getAcl "+p, err)
		for _, a := range acl {
			fmt.Fprintf(&sb, "  %d %s:%s\n", a.Perms, a.Scheme, a.ID)
		}
	}
	for _, cred := range []string{"alice:pw", "", "alice:wrong", "super:secret"} {
		s := c
		if cred != "alice:pw" {
			s, _ = dial(t, addr)
		}
		if cred != "" && s != c {
			step("addauth "+cred, s.AddAuth("digest", []byte(cred)))
		}
		for _, p := range []string{"/d", "/s"} {
			_, _, err := s.Get(p)
			step(fmt.Sprintf("[%s] get %s", cred, p), err)
		}
	}
	return sb.String()
}

func digestSHA256Want() string {
	alice := sha256ID("alice", "pw")
	return "addauth alice:pw: ok\ncreate /d: ok\ncreate /c auth: ok\ncreate /s sha1: ok\n" +
		"getAcl /d: ok\n  31 digest:" + alice + "\ngetAcl /c: ok\n  31 digest:" + alice + "\n" +
		"[alice:pw] get /d: ok\n[alice:pw] get /s: zk: not authenticated\n" +
		"[] get /d: zk: not authenticated\n[] get /s: zk: not authenticated\n" +
		"addauth alice:wrong: ok\n[alice:wrong] get /d: zk: not authenticated\n[alice:wrong] get /s: zk: not authenticated\n" +
		"addauth super:secret: ok\n[super:secret] get /d: ok\n[super:secret] get /s: ok\n"
}

// digestDisabledSteps: with no digest provider an addauth digest is
// AUTHFAILED; a digest entry makes an ACL invalid for a create (even
// under a missing parent), a setACL (even of a missing node) and a
// multi's create, and an "auth" ACL has nothing to expand to.
func digestDisabledSteps(t *testing.T, addr string) string {
	var sb strings.Builder
	step := func(what string, err error) { fmt.Fprintf(&sb, "%s: %s\n", what, okOrErr(err)) }
	a, _ := dial(t, addr)
	step("addauth alice:pw", a.AddAuth("digest", []byte("alice:pw")))
	c, _ := dial(t, addr)
	digest := gozk.DigestACL(gozk.PermAll, "alice", "pw")
	step("create /d digest", errOnly(c.Create("/d", nil, 0, digest)))
	step("create /p/q digest", errOnly(c.Create("/p/q", nil, 0, digest)))
	step("create /c auth", errOnly(c.Create("/c", nil, 0, gozk.AuthACL(gozk.PermAll))))
	step("create /w", errOnly(c.Create("/w", nil, 0, open)))
	step("setAcl /w digest", errOnly(c.SetACL("/w", digest, -1)))
	step("setAcl /none digest", errOnly(c.SetACL("/none", digest, -1)))
	_, err := c.Multi(&gozk.CreateRequest{Path: "/m1", Acl: open}, &gozk.CreateRequest{Path: "/m2", Acl: digest})
	step("multi", err)
	children, _, err := c.Children("/")
	slices.Sort(children)
	step("children / "+strings.Join(children, ","), err)
	return sb.String()
}

const digestDisabledWant = "addauth alice:pw: zk: client authentication failed\n" +
	"create /d digest: zk: invalid ACL specified\ncreate /p/q digest: zk: invalid ACL specified\n" +
	"create /c auth: zk: invalid ACL specified\ncreate /w: ok\n" +
	"setAcl /w digest: zk: invalid ACL specified\nsetAcl /none digest: zk: invalid ACL specified\n" +
	"multi: zk: invalid ACL specified\nchildren / w,zookeeper: ok\n"
