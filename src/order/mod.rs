//! The *order* stage: rebuild one plausible global order of all traces' socket events by
//! replaying them against the model, without trusting clocks.
//!
//! Greedy replay, as in the original tool: each trace offers its next event (its *head*); heads
//! are tried in [`priority`] order and the first one the model does not ask to retry is placed.
//! Unlike the original, a head that had to retry is not tried again after every step: it waits
//! on the [`WaitKey`]s the model named and becomes ready again only when one of them is touched,
//! so the cost stays linear in the number of calls. When no head is ready, every waiting head is
//! tried once more (a safety net); if all still retry, ordering is *blocked*: the point is
//! recorded and one head is forced through (see [`priority::force_rank`]) so later findings are
//! not lost.

pub mod filtered;
mod observer;
pub mod priority;

pub use observer::ReplayObserver;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use crate::config::Topology;
use crate::fold::SocketEvent;
use crate::int_hash::IntHashBuilder;
use crate::model::{BlockedPoint, Model, ReplayOutcome, Verdict, WaitKey, WaitReason};
use crate::source::{Loc, TraceClock};

/// One call placed in the global order.
#[derive(Debug, Clone)]
pub struct Step<'e> {
    /// 1-based position in the global order.
    pub position: u64,
    pub loc: Loc,
    /// The call placed.
    pub event: &'e SocketEvent,
    pub verdict: Verdict,
}

impl Step<'_> {
    /// Short text of the call (`connect(A3, 10.0.0.2:80) = 0`), made only when asked for: most
    /// runs never show a step.
    pub fn call(&self) -> String {
        self.event.describe()
    }
}

/// Order of ready heads: priority, then timestamp (heads without one after those with one),
/// then trace. Timestamps only ever break ties between equal priorities.
type ReadyKey = (priority::Priority, u64, usize);

/// The wall clock most of the run's traces read (ties go to the time of day, what `-t` and
/// `-tt` give): the clock timestamps may order heads by. `None` when no trace reads one.
fn shared_clock(topology: &Topology) -> Option<TraceClock> {
    let count = |clock: TraceClock| topology.traces.iter().filter(|t| t.clock == clock).count();
    [TraceClock::TimeOfDay, TraceClock::Epoch]
        .into_iter()
        .map(|clock| (count(clock), clock))
        .filter(|(n, _)| *n > 0)
        .max_by_key(|(n, clock)| (*n, *clock == TraceClock::TimeOfDay))
        .map(|(_, clock)| clock)
}

fn time_rank(time: Option<f64>) -> u64 {
    match time {
        // Non-negative finite f64s order like their bit patterns.
        Some(t) if t.is_finite() && t >= 0.0 => t.to_bits(),
        _ => u64::MAX,
    }
}

enum Slot {
    Ready(ReadyKey),
    Waiting { epoch: u64, reason: WaitReason },
    Done,
}

struct Lane<'a> {
    events: Box<dyn Iterator<Item = SocketEvent> + 'a>,
    head: Option<SocketEvent>,
    slot: Slot,
    epoch: u64,
    /// Some event of this trace had a timestamp.
    timed: bool,
    /// Its timestamps read the clock the run's traces share, so they may rank its heads
    /// against other traces' (never `-r` counts, nor a clock kind the others do not read).
    shares_clock: bool,
}

impl Lane<'_> {
    /// Where the time of `ev` (an event of this lane) ranks it against other lanes' heads.
    fn time_rank(&self, ev: &SocketEvent) -> u64 {
        if self.shares_clock {
            time_rank(ev.call.time)
        } else {
            time_rank(None)
        }
    }
}

struct Scheduler<'a, 't> {
    model: Model<'t>,
    lanes: Vec<Lane<'a>>,
    /// The keys of the ready lanes, one per lane (a lane's key is taken out before its head is
    /// tried, and a new one put in only once the lane is ready again), smallest first.
    ready: BinaryHeap<Reverse<ReadyKey>>,
    waiting: HashMap<WaitKey, Vec<(usize, u64)>, IntHashBuilder>,
    /// Keys the model touched by the last call, drained into this buffer so that no call
    /// allocates a list of its own.
    touched: Vec<WaitKey>,
    waiting_count: usize,
    /// Entries in `waiting`, stale ones included.
    registrations: usize,
    placed: u64,
    blocked: Vec<BlockedPoint>,
    stats: ReplayStats,
}

/// How much work the replay did (for tests and benchmarks).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Calls handed to the model, retries included.
    pub simulations: u64,
    /// Calls the model asked to retry.
    pub retries: u64,
    /// Safety-net sweeps that found a head able to pass although no key woke it (a wake-up
    /// key the model failed to name; expected to stay 0).
    pub missed_wakeups: u64,
}

