// Small Go socket programs for the netcheck matrix lab, one role per invocation.
//
// Usage: goprobe ROLE ARGS...
//
// Go dials with a nonblocking connect answered through getsockopt(SO_ERROR), serves through its
// epoll netpoller (pointers in epoll data) and runs several threads: the patterns the lab records
// it for. Only the standard library is used; every wait is bounded or ended by the lab's signal.
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func say(words ...interface{}) { fmt.Fprintln(os.Stderr, words...) }

func seconds(s string) time.Duration {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 3 * time.Second
	}
	return time.Duration(f * float64(time.Second))
}

// http-get URL [TIMEOUT]: one GET with the default client (keep-alive off).
func httpGet(args []string) {
	timeout := "5"
	if len(args) > 1 {
		timeout = args[1]
	}
	client := &http.Client{Timeout: seconds(timeout), Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(args[0])
	if err != nil {
		say("get failed:", err)
		os.Exit(1)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	say("status", resp.StatusCode, "bytes", n)
}

// http-post URL SIZE [TIMEOUT]: one POST of SIZE bytes.
func httpPost(args []string) {
	size, _ := strconv.Atoi(args[1])
	timeout := "5"
	if len(args) > 2 {
		timeout = args[2]
	}
	client := &http.Client{Timeout: seconds(timeout), Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Post(args[0], "text/plain", strings.NewReader(strings.Repeat("p", size)))
	if err != nil {
		say("post failed:", err)
		os.Exit(1)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	say("status", resp.StatusCode)
}

// http-server ADDR: serves /hello.txt until a signal ends it.
func httpServer(args []string) {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Connection", "close")
		io.WriteString(w, "hello from the netcheck lab\n")
	})
	server := &http.Server{Addr: args[0]}
	say(server.ListenAndServe())
}

// tcp-send ADDR MESSAGE [TIMEOUT]: dial, send MESSAGE and a newline, half-close, read until EOF
// or TIMEOUT.
func tcpSend(args []string) {
	timeout := "3"
	if len(args) > 2 {
		timeout = args[2]
	}
	conn, err := net.Dial("tcp", args[0])
	if err != nil {
		say("dial failed:", err)
		os.Exit(1)
	}
	conn.SetDeadline(time.Now().Add(seconds(timeout)))
	if _, err := conn.Write([]byte(args[1] + "\n")); err != nil {
		say("write failed:", err)
	}
	buf := make([]byte, 4096)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			say("reply", strings.TrimSpace(string(buf[:n])))
		}
		if err != nil {
			if err != io.EOF {
				say("read failed:", err)
			}
			break
		}
	}
	conn.Close()
}

// echo-server ADDR: echoes every connection until a signal ends it.
func echoServer(args []string) {
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		say("listen failed:", err)
		os.Exit(1)
	}
	for {
		conn, err := ln.Accept()
		if err != nil {
			say("accept failed:", err)
			return
		}
		go func(c net.Conn) {
			n, err := io.Copy(c, c)
			say("echoed", n, err)
			c.Close()
		}(conn)
	}
}

// listen-only ADDR SECONDS: listens, never accepts.
func listenOnly(args []string) {
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		say("listen failed:", err)
		os.Exit(1)
	}
	time.Sleep(seconds(args[1]))
	ln.Close()
}

// read-some-close ADDR N: accepts one connection, reads N bytes, closes with the rest unread.
func readSomeClose(args []string) {
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		say("listen failed:", err)
		os.Exit(1)
	}
	conn, err := ln.Accept()
	if err != nil {
		say("accept failed:", err)
		os.Exit(1)
	}
	n, _ := strconv.Atoi(args[1])
	buf := make([]byte, n)
	conn.SetDeadline(time.Now().Add(3 * time.Second))
	got, err := io.ReadFull(conn, buf)
	say("read", got, err)
	time.Sleep(200 * time.Millisecond)
	conn.Close()
	ln.Close()
}

// udp-send ADDR SIZE...: one datagram per size, 0.1 s apart.
func udpSend(args []string) {
	conn, err := net.Dial("udp", args[0])
	if err != nil {
		say("dial failed:", err)
		os.Exit(1)
	}
	for _, s := range args[1:] {
		size, _ := strconv.Atoi(s)
		payload := []byte(fmt.Sprintf("size %05d ", size) + strings.Repeat("-", size))[:size]
		if _, err := conn.Write(payload); err != nil {
			say("write failed:", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	conn.Close()
}

// udp-echo ADDR SECONDS: echoes datagrams until SECONDS pass without one.
func udpEcho(args []string) {
	pc, err := net.ListenPacket("udp", args[0])
	if err != nil {
		say("listen failed:", err)
		os.Exit(1)
	}
	buf := make([]byte, 4096)
	for {
		pc.SetReadDeadline(time.Now().Add(seconds(args[1])))
		n, peer, err := pc.ReadFrom(buf)
		if err != nil {
			break
		}
		pc.WriteTo(buf[:n], peer)
	}
	pc.Close()
}

// udp-client ADDR COUNT SIZE: COUNT datagrams, each waiting up to 1 s for its echo.
func udpClient(args []string) {
	conn, err := net.Dial("udp", args[0])
	if err != nil {
		say("dial failed:", err)
		os.Exit(1)
	}
	count, _ := strconv.Atoi(args[1])
	size, _ := strconv.Atoi(args[2])
	buf := make([]byte, 4096)
	for i := 0; i < count; i++ {
		payload := []byte(fmt.Sprintf("dgram %03d ", i) + strings.Repeat(".", size))[:size]
		conn.Write(payload)
		conn.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := conn.Read(buf); err != nil {
			say("no echo:", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	conn.Close()
}

// bulk-client ADDR SIZE: sends a hello, reads the echo, then SIZE bytes in 1400-byte writes, then
// waits for the echo of the bulk until a signal ends it.
func bulkClient(args []string) {
	conn, err := net.Dial("tcp", args[0])
	if err != nil {
		say("dial failed:", err)
		os.Exit(1)
	}
	conn.Write([]byte("hello\n"))
	buf := make([]byte, 65536)
	n, err := conn.Read(buf)
	say("hello echoed", n, err)
	size, _ := strconv.Atoi(args[1])
	block := []byte(strings.Repeat("x", 1400))
	for sent := 0; sent < size; sent += len(block) {
		if _, err := conn.Write(block); err != nil {
			say("write failed:", err)
			break
		}
	}
	for {
		if _, err := conn.Read(buf); err != nil {
			break
		}
	}
	conn.Close()
}

func main() {
	roles := map[string]func([]string){
		"http-get":        httpGet,
		"http-post":       httpPost,
		"http-server":     httpServer,
		"tcp-send":        tcpSend,
		"echo-server":     echoServer,
		"listen-only":     listenOnly,
		"read-some-close": readSomeClose,
		"udp-send":        udpSend,
		"udp-echo":        udpEcho,
		"udp-client":      udpClient,
		"bulk-client":     bulkClient,
	}
	if len(os.Args) < 2 || roles[os.Args[1]] == nil {
		say("usage: goprobe ROLE ARGS...")
		os.Exit(2)
	}
	roles[os.Args[1]](os.Args[2:])
}
