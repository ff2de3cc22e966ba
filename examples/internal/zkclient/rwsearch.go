package zkclient

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// The search for a read-write server of a read-only session, as the Java
// client's ClientCnxn.SendThread (pingRwServer) runs it: the bounds of the
// interval between two probes (minPingRwTimeout, maxPingRwTimeout) and
// how long a probe waits for its connection, then for its answer (Java
// bounds only the read, with a 1 s socket timeout).
const (
	minProbeRW     = 100 * time.Millisecond
	maxProbeRW     = 60 * time.Second
	probeRWTimeout = time.Second
)

// rwTiming is what the package's tests set in Config.rwTiming: other
// bounds of the interval, and a hook called as each probe starts.
type rwTiming struct {
	min, max time.Duration
	hook     func(addr string, wait time.Duration, at time.Time)
}

// rwSearch is the state of the search, the client's for its whole life as
// the Java client's send thread keeps it (c.mu guards it): it is not reset
// when the client reconnects, only when a probe finds a read-write server.
type rwSearch struct {
	min, max time.Duration
	timeout  time.Duration
	hook     func(addr string, wait time.Duration, at time.Time)
	wait     time.Duration // pingRwTimeout: the interval before the next probe
	last     time.Time     // lastPingRwServer: when the last probe started (or the client)
	found    string        // rwServerAddress: where the next connect goes
}

// newRWSearch starts the search's clock, with the bounds tm gives (nil:
// the Java client's).
func newRWSearch(tm *rwTiming) rwSearch {
	s := rwSearch{min: minProbeRW, max: maxProbeRW, timeout: probeRWTimeout}
	if tm != nil {
		s.min, s.max, s.hook = tm.min, tm.max, tm.hook
	}
	s.wait, s.last = s.min, time.Now()
	return s
}

// searchRW runs while cn, a read-only connection, is the client's: once
// the interval since the last probe reaches the current one, it doubles
// the interval (up to its cap), takes the next address of the list (the
// same turn the reconnects take, so the current server too, every
// len(Servers) probes) and asks it isro. A server answering rw resets the
// interval; the client drops cn (its calls fail with ConnectionLoss, a
// Disconnected event is queued) and connects to that server next.
func (c *Client) searchRW(cn *conn) {
	defer c.wg.Done()
	for {
		c.mu.Lock()
		due := time.Until(c.rw.last.Add(c.rw.wait))
		c.mu.Unlock()
		t := time.NewTimer(due)
		select {
		case <-cn.dead:
			t.Stop()
			return
		case <-c.stop:
			t.Stop()
			return
		case <-t.C:
		}
		c.mu.Lock()
		if c.cur != cn || c.state != StateConnectedReadOnly {
			c.mu.Unlock()
			return
		}
		at := time.Now()
		c.rw.last = at
		wait := c.rw.wait
		c.rw.wait = min(2*c.rw.wait, c.rw.max)
		addr := c.servers[c.next%len(c.servers)]
		c.next++
		hook, timeout := c.rw.hook, c.rw.timeout
		c.mu.Unlock()
		if hook != nil {
			hook(addr, wait, at)
		}
		if c.probeRW(cn, addr, timeout) != "rw" {
			continue
		}
		c.mu.Lock()
		if c.cur != cn || c.state != StateConnectedReadOnly {
			c.mu.Unlock()
			return
		}
		c.rw.wait, c.rw.found = c.rw.min, addr
		c.mu.Unlock()
		cn.close(fmt.Errorf("zkclient: read-write server found at %s", addr))
		return
	}
}

// probeRW sends isro to addr and returns the first line of its answer
// ("rw", "ro"; "" if the probe failed). It gives up when cn dies or the
// client closes.
func (c *Client) probeRW(cn *conn, addr string, timeout time.Duration) string {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-cn.dead:
		case <-c.stop:
		case <-ctx.Done():
		}
		cancel()
	}()
	return isro(ctx, addr, timeout)
}

// isro asks addr the four-letter word isro, as the Java client's
// pingRwServer, and returns the first line of the answer.
func isro(ctx context.Context, addr string, timeout time.Duration) string {
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return ""
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(timeout))                                    //nolint:errcheck // a failed deadline shows as a failed read
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) }) //nolint:errcheck // as above
	defer stop()
	answer, err := FourLetterWord(nc, "isro")
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(answer, "\n")
	line, _, _ = strings.Cut(line, "\r")
	return line
}

// FourLetterWord sends word (ruok, srvr, isro, ...) on nc, a new
// connection to a server's client port, and returns the answer, read until
// the server closes the connection (at most 1 MiB). On plain TCP the write
// side is shut after the word, as ZooKeeper's FourLetterWordMain and
// pingRwServer do; nc's deadline bounds the exchange.
func FourLetterWord(nc net.Conn, word string) (string, error) {
	if _, err := io.WriteString(nc, word); err != nil {
		return "", err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.CloseWrite() //nolint:errcheck // the answer tells
	}
	b, err := io.ReadAll(io.LimitReader(nc, 1<<20))
	return string(b), err
}
