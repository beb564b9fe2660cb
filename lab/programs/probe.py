"""Small socket programs for the netcheck lab, one role per invocation.

Usage: python3 -I -S probe.py ROLE ARGS...

Only built-in modules are imported (`_socket`, `select`, `time`, `sys`) so that the interpreter
reads few files at start-up and the recorded traces stay small. Every blocking wait has a timeout,
so no role can hang the lab.
"""
import _socket as S
import select
import sys
import time

SOL_IP = 0
IP_MTU_DISCOVER = 10
IP_PMTUDISC_DO = 2
IPV6_V6ONLY = 26
MSG_TRUNC = 0x20


def family(addr):
    return S.AF_INET6 if ":" in addr else S.AF_INET


def tcp_socket(addr):
    return S.socket(family(addr), S.SOCK_STREAM)


def listener(addr, port, reuse=True):
    s = tcp_socket(addr)
    if reuse:
        s.setsockopt(S.SOL_SOCKET, S.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(8)
    return s


def accept(s, timeout=5.0):
    s.settimeout(timeout)
    fd, peer = s._accept()
    conn = S.socket(family(peer[0]), S.SOCK_STREAM, 0, fd)
    conn.settimeout(timeout)
    return conn, peer


def say(*words):
    sys.stdout.write(" ".join(str(w) for w in words) + "\n")
    sys.stdout.flush()


def attempt(what, call, *args):
    """Run one call; report the error instead of dying so the trace shows the rest.
    Returns None on failure, the call's result (True for calls that return nothing) otherwise."""
    try:
        result = call(*args)
        return True if result is None else result
    except OSError as e:
        say(what, "failed:", e)
        return None


# ---- servers -------------------------------------------------------------------------------


def echo_server(addr, port, connections):
    s = listener(addr, int(port))
    for _ in range(int(connections)):
        conn, peer = accept(s)
        while True:
            data = attempt("recv", conn.recv, 4096)
            if not data:
                break
            conn.sendall(data)
        conn.close()
    s.close()


def epoll_echo_server(addr, port, connections):
    """Nonblocking echo server driven by epoll, as event-loop servers are."""
    s = listener(addr, int(port))
    s.setblocking(False)
    ep = select.epoll()
    ep.register(s.fileno(), select.EPOLLIN)
    conns = {}
    served = 0
    deadline = time.monotonic() + 10
    while (served < int(connections) or conns) and time.monotonic() < deadline:
        for fd, _ in ep.poll(1.0):
            if fd == s.fileno():
                cfd, _peer = s._accept()
                c = S.socket(s.family, S.SOCK_STREAM, 0, cfd)
                c.setblocking(False)
                conns[cfd] = c
                ep.register(cfd, select.EPOLLIN)
                served += 1
                continue
            c = conns[fd]
            data = attempt("recv", c.recv, 4096)
            if data:
                c.send(data)
            else:
                ep.unregister(fd)
                c.close()
                del conns[fd]
    ep.close()
    s.close()


def listen_only(addr, port, seconds):
    """Listens and never accepts."""
    s = listener(addr, int(port))
    time.sleep(float(seconds))
    s.close()


def hold_server(addr, port, seconds):
    """Accepts every connection and keeps it open without reading, until `seconds` have passed.
    When accept fails (EMFILE under a low `ulimit -n`) it retries every 0.3 s, as servers do."""
    s = listener(addr, int(port))
    s.settimeout(0.3)
    held = []
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        try:
            fd, _peer = s._accept()
            held.append(fd)
        except TimeoutError:
            continue
        except OSError as e:
            say("accept failed:", e)
            time.sleep(0.3)
    for fd in held:
        S.close(fd)
    s.close()


def limited_server(addr, port, limit, seconds):
    """Holds up to `limit` connections (never reading them); a connection beyond the limit is
    told "busy" at once, without reading its request, and closed, as connection-limited daemons
    do. Runs for `seconds`."""
    s = listener(addr, int(port))
    s.settimeout(0.3)
    held = []
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        try:
            fd, _peer = s._accept()
        except TimeoutError:
            continue
        if len(held) < int(limit):
            held.append(fd)
            continue
        conn = S.socket(s.family, S.SOCK_STREAM, 0, fd)
        attempt("send", conn.send, b"SERVER_BUSY too many connections\n")
        conn.close()
    for fd in held:
        S.close(fd)
    s.close()


def accept_no_read(addr, port, seconds):
    s = listener(addr, int(port))
    conn, _ = accept(s)
    time.sleep(float(seconds))
    conn.close()
    s.close()


def read_some_close(addr, port, count):
    """Accepts one connection, reads `count` bytes of the request and closes with the rest unread
    (Linux then resets the connection)."""
    s = listener(addr, int(port))
    conn, _ = accept(s)
    attempt("recv", conn.recv, int(count))
    time.sleep(0.2)
    conn.close()
    s.close()


def late_listener(addr, port, delay):
    """Starts listening only after `delay` seconds, then serves one echo."""
    time.sleep(float(delay))
    s = listener(addr, int(port))
    try:
        conn, _ = accept(s, 2.0)
    except OSError as e:
        say("accept failed:", e)
    else:
        conn.close()
    s.close()


def reply_late(addr, port, delay):
    """Reads a request, waits, then answers in several pieces (the client is gone by then)."""
    s = listener(addr, int(port))
    conn, _ = accept(s)
    attempt("recv", conn.recv, 4096)
    time.sleep(float(delay))
    for piece in (b"part one\n", b"part two\n", b"part three\n"):
        if attempt("send", conn.send, piece) is None:
            break
        time.sleep(0.2)
    conn.close()
    s.close()


def read_after_reset(addr, port, delay):
    s = listener(addr, int(port))
    conn, _ = accept(s)
    time.sleep(float(delay))
    while attempt("recv", conn.recv, 4096):
        pass
    conn.close()
    s.close()


def poll_then_give_up(addr, port, seconds):
    """Waits for the request with poll; the network drops it, so poll times out."""
    s = listener(addr, int(port))
    conn, _ = accept(s)
    p = select.poll()
    p.register(conn.fileno(), select.POLLIN)
    ready = p.poll(int(float(seconds) * 1000))
    if ready:
        attempt("recv", conn.recv, 4096)
    else:
        say("poll timed out")
    conn.close()
    s.close()


def nonblocking_listener(addr, port):
    """Makes the listener nonblocking and assumes accepted sockets are too (BSD behaviour)."""
    s = listener(addr, int(port))
    s.setblocking(False)
    select.select([s.fileno()], [], [], 5.0)
    fd, _peer = s._accept()
    conn = S.socket(s.family, S.SOCK_STREAM, 0, fd)
    # On Linux the accepted socket is blocking: this recv waits for the client's late request.
    attempt("recv", conn.recv, 4096)
    conn.close()
    s.close()


def restart_without_reuseaddr(addr, port):
    """Serves one client, closes first (TIME_WAIT), then binds the port again without SO_REUSEADDR."""
    s = listener(addr, int(port), reuse=False)
    conn, _ = accept(s)
    attempt("recv", conn.recv, 4096)
    conn.send(b"bye\n")
    conn.close()
    s.close()
    time.sleep(0.3)
    again = tcp_socket(addr)
    attempt("bind", again.bind, (addr, int(port)))
    again.close()


def v6only_server(addr, port, seconds):
    s = S.socket(S.AF_INET6, S.SOCK_STREAM)
    s.setsockopt(S.IPPROTO_IPV6, IPV6_V6ONLY, 1)
    s.bind((addr, int(port)))
    s.listen(8)
    time.sleep(float(seconds))
    s.close()


def bulk_server(addr, port):
    """Answers a short hello, then reads a bulk upload until EOF or a quiet period."""
    s = listener(addr, int(port))
    conn, _ = accept(s)
    attempt("recv", conn.recv, 4096)
    conn.send(b"ready\n")
    total = 0
    while True:
        data = attempt("recv", conn.recv, 65536)
        if not data:
            break
        total += len(data)
    say("bulk bytes received", total)
    conn.close()
    s.close()


def udp_echo_server(addr, port, seconds):
    s = S.socket(family(addr), S.SOCK_DGRAM)
    s.bind((addr, int(port)))
    s.settimeout(float(seconds))
    while True:
        got = attempt("recvfrom", s.recvfrom, 4096)
        if got is None:
            break
        s.sendto(got[0], got[1])
    s.close()


def udp_sink(addr, port, bufsize, seconds, flags="0"):
    """Receives datagrams into a buffer of `bufsize` bytes (flags: 0 or trunc)."""
    s = S.socket(family(addr), S.SOCK_DGRAM)
    s.bind((addr, int(port)))
    s.settimeout(float(seconds))
    recv_flags = MSG_TRUNC if flags == "trunc" else 0
    while True:
        got = attempt("recvfrom", s.recvfrom, int(bufsize), recv_flags)
        if got is None:
            break
        say("received", len(got[0]))
    s.close()


# ---- clients -------------------------------------------------------------------------------


def tcp_client(addr, port, message, timeout="3", mode="normal"):
    """mode: normal (send, read reply until EOF), close-early (send, close at once),
    reset (send, close with SO_LINGER 0), wait (send, wait for a reply that may not come),
    delay (wait 1 s before sending)."""
    s = tcp_socket(addr)
    # A plain blocking connect, so a refusal shows as connect's own errno; then bounded I/O.
    if attempt("connect", s.connect, (addr, int(port))) is None:
        s.close()
        return
    s.settimeout(float(timeout))
    if mode == "delay":
        time.sleep(1.0)
    if attempt("send", s.sendall, message.encode() + b"\n") is None:
        s.close()
        return
    if mode == "close-early":
        s.close()
        return
    if mode == "reset":
        s.setsockopt(S.SOL_SOCKET, S.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
        return
    if mode != "delay":
        s.shutdown(S.SHUT_WR)
    while True:
        data = attempt("recv", s.recv, 4096)
        if not data:
            break
        say("reply", data)
    s.close()


def requests(addr, port, count, timeout):
    """`count` short exchanges one after the other, each on a new connection: connect (with a
    timeout, so a nonblocking connect whose end SO_ERROR reports), send a line, read the echo."""
    for i in range(int(count)):
        s = tcp_socket(addr)
        s.settimeout(float(timeout))
        if attempt("connect", s.connect, (addr, int(port))) is None:
            s.close()
            continue
        attempt("send", s.sendall, b"request %d\n" % i)
        attempt("shutdown", s.shutdown, S.SHUT_WR)
        while True:
            data = attempt("recv", s.recv, 4096)
            if not data:
                break
        s.close()


def blocking_connect(addr, port):
    """A plain blocking connect with no timeout of its own (the kernel's SYN retries decide)."""
    s = tcp_socket(addr)
    attempt("connect", s.connect, (addr, int(port)))
    s.close()


def nonblocking_connect(addr, port, seconds):
    s = tcp_socket(addr)
    s.setblocking(False)
    attempt("connect", s.connect, (addr, int(port)))
    p = select.poll()
    p.register(s.fileno(), select.POLLOUT)
    if not p.poll(int(float(seconds) * 1000)):
        say("connect still in progress; giving up")
    s.close()


def bulk_client(addr, port, size, timeout):
    s = tcp_socket(addr)
    s.settimeout(float(timeout))
    s.connect((addr, int(port)))
    s.send(b"hello\n")
    attempt("recv", s.recv, 4096)
    block = b"x" * 1400
    sent = 0
    while sent < int(size):
        n = attempt("send", s.send, block)
        if n is None:
            break
        sent += n
    say("bulk bytes sent", sent)
    s.close()


def udp_client(addr, port, count, size, timeout="1", pace="0.05"):
    """Sends `count` numbered datagrams of `size` bytes and waits for each echo."""
    s = S.socket(family(addr), S.SOCK_DGRAM)
    s.settimeout(float(timeout))
    for i in range(int(count)):
        payload = (b"dgram %03d " % i).ljust(int(size), b".")
        s.sendto(payload, (addr, int(port)))
        attempt("recvfrom", s.recvfrom, 4096)
        time.sleep(float(pace))
    s.close()


def udp_sizes(addr, port, *sizes):
    """Sends one datagram per size with the DF bit forced (no local fragmentation)."""
    s = S.socket(S.AF_INET, S.SOCK_DGRAM)
    s.setsockopt(SOL_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
    for size in sizes:
        payload = (b"size %05d " % int(size)).ljust(int(size), b"-")
        attempt("sendto", s.sendto, payload, (addr, int(port)))
        time.sleep(0.1)
    s.close()


def udp_send_one(addr, port, size, sndbuf="0"):
    s = S.socket(S.AF_INET, S.SOCK_DGRAM)
    if int(sndbuf):
        s.setsockopt(S.SOL_SOCKET, S.SO_SNDBUF, int(sndbuf))
    payload = b"big datagram ".ljust(int(size), b"=")
    attempt("sendto", s.sendto, payload, (addr, int(port)))
    s.close()


def broadcast_without_permission(addr, port):
    s = S.socket(S.AF_INET, S.SOCK_DGRAM)
    attempt("sendto", s.sendto, b"anyone there?\n", (addr, int(port)))
    s.close()


ROLES = {
    "echo-server": echo_server,
    "epoll-echo-server": epoll_echo_server,
    "listen-only": listen_only,
    "accept-no-read": accept_no_read,
    "hold-server": hold_server,
    "limited-server": limited_server,
    "late-listener": late_listener,
    "read-some-close": read_some_close,
    "reply-late": reply_late,
    "read-after-reset": read_after_reset,
    "poll-then-give-up": poll_then_give_up,
    "nonblocking-listener": nonblocking_listener,
    "restart-without-reuseaddr": restart_without_reuseaddr,
    "v6only-server": v6only_server,
    "bulk-server": bulk_server,
    "udp-echo-server": udp_echo_server,
    "udp-sink": udp_sink,
    "tcp-client": tcp_client,
    "requests": requests,
    "blocking-connect": blocking_connect,
    "nonblocking-connect": nonblocking_connect,
    "bulk-client": bulk_client,
    "udp-client": udp_client,
    "udp-sizes": udp_sizes,
    "udp-send-one": udp_send_one,
    "broadcast": broadcast_without_permission,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ROLES:
        sys.stderr.write("roles: " + " ".join(sorted(ROLES)) + "\n")
        sys.exit(2)
    ROLES[sys.argv[1]](*sys.argv[2:])
