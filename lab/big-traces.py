#!/usr/bin/env python3
"""Writes large synthetic traces (strace -f -ttt -yy format) to measure netcheck on a big input.

Default shape: a server and its client, N healthy HTTP-like connections, a UDP flow losing one
datagram in ten, a refused connect, and one request whose bytes never arrive.

`--event-loop`: a socket-dense healthy run instead, as a loaded event-driven server shows it
(`-f -ttt -T -yy`): the server waits in `epoll_wait` (arrays of several ready descriptors),
accepts with `accept4` (peer sockaddrs, value-result lengths, then EAGAIN), registers each
connection with `epoll_ctl`, reads requests with `recvfrom`, answers with `writev` (two iovecs)
and answers UDP queries with `recvfrom`/`sendto` carrying sockaddrs. Each client host connects,
sends with `sendmsg` (a msghdr), waits in `poll` and reads with `recvmsg`. Connections are served
in batches of four. `--clients N` spreads the connections over N client hosts (one trace each).

Usage: lab/big-traces.py OUT_DIR [CONNECTIONS] [--event-loop] [--clients N]
(writes server.trace, client.trace or client1.trace ... clientN.trace, netcheck.conf)
"""
import argparse
import os
import sys

parser = argparse.ArgumentParser(description="Writes large synthetic strace traces.")
parser.add_argument("out")
parser.add_argument("connections", nargs="?", type=int, default=20000)
parser.add_argument("--event-loop", action="store_true", help="a socket-dense event-driven server")
parser.add_argument("--clients", type=int, default=1, help="client hosts (with --event-loop)")
options = parser.parse_args()
out, connections = options.out, options.connections
os.makedirs(out, exist_ok=True)
SERVER, CLIENT = "10.77.1.10", "10.77.1.21"
t = [1795566951.0]


def stamp():
    t[0] += 0.0001
    return "%.6f" % t[0]


def addr(ip, port):
    return '{sa_family=AF_INET, sin_port=htons(%d), sin_addr=inet_addr("%s")}' % (port, ip)


request = "GET /index.html HTTP/1.1\\r\\nHost: 10.77.1.10:8000\\r\\n\\r\\n"
request_len = 47
reply = "HTTP/1.0 200 OK\\r\\nContent-Length: 5\\r\\n\\r\\nhello"
reply_len = 43
def simple():
    with open(os.path.join(out, "server.trace"), "w") as s, open(os.path.join(out, "client.trace"), "w") as c:
        s.write("100 %s socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 3<TCP:[1]>\n" % stamp())
        s.write("100 %s bind(3<TCP:[1]>, %s, 16) = 0\n" % (stamp(), addr(SERVER, 8000)))
        s.write("100 %s listen(3<TCP:[%s:8000]>, 128) = 0\n" % (stamp(), SERVER))
        s.write("100 %s socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 5<UDP:[2]>\n" % stamp())
        s.write("100 %s bind(5<UDP:[2]>, %s, 16) = 0\n" % (stamp(), addr(SERVER, 7101)))
        c.write("200 %s socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 6<UDP:[3]>\n" % stamp())
        for i in range(connections):
            port = 20000 + i % 40000
            conn = "%s:%d->%s:8000" % (CLIENT, port, SERVER)
            peer = "%s:8000->%s:%d" % (SERVER, CLIENT, port)
            c.write("200 %s socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 5<TCP:[%d]>\n" % (stamp(), 10 + i))
            c.write("200 %s connect(5<TCP:[%d]>, %s, 16) = 0\n" % (stamp(), 10 + i, addr(SERVER, 8000)))
            s.write("100 %s accept4(3<TCP:[%s:8000]>, %s, [16], SOCK_CLOEXEC) = 4<TCP:[%s]>\n" % (stamp(), SERVER, addr(CLIENT, port), peer))
            c.write('200 %s sendto(5<TCP:[%s]>, "%s", %d, MSG_NOSIGNAL, NULL, 0) = %d\n' % (stamp(), conn, request, request_len, request_len))
            if i == connections // 2:
                # This request never arrives: the server waits, the client gives up.
                s.write("100 %s close(4<TCP:[%s]>) = 0\n" % (stamp(), peer))
                c.write("200 %s close(5<TCP:[%s]>) = 0\n" % (stamp(), conn))
                continue
            s.write('100 %s recvfrom(4<TCP:[%s]>, "%s", 8192, 0, NULL, NULL) = %d\n' % (stamp(), peer, request, request_len))
            s.write('100 %s sendto(4<TCP:[%s]>, "%s", %d, 0, NULL, 0) = %d\n' % (stamp(), peer, reply, reply_len, reply_len))
            s.write("100 %s close(4<TCP:[%s]>) = 0\n" % (stamp(), peer))
            c.write('200 %s recvfrom(5<TCP:[%s]>, "%s", 65536, 0, NULL, NULL) = %d\n' % (stamp(), conn, reply, reply_len))
            c.write("200 %s close(5<TCP:[%s]>) = 0\n" % (stamp(), conn))
            if i % 10 == 0:
                payload = "dgram %06d" % i
                c.write('200 %s sendto(6<UDP:[3]>, "%s", 12, 0, %s, 16) = 12\n' % (stamp(), payload, addr(SERVER, 7101)))
                if i % 100 != 0:
                    s.write('100 %s recvfrom(5<UDP:[%s:7101]>, "%s", 2048, 0, %s, [16]) = 12\n' % (stamp(), SERVER, payload, addr(CLIENT, 41577)))
        c.write("200 %s socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 5<TCP:[9]>\n" % stamp())
        c.write("200 %s connect(5<TCP:[9]>, %s, 16) = -1 ECONNREFUSED (Connection refused)\n" % (stamp(), addr(SERVER, 8001)))
        c.write("200 %s close(5<TCP:[9]>) = 0\n" % stamp())
    with open(os.path.join(out, "netcheck.conf"), "w") as f:
        f.write("host server\n trace server.trace\n ip %s\nhost client\n trace client.trace\n ip %s\n" % (SERVER, CLIENT))


