package digestmd5

// Interop tests against real DIGEST-MD5 implementations, run as child
// processes that exchange tokens as hex lines on stdin/stdout:
//
//   - pure-sasl 0.5.1 (what kazoo uses), run by /usr/bin/python3;
//   - the JDK's DigestMD5Client, as the Java ZooKeeper client creates it;
//   - the JDK's DigestMD5Server, as ZooKeeper 3.8 creates it, fed the same
//     digest-responses as Server to check that both decide alike.
//
// These tests FAIL when their tools are missing. Set ZK_NO_PYTHON=1 to skip
// the pure-sasl test and ZK_NO_JAVA=1 to skip the JDK tests, on machines that
// lack /usr/bin/python3 with puresasl, or java and javac.

import (
	"bufio"
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/embedzk/zk/internal/testbuf"
)

const pythonPath = "/usr/bin/python3"

// needPython returns the Python interpreter, failing the test if it or
// puresasl is missing, unless ZK_NO_PYTHON=1.
func needPython(t *testing.T) string {
	t.Helper()
	if os.Getenv("ZK_NO_PYTHON") == "1" {
		t.Skip("ZK_NO_PYTHON=1: skipping the pure-sasl interop test")
	}
	if _, err := os.Stat(pythonPath); err != nil {
		t.Fatalf("%s is missing (%v); install python3 and python3-puresasl, or set ZK_NO_PYTHON=1 to skip", pythonPath, err)
	}
	if out, err := exec.Command(pythonPath, "-c", "import puresasl.client").CombinedOutput(); err != nil {
		t.Fatalf("%s cannot import puresasl (%v): %s\ninstall python3-puresasl (pure-sasl 0.5.1), or set ZK_NO_PYTHON=1 to skip", pythonPath, err, out)
	}
	return pythonPath
}

// needJava returns the java and javac commands, failing the test if either is
// missing, unless ZK_NO_JAVA=1.
func needJava(t *testing.T) (java, javac string) {
	t.Helper()
	if os.Getenv("ZK_NO_JAVA") == "1" {
		t.Skip("ZK_NO_JAVA=1: skipping the JDK interop test")
	}
	java, err := exec.LookPath("java")
	if err != nil {
		t.Fatalf("java not found (%v); install a JDK (17 or later), or set ZK_NO_JAVA=1 to skip", err)
	}
	javac, err = exec.LookPath("javac")
	if err != nil {
		t.Fatalf("javac not found (%v); install a JDK (17 or later), or set ZK_NO_JAVA=1 to skip", err)
	}
	return java, javac
}

// compileJava writes the class source to a temporary directory, compiles it
// and returns the directory.
func compileJava(t *testing.T, javac, class, source string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, class+".java")
	if err := os.WriteFile(src, []byte(source), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, javac, "-d", dir, src).CombinedOutput(); err != nil {
		t.Fatalf("javac %s: %v\n%s", class, err, out)
	}
	return dir
}

func hexArg(s string) string { return hex.EncodeToString([]byte(s)) }

// lineProc is a child process spoken to in lines.
type lineProc struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *bufio.Scanner
	stderr lockedBuffer
	cancel context.CancelFunc
}

// lockedBuffer is the child's stderr: written by exec's copying goroutine,
// read by the test when it fails.
type lockedBuffer = testbuf.Buffer

func startProc(t *testing.T, name string, args ...string) *lineProc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	p := &lineProc{cmd: exec.CommandContext(ctx, name, args...), cancel: cancel}
	p.cmd.Stderr = &p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.out = bufio.NewScanner(stdout)
	p.out.Buffer(nil, 1<<20)
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", name, err)
	}
	t.Cleanup(p.close)
	return p
}

func (p *lineProc) close() {
	p.stdin.Close()
	p.cmd.Wait()
	p.cancel()
}

func (p *lineProc) send(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(p.stdin, line+"\n"); err != nil {
		t.Fatalf("writing to %s: %v\nstderr: %s", p.cmd.Path, err, p.stderr.String())
	}
}

func (p *lineProc) recv(t *testing.T) string {
	t.Helper()
	if !p.out.Scan() {
		p.stdin.Close()
		p.cmd.Wait()
		t.Fatalf("%s ended early (%v)\nstderr: %s", p.cmd.Path, p.out.Err(), p.stderr.String())
	}
	return p.out.Text()
}

