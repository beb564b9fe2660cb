#!/usr/bin/python3
"""Small clients of network services for lab/svc.sh.

  svc_probe.py mdns NAME [TRIES] [TIMEOUT]
      asks the mDNS group 224.0.0.251:5353 for NAME's A record from an ephemeral port (a
      "legacy unicast" query: the responder answers to that port, from its own address) on an
      unconnected socket, once per try, and prints the answer's source
  svc_probe.py sip-options HOST PORT TRANSPORT [COUNT] [TIMEOUT]
      sends COUNT SIP OPTIONS requests over udp (an unconnected socket) or tcp (one connection)
      and prints each status line
"""
import random
import socket
import struct
import sys


def mdns(name, tries=2, timeout=1.0):
    query = struct.pack(">HHHHHH", random.randrange(1 << 16), 0, 1, 0, 0, 0)
    for label in name.split("."):
        query += bytes([len(label)]) + label.encode()
    query += b"\0" + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
    s.settimeout(timeout)
    for _ in range(tries):
        s.sendto(query, ("224.0.0.251", 5353))
        try:
            data, peer = s.recvfrom(1500)
        except socket.timeout:
            print("timeout")
            continue
        print("answer", len(data), "bytes from", peer[0])
        s.close()
        return 0
    s.close()
    return 1


def sip_request(host, port, transport, seq, local):
    """An OPTIONS request; `rport` asks the server to answer the address it came from, whatever
    the Via host (LOCAL) says."""
    branch = "z9hG4bK%08x" % random.randrange(1 << 32)
    return (
        f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport.upper()} {local}:{5060};branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:probe@{local}>;tag=lab{seq}\r\n"
        f"To: <sip:{host}:{port}>\r\n"
        f"Call-ID: lab-{random.randrange(1 << 32):08x}@{local}\r\n"
        f"CSeq: {seq} OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def sip_options(host, port, transport, count=2, timeout=1.0):
    port = int(port)
    answered = 0
    if transport == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", 0))
        s.settimeout(timeout)
        for seq in range(1, count + 1):
            s.sendto(sip_request(host, port, "udp", seq, "probe.invalid"), (host, port))
            try:
                data, peer = s.recvfrom(4096)
                print(data.split(b"\r\n", 1)[0].decode(), "from", peer[0])
                answered += 1
            except socket.timeout:
                print("timeout")
        s.close()
    else:
        s = socket.create_connection((host, port), timeout=timeout)
        for seq in range(1, count + 1):
            s.sendall(sip_request(host, port, "tcp", seq, "probe.invalid"))
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            print(data.split(b"\r\n", 1)[0].decode())
            answered += 1
        s.close()
    return 0 if answered == count else 1


def main(argv):
    if argv[1] == "mdns":
        return mdns(argv[2], int(argv[3]) if len(argv) > 3 else 2,
                    float(argv[4]) if len(argv) > 4 else 1.0)
    if argv[1] == "sip-options":
        return sip_options(argv[2], argv[3], argv[4], int(argv[5]) if len(argv) > 5 else 2,
                           float(argv[6]) if len(argv) > 6 else 1.0)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
