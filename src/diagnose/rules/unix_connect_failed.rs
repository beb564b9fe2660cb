//! `unix-connect-failed`: a connect to a local service's unix-domain socket failed: no socket
//! file, a stale one, no permission, or a full backlog.

use crate::diagnose::context::plural;
use crate::diagnose::rule::Rule;
use crate::diagnose::{Claims, Class, Context, Evidence, Finding};
use crate::fold::UnixConnectFailures;
use crate::parse::Errno;

pub const RULE: Rule = Rule {
    id: "unix-connect-failed",
    class: Class::Application,
    title: "A connect to a local service's unix-domain socket failed",
    explanation: EXPLANATION,
    detect,
};

const EXPLANATION: &str = "\
## What it detects
connect() to a unix-domain socket (a path such as `/run/php/php-fpm.sock`, or an abstract name)
that failed: ENOENT (no socket file at that path), ECONNREFUSED (the file exists but no program
listens on it), EACCES or EPERM (the caller may not connect to it), or EAGAIN (a nonblocking
connect found the listener's backlog full; on a unix-domain socket that is an error, not a
connect in progress). One finding per trace, path and errno, with how many connects failed and,
when the trace has timestamps, over how long (on that trace's own clock).

When a later connect to the same path succeeded, the service came up (or back) while the
client was trying: a start-up order, reported as information.

## Why it matters
Front ends reach their local back ends this way (nginx or Apache to PHP-FPM or a uWSGI/gunicorn
socket, clients to a database's socket, agents to a runtime's control socket); when the connect
fails, the front end answers its own clients with errors (a 502) while its network looks
healthy. The errno alone tells which: a missing service or a wrong path (ENOENT), a service that
died and left its socket file (ECONNREFUSED: Linux refuses a connect to a socket file nothing
listens on), permissions (EACCES), or a service that accepts too slowly (EAGAIN).

Not reported: the sockets the system's own libraries probe in every program and do without
when they are absent. glibc asks the name service cache daemon (`/var/run/nscd/socket`) before
doing a lookup itself; `syslog(3)` and the systemd journal's clients drop messages when no
logger listens (`/dev/log`, `/run/systemd/journal/`); nss-systemd asks its user database
(`/run/systemd/userdb/`), nss-mdns asks avahi (`/run/avahi-daemon/socket`); libraries probe the
D-Bus system bus and an X display (`/tmp/.X11-unix/`); libuuid asks uuidd
(`/run/uuidd/request`) for a time-based UUID and makes one itself when uuidd is not running.
Their absence is the host's setup, not the application's fault.

## Evidence
The first and last failed connect to each path.

## What to do
ENOENT: start the service, or point the client at the path the service listens on (its `listen`
setting); `ss -xlp` lists the listening unix sockets. ECONNREFUSED: restart the service (its
process is gone; the file stays until it is removed or rebound). EACCES: fix the socket file's
owner, group or mode, or the directories above it (PHP-FPM's `listen.owner`, `listen.group`,
`listen.mode`). EAGAIN: raise the service's backlog (`listen.backlog`, `net.core.somaxconn`) or
its workers. When a later connect succeeded, start the client after the service (systemd
`After=`/`Requires=`, a readiness check).
";

/// What the errno says about the path, and what to do about it.
fn meaning(errno: Errno) -> (&'static str, &'static str) {
    match errno {
        Errno::ENOENT => (
            "no socket file exists there: the service is not running, or it listens at another \
             path",
            "start the service, or point the client at the path the service listens on; ss -xlp \
             lists the listening unix sockets",
        ),
        Errno::ECONNREFUSED => (
            "the socket file exists but no program listens on it: the service ended and left \
             it behind",
            "restart the service (ss -xlp shows whether anything listens on the path)",
        ),
        Errno::EACCES | Errno::EPERM => (
            "the calling program may not connect to it",
            "fix the socket file's owner, group or mode, or the directories above it (ls -l; \
             PHP-FPM's listen.owner, listen.group, listen.mode)",
        ),
        Errno::EAGAIN | Errno::EWOULDBLOCK => (
            "the service's listen backlog is full: it accepts too slowly",
            "raise the service's backlog (listen.backlog, net.core.somaxconn) or its workers",
        ),
        _ => (
            "the local service could not be reached",
            "check that the service runs and listens on that path (ss -xlp)",
        ),
    }
}

/// Sockets the system's own libraries probe in every program, doing without them when they are
/// absent (see the explanation): a path equal to one of these, or under one ending in `/`.
/// Abstract names are compared without their leading `@`.
const PROBED_BY_SYSTEM_LIBRARIES: &[&str] = &[
    "/var/run/nscd/socket",
    "/run/nscd/socket",
    "/dev/log",
    "/run/systemd/journal/",
    "/run/systemd/userdb/",
    "/run/avahi-daemon/socket",
    "/var/run/avahi-daemon/socket",
    "/run/dbus/system_bus_socket",
    "/var/run/dbus/system_bus_socket",
    "/tmp/.X11-unix/",
    "/run/uuidd/request",
    "/var/run/uuidd/request",
];

fn probed_by_system_libraries(path: &str) -> bool {
    let path = path.strip_prefix('@').unwrap_or(path);
    PROBED_BY_SYSTEM_LIBRARIES
        .iter()
        .any(|known| match known.strip_suffix('/') {
            Some(_) => path.starts_with(known),
            None => path == *known,
        })
}

fn span(f: &UnixConnectFailures) -> Option<String> {
    let (first, last) = (f.first_time?, f.last_time?);
    (f.count > 1 && last >= first).then(|| format!(" over {:.3} s", last - first))
}

fn finding(cx: &Context, f: &UnixConnectFailures) -> Finding {
    let (what, hint) = meaning(f.errno);
    let connects = plural(f.count, "connect", "connects");
    let over = span(f).unwrap_or_default();
    let mut summary = format!(
        "{}: {connects} to unix socket {} failed with {}{over}: {what}",
        cx.who(f.first.trace),
        f.path,
        f.errno
    );
    let mut evidence = vec![Evidence::new(
        f.first,
        format!("connect failed ({})", f.errno),
    )];
    if f.last != f.first {
        evidence.push(Evidence::new(f.last, "the last failed connect"));
    }
    let mut hint = hint.to_owned();
    let mut class = RULE.class;
    if let Some(connected) = f.then_connected {
        summary.push_str("; a later connect succeeded (the service came up meanwhile)");
        evidence.push(Evidence::new(connected, "connected"));
        hint = "start the client after the service (systemd After=/Requires=, a readiness \
                check)"
            .to_owned();
        class = Class::Info;
    }
    let mut finding = RULE.finding(summary, hint).with_evidence(evidence);
    finding.class = class;
    finding
}

fn detect(cx: &Context, _claims: &mut Claims) -> Vec<Finding> {
    cx.fold
        .iter()
        .flat_map(|stats| &stats.unix_connects.failures)
        .filter(|f| !probed_by_system_libraries(&f.path))
        .map(|f| finding(cx, f))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::RULE;
    use crate::diagnose::Class;
    use crate::fold::{FoldStats, UnixConnectFailures};
    use crate::model::ReplayOutcome;
    use crate::parse::Errno;
    use crate::testkit::fixtures::*;
    use crate::testkit::rules::*;

    fn failures(errno: Errno, count: u64) -> UnixConnectFailures {
        UnixConnectFailures {
            path: "/run/php/php8.2-fpm.sock".into(),
            errno,
            count,
            first: loc(0, 10),
            last: loc(0, 10 + count),
            first_time: Some(1.0),
            last_time: Some(1.0 + count as f64),
            then_connected: None,
        }
    }

    fn findings_with(
        outcome: ReplayOutcome,
        fold: Vec<FoldStats>,
    ) -> Vec<crate::diagnose::Finding> {
        crate::pipeline::Analysis::new(two_hosts(), Vec::new(), fold, outcome).findings
    }

    fn found(f: UnixConnectFailures) -> Vec<crate::diagnose::Finding> {
        let mut stats = FoldStats::default();
        stats.unix_connects.failures.push(f);
        assert_fires_on_traces(&RULE, ReplayOutcome::default(), vec![stats])
    }

    #[test]
    fn a_missing_socket_file_is_the_applications() {
        let f = found(failures(Errno::ENOENT, 3));
        assert_eq!(f[0].class, Class::Application);
        assert!(f[0].summary.contains("3 connects"), "{}", f[0].summary);
        assert!(f[0].summary.contains("over 3.000 s"), "{}", f[0].summary);
        assert!(f[0].summary.contains("no socket file"), "{}", f[0].summary);
    }

    /// glibc's probe of the name service cache daemon, in nearly every trace of the lab:
    /// `connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT`.
    #[test]
    fn the_system_libraries_own_probes_are_not_reported() {
        for path in [
            "/var/run/nscd/socket",
            "/dev/log",
            "/run/systemd/userdb/io.systemd.Machine",
            // libuuid's uuid_generate_time asking uuidd, in the gearman client
            // (`coord/gearman-healthy--record`): `connect(3<UNIX-STREAM:[33060]>,
            // {sa_family=AF_UNIX, sun_path="/run/uuidd/request"}, 110) = -1 ENOENT`.
            "/run/uuidd/request",
        ] {
            let mut stats = FoldStats::default();
            stats.unix_connects.failures.push(UnixConnectFailures {
                path: path.into(),
                ..failures(Errno::ENOENT, 1)
            });
            let found = findings_with(ReplayOutcome::default(), vec![stats]);
            assert!(found.is_empty(), "{path}: {found:?}");
        }
    }

    #[test]
    fn a_service_that_came_up_later_is_information() {
        let mut late = failures(Errno::ECONNREFUSED, 2);
        late.then_connected = Some(loc(0, 20));
        let mut stats = FoldStats::default();
        stats.unix_connects.failures.push(late);
        let f = findings_with(ReplayOutcome::default(), vec![stats]);
        assert_eq!(rules_of(&f), [RULE.id]);
        assert_eq!(f[0].class, Class::Info);
        assert!(f[0].summary.contains("later connect succeeded"));
        assert_eq!(f[0].evidence.len(), 3);
    }
}
