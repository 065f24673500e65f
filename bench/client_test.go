package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// The load generator's client reads every way net/http frames an answer
// (Content-Length, chunked, to the end of a closed connection), keeps the
// connection alive between requests unless told to close it, sends the
// bearer token and the JSON body, and keeps the start of a non-2xx body.
func TestHTTPConn(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k" {
			http.Error(w, "no token", http.StatusForbidden)
			return
		}
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/small":
			if r.Method == "POST" && (string(body) != `{"a":1}` || r.Header.Get("Content-Type") != "application/json") {
				http.Error(w, "body "+string(body), http.StatusUnprocessableEntity)
				return
			}
			fmt.Fprintf(w, "%s %s", r.Method, body)
		case "/chunked":
			for i := 0; i < 100; i++ {
				fmt.Fprint(w, strings.Repeat("x", 1000))
				w.(http.Flusher).Flush()
			}
		case "/close":
			w.Header().Set("Connection", "close")
			fmt.Fprint(w, "bye")
		case "/bad":
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, strings.Repeat("e", 2000))
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := newHTTPConn(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	for _, tc := range []struct {
		method, path, key string
		body              []byte
		status            int
		answer            int // length of the kept answer
	}{
		{"POST", "/small", "k", []byte(`{"a":1}`), 200, 0},
		{"GET", "/chunked", "k", nil, 200, 0},
		{"GET", "/small", "k", nil, 200, 0},
		{"GET", "/bad", "k", nil, 400, answerLimit},
		{"GET", "/small", "wrong", nil, 403, len("no token\n")},
		{"GET", "/close", "k", nil, 200, 0},
		{"GET", "/small", "k", nil, 200, 0},
	} {
		status, answer, err := c.do(tc.method, tc.path, tc.key, tc.body)
		if err != nil || status != tc.status || len(answer) != tc.answer {
			t.Fatalf("%s %s: %d, %d bytes kept, %v; want %d, %d bytes", tc.method, tc.path, status, len(answer), err, tc.status, tc.answer)
		}
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2 (one closed by the server)", n)
	}
}
