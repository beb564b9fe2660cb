//! The rows of the traffic summary: one aggregate per (client host, server endpoint), bounded.
//!
//! Rows are keyed by small values (an interned host name and the endpoint's address) and named
//! as text only once, at the end: a connection used to format its host and endpoint to find its
//! row. Each host lists at most [`ENDPOINTS_LISTED_PER_HOST`] endpoints, the first it reaches;
//! traffic to any further endpoint is summed in one row per host, [`OTHER_ENDPOINTS`], so a run
//! over a million listeners keeps (and reports) a thousand rows, not a million.

use std::collections::HashMap;
use std::net::SocketAddr;

use crate::config::Topology;
use crate::int_hash::IntHashBuilder;
use crate::source::TraceId;

/// Endpoints listed one by one per host; the rest are summed.
pub const ENDPOINTS_LISTED_PER_HOST: usize = 1000;

/// The endpoint text of the row that sums a host's traffic to endpoints beyond those listed.
pub const OTHER_ENDPOINTS: &str = "other";

/// The endpoint text when the address was never seen.
const UNKNOWN_ENDPOINT: &str = "unknown";

/// Where a row's traffic went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Endpoint {
    Unknown,
    At(SocketAddr),
    Other,
}

impl Endpoint {
    fn text(self) -> String {
        match self {
            Endpoint::Unknown => UNKNOWN_ENDPOINT.to_string(),
            Endpoint::At(addr) => addr.to_string(),
            Endpoint::Other => OTHER_ENDPOINTS.to_string(),
        }
    }
}

/// Aggregates of type `A` per (host, endpoint).
#[derive(Debug, Clone)]
pub struct EndpointTable<A> {
    rows: HashMap<(u32, Endpoint), A, IntHashBuilder>,
    /// Interned host names, and how many endpoints each lists.
    names: Vec<(String, usize)>,
    name_ids: HashMap<String, u32>,
    /// Each trace's host name id, once looked up.
    trace_names: Vec<Option<u32>>,
}

impl<A> Default for EndpointTable<A> {
    fn default() -> Self {
        EndpointTable {
            rows: HashMap::default(),
            names: Vec::new(),
            name_ids: HashMap::new(),
            trace_names: Vec::new(),
        }
    }
}

/// The name of the host `trace` was taken on (the trace's own name when it has no host).
pub fn host_of(topology: &Topology, trace: TraceId) -> String {
    topology
        .traces
        .get(trace.0 as usize)
        .and_then(|spec| topology.hosts.get(spec.host))
        .map_or_else(|| trace.to_string(), |h| h.name.clone())
}

impl<A: Default> EndpointTable<A> {
    /// The row of traffic from `trace`'s host to `endpoint` (`None`: never seen), or its host's
    /// row of other endpoints when the host already lists as many as it may.
    pub fn entry(
        &mut self,
        topology: &Topology,
        trace: TraceId,
        endpoint: Option<SocketAddr>,
    ) -> &mut A {
        let host = self.host_id(topology, trace);
        let endpoint = endpoint.map_or(Endpoint::Unknown, Endpoint::At);
        let key = if self.rows.contains_key(&(host, endpoint)) {
            (host, endpoint)
        } else {
            match self.names.get_mut(host as usize) {
                Some((_, listed)) if *listed < ENDPOINTS_LISTED_PER_HOST => {
                    *listed += 1;
                    (host, endpoint)
                }
                _ => (host, Endpoint::Other),
            }
        };
        self.rows.entry(key).or_default()
    }

    fn host_id(&mut self, topology: &Topology, trace: TraceId) -> u32 {
        let index = trace.0 as usize;
        if let Some(Some(id)) = self.trace_names.get(index) {
            return *id;
        }
        let name = host_of(topology, trace);
        let id = match self.name_ids.get(&name) {
            Some(id) => *id,
            None => {
                let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
                self.names.push((name.clone(), 0));
                self.name_ids.insert(name, id);
                id
            }
        };
        if self.trace_names.len() <= index {
            self.trace_names.resize(index + 1, None);
        }
        if let Some(slot) = self.trace_names.get_mut(index) {
            *slot = Some(id);
        }
        id
    }

    /// Every row as (host, endpoint, aggregate), sorted by host then endpoint text.
    pub fn into_rows(self) -> Vec<(String, String, A)> {
        let names = self.names;
        let mut rows: Vec<(String, String, A)> = self
            .rows
            .into_iter()
            .map(|((host, endpoint), a)| {
                let name = names
                    .get(host as usize)
                    .map_or_else(String::new, |(n, _)| n.clone());
                (name, endpoint.text(), a)
            })
            .collect();
        rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::fixtures::topology;

    fn addr(port: usize) -> Option<SocketAddr> {
        Some(SocketAddr::from(([10, 0, 0, 2], port as u16)))
    }

    #[test]
    fn rows_are_sorted_by_host_then_endpoint_text() {
        let topology = topology(&[("b-client", &["10.0.0.1"]), ("a-client", &["10.0.0.3"])]);
        let mut table: EndpointTable<u64> = EndpointTable::default();
        *table.entry(&topology, TraceId(0), addr(80)) += 1;
        *table.entry(&topology, TraceId(0), None) += 1;
        *table.entry(&topology, TraceId(0), addr(8080)) += 1;
        *table.entry(&topology, TraceId(1), addr(80)) += 2;
        *table.entry(&topology, TraceId(0), addr(80)) += 1;
        let expected = [
            ("a-client", "10.0.0.2:80", 2),
            ("b-client", "10.0.0.2:80", 2),
            ("b-client", "10.0.0.2:8080", 1),
            ("b-client", "unknown", 1),
        ]
        .map(|(h, e, n)| (h.to_string(), e.to_string(), n));
        assert_eq!(table.into_rows(), expected.to_vec());
    }

    #[test]
    fn endpoints_beyond_the_listed_ones_are_summed_per_host() {
        let topology = topology(&[("client", &["10.0.0.1"]), ("other", &["10.0.0.3"])]);
        let mut table: EndpointTable<u64> = EndpointTable::default();
        let extra = 5;
        for port in 0..ENDPOINTS_LISTED_PER_HOST + extra {
            *table.entry(&topology, TraceId(0), addr(1000 + port)) += 1;
        }
        // An endpoint listed before the limit keeps its own row.
        *table.entry(&topology, TraceId(0), addr(1000)) += 1;
        // Another host lists its own endpoints.
        *table.entry(
            &topology,
            TraceId(1),
            addr(1000 + ENDPOINTS_LISTED_PER_HOST + 1),
        ) += 1;
        let rows = table.into_rows();
        let client: Vec<_> = rows.iter().filter(|r| r.0 == "client").collect();
        assert_eq!(client.len(), ENDPOINTS_LISTED_PER_HOST + 1);
        let other = client.iter().find(|r| r.1 == OTHER_ENDPOINTS);
        assert_eq!(other.map(|r| r.2), Some(extra as u64));
        let first = client.iter().find(|r| r.1 == "10.0.0.2:1000");
        assert_eq!(first.map(|r| r.2), Some(2));
        assert_eq!(rows.iter().filter(|r| r.0 == "other").count(), 1);
    }
}
