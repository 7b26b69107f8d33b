// Command bodymem measures how much memory gatehouse holds for request
// bodies. It builds gatehouse, starts it on loopback in front of a local
// backend that discards what it receives, and reports the resident set
// (VmRSS, and VmHWM for peaks, from /proc/PID/status):
//
//   - idle, after start;
//   - with 400 connections that each declared a 1,000,000-byte body with
//     Content-Length and sent all of it but the last byte;
//   - during 3 concurrent chunked 256 MiB uploads (client_max_body_size 0),
//     and 60 seconds after they finished.
//
// It is not part of the test suite: run it with
//
//	go run ./scripts/bodymem
//
// from the repository root (Linux only). Everything it starts is stopped
// before it exits, and the whole run is bounded by -timeout.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	conns := flag.Int("conns", 400, "stalled Content-Length uploads")
	size := flag.Int("size", 1_000_000, "declared size of each stalled body")
	uploads := flag.Int("uploads", 3, "concurrent chunked uploads")
	upSize := flag.Int64("upload-size", 256<<20, "bytes in each chunked upload")
	settle := flag.Duration("settle", 60*time.Second, "wait after the uploads before the last measure")
	timeout := flag.Duration("timeout", 5*time.Minute, "bound on the whole run")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *conns, *size, *uploads, *upSize, *settle); err != nil {
		fmt.Fprintln(os.Stderr, "bodymem:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, conns, size, uploads int, upSize int64, settle time.Duration) error {
	dir, err := os.MkdirTemp("", "bodymem")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "gatehouse")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/gatehouse")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building gatehouse (run from the repository root): %w", err)
	}

	backend, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "%d\n", n)
	})}
	go srv.Serve(backend)
	defer srv.Close()

	front, err := freePort()
	if err != nil {
		return err
	}
	os.MkdirAll(filepath.Join(dir, "logs"), 0o755)
	conf := filepath.Join(dir, "gatehouse.conf")
	err = os.WriteFile(conf, []byte(fmt.Sprintf(`
pid %[1]s/logs/gatehouse.pid;
error_log %[1]s/logs/error.log error;
events { worker_connections 4096; }
http {
    access_log off;
    client_max_body_size 0;
    client_body_timeout 5m;
    upstream backend { server %[2]s; }
    server {
        listen 127.0.0.1:%[3]d;
        location / { proxy_pass http://backend; }
    }
}
`, dir, backend.Addr(), front)), 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "-p", dir+"/", "-c", conf)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	pid := cmd.Process.Pid
	addr := fmt.Sprintf("127.0.0.1:%d", front)
	if err := waitListening(ctx, addr); err != nil {
		return err
	}
	idle, _, err := memory(pid)
	if err != nil {
		return err
	}
	fmt.Printf("idle:                                   VmRSS %s\n", mib(idle))

	// (a) stalled Content-Length bodies
	held, err := stalled(ctx, addr, pid, conns, size)
	if err != nil {
		return err
	}
	fmt.Printf("%d bodies of %d bytes, 1 byte short:   VmRSS %s (+%s over idle)\n", conns, size, mib(held), mib(held-idle))

	// (b) chunked uploads
	resetPeak(pid)
	peak, err := chunkedUploads(ctx, addr, pid, uploads, upSize)
	if err != nil {
		return err
	}
	_, hwm, _ := memory(pid)
	fmt.Printf("%d chunked uploads of %d MiB, peak:       VmRSS %s sampled, VmHWM %s (+%s over idle)\n", uploads, upSize>>20, mib(peak), mib(hwm), mib(max(peak, hwm)-idle))
	select {
	case <-time.After(settle):
	case <-ctx.Done():
		return ctx.Err()
	}
	after, _, err := memory(pid)
	if err != nil {
		return err
	}
	fmt.Printf("%s after the uploads:                  VmRSS %s (+%s over idle)\n", settle, mib(after), mib(after-idle))
	limit := int64(64 << 20)
	if held-idle > limit || max(peak, hwm)-idle > limit || after-idle > limit {
		return errors.New("over the target of 64 MiB above idle")
	}
	fmt.Println("within the target of 64 MiB above idle")
	return nil
}

