package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// httpConn is one keep-alive HTTP/1.1 connection of the load generator:
// it writes each request as prepared bytes and reads the answer's status,
// the three headers that frame it and its body, nothing more, as wrk
// does (issue 11 measures with wrk). net/http's client parsed every
// header of every answer into a map and cost about as much CPU per
// request as the server's retrieve does, on the same two cores; the
// server's answers carry more headers and a larger body than the
// baselines', so that cost fell on the server's side of the ratios.
type httpConn struct {
	addr, host string
	conn       net.Conn
	r          *bufio.Reader
	req        []byte
}

// newHTTPConn returns a connection to base (http://host:port), opened at
// its first request.
func newHTTPConn(base string) (*httpConn, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("load: base %q: want http://host:port", base)
	}
	return &httpConn{addr: u.Host, host: u.Host}, nil
}

// answerLimit is how much of a non-2xx answer's body is kept for the
// report.
const answerLimit = 600

// do sends one request (key as a bearer token, body as JSON when not nil)
// and returns the answer's status and, for a non-2xx answer, the start of
// its body. The connection is opened again after an error or when the
// server closes it.
func (c *httpConn) do(method, path, key string, body []byte) (int, []byte, error) {
	if c.conn == nil {
		conn, err := net.Dial("tcp", c.addr)
		if err != nil {
			return 0, nil, err
		}
		c.conn, c.r = conn, bufio.NewReaderSize(conn, 64<<10)
	}
	_ = c.conn.SetDeadline(time.Now().Add(30 * time.Second))
	req := append(c.req[:0], method...)
	req = append(append(append(req, ' '), path...), " HTTP/1.1\r\nHost: "...)
	req = append(append(req, c.host...), "\r\nAuthorization: Bearer "...)
	req = append(append(req, key...), "\r\n"...)
	if body != nil {
		req = append(req, "Content-Type: application/json\r\nContent-Length: "...)
		req = append(strconv.AppendInt(req, int64(len(body)), 10), "\r\n"...)
	}
	req = append(append(req, "\r\n"...), body...)
	c.req = req
	status, answer, keep, err := c.roundTrip(req)
	if err != nil || !keep {
		c.close()
	}
	return status, answer, err
}

// roundTrip writes req and reads its answer; keep says the connection
// may carry the next request.
func (c *httpConn) roundTrip(req []byte) (status int, answer []byte, keep bool, err error) {
	if _, err := c.conn.Write(req); err != nil {
		return 0, nil, false, err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, nil, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, nil, false, fmt.Errorf("load: bad status line %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, nil, false, fmt.Errorf("load: bad status line %q", line)
	}
	length, chunked, keep := int64(-1), false, true
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return 0, nil, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil {
				return 0, nil, false, fmt.Errorf("load: bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			keep = !bytes.EqualFold(value, []byte("close"))
		}
	}
	var kept bytes.Buffer
	sink := io.Writer(io.Discard)
	if status/100 != 2 {
		sink = &limitedBuffer{&kept, answerLimit}
	}
	switch {
	case chunked:
		err = readChunked(c.r, sink)
	case length >= 0:
		_, err = io.CopyN(sink, c.r, length)
	default: // the body runs to the end of the connection
		_, err = io.Copy(sink, c.r)
		keep = false
	}
	return status, kept.Bytes(), keep, err
}

// readChunked copies a chunked body, and skips its trailer.
func readChunked(r *bufio.Reader, w io.Writer) error {
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(";"))
		n, err := strconv.ParseInt(string(size), 16, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("load: bad chunk size %q", line)
		}
		if n == 0 {
			for { // the trailer, up to its empty line
				line, err := r.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(bytes.TrimRight(line, "\r\n")) == 0 {
					return nil
				}
			}
		}
		if _, err := io.CopyN(w, r, n); err != nil {
			return err
		}
		if _, err := r.Discard(2); err != nil {
			return err
		}
	}
}

// close drops the connection; the next request opens a new one.
func (c *httpConn) close() {
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn, c.r = nil, nil
	}
}

// limitedBuffer keeps the first n bytes written to it and drops the rest.
type limitedBuffer struct {
	buf *bytes.Buffer
	n   int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