// converse relays one exchange between a client process and srv: the client
// prints each token as a hex line and reads the server's reply as a hex line,
// or "ERR" once the server refused; it ends with a status line. tamper, if
// set, changes the server's final token. converse returns the status line and
// the server's error.
func converse(t *testing.T, p *lineProc, srv *Server, tamper func([]byte) []byte) (string, error) {
	t.Helper()
	for range 2 {
		line := p.recv(t)
		tok, err := hex.DecodeString(line)
		if err != nil {
			t.Fatalf("client sent %q, not hex\nstderr: %s", line, p.stderr.String())
		}
		out, done, err := srv.Step(tok)
		if err != nil {
			p.send(t, "ERR")
			return p.recv(t), err
		}
		if done && tamper != nil {
			out = tamper(out)
		}
		p.send(t, hex.EncodeToString(out))
	}
	return p.recv(t), nil
}

// flipLast changes the last hex digit of rspauth.
func flipLast(b []byte) []byte {
	out := append([]byte(nil), b...)
	if out[len(out)-1] == '0' {
		out[len(out)-1] = '1'
	} else {
		out[len(out)-1] = '0'
	}
	return out
}

// interopCase is one exchange with a real client.
type interopCase struct {
	name, user, password string
	authzid              string // JDK client only
	tamper               func([]byte) []byte
	status               string // the client's last line, up to its first space
	refused              bool   // Server refuses the response
}

