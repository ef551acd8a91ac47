//! fido-doctor binary: parses the command line and hands over to [`cli`].

mod cli;
mod commands;

fn main() -> std::process::ExitCode {
    cli::main()
}
