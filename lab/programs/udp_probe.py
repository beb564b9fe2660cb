#!/usr/bin/python3
"""UDP programs for lab/udp.sh: an echo server, request/response clients (connected, unconnected,
asyncio), and a multicast sender and receiver.

  server PORT COUNT [REPLY_FROM]   echo COUNT datagrams; REPLY_FROM: answer from a second socket
                                   bound to that address (a multi-homed server's classic bug)
  client MODE HOST PORT COUNT [TIMEOUT] [SIZES] [TRIES]
                                   MODE connected | unconnected; each request is retried up to
                                   TRIES times, waiting TIMEOUT seconds for its answer; SIZES
                                   (comma-separated) are the requests' sizes in turn
  asyncio HOST PORT COUNT [TIMEOUT]  an asyncio datagram endpoint asking COUNT questions
  mcast-recv GROUP PORT COUNT TIMEOUT [IFADDR]   join GROUP, read COUNT datagrams
  mcast-send GROUP PORT COUNT [IFADDR]           send COUNT datagrams to GROUP, 0.2 s apart
"""
import asyncio
import socket
import struct
import sys
import time


def server(port, count, reply_from=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    out = s
    if reply_from:
        out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        out.bind((reply_from, 0))
    for _ in range(count):
        data, peer = s.recvfrom(65535)
        out.sendto(b"re:" + data, peer)
    s.close()
    if out is not s:
        out.close()


def client(mode, host, port, count, timeout=1.0, sizes=(32,), tries=3):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    if mode == "connected":
        s.connect((host, port))
    answered = 0
    for i in range(count):
        payload = (b"q%03d:" % i).ljust(sizes[i % len(sizes)], b"x")
        for _ in range(tries):
            try:
                if mode == "connected":
                    s.send(payload)
                    data = s.recv(65535)
                else:
                    s.sendto(payload, (host, port))
                    data, _ = s.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError as e:
                print("error:", e, flush=True)
                time.sleep(timeout)
                continue
            if data == b"re:" + payload:
                answered += 1
                break
    s.close()
    print("answered %d of %d" % (answered, count))
    return 0 if answered == count else 1


class Asker(asyncio.DatagramProtocol):
    def __init__(self, count, done):
        self.count, self.done, self.got = count, done, 0

    def connection_made(self, transport):
        self.transport = transport
        self.ask()

    def ask(self):
        self.transport.sendto(b"a%03d" % self.got)

    def datagram_received(self, data, addr):
        self.got += 1
        if self.got == self.count:
            self.done.set_result(True)
        else:
            self.ask()

    def error_received(self, exc):
        print("error:", exc, flush=True)


async def asker(host, port, count, timeout):
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    transport, proto = await loop.create_datagram_endpoint(
        lambda: Asker(count, done), remote_addr=(host, port))
    try:
        await asyncio.wait_for(done, timeout)
    except asyncio.TimeoutError:
        print("timed out after %d answers" % proto.got)
    transport.close()


def mcast_recv(group, port, count, timeout, ifaddr="0.0.0.0"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    mreq = struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton(ifaddr))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    s.settimeout(timeout)
    got = 0
    try:
        while got < count:
            s.recvfrom(65535)
            got += 1
    except socket.timeout:
        pass
    s.close()
    print("received %d" % got)


def mcast_send(group, port, count, ifaddr=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    if ifaddr:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(ifaddr))
    for i in range(count):
        try:
            s.sendto(b"tick %d" % i, (group, port))
        except OSError as e:
            print("error:", e, flush=True)
        time.sleep(0.2)
    s.close()


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "server":
        server(int(args[0]), int(args[1]), args[2] if len(args) > 2 else None)
    elif cmd == "client":
        mode, host, port, count = args[0], args[1], int(args[2]), int(args[3])
        timeout = float(args[4]) if len(args) > 4 else 1.0
        sizes = [int(n) for n in args[5].split(",")] if len(args) > 5 else [32]
        tries = int(args[6]) if len(args) > 6 else 3
        return client(mode, host, port, count, timeout, sizes, tries)
    elif cmd == "asyncio":
        asyncio.run(asker(args[0], int(args[1]), int(args[2]),
                          float(args[3]) if len(args) > 3 else 3.0))
    elif cmd == "mcast-recv":
        mcast_recv(args[0], int(args[1]), int(args[2]), float(args[3]),
                   *(args[4:5]))
    elif cmd == "mcast-send":
        mcast_send(args[0], int(args[1]), int(args[2]), *(args[3:4]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
