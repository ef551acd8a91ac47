//! [`NfcTransport`]: an NFC key made to look like a CTAPHID device, so the
//! same client, probe, verification and verdict run over NFC as over USB.
//!
//! The host side speaks CTAPHID in 64-byte reports (the [`Transport`]
//! trait); the card side speaks APDUs ([`ApduLink`]). Requests are put
//! together with the pure framing of [`crate::ctap::ctaphid::packet`] and
//! then:
//! - CTAPHID_INIT is answered here, without the card. **Its version fields
//!   are synthesized for NFC** (protocol version 2, device version 0.0.0:
//!   a card has no CTAPHID layer to ask); the capability flags come from the
//!   applet: CBOR when it speaks CTAP2 ("FIDO_2_0", or "U2F_V2" that also
//!   answers authenticatorGetInfo), NMSG when it speaks no U2F ("FIDO_2_0").
//! - CTAPHID_CBOR becomes NFCCTAP_MSG; while the card answers 0x9100 the
//!   transport sends KEEPALIVE reports upward with the card's status, so
//!   touch prompts work; CTAPHID_CANCEL stops the polling and answers
//!   CTAP2_ERR_KEEPALIVE_CANCEL.
//! - CTAPHID_MSG becomes the U2F APDU itself.
//! - PING is echoed, LOCK accepted; anything else gets a CTAPHID ERROR.
//!
//! The card is driven on a worker thread so keep-alives reach the client
//! while a request is outstanding. A card taken off the reader surfaces as
//! [`TransportError::Gone`] from [`Transport::recv`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::apdu::{ApduLink, AppletVersion, Length, Poll};
use crate::ctap::CtapError;
use crate::ctap::ctaphid::packet::{BROADCAST_CID, MAX_MESSAGE, Reassembler, Step, cmd, fragment};
use crate::ctap::status::CtapStatus;
use crate::transport::card::SmartCard;
use crate::transport::{Report, Transport, TransportError};

/// CTAPHID protocol version reported by the synthesized INIT answer.
pub const SYNTH_PROTOCOL_VERSION: u8 = 2;
/// Device version reported by the synthesized INIT answer (unknown over NFC).
pub const SYNTH_DEVICE_VERSION: [u8; 3] = [0, 0, 0];
/// Longest the card is polled for one CTAP2 request (the client gives up sooner).
pub const CARD_DEADLINE: Duration = Duration::from_secs(120);

const CAP_CBOR: u8 = 0x04;
const CAP_NMSG: u8 = 0x08;
const ERR_INVALID_CMD: u8 = 0x01;
const ERR_INVALID_LEN: u8 = 0x03;
const ERR_INVALID_SEQ: u8 = 0x04;
const ERR_CHANNEL_BUSY: u8 = 0x06;
const ERR_OTHER: u8 = 0x7F;

/// What the FIDO applet on a card can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppletInfo {
    /// The SELECT answer.
    pub version: AppletVersion,
    /// It answers CTAP2 (NFCCTAP_MSG).
    pub ctap2: bool,
    /// It answers U2F APDUs.
    pub u2f: bool,
}

impl AppletInfo {
    /// The CTAPHID capability byte that describes this applet.
    pub fn capabilities(&self) -> u8 {
        (if self.ctap2 { CAP_CBOR } else { 0 }) | (if self.u2f { 0 } else { CAP_NMSG })
    }
}

/// Turns a client-layer error met while opening a card into a transport error.
fn open_error(name: &str, e: CtapError) -> TransportError {
    match e {
        CtapError::Transport(t) => t,
        CtapError::U2f { sw } => TransportError::NotFound(format!(
            "{name}: the card on the reader is not a FIDO security key (no FIDO applet, SW {sw:04X})"
        )),
        other => TransportError::Io {
            path: name.to_string(),
            source: std::io::Error::other(other.to_string()),
        },
    }
}

/// Selects the FIDO applet on `link` and finds out whether it speaks CTAP2
/// (a "U2F_V2" applet is asked for authenticatorGetInfo; it is CTAP2-capable
/// when that answers). Errors: [`CtapError::U2f`] carries the status word
/// when there is no FIDO applet.
pub fn identify<C: SmartCard>(link: &mut ApduLink<C>) -> Result<AppletInfo, CtapError> {
    match link.select_fido()? {
        AppletVersion::Fido2 => Ok(AppletInfo {
            version: AppletVersion::Fido2,
            ctap2: true,
            u2f: false,
        }),
        AppletVersion::U2fV2 => {
            let deadline = Instant::now() + Duration::from_secs(5);
            let ctap2 = match link.nfcctap(&[0x04], deadline, &mut |_| Poll::Continue) {
                Ok(answer) => answer.first() == Some(&0),
                Err(CtapError::U2f { .. }) => {
                    // Some U2F applets forget the selection after an unknown INS.
                    link.select_fido()?;
                    false
                }
                Err(e) => return Err(e),
            };
            Ok(AppletInfo {
                version: AppletVersion::U2fV2,
                ctap2,
                u2f: true,
            })
        }
    }
}

