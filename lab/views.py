#!/usr/bin/env python3
"""Adds the one-sided views to every lab scenario's expected.json.

A view is the scenario as one host alone saw it: that host's traces, every other host declared
in netcheck.conf but without a trace (unobserved). What each side can see follows from the
injected fault, never from netcheck's answer, so the expectations are written per fault class:

- "healthy": nothing wrong is visible from this side; no problem may be reported.
- a list of rules: the side shows the fault; at least one of them must be reported
  (`must_report_any`: one side may name the same fault in more than one correct way).
- "invisible: REASON": the side sees a symptom it cannot attribute; listed, not scored.

Usage: lab/views.py [FIXTURES_DIR...]   (default: tests/fixtures/lab tests/fixtures/apps)
Scenarios with a single traced host get no views (the full run already is one-sided).
"""

import json
import os
import re
import sys

HEALTHY = "healthy"


def invisible(reason):
    return "invisible: " + reason


SILENT_SERVER = "the server never hears of the client's attempt"

# A client of a server out of descriptors sees whatever the server's failing accept loop does to
# its connection (refused, reset, unanswered, left in the backlog).
FD_CLIENT = invisible("a client sees its connection refused, reset, unanswered or left in the "
                      "backlog; that the server ran out of descriptors only the server shows")

# Lab fault class (scenario name up to the first "--") -> {role: expectation}. Roles: "client"
# (every host whose name starts with "client") and "server".
LAB = {
    "accept-never-reads": {
        "client": ["no-reply"],
        "server": invisible("the server's trace shows an accepted connection it never reads; "
                            "whether a request waits there only the client shows"),
    },
    "address-in-use": {"server": ["address-in-use"], "client": HEALTHY},
    "broadcast-not-permitted": {"client": ["broadcast-not-permitted"], "server": HEALTHY},
    "connect-refused": {"client": ["connect-refused"], "server": HEALTHY},
    "connection-reset": {
        "server": ["connection-reset"],
        "client": invisible("the client's abortive close is its own choice; that data was "
                            "lost with it only the server shows"),
    },
    "firewall-drop": {"client": ["connect-filtered", "connect-never-completed"],
                      "server": HEALTHY},
    "firewall-reject-icmp": {"client": ["connect-refused", "connect-refused-while-listening"],
                             "server": HEALTHY},
    "firewall-reject-reset": {"client": ["connect-refused", "connect-refused-while-listening"],
                              "server": HEALTHY},
    "ipv4-client-ipv6-server": {"client": ["connect-refused", "ip-version-mismatch"],
                                "server": HEALTHY},
    "ipv4-client-ipv6-server-v6conf": {"client": ["connect-refused", "ip-version-mismatch"],
                                       "server": HEALTHY},
    "ipv6-client-ipv4-server": {"client": ["connect-refused", "ip-version-mismatch"],
                                "server": HEALTHY},
    "ipv6-client-ipv4-server-v4conf": {"client": ["connect-refused", "ip-version-mismatch"],
                                       "server": HEALTHY},
    "ipv6-only-server": {"client": ["connect-refused", "ip-version-mismatch"],
                         "server": HEALTHY},
    "killed-listener": {"client": ["connect-refused"], "server": HEALTHY},
    "listen-never-accepts": {"client": ["no-reply"], "server": HEALTHY},
    "loopback-bound-server": {"client": ["connect-refused", "loopback-bound-external-peer"],
                              "server": HEALTHY},
    "mtu-black-hole-tcp": {
        "client": invisible("the client's upload fits its send buffer and it closes without "
                            "waiting for anything; that the bytes never arrive only the server "
                            "shows"),
        "server": invisible("the server waits for the rest of an upload; why it never comes "
                            "only the client shows"),
    },
    "mtu-black-hole-tcp-sigalrm": {
        "client": ["no-reply", "network-stall", "mtu-black-hole"],
        "server": invisible("the server waits for the rest of an upload; why it never comes "
                            "only the client shows"),
    },
    "mtu-black-hole-tcp-sigterm": {
        "client": ["no-reply", "network-stall", "mtu-black-hole"],
        "server": invisible("the server waits for the rest of an upload; why it never comes "
                            "only the client shows"),
    },
    "mtu-black-hole-udp": {
        "client": invisible("the client only sends (no answers are expected); that the large "
                            "datagrams vanish only the receiver shows"),
        "server": HEALTHY,
    },
    "nat-undeclared": {"server": ["nat-undeclared"], "client": HEALTHY},
    "nat-undeclared-udp": {"server": ["nat-undeclared"], "client": HEALTHY},
    "nonblock-inherited": {
        "server": ["nonblock-inherited"],
        "client": invisible("the client waits for an answer the server's blocked receive "
                            "holds up"),
    },
    "nonblocking-connect-never-completes": {
        "client": ["connect-never-completed", "connect-filtered"], "server": HEALTHY},
    "port-forward-undeclared": {"client": ["port-forwarding", "nat-undeclared",
                                           "no-peer-traffic"],
                                "server": HEALTHY},
    "refused-listens-later": {"client": ["connect-refused"], "server": HEALTHY},
    "reset-unread": {
        "client": ["connection-reset"],
        "server": invisible("the server closes with bytes unread; only the client's reset "
                            "shows what that did"),
    },
    "send-after-peer-closed": {"server": ["send-after-peer-closed"], "client": HEALTHY},
    "tcp-data-dropped": {
        "client": ["no-reply"],
        "server": invisible("the server waits for a request; why it never comes only the "
                            "client shows"),
    },
    "udp-all-lost": {"client": ["no-reply"], "server": HEALTHY},
    "udp-exceeds-sndbuf": {"client": ["buffer-overrun"], "server": HEALTHY},
    "udp-partial-loss": {"client": ["udp-loss"], "server": HEALTHY},
    "udp-truncated": {"server": ["datagram-truncated"], "client": HEALTHY},
    "udp-truncated-msg-trunc": {"server": ["datagram-truncated"], "client": HEALTHY},
    "wrong-server-address": {"client": ["no-peer-traffic", "nat-undeclared"],
                             "server": HEALTHY},
    "admission-limit": {
        "server": ["admission-limit"],
        "client": invisible("the client reads the server's refusal and the end of the "
                            "connection, an ordinary answer from its side"),
        "idle1": HEALTHY,
        "idle2": HEALTHY,
    },
    "connect-unspecified": {"client": ["connect-to-unspecified"], "server": HEALTHY},
    "fd-exhaustion": {
        "server": ["descriptor-exhaustion"],
        "client-c1": FD_CLIENT,
        "client-c2": FD_CLIENT,
        "client-c3": FD_CLIENT,
    },
    "tcp-random-loss": {
        "client": ["network-stall"],
        "server": invisible("the server sees its exchanges arrive late; the retransmissions "
                            "behind that show in the client's connects"),
    },
}

