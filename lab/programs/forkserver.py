"""socketserver.ForkingTCPServer echo server for the netcheck matrix lab: one child per
connection. Usage: python3 -I -S forkserver.py ADDR PORT CONNECTIONS (then it exits)."""
import socketserver
import sys


class Echo(socketserver.StreamRequestHandler):
    timeout = 5

    def handle(self):
        while True:
            line = self.rfile.readline(4096)
            if not line:
                break
            self.wfile.write(line)


if __name__ == "__main__":
    addr, port, connections = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    socketserver.ForkingTCPServer.allow_reuse_address = True
    with socketserver.ForkingTCPServer((addr, port), Echo) as server:
        server.timeout = 5
        for _ in range(connections):
            server.handle_request()
        server.collect_children(blocking=True)
