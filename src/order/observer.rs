//! Watching a replay from outside: the events each trace yields and the steps they become.

use super::Step;
use crate::fold::SocketEvent;

/// Sees every event a trace yields (before the ordering places it) and every step placed. A
/// trace's events are placed in the order they are yielded, so an observer can pair them up.
/// Methods take `&self` so the trace iterators and the step hook can share one observer.
pub trait ReplayObserver {
    fn event(&self, event: &SocketEvent);
    fn step(&self, step: &Step);
}
