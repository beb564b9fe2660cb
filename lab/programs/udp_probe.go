// UDP programs for lab/udp.sh on Go's net package.
//
//	udp_probe server PORT COUNT        ListenUDP, echo COUNT datagrams
//	udp_probe client HOST PORT COUNT   DialUDP (a connected socket), COUNT questions, 0.5 s
//	                                   each, three tries per question
package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

func main() {
	switch os.Args[1] {
	case "server":
		port, _ := strconv.Atoi(os.Args[2])
		count, _ := strconv.Atoi(os.Args[3])
		c, err := net.ListenUDP("udp4", &net.UDPAddr{Port: port})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		buf := make([]byte, 65535)
		for i := 0; i < count; i++ {
			n, peer, err := c.ReadFromUDP(buf)
			if err != nil {
				fmt.Println("error:", err)
				continue
			}
			c.WriteToUDP(append([]byte("re:"), buf[:n]...), peer)
		}
		c.Close()
	case "client":
		port, _ := strconv.Atoi(os.Args[3])
		count, _ := strconv.Atoi(os.Args[4])
		c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.ParseIP(os.Args[2]), Port: port})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		buf := make([]byte, 65535)
		answered := 0
		for i := 0; i < count; i++ {
			for try := 0; try < 3; try++ {
				c.Write([]byte(fmt.Sprintf("q%d", i)))
				c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
				if _, err := c.Read(buf); err != nil {
					fmt.Println("error:", err)
					continue
				}
				answered++
				break
			}
		}
		c.Close()
		fmt.Printf("answered %d of %d\n", answered, count)
	}
}
