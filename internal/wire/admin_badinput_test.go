package wire_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/embedzk/zk/internal/engine"
)

// TestAdminServerBadInput sends the admin port what a careless or hostile
// client might, while a ZooKeeper client writes: garbage bytes, random
// paths, queries and methods, a header too large, and more idle
// connections than the port holds at once. Each gets an answer or a
// close; the writes all succeed, and the port answers afterwards.
func TestAdminServerBadInput(t *testing.T) {
	cfg := peerConfig()
	cfg.AdminServerPort, cfg.AdminServerAddress, cfg.AdminIdleTimeout = -1, "127.0.0.1", time.Second
	e := startPeer(t, cfg)
	base := "http://" + e.AdminAddr() + engine.DefaultAdminCommandURL
	c, _ := dial(t, e.ClientAddr())
	_, err := c.Create("/bad", nil, 0, gozk.WorldACL(gozk.PermAll))
	must(t, err)

	stop := make(chan struct{})
	writes := make(chan error, 1)
	go func() { // the good traffic, until the bad input is done
		n := 0
		for {
			select {
			case <-stop:
				writes <- nil
				return
			default:
			}
			if _, err := c.Create(fmt.Sprintf("/bad/n-%d", n), []byte("v"), 0, gozk.WorldACL(gozk.PermAll)); err != nil {
				writes <- fmt.Errorf("create %d: %w", n, err)
				return
			}
			n++
		}
	}()

	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); adminIdlers(t, e.AdminAddr(), 40) }()
	go func() { defer wg.Done(); adminGarbage(t, e.AdminAddr(), 100) }()
	go func() { defer wg.Done(); adminRandomRequests(t, base, 300) }()
	wg.Wait()
	close(stop)
	if err := <-writes; err != nil {
		t.Fatal(err)
	}

	if got := adminGet(t, base+"/ruok"); got["error"] != nil {
		t.Fatalf("ruok after the bad input: %v", got)
	}
	children, _, err := c.Children("/bad")
	must(t, err)
	if len(children) == 0 {
		t.Fatal("no writes went through beside the bad input")
	}
}

// adminIdlers opens n connections that send half a request line and
// wait: more than the port serves at once, each dropped after the idle
// timeout.
func adminIdlers(t *testing.T, addr string, n int) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Errorf("idler: %v", err)
				return
			}
			defer nc.Close()
			nc.Write([]byte("GET /commands/ru"))
			nc.SetReadDeadline(time.Now().Add(30 * time.Second))
			if _, err := io.ReadAll(nc); timedOut(err) {
				t.Errorf("idler: the port did not close it: %v", err)
			}
		}()
	}
	wg.Wait()
}

// adminGarbage sends n connections random bytes each; every one must end.
func adminGarbage(t *testing.T, addr string, n int) {
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range n {
		nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Errorf("garbage %d: %v", i, err)
			return
		}
		b := make([]byte, 1+rng.IntN(4096))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		switch i % 3 {
		case 0:
			b = append([]byte("GET /commands/stat HTTP/1.1\r\n"), b...) // a header block of garbage
		case 1:
			b[0] = 0x16 // a TLS handshake record's first byte
		}
		nc.Write(b)
		nc.(*net.TCPConn).CloseWrite()
		nc.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := io.ReadAll(nc); timedOut(err) { // an answer, a close or a reset
			t.Errorf("garbage %d: the port did not close it: %v", i, err)
		}
		nc.Close()
	}
}

