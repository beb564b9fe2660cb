"""lab/multi.sh's Python client: socket.create_connection tries every address getaddrinfo
returns, in order, each with the whole timeout, and keeps the first that connects."""
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
try:
    conn = socket.create_connection((host, port), timeout=4)
except OSError as error:
    print("failed:", error)
    sys.exit(1)
conn.sendall(b"GET / HTTP/1.0\r\nHost: " + host.encode() + b"\r\n\r\n")
while conn.recv(4096):
    pass
conn.close()