// stalled opens n connections that each send a Content-Length body of
// size bytes but the last, waits until gatehouse has read them (its
// resident set stops growing), measures, and closes them.
func stalled(ctx context.Context, addr string, pid, n, size int) (int64, error) {
	var cs []net.Conn
	defer func() {
		for _, c := range cs {
			c.Close()
		}
	}()
	body := make([]byte, size-1)
	for i := range body {
		body[i] = 'x'
	}
	head := fmt.Sprintf("PUT /stall HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n", size)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return 0, err
		}
		cs = append(cs, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetWriteDeadline(time.Now().Add(2 * time.Minute))
			if _, err := io.WriteString(c, head); err != nil {
				errs <- err
				return
			}
			if _, err := c.Write(body); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, fmt.Errorf("sending the stalled bodies: %w", err)
	}
	// Every byte was written to the sockets; give gatehouse time to read
	// what the kernel holds, sampling the largest resident set.
	var most int64
	for range 20 {
		rss, _, err := memory(pid)
		if err != nil {
			return 0, err
		}
		most = max(most, rss)
		select {
		case <-time.After(250 * time.Millisecond):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	files, bytes := openFiles(pid)
	fmt.Printf("  gatehouse holds %d open regular files with %s (request bodies spooled to disk)\n", files, mib(bytes))
	return most, nil
}

// chunkedUploads sends n chunked bodies of size bytes at once and returns
// the largest resident set sampled while they ran.
func chunkedUploads(ctx context.Context, addr string, pid, n int, size int64) (int64, error) {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- upload(ctx, addr, size)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var most int64
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			close(errs)
			for err := range errs {
				if err != nil {
					return most, err
				}
			}
			return most, nil
		case <-tick.C:
			if rss, _, err := memory(pid); err == nil {
				most = max(most, rss)
			}
		case <-ctx.Done():
			return most, ctx.Err()
		}
	}
}

func upload(ctx context.Context, addr string, size int64) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(4 * time.Minute))
	w := bufio.NewWriterSize(c, 128<<10)
	io.WriteString(w, "PUT /upload HTTP/1.1\r\nHost: a\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n")
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = 'y'
	}
	for left := size; left > 0; {
		n := min(int64(len(chunk)), left)
		fmt.Fprintf(w, "%x\r\n", n)
		w.Write(chunk[:n])
		if _, err := io.WriteString(w, "\r\n"); err != nil {
			return fmt.Errorf("uploading: %w", err)
		}
		left -= n
	}
	io.WriteString(w, "0\r\n\r\n")
	if err := w.Flush(); err != nil {
		return fmt.Errorf("uploading: %w", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return fmt.Errorf("reading the upload's response: %w", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || strings.TrimSpace(string(b)) != strconv.FormatInt(size, 10) {
		return fmt.Errorf("upload answered %d %q, want 200 and %d", resp.StatusCode, b, size)
	}
	return nil
}

// openFiles counts the regular files pid has open and their total size:
// request bodies in (unlinked) temporary files.
func openFiles(pid int) (n int, size int64) {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		fi, err := os.Stat(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			n++
			size += fi.Size()
		}
	}
	return n, size
}

// memory returns VmRSS and VmHWM of pid, in bytes.
func memory(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb << 10
		case "VmHWM:":
			hwm = kb << 10
		}
	}
	return rss, hwm, nil
}

// resetPeak resets VmHWM to the current resident set (Linux 4.0+; it
// needs to own the process or be root, and is skipped otherwise).
func resetPeak(pid int) {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

func waitListening(ctx context.Context, addr string) error {
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("gatehouse did not listen on %s: %w", addr, err)
		}
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
