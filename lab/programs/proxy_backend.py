"""The HTTP back end behind the proxy lab's relays (lab/proxy.sh).

Usage: python3 -I proxy_backend.py PORT LIFETIME [DELAY] [MODE]

Serves HTTP/1.1 requests (keep-alive: several requests per connection) on every address for
LIFETIME seconds, one thread, select() over the listener and the open connections. Each answer
waits DELAY seconds first (a slow back end). MODE `cut` sends the headers and half of the body,
then closes with SO_LINGER {1, 0}: the kernel resets the connection mid-response.
"""
import select
import socket
import struct
import sys
import time

port, lifetime = int(sys.argv[1]), float(sys.argv[2])
delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
mode = sys.argv[4] if len(sys.argv) > 4 else "normal"
BODY = b"backend says hello\n" * 40

listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("0.0.0.0", port))
listener.listen(16)
pending = {}
end = time.monotonic() + lifetime
while True:
    left = end - time.monotonic()
    if left <= 0:
        break
    ready, _, _ = select.select([listener] + list(pending), [], [], left)
    for s in ready:
        if s is listener:
            conn, _ = listener.accept()
            pending[conn] = b""
            continue
        try:
            data = s.recv(4096)
        except ConnectionResetError:
            data = b""  # the proxy aborted the connection: as good as closed
        if not data:
            del pending[s]
            s.close()
            continue
        pending[s] += data
        while b"\r\n\r\n" in pending[s]:
            _, pending[s] = pending[s].split(b"\r\n\r\n", 1)
            time.sleep(delay)
            head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY)
            if mode == "cut":
                s.sendall(head + BODY[: len(BODY) // 2])
                time.sleep(0.2)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                del pending[s]
                s.close()
                break
            s.sendall(head + BODY)
for s in pending:
    s.close()
listener.close()