def event_loop(hosts):
    """The socket-dense healthy run (see the module's doc)."""
    batch = 4
    listener = "%s:8000" % SERVER
    poller = "7<anon_inode:[eventpoll]>"
    client_ips = ["10.77.1.%d" % (21 + h) for h in range(hosts)]
    names = ["client.trace"] if hosts == 1 else ["client%d.trace" % (h + 1) for h in range(hosts)]
    files = [open(os.path.join(out, name), "w") for name in names]
    s = open(os.path.join(out, "server.trace"), "w")

    def took():
        return " <0.0000%02d>" % (5 + int(t[0] * 1e4) % 90)

    def srv(text):
        s.write("100 %s %s%s\n" % (stamp(), text, took()))

    def cli(h, text):
        files[h].write("%d %s %s%s\n" % (200 + h, stamp(), text, took()))

    srv("socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 3<TCP:[1]>")
    srv("bind(3<TCP:[1]>, %s, 16) = 0" % addr(SERVER, 8000))
    srv("listen(3<TCP:[%s]>, 511) = 0" % listener)
    srv("socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 5<UDP:[2]>")
    srv("bind(5<UDP:[2]>, %s, 16) = 0" % addr(SERVER, 5353))
    srv("epoll_create1(EPOLL_CLOEXEC) = 7<anon_inode:[eventpoll]>")
    srv("epoll_ctl(%s, EPOLL_CTL_ADD, 3<TCP:[%s]>, {events=EPOLLIN, data={u32=3, u64=3}}) = 0" % (poller, listener))
    srv("epoll_ctl(%s, EPOLL_CTL_ADD, 5<UDP:[%s:5353]>, {events=EPOLLIN, data={u32=5, u64=5}}) = 0" % (poller, SERVER))
    for h in range(hosts):
        cli(h, "socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, IPPROTO_IP) = 4<UDP:[%d]>" % (3 + h))
    served = 0
    while served < connections:
        group = range(served, min(served + batch, connections))
        conns = []
        for slot, i in enumerate(group):
            h = i % hosts
            port = 20000 + (i // hosts) % 40000
            ip = client_ips[h]
            fd = 8 + slot
            cfd = 5 + slot // hosts if hosts < batch else 5
            conns.append((h, fd, cfd, "%s:%d->%s" % (ip, port, listener), "%s->%s:%d" % (listener, ip, port), ip, port))
        for n, (h, fd, cfd, conn, peer, ip, port) in enumerate(conns):
            inode = 10 + served + n
            cli(h, "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = %d<TCP:[%d]>" % (cfd, inode))
            cli(h, "connect(%d<TCP:[%d]>, %s, 16) = 0" % (cfd, inode, addr(SERVER, 8000)))
            cli(h, 'sendmsg(%d<TCP:[%s]>, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="%s", iov_len=%d}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, MSG_NOSIGNAL) = %d'
                % (cfd, conn, request, request_len, request_len))
        srv("epoll_wait(%s, [{events=EPOLLIN, data={u32=3, u64=3}}], 512, -1) = 1" % poller)
        for h, fd, cfd, conn, peer, ip, port in conns:
            srv("accept4(3<TCP:[%s]>, %s, [112 => 16], SOCK_CLOEXEC|SOCK_NONBLOCK) = %d<TCP:[%s]>" % (listener, addr(ip, port), fd, peer))
            srv("epoll_ctl(%s, EPOLL_CTL_ADD, %d<TCP:[%s]>, {events=EPOLLIN|EPOLLRDHUP|EPOLLET, data={u32=%d, u64=%d}}) = 0" % (poller, fd, peer, fd, fd))
        srv("accept4(3<TCP:[%s]>, 0x7ffd5c6b1f40, [112], SOCK_CLOEXEC|SOCK_NONBLOCK) = -1 EAGAIN (Resource temporarily unavailable)" % listener)
        ready = ", ".join("{events=EPOLLIN, data={u32=%d, u64=%d}}" % (fd, fd) for _, fd, _, _, _, _, _ in conns)
        srv("epoll_wait(%s, [%s], 512, 60000) = %d" % (poller, ready, len(conns)))
        for h, fd, cfd, conn, peer, ip, port in conns:
            srv('recvfrom(%d<TCP:[%s]>, "%s", 1024, 0, NULL, NULL) = %d' % (fd, peer, request, request_len))
            srv('writev(%d<TCP:[%s]>, [{iov_base="%s", iov_len=%d}, {iov_base="hello", iov_len=5}], 2) = %d'
                % (fd, peer, reply[:-5], reply_len - 5, reply_len))
        for h, fd, cfd, conn, peer, ip, port in conns:
            cli(h, "poll([{fd=%d<TCP:[%s]>, events=POLLIN}], 1, 5000) = 1 ([{fd=%d, revents=POLLIN}])" % (cfd, conn, cfd))
            cli(h, 'recvmsg(%d<TCP:[%s]>, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="%s", iov_len=65536}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, 0) = %d'
                % (cfd, conn, reply, reply_len))
            cli(h, "close(%d<TCP:[%s]>) = 0" % (cfd, conn))
        hangups = ", ".join("{events=EPOLLIN|EPOLLRDHUP, data={u32=%d, u64=%d}}" % (fd, fd) for _, fd, _, _, _, _, _ in conns)
        srv("epoll_wait(%s, [%s], 512, 60000) = %d" % (poller, hangups, len(conns)))
        for h, fd, cfd, conn, peer, ip, port in conns:
            srv('recvfrom(%d<TCP:[%s]>, "", 1024, 0, NULL, NULL) = 0' % (fd, peer))
            srv("close(%d<TCP:[%s]>) = 0" % (fd, peer))
        if served % 40 == 0:
            # A UDP query and its answer, addresses on both sides.
            h = (served // 40) % hosts
            query = "query %06d" % served
            cli(h, 'sendto(4<UDP:[%d]>, "%s", 12, 0, %s, 16) = 12' % (3 + h, query, addr(SERVER, 5353)))
            srv("epoll_wait(%s, [{events=EPOLLIN, data={u32=5, u64=5}}], 512, 60000) = 1" % poller)
            srv('recvfrom(5<UDP:[%s:5353]>, "%s", 2048, 0, %s, [128 => 16]) = 12' % (SERVER, query, addr(client_ips[h], 41577)))
            srv('sendto(5<UDP:[%s:5353]>, "%s", 12, 0, %s, 16) = 12' % (SERVER, query.replace("query", "reply"), addr(client_ips[h], 41577)))
            cli(h, 'recvfrom(4<UDP:[%d]>, "%s", 2048, 0, %s, [128 => 16]) = 12' % (3 + h, query.replace("query", "reply"), addr(SERVER, 5353)))
        served += len(conns)
    for f in files:
        f.close()
    s.close()
    with open(os.path.join(out, "netcheck.conf"), "w") as f:
        f.write("host server\n trace server.trace\n ip %s\n" % SERVER)
        for h in range(hosts):
            f.write("host client%d\n trace %s\n ip %s\n" % (h + 1, names[h], client_ips[h]))


if options.event_loop:
    event_loop(options.clients)
else:
    simple()