// adminRandomRequests sends n requests of random methods, paths and
// queries, and one with a 100 KiB header; each gets a well-formed answer.
func adminRandomRequests(t *testing.T, base string, n int) {
	rng := rand.New(rand.NewPCG(3, 5))
	names := []string{"ruok", "stat", "mntr", "dump", "set_trace_mask", "watches", "conf", "crst", "srst", "x", "", "../..", "%00", strings.Repeat("a", 5000)}
	methods := []string{"GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"}
	client := &http.Client{Timeout: 30 * time.Second}
	for i := range n {
		q := url.Values{}
		for range rng.IntN(3) {
			q.Set([]string{"traceMask", "x", ""}[rng.IntN(3)], []string{"12", "-1", "0x10", "99999999999999999999", "", "\x00\xff"}[rng.IntN(6)])
		}
		target := base + "/" + url.PathEscape(names[rng.IntN(len(names))]) + "?" + q.Encode()
		req, err := http.NewRequest(methods[rng.IntN(len(methods))], target, nil)
		if err != nil {
			t.Errorf("request %d: %v", i, err)
			continue
		}
		if i == n/2 {
			req.Header.Set("X-Big", strings.Repeat("b", 100<<10))
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", req.Method, target, err)
			continue
		}
		body, _ := io.ReadAll(bufio.NewReader(resp.Body))
		resp.Body.Close()
		switch {
		case i == n/2 && resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge:
			t.Errorf("a 100 KiB header: %s", resp.Status)
		case resp.StatusCode == http.StatusOK && req.Method == "GET" && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"):
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil || m["command"] == nil {
				t.Errorf("%s: %v in %q", target, err, body)
			}
		case resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusMethodNotAllowed &&
			resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusBadRequest && i != n/2:
			t.Errorf("%s %s: %s", req.Method, target, resp.Status)
		}
	}
}

// timedOut reports whether err is a read deadline's.
func timedOut(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// adminHold opens a connection to addr and sends req; it returns the
// connection, still open.
func adminHold(t *testing.T, addr, req string) net.Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	must(t, err)
	t.Cleanup(func() { nc.Close() })
	_, err = nc.Write([]byte(req))
	must(t, err)
	return nc
}

// answered reports whether nc gets an HTTP answer within d.
func answered(nc net.Conn, d time.Duration) bool {
	nc.SetReadDeadline(time.Now().Add(d))
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

const adminRuok = "GET /commands/ruok HTTP/1.1\r\nHost: zk\r\n\r\n"

// TestAdminServerConnLimit: the admin port serves at most adminMaxConns
// (32) connections at once; the next waits until one closes.
func TestAdminServerConnLimit(t *testing.T) {
	cfg := peerConfig()
	cfg.AdminServerPort, cfg.AdminServerAddress, cfg.AdminIdleTimeout = -1, "127.0.0.1", time.Minute
	e := startPeer(t, cfg)
	var held []net.Conn
	for range 32 {
		nc := adminHold(t, e.AdminAddr(), adminRuok)
		if !answered(nc, 10*time.Second) {
			t.Fatal("a connection within the limit got no answer")
		}
		held = append(held, nc) // kept alive: it holds its slot
	}
	next := adminHold(t, e.AdminAddr(), adminRuok)
	if answered(next, 300*time.Millisecond) {
		t.Fatal("a 33rd connection was served while 32 were open")
	}
	held[0].Close()
	if !answered(next, 10*time.Second) {
		t.Fatal("the 33rd connection was not served once a slot was free")
	}
}

// TestAdminServerSlowClients: connections that stop halfway through a
// request's body are cut after the idle timeout, so they cannot hold the
// port's slots.
func TestAdminServerSlowClients(t *testing.T) {
	cfg := peerConfig()
	cfg.AdminServerPort, cfg.AdminServerAddress, cfg.AdminIdleTimeout = -1, "127.0.0.1", time.Second
	e := startPeer(t, cfg)
	for range 32 {
		adminHold(t, e.AdminAddr(), "GET /commands/ruok HTTP/1.1\r\nHost: zk\r\nContent-Length: 10\r\n\r\nx")
	}
	if next := adminHold(t, e.AdminAddr(), adminRuok); !answered(next, 15*time.Second) {
		t.Fatal("32 stalled bodies kept the port from serving")
	}
}
