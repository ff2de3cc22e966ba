package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/embedzk/zk"
)

// Shell is zkCli's ZooKeeperMain: it reads command lines, keeps the
// history and the command counter of the prompt, and runs each command on
// the session it holds, printing what zkCli prints.
type Shell struct {
	backend Backend
	conn    Conn // nil until connected
	out     io.Writer
	errw    io.Writer
	loc     *time.Location // the zone dates are printed in

	sessionTimeout time.Duration // requested of the backend
	callTimeout    time.Duration // bounds each call

	// dial opens the backend a "connect host:port" names; nil: only the
	// current one can be reconnected.
	dial func(addr string) (Backend, error)

	// keepTrying: when no server takes the session at Connect, open it in
	// the background (a Backend with OpenLater), as zkCli's shell stays.
	keepTrying bool

	history      map[int]string
	count        int
	printWatches bool
	authFailed   bool
	exit         int  // the exit code of the last command
	quit         bool // quit was run
}

// ShellConfig configures a Shell.
type ShellConfig struct {
	Backend        Backend
	Out, Err       io.Writer
	Location       *time.Location // default time.Local
	SessionTimeout time.Duration  // default 30s, as zkCli's -timeout
	CallTimeout    time.Duration  // default 30s
	Dial           func(addr string) (Backend, error)
}

// NewShell makes a shell on cfg.Backend; Connect opens its session.
func NewShell(cfg ShellConfig) *Shell {
	sh := &Shell{
		backend:        cfg.Backend,
		out:            cfg.Out,
		errw:           cfg.Err,
		loc:            cfg.Location,
		sessionTimeout: cfg.SessionTimeout,
		callTimeout:    cfg.CallTimeout,
		dial:           cfg.Dial,
		history:        map[int]string{},
		printWatches:   true,
	}
	if sh.loc == nil {
		sh.loc = time.Local
	}
	if sh.sessionTimeout == 0 {
		sh.sessionTimeout = 30 * time.Second
	}
	if sh.callTimeout == 0 {
		sh.callTimeout = 30 * time.Second
	}
	return sh
}

// Connect opens a session on the shell's backend (zkCli's connectToZK),
// closing the current one first.
func (sh *Shell) Connect() error {
	sh.closeConn()
	ctx, cancel := context.WithTimeout(context.Background(), sh.callTimeout)
	defer cancel()
	conn, err := sh.backend.Open(ctx, sh.sessionTimeout)
	if later, ok := sh.backend.(interface {
		OpenLater(time.Duration) (Conn, error)
	}); ok && sh.keepTrying && errors.Is(err, zk.ErrConnectionLoss) {
		conn, err = later.OpenLater(sh.sessionTimeout)
	}
	if err != nil {
		return err
	}
	sh.conn = conn
	sh.authFailed = false
	return nil
}

// closeConn closes the session, reporting it closed as zkCli's watcher
// does if it was alive (a session that failed to authenticate goes
// silently, as zkCli leaves it).
func (sh *Shell) closeConn() {
	if sh.conn == nil || sh.conn.State() == "CLOSED" {
		return
	}
	alive := sh.alive()
	if alive {
		sh.PrintEvents()
	}
	ctx, cancel := context.WithTimeout(context.Background(), sh.callTimeout)
	defer cancel()
	_ = sh.conn.Close(ctx) // closing a session cannot fail in a way a user can act on
	if alive {
		sh.PrintEvents() // what the close brought: its ephemerals' deletions
		sh.printEvent(Event{State: "Closed", Type: "None"})
	}
}

// alive is ZooKeeper's States.isAlive: neither closed nor failed to
// authenticate.
func (sh *Shell) alive() bool {
	return sh.conn != nil && !sh.authFailed && sh.conn.State() != "CLOSED"
}

// state is the state zkCli's prompt shows.
func (sh *Shell) state() string {
	switch {
	case sh.conn == nil:
		return "CLOSED"
	case sh.authFailed:
		return "AUTH_FAILED"
	}
	return sh.conn.State()
}

// Prompt is zkCli's prompt: "[zk: ADDR(STATE) N] ".
func (sh *Shell) Prompt() string {
	return "[zk: " + sh.backend.Addr() + "(" + sh.state() + ") " + strconv.Itoa(sh.count) + "] "
}

// Quit reports whether quit was run.
func (sh *Shell) Quit() bool { return sh.quit }

// ExitCode is the exit code of the last command, as zkCli exits with.
func (sh *Shell) ExitCode() int { return sh.exit }

// Close closes the session without a word (end of input) and the backend.
func (sh *Shell) Close() error {
	if sh.conn != nil && sh.conn.State() != "CLOSED" {
		ctx, cancel := context.WithTimeout(context.Background(), sh.callTimeout)
		_ = sh.conn.Close(ctx) // the process is ending
		cancel()
	}
	return sh.backend.Close()
}

// ExecuteLine runs one line as zkCli's executeLine: an empty line is
// skipped; any other is numbered, kept in the history and run. The events
// it caused are printed after its output.
func (sh *Shell) ExecuteLine(line string) {
	if line == "" {
		return
	}
	line = javaString([]byte(line))
	sh.history[sh.count] = line
	sh.processCmd(tokenize(line))
	sh.count++
	sh.PrintEvents()
}

