"""Small RPC and messaging programs for lab/rpc.sh, on Debian's python3-zmq and python3-grpcio.

Usage: rpc_probe.py MODE ARGS...

  zmq-rep PORT N [DELAY]           REP socket: answer N requests (after DELAY s each), then exit
  zmq-req HOST PORT N [TIMEOUT]    REQ socket: N requests, each answer awaited up to TIMEOUT s
  zmq-pull PORT N                  PULL socket: receive N messages, then exit
  zmq-push HOST PORT N SIZE        PUSH socket: send N messages of SIZE bytes, then close
  grpc-server PORT N [DELAY]       unary method /probe.Echo/Call: serve N calls (each after
                                   DELAY s), then stop
  grpc-client HOST PORT N [DEADLINE] [IDLE] [SIZE]
                                   N unary calls on one channel, each with a deadline of DEADLINE
                                   s; IDLE s of keepalive pings on the idle channel before them
  tcp-echo PORT N [SIZE]           plain TCP: echo one request (of SIZE bytes) on each of N
                                   connections
  tls-client HOST PORT N SIZE      TLS (unverified) to a stunnel: N connections, one request and
                                   its echo each

Every mode prints what it got and exits 0 when the exchange completed, 1 otherwise.
"""

import socket
import ssl
import sys
import time


def zmq_rep(port, n, delay=0.0):
    import zmq

    ctx = zmq.Context()
    s = ctx.socket(zmq.REP)
    s.bind("tcp://*:%d" % port)
    for _ in range(n):
        msg = s.recv()
        time.sleep(delay)
        s.send(b"re:" + msg[:32])
    s.close(linger=1000)
    ctx.term()


def zmq_req(host, port, n, timeout=10.0):
    import zmq

    ctx = zmq.Context()
    s = ctx.socket(zmq.REQ)
    s.setsockopt(zmq.RCVTIMEO, int(timeout * 1000))
    s.setsockopt(zmq.LINGER, 0)
    s.connect("tcp://%s:%d" % (host, port))
    ok = True
    for i in range(n):
        s.send(b"request %d" % i)
        try:
            print(s.recv())
        except zmq.Again:
            print("no answer in %.1f s" % timeout)
            ok = False
            break
    s.close()
    ctx.term()
    return ok


def zmq_pull(port, n):
    import zmq

    ctx = zmq.Context()
    s = ctx.socket(zmq.PULL)
    s.bind("tcp://*:%d" % port)
    total = 0
    for _ in range(n):
        total += len(s.recv())
    print("received", total)
    s.close()
    ctx.term()


def zmq_push(host, port, n, size):
    import zmq

    ctx = zmq.Context()
    s = ctx.socket(zmq.PUSH)
    s.setsockopt(zmq.LINGER, 20000)
    s.connect("tcp://%s:%d" % (host, port))
    for i in range(n):
        s.send(bytes([65 + i % 26]) * size)
    s.close()
    ctx.term()


def grpc_server(port, n, delay=0.0):
    import threading

    import grpc
    from concurrent import futures

    served = threading.Semaphore(0)

    def call(request, context):
        time.sleep(delay)
        served.release()
        return b"re:" + request[:32]

    handler = grpc.method_handlers_generic_handler(
        "probe.Echo", {"Call": grpc.unary_unary_rpc_method_handler(call)}
    )
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=2),
        options=[
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_ping_interval_without_data_ms", 200),
            ("grpc.http2.max_ping_strikes", 0),
        ],
    )
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port("0.0.0.0:%d" % port)
    server.start()
    for _ in range(n):
        served.acquire()
    time.sleep(0.3)
    server.stop(0.5).wait()


def grpc_client(host, port, n, deadline=5.0, idle=0.0, size=16):
    import grpc

    options = []
    if idle > 0:
        options = [
            ("grpc.keepalive_time_ms", 500),
            ("grpc.keepalive_timeout_ms", 2000),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.max_pings_without_data", 0),
        ]
    ok = True
    with grpc.insecure_channel("%s:%d" % (host, port), options=options) as channel:
        call = channel.unary_unary("/probe.Echo/Call")
        if idle > 0:
            grpc.channel_ready_future(channel).result(timeout=5)
            time.sleep(idle)
        for i in range(n):
            try:
                print(len(call(b"x" * size if i else b"call %d" % i, timeout=deadline)))
            except grpc.RpcError as e:
                print("call failed:", e.code())
                ok = False
                break
    return ok


def tcp_echo(port, n, size=0):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(8)
    for _ in range(n):
        conn, _ = srv.accept()
        data = conn.recv(65536)
        while data and len(data) < size:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        if data:
            conn.sendall(data)
        conn.close()
    srv.close()


def tls_client(host, port, n, size):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ok = True
    for i in range(n):
        try:
            with socket.create_connection((host, port), timeout=8) as raw:
                with ctx.wrap_socket(raw) as tls:
                    tls.sendall(bytes([65 + i % 26]) * size)
                    got = b""
                    while len(got) < size:
                        chunk = tls.recv(65536)
                        if not chunk:
                            break
                        got += chunk
                    print(len(got))
                    ok = ok and len(got) == size
        except (OSError, ssl.SSLError) as e:
            print("connection failed:", e)
            ok = False
    return ok


def main(argv):
    mode, args = argv[1], argv[2:]

    def nums(xs):
        return [float(a) if "." in a else int(a) for a in xs]

    servers = {"zmq-rep": zmq_rep, "zmq-pull": zmq_pull, "grpc-server": grpc_server, "tcp-echo": tcp_echo}
    clients = {"zmq-req": zmq_req, "zmq-push": zmq_push, "grpc-client": grpc_client, "tls-client": tls_client}
    if mode in servers:
        return servers[mode](*nums(args))
    return clients[mode](args[0], *nums(args[1:]))


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv) is not False else 1)
