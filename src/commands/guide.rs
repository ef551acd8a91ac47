//! The terminal UI and `guide --print`.

use std::process::ExitCode;

use anyhow::Context;
use fido_doctor::content::guide::Content;
use fido_doctor::content::{ContentSource, Lang};
use fido_doctor::tui::{self, TuiOptions};

fn load(source: &ContentSource, lang: Lang) -> anyhow::Result<Content> {
    Content::load(source, lang).with_context(|| match source {
        ContentSource::Embedded => "loading the built-in content".to_string(),
        ContentSource::Dir(d) => format!("loading content from {}", d.display()),
    })
}

/// Opens the terminal UI; `device` (`--device`) is listed, selected and
/// shown first.
pub fn tui(
    source: &ContentSource,
    lang: Lang,
    ascii: bool,
    device: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let content = load(source, lang)?;
    if let Some(d) = device {
        d.parse::<fido_doctor::transport::DeviceSpec>()
            .with_context(|| format!("--device {d}"))?;
    }
    let options = TuiOptions {
        ascii,
        device: device.map(str::to_string),
        source: source.clone(),
        ..TuiOptions::default()
    };
    tui::run(content, options).context("running the terminal UI")?;
    Ok(ExitCode::SUCCESS)
}

/// `fido-doctor guide --print`.
pub fn print(source: &ContentSource, lang: Lang, width: u16) -> anyhow::Result<ExitCode> {
    let content = load(source, lang)?;
    let matrix = fido_doctor::content::compat::CompatMatrix::load(source)
        .context("loading the OS x browser table")?;
    super::out(&tui::print::guide_text_with(
        &content,
        Some(&matrix),
        usize::from(width.max(20)),
    ))?;
    Ok(ExitCode::SUCCESS)
}
