//! Model tests, one dialogue per rule, one file per concern: scripts are written per trace,
//! then played in the order the test chooses with [`World::upto`].

use super::*;
use crate::config::Topology;
use crate::parse::{Errno, MsgFlags, OptValue};
use crate::testkit::script::{addr, nothing, one_host, readable, topology, writable, Script};

/// Plays scripts against a model in an order chosen by the test.
pub(super) struct World<'t> {
    pub(super) model: Model<'t>,
    pub(super) traces: Vec<Vec<SocketEvent>>,
    cursor: Vec<usize>,
}

impl<'t> World<'t> {
    pub(super) fn new(topo: &'t Topology, scripts: Vec<Script>) -> Self {
        let traces: Vec<Vec<SocketEvent>> = scripts.into_iter().map(Script::events).collect();
        World {
            model: Model::new(topo),
            cursor: vec![0; traces.len()],
            traces,
        }
    }

    /// Runs the trace of `loc` up to and including `loc`; earlier calls must be accepted.
    /// Returns the verdict of the call at `loc` (a retried call stays next in its trace).
    pub(super) fn upto(&mut self, loc: Loc) -> Verdict {
        let t = loc.trace.0 as usize;
        loop {
            let ev = &self.traces[t][self.cursor[t]];
            let verdict = self.model.simulate(ev);
            if ev.call.loc == loc {
                if !matches!(verdict, Verdict::RetryLater(_)) {
                    self.cursor[t] += 1;
                }
                return verdict;
            }
            assert!(
                matches!(verdict, Verdict::Accept | Verdict::NotModelled),
                "{:?} at {:?}",
                verdict,
                ev.call.loc
            );
            self.cursor[t] += 1;
        }
    }

    pub(super) fn force(&mut self, loc: Loc) -> Verdict {
        let t = loc.trace.0 as usize;
        let ev = &self.traces[t][self.cursor[t]];
        assert_eq!(ev.call.loc, loc);
        self.cursor[t] += 1;
        self.model.force(ev)
    }

    pub(super) fn finish(self) -> ReplayOutcome {
        self.model.finish(0, Vec::new())
    }
}

pub(super) fn kind(v: &Verdict) -> Option<&DeviationKind> {
    match v {
        Verdict::Deviation(d) => Some(&d.kind),
        _ => None,
    }
}

pub(super) fn is_retry(v: &Verdict) -> bool {
    matches!(v, Verdict::RetryLater(_))
}

pub(super) fn two_hosts() -> Topology {
    topology(&[&["10.0.0.1"], &["10.0.0.2"]])
}

/// Server script with a listener on 10.0.0.1:80; returns (script, listener fd, listen loc).
pub(super) fn server() -> (Script, i32, Loc) {
    let mut a = Script::new(0);
    let l = a.tcp();
    a.bind(l, "10.0.0.1:80");
    let listen = a.listen(l);
    (a, l, listen)
}

pub(super) fn addr_sock(trace: u32, n: u32) -> SockId {
    SockId {
        trace: TraceId(trace),
        n,
    }
}

/// A connected pair: (server script, client script, server socket fd, client fd) with every
/// set-up call already written.
pub(super) fn connected() -> (Script, Script, i32, i32) {
    let (mut a, l, _) = server();
    let s = a.accept(l, "10.0.0.2:40000");
    let mut b = Script::new(1);
    let c = b.tcp();
    b.connect(c, "10.0.0.1:80");
    (a, b, s, c)
}

/// Plays the set-up of [`connected`] (server: 5 calls, client: 2).
pub(super) fn set_up(w: &mut World<'_>) {
    w.upto(Loc::new(TraceId(0), 3));
    w.upto(Loc::new(TraceId(1), 2));
    w.upto(Loc::new(TraceId(0), 4));
}

/// Replays strace text through every stage as the command line reads it: one host per
/// `(name, address, trace text)`, a host without text declared but not traced.
pub(super) fn replay_texts(name: &str, hosts: &[(&str, &str, Option<&str>)]) -> ReplayOutcome {
    let dir = std::env::temp_dir().join(format!("netcheck-texts-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut conf = String::new();
    for (host, ip, text) in hosts {
        conf.push_str(&format!("host {host}\n ip {ip}\n"));
        if let Some(text) = text {
            std::fs::write(dir.join(format!("{host}.trace")), text).unwrap();
            conf.push_str(&format!(" trace {host}.trace\n"));
        }
    }
    let config = dir.join("netcheck.conf");
    std::fs::write(&config, conf).unwrap();
    let analysis = crate::pipeline::run_pipeline(&crate::config::Inputs {
        paths: vec![config],
        one_host: Vec::new(),
    });
    std::fs::remove_dir_all(&dir).unwrap();
    analysis.unwrap().outcome
}

mod accept_queue;
mod adopted;
mod bind;
mod completion;
mod connect;
mod data;
mod exchange;
mod history;
mod load;
mod socket_apis;
mod tcp;
mod teardown;
mod transfer_stalls;
mod udp;
mod unobserved;
mod wait;
