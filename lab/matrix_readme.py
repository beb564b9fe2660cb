"""Writes the matrix part of lab/README.md: one table per fault class with, for every recorded
scenario (tests/fixtures/lab/ and tests/fixtures/lab-pending/), the line of its traces that shows
the fault really happened.

Usage: python3 lab/matrix_readme.py > lab/out/matrix.md  (lab/README.md includes its output
between the `matrix:begin` and `matrix:end` markers; `--update` rewrites that part in place)
"""
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIRS = [os.path.join(ROOT, "tests/fixtures/lab"), os.path.join(ROOT, "tests/fixtures/lab-pending")]

CALL = r"^\d+(<[^>]*>)?\s+[\d:.]+\s+"  # pid and timestamp: the regex that follows is the call

# fault: (what is injected, [(trace, regex)...] tried in order for the evidence line)
CLASSES = {
    "connect-refused": (
        "A traced server listens on 7400; the client dials 7401, where nothing listens. Nonblocking "
        "clients (curl, nc -w, socat connect-timeout, node, Go, wget) learn the refusal through "
        "getsockopt(SO_ERROR); python's and busybox nc's blocking connect return it directly.",
        [("client", r"ECONNREFUSED")]),
    "firewall-drop": (
        "The server listens on 7001 behind its `DROP` rule; c1 gives up after two SYNs (about 3 s), "
        "before any client's own timeout (8 s): the kernel's ETIMEDOUT reaches the program "
        "(through SO_ERROR for nonblocking connects).",
        [("client", r"ETIMEDOUT"), ("client", r"SO_ERROR")]),
    "host-unreachable": (
        "The client (c2, default SYN retries) connects to 10.77.1.99, which nobody answers ARP for: "
        "EHOSTUNREACH after about 3 s. Only the client is traced.",
        [("client", r"EHOSTUNREACH"), ("client", r"SO_ERROR")]),
    "tcp-data-dropped": (
        "The server's firewall drops every TCP segment with PSH to 7501 after the handshake: the "
        "client's request never arrives. The server's read or readiness wait is still pending when "
        "the lab stops it with SIGINT (an `<unfinished ...>` call ended by the process's exit); "
        "the client gives up after 3 s.",
        [("server", r"7501->.*(unfinished|= \?|ERESTART|EINTR)"), ("server", r"(epoll_wait|epoll_pwait|poll|select)\(.*(unfinished|= \?|ERESTART|EINTR)"),
         ("client", r"(Timeout|ETIMEDOUT|timed out)")]),
    "ipv6-client-ipv4-server": (
        "The server listens on IPv4 only (`0.0.0.0` for http.server, `10.77.1.10` for socat); the "
        "client dials `[fd77::10]:7710` and is refused. The config lists both of the server's "
        "addresses.",
        [("client", r"ECONNREFUSED")]),
    "ipv6-client-ipv4-server-v4conf": (
        "The same, but the server's stanza lists only its IPv4 address.",
        [("client", r"ECONNREFUSED")]),
    "ipv4-client-ipv6-server": (
        "The server listens on `[fd77::10]:7711` only; the client dials `10.77.1.10:7711` and is "
        "refused. The config lists both of the server's addresses.",
        [("client", r"ECONNREFUSED")]),
    "ipv4-client-ipv6-server-v6conf": (
        "The same, but the server's stanza lists only its IPv6 address.",
        [("client", r"ECONNREFUSED")]),
    "nat-undeclared-udp": (
        "A UDP client on `pc` (10.77.2.21) behind rt's MASQUERADE exchanges datagrams with an echo "
        "server on 10.77.1.10:7200; the config has no `nat` line. The server sees the router's "
        "address.",
        [("server", r"10\.77\.1\.254")]),
    "nat-declared-udp": (
        "The same UDP exchange through the NAT, with `nat 10.77.2.21 10.77.1.254` in the config "
        "(healthy).",
        [("server", r"10\.77\.1\.254")]),
    "nat-undeclared": (
        "A TCP client on `pc` behind the MASQUERADE router; the config has no `nat` line.",
        [("server", r"accept.*10\.77\.1\.254")]),
    "port-forward-undeclared": (
        "The client dials the router's 10.77.1.254:8080, forwarded (DNAT) to the server on "
        "10.77.3.10:8000; the config does not declare it.",
        [("server", r"accept.*10\.77\.1\.21")]),
    "mtu-black-hole-udp": (
        "The client sends datagrams of 120, 300, 450, 560, 620, 750, 1000, 1200, 1472, 300, 560 "
        "and 1000 bytes to the far server across the 600-byte link (Linux sets DF on UDP by "
        "default; the routers drop the ICMP that would report it). Those up to 560 bytes (588 with headers) arrive.",
        [("server", r"recv.*= 560\b"), ("client", r"= 1472\b")]),
    "mtu-black-hole-tcp-sigterm": (
        "Hello and its echo (6 bytes) pass the 600-byte link; the client's 20000 bytes in large "
        "segments never arrive. Neither side times out: after 4 s the lab sends SIGALRM to the "
        "client and SIGTERM to the server, whose wait is the last call in its trace.",
        [("server", r"killed by SIGTERM"), ("server", r"SIGTERM")]),
    "mtu-black-hole-tcp-sigalrm": (
        "The same, with SIGALRM ending the server as well.",
        [("server", r"killed by SIGALRM"), ("server", r"SIGALRM")]),
    "healthy-http": (
        "No fault: one GET of /hello.txt from a web server (HTTP/1.0 or `Connection: close`).",
        [("client", r"HTTP/1\.[01] 200"), ("server", r"HTTP/1\.[01] 200"), ("client", r"(read|recvfrom)\(.*= [1-9]")]),
    "healthy-http-byname": (
        "No fault: the client fetches `http://server:8000/` by name from a server listening on "
        "both families. glibc's getaddrinfo sorts fd77::10 and 10.77.1.10 by connecting a UDP "
        "socket to each, calling getsockname and connect(AF_UNSPEC), and never sends on it.",
        [("client", r"connect\(\d+(<UDP[^>]*>)?, \{sa_family=AF_UNSPEC"), ("client", r"HTTP/1\.[01] 200")]),
    "healthy-ssh": (
        "No fault: `ssh -o BatchMode=yes` connects to sshd (throwaway host key and config under "
        "/tmp/netcheck-lab) by name (`ssh`) or by address (`ssh-v4`); the offered key is not "
        "authorised, so the login fails after key exchange (a healthy network run). sshd's own "
        "getaddrinfo runs glibc's source-address probe: a UDP socket connected to `[::]:22`, "
        "getsockname, connect(AF_UNSPEC), connect to `0.0.0.0:22`, never a send.",
        [("server", r"connect\(\d+(<UDP[^>]*>)?, \{sa_family=AF_UNSPEC"), ("client", r"SSH-2\.0")]),
    "healthy-fdpass": (
        "No fault: `lab/programs/fdpass.py` accepts in one process and hands the connection to a "
        "worker process over a unix socket with sendmsg(SCM_RIGHTS); the worker echoes.",
        [("server", CALL + r"sendmsg\(.*SCM_RIGHTS")]),
    "healthy-forking": (
        "No fault: two clients (c1, c2) of a server that forks one child per connection (socat "
        "`fork`, busybox httpd, `lab/programs/forkserver.py`'s ForkingTCPServer, `ncat "
        "--keep-open --exec /bin/cat`, `perlprobe.pl echo-server`) or serves each in a thread "
        "(`rubyprobe.rb echo-server`); the child's first lines can come before the parent's "
        "`clone` resumes.",
        [("server", r"(clone|clone3|vfork|fork)\(")]),
    "killed-listener": (
        "The server is killed with SIGKILL while listening on 7420; then the client connects and "
        "is refused.",
        [("server", r"killed by SIGKILL"), ("client", r"ECONNREFUSED")]),
    "reset-unread": (
        "The server reads 16 bytes of the client's 2000-byte request and closes with the rest "
        "unread: Linux sends a reset, the client's read fails with ECONNRESET. The cause is the "
        "server program (type application).",
        [("client", r"ECONNRESET"), ("client", r"POLLERR"), ("server", r"recvfrom.*, 16, .*= 16\b")]),
    "listen-never-accepts": (
        "The server listens on 7410 and never calls accept; the kernel completes the handshake, "
        "the client sends and waits 2 s for an answer. The cause is the server program (type "
        "application).",
        [("client", r"(Timeout|ETIMEDOUT|EAGAIN|timed out)")]),
    "firewall-reject-icmp": (
        "The server listens on 7002 behind `REJECT --reject-with icmp-port-unreachable`; the "
        "client's connect is refused although the server listens. Linux keeps the connect in "
        "SYN_SENT after the ICMP message: a wait reports the socket writable at once, and a "
        "second connect (Perl's IO::Socket::INET) returns EALREADY until SO_ERROR is read.",
        [("client", r"ECONNREFUSED"), ("client", r"EALREADY")]),
    "firewall-reject-reset": (
        "The server listens on 7003 behind `REJECT --reject-with tcp-reset`.",
        [("client", r"ECONNREFUSED")]),
    "udp-partial-loss": (
        "20 datagrams to an echo server on 7101, where iptables `statistic` drops 30% at random; "
        "each lost one shows as a wait for its echo that times out. The drop is random: a run "
        "that loses fewer than 2 of the 20 (udp-loss's threshold; about 1 run in 130) shows no "
        "fault and is recorded again.",
        [("client", r"((\[\d|\[\{fd=|resumed>).*= 0 \(Timeout\)|= -1 EAGAIN|timed out)")]),
    "wrong-server-address": (
        "The client dials 10.77.1.23:7705, an untraced echo server on c3; the traced server "
        "listens on 10.77.1.10:7705 and sees nobody.",
        [("client", CALL + r"(read|recvfrom|recvmsg)\(\d+.*\"wrong-host"), ("client", CALL + r"<\.\.\. read resumed>\"wrong-host")]),
    "send-after-peer-closed": (
        "The client sends a request and closes at once (`socat -u`, `ncat --send-only`, the close-early mode of probe.py, perlprobe.pl and rubyprobe.rb); `probe.py reply-late` answers 0.5 s later: the first send passes, the "
        "client's kernel resets, the next send fails with EPIPE.",
        [("server", r"EPIPE|ECONNRESET")]),
    "bind-failed-privileged": (
        "The server program runs as nobody (`setpriv --reuid=65534`) and binds 10.77.1.10:80: "
        "without CAP_NET_BIND_SERVICE the bind fails with EACCES and the program exits.",
        [("server", r"bind\(.*EACCES")]),
    "bind-failed-foreign": (
        "The server program binds 10.77.1.99:7720, an address its host does not have: "
        "EADDRNOTAVAIL, and the program exits.",
        [("server", r"bind\(.*EADDRNOTAVAIL")]),
    "fd-exhaustion": (
        "The server runs under `ulimit -n 6` (python, `probe.py hold-server`, which keeps every "
        "connection and retries accept every 0.3 s) or `ulimit -n 8` (Go's echo server, which "
        "stops at the first failed accept); three clients on c1, c2, c3 connect 0.3 s apart and "
        "wait 2 s for an answer: the third is left in the backlog (python) or refused once the "
        "server has exited (Go).",
        [("server", r"= -1 EMFILE")]),
    "connect-unspecified": (
        "The server listens on 0.0.0.0:7730 on srv; the client on c1 is given 0.0.0.0 as the "
        "server's address. Linux connects it to c1 itself, where nothing listens: refused.",
        [("client", r"0\.0\.0\.0.*ECONNREFUSED"), ("client", r"ECONNREFUSED")]),
    "admission-limit": (
        "`probe.py limited-server` holds at most two connections without reading them; two idle "
        "`nc` clients (on c1 and c3) take them; the client on c2 is accepted, told `SERVER_BUSY` "
        "without its request being read, and closed (the unread request makes the close a reset).",
        [("server", r"SERVER_BUSY.*= \d+")]),
    "tcp-random-loss": (
        "Eight request/echo exchanges, each on a new connection (python `probe.py requests`, with a "
        "timeout so its connect is nonblocking; a shell loop of `nc -N -w 10`; `rubyprobe.rb "
        "requests`, TCPSocket with connect_timeout) to socat's forking echo server (ncat's for "
        "ruby) on 7741, where the server's firewall drops 30% of the packets at random "
        "(`-m statistic --mode random --probability 0.3`). Every exchange completes; connects whose "
        "SYN was dropped complete after 1 s (or 3 s).",
        [("client", r"SO_ERROR, \[0\]")]),
    "healthy-tcp-requests": (
        "The same eight exchanges on 7742, where nothing is dropped: the control run of "
        "tcp-random-loss, which must stay healthy.",
        [("client", r"SO_ERROR, \[0\]")]),
    "udp-all-lost": (
        "Every datagram to 7102 is dropped by the server's firewall.",
        [("server", r"(= 0 \(Timeout\)|= -1 (EAGAIN|ETIMEDOUT)|timed out)"), ("client", r"(Timeout|EAGAIN|timed out)")]),
}

