//go:build unix

package proctest

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	zk "github.com/embedzk/zk"
	"github.com/embedzk/zk/internal/hooks"
)

// BenchmarkRestartAfterKill measures how long a standalone peer takes to
// serve again after a SIGKILL. A child process (this test binary, run as
// TestHelperFillProcess) writes -proctest.restart.nodes znodes of
// -proctest.restart.size bytes from 32 sessions and reports the last
// acknowledged zxid; the parent SIGKILLs it at once, then reopens its data
// directory in this process and times NewEnsemble up to the first session
// that reads a node (every replayed entry applied). Reported per
// iteration: restart-s (that time), restart-cpu-s (the CPU time this
// process used meanwhile, Pebble's background work included: the figure
// that a shared machine's load does not inflate), replayed (log entries
// applied at the restart: the log beyond what the tree had made durable),
// fill-ops/s (the child's write rate).
//
//	go test ./internal/proctest -run x -bench RestartAfterKill -benchtime 3x
func BenchmarkRestartAfterKill(b *testing.B) {
	var restart, cpu time.Duration
	var replayed, fillRate float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		filled, err := fillAndKill(b, dir)
		if err != nil {
			b.Fatal(err)
		}
		fillRate += filled.Rate
		b.StartTimer()
		cpu0 := processCPU()
		e, d, n, err := restartAndRead(dir, filled)
		cpu += processCPU() - cpu0
		b.StopTimer()
		if e != nil {
			e.Close()
		}
		if err != nil {
			b.Fatal(err)
		}
		restart += d
		replayed += float64(n)
	}
	b.ReportMetric(restart.Seconds()/float64(b.N), "restart-s")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "restart-cpu-s")
	b.ReportMetric(replayed/float64(b.N), "replayed")
	b.ReportMetric(fillRate/float64(b.N), "fill-ops/s")
}

var (
	restartNodes = flag.Int("proctest.restart.nodes", 100_000, "BenchmarkRestartAfterKill: znodes the child writes")
	restartSize  = flag.Int("proctest.restart.size", 1024, "BenchmarkRestartAfterKill: bytes per znode")
)

const envFill = "ZK_PROCTEST_FILL"

// fillSpec is what the fill process does; fillDone what it reports.
type fillSpec struct {
	Dir   string
	Nodes int
	Size  int
}

type fillDone struct {
	LastZxid int64
	Rate     float64 // creates per second
	Err      string
}

func restartConfig(dir string) zk.Config {
	return zk.Config{DataDir: dir + "/zk"}
}

// fillAndKill runs the fill process in dir and SIGKILLs it as soon as it
// reports.
func fillAndKill(b *testing.B, dir string) (fillDone, error) {
	spec, _ := json.Marshal(fillSpec{Dir: dir, Nodes: *restartNodes, Size: *restartSize})
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperFillProcess$", "-test.timeout=15m")
	cmd.Env = append(os.Environ(), envFill+"="+string(spec))
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childAttr()
	stdin, err := cmd.StdinPipe() // the child exits when it ends
	if err != nil {
		return fillDone{}, err
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fillDone{}, err
	}
	if err := cmd.Start(); err != nil {
		return fillDone{}, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	}()
	var done fillDone
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), replyPrefix); ok {
			if err := json.Unmarshal([]byte(line), &done); err != nil {
				return done, err
			}
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return done, err
	}
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		return done, fmt.Errorf("fill process: %v, want killed", err)
	}
	if done.Err != "" || done.LastZxid == 0 {
		return done, fmt.Errorf("fill process: %q", done.Err)
	}
	return done, nil
}

// restartAndRead opens the killed peer's directory, and returns the
// ensemble, the time until a new session has read the last node written,
// and the number of log entries the restart applied.
func restartAndRead(dir string, filled fillDone) (*zk.Ensemble, time.Duration, int, error) {
	cfg := restartConfig(dir)
	var view hooks.View
	var from int64
	cfg.TestHooks = &hooks.Hooks{Attach: func(v hooks.View) { view = v; from, _ = v.Applied() }}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	e, err := zk.NewEnsemble(cfg)
	if err != nil {
		return nil, 0, 0, err
	}
	s, err := e.NewSession(ctx)
	if err != nil {
		return e, 0, 0, err
	}
	if _, _, err := s.Get(ctx, fmt.Sprintf("/fill/n%07d", filled.nodes()-1)); err != nil {
		return e, 0, 0, err
	}
	d := time.Since(start)
	if st := e.Status(); st.Applied < filled.LastZxid {
		return e, 0, 0, fmt.Errorf("restarted at %#x, below the acknowledged %#x", st.Applied, filled.LastZxid)
	}
	n, err := countEntries(view, from, filled.LastZxid)
	return e, d, n, err
}

// nodes is the number of nodes the fill wrote (the benchmark's flag).
func (fillDone) nodes() int { return *restartNodes }

// processCPU returns the CPU time this process has used (user and system,
// every thread).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// countEntries counts the log entries in (from, upTo].
func countEntries(v hooks.View, from, upTo int64) (int, error) {
	n := 0
	for from < upTo {
		ents, err := v.LogEntries(from, 1<<20)
		if err != nil || len(ents) == 0 {
			return n, err
		}
		for _, en := range ents {
			if en.Zxid <= upTo {
				n++
			}
			from = en.Zxid
		}
	}
	return n, nil
}

// TestHelperFillProcess is the body of the fill process of
// BenchmarkRestartAfterKill; without ZK_PROCTEST_FILL it does nothing.
func TestHelperFillProcess(t *testing.T) {
	raw := os.Getenv(envFill)
	if raw == "" {
		return
	}
	var spec fillSpec
	done := fillDone{}
	err := json.Unmarshal([]byte(raw), &spec)
	if err == nil {
		done, err = fill(spec)
	}
	if err != nil {
		done.Err = err.Error()
	}
	b, _ := json.Marshal(done)
	fmt.Printf("%s%s\n", replyPrefix, b)
	// Wait for the SIGKILL (or the parent's end).
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	os.Exit(3)
}

// fill writes spec.Nodes nodes under /fill from 32 sessions and returns
// the last acknowledged zxid, leaving the ensemble open.
func fill(spec fillSpec) (fillDone, error) {
	e, err := zk.NewEnsemble(restartConfig(spec.Dir))
	if err != nil {
		return fillDone{}, err
	}
	ctx := context.Background()
	s0, err := e.NewSession(ctx)
	if err != nil {
		return fillDone{}, err
	}
	if _, err := s0.Create(ctx, "/fill", nil); err != nil {
		return fillDone{}, err
	}
	const writers = 32
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	start := time.Now()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := e.NewSession(ctx)
			if err != nil {
				errs <- err
				return
			}
			data := make([]byte, spec.Size)
			for i := next.Add(1) - 1; i < int64(spec.Nodes); i = next.Add(1) - 1 {
				if _, err := s.Create(ctx, fmt.Sprintf("/fill/n%07d", i), data); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return fillDone{}, err
	}
	rate := float64(spec.Nodes) / time.Since(start).Seconds()
	return fillDone{LastZxid: e.Status().LastZxid, Rate: rate}, nil
}