impl<'a, 't> Scheduler<'a, 't> {
    /// Pulls the lane's next event and makes it ready (or marks the lane done).
    fn advance(&mut self, lane: usize) {
        let l = &mut self.lanes[lane];
        l.head = l.events.next();
        l.timed |= l.head.as_ref().is_some_and(|ev| ev.call.time.is_some());
        self.make_ready(lane);
    }

    fn make_ready(&mut self, lane: usize) {
        // With one trace there is no other head to rank against.
        let ranked = self.lanes.len() > 1;
        let l = &mut self.lanes[lane];
        l.epoch += 1;
        match &l.head {
            Some(ev) => {
                let priority = if ranked {
                    priority::of(&self.model, ev)
                } else {
                    priority::SETUP
                };
                let key = (priority, l.time_rank(ev), lane);
                l.slot = Slot::Ready(key);
                self.ready.push(Reverse(key));
            }
            None => l.slot = Slot::Done,
        }
    }

    fn park(&mut self, lane: usize, reason: WaitReason) {
        let keys = self.model.wait_keys();
        let l = &mut self.lanes[lane];
        l.epoch += 1;
        let epoch = l.epoch;
        if !matches!(l.slot, Slot::Waiting { .. }) {
            self.waiting_count += 1;
        }
        l.slot = Slot::Waiting { epoch, reason };
        self.registrations += keys.len();
        for &key in keys {
            self.waiting.entry(key).or_default().push((lane, epoch));
        }
        // A lane woken through one key leaves stale entries under its others: sweep them out
        // once they outnumber the live ones, so memory follows the live state.
        if self.registrations > 4 * (self.waiting_count + 64) {
            let lanes = &self.lanes;
            self.waiting.retain(|_, list| {
                list.retain(|(lane, epoch)| {
                    matches!(lanes[*lane].slot, Slot::Waiting { epoch: e, .. } if e == *epoch)
                });
                !list.is_empty()
            });
            self.registrations = self.waiting.values().map(Vec::len).sum();
        }
    }

    fn wake(&mut self) {
        self.model.drain_touched(&mut self.touched);
        if self.waiting.is_empty() {
            return;
        }
        let mut touched = std::mem::take(&mut self.touched);
        for &key in &touched {
            let Some(list) = self.waiting.remove(&key) else {
                continue;
            };
            self.registrations = self.registrations.saturating_sub(list.len());
            for (lane, epoch) in list {
                if matches!(self.lanes[lane].slot, Slot::Waiting { epoch: e, .. } if e == epoch) {
                    self.waiting_count -= 1;
                    self.make_ready(lane);
                }
            }
        }
        touched.clear();
        self.touched = touched;
    }

    fn place(&mut self, lane: usize, verdict: Verdict, on_step: &mut dyn FnMut(&Step)) {
        if let Some(ev) = &self.lanes[lane].head {
            self.placed += 1;
            on_step(&Step {
                position: self.placed,
                loc: ev.call.loc,
                event: ev,
                verdict,
            });
        }
        self.move_on(lane);
    }

    /// The lane's head was placed: its next event takes its place, and the lanes waiting on
    /// what it touched wake.
    fn move_on(&mut self, lane: usize) {
        if matches!(self.lanes[lane].slot, Slot::Waiting { .. }) {
            self.waiting_count -= 1;
        }
        self.advance(lane);
        self.wake();
    }

    /// Tries the lane's head; true when it was placed.
    fn attempt(&mut self, lane: usize, on_step: &mut dyn FnMut(&Step)) -> bool {
        let Some(ev) = self.lanes[lane].head.as_ref() else {
            return false;
        };
        self.stats.simulations += 1;
        // The verdict is made in the step that shows it: a verdict is large, and moving it
        // into a step on every call is a copy per call.
        let step = Step {
            position: self.placed + 1,
            loc: ev.call.loc,
            event: ev,
            verdict: self.model.simulate(ev),
        };
        match step.verdict {
            Verdict::RetryLater(reason) => {
                self.stats.retries += 1;
                self.model.clear_touched();
                self.park(lane, reason);
                false
            }
            _ => {
                self.placed += 1;
                on_step(&step);
                drop(step);
                self.move_on(lane);
                true
            }
        }
    }

    /// Waiting lanes in the order their heads would be tried.
    fn waiting_lanes(&self) -> Vec<usize> {
        let mut lanes: Vec<(ReadyKey, usize)> = self
            .lanes
            .iter()
            .enumerate()
            .filter(|(_, l)| matches!(l.slot, Slot::Waiting { .. }))
            .filter_map(|(i, l)| {
                let ev = l.head.as_ref()?;
                Some(((priority::of(&self.model, ev), l.time_rank(ev), i), i))
            })
            .collect();
        lanes.sort();
        lanes.into_iter().map(|(_, i)| i).collect()
    }

