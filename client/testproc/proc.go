//go:build !windows

package testproc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// StartHeader begins the line Start writes to the log file before each
// run's output.
const StartHeader = "=== testproc: start "

// Socket is a reserved port handed to the process under a name
// (LISTEN_FDNAMES): pushflo serve knows "http", "raft" and "debug".
type Socket struct {
	Name string
	Port *Port
}

// Proc is one process of a binary, started and restarted with the same
// command line, sockets and log file. Set the exported fields before the
// first Start; its methods may then be called from any goroutine.
type Proc struct {
	// Name names the process in errors and log headers ("n1").
	Name string
	// Bin is the binary; Args its arguments (see SetArgs to change them
	// between starts).
	Bin  string
	Args []string
	// Env is added to the harness's own environment.
	Env []string
	// Sockets are handed over on every start (see the package doc).
	Sockets []Socket
	// LogPath receives the process's stdout and stderr, appended across
	// starts, each start under a header line. Required.
	LogPath string
	// StartFunc starts cmd; default cmd.Start. Jepsen forks from inside a
	// network namespace with it.
	StartFunc func(cmd *exec.Cmd) error
	// KillWithParent has Linux kill the process when the thread that
	// started it ends (PR_SET_PDEATHSIG), so a harness that dies leaves no
	// server behind. Not with a StartFunc that forks from a thread it
	// then ends.
	KillWithParent bool

	mu     sync.Mutex // guards the fields below
	cmd    *exec.Cmd
	exited chan struct{} // closed once cmd has been waited for
	err    error         // cmd.Wait's result, once exited
	paused bool
}

// SetArgs replaces the arguments used by the next Start.
func (p *Proc) SetArgs(args []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Args = args
}

// CurrentArgs returns a copy of the arguments the next Start uses.
func (p *Proc) CurrentArgs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.Args...)
}

// Start launches the process unless it is running. It is in its own
// process group, so signals meant for the harness do not reach it.
func (p *Proc) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		select {
		case <-p.exited: // ended by itself or stopped: start again
		default:
			return nil
		}
	}
	logf, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	fmt.Fprintf(logf, "%s%s at %s\n", StartHeader, p.Name, time.Now().Format(time.RFC3339Nano))
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close() // the child has its own copies now
		}
	}()
	cmd := exec.Command(p.Bin, p.Args...)
	cmd.Env = append(os.Environ(), p.Env...)
	if len(p.Sockets) > 0 {
		var names []string
		for _, s := range p.Sockets {
			f, err := s.Port.Listen()
			if err != nil {
				logf.Close()
				return fmt.Errorf("start %s: socket %s: %w", p.Name, s.Name, err)
			}
			files = append(files, f)
			names = append(names, s.Name)
		}
		// LISTEN_PID must be the child's own ID: sh learns it as $$ and
		// exec keeps it.
		cmd = exec.Command("/bin/sh", append([]string{"-c", `LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"`, p.Bin}, p.Args...)...)
		cmd.Env = append(os.Environ(), p.Env...)
		cmd.Env = append(cmd.Env, fmt.Sprintf("LISTEN_FDS=%d", len(files)), "LISTEN_FDNAMES="+strings.Join(names, ":"))
		cmd.ExtraFiles = files
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if p.KillWithParent {
		killWithParent(cmd.SysProcAttr)
	}
	start := cmd.Start
	if p.StartFunc != nil {
		start = func() error { return p.StartFunc(cmd) }
	}
	if err := start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	exited := make(chan struct{})
	go func() {
		err := cmd.Wait()
		logf.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(exited)
	}()
	p.cmd, p.exited, p.err, p.paused = cmd, exited, nil, false
	return nil
}

// Running reports whether the process was started and has not exited.
func (p *Proc) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Exited returns a channel closed when the current run ends (nil before
// the first Start).
func (p *Proc) Exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exited
}

// PID returns the process ID while it runs, else 0.
func (p *Proc) PID() int {
	if !p.Running() {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd.Process.Pid
}

// Kill sends SIGKILL and waits up to 30s for the process to end. It does
// nothing when the process is not running.
func (p *Proc) Kill() error { return p.stop(syscall.SIGKILL, 30*time.Second) }

// Stop sends SIGTERM (and SIGCONT, so a paused process can act on it),
// waits up to grace, and returns how the process ended: nil for exit
// status 0. If it has not ended by then it is killed and Stop says so.
func (p *Proc) Stop(grace time.Duration) error {
	if err := p.stop(syscall.SIGTERM, grace); err != nil {
		p.Kill()
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return fmt.Errorf("%s exited with %w after SIGTERM", p.Name, p.err)
	}
	return nil
}

func (p *Proc) stop(sig syscall.Signal, wait time.Duration) error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(sig)
	if sig != syscall.SIGKILL {
		_ = cmd.Process.Signal(syscall.SIGCONT)
	}
	select {
	case <-exited:
	case <-time.After(wait):
		return fmt.Errorf("%s (pid %d) did not exit within %s of %s", p.Name, cmd.Process.Pid, wait, sig)
	}
	p.mu.Lock()
	if p.cmd == cmd {
		p.paused = false
	}
	p.mu.Unlock()
	return nil
}

// Pause sends SIGSTOP: the process keeps its sockets but does nothing.
func (p *Proc) Pause() error { return p.signal(syscall.SIGSTOP, true) }

// Resume sends SIGCONT to a paused process.
func (p *Proc) Resume() error { return p.signal(syscall.SIGCONT, false) }

func (p *Proc) signal(sig syscall.Signal, paused bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return fmt.Errorf("%s: %s: not running", p.Name, sig)
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("%s: %s: %w", p.Name, sig, err)
	}
	p.paused = paused
	return nil
}

// Paused reports whether the process was paused and not resumed.
func (p *Proc) Paused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused
}

// LogTail returns about the last n bytes of the log file.
func (p *Proc) LogTail(n int64) string {
	f, err := os.Open(p.LogPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(0, st.Size()-n)
	b := make([]byte, st.Size()-off)
	_, _ = f.ReadAt(b, off)
	return strings.TrimSpace(string(b))
}

// errExited is returned by waits on a process that ended.
var errExited = errors.New("process exited")

// Signal sends sig to the running process.
func (p *Proc) Signal(sig os.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return fmt.Errorf("%s: %s: not running", p.Name, sig)
	}
	return p.cmd.Process.Signal(sig)
}
