package localenv

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Process is a child process in its own process group, with its output in a log file:
// the webhook that Start runs, and the servers of the benchmarks and fault tests.
type Process struct {
	// Name names the process in errors.
	Name    string
	LogPath string
	Cmd     *exec.Cmd

	done    chan struct{} // closed when the process has exited
	waitErr error
	exitAt  time.Time
}

// StartProcess runs bin with args, its output going to logPath (and to echo, when set).
// The process gets its own group, so that Stop reaches anything it spawned, and the kernel
// kills it if this process dies without calling Stop (a panicking test binary).
func StartProcess(name, bin string, args []string, logPath string, echo io.Writer) (*Process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logFile, "# %s %q\n", bin, args)
	var out io.Writer = logFile
	if echo != nil {
		out = io.MultiWriter(logFile, echo)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	p := &Process{Name: name, LogPath: logPath, Cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		p.exitAt = time.Now()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// Done is closed when the process has exited; then WaitErr and ExitAt are set.
func (p *Process) Done() <-chan struct{} { return p.done }

// WaitErr is what waiting for the process returned; valid once Done is closed.
func (p *Process) WaitErr() error { return p.waitErr }

// ExitAt is when the process exited; valid once Done is closed.
func (p *Process) ExitAt() time.Time { return p.exitAt }

// Exited returns an error if the process has already exited, and nil while it runs.
func (p *Process) Exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited early (%v)\n%s", p.Name, p.waitErr, p.Tail())
	default:
		return nil
	}
}

// Stop sends SIGTERM to the process group and SIGKILL after grace; an exit status other
// than 0 after SIGTERM is not an error, failing to exit within grace is.
func (p *Process) Stop(grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	pgid := -p.Cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("%s did not exit within %s of SIGTERM; killed", p.Name, grace)
	}
	// Leftovers in the group (there should be none) do not outlive us either.
	_ = syscall.Kill(pgid, syscall.SIGKILL)
	var exitErr *exec.ExitError
	if p.waitErr != nil && !errors.As(p.waitErr, &exitErr) {
		return p.waitErr
	}
	return nil
}

// Tail returns the end of the log for error messages.
func (p *Process) Tail() string {
	const max = 6000
	data, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("(%s log %s: %v)", p.Name, p.LogPath, err)
	}
	if len(data) > max {
		data = data[len(data)-max:]
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	return fmt.Sprintf("--- last lines of %s ---\n%s", p.LogPath, data)
}
