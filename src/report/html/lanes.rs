//! The diagram's lanes: one per trace, grouped by host in configuration order, or one per
//! process when a trace's drawn calls come from a few; and the lane an address belongs to.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use super::capture::StepRecord;
use super::diagram::Lane;
use crate::pipeline::Analysis;
use crate::source::{SockId, TraceId};

/// A trace whose drawn calls come from this many processes (at most) gets a lane per process; a
/// busier one (a thread pool) stays in one lane.
const MAX_PROCESS_LANES: usize = 4;

/// Where sockets and addresses are drawn.
pub(super) struct Lanes {
    pub lanes: Vec<Lane>,
    /// The first lane of each trace.
    by_trace: HashMap<TraceId, usize>,
    /// The lane of each process of a trace split by process.
    by_process: HashMap<(TraceId, u32), usize>,
    by_ip: HashMap<IpAddr, usize>,
    outside: Option<usize>,
}

impl Lanes {
    /// One lane per trace, or per process of a trace whose `drawn` calls come from a few.
    pub fn new(analysis: &Analysis, drawn: &[&StepRecord]) -> Lanes {
        let topology = &analysis.topology;
        let mut pids: HashMap<TraceId, Vec<u32>> = HashMap::new();
        for r in drawn {
            let list = pids.entry(r.loc.trace).or_default();
            if !list.contains(&r.pid) {
                list.push(r.pid);
            }
        }
        let mut lanes = Lanes {
            lanes: Vec::new(),
            by_trace: HashMap::new(),
            by_process: HashMap::new(),
            by_ip: HashMap::new(),
            outside: None,
        };
        for (host_index, host) in topology.hosts.iter().enumerate() {
            for trace in &host.traces {
                let name = topology
                    .traces
                    .get(trace.0 as usize)
                    .map_or_else(String::new, |t| t.name.clone());
                lanes.by_trace.insert(*trace, lanes.lanes.len());
                let processes = pids.get(trace).map_or(&[][..], Vec::as_slice);
                let split = (2..=MAX_PROCESS_LANES).contains(&processes.len());
                let per_lane: Vec<Option<u32>> = if split {
                    processes.iter().map(|p| Some(*p)).collect()
                } else {
                    vec![None]
                };
                for pid in per_lane {
                    if let Some(pid) = pid {
                        lanes.by_process.insert((*trace, pid), lanes.lanes.len());
                    }
                    lanes.lanes.push(Lane {
                        trace_id: trace.to_string(),
                        trace: name.clone(),
                        host: host.name.clone(),
                        host_index: Some(host_index),
                        pid,
                    });
                }
            }
            if let Some(first) = host.traces.first().and_then(|t| lanes.by_trace.get(t)) {
                let first = *first;
                for ip in &host.ips {
                    lanes.by_ip.entry(*ip).or_insert(first);
                }
                for nat in &host.nats {
                    lanes.by_ip.entry(nat.public.ip).or_insert(first);
                }
            }
        }
        lanes
    }

    /// The lane of a call: its process's, or its trace's.
    pub fn of_call(&self, r: &StepRecord) -> Option<usize> {
        self.by_process
            .get(&(r.loc.trace, r.pid))
            .or_else(|| self.by_trace.get(&r.loc.trace))
            .copied()
    }

    pub fn of_sock(&self, sock: SockId) -> Option<usize> {
        self.of_trace(sock.trace)
    }

    pub fn of_trace(&self, trace: TraceId) -> Option<usize> {
        self.by_trace.get(&trace).copied()
    }

    /// The lane of the host owning `addr`, else the untraced lane (added on first use).
    pub fn of_addr(&mut self, addr: Option<SocketAddr>) -> usize {
        if let Some(lane) = addr.and_then(|a| self.by_ip.get(&a.ip())) {
            return *lane;
        }
        if let Some(lane) = self.outside {
            return lane;
        }
        self.lanes.push(Lane {
            trace_id: String::new(),
            trace: "not traced".into(),
            host: "elsewhere".into(),
            host_index: None,
            pid: None,
        });
        let lane = self.lanes.len() - 1;
        self.outside = Some(lane);
        lane
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::html::capture::CallKind;
    use crate::source::Loc;
    use crate::testkit::script::topology;

    fn record(trace: u32, line: u64, pid: u32) -> StepRecord {
        StepRecord {
            position: line,
            loc: Loc::new(TraceId(trace), line),
            pid,
            kind: CallKind::Recv,
            sock: None,
            new_sock: None,
            bytes: 1,
            addr: None,
            errno: None,
            digest: None,
            deviation: None,
            call: String::new(),
        }
    }

    #[test]
    fn a_trace_of_a_few_processes_gets_a_lane_each_and_a_busy_one_a_single_lane() {
        let topo = topology(&[&["10.0.0.1"], &["10.0.0.2"]]);
        let analysis = Analysis::new(topo, Vec::new(), Vec::new(), Default::default());
        // Trace A: a parent and two children. Trace B: eight threads.
        let mut records: Vec<StepRecord> = [10, 11, 12, 10]
            .iter()
            .enumerate()
            .map(|(i, &pid)| record(0, i as u64 + 1, pid))
            .collect();
        records.extend((0..8).map(|i| record(1, 100 + i, 200 + i as u32)));
        let drawn: Vec<&StepRecord> = records.iter().collect();
        let lanes = Lanes::new(&analysis, &drawn);
        let pids: Vec<(String, Option<u32>)> = lanes
            .lanes
            .iter()
            .map(|l| (l.trace_id.clone(), l.pid))
            .collect();
        assert_eq!(
            pids,
            [
                ("A".to_string(), Some(10)),
                ("A".to_string(), Some(11)),
                ("A".to_string(), Some(12)),
                ("B".to_string(), None),
            ]
        );
        assert_eq!(lanes.of_call(&records[3]), Some(0));
        assert_eq!(lanes.of_call(&records[2]), Some(2));
        assert_eq!(lanes.of_call(&records[6]), Some(3));
    }
}