// RunOnce runs a one-shot command (zkcli [flags] cmd args), without
// numbering it.
func (sh *Shell) RunOnce(args []string) {
	sh.processCmd(args)
	sh.PrintEvents()
}

// processCmd runs a command and prints its error, keeping its exit code.
func (sh *Shell) processCmd(tokens []string) {
	err := sh.processZKCmd(tokens)
	if sh.quit {
		return // quit exits with the previous command's code
	}
	sh.exit = exitCode(err)
	if err != nil {
		fmt.Fprintln(sh.errw, err.Error())
	}
}

// processZKCmd dispatches a command as ZooKeeperMain.processZKCmd does.
func (sh *Shell) processZKCmd(tokens []string) error {
	if len(tokens) == 0 {
		// zkCli would run the previous command again (its parser keeps the
		// last one when a line yields no token); the shell runs nothing.
		return nil
	}
	cmd, args := tokens[0], tokens
	if _, ok := commandUsages[cmd]; !ok {
		printUsage(sh.errw)
		return &cliError{msg: "Command not found: Command not found " + cmd, code: 127}
	}
	switch cmd {
	case "quit":
		sh.closeConn()
		sh.quit = true
		return nil
	case "redo":
		if len(args) >= 2 {
			if err := sh.redo(args[1]); err != nil {
				return err
			}
		}
	case "history":
		for i := sh.count - 10; i <= sh.count; i++ {
			if line, ok := sh.history[i]; ok {
				fmt.Fprintf(sh.out, "%d - %s\n", i, line)
			} else if i >= 0 {
				fmt.Fprintf(sh.out, "%d - null\n", i) // Java prints a missing entry so (one-shot history)
			}
		}
	case "printwatches":
		if len(args) == 1 {
			fmt.Fprintln(sh.out, "printwatches is "+onOff(sh.printWatches))
		} else {
			sh.printWatches = args[1] == "on"
		}
	case "connect":
		if err := sh.connectCmd(args); err != nil {
			return err
		}
	}
	if !sh.alive() {
		fmt.Fprintln(sh.out, "Not connected")
		return nil
	}
	if run := runnerFor(cmd); run != nil {
		return run(sh, args)
	}
	return nil
}

// redo runs history entry n again, in place of the redo line.
func (sh *Shell) redo(n string) error {
	i, ok := javaDecodeInt(n)
	if !ok {
		// zkCli dies here with a NumberFormatException.
		return cliErr("redo argument must be an int value: " + n)
	}
	if int(i) >= sh.count || i < 0 {
		return cliErr("Command index out of range")
	}
	line := sh.history[int(i)]
	tokens := tokenize(line)
	if len(tokens) > 0 && tokens[0] == "redo" {
		return cliErr("No redoing redos")
	}
	sh.history[sh.count] = line
	sh.processCmd(tokens)
	return nil
}

// connectCmd is zkCli's connect: a new session on the current backend, or
// on the one host:port names. A new backend's session is opened before the
// current one is closed: when it cannot open, the shell keeps its session.
func (sh *Shell) connectCmd(args []string) error {
	if len(args) < 2 || args[1] == sh.backend.Addr() {
		if err := sh.Connect(); err != nil {
			return cliErr("cannot connect to " + sh.backend.Addr() + ": " + err.Error())
		}
		return nil
	}
	if sh.dial == nil {
		return cliErr("cannot connect to " + args[1] + ": this shell serves only " + sh.backend.Addr())
	}
	b, err := sh.dial(args[1])
	if err != nil {
		return cliErr(err.Error())
	}
	ctx, cancel := context.WithTimeout(context.Background(), sh.callTimeout)
	defer cancel()
	conn, err := b.Open(ctx, sh.sessionTimeout)
	if err != nil {
		_ = b.Close() // never used
		return cliErr("cannot connect to " + args[1] + ": " + err.Error())
	}
	sh.closeConn()
	_ = sh.backend.Close() // the old service is left for the new one
	sh.backend, sh.conn, sh.authFailed = b, conn, false
	return nil
}

// call returns a context for one call.
func (sh *Shell) call() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), sh.callTimeout)
}

// PrintEvents prints the events the session received, as zkCli's default
// watcher does ("WATCHER::" then the event), unless printwatches is off.
func (sh *Shell) PrintEvents() {
	fmt.Fprint(sh.out, sh.PendingEvents())
}

// PendingEvents takes the events the session received and returns what
// PrintEvents would print of them.
func (sh *Shell) PendingEvents() string {
	if sh.conn == nil {
		return ""
	}
	var b strings.Builder
	for _, e := range sh.conn.Events() {
		sh.printEventTo(&b, e)
	}
	return b.String()
}

func (sh *Shell) printEvent(e Event) { sh.printEventTo(sh.out, e) }

func (sh *Shell) printEventTo(w io.Writer, e Event) {
	if sh.printWatches {
		fmt.Fprintf(w, "\nWATCHER::\n\n%s\n", eventText(e))
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