FLAGS = {
    "record": "`netcheck record --string-limit 256`",
    "plain": "`strace -f -tt -s 65535` (-s 256 for python, node, nginx, lighttpd, ssh, sshd, curl, wget, perl, ruby, php, ncat, openssl)",
    "Y": "plain + `-Y`",
    "Xraw": "plain + `-X raw`",
    "Xverbose": "plain + `-X verbose`",
    "seccomp": "plain + `--seccomp-bpf`",
    "network": "plain + `-e trace=network,execve`",
    "tttTyy": "`strace -f -ttt -T -yy`",
    "f": "`strace -f` with no timestamps",
    "ry": "`strace -f -r -y` (relative timestamps)",
    "ff": "`strace -ff -tt` (one file per process)",
}

STRIP = re.compile(r"^\d+(<[^>]*>)?\s+[\d:.]+\s+")


def evidence(folder, rules):
    for host_prefix, pattern in rules:
        regex = re.compile(pattern)
        for name in sorted(os.listdir(folder)):
            if not (name.startswith(host_prefix) and name.endswith(".trace")):
                continue
            with open(os.path.join(folder, name), errors="replace") as f:
                for number, line in enumerate(f, 1):
                    if regex.search(line):
                        text = STRIP.sub("", line.rstrip("\n"))
                        if len(text) > 150:
                            text = text[:150] + "…"
                        return "%s:%d: `%s`" % (name, number, text.replace("`", "'").replace("|", "\\|"))
    return "(no line matched)"


