#!/usr/bin/env python3
"""Records what the real zkCli (ZooKeeper 3.8) prints for a session script.

Usage: capture.py HOST:PORT SCRIPT > TRANSCRIPT

Runs zkCli's ZooKeeperMain, unchanged, through Capture.java, which prints a
marker line whenever zkCli asks for its next line (it runs one line at a
time); this driver sends a line after each marker, so each command's output
is known exactly. Debian's zkCli has no JLine, so it prints no prompt: the
transcript shows each command after the prompt an interactive zkCli prints
("[zk: HOST(STATE) N] ", N counting the non-empty lines, STATE following
the connection events). Output is stdout and stderr merged. The WATCHER::
blocks zkCli's event thread prints are moved after the command's own
output (the two threads' lines can interleave; zk's shell prints events
after the command). Lines starting with '#' in SCRIPT are comments, not
sent. The SLF4J warnings of Debian's classpath are dropped. The last line
is zkCli's exit code.
"""
import os, re, select, subprocess, sys

MARKER = b"\x01zkcli-capture-ready\n"
HERE = os.path.dirname(os.path.abspath(__file__))


def read_until_marker(fd, buf):
    """Returns (output before the next marker, rest, eof)."""
    while MARKER not in buf:
        r, _, _ = select.select([fd], [], [], 120)
        if not r:
            raise SystemExit("zkCli printed no marker for 120s")
        chunk = os.read(fd, 65536)
        if not chunk:
            return buf, b"", True
        buf += chunk
    i = buf.index(MARKER)
    return buf[:i], buf[i + len(MARKER):], False


def clean(text):
    return "".join(l for l in text.splitlines(True) if not l.startswith("SLF4J:"))


EVENT = re.compile(r"\nWatchedEvent [^\n]*")


def events_last(text):
    """Moves each WATCHER block after the command's own lines.

    zkCli's event thread writes a block as "\\nWATCHER::", "\\n",
    "\\nWatchedEvent ...", "\\n"; the main thread's own writes may fall
    between them. The pieces are removed, with the two lone newlines (now
    empty lines) that follow where the block began.
    """
    events = []
    while True:
        i = text.find("\nWATCHER::")
        if i < 0:
            break
        text = text[:i] + text[i + len("\nWATCHER::"):]
        m = EVENT.search(text, i)
        text = text[:m.start()] + text[m.end():]
        events.append(m.group(0)[1:])
        for _ in range(2):
            j = i
            while j < len(text) and not (text[j] == "\n" and (j == 0 or text[j - 1] == "\n")):
                j += 1
            if j < len(text):
                text = text[:j] + text[j + 1:]
    return text + "".join("\nWATCHER::\n\n%s\n" % e for e in events)


def main():
    host, script = sys.argv[1], sys.argv[2]
    cmd = ["java", "-cp", "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar",
           os.path.join(HERE, "Capture.java"), "-server", host]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    fd = p.stdout.fileno()
    out, rest, eof = read_until_marker(fd, b"")
    sys.stdout.write(events_last(clean(out.decode())))
    n, state = 0, "CONNECTED"
    for line in open(script):
        line = line.rstrip("\n")
        if line.startswith("#"):
            continue
        sys.stdout.write("[zk: %s(%s) %d] %s\n" % (host, state, n, line))
        if line != "":
            n += 1
        p.stdin.write((line + "\n").encode())
        p.stdin.flush()
        out, rest, eof = read_until_marker(fd, rest)
        out = clean(out.decode())
        sys.stdout.write(events_last(out))
        for event, st in (("state:SyncConnected type:None", "CONNECTED"),
                          ("state:Closed type:None", "CLOSED"),
                          ("state:AuthFailed type:None", "AUTH_FAILED")):
            if event in out:
                state = st
        if eof:
            break
    p.stdin.close()
    p.wait()
    sys.stdout.write("[exit %d]\n" % p.returncode)


main()
