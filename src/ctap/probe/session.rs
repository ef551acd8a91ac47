//! The client layer's session: probe settings, the open CTAPHID connection
//! with what this probe learned on the way (a PIN proven correct, whether a
//! PIN was submitted), progress events, and reading what the key says about
//! itself (GetInfo / U2F VERSION and the retry counters).

use std::time::{Duration, Instant};

use super::failure::ProbeError;
use super::interaction::UserInteraction;
use super::report::{KeyKind, KeyReport, Stage, UvFallback};
use crate::ctap::ctap2::client_pin::{self, ClientPinResponse};
use crate::ctap::ctap2::pin_protocol::{Pin, PinProtocolVersion};
use crate::ctap::ctap2::{
    Assertion, ClientPinRequest, GetInfoRequest, GetNextAssertionRequest, SelectionRequest,
};
use crate::ctap::ctaphid::{CancelHandle, CtapHid, HidEvent, HidOptions};
use crate::ctap::error::CtapError;
use crate::ctap::u2f;
use crate::transport::Transport;

/// Relying party id used by probes: `.invalid` is reserved (RFC 2606), so the
/// credential can never be confused with one for a real service.
pub const DEFAULT_RP_ID: &str = "fido-doctor.invalid";

/// When to ask for user verification (WebAuthn's `userVerification`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UvRequirement {
    /// Always; fail when the key cannot verify the user.
    Required,
    /// When the key has a PIN set or built-in UV ready (the default, and
    /// what a sign-in that needs UV finds out about a key).
    #[default]
    Preferred,
    /// Only when the key insists (`alwaysUv`, or a PIN set without
    /// `makeCredUvNotRqd` when registering).
    Discouraged,
}

/// Probe settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOptions {
    /// CTAPHID timeouts.
    pub hid: HidOptions,
    /// Relying party id for the test credential (default [`DEFAULT_RP_ID`]).
    pub rp_id: String,
    /// Longest wait for the user to touch the key, per stage (default 30 s).
    pub touch_timeout: Duration,
    /// When user verification is asked for.
    pub user_verification: UvRequirement,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        Self {
            hid: HidOptions::default(),
            rp_id: DEFAULT_RP_ID.to_owned(),
            touch_timeout: Duration::from_secs(30),
            user_verification: UvRequirement::default(),
        }
    }
}

/// Progress reported while a probe runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeEvent {
    /// A stage starts.
    Stage(Stage),
    /// The key reports it is working (KEEPALIVE processing).
    Processing,
    /// The key waits for a touch; the probe gives up `timeout` after this
    /// event (the real deadline, for a countdown).
    TouchNeeded {
        /// Time left until the probe stops waiting.
        timeout: Duration,
    },
    /// A PIN is about to be asked for.
    PinNeeded {
        /// Attempts left, as reported by the key.
        retries: Option<u32>,
    },
    /// Built-in user verification (fingerprint) is about to be asked for:
    /// the user touches the sensor with an enrolled finger.
    UvNeeded {
        /// Built-in UV attempts left, as reported by the key.
        retries: Option<u32>,
    },
    /// Built-in user verification gave way to the PIN.
    UvFallbackToPin {
        /// Why.
        reason: UvFallback,
    },
    /// A stage ended.
    StageDone {
        /// Which.
        stage: Stage,
        /// Whether it succeeded.
        ok: bool,
        /// How long it took.
        elapsed: Duration,
    },
}

/// What one stage needs from its caller: the event sink and the user.
pub(super) struct Ctx<'a> {
    pub sink: &'a mut dyn FnMut(ProbeEvent),
    pub ui: &'a mut dyn UserInteraction,
    touch_seen: bool,
    touch_deadline: Instant,
}

impl<'a> Ctx<'a> {
    pub fn new(
        sink: &'a mut dyn FnMut(ProbeEvent),
        ui: &'a mut dyn UserInteraction,
        touch_timeout: Duration,
    ) -> Self {
        Ctx {
            sink,
            ui,
            touch_seen: false,
            touch_deadline: crate::transport::deadline_after(touch_timeout),
        }
    }

