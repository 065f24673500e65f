package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // to create the PostgreSQL schemas
)

const adminKey = "bench-admin-key-0123456789"

// process is a started server or baseline.
type process struct {
	base   string
	pprof  string // base URL of the profiler (servers only)
	pid    int
	exited chan struct{} // closed when the process has exited
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startProcess runs bin with args, in which ADDR and PPROF stand for free
// loopback addresses, and waits until ready answers below 500. Its
// standard output (the server's request log) goes to /dev/null, so that
// nothing in this process has to read it.
func startProcess(bin string, env []string, ready string, args ...string) (*process, error) {
	addr, pprofAddr := freeAddr(), freeAddr()
	full := append([]string{}, args...)
	for i, a := range full {
		full[i] = strings.ReplaceAll(strings.ReplaceAll(a, "PPROF", pprofAddr), "ADDR", addr)
	}
	cmd := exec.Command(bin, full...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	p := &process{base: "http://" + addr, pprof: "http://" + pprofAddr, pid: cmd.Process.Pid, exited: exited}
	go func() { _ = cmd.Wait(); close(exited) }()
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-exited:
			return nil, fmt.Errorf("%s %v exited at start: %v", filepath.Base(bin), args, cmd.ProcessState)
		default:
		}
		if resp, err := http.Get(p.base + ready); err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return p, nil
			}
		}
	}
	_ = cmd.Process.Kill()
	<-exited
	return nil, fmt.Errorf("%s %v did not start", filepath.Base(bin), args)
}

// peakRSS is the process's resident-set high-water mark (VmHWM), in MB.
func (p *process) peakRSS() float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, "VmHWM:"), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// stop ends the process gracefully (SIGTERM), or kills it after 15 s.
func (p *process) stop() {
	_ = syscall.Kill(p.pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
		<-p.exited
	}
}

// do sends a request as the superuser and returns the answer's body,
// failing unless the status is want.
func (p *process) do(method, path string, body any, want int) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(mustJSON(body)))
	}
	req, _ := http.NewRequest(method, p.base+"/api/v3"+path, rd)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	return raw, nil
}

func (p *process) post(path string, body any) (map[string]any, error) {
	raw, err := p.do(http.MethodPost, path, body, http.StatusCreated)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	return out, json.Unmarshal(raw, &out)
}

// freshDatabase makes an empty database on backend (a new SQLite file, or
// a new PostgreSQL schema), seeds it with d, and returns its URL and a
// function removing it.
func (h *harness) freshDatabase(backend string, d dataset) (string, func(), error) {
	h.databases++
	var db string
	var drop func()
	if backend == "sqlite" {
		db = filepath.Join(h.work, fmt.Sprintf("bench-%d.db", h.databases))
		drop = func() {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				_ = os.Remove(db + suffix)
			}
		}
	} else {
		conn, err := sql.Open("pgx", h.cfg.postgresURL)
		if err != nil {
			return "", nil, err
		}
		schema := fmt.Sprintf("akconn_bench_%d_%d", time.Now().Unix(), h.databases)
		if _, err := conn.Exec("CREATE SCHEMA " + schema); err != nil {
			conn.Close()
			return "", nil, err
		}
		u, err := url.Parse(h.cfg.postgresURL)
		if err != nil {
			conn.Close()
			return "", nil, err
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		db = u.String()
		drop = func() { _, _ = conn.Exec("DROP SCHEMA " + schema + " CASCADE"); conn.Close() }
		// After the seeding: what it and the scenarios before wrote is on
		// disk before the measurement starts, not written out during it.
		defer func() { _, _ = conn.Exec("CHECKPOINT") }()
	}
	args := []string{"seed", "--database", db, "--connections", fmt.Sprint(d.Connections)}
	if d.Users > 0 {
		args = append(args, "--users", fmt.Sprint(d.Users))
	}
	if d.Sources > 0 {
		args = append(args, "--sources", fmt.Sprint(d.Sources))
	}
	if d.Events > 0 {
		args = append(args, "--events", fmt.Sprint(d.Events))
	}
	if d.Tokens {
		args = append(args, "--tokens")
	}
	say("%s: seeding %s", backend, d)
	start := time.Now()
	if out, err := exec.Command(h.server, args...).CombinedOutput(); err != nil {
		drop()
		return "", nil, fmt.Errorf("seed: %v\n%s", err, out)
	}
	took := time.Since(start).Round(100 * time.Millisecond)
	say("%s: seeded in %s", backend, took)
	h.seeds = append(h.seeds, fmt.Sprintf("%s, %s: %s", backend, d, took))
	return db, drop, nil
}

// startVariant starts v on db: the server with v's flags, or v's baseline
// (the static one answers the body the first server in started gives for
// connection 1).
func (h *harness) startVariant(v variant, db string, started []*process) (*process, error) {
	if v.Baseline == "" {
		args := append([]string{"serve", "--addr", "ADDR", "--database", db, "--bootstrap-token", adminKey,
			"--pprof-addr", "PPROF"}, v.Args...)
		start := time.Now()
		p, err := startProcess(h.server, v.Env, "/-/health/ready/", args...)
		if err == nil {
			say("server %q ready in %s", v.Name, time.Since(start).Round(100*time.Millisecond))
		}
		return p, err
	}
	arg := db
	if v.Baseline == "baseline-static" {
		if len(started) == 0 {
			return nil, fmt.Errorf("variant %q needs a server variant before it", v.Name)
		}
		body, err := started[0].do(http.MethodGet, "/sources/user_connections/oauth/1/", nil, http.StatusOK)
		if err != nil {
			return nil, err
		}
		arg = filepath.Join(h.work, "retrieve.json")
		if err := os.WriteFile(arg, body, 0o644); err != nil {
			return nil, err
		}
	}
	return startProcess(h.self, v.Env, "/api/v3/sources/user_connections/oauth/1/", v.Baseline, "ADDR", arg)
}
