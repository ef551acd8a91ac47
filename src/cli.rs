//! Command line: argument definitions (clap) and the commands that print.
//! The library never prints; everything shown on stdout/stderr is decided here.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use fido_doctor::content::compat::{BrowserId, OsFamily};
use fido_doctor::content::text::Texts;
use fido_doctor::content::{ContentSource, Lang};

/// A guide, live probes and a diagnosis for FIDO2 security keys used with
/// UTokyo Account (Microsoft Entra ID) multi-factor sign-in.
#[derive(Debug, Parser)]
#[command(name = "fido-doctor", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    /// Device for the terminal UI (hid:PATH, udp:HOST:PORT[,listen=HOST:PORT], sim:SCENARIO).
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The exit codes, shown under `--help`.
pub const EXIT_CODES: &str = "Exit codes (check, report, probe):
  0   all ok
  1   warnings
  2   failures: the key or this computer has a problem
  3   the check could not run (cancelled, no PIN prompt, key not answering...)
  64  usage error (unknown option or value)";

/// Options every command understands.
#[derive(Debug, Args)]
pub struct Global {
    /// Language of the guide and advice: en or ja (default: from LANG / the OS).
    #[arg(long, global = true, value_parser = parse_lang)]
    pub lang: Option<Lang>,
    /// Read content from this directory instead of the copy built into the binary.
    #[arg(long, global = true, value_name = "DIR")]
    pub content: Option<PathBuf>,
    /// Draw with plain ASCII borders and symbols (for terminals that garble box drawing).
    #[arg(long, global = true)]
    pub ascii: bool,
}

/// The subcommands; none opens the terminal UI.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the terminal UI (the default).
    Tui(TuiArgs),
    /// Show the setup guide.
    Guide(GuideArgs),
    /// List attached FIDO security keys (HID usage page 0xF1D0).
    List(JsonArg),
    /// Ask a key what it is and what it supports (CTAPHID INIT + GetInfo, or U2F VERSION).
    Info(DeviceArgs),
    /// Register a throw-away credential and sign in with it, verifying both like a relying party.
    Probe(ProbeArgs),
    /// Diagnose this computer and the key; exit code 0 all ok, 1 warnings, 2 failures, 3 could not run.
    Check(CheckArgs),
    /// Write a help-desk report (Markdown or JSON) for a ticket.
    Report(ReportArgs),
    /// Serve a simulated security key over UDP (CTAPHID, one datagram per 64-byte report).
    Simulate(SimulateArgs),
    /// List the simulator's scenarios.
    Scenarios(JsonArg),
    /// Set or change the key's PIN (changes the key; asks before anything is sent).
    #[command(subcommand)]
    Pin(PinCommand),
    /// Factory-reset the key: erases every credential for every service and the PIN.
    ResetKey(ResetKeyArgs),
    /// List the sign-ins stored on the key (read-only; needs the PIN).
    Credentials(CredentialsArgs),
}

/// `pin set` / `pin change`.
#[derive(Debug, Subcommand)]
pub enum PinCommand {
    /// Set the first PIN of a key that has none.
    Set(PinSetArgs),
    /// Change the PIN (the current one is needed).
    Change(PinChangeArgs),
}

/// Options of `pin set`.
#[derive(Debug, Args)]
pub struct PinSetArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Read the new PIN and its confirmation from the first two lines of standard input.
    #[arg(long)]
    pub pin_stdin: bool,
}

/// Options of `pin change`.
#[derive(Debug, Args)]
pub struct PinChangeArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Read the current PIN, the new PIN and its confirmation from three lines of standard input.
    #[arg(long)]
    pub pin_stdin: bool,
    /// Go on even when only one PIN attempt is left (a wrong PIN then blocks the key).
    #[arg(long)]
    pub allow_last_pin_attempt: bool,
}

/// Options of `reset-key`.
#[derive(Debug, Args)]
pub struct ResetKeyArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    /// The confirmation word, for scripts (must be RESET); otherwise it is asked for.
    #[arg(long, value_name = "WORD")]
    pub confirm: Option<String>,
}

