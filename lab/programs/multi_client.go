// lab/multi.sh's Go client: net.Dialer tries the addresses of a name in RFC 6555 order (Happy
// Eyeballs: the first family's addresses one after another, the other family's after 300 ms).
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

func main() {
	dialer := net.Dialer{Timeout: 8 * time.Second}
	conn, err := dialer.Dial("tcp", net.JoinHostPort(os.Args[1], os.Args[2]))
	if err != nil {
		fmt.Println("failed:", err)
		os.Exit(1)
	}
	fmt.Fprintf(conn, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", os.Args[1])
	io.Copy(io.Discard, conn)
	conn.Close()
}
