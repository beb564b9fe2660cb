"""Connects to a unix-domain socket (lab/unix.sh), trying up to TRIES times 0.1 s apart, and
prints the first line the service sends."""
import socket
import sys
import time

path, tries = sys.argv[1], int(sys.argv[2])
for attempt in range(tries):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as error:
        print(error)
        sock.close()
        time.sleep(0.1)
        continue
    print(sock.recv(256))
    sock.close()
    break