    /// No head is ready: retry every waiting head once, and if none passes, force one.
    fn unblock(&mut self, on_step: &mut dyn FnMut(&Step)) {
        let lanes = self.waiting_lanes();
        for &lane in &lanes {
            if self.attempt(lane, on_step) {
                self.stats.missed_wakeups += 1;
                return;
            }
        }
        let heads: Vec<(Loc, String)> = lanes
            .iter()
            .filter_map(|&i| {
                let l = &self.lanes[i];
                let reason = match &l.slot {
                    Slot::Waiting { reason, .. } => reason.to_string(),
                    _ => String::new(),
                };
                Some((l.head.as_ref()?.call.loc, reason))
            })
            .collect();
        let live = |trace: crate::source::TraceId| {
            self.lanes
                .get(trace.0 as usize)
                .is_some_and(|l| !matches!(l.slot, Slot::Done))
        };
        let victim = lanes
            .iter()
            .copied()
            .filter_map(|i| {
                let ev = self.lanes[i].head.as_ref()?;
                Some((priority::force_rank(&self.model, ev, &live), i))
            })
            .min()
            .map(|(_, i)| i);
        let Some(victim) = victim else {
            return;
        };
        let forced_loc = self.lanes[victim].head.as_ref().map(|ev| ev.call.loc);
        let position = self.placed + 1;
        let Some(ev) = self.lanes[victim].head.as_ref() else {
            return;
        };
        let verdict = self.model.force(ev);
        if !self.model.last_force_expected() {
            self.blocked.push(BlockedPoint {
                position,
                heads,
                forced: forced_loc,
            });
        }
        self.place(victim, verdict, on_step);
    }

    fn run(&mut self, on_step: &mut dyn FnMut(&Step)) {
        loop {
            if let Some(Reverse(key)) = self.ready.pop() {
                let lane = key.2;
                if matches!(self.lanes[lane].slot, Slot::Ready(k) if k == key) {
                    self.attempt(lane, on_step);
                }
            } else if self.waiting_count > 0 {
                self.unblock(on_step);
            } else {
                break;
            }
        }
    }
}

/// Replays every trace's socket events (one iterator per trace, in `TraceId` order) against the
/// model, calling `on_step` for each call as it is placed, and returns what diagnose needs.
pub fn replay<'a>(
    topology: &Topology,
    traces: Vec<Box<dyn Iterator<Item = SocketEvent> + 'a>>,
    on_step: &mut dyn FnMut(&Step),
) -> ReplayOutcome {
    replay_with_stats(topology, traces, on_step).0
}

/// [`replay`], also returning how much work it took.
pub fn replay_with_stats<'a>(
    topology: &Topology,
    traces: Vec<Box<dyn Iterator<Item = SocketEvent> + 'a>>,
    on_step: &mut dyn FnMut(&Step),
) -> (ReplayOutcome, ReplayStats) {
    replay_to_sink(topology, traces, on_step, None)
}

/// [`replay_with_stats`], handing every TCP connection's record to `sink` as the model finishes
/// with it.
pub fn replay_to_sink<'a, 't>(
    topology: &'t Topology,
    traces: Vec<Box<dyn Iterator<Item = SocketEvent> + 'a>>,
    on_step: &mut dyn FnMut(&Step),
    sink: Option<&'t mut dyn crate::model::ConnectionSink>,
) -> (ReplayOutcome, ReplayStats) {
    let shared = shared_clock(topology);
    let lanes = traces
        .into_iter()
        .enumerate()
        .map(|(i, events)| Lane {
            events,
            head: None,
            slot: Slot::Done,
            epoch: 0,
            timed: false,
            shares_clock: topology
                .traces
                .get(i)
                .is_some_and(|t| Some(t.clock) == shared),
        })
        .collect();
    let mut s = Scheduler {
        model: match sink {
            Some(sink) => Model::with_sink(topology, sink),
            None => Model::new(topology),
        },
        lanes,
        ready: BinaryHeap::new(),
        waiting: HashMap::default(),
        touched: Vec::new(),
        waiting_count: 0,
        registrations: 0,
        placed: 0,
        blocked: Vec::new(),
        stats: ReplayStats::default(),
    };
    for lane in 0..s.lanes.len() {
        s.advance(lane);
    }
    s.run(on_step);
    let used_timestamps = s.lanes.iter().filter(|l| l.timed && l.shares_clock).count() >= 2;
    let stats = s.stats;
    let mut outcome = s.model.finish(s.placed, s.blocked);
    outcome.used_timestamps = used_timestamps;
    (outcome, stats)
}
