//! Runs a simulated key behind a UDP socket using the convention of existing
//! FIDO simulators: one datagram = one 64-byte report (no report-ID byte);
//! listen on 127.0.0.1:8111, answer to 127.0.0.1:7112.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::transport::{REPORT_LEN, Report};

use super::SimError;
use super::ctaphid::Device;
use super::presence::Presence;
use super::scenario::Scenario;

/// Longest the server blocks before checking `stop` again.
const IDLE_POLL: Duration = Duration::from_millis(50);

/// Where the UDP simulator listens and answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpOptions {
    /// Address to bind (default 127.0.0.1:8111).
    pub listen: SocketAddr,
    /// Where to send answers (default 127.0.0.1:7112); `None` = to the sender.
    pub reply: Option<SocketAddr>,
    /// Answer to whoever sent the last report, ignoring `reply`.
    pub reply_to_sender: bool,
}

impl Default for UdpOptions {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8111)),
            reply: Some(SocketAddr::from(([127, 0, 0, 1], 7112))),
            reply_to_sender: false,
        }
    }
}

/// A bound UDP simulator, ready to [`run`](UdpServer::run).
pub struct UdpServer {
    socket: UdpSocket,
    device: Device,
    opts: UdpOptions,
    replug: Arc<AtomicBool>,
}

impl UdpServer {
    /// Powers up the device and binds `opts.listen`.
    pub fn bind(
        scenario: &Scenario,
        presence: Box<dyn Presence>,
        opts: UdpOptions,
    ) -> Result<Self, SimError> {
        let device = Device::new(scenario, presence)?;
        let socket = UdpSocket::bind(opts.listen).map_err(|source| SimError::Bind {
            addr: opts.listen,
            source,
        })?;
        Ok(Self {
            socket,
            device,
            opts,
            replug: Arc::new(AtomicBool::new(false)),
        })
    }

    /// A flag that, once set, unplugs the simulated key and plugs it in
    /// again (see [`Device::replug`]); the server clears it.
    pub fn replug_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.replug)
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, SimError> {
        Ok(self.socket.local_addr()?)
    }

    /// DER of the simulator's test CA (root of the attestation chain).
    pub fn attestation_ca(&self) -> &[u8] {
        self.device.attestation_ca()
    }

    /// Serves until `stop` becomes true. After an `unplugged` scenario's
    /// device disappears, the server stays silent until stopped.
    pub fn run(mut self, stop: &AtomicBool) -> Result<(), SimError> {
        let mut buf = [0u8; 2048];
        let mut peer: Option<SocketAddr> = None;
        while !stop.load(Ordering::Relaxed) {
            if self.replug.swap(false, Ordering::Relaxed) {
                self.device.replug(Instant::now());
            }
            let now = Instant::now();
            let wait = self
                .device
                .next_wake(now)
                .unwrap_or(IDLE_POLL)
                .clamp(Duration::from_millis(1), IDLE_POLL);
            self.socket.set_read_timeout(Some(wait))?;
            let mut out = match self.socket.recv_from(&mut buf) {
                Ok((n, from)) => {
                    peer = Some(from);
                    match report_from(buf.get(..n).unwrap_or_default()) {
                        Some(r) => self.device.handle_report(&r, Instant::now()),
                        None => Vec::new(),
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    Vec::new()
                }
                // e.g. Windows reports an earlier ICMP "port unreachable" here: keep serving.
                Err(_) => Vec::new(),
            };
            out.extend(self.device.tick(Instant::now()));
            let dest = match (self.opts.reply_to_sender, self.opts.reply) {
                (false, Some(addr)) => Some(addr),
                _ => peer,
            };
            if let Some(dest) = dest {
                for r in &out {
                    // The client may not be listening yet; UDP drops are like a lost report.
                    let _ = self.socket.send_to(r, dest);
                }
            }
        }
        Ok(())
    }
}

/// A datagram as a report: exactly 64 bytes, or 65 with a leading zero report id.
fn report_from(d: &[u8]) -> Option<Report> {
    let body = match d.len() {
        REPORT_LEN => d,
        n if n == REPORT_LEN + 1 && d.first() == Some(&0) => d.get(1..)?,
        _ => return None,
    };
    body.try_into().ok()
}

/// Binds `opts.listen` and serves `scenario` until `stop` is set.
pub fn serve(
    scenario: &Scenario,
    presence: Box<dyn Presence>,
    opts: UdpOptions,
    stop: Arc<AtomicBool>,
) -> Result<(), SimError> {
    UdpServer::bind(scenario, presence, opts)?.run(&stop)
}
