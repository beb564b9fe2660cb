//! Forgetting finished connections. A connection that ended cleanly (accepted, every byte
//! received, both ends closed, no deviation on either socket) can no longer matter to any rule:
//! rules look at connections never accepted or with bytes never received, and at deviations. Its
//! figures go to the traffic summary and its record to the sink, and the table lets it go, so
//! memory follows live connections rather than trace length. The first few are kept as examples
//! for reports that draw healthy traffic when nothing went wrong.

use super::summary::{connection_record, failed_connect_state, ConnState, FinishedConnection};
use super::tcp::{ConnId, Connection};
use super::{DeviationKind, Model, PendingConnect, TcpConnection};
use crate::int_hash::IntHashBuilder;
use crate::source::SockId;
use std::collections::HashSet;

/// Connections that ended cleanly kept whole as examples.
pub const CLEAN_EXAMPLES_KEPT: usize = 3;

impl Model<'_> {
    /// Folds connection `id` into the summary and drops it, if it ended cleanly.
    pub(super) fn retire_if_clean(&mut self, id: ConnId) {
        let Some(c) = self.conns.get(id) else {
            return;
        };
        let deviated = |sock: Option<SockId>| sock.is_some_and(|s| self.deviated.contains(&s));
        let clean = c.state() == ConnState::ClosedNormally
            && !c.record.wait_timed_out_with_data
            && !deviated(Some(c.record.client))
            && !deviated(c.record.server);
        if !clean {
            return;
        }
        let Some(c) = self.conns.remove(id) else {
            return;
        };
        self.transfer_stalls_forget(id);
        let record = self.summarise(&c);
        if self.clean_examples.len() < CLEAN_EXAMPLES_KEPT {
            self.clean_examples.push((id, record));
        } else if let Some(server) = record.server {
            self.traffic.add_folded(&record, server);
        }
    }

    /// Counts `c` (summary, sink, the traces it links) and returns its outcome record.
    fn summarise(&mut self, c: &Connection) -> TcpConnection {
        let outcome = c.to_outcome();
        self.load_ended(&outcome);
        let done = FinishedConnection {
            connection: &outcome,
            state: c.state(),
            opened: c.opened_at,
            closed: c.closed_at,
        };
        self.traffic.add_connection(self.topology, &done);
        if let Some(sink) = self.sink.as_deref_mut() {
            sink.record(&connection_record(self.topology, &done));
        }
        if let Some(server) = outcome.server {
            self.activity_mut(outcome.client.trace).peer_links += 1;
            self.activity_mut(server.trace).peer_links += 1;
        }
        outcome
    }

    /// At the end: counts every connection still held and returns them with the kept examples,
    /// in connect order.
    pub(super) fn held_connections_to_summary(&mut self) -> Vec<TcpConnection> {
        let held = std::mem::take(&mut self.conns);
        // The table gives its connections in id order: only the few examples are sorted, then
        // merged in, so that a million held records are moved once rather than sorted.
        let mut examples = std::mem::take(&mut self.clean_examples);
        examples.sort_by_key(|(id, _)| *id);
        let mut examples = examples.into_iter().peekable();
        let mut all = Vec::with_capacity(held.len() + examples.len());
        for (id, c) in held.iter() {
            while let Some((_, example)) = examples.next_if(|(example_id, _)| *example_id < id) {
                all.push(example);
            }
            all.push(self.summarise(c));
        }
        all.extend(examples.map(|(_, c)| c));
        all
    }

    /// Counts the connects that made no connection: failed ones, and those never answered that
    /// no connection record already counts.
    pub(super) fn count_attempts(&mut self, tcp: &[TcpConnection], pending: &[PendingConnect]) {
        for d in &self.deviations {
            if let (DeviationKind::ConnectFailed { errno, target, .. }, Some(sock)) =
                (&d.kind, d.sock)
            {
                let state = failed_connect_state(*errno);
                self.traffic
                    .add_attempt(self.topology, sock, *target, state);
            }
        }
        // Looked up once per pending connect: a set, not a scan of every connection each time.
        let clients: HashSet<SockId, IntHashBuilder> = match pending.is_empty() {
            true => HashSet::default(),
            false => tcp.iter().map(|c| c.client).collect(),
        };
        for p in pending {
            if !clients.contains(&p.sock) {
                self.traffic
                    .add_attempt(self.topology, p.sock, p.target, ConnState::NeverAnswered);
            }
        }
    }
}
