//! Identities shared by every stage: which trace a fact comes from, where in it, and which socket.

use std::fmt;

/// Index of a trace in the run (declaration order in the config). Displayed the way the original
/// tool named traces: `A`, `B`, ..., `Z`, `AA`, `AB`, ... (spreadsheet column numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct TraceId(pub u32);

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut n = self.0 as u64 + 1;
        let mut letters = Vec::new();
        while n > 0 {
            let rem = ((n - 1) % 26) as u8;
            letters.push(b'A' + rem);
            n = (n - 1) / 26;
        }
        letters.reverse();
        f.write_str(&String::from_utf8_lossy(&letters))
    }
}

/// A place in a trace: the evidence every finding points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Loc {
    pub trace: TraceId,
    /// 1-based physical line number in the trace file (for `-ff` sets: in the per-pid file
    /// named by `file`).
    pub line: u64,
    /// Index of the file within the trace (0 unless the trace is a `-ff` set of per-pid files).
    pub file: u32,
}

impl Loc {
    pub fn new(trace: TraceId, line: u64) -> Self {
        Loc {
            trace,
            line,
            file: 0,
        }
    }
}

/// A socket's stable identity within a run: the trace it lives in and its creation number there.
/// Displayed like the original (`A0`, `B3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct SockId {
    pub trace: TraceId,
    pub n: u32,
}

impl fmt::Display for SockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.trace, self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_ids_use_spreadsheet_letters() {
        let names: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702]
            .iter()
            .map(|&n| TraceId(n).to_string())
            .collect();
        assert_eq!(names, ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]);
    }

    #[test]
    fn socket_ids_join_trace_and_number() {
        let id = SockId {
            trace: TraceId(1),
            n: 3,
        };
        assert_eq!(id.to_string(), "B3");
    }
}

/// What a trace's timestamps count from. Times of one trace can always be compared with each
/// other (durations on one clock); times of two traces only when both read the same wall clock
/// kind, and then only as well as the hosts' clocks agree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TraceClock {
    /// No timestamps (strace without `-t`, `-tt`, `-ttt` or `-r`).
    #[default]
    Untimed,
    /// Time of day (`-t`, `-tt`), in the host's local time zone.
    TimeOfDay,
    /// Seconds since the Unix epoch (`-ttt`, `--timestamps=unix`).
    Epoch,
    /// Seconds since the trace's first line (`-r`, its deltas added up): each trace starts its
    /// own count, so no two traces share it.
    SinceStart,
}

impl TraceClock {
    /// Can a time of a trace with this clock be set against a time of another trace with
    /// `other`? Only wall clocks of one kind.
    pub fn comparable_with(self, other: TraceClock) -> bool {
        self == other && matches!(self, TraceClock::TimeOfDay | TraceClock::Epoch)
    }

    /// How the report names it.
    pub fn describe(self) -> &'static str {
        match self {
            TraceClock::Untimed => "no timestamps",
            TraceClock::TimeOfDay => "time of day",
            TraceClock::Epoch => "seconds since the epoch",
            TraceClock::SinceStart => "relative timestamps (-r)",
        }
    }
}
