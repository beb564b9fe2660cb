#!/usr/bin/env python3
"""Writes a large synthetic trace pair (a server and its client, strace -f -ttt -yy format) to
measure the HTML report on a big input: N healthy HTTP-like connections, a UDP flow losing one
datagram in ten, a refused connect, and one request whose bytes never arrive.

Usage: lab/big-traces.py OUT_DIR [CONNECTIONS]   (writes server.trace, client.trace, netcheck.conf)
"""
import os
import sys

out = sys.argv[1]
connections = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
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