def main():
    rows = {}
    for base in DIRS:
        if not os.path.isdir(base):
            continue
        for name in sorted(os.listdir(base)):
            path = os.path.join(base, name, "expected.json")
            if "--" not in name or not os.path.isfile(path):
                continue
            doc = json.load(open(path))
            rows.setdefault(doc["fault"], []).append((base, name, doc))
    out = ["Generated by `python3 lab/matrix_readme.py --update` from the recorded scenarios.", ""]
    out.append("Flag sets: " + "; ".join("`%s` = %s" % kv for kv in FLAGS.items()) + ".")
    out.append("")
    for fault, (what, rules) in CLASSES.items():
        if fault not in rows:
            continue
        docs = rows[fault]
        first = docs[0][2]
        expected = "nothing to report" if first["healthy"] else ", ".join("`%s`" % r for r in first["must_report"])
        out.append("### %s (matrix)" % fault)
        out.append("")
        out.append("* Fault: " + what)
        out.append("* Expected diagnosis: %s%s; forbidden: %s." % (
            expected, " (type %s)" % first["type"] if first.get("type") else "",
            "every problem rule" if first["healthy"] else ", ".join("`%s`" % r for r in first["must_not_report"])))
        out.append("")
        out.append("| scenario | client | server | flags | evidence |")
        out.append("| --- | --- | --- | --- | --- |")
        for base, name, doc in docs:
            where = "" if base == DIRS[0] else " (lab-pending)"
            out.append("| %s%s | %s | %s | %s | %s |" % (
                name, where, doc["client"], doc["server"], doc["flags"],
                evidence(os.path.join(base, name), rules)))
        out.append("")
    text = "\n".join(out)
    if "--update" in sys.argv:
        readme = os.path.join(ROOT, "lab/README.md")
        doc = open(readme).read()
        begin, end = "<!-- matrix:begin -->\n", "<!-- matrix:end -->\n"
        head, rest = doc.split(begin, 1)
        _, tail = rest.split(end, 1)
        open(readme, "w").write(head + begin + text + "\n" + end + tail)
    else:
        print(text)


if __name__ == "__main__":
    main()
