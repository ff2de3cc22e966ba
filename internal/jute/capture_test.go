package jute_test

// Capturing the table tests' frames from real clients talking to a real
// ZooKeeper 3.8. Not part of a normal run: it needs a ZooKeeper listening at
// the address given by -jute.capture, then
//
//	go test ./internal/jute -run TestCapture -jute.capture=127.0.0.1:2181
//
// rewrites testdata/*.frames. A recording proxy sits between each client and
// the server and logs every frame, in order, with its direction.

import (
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"
)

var captureAddr = flag.String("jute.capture", "", "address of a real ZooKeeper to capture frames from")

// recorder is a one-connection-at-a-time recording TCP proxy.
type recorder struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	lines  []string
	wg     sync.WaitGroup
}

func newRecorder(t *testing.T, target string) *recorder {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{ln: ln, target: target}
	r.wg.Add(1)
	go r.accept()
	return r
}

func (r *recorder) accept() {
	defer r.wg.Done()
	for conn := 0; ; conn++ {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", r.target)
		if err != nil {
			c.Close()
			continue
		}
		r.note(fmt.Sprintf("= connection %d", conn))
		r.wg.Add(2)
		go r.pipe(c, s, "C")
		go r.pipe(s, c, "S")
	}
}

func (r *recorder) note(line string) {
	r.mu.Lock()
	r.lines = append(r.lines, line)
	r.mu.Unlock()
}