    pub fn emit(&mut self, e: ProbeEvent) {
        (self.sink)(e);
    }

    /// Starts the clock for a command that may wait for a touch.
    pub fn arm(&mut self, touch_timeout: Duration) {
        self.touch_seen = false;
        self.touch_deadline = crate::transport::deadline_after(touch_timeout);
    }

    /// Forwards CTAPHID progress as probe events (one touch prompt per command).
    pub fn hid(&mut self, e: HidEvent) {
        match e {
            HidEvent::Processing => self.emit(ProbeEvent::Processing),
            HidEvent::UpNeeded => {
                if !self.touch_seen {
                    self.touch_seen = true;
                    let timeout = self
                        .touch_deadline
                        .saturating_duration_since(Instant::now());
                    self.ui.prompt_up(timeout);
                    self.emit(ProbeEvent::TouchNeeded { timeout });
                }
            }
        }
    }
}

/// An open connection to one key, ready for probe stages.
pub struct ProbeSession<T: Transport> {
    pub(super) hid: CtapHid<T>,
    pub(super) opts: ProbeOptions,
    /// The PIN the key accepted last in this probe (reused only to retry once
    /// with a fresh token; dropped, and zeroized, with the session).
    pub(super) pin: Option<Pin>,
    /// Whether any PIN was submitted (the retry counter is re-read at the end).
    pub(super) pin_submitted: bool,
    /// The last retry counter read from the key (attempts left, power cycle
    /// needed), and whether a PIN was submitted after that read.
    pub(super) retries_seen: Option<(Option<u32>, Option<bool>)>,
    pub(super) submitted_since_read: bool,
    /// The next PIN token may reuse [`ProbeSession::pin`] without asking
    /// (set only for the one retry after PIN_AUTH_INVALID).
    pub(super) reuse_pin: bool,
}

impl<T: Transport> ProbeSession<T> {
    /// Opens a CTAPHID channel (INIT) with a cancel handle of its own.
    pub fn open(transport: T, opts: &ProbeOptions) -> Result<Self, CtapError> {
        Self::open_with_cancel(transport, opts, CancelHandle::default())
    }

    /// Opens a CTAPHID channel (INIT); `cancel` (shared with a UI thread or a
    /// Ctrl-C handler) ends INIT and every later command, sending
    /// CTAPHID_CANCEL. The keep-alive-kept wait is the touch timeout.
    pub fn open_with_cancel(
        transport: T,
        opts: &ProbeOptions,
        cancel: CancelHandle,
    ) -> Result<Self, CtapError> {
        let mut hid_opts = opts.hid;
        // The touch timeout is the one keep-alive-kept wait of a probe, so
        // the deadline shown in `TouchNeeded` is the one enforced.
        hid_opts.response_timeout = opts.touch_timeout;
        Ok(Self {
            hid: CtapHid::open(transport, hid_opts, cancel)?,
            opts: opts.clone(),
            pin: None,
            pin_submitted: false,
            retries_seen: None,
            submitted_since_read: false,
            reuse_pin: false,
        })
    }

    /// The underlying CTAPHID connection.
    pub fn hid(&mut self) -> &mut CtapHid<T> {
        &mut self.hid
    }

