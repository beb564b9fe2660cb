//! The command line as clap parses it: subcommands and their arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "netcheck",
    version,
    about = "Find why a distributed application misbehaves on the network, from strace traces",
    long_about = "netcheck reads one strace trace per host, rebuilds a plausible global order of all \
socket calls by replaying them against a model of POSIX sockets and an ideal network, and reports \
where reality deviated from that model: NATs, firewalls, refused or unaccepted connections, lost \
data, MTU black holes, portability traps.",
    after_help = "Exit status: 0 nothing found, 1 problems found, 2 usage or input error.\n\n\
Examples:\n  netcheck record -o server.trace --host server -- python3 -m http.server 8080\n  \
netcheck diagnose netcheck.conf\n  netcheck diagnose client.trace server.trace\n  \
netcheck parse --format json server.trace\n  netcheck explain nat-undeclared"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a program under strace with the flags netcheck needs (or attach to a running one), and
    /// print its config stanza.
    #[command(
        after_help = "Stop a long-running program with Ctrl-C, or send SIGINT or SIGTERM to netcheck \
(it passes the signal on); the stanza follows once the program exits. With --pid, the same stop \
makes strace detach and the process keeps running. Its trace path is absolute, or relative to \
the --stanza file's directory.\n\n\
Examples:\n  netcheck record -o client.trace --host client -- curl http://10.0.0.2:8080/\n  \
netcheck record -o server.trace --host server --pid $(pidof memcached)"
    )]
    Record(RecordArgs),
    /// Parse traces and print their folded socket events and a parse summary.
    #[command(
        after_help = "Examples:\n  netcheck parse server.trace\n  netcheck parse --format json client.trace | head"
    )]
    Parse(ParseArgs),
    /// Check and echo a configuration, or infer one from traces (`--infer`).
    #[command(
        after_help = "Examples:\n  netcheck config netcheck.conf\n  netcheck config --infer client.trace server.trace > netcheck.conf"
    )]
    Config(ConfigArgs),
    /// Print the reconstructed global order of all traces' socket calls.
    #[command(
        after_help = "Examples:\n  netcheck order netcheck.conf\n  netcheck order client.trace server.trace"
    )]
    Order(OrderArgs),
    /// Diagnose: order the traces, replay them against the model, and report findings.
    #[command(
        after_help = "Examples:\n  netcheck diagnose netcheck.conf\n  netcheck diagnose --format json client.trace server.trace\n  netcheck diagnose --table tests/fixtures/lab"
    )]
    Diagnose(DiagnoseArgs),
    /// Print the long explanation of a rule.
    #[command(after_help = "Example:\n  netcheck explain connect-refused")]
    Explain(ExplainArgs),
    /// List every rule with its class and title.
    Rules(RulesArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  netcheck completions bash > /etc/bash_completion.d/netcheck\n  netcheck completions zsh > \"${fpath[1]}/_netcheck\""
    )]
    Completions(CompletionsArgs),
    /// Print the manual page (roff), of netcheck or of one subcommand.
    #[command(
        after_help = "Examples:\n  netcheck man > netcheck.1 && man ./netcheck.1\n  netcheck man diagnose > netcheck-diagnose.1"
    )]
    Man(ManArgs),
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// The subcommand whose page to print (`netcheck-SUBCOMMAND(1)`).
    pub subcommand: Option<String>,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct RecordArgs {
    /// Where to write the trace.
    #[arg(short, long, default_value = "netcheck.trace")]
    pub output: PathBuf,
    /// Host name for the printed config stanza (default: this machine's hostname).
    #[arg(long)]
    pub host: Option<String>,
    /// Longest string strace prints in full (payload bytes beyond it are counted, not shown).
    #[arg(long, default_value_t = 4096)]
    pub string_limit: u32,
    /// The strace executable to use.
    #[arg(long, default_value = "strace")]
    pub strace: PathBuf,
    /// Write the config stanza to this file instead of stdout (keeps it apart from the program's
    /// own output).
    #[arg(long)]
    pub stanza: Option<PathBuf>,
    /// Attach to this running process instead of starting a command (`strace -p`, with all its
    /// threads and the children it starts); stopping the recording leaves it running.
    #[arg(long, value_name = "PID", conflicts_with = "command")]
    pub pid: Option<u32>,
    /// The command to run, after `--`.
    #[arg(required_unless_present = "pid", last = true)]
    pub command: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct ParseArgs {
    /// Trace files (a `-ff` set is named by its common prefix or any one of its files).
    #[arg(required = true)]
    pub traces: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Print only the summary, not every event.
    #[arg(long)]
    pub summary: bool,
}

/// Where the run's topology comes from: a config file, traces (one host each), or `--trace`
/// files that all belong to one host.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// A config file in NetCheck's format, or trace files (one host per trace, topology inferred).
    pub inputs: Vec<PathBuf>,
    /// Trace files that all belong to one host and talk over loopback (the original's `-u`).
    #[arg(long = "trace", num_args = 1..)]
    pub one_host_traces: Vec<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ConfigArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Infer the topology from the traces and print it as a config file.
    #[arg(long)]
    pub infer: bool,
}

#[derive(Args, Debug)]
pub struct OrderArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// What `diagnose` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    /// One self-contained page with a time-space diagram (see `-o`).
    Html,
}

/// When the text output is coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    Always,
    Never,
}

#[derive(Args, Debug)]
pub struct DiagnoseArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Write the report to FILE. Without it an HTML report goes to `netcheck-report.html` when
    /// standard output is a terminal, and to standard output otherwise.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Report only these rule IDs or classes (comma-separated, repeatable).
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    pub select: Vec<String>,
    /// Leave out these rule IDs or classes (comma-separated, repeatable).
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Print the findings only (text format), and no progress.
    #[arg(short, long)]
    pub quiet: bool,
    /// Write every TCP connection's record to FILE, one JSON object per line (the report
    /// itself lists connections in aggregate, and one by one only where a finding cites them).
    #[arg(long, value_name = "FILE")]
    pub connections: Option<PathBuf>,
    /// Colour the text output: auto (a terminal without `NO_COLOR`), always or never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Run every scenario under DIR (each with `netcheck.conf` and `expected.json`) and print a
    /// Markdown table of what was found.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["inputs", "one_host_traces"])]
    pub table: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// Rule ID, e.g. `nat-undeclared`.
    pub rule: String,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Args, Debug)]
pub struct RulesArgs {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}