// pipe copies frames from src to dst, logging each.
func (r *recorder) pipe(src, dst net.Conn, dir string) {
	defer r.wg.Done()
	defer dst.Close()
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(src, hdr[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(hdr[:])
		if n > 1<<24 {
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(src, body); err != nil {
			return
		}
		r.note(dir + " " + hex.EncodeToString(body))
		if _, err := dst.Write(append(hdr[:], body...)); err != nil {
			return
		}
	}
}

func (r *recorder) save(t *testing.T, name, comment string) {
	r.ln.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := "# " + comment + "\n" + strings.Join(r.lines, "\n") + "\n"
	if err := os.WriteFile(filepath.Join("testdata", name), []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCapture(t *testing.T) {
	if *captureAddr == "" {
		t.Skip("capture only on demand: -jute.capture=host:port of a real ZooKeeper")
	}
	t.Run("gozk", func(t *testing.T) { captureGoZK(t) })
	t.Run("zkcli", func(t *testing.T) { captureZkCli(t) })
	t.Run("kazoo", func(t *testing.T) { captureKazoo(t) })
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// captureGoZK drives go-zookeeper through every request it can send.
func captureGoZK(t *testing.T) {
	rec := newRecorder(t, *captureAddr)
	c, _, err := gozk.Connect([]string{rec.ln.Addr().String()}, 4*time.Second, gozk.WithLogger(gozk.DefaultLogger))
	must(t, err)
	acl := gozk.WorldACL(gozk.PermAll)
	_, err = c.Create("/cap", []byte("root"), 0, acl)
	must(t, err)
	_, err = c.Create("/cap/seq-", nil, gozk.FlagSequence|gozk.FlagEphemeral, acl)
	must(t, err)
	_, err = c.CreateContainer("/cap/box", []byte{}, gozk.FlagContainer, acl)
	must(t, err)
	_, err = c.CreateTTL("/cap/ttl", []byte("t"), gozk.FlagTTL, acl, time.Minute)
	must(t, err)
	_, err = c.Create("/cap", nil, 0, acl) // NodeExists
	if err == nil {
		t.Fatal("want NodeExists")
	}
	_, _, ch, err := c.GetW("/cap")
	must(t, err)
	_, _, _, err = c.ExistsW("/cap/missing")
	must(t, err)
	_, _, chc, err := c.ChildrenW("/cap")
	must(t, err)
	_, err = c.Set("/cap", []byte("v2"), 0)
	must(t, err)
	<-ch
	_, err = c.Create("/cap/kid", []byte("k"), 0, acl)
	must(t, err)
	<-chc
	_, _, err = c.Get("/cap/missing")
	if err == nil {
		t.Fatal("want NoNode")
	}
	_, _, err = c.Children("/cap")
	must(t, err)
	_, _, err = c.GetACL("/cap")
	must(t, err)
	must(t, c.AddAuth("digest", []byte("user:pw")))
	_, err = c.SetACL("/cap/kid", append(gozk.DigestACL(gozk.PermAll, "user", "pw"), acl...), -1)
	must(t, err)
	_, err = c.Sync("/cap")
	must(t, err)
	_, err = c.Multi(&gozk.CreateRequest{Path: "/cap/m", Data: []byte("m"), Acl: acl},
		&gozk.SetDataRequest{Path: "/cap/m", Data: []byte("m2"), Version: -1},
		&gozk.CheckVersionRequest{Path: "/cap", Version: 1},
		&gozk.DeleteRequest{Path: "/cap/m", Version: -1})
	must(t, err)
	_, err = c.Multi(&gozk.CreateRequest{Path: "/cap/m2", Acl: acl},
		&gozk.CheckVersionRequest{Path: "/cap", Version: 7},
		&gozk.DeleteRequest{Path: "/cap/nope", Version: -1})
	if err == nil {
		t.Fatal("want a failed multi")
	}
	must(t, c.Delete("/cap/kid", -1))
	must(t, c.Delete("/cap/box", -1))
	must(t, c.Delete("/cap/ttl", -1))
	time.Sleep(3 * time.Second) // a ping
	c.Close()
	time.Sleep(200 * time.Millisecond)
	rec.save(t, "gozk.frames", "go-zookeeper v1.0.4 against Debian ZooKeeper 3.8.0")
}

// captureZkCli runs zkCli.sh through the proxy with the seeds' commands.
func captureZkCli(t *testing.T) {
	rec := newRecorder(t, *captureAddr)
	script := strings.Join([]string{
		"create /cli data", "create -e /cli/eph e", "create -s /cli/s- s", "create -c /cli/c",
		"create -t 60000 /cli/t t", "ls -s -R /cli", "ls -w /cli", "get -s -w /cli", "set -v 0 /cli d2",
		"stat /cli", "getEphemerals /cli", "getAllChildrenNumber /cli", "addWatch -m PERSISTENT_RECURSIVE /cli",
		"addWatch /cli/c", "removewatches /cli/c", "addauth digest u:p", "whoami", "setAcl /cli/t auth:u:p:cdrwa",
		"getAcl /cli/t", "sync /cli", "delete -v 0 /cli/t", "deleteall /cli", "quit",
	}, "\n")
	cmd := exec.Command("/usr/share/zookeeper/bin/zkCli.sh", "-server", rec.ln.Addr().String())
	cmd.Stdin = strings.NewReader(script + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Logf("%s", out)
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	rec.save(t, "zkcli.frames", "zkCli.sh (ZooKeeper 3.8.0 Java client, Debian) against Debian ZooKeeper 3.8.0")
}

// captureKazoo runs a kazoo script through the proxy.
func captureKazoo(t *testing.T) {
	rec := newRecorder(t, *captureAddr)
	script := `
import sys
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1])
zk.start()
zk.ensure_path("/kz/a")
zk.create("/kz/a/n", b"v", ephemeral=True, sequence=True)
zk.get_children("/kz/a", include_data=True)
zk.create("/kz/b", b"x", makepath=True)
t = zk.transaction()
t.create("/kz/c", b"c")
t.set_data("/kz/b", b"y")
t.check("/kz/b", 0)
t.commit()
zk.get("/kz/b")
zk.exists("/kz/nope")
zk.delete("/kz", recursive=True)
zk.stop()
`
	cmd := exec.Command("/usr/bin/python3", "-c", script, rec.ln.Addr().String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Logf("%s", out)
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	rec.save(t, "kazoo.frames", "kazoo 2.8.0 (Debian python3-kazoo) against Debian ZooKeeper 3.8.0")
}
