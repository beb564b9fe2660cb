"""Small raw-protocol clients for the TCP daemon lab (lab/tcpd.sh).

Usage: python3 -I tcpd_client.py PROTOCOL HOST PORT [MODE]

PROTOCOL beanstalk: put a job, reserve it, delete it; MODE `wait` then asks for another job
  (reserve-with-timeout 10) that never comes, so a request is outstanding.
PROTOCOL irc: register (NICK/USER, wait for 001), join a channel, send a message, PING, QUIT;
  MODE `hold` stays registered 4 s first, MODE `slow` pauses 2 s before its message and PING.
PROTOCOL nats: read INFO, CONNECT, subscribe, publish, PING/PONG; MODE `wait` then publishes a
  request no one answers and waits for the reply.
Each reads with a timeout (8 s) and prints what it got.
"""
import socket
import sys
import time

proto, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
mode = sys.argv[4] if len(sys.argv) > 4 else ""
s = socket.create_connection((host, port), timeout=8)


def until(marker):
    got = b""
    while marker not in got:
        chunk = s.recv(4096)
        if not chunk:
            raise SystemExit(f"connection closed, got {got!r}")
        got += chunk
    print(got.decode(errors="replace").strip())
    return got


try:
    if proto == "beanstalk":
        s.sendall(b"put 0 0 60 5\r\nhello\r\n")
        job = until(b"\r\n").split()[1]
        s.sendall(b"reserve-with-timeout 2\r\n")
        until(b"hello\r\n")
        s.sendall(b"delete " + job + b"\r\n")
        until(b"DELETED\r\n")
        if mode == "wait":
            s.sendall(b"reserve-with-timeout 10\r\n")
            s.settimeout(15)
            until(b"\r\n")
        s.sendall(b"quit\r\n")
    elif proto == "irc":
        s.sendall(b"NICK tester\r\nUSER tester 0 * :lab client\r\n")
        until(b" 001 ")
        if mode == "hold":
            time.sleep(4)
        s.sendall(b"JOIN #lab\r\n")
        until(b"366")
        if mode == "slow":
            time.sleep(2)
        s.sendall(b"PRIVMSG #lab :hello\r\nPING :lab\r\n")
        until(b"PONG")
        s.sendall(b"QUIT :bye\r\n")
        until(b"ERROR")
    elif proto == "nats":
        until(b"\r\n")
        s.sendall(b'CONNECT {"verbose":false,"pedantic":false,"name":"lab"}\r\n')
        s.sendall(b"SUB lab.x 1\r\nPUB lab.x 5\r\nhello\r\nPING\r\n")
        until(b"PONG\r\n")
        if mode == "wait":
            s.sendall(b"SUB _INBOX.lab 2\r\nPUB lab.req _INBOX.lab 3\r\nhey\r\n")
            s.settimeout(15)
            until(b"MSG _INBOX.lab")
    s.shutdown(socket.SHUT_WR)
    while s.recv(4096):
        pass
finally:
    s.close()
