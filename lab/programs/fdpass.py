"""A TCP echo server that accepts in one process and hands each connection to a worker process
over a unix socket with sendmsg(SCM_RIGHTS), for the netcheck matrix lab.

Usage: python3 -I -S fdpass.py ADDR PORT CONNECTIONS

Only built-in modules are imported. Every wait is bounded (5 s).
"""
import _socket as S
import os
import sys

SCM_RIGHTS = 1


def worker(channel, connections):
    """Receives descriptors over `channel` and echoes each connection until EOF."""
    channel.settimeout(5.0)
    for _ in range(connections):
        data, ancillary, _flags, _addr = channel.recvmsg(16, S.CMSG_SPACE(4))
        fds = [int.from_bytes(d[:4], sys.byteorder) for level, kind, d in ancillary
               if level == S.SOL_SOCKET and kind == SCM_RIGHTS]
        if not fds:
            break
        conn = S.socket(S.AF_INET, S.SOCK_STREAM, 0, fds[0])
        conn.settimeout(5.0)
        while True:
            chunk = conn.recv(4096)
            if not chunk:
                break
            conn.sendall(chunk)
        conn.close()


def main(addr, port, connections):
    connections = int(connections)
    parent_end, child_end = S.socketpair(S.AF_UNIX, S.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        parent_end.close()
        worker(child_end, connections)
        os._exit(0)
    child_end.close()
    listener = S.socket(S.AF_INET, S.SOCK_STREAM)
    listener.setsockopt(S.SOL_SOCKET, S.SO_REUSEADDR, 1)
    listener.bind((addr, int(port)))
    listener.listen(8)
    listener.settimeout(5.0)
    for _ in range(connections):
        fd, _peer = listener._accept()
        parent_end.sendmsg([b"conn"], [(S.SOL_SOCKET, SCM_RIGHTS, fd.to_bytes(4, sys.byteorder))])
        os.close(fd)
    listener.close()
    os.waitpid(pid, 0)


if __name__ == "__main__":
    main(*sys.argv[1:4])
