package testproc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// alive reports whether any process of group pgid exists.
func alive(pgid int) bool {
	return !errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH)
}

// TestStartStopsWholeGroup starts a shell whose children outlive it when
// only the shell is killed, as nginx's workers outlive their master, and
// checks that nothing of the group is left once the test is over.
func TestStartStopsWholeGroup(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh:", err)
	}
	for _, tc := range []struct {
		name string
		ctx  bool
	}{{"plain", false}, {"context", true}} {
		var pgid int
		t.Run(tc.name, func(t *testing.T) {
			var cmd *exec.Cmd
			if tc.ctx {
				ctx, cancel := context.WithCancel(context.Background())
				t.Cleanup(cancel)
				cmd = exec.CommandContext(ctx, sh, "-c", "sleep 600 & sleep 600 & wait")
			} else {
				cmd = exec.Command(sh, "-c", "sleep 600 & sleep 600 & wait")
			}
			p, err := Start(t, cmd)
			if err != nil {
				t.Fatal(err)
			}
			pgid = p.Pgid()
			if !alive(pgid) {
				t.Fatal("the group is not running")
			}
		})
		if pgid == 0 || alive(pgid) {
			t.Errorf("%s: group %d still has processes after its test ended", tc.name, pgid)
		}
	}
}

// TestRun checks that Run reports the exit status and leaves no process
// behind even when the program left a background child.
func TestRun(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh:", err)
	}
	var out strings.Builder
	cmd := exec.Command(sh, "-c", "sleep 600 & echo started; exit 3")
	cmd.Stdout = &out
	err = Run(t, cmd)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("Run = %v, want exit status 3", err)
	}
	if out.String() != "started\n" {
		t.Errorf("output %q", out.String())
	}
	if alive(cmd.Process.Pid) {
		t.Error("the background child survived Run")
	}
}

// TestAdopt checks that a group made by the program itself (a daemon's
// setsid) is stopped at cleanup.
func TestAdopt(t *testing.T) {
	setsid, err := exec.LookPath("setsid")
	if err != nil {
		t.Skip("no setsid:", err)
	}
	var pgid int
	t.Run("daemon", func(t *testing.T) {
		cmd := exec.Command(setsid, "--fork", "sh", "-c", "echo $$; exec sleep 600 >/dev/null 2>&1")
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fmt.Sscan(strings.TrimSpace(string(out)), &pgid); err != nil {
			t.Fatal(err)
		}
		Adopt(t, pgid)
	})
	if pgid == 0 || alive(pgid) {
		t.Errorf("adopted group %d still has processes", pgid)
	}
}

func TestFreePortBelowEphemeralRange(t *testing.T) {
	low := ephemeralLow()
	for range 20 {
		p := FreePort(t)
		if low > 11000 && (p < 10000 || p >= low) {
			t.Fatalf("port %d outside [10000, %d)", p, low)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("port %d is not free: %v", p, err)
		}
		ln.Close()
	}
}