# HAProxy's health checks abort their connections (SO_LINGER 0): the backend sees resets that,
# from its side alone, cannot be told from a fault.
HAPROXY_CHECKS = invisible("the backend sees HAProxy's health checks reset their connections "
                           "on purpose; from its side alone a deliberate reset and a fault look "
                           "the same")

# Healthy application scenarios whose hosts see such resets.
APPS_HEALTHY_EXCEPT = {"ha-healthy": {"web1": HAPROXY_CHECKS},
                       "ha-healthy-plain": {"web1": HAPROXY_CHECKS},
                       # Alone, the replica cannot see that its primary was asked to stop.
                       "redis-primary-stopped-first": {"replica": ["connect-refused"]},
                       # Alone, HAProxy cannot see that its backends were asked to stop.
                       "ha-backends-stopped-first": {"haproxy": ["connect-refused"]}}

# A server serving one connection at a time, seen from one side: the server accepts the waiting
# connection once the first one is closed, the waiting client sees its answer come late.
BACKLOG_SERVER = invisible("the server accepts the waiting connection once it has closed the "
                           "first; how long that one had waited in the listen backlog only "
                           "the client's trace shows")
BACKLOG_WAITER = invisible("the client's connect completes at once and its answer comes late; "
                           "that the server left the connection in its backlog only the "
                           "server's trace shows")

BACKLOG_SYN_DROPPED = invisible("the client's connect completes after SYN retransmissions; "
                                "that the server's accept queue was full, not the link lossy, "
                                "only the server's trace shows")
BACKLOG_NEVER_ACCEPTED = invisible("the server stops watching its listener while it serves "
                                   "one connection; a connection it never accepted is not in "
                                   "its trace")

