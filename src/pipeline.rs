//! The whole run, shared by `netcheck diagnose`, the scenario table and the tests: topology →
//! parse → fold → replay → diagnose, then the evidence calls read back from the trace files.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::config::{self, ConfigError, Inputs, Topology};
use crate::diagnose::context::file_of;
use crate::diagnose::{diagnose_with_leftovers, Context, Finding};
use crate::fold::background::fold_in_background;
use crate::fold::{FoldStats, Folder, SocketEvent};
use crate::model::{ConnectionSink, ReplayOutcome};
use crate::order;
use crate::parse::{OpenError, ParseStats, TraceReader};

mod evidence_lines;
use evidence_lines::read_lines;

/// Everything a report is built from.
#[derive(Debug)]
pub struct Analysis {
    pub topology: Topology,
    /// Per trace, indexed by `TraceId`.
    pub parse: Vec<ParseStats>,
    /// Per trace, indexed by `TraceId`.
    pub fold: Vec<FoldStats>,
    pub outcome: ReplayOutcome,
    pub findings: Vec<Finding>,
    /// Indices into `outcome.deviations` that no finding explains.
    pub unexplained: Vec<usize>,
}

impl Analysis {
    /// Diagnoses an outcome built elsewhere (by hand in tests, or by [`run_pipeline`]).
    pub fn new(
        topology: Topology,
        parse: Vec<ParseStats>,
        fold: Vec<FoldStats>,
        outcome: ReplayOutcome,
    ) -> Analysis {
        let (findings, unexplained) = diagnose_with_leftovers(&Context {
            topology: &topology,
            outcome: &outcome,
            parse: &parse,
            fold: &fold,
        });
        Analysis {
            topology,
            parse,
            fold,
            outcome,
            findings,
            unexplained,
        }
    }
}

/// Why a run could not be made at all.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Open(#[from] OpenError),
    /// A trace could not be read to its end (an I/O error part-way).
    #[error("{0}")]
    Read(String),
}

/// Loads the topology named by `inputs` and runs every stage.
pub fn run_pipeline(inputs: &Inputs) -> Result<Analysis, PipelineError> {
    let topology = config::load(inputs)?;
    analyse(topology)
}

/// Runs parse → fold → replay → diagnose over the traces of `topology`.
pub fn analyse(topology: Topology) -> Result<Analysis, PipelineError> {
    analyse_observed(topology, None)
}

/// How a run is carried out; none of it changes the result.
#[derive(Default)]
pub struct RunOptions<'a> {
    /// Shown every event and step of the replay (the HTML report draws it).
    pub observer: Option<&'a dyn order::ReplayObserver>,
    /// Given every TCP connection's record (`diagnose --connections`).
    pub sink: Option<&'a mut dyn ConnectionSink>,
    /// Parse and fold every trace in this thread instead of one thread per trace.
    pub one_thread: bool,
    /// Counts the bytes of trace read so far (for a progress display).
    pub progress: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

/// [`analyse`], showing the replay to `observer` (the HTML report draws it).
pub fn analyse_observed(
    topology: Topology,
    observer: Option<&dyn order::ReplayObserver>,
) -> Result<Analysis, PipelineError> {
    analyse_with(
        topology,
        RunOptions {
            observer,
            ..RunOptions::default()
        },
    )
}

/// What parse, fold and replay produce for diagnose.
struct Replayed {
    parse: Vec<ParseStats>,
    fold: Vec<FoldStats>,
    outcome: ReplayOutcome,
}

/// [`analyse`] as `options` say.
pub fn analyse_with(
    topology: Topology,
    options: RunOptions<'_>,
) -> Result<Analysis, PipelineError> {
    let mut readers = topology
        .traces
        .iter()
        .map(|spec| TraceReader::open(&spec.path, spec.id))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(counter) = &options.progress {
        for reader in &mut readers {
            reader.report_progress(std::sync::Arc::clone(counter));
        }
    }
    let mut replayed = if options.one_thread || readers.len() < 2 {
        replay_here(&topology, readers, options)
    } else {
        replay_in_threads(&topology, readers, options)?
    };
    // Whether a trace was filtered is known only once it is read to its end.
    order::filtered::drop_waits_for_hidden_sends(&mut replayed.outcome, &topology, &replayed.parse);
    if let Some(error) = replayed.parse.iter().find_map(|p| p.read_error.clone()) {
        return Err(PipelineError::Read(error));
    }
    let mut analysis = Analysis::new(topology, replayed.parse, replayed.fold, replayed.outcome);
    fill_call_texts(&analysis.topology, &analysis.parse, &mut analysis.findings);
    Ok(analysis)
}

