//go:build unix

package proctest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// peerProc is one child process: one incarnation of a peer. Its reader
// goroutine (owned by it) ends when the process's stdout closes, after
// reaping the process; exited is closed then.
type peerProc struct {
	id      int64
	inc     int
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	replies chan replyLine
	exited  chan struct{}
	waitErr error // valid once exited is closed

	mu  sync.Mutex // one command at a time
	seq int64
}

type replyLine struct {
	seq int64
	r   childReply
}

var errExited = errors.New("peer process exited")

// startProc starts a child running spec and waits (within ctx) until its
// ensemble runs. On failure the process is killed and reaped.
func startProc(ctx context.Context, bin string, spec peerSpec, stderr *os.File) (*peerProc, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-test.run=^TestHelperPeerProcess$", "-test.timeout=15m")
	cmd.Env = append(os.Environ(), envPeer+"="+string(b))
	cmd.Stderr = stderr
	cmd.SysProcAttr = childAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &peerProc{id: spec.ID, inc: spec.Incarnation, cmd: cmd, stdin: stdin,
		replies: make(chan replyLine, 16), exited: make(chan struct{})}
	go p.readLoop(stdout)
	r, err := p.await(ctx, 0)
	if err == nil && r.Err != "" {
		err = errors.New(r.Err)
	}
	if err != nil {
		p.kill()
		p.wait(context.Background())
		return nil, fmt.Errorf("starting peer %d: %w", spec.ID, err)
	}
	return p, nil
}

// readLoop parses reply lines until stdout ends, then reaps the process.
func (p *peerProc) readLoop(stdout io.Reader) {
	defer close(p.exited)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), replyPrefix)
		if !ok {
			continue
		}
		num, payload, _ := strings.Cut(line, " ")
		seq, err := strconv.ParseInt(num, 10, 64)
		var r childReply
		if err == nil {
			err = json.Unmarshal([]byte(payload), &r)
		}
		if err != nil {
			r = childReply{Err: fmt.Sprintf("unparsable reply %q", line)}
		}
		select {
		case p.replies <- replyLine{seq: seq, r: r}:
		default: // only stale replies pile up: drop
		}
	}
	io.Copy(io.Discard, stdout)
	p.waitErr = p.cmd.Wait()
}

// call sends one command and waits (within ctx) for its reply. A reply that
// carries an error is returned with it.
func (p *peerProc) call(ctx context.Context, command string) (childReply, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq++
	if _, err := fmt.Fprintf(p.stdin, "%d %s\n", p.seq, command); err != nil {
		return childReply{}, fmt.Errorf("peer %d: %s: %w", p.id, command, err)
	}
	r, err := p.await(ctx, p.seq)
	if err == nil && r.Err != "" {
		err = errors.New(r.Err)
	}
	if err != nil {
		return r, fmt.Errorf("peer %d: %s: %w", p.id, command, err)
	}
	return r, nil
}

// await waits for the reply numbered seq, dropping stale ones.
func (p *peerProc) await(ctx context.Context, seq int64) (childReply, error) {
	for {
		select {
		case l := <-p.replies:
			if l.seq == seq {
				return l.r, nil
			}
		case <-p.exited:
			return childReply{}, fmt.Errorf("%w (%v)", errExited, p.waitErr)
		case <-ctx.Done():
			return childReply{}, ctx.Err()
		}
	}
}

func (p *peerProc) signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }

// kill SIGKILLs the process (a stopped one too). It does not wait.
func (p *peerProc) kill() {
	if err := p.signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		fmt.Fprintf(os.Stderr, "proctest: killing peer %d: %v\n", p.id, err)
	}
}

// wait waits (within ctx) until the process is reaped.
func (p *peerProc) wait(ctx context.Context) error {
	select {
	case <-p.exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("peer %d (pid %d) did not exit: %w", p.id, p.cmd.Process.Pid, ctx.Err())
	}
}

// done reports whether the process has been reaped.
func (p *peerProc) done() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// waitTimeout is wait with its own deadline.
func (p *peerProc) waitTimeout(d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return p.wait(ctx)
}
