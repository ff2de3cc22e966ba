// Command zkcli is ZooKeeper's zkCli on zk: the same commands (ls, create,
// get, set, stat, delete, deleteall, getAcl, setAcl, addauth, sync,
// addWatch, removewatches, getEphemerals, getAllChildrenNumber, the quota
// commands, history, redo, ...), the same output, the same messages, so a
// ZooKeeper tutorial's sessions read the same.
//
//	go run ./examples/zkcli                  # a new embedded peer in a temporary directory
//	go run ./examples/zkcli -data DIR        # the embedded peer on DIR, kept
//	go run ./examples/zkcli ls -s /          # one command, as zkCli.sh cmd args
//	go run ./examples/zkcli < script.txt     # commands from a file, one a line
//
// By default it runs a standalone zk peer in this process (the embedded
// default). -server host:port[,host:port...] connects instead to a
// running service over ZooKeeper's client protocol: a zk peer's client
// port or a real ZooKeeper (remote.go, on examples/internal/zkclient); the
// session moves to another address of the list when its connection
// fails. -client-configuration FILE reads a ZooKeeper client
// configuration file as zkCli's does (zkclient.LoadClientConfig): with
// zookeeper.client.secure=true (and the Netty socket) -server and connect
// talk TLS to a secure client port; a file it cannot use exits 2 before
// connecting, as zkCli's (1 for an unknown socket class). On a terminal it
// edits lines (arrows, history, Tab completes
// commands and paths); otherwise it reads plain lines, prints no prompt
// (as zkCli without JLine), unless -echo asks for zkCli's interactive look.
//
// Where zkCli 3.8.0 dies (a version, redo index or batch size that is not
// a number; addWatch of a malformed path) the shell answers and goes on;
// a line it cannot split runs nothing (zkCli runs the previous command
// again); setAcl -R lists the subtree before changing it.
// testdata/sessions/zk_only.txt shows each difference.
//
// The shell is split as zkCli is: parse.go (command lines and Commons
// CLI's option rules), path.go (ZooKeeper's path checks), shell.go (the
// loop of ZooKeeperMain), commands*.go and cmd_*.go (one function per
// command), format.go (Stat, ACL, event and usage formats), errors.go
// (ZooKeeper's error messages), backend.go (the service the shell talks
// to), embedded.go (that service on zk's public API), lineedit.go (the
// terminal line editor).
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/embedzk/zk/examples/internal/zkclient"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// options are zkcli's flags.
type options struct {
	data     string
	server   string
	timeout  int
	echo     bool
	readOnly bool
	clientCf string // -client-configuration
	args     []string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("zkcli", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.data, "data", "", "data directory of the embedded peer (default: a temporary one, removed at exit)")
	fs.StringVar(&o.server, "server", "", "host[:port][,host[:port]...][/chroot] of a running ZooKeeper service (a zk peer's client port or a real ZooKeeper) instead of the embedded peer; the port defaults to 2181, and a chroot roots the session's paths there, as zkCli's connect string")
	fs.IntVar(&o.timeout, "timeout", 30000, "session timeout in milliseconds, as zkCli's -timeout")
	fs.BoolVar(&o.echo, "echo", false, "print the prompt and each command read, as an interactive zkCli shows them")
	fs.BoolVar(&o.readOnly, "r", false, "with -server: allow a read-only session on a server cut off from its quorum, which moves to a read-write server when one answers isro, as zkCli's -r")
	fs.StringVar(&o.clientCf, "client-configuration", "", "ZooKeeper client configuration file (java.util.Properties), as zkCli's: zookeeper.client.secure=true with zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty and the zookeeper.ssl.* stores connects over TLS (a secure client port)")
	fs.Bool("waitforconnection", false, "accepted for zkCli's sake: the shell always waits for its session before the first command")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: zkcli [-data DIR | -server host[:port][,host[:port]...][/chroot]] [-timeout ms] [-r] [-client-configuration FILE] [-echo] [-waitforconnection] [cmd args]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.args = fs.Args()
	return o, nil
}