/// Options of `credentials`.
#[derive(Debug, Args)]
pub struct CredentialsArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    /// Read the PIN from the first line of standard input (it is never logged or stored).
    #[arg(long)]
    pub pin_stdin: bool,
    /// Go on even when only one PIN attempt is left (a wrong PIN then blocks the key).
    #[arg(long)]
    pub allow_last_pin_attempt: bool,
    /// Remove user names and the names of other services from the output.
    #[arg(long)]
    pub redact: bool,
}

/// Options of the terminal UI.
#[derive(Debug, Args, Default)]
pub struct TuiArgs {
    /// Device to use (hid:PATH, udp:HOST:PORT[,listen=HOST:PORT], sim:SCENARIO).
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<String>,
}

/// Options of `guide`.
#[derive(Debug, Args)]
pub struct GuideArgs {
    /// Print the guide as plain text (for pasting into a ticket) instead of opening the UI.
    #[arg(long)]
    pub print: bool,
    /// Line width for --print.
    #[arg(long, default_value_t = 80)]
    pub width: u16,
}

/// `--json` alone.
#[derive(Debug, Args)]
pub struct JsonArg {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Device selection plus `--json`.
#[derive(Debug, Args)]
pub struct DeviceArgs {
    /// Device: hid:PATH, udp:HOST:PORT[,listen=HOST:PORT] or sim:SCENARIO (default: the only attached key).
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Options of `probe`.
#[derive(Debug, Args)]
pub struct ProbeArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    #[command(flatten)]
    pub pin: PinArgs,
}

/// A computer a user describes instead of this one.
#[derive(Debug, Args, Default)]
pub struct DescribedComputer {
    /// Evaluate another computer instead of this one: its operating system.
    #[arg(long, requires = "browser", value_parser = parse_os)]
    pub os: Option<OsFamily>,
    /// Evaluate another computer instead of this one: its browser.
    #[arg(long, requires = "os", value_parser = parse_browser)]
    pub browser: Option<BrowserId>,
}

/// How the PIN is obtained when a key asks for it.
#[derive(Debug, Args, Default, Clone, Copy)]
pub struct PinArgs {
    /// Read the PIN from the first line of standard input, if the key asks for one.
    #[arg(long)]
    pub pin_stdin: bool,
    /// Allow the check to use the key's last PIN attempt (a wrong PIN then blocks the key).
    #[arg(long)]
    pub allow_last_pin_attempt: bool,
}

/// Options of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub device: DeviceArgs,
    #[command(flatten)]
    pub computer: DescribedComputer,
    #[command(flatten)]
    pub pin: PinArgs,
}

/// Options of `report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Device: hid:PATH, udp:HOST:PORT[,listen=HOST:PORT] or sim:SCENARIO.
    #[arg(long, value_name = "DEVICE")]
    pub device: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
    pub format: ReportFormat,
    /// Remove serial numbers, device paths, host and user names.
    #[arg(long)]
    pub redact: bool,
    /// Write to this file instead of standard output (the exit code still tells the verdict).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub computer: DescribedComputer,
    #[command(flatten)]
    pub pin: PinArgs,
}

/// Report formats.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ReportFormat {
    /// Markdown, for a ticket.
    Md,
    /// JSON (schema in docs/report-schema.md).
    Json,
}

/// Options of `simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Scenario to serve (see `fido-doctor scenarios`).
    #[arg(long, default_value = "modern")]
    pub scenario: String,
    /// Address the simulated key listens on.
    #[arg(long, default_value = "127.0.0.1:8111")]
    pub listen: std::net::SocketAddr,
    /// Address replies are sent to.
    #[arg(long, default_value = "127.0.0.1:7112")]
    pub reply: std::net::SocketAddr,
    /// Reply to the address each request came from instead of --reply.
    #[arg(long)]
    pub reply_to_sender: bool,
    /// Touch the key automatically whenever it asks for presence (unattended runs).
    #[arg(long)]
    pub auto_touch: bool,
    /// Be an NFC card in vsmartcard's virtual PC/SC reader instead of serving UDP
    /// (connects to vpcd, default 127.0.0.1:35963).
    #[arg(long, value_name = "HOST:PORT", num_args = 0..=1, default_missing_value = "127.0.0.1:35963")]
    pub vpcd: Option<std::net::SocketAddr>,
}

