//! `simulate` and `scenarios`: serving a simulated key over UDP, and listing
//! the scenarios it can play.

use std::io::BufRead;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use fido_doctor::sim::udp::{self, UdpOptions};
use fido_doctor::sim::{self, AutoTouch, Presence, PresenceButton};

use crate::cli::SimulateArgs;

/// `fido-doctor simulate`: serves until Ctrl-C.
pub fn simulate(args: &SimulateArgs) -> anyhow::Result<ExitCode> {
    let scenario = sim::scenario::find(&args.scenario).with_context(|| {
        format!(
            "no scenario {:?}; known: {}",
            args.scenario,
            fido_doctor::device::scenario_names().join(", ")
        )
    })?;
    let presence: Box<dyn Presence> = if args.auto_touch {
        Box::new(AutoTouch)
    } else {
        // Each Enter on stdin is one touch of the simulated key.
        let (button, press) = PresenceButton::new();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                if line.is_err() || press.send(()).is_err() {
                    break;
                }
            }
        });
        Box::new(button)
    };
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .context("installing the Ctrl-C handler")?;
    let opts = UdpOptions {
        listen: args.listen,
        reply: Some(args.reply),
        reply_to_sender: args.reply_to_sender,
    };
    eprintln!(
        "simulating {:?} ({}) on udp {}, replies to {}; {}; Ctrl-C stops",
        scenario.name,
        scenario.summary,
        args.listen,
        if args.reply_to_sender {
            "the sender".to_string()
        } else {
            args.reply.to_string()
        },
        if args.auto_touch {
            "touches happen automatically"
        } else {
            "press Enter to touch the key"
        }
    );
    udp::serve(scenario, presence, opts, stop).context("serving the simulator")?;
    eprintln!("simulator stopped");
    Ok(ExitCode::SUCCESS)
}

/// `fido-doctor scenarios`.
pub fn scenarios(json: bool) -> anyhow::Result<ExitCode> {
    let all = sim::scenario::all();
    if json {
        let rows: Vec<_> = all
            .iter()
            .map(|s| serde_json::json!({ "name": s.name, "summary": s.summary, "device": format!("sim:{}", s.name) }))
            .collect();
        super::out_line(&serde_json::to_string_pretty(&rows)?)?;
    } else {
        for s in all {
            super::out_line(&format!("sim:{:<18} {}", s.name, s.summary))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