enum Job {
    Cbor(u32, Vec<u8>),
    Msg(u32, Vec<u8>),
}

type Out = Result<Report, TransportError>;

/// An NFC key as a CTAPHID [`Transport`] (see the module documentation).
pub struct NfcTransport {
    name: String,
    applet: AppletInfo,
    jobs: Option<Sender<Job>>,
    out_tx: Sender<Out>,
    out_rx: Receiver<Out>,
    assembly: Option<Reassembler>,
    busy: Arc<AtomicBool>,
    cancel: Arc<AtomicBool>,
    next_cid: AtomicU32,
    gone: Option<String>,
    worker: Option<JoinHandle<()>>,
}

impl NfcTransport {
    /// Selects the FIDO applet on `card` and starts serving CTAPHID for it.
    /// A card without a FIDO applet is [`TransportError::NotFound`].
    pub fn open<C: SmartCard + 'static>(card: C, length: Length) -> Result<Self, TransportError> {
        let name = card.name();
        let mut link = ApduLink::new(card, length);
        let applet = identify(&mut link).map_err(|e| open_error(&name, e))?;
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (out_tx, out_rx) = mpsc::channel::<Out>();
        let busy = Arc::new(AtomicBool::new(false));
        let cancel = Arc::new(AtomicBool::new(false));
        let worker = {
            let (out, busy, cancel) = (out_tx.clone(), Arc::clone(&busy), Arc::clone(&cancel));
            std::thread::Builder::new()
                .name("nfc-card".into())
                .spawn(move || work(link, &job_rx, &out, &busy, &cancel))
                .map_err(|e| TransportError::Io {
                    path: name.clone(),
                    source: e,
                })?
        };
        Ok(NfcTransport {
            name,
            applet,
            jobs: Some(jobs),
            out_tx,
            out_rx,
            assembly: None,
            busy,
            cancel,
            next_cid: AtomicU32::new(1),
            gone: None,
            worker: Some(worker),
        })
    }

    /// What the applet said it can do.
    pub fn applet(&self) -> AppletInfo {
        self.applet
    }

    fn reply(&self, cid: u32, command: u8, data: &[u8]) {
        match fragment(cid, command, data) {
            Ok(reports) => {
                for r in reports {
                    let _ = self.out_tx.send(Ok(r));
                }
            }
            Err(_) => self.error(cid, ERR_OTHER),
        }
    }

    fn error(&self, cid: u32, code: u8) {
        self.reply(cid, cmd::ERROR, &[code]);
    }

    fn handle(&mut self, channel: u32, command: u8, data: Vec<u8>) {
        match command {
            cmd::INIT => {
                if data.len() != 8 {
                    return self.error(channel, ERR_INVALID_LEN);
                }
                let cid = if channel == BROADCAST_CID {
                    self.next_cid.fetch_add(1, Ordering::Relaxed)
                } else {
                    channel
                };
                let mut answer = data;
                answer.extend_from_slice(&cid.to_be_bytes());
                answer.push(SYNTH_PROTOCOL_VERSION);
                answer.extend_from_slice(&SYNTH_DEVICE_VERSION);
                answer.push(self.applet.capabilities());
                self.reply(channel, cmd::INIT, &answer);
            }
            _ if channel == BROADCAST_CID || channel == 0 => self.error(channel, 0x0B),
            cmd::PING => self.reply(channel, cmd::PING, &data),
            cmd::LOCK => self.reply(channel, cmd::LOCK, &[]),
            cmd::CANCEL => self.cancel.store(true, Ordering::SeqCst),
            cmd::CBOR | cmd::MSG => {
                let supported = if command == cmd::CBOR {
                    self.applet.ctap2
                } else {
                    self.applet.u2f
                };
                if !supported {
                    return self.error(channel, ERR_INVALID_CMD);
                }
                if self.busy.swap(true, Ordering::SeqCst) {
                    return self.error(channel, ERR_CHANNEL_BUSY);
                }
                self.cancel.store(false, Ordering::SeqCst);
                let job = if command == cmd::CBOR {
                    Job::Cbor(channel, data)
                } else {
                    Job::Msg(channel, data)
                };
                if self.jobs.as_ref().is_none_or(|j| j.send(job).is_err()) {
                    let _ = self
                        .out_tx
                        .send(Err(TransportError::Gone(self.name.clone())));
                }
            }
            _ => self.error(channel, ERR_INVALID_CMD),
        }
    }
}