func runInterop(t *testing.T, c interopCase, p *lineProc) {
	t.Helper()
	srv := NewServer(testProtocol, testServerName, lookup, crand.Reader)
	status, err := converse(t, p, srv, c.tamper)
	if got, _, _ := strings.Cut(status, " "); got != c.status {
		t.Errorf("client status %q, want %s (server error %v)\nstderr: %s", status, c.status, err, p.stderr.String())
	}
	if c.refused {
		if !errors.Is(err, ErrAuthFailed) {
			t.Errorf("server error %v, want ErrAuthFailed", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("server refused: %v", err)
	}
	if srv.User() != c.user {
		t.Errorf("User() = %q, want %q", srv.User(), c.user)
	}
}

const pureSASLScript = `
import sys
from puresasl.client import SASLClient
user = bytes.fromhex(sys.argv[1]).decode("utf-8")
password = bytes.fromhex(sys.argv[2]).decode("utf-8")
cli = SASLClient(host="zk-sasl-md5", service="zookeeper", mechanism="DIGEST-MD5",
                 username=user, password=password)
def send(tok):
    print((tok or b"").hex(), flush=True)
def recv():
    line = sys.stdin.readline().strip()
    if line == "ERR":
        print("SERVER-REFUSED", flush=True)
        sys.exit(0)
    return bytes.fromhex(line)
send(cli.process(None))
send(cli.process(recv()))
try:
    cli.process(recv())
except Exception as e:
    print("CLIENT-REJECTED", type(e).__name__, e, flush=True)
    sys.exit(0)
print("COMPLETE" if cli.complete else "INCOMPLETE", flush=True)
`

func TestPureSASLInterop(t *testing.T) {
	py := needPython(t)
	for _, c := range []interopCase{
		{name: "ascii", user: "alice", password: "secret", status: "COMPLETE"},
		// pure-sasl hashes UTF-8 and sends no charset; the JDK server (and so
		// Server) still decodes the name as UTF-8, and 日本 is hashed in UTF-8.
		{name: "non-Latin-1", user: "日本", password: "パスワード", status: "COMPLETE"},
		{name: "escapes", user: `a"b\c`, password: `quoted"pw\`, status: "COMPLETE"},
		// pure-sasl hashes josé in UTF-8 where RFC 2831 and the JDK server
		// use ISO 8859-1: it cannot log in to ZooKeeper either.
		{name: "Latin-1 refused as by the JDK", user: "josé", password: "pässwörd",
			status: "SERVER-REFUSED", refused: true},
		{name: "wrong password", user: "alice", password: "guess", status: "SERVER-REFUSED", refused: true},
		{name: "tampered rspauth", user: "alice", password: "secret", tamper: flipLast, status: "CLIENT-REJECTED"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := startProc(t, py, "-c", pureSASLScript, hexArg(c.user), hexArg(c.password))
			runInterop(t, c, p)
		})
	}
}

const jdkClientSource = `
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import javax.security.auth.callback.*;
import javax.security.sasl.*;

public class DigestClient {
    static void send(String s) { System.out.println(s); System.out.flush(); }

    static String utf8(String hex) {
        return new String(HexFormat.of().parseHex(hex), StandardCharsets.UTF_8);
    }

    public static void main(String[] args) throws Exception {
        HexFormat hex = HexFormat.of();
        String user = utf8(args[0]);
        char[] pw = utf8(args[1]).toCharArray();
        String authzid = args.length > 2 ? utf8(args[2]) : null;
        CallbackHandler h = cbs -> {
            for (Callback cb : cbs) {
                if (cb instanceof NameCallback) {
                    ((NameCallback) cb).setName(user);
                } else if (cb instanceof PasswordCallback) {
                    ((PasswordCallback) cb).setPassword(pw);
                } else if (cb instanceof RealmCallback) {
                    RealmCallback rc = (RealmCallback) cb;
                    rc.setText(rc.getDefaultText());
                } else if (cb instanceof RealmChoiceCallback) {
                    ((RealmChoiceCallback) cb).setSelectedIndex(0);
                } else {
                    throw new UnsupportedCallbackException(cb);
                }
            }
        };
        SaslClient c = Sasl.createSaslClient(new String[]{"DIGEST-MD5"}, authzid,
            "zookeeper", "zk-sasl-md5", null, h);
        BufferedReader in = new BufferedReader(
            new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        send(hex.formatHex(c.hasInitialResponse() ? c.evaluateChallenge(new byte[0]) : new byte[0]));
        String line = in.readLine();
        if (line == null || line.equals("ERR")) { send("SERVER-REFUSED"); return; }
        send(hex.formatHex(c.evaluateChallenge(hex.parseHex(line))));
        line = in.readLine();
        if (line == null || line.equals("ERR")) { send("SERVER-REFUSED"); return; }
        try {
            c.evaluateChallenge(hex.parseHex(line));
        } catch (SaslException e) {
            send("CLIENT-REJECTED " + e.getMessage());
            return;
        }
        send(c.isComplete() ? "COMPLETE" : "INCOMPLETE");
    }
}
`

func TestJDKClientInterop(t *testing.T) {
	java, javac := needJava(t)
	dir := compileJava(t, javac, "DigestClient", jdkClientSource)
	for _, c := range []interopCase{
		{name: "ascii", user: "alice", password: "secret", status: "COMPLETE"},
		{name: "Latin-1", user: "josé", password: "pässwörd", status: "COMPLETE"},
		{name: "non-Latin-1", user: "日本", password: "パスワード", status: "COMPLETE"},
		{name: "mixed", user: "müller", password: "密码", status: "COMPLETE"},
		{name: "escapes", user: `a"b\c`, password: `quoted"pw\`, status: "COMPLETE"},
		{name: "authzid", user: "alice", password: "secret", authzid: "bob", status: "COMPLETE"},
		{name: "wrong password", user: "alice", password: "guess", status: "SERVER-REFUSED", refused: true},
		{name: "tampered rspauth", user: "alice", password: "secret", tamper: flipLast, status: "CLIENT-REJECTED"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", dir, "DigestClient", hexArg(c.user), hexArg(c.password)}
			if c.authzid != "" {
				args = append(args, hexArg(c.authzid))
			}
			runInterop(t, c, startProc(t, java, args...))
		})
	}
}

const jdkServerSource = `
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;
import javax.security.auth.callback.*;
import javax.security.sasl.*;

// For each exchange: reads the initial token, prints "CH <challenge>" (or
// "ERR <reason>"), reads the digest-response, prints "OK <rspauth>" or
// "ERR <reason>". All tokens are hex.
public class DigestServer {
    static void send(String s) { System.out.println(s); System.out.flush(); }

    static String utf8(String hex) {
        return new String(HexFormat.of().parseHex(hex), StandardCharsets.UTF_8);
    }

    static String oneLine(Exception e) { return e.toString().replace('\n', ' '); }

    public static void main(String[] args) throws Exception {
        HexFormat hex = HexFormat.of();
        Map<String, String> users = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            users.put(utf8(args[i]), utf8(args[i + 1]));
        }
        BufferedReader in = new BufferedReader(
            new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        String line;
        while ((line = in.readLine()) != null) {
            String[] name = new String[1];
            // As ZooKeeper's SaslServerCallbackHandler does for DIGEST-MD5.
            CallbackHandler h = cbs -> {
                for (Callback cb : cbs) {
                    if (cb instanceof NameCallback) {
                        name[0] = ((NameCallback) cb).getDefaultName();
                    } else if (cb instanceof PasswordCallback) {
                        String pw = users.get(name[0]);
                        if (pw != null) {
                            ((PasswordCallback) cb).setPassword(pw.toCharArray());
                        }
                    } else if (cb instanceof RealmCallback) {
                        RealmCallback rc = (RealmCallback) cb;
                        rc.setText(rc.getDefaultText());
                    } else if (cb instanceof AuthorizeCallback) {
                        AuthorizeCallback ac = (AuthorizeCallback) cb;
                        ac.setAuthorized(true);
                        ac.setAuthorizedID(ac.getAuthenticationID());
                    } else {
                        throw new UnsupportedCallbackException(cb);
                    }
                }
            };
            SaslServer s = Sasl.createSaslServer("DIGEST-MD5", "zookeeper", "zk-sasl-md5", null, h);
            try {
                send("CH " + hex.formatHex(s.evaluateResponse(hex.parseHex(line))));
            } catch (Exception e) {
                send("ERR " + oneLine(e));
                continue;
            }
            if ((line = in.readLine()) == null) {
                return;
            }
            try {
                byte[] out = s.evaluateResponse(hex.parseHex(line));
                send((s.isComplete() ? "OK " : "INCOMPLETE ") + hex.formatHex(out));
            } catch (Exception e) {
                send("ERR " + oneLine(e));
            }
        }
    }
}
`

// jdkServer drives the JDK's DIGEST-MD5 server through DigestServer.
type jdkServer struct{ p *lineProc }

// challenge starts an exchange with an empty initial token.
func (j jdkServer) challenge(t *testing.T) []byte {
	t.Helper()
	j.p.send(t, "")
	line := j.p.recv(t)
	h, ok := strings.CutPrefix(line, "CH ")
	if !ok {
		t.Fatalf("JDK server: %s", line)
	}
	ch, err := hex.DecodeString(h)
	if err != nil {
		t.Fatalf("JDK server: %q: %v", line, err)
	}
	return ch
}

// respond sends the digest-response and returns rspauth or the JDK's error.
func (j jdkServer) respond(t *testing.T, tok []byte) ([]byte, error) {
	t.Helper()
	j.p.send(t, hex.EncodeToString(tok))
	line := j.p.recv(t)
	if h, ok := strings.CutPrefix(line, "OK "); ok {
		out, err := hex.DecodeString(h)
		if err != nil {
			t.Fatalf("JDK server: %q: %v", line, err)
		}
		return out, nil
	}
	return nil, errors.New(line)
}

// TestJDKServerAgrees gives the JDK's DIGEST-MD5 server and Server the very
// same digest-responses against the same nonce (the JDK's, planted in
// Server), and requires the same decision and the same rspauth, except in the
// cases marked jdkDiffers, where the difference must be real.
func TestJDKServerAgrees(t *testing.T) {
	java, javac := needJava(t)
	dir := compileJava(t, javac, "DigestServer", jdkServerSource)
	args := []string{"-cp", dir, "DigestServer"}
	for u, pw := range testUsers {
		args = append(args, hexArg(u), hexArg(pw))
	}
	jdk := jdkServer{startProc(t, java, args...)}
	t.Logf("JDK challenge: %s", jdk.challenge(t))
	jdk.respond(t, nil) // end that exchange

	// A non-empty initial token: the JDK ignores it and sends its challenge;
	// Server refuses it (DIGEST-MD5 has no initial response).
	jdk.p.send(t, hexArg("username=alice"))
	if line := jdk.p.recv(t); !strings.HasPrefix(line, "CH ") {
		t.Errorf("JDK server, non-empty initial token: %s; want it ignored", line)
	}
	jdk.respond(t, nil)
	if _, _, err := NewServer(testProtocol, testServerName, lookup, crand.Reader).Step([]byte("username=alice")); err == nil {
		t.Error("Server accepted a non-empty initial token")
	}

	for _, c := range append(append([]respCase(nil), successCases...), refusalCases...) {
		t.Run(c.name, func(t *testing.T) {
			ch := jdk.challenge(t)
			m := nonceRE.FindSubmatch(ch)
			if m == nil {
				t.Fatalf("no nonce in the JDK's challenge %q", ch)
			}
			_, tok := c.build(string(m[1]))
			jdkOut, jdkErr := jdk.respond(t, tok)

			srv := NewServer(testProtocol, testServerName, lookup, crand.Reader)
			if _, _, err := srv.Step(nil); err != nil {
				t.Fatal(err)
			}
			srv.nonce = m[1]
			goOut, _, goErr := srv.Step(tok)

			if (goErr == nil) != c.ok {
				t.Fatalf("Server: err %v, want ok %v", goErr, c.ok)
			}
			jdkOK := jdkErr == nil
			if want := c.ok != c.jdkDiffers; jdkOK != want {
				t.Fatalf("JDK server: ok %v (%v), Server: ok %v (%v); jdkDiffers %v",
					jdkOK, jdkErr, c.ok, goErr, c.jdkDiffers)
			}
			if jdkOK && c.ok && !bytes.Equal(jdkOut, goOut) {
				t.Errorf("rspauth: JDK %q, Server %q", jdkOut, goOut)
			}
		})
	}
}