    /// A handle that cancels the running command from another thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.hid.cancel_handle()
    }

    /// The settings in force.
    pub fn options(&self) -> &ProbeOptions {
        &self.opts
    }

    /// authenticatorSelection (CTAP 2.1): the key blinks until the user
    /// touches it, so a user with several keys can show which one is meant.
    /// Keys without CTAP2 answer `NotSupported`.
    pub fn select(&mut self, on_event: &mut dyn FnMut(ProbeEvent)) -> Result<(), ProbeError> {
        let mut ui = super::interaction::NoPin;
        let mut ctx = Ctx::new(on_event, &mut ui, self.opts.touch_timeout);
        let r = self.hid.call(&SelectionRequest, &mut |e| ctx.hid(e));
        Ok(r?)
    }

    /// authenticatorGetNextAssertion: the next of the `numberOfCredentials`
    /// assertions a GetAssertion without allow list announced. The caller
    /// verifies it like the first one.
    pub fn get_next_assertion(&mut self) -> Result<Assertion, ProbeError> {
        Ok(self.hid.call(&GetNextAssertionRequest, &mut |_| {})?)
    }

    /// One ClientPIN subcommand (parameters already encoded).
    pub(super) fn client_pin(&mut self, params: Vec<u8>) -> Result<ClientPinResponse, CtapError> {
        self.hid.call(&ClientPinRequest(params), &mut |_| {})
    }

    /// getPINRetries: (attempts left, power cycle required).
    pub(super) fn pin_retries(
        &mut self,
        version: PinProtocolVersion,
    ) -> Result<(Option<u32>, Option<bool>), CtapError> {
        let r = self.client_pin(client_pin::encode_get_pin_retries(version))?;
        let seen = (r.pin_retries.map(to_u32), r.power_cycle_state);
        self.retries_seen = Some(seen);
        self.submitted_since_read = false;
        Ok(seen)
    }
}

pub(super) fn to_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Whether an error means the key can no longer be talked to (so a
/// secondary question should not be asked, and the stage fails).
fn is_fatal(e: &CtapError) -> bool {
    matches!(
        e,
        CtapError::Transport(_)
            | CtapError::NoAnswer(_)
            | CtapError::StoppedAnswering(_)
            | CtapError::Cancelled
    )
}

/// Reads GetInfo / VERSION and retry counters on an open session. An odd
/// optional answer (GetInfo field, retry counter) is recorded in
/// [`KeyReport::anomalies`]; only a key that cannot be talked to, or one
/// whose GetInfo misses what every key must send, fails.
pub fn query_info<T: Transport>(
    session: &mut ProbeSession<T>,
    open_time: Duration,
) -> Result<KeyReport, CtapError> {
    let start = Instant::now();
    let init = *session.hid.init_info();
    let device = session.hid.name();
    let mut report = KeyReport {
        device,
        kind: KeyKind::U2fOnly,
        init,
        info: None,
        u2f_version: None,
        pin_retries: None,
        pin_retries_at_start: None,
        pin_power_cycle_required: None,
        uv_retries: None,
        anomalies: Vec::new(),
        open_time,
        info_time: Duration::ZERO,
    };
    if init.capabilities.cbor {
        let info = session.hid.call(&GetInfoRequest, &mut |_| {})?;
        report.kind = KeyKind::Fido2;
        report.anomalies.extend(info.anomalies.iter().cloned());
        let protocol = PinProtocolVersion::choose(&info.pin_uv_auth_protocols).ok();
        if let (Some(true), Some(p)) = (info.client_pin(), protocol) {
            match session.pin_retries(p) {
                Ok((retries, power_cycle)) => {
                    report.pin_retries = retries;
                    report.pin_power_cycle_required = power_cycle;
                }
                Err(e) if is_fatal(&e) => return Err(e),
                Err(e) => report.anomalies.push(format!("getPINRetries failed: {e}")),
            }
        }
        if let (Some(_), Some(p)) = (info.uv(), protocol) {
            // Optional counter: keys without built-in UV answer an error; ignore it.
            match session.client_pin(client_pin::encode_get_uv_retries(p)) {
                Ok(r) => report.uv_retries = r.uv_retries.map(to_u32),
                Err(e) if is_fatal(&e) => return Err(e),
                Err(_) => {}
            }
        }
        report.info = Some(info);
    } else {
        let resp = session.hid.msg(&u2f::encode_version(), &mut |_| {})?;
        report.u2f_version = Some(u2f::parse_version(u2f::expect_ok(&resp)?)?);
    }
    report.info_time = start.elapsed();
    Ok(report)
}