# A download over a lossy link (random loss both ways, the handshake spared): the client sees its
# bytes come slowly, the server wrote them into its socket at once; only both traces together
# show that the time was spent between the two.
DOWNLOAD_CLIENT = invisible("the client sees the download come slowly; whether the server or "
                            "the network held the bytes back only the server's trace shows")
DOWNLOAD_SERVER = invisible("the server hands the file to its socket within milliseconds; that "
                            "the bytes then took seconds to arrive only the client's trace "
                            "shows")

# Keep-alive round trips delayed by retransmissions: timing one needs both sides (as for telnet).
ROUND_TRIP_CLIENT = invisible("timing a round trip needs the peer's handling time, from the "
                              "peer's own trace")
ROUND_TRIP_SERVICE = ROUND_TRIP_CLIENT

# UDP request and answer with retransmissions over a lossy path: each side alone sees requests
# sent again (or received twice) and answered; which datagrams the network dropped only both
# traces together show.
UDP_RETRIES_CLIENT = invisible("the client sees some requests sent again before an answer "
                               "comes; whether the request or the answer was lost, or the "
                               "server was slow, only the server's trace shows")
UDP_RETRIES_SERVER = invisible("the server answers every request it receives, some of them "
                               "twice; that others never reached it, or its answers were lost, "
                               "only the client's trace shows")
SYSLOG_SENDER = invisible("the sender's datagrams leave without error and nothing is meant to "
                          "come back; that they never arrived only the receiver shows")

