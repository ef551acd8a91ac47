//! The software FIDO authenticator ("simulator"): the device side of CTAPHID,
//! CTAP2.1 and U2F as a pure state machine ([`ctaphid::Device`]) plus thin runners
//! (in-process threads for `sim:NAME`, UDP for `fido-doctor simulate`).
//! Depends only on [`crate::transport`].

mod cbor;
mod client_pin;
mod crypto;
mod ctap2;
pub mod ctaphid;
pub mod model;
pub mod nfc_card;
mod pin;
pub mod presence;
pub mod scenario;
pub mod status;
mod u2f;
pub mod udp;
pub mod vpcd;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::transport::inproc::{self, InProcPeer, InProcTransport};

pub use presence::{AfterDelay, AutoTouch, Never, Presence, PresenceButton, PresenceState, Refuse};
pub use scenario::Scenario;

/// What can go wrong running the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Building the attestation certificates failed.
    #[error("cannot build the attestation certificate: {0}")]
    Certificate(String),
    /// A socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Other socket I/O failed.
    #[error("simulator I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs a [`ctaphid::Device`] on a thread behind an in-process transport.
/// Stops when [`SimHandle::stop`] is called, the handle is dropped, the
/// client end is dropped, or the scenario "unplugs" the key.
pub struct SimHandle {
    stop: Arc<AtomicBool>,
    replug: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    ca_der: Vec<u8>,
}

impl SimHandle {
    /// Stops the simulator thread and waits for it (at most one poll interval).
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// DER of the simulator's test CA, the root of its attestation
    /// certificate (empty if the simulator failed to start).
    pub fn attestation_ca(&self) -> &[u8] {
        &self.ca_der
    }

    /// Unplugs the simulated key and plugs it in again: stored state stays,
    /// the reset window starts again (see [`ctaphid::Device::replug`]).
    /// Clients must open a new channel afterwards.
    pub fn replug(&self) {
        self.replug.store(true, Ordering::Relaxed);
    }

    /// True while the simulator thread runs.
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Longest the in-process runner blocks before checking for stop.
const IDLE_POLL: Duration = Duration::from_millis(50);

/// Starts `scenario` on a thread; the transport is named `sim:NAME`.
pub fn try_spawn_inproc(
    scenario: &Scenario,
    presence: Box<dyn Presence>,
) -> Result<(InProcTransport, SimHandle), SimError> {
    let device = ctaphid::Device::new(scenario, presence)?;
    let ca_der = device.attestation_ca().to_vec();
    let (client, peer) = inproc::pair(format!("sim:{}", scenario.name));
    let stop = Arc::new(AtomicBool::new(false));
    let replug = Arc::new(AtomicBool::new(false));
    let flags = (Arc::clone(&stop), Arc::clone(&replug));
    let thread = std::thread::Builder::new()
        .name(format!("sim-{}", scenario.name))
        .spawn(move || run_inproc(device, peer, &flags.0, &flags.1))?;
    Ok((
        client,
        SimHandle {
            stop,
            replug,
            thread: Some(thread),
            ca_der,
        },
    ))
}

/// Like [`try_spawn_inproc`]; if the device cannot start (no thread, no
/// certificate) the transport reports `Gone` at once.
pub fn spawn_inproc(
    scenario: &Scenario,
    presence: Box<dyn Presence>,
) -> (InProcTransport, SimHandle) {
    match try_spawn_inproc(scenario, presence) {
        Ok(pair) => pair,
        Err(_) => {
            let (client, _peer) = inproc::pair(format!("sim:{}", scenario.name));
            (
                client,
                SimHandle {
                    stop: Arc::new(AtomicBool::new(true)),
                    replug: Arc::new(AtomicBool::new(false)),
                    thread: None,
                    ca_der: Vec::new(),
                },
            )
        }
    }
}

fn run_inproc(
    mut device: ctaphid::Device,
    peer: InProcPeer,
    stop: &AtomicBool,
    replug: &AtomicBool,
) {
    while !stop.load(Ordering::Relaxed) && !device.is_gone() {
        if replug.swap(false, Ordering::Relaxed) {
            device.replug(Instant::now());
        }
        let wait = device
            .next_wake(Instant::now())
            .unwrap_or(IDLE_POLL)
            .clamp(Duration::from_millis(1), IDLE_POLL);
        let mut out = match peer.rx.recv_timeout(wait) {
            Ok(r) => device.handle_report(&r, Instant::now()),
            Err(RecvTimeoutError::Timeout) => Vec::new(),
            Err(RecvTimeoutError::Disconnected) => return,
        };
        out.extend(device.tick(Instant::now()));
        for r in out {
            if peer.tx.send(r).is_err() {
                return;
            }
        }
    }
}
