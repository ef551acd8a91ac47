//! The command implementations behind [`crate::cli`]; they decide what is
//! printed, the library only returns data.

pub mod diagnose;
pub mod guide;
pub mod keycare;
pub mod keys;
pub mod nfc;
pub mod pin;
pub mod reset_key;
pub mod simulate;
pub mod webauthn;

use std::io::Write;

/// Writes `text` to standard output. A reader that went away (`| head -1`)
/// is not an error: the rest of the output is dropped quietly and the
/// command still ends with its own exit code. Other write errors are returned.
pub fn out(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// [`out`] with a line end.
pub fn out_line(text: &str) -> std::io::Result<()> {
    out(&format!("{text}\n"))
}
