//! Live probes of one authenticator — the single entry point the CLI, the
//! TUI and the diagnosis use. A probe opens a CTAPHID channel, reads what
//! the key says about itself ([`info`]), makes a throw-away, non-discoverable
//! credential for a relying party id that belongs to no real service
//! ([`register`]) and signs in with it ([`authenticate`]), checking every
//! answer the way a relying party would. [`run`] does all three and never
//! reports success for a stage that did not complete against the device.
//!
//! Two layers:
//! - the report layer — [`report`] (serialisable results) and [`failure`]
//!   (every way a stage ends, as a stable [`FailureCode`]);
//! - the client layer — [`session`] (the open connection and its events),
//!   [`interaction`] (the [`UserInteraction`] trait for touch/PIN/UV
//!   prompts), [`token`] (the PIN/UV token policy, in one place), the CTAP2
//!   path ([`ctap2_path`]), the U2F path ([`u2f_path`]) and [`webauthn`]
//!   (clientDataJSON).

mod ctap2_path;
pub mod failure;
pub mod interaction;
pub mod platform;
#[cfg(windows)]
pub mod platform_windows;
pub mod report;
pub mod session;
mod token;
mod u2f_path;
pub mod webauthn;

use std::time::Instant;

pub use failure::{Failure, FailureCode, ProbeError};
pub use interaction::{
    FixedPin, LastAttemptAllowed, NoInteraction, NoPin, PinAnswer, PinRequest, PinSource,
    RememberedPin, UserInteraction, UvRequest,
};
pub use report::{
    Authentication, KeyKind, KeyReport, Method, Outcome, ProbeReport, Registration, Stage,
    UserVerification, UvFallback,
};
pub use session::{
    DEFAULT_RP_ID, ProbeEvent, ProbeOptions, ProbeSession, UvRequirement, query_info,
};
pub use webauthn::{base64url, client_data};

use super::ctap2::pin_protocol::PinProtocolVersion;
use super::ctaphid::CancelHandle;
use super::error::CtapError;
use crate::transport::Transport;
use session::Ctx;

/// Opens `t` and reads what the key says about itself: GetInfo if it speaks
/// CTAP2, else U2F VERSION; PIN retries when a PIN is set.
pub fn info<T: Transport>(t: T, opts: &ProbeOptions) -> Result<KeyReport, CtapError> {
    let start = Instant::now();
    let mut session = ProbeSession::open(t, opts)?;
    let open_time = start.elapsed();
    query_info(&mut session, open_time)
}

/// Makes a non-discoverable test credential and verifies the answer like a
/// relying party: attestation statement, rpIdHash, UP, UV (when a PIN or
/// built-in UV was used) and AT flags. U2F-only keys use U2F REGISTER.
pub fn register<T: Transport>(
    session: &mut ProbeSession<T>,
    key: &KeyReport,
    ui: &mut dyn UserInteraction,
    on_event: &mut dyn FnMut(ProbeEvent),
) -> Result<Registration, ProbeError> {
    let rp_id = session.opts.rp_id.clone();
    let mut ctx = Ctx::new(on_event, ui, session.opts.touch_timeout);
    let challenge: [u8; 32] = webauthn::random();
    let (_, cdh) = client_data("webauthn.create", &challenge, &webauthn::origin(&rp_id));
    match key.info.as_ref() {
        None => u2f_path::register(session, &rp_id, &cdh, &mut ctx),
        Some(info) => ctap2_path::register(session, info, &rp_id, &cdh, &mut ctx),
    }
}

/// Signs in with the credential from [`register`] and verifies the
/// signature with its public key, the rpIdHash, the flags and the counter.
pub fn authenticate<T: Transport>(
    session: &mut ProbeSession<T>,
    key: &KeyReport,
    registration: &Registration,
    ui: &mut dyn UserInteraction,
    on_event: &mut dyn FnMut(ProbeEvent),
) -> Result<Authentication, ProbeError> {
    let mut ctx = Ctx::new(on_event, ui, session.opts.touch_timeout);
    let challenge: [u8; 32] = webauthn::random();
    let origin = webauthn::origin(&registration.rp_id);
    let (_, cdh) = client_data("webauthn.get", &challenge, &origin);
    let before = registration.attestation.auth_data.sign_count;
    match (registration.method, key.info.as_ref()) {
        (Method::Ctap2, Some(info)) => {
            ctap2_path::authenticate(session, info, registration, &cdh, before, &mut ctx)
        }
        _ => u2f_path::authenticate(session, registration, &cdh, before, &mut ctx),
    }
}

/// When this program cancelled, whatever ended the stage reads as cancelled
/// (a key answering OPERATION_DENIED to our CTAPHID_CANCEL did not refuse).
fn ours<V>(r: Result<V, ProbeError>, cancel: &CancelHandle) -> Result<V, ProbeError> {
    match r {
        Err(e) if cancel.is_cancelled() && e.code() != FailureCode::DeviceGone => {
            Err(CtapError::Cancelled.into())
        }
        other => other,
    }
}