# Application scenarios: scenario -> {host: expectation}; hosts not named are healthy.
APPS = {
    "dns-mtu-black-hole": {
        "dig": ["no-reply", "network-stall", "mtu-black-hole"],
        "server": invisible("the server's answer is written; that it never arrives only the "
                            "client shows"),
    },
    "dns-udp-blocked": {"dig": ["no-reply"], "drill": ["no-reply"]},
    "ha-backend-down": {"haproxy": ["connect-refused"], "web1": HAPROXY_CHECKS},
    "ha-backend-firewalled": {"haproxy": ["connect-never-completed", "connect-filtered"],
                              "web1": HAPROXY_CHECKS},
    "mc-udp-dropped": {
        "udp-client": ["no-reply"],
        "server": invisible("the server answers every request; that the answers are dropped "
                            "only the client shows"),
    },
    "ntp-replies-dropped": {
        "client": ["no-reply"],
        "server": invisible("the server answers every request; that the answers are dropped "
                            "only the client shows"),
    },
    "pg-listen-localhost": {"psql": ["connect-refused", "loopback-bound-external-peer"]},
    "mqtt-max-connections": {
        "broker": ["admission-limit"],
        "publisher": ["connection-reset"],
    },
    "mqtt-broker-firewalled": {
        "publisher": ["connect-never-completed", "connect-filtered"],
        "broker": invisible("the broker never sees the publisher's packets; that its connect "
                            "goes unanswered only the publisher shows"),
        "subscriber": invisible("the subscriber waits for a message nobody could publish; why "
                                "only the publisher shows"),
    },
    "dnsmasq-upstream-dropped": {"server": ["no-reply"], "client": ["no-reply"]},
    "rsync-max-connections": {
        "server": ["admission-limit"],
        "client": invisible("the client reads rsyncd's refusal and the end of the connection, "
                            "an ordinary answer from its side"),
    },
    "redis-bind-localhost": {"client": ["connect-refused", "loopback-bound-external-peer"]},
    "redis-bind-localhost-network": {"client": ["connect-refused", "loopback-bound-external-peer"]},
    "redis-replica-firewalled": {
        "replica": ["connect-never-completed", "connect-filtered"],
        "primary": invisible("the primary never sees the replica's packets; that its connects "
                             "go unanswered only the replica shows"),
    },
    "redis-maxclients": {
        "server": ["admission-limit"],
        "client": invisible("the client reads redis's refusal and the end of the connection, "
                            "an ordinary answer from its side"),
    },
    "web-nat-undeclared": {"node": ["nat-undeclared"], "go": ["nat-undeclared"]},
    "mc-conn-limit": {
        "server": ["admission-limit"],
        "client": invisible("the client reads memcached's refusal and the end of the "
                            "connection, an ordinary answer from its side"),
    },
    # The later clients' connects time out (memcached stops accepting and shrinks its
    # backlog): that is all they see.
    "mc-fd-exhaustion": {
        "server": ["descriptor-exhaustion"],
        "idle2": ["connect-never-completed", "connect-filtered"],
        "client": ["connect-never-completed", "connect-filtered"],
    },
    "pg-connect-unspecified": {"psql": ["connect-to-unspecified"]},
    "telnet-random-loss": {
        "client": invisible("timing a round trip needs the peer's handling time, from the "
                            "peer's own trace"),
        "server": invisible("timing a round trip needs the peer's handling time, from the "
                            "peer's own trace"),
    },
    "pg-max-connections": {
        "server": ["admission-limit"],
        "psql4": invisible("the client reads PostgreSQL's refusal and the end of the "
                           "connection, an ordinary answer from its side"),
    },
    "dns-acl-deny": {
        "dig": ["no-reply"],
        "server": invisible("the server reads each query and sends nothing; that a client "
                            "waited for an answer only the client shows"),
    },
    "mc-udp-no-frame": {
        "udp-client": ["no-reply"],
        "server": invisible("the server reads the request and sends nothing; that a client "
                            "waited for an answer only the client shows"),
    },
    "pg-bind-failed": {"server": ["bind-failed"], "psql": ["connect-refused"]},
    "web-random-loss": {
        "client": ["network-stall"],
        "node": invisible("a service sees its requests arrive late; the retransmissions "
                          "behind that show in the client's connects"),
        "go": invisible("a service sees its requests arrive late; the retransmissions "
                        "behind that show in the client's connects"),
    },
    "lighty-backlog-wait": {"server": BACKLOG_SERVER, "client2": BACKLOG_WAITER},
    "lighty-backlog-wait-plain": {"server": BACKLOG_SERVER, "client2": BACKLOG_WAITER},
    "apache-backlog-wait": {"server": BACKLOG_SERVER, "client2": BACKLOG_WAITER},
    "apache-backlog-wait-plain": {"server": BACKLOG_SERVER, "client2": BACKLOG_WAITER},
    # The client whose SYNs the full accept queue dropped sees a connect complete after SYN
    # retransmissions: from its side, a full queue and a lossy link look the same.
    "lighty-backlog-full": {"server": BACKLOG_SERVER, "client2": BACKLOG_WAITER,
                            "client3": BACKLOG_WAITER, "client4": BACKLOG_SYN_DROPPED},
    # Apache's third client: its connect completed after 2 s, a dropped SYN and then a SYN-ACK
    # retransmitted on the server's timer.
    "apache-backlog-full": {"server": BACKLOG_SERVER, "client2": BACKLOG_WAITER,
                            "client3": BACKLOG_WAITER, "client4": BACKLOG_SYN_DROPPED},
    # The client that gave up saw its request unanswered; lighttpd never accepted it (nothing
    # on the server's side), Apache accepted it after it had left.
    "lighty-backlog-give-up": {"server": BACKLOG_NEVER_ACCEPTED, "client2": ["no-reply"]},
    "lighty-backlog-give-up-plain": {"server": BACKLOG_NEVER_ACCEPTED,
                                     "client2": ["no-reply"]},
    "apache-backlog-give-up": {"server": BACKLOG_SERVER, "client2": ["no-reply"]},
    "nginx-download-loss": {"client": DOWNLOAD_CLIENT, "server": DOWNLOAD_SERVER},
    "nginx-download-loss-plain": {"client": DOWNLOAD_CLIENT, "server": DOWNLOAD_SERVER},
    "nginx-keepalive-loss": {"client": ROUND_TRIP_CLIENT, "server": ROUND_TRIP_SERVICE},
    "nginx-keepalive-loss-plain": {"client": ROUND_TRIP_CLIENT, "server": ROUND_TRIP_SERVICE},
    "attached-nginx-refused": {"client1": ["connect-refused"], "server": HEALTHY},
    "attached-memcached-udp-dropped": {
        "udp-client": ["no-reply"],
        "server": invisible("the server answers every request; that the answers are dropped "
                            "only the client shows"),
    },
    "nginx-keepalive-go-loss-plain": {"client": ROUND_TRIP_CLIENT,
                                      "server": ROUND_TRIP_SERVICE},
    "pyweb-download-loss": {"client": DOWNLOAD_CLIENT, "server": DOWNLOAD_SERVER},
    "nginx-bigfile-loss": {"client": DOWNLOAD_CLIENT, "server": DOWNLOAD_SERVER},
    "nginx-download-go-loss": {"client": DOWNLOAD_CLIENT, "server": DOWNLOAD_SERVER},
    "nginx-download-go-loss-plain": {"client": DOWNLOAD_CLIENT, "server": DOWNLOAD_SERVER},
    "nginx-download-node-loss": {"client": DOWNLOAD_CLIENT, "server": DOWNLOAD_SERVER},
    "nginx-download-node-loss-plain": {"client": DOWNLOAD_CLIENT, "server": DOWNLOAD_SERVER},
    # The loss is between the proxy and its backend: the proxy is the receiver that stalls.
    "nginx-proxy-loss": {
        "client": invisible("the client sees the download come slowly through the proxy; "
                            "where the bytes were held back only the proxy's and the "
                            "backend's traces show"),
        "server": invisible("the proxy sees its backend's answer come slowly; whether the "
                            "backend or the network held the bytes back only the backend's "
                            "trace shows"),
        "backend": invisible("the backend hands the file to its socket within milliseconds; "
                             "that the bytes then took seconds to arrive only the proxy's "
                             "trace shows"),
    },
    # FTP: the data connection is the one a firewall stops; in active mode the server makes it.
    "ftp-active-blocked": {
        "server": ["connect-never-completed", "connect-filtered"],
        "active": invisible("the client listens for a data connection that never comes and "
                            "reads the server's 425; that the server's connect was dropped only "
                            "the server shows"),
    },
    "ftp-passive-firewalled": {
        "client": ["connect-never-completed", "connect-filtered"],
        "server": invisible("the server waits for a data connection that never arrives; that "
                            "the client's connect was dropped only the client shows"),
    },
    # The client reads the proxy's error page: an ordinary answer from its side.
    "proxy-upstream-down": {"proxy": ["connect-refused"], "client": HEALTHY},
    # sshd writes one line and closes past MaxStartups without reading the client's greeting,
    # which resets the connection (the client's poll reports POLLERR|POLLHUP).
    "ssh-max-startups": {"server": ["admission-limit"], "client": ["connection-reset"]},
    "proxy-upstream-firewalled": {
        "proxy": ["connect-never-completed", "connect-filtered"],
        "backend": invisible("the backend never sees the proxy's packets; that its connect goes "
                             "unanswered only the proxy shows"),
        "client": ["no-reply"],
    },
    # dig asks over UDP (client: the ICMP port unreachable comes back as ECONNREFUSED) and over
    # TCP (client2: the connect is refused).
    "named-listen-localhost": {"client": ["connect-refused", "loopback-bound-external-peer"],
                               "client2": ["connect-refused", "loopback-bound-external-peer"]},
    "maria-bind-localhost": {"client": ["connect-refused", "loopback-bound-external-peer"]},
    # MariaDB writes its error packet and closes before reading anything of the client.
    "maria-max-connections": {
        "server": ["admission-limit"],
        "client": invisible("the client reads MariaDB's refusal and the end of the connection, "
                            "an ordinary answer from its side"),
    },
    "maria-replication-firewalled": {
        "replica": ["connect-never-completed", "connect-filtered"],
        "server": invisible("the primary's sends leave without error; that they never arrived "
                            "and that the replica's reconnects go unanswered only the replica "
                            "shows"),
    },
    "ldap-firewalled": {
        "client": ["connect-never-completed", "connect-filtered"],
        "server": invisible("the server never sees the client's packets; that its connect goes "
                            "unanswered only the client shows"),
    },
    "ldap-wrong-port": {"client": ["connect-refused"]},
    # As the lab's firewall-reject-reset and firewall-drop: the server sees nothing.
    "smtp-rejected": {"client": ["connect-refused", "connect-refused-while-listening"]},
    "smtp-dropped": {
        "client": ["connect-never-completed", "connect-filtered"],
        "server": invisible("the server never sees the client's packets; that its connect goes "
                            "unanswered only the client shows"),
    },
    # The client reads Squid's 503 page: an ordinary answer from its side.
    "squid-backend-down": {"proxy": ["connect-refused"], "client": HEALTHY},
    "squid-backend-firewalled": {
        "proxy": ["connect-never-completed", "connect-filtered"],
        "backend": invisible("the backend never sees the proxy's packets; that its connect goes "
                             "unanswered only the proxy shows"),
        "client": HEALTHY,
    },
    # UDP daemons. A request dropped on the way, refused by ICMP (which an unconnected socket
    # never sees) or sent to a port nothing is bound to looks the same to the client: no answer.
    "tftp-firewalled": {"client": ["no-reply"]},
    "tftp-random-loss": {"client": UDP_RETRIES_CLIENT, "client2": UDP_RETRIES_CLIENT,
                         "server": UDP_RETRIES_SERVER},
    "snmp-listen-localhost": {"client": ["no-reply", "loopback-bound-external-peer"]},
    "snmp-rejected": {"client": ["no-reply"]},
    "snmp-wrong-port": {"client": ["no-reply"]},
    "snmp-random-loss": {"client2": UDP_RETRIES_CLIENT, "server": UDP_RETRIES_SERVER},
    # Syslog over UDP is one way: the sender expects nothing back.
    "syslog-dropped": {"client": SYSLOG_SENDER},
    "syslog-random-loss": {
        "client": SYSLOG_SENDER,
        "server": invisible("the receiver gets some of the messages; how many were sent only "
                            "the sender shows"),
    },
}