/// The events of each trace, shown to the observer if there is one.
/// Orders `traces`, showing every step to `observer` and every connection to `sink`.
fn replay_observed<'a, 's, 'l: 's>(
    topology: &'s Topology,
    traces: Vec<Box<dyn Iterator<Item = SocketEvent> + 'a>>,
    observer: Option<&dyn order::ReplayObserver>,
    sink: Option<&'s mut (dyn ConnectionSink + 'l)>,
) -> ReplayOutcome {
    let mut on_step = |step: &order::Step| {
        if let Some(o) = observer {
            o.step(step);
        }
    };
    order::replay_to_sink(topology, traces, &mut on_step, shorter(sink)).0
}

fn observed<'a, I: Iterator<Item = SocketEvent> + 'a>(
    events: I,
    observer: Option<&'a dyn order::ReplayObserver>,
) -> Box<dyn Iterator<Item = SocketEvent> + 'a> {
    match observer {
        Some(o) => Box::new(events.inspect(move |ev| o.event(ev))),
        None => Box::new(events),
    }
}

/// The sink, borrowed for the replay only.
fn shorter<'s, 'l: 's>(
    sink: Option<&'s mut (dyn ConnectionSink + 'l)>,
) -> Option<&'s mut (dyn ConnectionSink + 's)> {
    match sink {
        Some(s) => Some(s),
        None => None,
    }
}

/// Parse, fold and replay in this thread.
fn replay_here(
    topology: &Topology,
    mut readers: Vec<TraceReader>,
    options: RunOptions<'_>,
) -> Replayed {
    let mut folders: Vec<_> = readers
        .iter_mut()
        .zip(&topology.traces)
        .map(|(reader, spec)| Folder::new(reader, spec.id))
        .collect();
    let observer = options.observer;
    let traces = folders.iter_mut().map(|f| observed(f, observer)).collect();
    let outcome = replay_observed(topology, traces, observer, options.sink);
    let fold = folders.iter().map(|f| f.stats().clone()).collect();
    drop(folders);
    let parse = readers.iter().map(|r| r.stats().clone()).collect();
    Replayed {
        parse,
        fold,
        outcome,
    }
}

/// Parse and fold every trace but the first on a thread of its own; the first is folded here,
/// beside the replay, so that two traces keep two cores busy without a third thread competing.
fn replay_in_threads(
    topology: &Topology,
    readers: Vec<TraceReader>,
    options: RunOptions<'_>,
) -> Result<Replayed, PipelineError> {
    let observer = options.observer;
    let mut readers = readers.into_iter().zip(&topology.traces);
    let Some((mut first, first_spec)) = readers.next() else {
        return Ok(replay_here(topology, Vec::new(), options));
    };
    std::thread::scope(|scope| {
        let (events, handles): (Vec<_>, Vec<_>) = readers
            .map(|(reader, spec)| fold_in_background(scope, reader, spec.id))
            .unzip();
        let mut folder = Folder::new(&mut first, first_spec.id);
        let traces = std::iter::once(observed(&mut folder, observer))
            .chain(events.into_iter().map(|e| observed(e, observer)))
            .collect();
        let outcome = replay_observed(topology, traces, observer, options.sink);
        let mut fold = vec![folder.stats().clone()];
        drop(folder);
        let mut parse = vec![first.stats().clone()];
        for handle in handles {
            let (p, f) = handle
                .join()
                .map_err(|_| PipelineError::Read("a trace reader thread failed".into()))?;
            parse.push(p);
            fold.push(f);
        }
        Ok(Replayed {
            parse,
            fold,
            outcome,
        })
    })
}

/// Fills each evidence's empty `call` with its line from the trace file (one pass per file,
/// stopping after the last line needed). Unreadable files leave the text empty.
pub fn fill_call_texts(topology: &Topology, parse: &[ParseStats], findings: &mut [Finding]) {
    let mut wanted: BTreeMap<PathBuf, BTreeMap<u64, String>> = BTreeMap::new();
    for e in findings.iter().flat_map(|f| &f.evidence) {
        if let (true, Some(path)) = (e.call.is_empty(), file_of(topology, parse, e.loc)) {
            wanted
                .entry(path.to_path_buf())
                .or_default()
                .insert(e.loc.line, String::new());
        }
    }
    for (path, lines) in &mut wanted {
        read_lines(path, lines);
    }
    for e in findings.iter_mut().flat_map(|f| &mut f.evidence) {
        if !e.call.is_empty() {
            continue;
        }
        let text = file_of(topology, parse, e.loc)
            .and_then(|path| wanted.get(path))
            .and_then(|lines| lines.get(&e.loc.line));
        if let Some(text) = text {
            e.call.clone_from(text);
        }
    }
}