impl Transport for NfcTransport {
    fn send(&mut self, report: &Report) -> Result<(), TransportError> {
        if let Some(g) = &self.gone {
            return Err(TransportError::Gone(g.clone()));
        }
        if report[4] & 0x80 != 0 {
            let channel = u32::from_be_bytes([report[0], report[1], report[2], report[3]]);
            self.assembly = Some(Reassembler::new(channel, MAX_MESSAGE));
        }
        let Some(asm) = self.assembly.as_mut() else {
            return Ok(()); // a stray continuation packet: ignored, as a device would
        };
        let channel = asm.channel();
        match asm.push_step(report) {
            Ok(Step::Complete(m)) => {
                self.assembly = None;
                self.handle(m.channel, m.cmd, m.data);
            }
            Ok(Step::Partial | Step::Ignored) => {}
            Err(e) => {
                self.assembly = None;
                let code = match e {
                    CtapError::BadSequence { .. } => ERR_INVALID_SEQ,
                    CtapError::Oversized { .. } => ERR_INVALID_LEN,
                    _ => ERR_OTHER,
                };
                self.error(channel, code);
            }
        }
        Ok(())
    }

    fn recv(&mut self, timeout: Duration) -> Result<Report, TransportError> {
        if let Some(g) = &self.gone {
            return Err(TransportError::Gone(g.clone()));
        }
        match self.out_rx.recv_timeout(timeout) {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => {
                if let TransportError::Gone(g) = &e {
                    self.gone = Some(g.clone());
                }
                Err(e)
            }
            Err(RecvTimeoutError::Timeout) => Err(TransportError::Timeout(timeout)),
            Err(RecvTimeoutError::Disconnected) => Err(TransportError::Gone(self.name.clone())),
        }
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

impl Drop for NfcTransport {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::SeqCst);
        self.jobs = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

fn send_all(out: &Sender<Out>, cid: u32, command: u8, data: &[u8]) {
    let reports = fragment(cid, command, data)
        .or_else(|_| fragment(cid, cmd::ERROR, &[ERR_INVALID_LEN]))
        .unwrap_or_default();
    for r in reports {
        let _ = out.send(Ok(r));
    }
}

/// The worker: one request at a time against the card.
fn work<C: SmartCard>(
    mut link: ApduLink<C>,
    jobs: &Receiver<Job>,
    out: &Sender<Out>,
    busy: &AtomicBool,
    cancel: &AtomicBool,
) {
    while let Ok(job) = jobs.recv() {
        let (cid, command, result) = match job {
            Job::Cbor(cid, data) => {
                let mut on_wait = |status: u8| {
                    if cancel.load(Ordering::SeqCst) {
                        return Poll::Cancel;
                    }
                    if let Ok(ka) = fragment(cid, cmd::KEEPALIVE, &[status]) {
                        for r in ka {
                            let _ = out.send(Ok(r));
                        }
                    }
                    Poll::Continue
                };
                let r = link.nfcctap(&data, Instant::now() + CARD_DEADLINE, &mut on_wait);
                (cid, cmd::CBOR, r)
            }
            Job::Msg(cid, data) => (cid, cmd::MSG, link.u2f(&data).map(|r| r.to_bytes())),
        };
        busy.store(false, Ordering::SeqCst);
        match result {
            Ok(answer) => send_all(out, cid, command, &answer),
            Err(CtapError::Cancelled) => {
                send_all(out, cid, cmd::CBOR, &[CtapStatus::KeepaliveCancel.code()]);
            }
            Err(CtapError::Transport(e)) => {
                let gone = matches!(e, TransportError::Gone(_));
                let _ = out.send(Err(e));
                if gone {
                    return;
                }
            }
            // The applet refused the instruction (6D00, 6E00, …).
            Err(CtapError::U2f { .. }) => send_all(out, cid, cmd::ERROR, &[ERR_INVALID_CMD]),
            Err(_) => send_all(out, cid, cmd::ERROR, &[ERR_OTHER]),
        }
    }
}

#[cfg(test)]
#[path = "bridge_tests.rs"]
mod tests;
