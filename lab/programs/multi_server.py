"""One-shot HTTP server for lab/multi.sh: answers COUNT connections on PORT, then exits.

FAMILY `dual` listens on the IPv6 wildcard with IPV6_V6ONLY off (IPv4 clients arrive as
::ffff:a.b.c.d), `v4` on the IPv4 wildcard only, so an IPv6 connect to it is refused.
"""
import socket
import sys

family, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if family == "dual":
    listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    address = ("::", port)
else:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    address = ("0.0.0.0", port)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(address)
listener.listen(8)
listener.settimeout(15)
for _ in range(count):
    conn, _peer = listener.accept()
    conn.settimeout(5)
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = conn.recv(4096)
        if not chunk:
            break
        request += chunk
    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
    conn.close()
listener.close()
