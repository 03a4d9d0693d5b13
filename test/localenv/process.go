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

// process is the webhook subprocess with its output in a log file.
type process struct {
	cmd     *exec.Cmd
	logPath string
	log     *os.File
	done    chan struct{} // closed when the process has exited
	waitErr error
}

func startProcess(bin string, args []string, logPath string, echo io.Writer) (*process, error) {
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
	// Its own process group, so that Stop reaches anything it spawned; and killed by
	// the kernel if this process dies without calling Stop (a panicking test binary).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	p := &process{cmd: cmd, logPath: logPath, log: logFile, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// exited returns an error if the process has already exited, and nil while it runs.
func (p *process) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("webhook exited early (%v)\n%s", p.waitErr, p.tail())
	default:
		return nil
	}
}

// stop sends SIGTERM to the process group and SIGKILL after grace.
func (p *process) stop(grace time.Duration) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-p.done
		return fmt.Errorf("webhook did not exit within %s of SIGTERM; killed", grace)
	}
	// Leftovers in the group (there should be none) do not outlive us either.
	_ = syscall.Kill(pgid, syscall.SIGKILL)
	var exitErr *exec.ExitError
	if p.waitErr != nil && !errors.As(p.waitErr, &exitErr) {
		return p.waitErr
	}
	return nil
}

// tail returns the end of the webhook's log for error messages.
func (p *process) tail() string {
	const max = 4096
	data, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(webhook log %s: %v)", p.logPath, err)
	}
	if len(data) > max {
		data = data[len(data)-max:]
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	return fmt.Sprintf("--- last lines of %s ---\n%s", p.logPath, data)
}
