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

	_ "github.com/jackc/pgx/v5/stdlib" // to create the PostgreSQL schema
)

const adminKey = "bench-admin-key-0123456789"

// row is one line of the report.
type row struct {
	Backend  string
	Size     int
	Scenario string
	Mode     string
	Result   result
	// VsStatic and VsSQL are throughput ratios to the baselines (retrieve only).
	VsStatic, VsSQL float64
	RSSMB           float64
}

// process is a started server or baseline.
type process struct {
	cmd   *exec.Cmd
	base  string
	pprof string // base URL of the profiler, if asked for with PPROF
	pid   int
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startProcess(bin string, env []string, ready string, args ...string) (*process, error) {
	addr, pprofAddr := freeAddr(), freeAddr()
	full := append([]string{}, args...)
	for i, a := range full {
		full[i] = strings.ReplaceAll(strings.ReplaceAll(a, "PPROF", pprofAddr), "ADDR", addr)
	}
	cmd := exec.Command(bin, full...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, base: "http://" + addr, pprof: "http://" + pprofAddr, pid: cmd.Process.Pid}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(p.base + ready); err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return p, nil
			}
		}
	}
	p.stop()
	return nil, fmt.Errorf("%s %v did not start", bin, args)
}

// peakRSS is the process's resident-set high-water mark, in MB.
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

func (p *process) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// get fetches path as the admin and decodes the JSON answer.
func (p *process) get(path string, out any) error {
	req, _ := http.NewRequest(http.MethodGet, p.base+"/api/v3"+path, nil)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, raw)
	}
	return json.Unmarshal(raw, out)
}

func (p *process) post(path string, body any) (map[string]any, error) {
	req, _ := http.NewRequest(http.MethodPost, p.base+"/api/v3"+path, strings.NewReader(string(mustJSON(body))))
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, raw)
	}
	return out, json.Unmarshal(raw, &out)
}

// database prepares an empty database on backend and returns its URL.
func database(cfg *config, backend string, size int) (string, func(), error) {
	if backend == "sqlite" {
		return filepath.Join(cfg.work, fmt.Sprintf("bench-%d.db", size)), func() {}, nil
	}
	db, err := sql.Open("pgx", cfg.postgresURL)
	if err != nil {
		return "", nil, err
	}
	schema := fmt.Sprintf("akconn_bench_%d_%d", size, time.Now().UnixNano())
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		return "", nil, err
	}
	u, _ := url.Parse(cfg.postgresURL)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() { _, _ = db.Exec("DROP SCHEMA " + schema + " CASCADE"); db.Close() }, nil
}