// run is the whole program; it returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return 2
	}
	dialer, code := clientDialer(o, stderr)
	if code != 0 {
		return code
	}
	backend, cleanup, err := openBackend(o, dialer, stdout)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer cleanup()
	sh := NewShell(ShellConfig{
		Backend: backend, Out: stdout, Err: stderr,
		SessionTimeout: time.Duration(o.timeout) * time.Millisecond,
		Dial:           dialer.dial,
	})
	defer sh.Close() //nolint:errcheck // the peer's close error has no one to go to at exit
	if len(o.args) > 0 {
		if err := sh.Connect(); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		sh.PrintEvents()
		sh.RunOnce(o.args)
		return sh.ExitCode()
	}
	sh.keepTrying = true // as zkCli's shell, which stays when no server answers
	fmt.Fprintln(stdout, "Welcome to ZooKeeper!")
	term := stdin == os.Stdin && isTerminal(int(os.Stdin.Fd()))
	if term {
		fmt.Fprintln(stdout, "Line editing is enabled")
	} else {
		fmt.Fprintln(stdout, "Line editing is disabled")
	}
	if err := sh.Connect(); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	sh.PrintEvents()
	if term {
		interactive(sh, stdout)
	} else {
		script(sh, stdin, stdout, o.echo)
	}
	return sh.ExitCode()
}

// clientDialer is the dialer of -server and of the connect command: -r,
// and the TLS of -client-configuration. A configuration that cannot be
// used is reported with zkCli's exit code: 2 (INVALID_INVOCATION, as for a
// file ZKClientConfig cannot read), 1 for a socket class it cannot
// instantiate (zkCli dies of the exception).
func clientDialer(o options, stderr io.Writer) (remoteDialer, int) {
	d := remoteDialer{readOnly: o.readOnly}
	if o.clientCf == "" {
		return d, 0
	}
	t, err := zkclient.LoadClientConfig(o.clientCf)
	if err != nil {
		fmt.Fprintln(stderr, err)
		if errors.Is(err, zkclient.ErrSocketClass) {
			return d, 1
		}
		return d, 2
	}
	d.tls = t
	return d, 0
}

// openBackend opens the service: a ZooKeeper server (-server), or the
// embedded peer on -data or on a temporary directory that cleanup removes.
func openBackend(o options, dialer remoteDialer, stdout io.Writer) (Backend, func(), error) {
	if o.server != "" {
		fmt.Fprintln(stdout, "Connecting to "+o.server)
		b, err := dialer.dial(o.server)
		return b, func() {}, err
	}
	dir, cleanup := o.data, func() {}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "zkcli-")
		if err != nil {
			return nil, nil, err
		}
		dir, cleanup = tmp, func() { os.RemoveAll(tmp) }
	}
	b, err := openEmbedded(dir)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	fmt.Fprintln(stdout, "Connecting to "+b.Addr()+" (data directory "+dir+")")
	return b, cleanup, nil
}

// eventPoll is how often an idle shell looks for events to print: zkCli's
// watcher prints each as it arrives, also while the shell waits for a line.
const eventPoll = 100 * time.Millisecond

// script runs the lines of in, as zkCli without a terminal; with echo it
// shows each as typed after its prompt. Events that arrive while it waits
// for a line are printed then.
func script(sh *Shell, in io.Reader, out io.Writer, echo bool) {
	lines := make(chan string)
	done := make(chan struct{})
	defer close(done)
	// The reader ends at the end of in, or once the script ended and a
	// line it read has no taker; a read blocked on a terminal that sends
	// nothing more ends with the process.
	go func() {
		defer close(lines)
		r := bufio.NewReader(in)
		for {
			line, err := r.ReadString('\n')
			if line == "" && err != nil {
				return
			}
			select {
			case lines <- trimEOL(line):
			case <-done:
				return
			}
		}
	}()
	tick := time.NewTicker(eventPoll)
	defer tick.Stop()
	for !sh.Quit() {
		select {
		case line, ok := <-lines:
			if !ok {
				return
			}
			if echo {
				fmt.Fprintln(out, sh.Prompt()+line)
			}
			sh.ExecuteLine(line)
		case <-tick.C:
			sh.PrintEvents()
		}
	}
}

// trimEOL removes the line terminator, as Java's readLine does.
func trimEOL(line string) string {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line
}

// interactive reads lines with the line editor until quit or Ctrl-D.
func interactive(sh *Shell, out io.Writer) {
	ed := newLineEditor(int(os.Stdin.Fd()), os.Stdin, out)
	ed.complete = sh.Complete
	ed.idle, ed.idlePoll = sh.PendingEvents, eventPoll
	for !sh.Quit() {
		line, err := ed.readLine(sh.Prompt())
		if errors.Is(err, errInterrupted) {
			continue
		}
		if err != nil {
			return
		}
		sh.ExecuteLine(line)
	}
}
