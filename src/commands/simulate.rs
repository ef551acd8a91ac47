//! `simulate` and `scenarios`: serving a simulated key over UDP, and listing
//! the scenarios it can play.

use std::io::BufRead;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use fido_doctor::sim::scenario::aaguid_string;
use fido_doctor::sim::udp::{UdpOptions, UdpServer};
use fido_doctor::sim::{self, AutoTouch, Presence, PresenceButton, model};

use crate::cli::SimulateArgs;

/// `fido-doctor simulate`: serves until Ctrl-C.
pub fn simulate(args: &SimulateArgs) -> anyhow::Result<ExitCode> {
    let scenario =
        sim::scenario::find(&args.scenario).with_context(|| unknown_scenario(&args.scenario))?;
    let (button, press) = PresenceButton::new();
    let presence: Box<dyn Presence> = if args.auto_touch {
        Box::new(AutoTouch)
    } else {
        Box::new(button)
    };
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .context("installing the Ctrl-C handler")?;
    if let Some(addr) = args.vpcd {
        return super::nfc::simulate_vpcd(scenario, presence, addr, &stop, args.auto_touch);
    }
    let opts = UdpOptions {
        listen: args.listen,
        reply: Some(args.reply),
        reply_to_sender: args.reply_to_sender,
    };
    eprintln!(
        "simulating {:?} ({}) on udp {}, replies to {}; {}; type \"replug\" + Enter to re-plug; Ctrl-C stops",
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
    let server = UdpServer::bind(scenario, presence, opts).context("starting the simulator")?;
    // Each line on stdin is one touch of the simulated key; the line
    // "replug" unplugs the key and plugs it in again.
    let replug = server.replug_flag();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if line.trim() == "replug" {
                replug.store(true, Ordering::SeqCst);
            } else if press.send(()).is_err() {
                break;
            }
        }
    });
    server.run(&stop).context("serving the simulator")?;
    eprintln!("simulator stopped");
    Ok(ExitCode::SUCCESS)
}

/// Why `name` is no scenario, with what would be.
fn unknown_scenario(name: &str) -> String {
    let Some(query) = name.strip_prefix(sim::scenario::MODEL_PREFIX) else {
        return format!(
            "no scenario {name:?}; known: {}, or model:AAGUID",
            fido_doctor::device::scenario_names().join(", ")
        );
    };
    let hits = model::matching(query);
    if hits.is_empty() {
        return format!(
            "no hardware model {query:?} in the FIDO metadata (BLOB {}); give its AAGUID or part of its name",
            model::blob_number()
        );
    }
    let shown: Vec<String> = hits
        .iter()
        .take(8)
        .map(|m| format!("{} ({})", m.description, aaguid_string(&m.aaguid)))
        .collect();
    format!(
        "{query:?} fits {} models; give the AAGUID or more of the name: {}{}",
        hits.len(),
        shown.join("; "),
        if hits.len() > shown.len() {
            "; …"
        } else {
            ""
        }
    )
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
            super::out_line(&format!("sim:{:<20} {}", s.name, s.summary))?;
        }
        super::out_line(&format!(
            "sim:model:AAGUID|NAME  any of the {} hardware models in the FIDO metadata (BLOB {}), \
             with the GetInfo its maker declared; PIN 1234 when it declares one",
            model::models().len(),
            model::blob_number()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
