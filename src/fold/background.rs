//! One trace parsed and folded on a thread of its own, its socket events handed over in batches
//! through a bounded queue: the traces of a run are read at once on as many cores, while the
//! replay pulls events exactly as it would from a [`Folder`] in its own thread. Each trace's
//! events depend on that trace alone, so the replay sees the same sequences either way.

use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::{Scope, ScopedJoinHandle};

use super::{FoldStats, Folder, SocketEvent};
use crate::parse::{ParseStats, TraceReader};
use crate::source::TraceId;

/// Events per batch: large enough that the queue costs little per event.
const BATCH: usize = 512;
/// Batches waiting in the queue at most: bounds what a fast reader holds ahead of the replay.
const QUEUED_BATCHES: usize = 8;

/// The events of a trace folded on another thread, in order.
pub struct BackgroundEvents {
    queue: Receiver<Vec<SocketEvent>>,
    batch: std::vec::IntoIter<SocketEvent>,
}

impl Iterator for BackgroundEvents {
    type Item = SocketEvent;

    fn next(&mut self) -> Option<SocketEvent> {
        loop {
            if let Some(event) = self.batch.next() {
                return Some(event);
            }
            // The sender is gone once the trace is done: the iterator ends.
            self.batch = self.queue.recv().ok()?.into_iter();
        }
    }
}

/// The thread's result: the trace's parse and fold statistics.
pub type BackgroundStats<'scope> = ScopedJoinHandle<'scope, (ParseStats, FoldStats)>;

/// Starts parsing and folding `reader` on a thread of `scope`.
pub fn fold_in_background<'scope>(
    scope: &'scope Scope<'scope, '_>,
    mut reader: TraceReader,
    trace: TraceId,
) -> (BackgroundEvents, BackgroundStats<'scope>) {
    let (sender, queue) = sync_channel::<Vec<SocketEvent>>(QUEUED_BATCHES);
    let handle = scope.spawn(move || {
        let mut folder = Folder::new(&mut reader, trace);
        let mut batch = Vec::with_capacity(BATCH);
        for event in folder.by_ref() {
            batch.push(event);
            if batch.len() == BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                // The replay stopped listening: nothing more to do.
                if sender.send(full).is_err() {
                    break;
                }
            }
        }
        if !batch.is_empty() {
            let _ = sender.send(batch);
        }
        let fold = folder.stats().clone();
        drop(folder);
        (reader.stats().clone(), fold)
    });
    let events = BackgroundEvents {
        queue,
        batch: Vec::new().into_iter(),
    };
    (events, handle)
}
