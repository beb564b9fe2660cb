//! How a command ends: its exit [`Status`], or a [`Failure`] that stops it; and stdout writing
//! that treats a closed pipe as success.

use std::io::Write as _;
use std::process::ExitCode;

/// Exit status contract (documented in the README):
/// 0 = ran, nothing to report; 1 = ran, problems found; 2 = usage or input error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Clean = 0,
    ProblemsFound = 1,
    Error = 2,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> ExitCode {
        ExitCode::from(s as u8)
    }
}

/// A failure that stops a command: printed as `netcheck: <message>` and exits with status 2.
#[derive(Debug)]
pub struct Failure(pub String);

impl<E: std::error::Error> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

pub type CmdResult = Result<Status, Failure>;

/// Writes `text` to stdout; a reader that went away (broken pipe) is not an error. Control
/// characters from the input are escaped; only our own colour sequences pass, and only when
/// colour is on.
pub fn print(text: &str) -> Result<(), Failure> {
    print_styled(text, crate::report::text::stdout_color())
}

/// [`print`], keeping our colour sequences exactly when `styled`.
pub fn print_styled(text: &str, styled: bool) -> Result<(), Failure> {
    let text = crate::report::terminal::printable(text, styled);
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