/// Re-reads the PIN retry counter after a probe that submitted a PIN, so
/// the report describes the key after the check.
fn reread_pin_retries<T: Transport>(session: &mut ProbeSession<T>, key: &mut KeyReport) {
    if !session.pin_submitted {
        return;
    }
    let Some(version) = key
        .info
        .as_ref()
        .and_then(|i| PinProtocolVersion::choose(&i.pin_uv_auth_protocols).ok())
    else {
        return;
    };
    if let Ok((retries, power_cycle)) = session.pin_retries(version) {
        key.pin_retries_at_start = key.pin_retries;
        key.pin_retries = retries;
        key.pin_power_cycle_required = power_cycle;
    }
}

/// After a cancelled probe nothing more is sent to the key: the report takes
/// the counter last read, when no PIN was submitted after that read (e.g. a
/// wrong PIN, then Esc at the next prompt).
fn last_seen_pin_retries<T: Transport>(session: &ProbeSession<T>, key: &mut KeyReport) {
    if !session.pin_submitted || session.submitted_since_read {
        return;
    }
    if let Some((retries, power_cycle)) = session.retries_seen {
        key.pin_retries_at_start = key.pin_retries;
        key.pin_retries = retries;
        key.pin_power_cycle_required = power_cycle;
    }
}

/// Runs the full probe: info, register, authenticate. Events are reported
/// through `on_event`; `ui` answers PIN/UV prompts; `cancel` (a fresh
/// [`CancelHandle::default`] shared with another thread or a Ctrl-C handler)
/// ends the probe early with `cancelled` failures, sending CTAPHID_CANCEL to
/// the key.
pub fn run<T: Transport>(
    t: T,
    opts: &ProbeOptions,
    ui: &mut dyn UserInteraction,
    on_event: &mut dyn FnMut(ProbeEvent),
    cancel: &CancelHandle,
) -> ProbeReport {
    let device = t.name();
    on_event(ProbeEvent::Stage(Stage::Info));
    let start = Instant::now();
    let opened = ProbeSession::open_with_cancel(t, opts, cancel.clone());
    let (mut session, key) = match opened {
        Ok(mut s) => {
            let open_time = start.elapsed();
            let key = query_info(&mut s, open_time);
            (Some(s), key)
        }
        Err(e) => (None, Err(e)),
    };
    let key = ours(key.map_err(ProbeError::from), cancel);
    let mut key_outcome = Outcome::from_result(key, start.elapsed());
    on_event(ProbeEvent::StageDone {
        stage: Stage::Info,
        ok: key_outcome.is_ok(),
        elapsed: start.elapsed(),
    });

    let (Some(session), Some(key)) = (session.as_mut(), key_outcome.ok().cloned()) else {
        return ProbeReport {
            device,
            key: key_outcome,
            registration: Outcome::skipped("the key could not be queried"),
            authentication: Outcome::skipped("the key could not be queried"),
        };
    };

    on_event(ProbeEvent::Stage(Stage::Register));
    let start = Instant::now();
    let reg = ours(register(session, &key, ui, on_event), cancel);
    let elapsed = start.elapsed();
    on_event(ProbeEvent::StageDone {
        stage: Stage::Register,
        ok: reg.is_ok(),
        elapsed,
    });
    let registration = Outcome::from_result(reg, elapsed);

    let authentication = match registration.ok() {
        None => Outcome::skipped("registration did not succeed"),
        Some(reg) => {
            on_event(ProbeEvent::Stage(Stage::Authenticate));
            let start = Instant::now();
            let auth = ours(authenticate(session, &key, reg, ui, on_event), cancel);
            let elapsed = start.elapsed();
            on_event(ProbeEvent::StageDone {
                stage: Stage::Authenticate,
                ok: auth.is_ok(),
                elapsed,
            });
            Outcome::from_result(auth, elapsed)
        }
    };
    if let Outcome::Ok { value, .. } = &mut key_outcome {
        if cancel.is_cancelled() {
            last_seen_pin_retries(session, value);
        } else {
            reread_pin_retries(session, value);
        }
    }
    ProbeReport {
        device,
        key: key_outcome,
        registration,
        authentication,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctap::ctaphid::HidOptions;
    use std::time::Duration;

    #[test]
    fn unreachable_device_is_never_success() {
        let (t, peer) = crate::transport::inproc::pair("sim:gone");
        drop(peer);
        let opts = ProbeOptions {
            hid: HidOptions {
                init_timeout: Duration::from_millis(100),
                ..HidOptions::default()
            },
            ..ProbeOptions::default()
        };
        let mut events = Vec::new();
        let report = run(
            t,
            &opts,
            &mut NoPin,
            &mut |e| events.push(e),
            &CancelHandle::default(),
        );
        assert!(!report.all_ok());
        assert_eq!(report.key.failure().unwrap().code, FailureCode::DeviceGone);
        assert!(matches!(report.registration, Outcome::Skipped { .. }));
        assert!(matches!(report.authentication, Outcome::Skipped { .. }));
        assert_eq!(events.first(), Some(&ProbeEvent::Stage(Stage::Info)));
    }

    #[test]
    fn outcome_serialization() {
        let o: Outcome<u8> = Outcome::Skipped { reason: "x".into() };
        assert_eq!(serde_json::to_value(&o).unwrap()["result"], "skipped");
        let o: Outcome<u8> = Outcome::Ok {
            value: 3,
            elapsed: Duration::from_millis(12),
        };
        let v = serde_json::to_value(&o).unwrap();
        assert_eq!(v["result"], "ok");
        assert_eq!(v["elapsed_ms"], 12);
    }
}
