// Package testproc starts the external programs that tests compare
// gatehouse with (Debian's nginx) so that none of their processes
// outlives the test: each runs in a process group of its own, which is
// killed and reaped as a whole when the test ends, and the test fails
// loudly if any process of the group is still there. FreePort gives such
// a program a port no other test can take first. It is imported by test
// files only.
package testproc

import (
	"bytes"
	"errors"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// Proc is a started program and its process group.
type Proc struct {
	cmd  *exec.Cmd
	pgid int
	done chan struct{}
	err  error
}

// Start starts cmd as the leader of a new process group and registers a
// cleanup on t that kills the group (an nginx master and its workers
// alike), waits for cmd and reaps the rest of the group, then checks that
// nothing of the group remains. The caller must not call cmd.Wait; it
// learns of the exit from Done and Err. A cmd made with
// exec.CommandContext is killed, group and all, when its context ends.
func Start(t testing.TB, cmd *exec.Cmd) (*Proc, error) {
	t.Helper()
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pgid = 0
	if cmd.Cancel != nil {
		cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
	}
	// Workers whose master dies first are re-parented to this process,
	// which can then reap them; without it they would stay zombies of
	// an init that may not reap.
	becomeSubreaper()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{cmd: cmd, pgid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(t) })
	return p, nil
}

// Run starts cmd as Start does, waits for it to exit and stops its
// group at once (a program that forked and left something behind is
// found then); its error is cmd's exit status. Unless cmd sets its own
// WaitDelay, output still held open by a left-behind child is cut off a
// second after the program exits.
func Run(t testing.TB, cmd *exec.Cmd) error {
	t.Helper()
	if cmd.WaitDelay == 0 {
		// A child left behind holding the output open must not keep
		// Wait from returning after the program itself has exited.
		cmd.WaitDelay = time.Second
	}
	p, err := Start(t, cmd)
	if err != nil {
		return err
	}
	<-p.done
	p.stop(t)
	return p.err
}

// Adopt takes charge of a process group that a test's program made on
// its own, such as nginx's daemon, which leaves the launcher's group
// with setsid: the group is killed, reaped and checked at cleanup. The
// program must have been launched with Start or Run, which make this
// process the one its orphans are re-parented to.
func Adopt(t testing.TB, pgid int) {
	t.Helper()
	if pgid <= 1 {
		t.Fatalf("testproc: bad process group %d", pgid)
	}
	p := &Proc{pgid: pgid, done: make(chan struct{})}
	close(p.done)
	t.Cleanup(func() { p.stop(t) })
}

// Done is closed when the group's leader has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err is the leader's exit status; it is valid once Done is closed.
func (p *Proc) Err() error { return p.err }

// Pgid is the process group of the program.
func (p *Proc) Pgid() int { return p.pgid }

// stop kills the group, reaps what of it is this process's children and
// fails t when a process of the group survives. It may run twice.
func (p *Proc) stop(t testing.TB) {
	t.Helper()
	_ = killGroup(p.pgid)
	<-p.done
	reap(p.pgid)
	if err := syscall.Kill(-p.pgid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("testproc: processes of group %d (%v) are still running after the test: %v", p.pgid, p.args(), err)
	}
}

func (p *Proc) args() []string {
	if p.cmd == nil {
		return nil
	}
	return p.cmd.Args
}

func killGroup(pgid int) error {
	err := syscall.Kill(-pgid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// reap waits for every child of this process in group pgid; killed
// with SIGKILL they exit at once.
func reap(pgid int) {
	for {
		var ws syscall.WaitStatus
		_, err := syscall.Wait4(-pgid, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil { // ECHILD: none left
			return
		}
	}
}

// CombinedOutput is Run with standard output and standard error
// collected together, like exec.Cmd's CombinedOutput.
func CombinedOutput(t testing.TB, cmd *exec.Cmd) ([]byte, error) {
	t.Helper()
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := Run(t, cmd)
	return b.Bytes(), err
}