# Application faults whose one-sided views are not decided yet: no views.
APPS_WITHOUT_VIEWS = {"etcd-partition", "etcd-partition-midway", "pg-replication-firewalled"}


def traced_hosts(conf_path):
    hosts, current = [], None
    with open(conf_path) as conf:
        for line in conf:
            words = line.split()
            if words[:1] == ["host"] and len(words) > 1:
                current = words[1]
            elif words[:1] == ["trace"] and current and current not in hosts:
                hosts.append(current)
    return hosts


def role(host):
    return "client" if re.match(r"client\d*$", host) else host


def view(expectation, forbidden):
    if expectation == HEALTHY:
        return {"healthy": True}
    if isinstance(expectation, str) and expectation.startswith("invisible: "):
        return {"invisible": expectation[len("invisible: "):]}
    return {"must_report_any": list(expectation), "must_not_report": forbidden}


def views_for(name, expected, hosts, is_app):
    forbidden = ["unparsed-lines"]
    if expected.get("healthy"):
        special = APPS_HEALTHY_EXCEPT.get(name, {}) if is_app else {}
        return {h: view(special.get(h, HEALTHY), forbidden) for h in hosts}
    if is_app:
        if name in APPS_WITHOUT_VIEWS:
            return None
        table = APPS.get(name)
        if table is None:
            raise SystemExit(f"{name}: no one-sided expectations in lab/views.py")
        return {h: view(table.get(h, HEALTHY), forbidden) for h in hosts}
    fault = expected.get("fault") or name.split("--")[0]
    table = LAB.get(fault)
    if table is None:
        raise SystemExit(f"{name}: fault class {fault} has no one-sided expectations")
    out = {}
    for h in hosts:
        key = h if h in table else role(h)
        if key not in table:
            raise SystemExit(f"{name}: no expectation for host {h}")
        out[h] = view(table[key], forbidden)
    return out


def main(dirs):
    for fixtures in dirs:
        is_app = os.path.basename(os.path.normpath(fixtures)).startswith("apps")
        for name in sorted(os.listdir(fixtures)):
            scenario = os.path.join(fixtures, name)
            exp_path = os.path.join(scenario, "expected.json")
            conf_path = os.path.join(scenario, "netcheck.conf")
            if not (os.path.isfile(exp_path) and os.path.isfile(conf_path)):
                continue
            with open(exp_path) as f:
                expected = json.load(f)
            hosts = traced_hosts(conf_path)
            expected.pop("views", None)
            views = views_for(name, expected, hosts, is_app) if len(hosts) > 1 else None
            if views:
                expected["views"] = views
            with open(exp_path, "w") as f:
                f.write(json.dumps(expected, indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:] or ["tests/fixtures/lab", "tests/fixtures/apps"])