fn parse_os(s: &str) -> Result<OsFamily, String> {
    OsFamily::parse(s).ok_or_else(|| {
        let ids: Vec<_> = OsFamily::ALL.iter().map(|o| o.id()).collect();
        format!("unknown OS {s:?} (one of {})", ids.join(", "))
    })
}

fn parse_browser(s: &str) -> Result<BrowserId, String> {
    BrowserId::parse(s).ok_or_else(|| {
        let ids: Vec<_> = BrowserId::ALL.iter().map(|b| b.id()).collect();
        format!("unknown browser {s:?} (one of {})", ids.join(", "))
    })
}

fn parse_lang(s: &str) -> Result<Lang, String> {
    Lang::parse(s).ok_or_else(|| format!("unknown language {s:?} (use en or ja)"))
}

impl Global {
    /// The language chosen on the command line or from the environment.
    pub fn lang(&self) -> Lang {
        self.lang
            .unwrap_or_else(|| Lang::detect(|k| std::env::var(k).ok()))
    }

    /// Where content is read from.
    pub fn source(&self) -> ContentSource {
        match &self.content {
            Some(dir) => ContentSource::Dir(dir.clone()),
            None => ContentSource::Embedded,
        }
    }
}

/// Exit code of a usage error: 64 (BSD's EX_USAGE), since clap's default 2
/// means "failures" here.
pub const EXIT_USAGE: u8 = 64;
/// Exit code when the check could not run.
pub const EXIT_COULD_NOT_RUN: u8 = 3;

/// Entry point used by `main`.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout; a closed pipe is not an error.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("fido-doctor: {err:#}");
            ExitCode::from(EXIT_COULD_NOT_RUN)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    use crate::commands::{diagnose, guide, keycare, keys, reset_key, simulate};
    let (source, lang) = (cli.global.source(), cli.global.lang());
    match &cli.command {
        Some(Command::Check(a)) => diagnose::check(a, &source, lang),
        Some(Command::Report(a)) => diagnose::report(a, &source, lang),
        Some(Command::List(a)) => keys::list(a.json, &Texts::load(&source, lang)?),
        Some(Command::Info(a)) => {
            keys::info(a.device.as_deref(), a.json, &Texts::load(&source, lang)?)
        }
        Some(Command::Probe(a)) => {
            if crate::commands::webauthn::selected(a.device.device.as_deref()) {
                return crate::commands::webauthn::probe(
                    a.device.json,
                    &Texts::load(&source, lang)?,
                );
            }
            keys::probe(
                a.device.device.as_deref(),
                a.pin,
                a.device.json,
                &Texts::load(&source, lang)?,
            )
        }
        Some(Command::Simulate(a)) => simulate::simulate(a),
        Some(Command::Scenarios(a)) => simulate::scenarios(a.json),
        Some(Command::Pin(PinCommand::Set(a))) => keycare::pin_set(a),
        Some(Command::Pin(PinCommand::Change(a))) => keycare::pin_change(a),
        Some(Command::ResetKey(a)) => reset_key::reset_key(a),
        Some(Command::Credentials(a)) => keycare::credentials(a),
        Some(Command::Guide(a)) if a.print => guide::print(&source, lang, a.width),
        Some(Command::Tui(a)) => guide::tui(&source, lang, cli.global.ascii, a.device.as_deref()),
        Some(Command::Guide(_)) | None => {
            guide::tui(&source, lang, cli.global.ascii, cli.device.as_deref())
        }
    }
}
