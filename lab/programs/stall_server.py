"""A server that reads one request and never answers: the victim of lab/killed.sh.

With `answer` it answers the request and closes (the healthy run); otherwise it holds the
connection until it is killed.
"""
import socket
import sys
import time

port = int(sys.argv[1])
answer = len(sys.argv) > 2 and sys.argv[2] == "answer"
listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("0.0.0.0", port))
listener.listen(8)
conn, _ = listener.accept()
request = conn.recv(4096)
if answer:
    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
    conn.close()
else:
    time.sleep(30)
