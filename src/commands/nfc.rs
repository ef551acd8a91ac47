//! NFC on the command line: the readers part of `list`, and `simulate
//! --vpcd` (the simulator as a card in vsmartcard's virtual reader).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use fido_doctor::sim::vpcd::{self, Ended};
use fido_doctor::sim::{Presence, Scenario};
use fido_doctor::transport::pcsc::{self, PcscState};

/// The readers section of `list`, as text.
pub fn describe_readers(state: &PcscState) -> String {
    let mut s = String::new();
    match state {
        PcscState::NotBuilt => {
            let _ = writeln!(s, "{}.", pcsc::NOT_BUILT);
        }
        PcscState::ServiceDown { detail } => {
            let _ = writeln!(
                s,
                "NFC readers: the PC/SC service is not running ({detail}); on Linux start pcscd."
            );
        }
        PcscState::Ready { readers } if readers.is_empty() => {
            let _ = writeln!(s, "No NFC/smart-card reader found (PC/SC).");
        }
        PcscState::Ready { readers } => {
            for r in readers {
                let _ = writeln!(
                    s,
                    "{}  {}",
                    r.spec(),
                    if r.card_present {
                        "a card or NFC key is on the reader"
                    } else {
                        "no card on the reader"
                    }
                );
            }
        }
    }
    s
}

/// `fido-doctor simulate --vpcd`.
pub fn simulate_vpcd(
    scenario: &'static Scenario,
    presence: Box<dyn Presence>,
    addr: SocketAddr,
    stop: &AtomicBool,
    auto_touch: bool,
) -> anyhow::Result<ExitCode> {
    eprintln!(
        "simulating {:?} ({}) as an NFC card in the vpcd reader at {addr}; {}; Ctrl-C stops",
        scenario.name,
        scenario.summary,
        if auto_touch {
            "touches happen automatically"
        } else {
            "press Enter to touch the key"
        }
    );
    let ended = vpcd::serve(scenario, presence, addr, stop).context("serving the NFC card")?;
    eprintln!(
        "{}",
        match ended {
            Ended::Stopped => "simulator stopped",
            Ended::Closed => "vpcd closed the connection (pcscd stopped?); simulator stopped",
            Ended::CardRemoved => "the card was taken off the reader; simulator stopped",
        }
    );
    Ok(ExitCode::SUCCESS)
}
