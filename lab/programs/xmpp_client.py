#!/usr/bin/env python3
"""A raw-protocol XMPP client for lab/coord.sh: one blocking socket, no library.

usage: xmpp_client.py HOST PORT [MODE]

Opens a client stream to the virtual host lab.example, logs in with SASL ANONYMOUS, restarts the
stream, binds a resource, sends its presence, a message to itself and an XEP-0199 ping, and
closes the stream. MODE `wait` pauses 4 s before the ping (the daemon can be killed meanwhile);
`slow` pauses 1 s between the steps after the bind. Each read waits at most 8 s.
"""

import socket
import sys
import time

DOMAIN = "lab.example"


def read_until(sock, marker, what):
    """Reads until MARKER appears in what came since the last call; exits on EOF or time-out."""
    data = b""
    while marker not in data:
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            print(f"timed out waiting for {what}", file=sys.stderr)
            sys.exit(3)
        except OSError as e:
            print(f"{what}: {e}", file=sys.stderr)
            sys.exit(4)
        if not chunk:
            print(f"end of stream waiting for {what}", file=sys.stderr)
            sys.exit(5)
        data += chunk
    return data


def send(sock, text):
    try:
        sock.sendall(text.encode())
    except OSError as e:
        print(f"send: {e}", file=sys.stderr)
        sys.exit(6)


def stream(sock):
    send(
        sock,
        f"<?xml version='1.0'?><stream:stream to='{DOMAIN}' version='1.0' "
        "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
    )
    return read_until(sock, b"</stream:features>", "stream features")


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else ""
    sock = socket.create_connection((host, port), timeout=8)
    features = stream(sock)
    if b"ANONYMOUS" not in features:
        print("no SASL ANONYMOUS offered", file=sys.stderr)
        sys.exit(7)
    send(sock, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/>")
    read_until(sock, b"success", "SASL success")
    stream(sock)
    send(sock, "<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
               "<resource>lab</resource></bind></iq>")
    bound = read_until(sock, b"</iq>", "bind result")
    jid = bound.split(b"<jid>")[1].split(b"</jid>")[0].decode() if b"<jid>" in bound else DOMAIN
    pause = 1.0 if mode == "slow" else 0.0
    send(sock, "<presence/>")
    time.sleep(pause)
    send(sock, f"<message to='{jid}' type='chat' id='m1'><body>hello from the lab</body></message>")
    read_until(sock, b"hello from the lab", "own message")
    time.sleep(4.0 if mode == "wait" else pause)
    send(sock, f"<iq type='get' id='ping1' to='{DOMAIN}'><ping xmlns='urn:xmpp:ping'/></iq>")
    read_until(sock, b"ping1", "ping result")
    send(sock, "</stream:stream>")
    read_until(sock, b"</stream:stream>", "stream close")
    sock.close()
    print(f"ok {jid}")


if __name__ == "__main__":
    main()
