//! Turning a [`ProbeReport`] from `ctap::probe::run` into [`KeyFacts`]:
//! what getInfo says (protocol, PIN, resident keys, extensions), how the
//! test registration and sign-in went, and the first failure, classified.

use crate::content::aaguid::{Aaguid, AaguidTable};
use crate::ctap::CtapError;
use crate::ctap::probe::{
    Failure, FailureCode, KeyKind, KeyReport, Outcome, ProbeReport, Registration,
};
use crate::ctap::status::CtapStatus;
use crate::transport::TransportError;

use super::keys::{FailureKind, KeyFacts, PinState, ProbeFailure, Protocol, StepOutcome};

impl FailureKind {
    /// Classifies a probe failure code.
    pub fn from_code(code: FailureCode) -> FailureKind {
        match code {
            FailureCode::PermissionDenied => FailureKind::PermissionDenied,
            FailureCode::DeviceGone | FailureCode::NotFound => FailureKind::Gone,
            FailureCode::Timeout | FailureCode::KeyHung | FailureCode::KeyStopped => {
                FailureKind::NoResponse
            }
            FailureCode::TouchTimeout => FailureKind::PresenceTimeout,
            FailureCode::UserRefused => FailureKind::UserRefused,
            FailureCode::PinBlocked => FailureKind::PinBlocked,
            FailureCode::PinAuthBlocked => FailureKind::PinAuthBlocked,
            FailureCode::PinInvalid => FailureKind::PinInvalid,
            FailureCode::PinNotSet => FailureKind::PinNotSet,
            FailureCode::KeyStoreFull => FailureKind::StoreFull,
            // Garbled frames or answers whose signatures do not check out.
            FailureCode::HidError
            | FailureCode::Malformed
            | FailureCode::VerificationFailed
            | FailureCode::AttestationInvalid => FailureKind::Malformed,
            FailureCode::Cancelled
            | FailureCode::PinDeclined
            | FailureCode::PinUnavailable
            | FailureCode::PinLastAttemptWithheld => FailureKind::Cancelled,
            FailureCode::Transport
            | FailureCode::PinFormat
            | FailureCode::UvBlocked
            | FailureCode::NotSupported
            | FailureCode::CtapStatus
            | FailureCode::U2fStatus
            | FailureCode::PinUnsupported
            | FailureCode::KeyInUse
            | FailureCode::UvInvalid
            | FailureCode::UvNotEnrolled
            | FailureCode::OpenFailed
            | FailureCode::PinChangeRequired => FailureKind::Other,
        }
    }
}

/// The failure code (the failure table's key) of a transport error met
/// while opening a device: nothing there, no permission, the address in use.
pub fn transport_error_code(e: &TransportError) -> &'static str {
    match e {
        TransportError::PermissionDenied { .. } => FailureCode::PermissionDenied.as_str(),
        TransportError::Io { source, .. }
            if source.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            FailureCode::PermissionDenied.as_str()
        }
        TransportError::Gone(_) => FailureCode::DeviceGone.as_str(),
        TransportError::NotFound(_) => FailureCode::NotFound.as_str(),
        TransportError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            FailureCode::NotFound.as_str()
        }
        TransportError::Timeout(_) => FailureCode::Timeout.as_str(),
        TransportError::BadSpec { .. } | TransportError::Io { .. } | TransportError::Hid { .. } => {
            "open-failed"
        }
    }
}

/// The failure code of a client error outside a probe (the probe's own
/// reports carry theirs).
pub fn ctap_error_code(e: &CtapError) -> &'static str {
    match e {
        CtapError::Transport(t) => match t {
            TransportError::BadSpec { .. }
            | TransportError::Io { .. }
            | TransportError::Hid { .. } => FailureCode::Transport.as_str(),
            other => transport_error_code(other),
        },
        CtapError::Status(s) => match s {
            CtapStatus::UserActionTimeout | CtapStatus::ActionTimeout => {
                FailureCode::TouchTimeout.as_str()
            }
            CtapStatus::OperationDenied | CtapStatus::NotAllowed => {
                FailureCode::UserRefused.as_str()
            }
            CtapStatus::PinBlocked => FailureCode::PinBlocked.as_str(),
            CtapStatus::PinAuthBlocked => FailureCode::PinAuthBlocked.as_str(),
            CtapStatus::PinInvalid => FailureCode::PinInvalid.as_str(),
            CtapStatus::PinNotSet | CtapStatus::PuatRequired => FailureCode::PinNotSet.as_str(),
            CtapStatus::UvBlocked => FailureCode::UvBlocked.as_str(),
            CtapStatus::KeyStoreFull => FailureCode::KeyStoreFull.as_str(),
            CtapStatus::KeepaliveCancel => FailureCode::Cancelled.as_str(),
            _ => FailureCode::CtapStatus.as_str(),
        },
        CtapError::Hid(_) => FailureCode::HidError.as_str(),
        CtapError::U2f { sw: 0x6985 } => FailureCode::TouchTimeout.as_str(),
        CtapError::U2f { .. } => FailureCode::U2fStatus.as_str(),
        CtapError::Cancelled => FailureCode::Cancelled.as_str(),
        CtapError::NotSupported(_) => FailureCode::NotSupported.as_str(),
        _ => FailureCode::Malformed.as_str(),
    }
}

fn probe_failure(stage: &str, f: &Failure) -> ProbeFailure {
    ProbeFailure {
        kind: FailureKind::from_code(f.code),
        code: f.code.as_str().to_string(),
        stage: stage.to_string(),
        detail: f.message.clone(),
    }
}

fn step<T>(o: &Outcome<T>) -> Option<StepOutcome> {
    match o {
        Outcome::Ok { elapsed, .. } => Some(StepOutcome {
            ok: true,
            millis: Some(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)),
            error: None,
        }),
        Outcome::Failed { error, elapsed } => Some(StepOutcome {
            ok: false,
            millis: Some(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)),
            error: Some(error.message.clone()),
        }),
        Outcome::Skipped { .. } => None,
    }
}

fn apply_key_report(k: &mut KeyFacts, kr: &KeyReport) {
    let (maj, min, build) = kr.init.device_version;
    k.firmware = Some(format!("{maj}.{min}.{build}"));
    match kr.kind {
        KeyKind::U2fOnly => {
            k.protocol = Some(Protocol::U2fOnly);
            k.versions = kr.u2f_version.iter().cloned().collect();
        }
        KeyKind::Fido2 => k.protocol = Some(Protocol::Fido2),
    }
    let Some(info) = &kr.info else {
        return;
    };
    k.apply_get_info(info);
    k.pin_retries = kr.pin_retries;
    k.pin_blocked = k.client_pin == Some(PinState::Set) && kr.pin_retries == Some(0);
}

fn apply_registration(k: &mut KeyFacts, reg: &Registration) {
    let att = &reg.attestation;
    k.apply_attestation(att);
    if k.aaguid.is_none() && att.aaguid.0 != [0u8; 16] {
        k.aaguid = Some(Aaguid(att.aaguid.0).to_string());
    }
}

/// The facts a probe established about one key, with the model looked up in
/// `aaguids`. The first failed stage becomes [`KeyFacts::failure`].
pub fn key_facts(report: &ProbeReport, aaguids: &AaguidTable) -> KeyFacts {
    let mut k = KeyFacts::unknown(&report.device);
    match &report.key {
        Outcome::Ok { value, .. } => apply_key_report(&mut k, value),
        Outcome::Failed { error, .. } => k.failure = Some(probe_failure("info", error)),
        Outcome::Skipped { .. } => {}
    }
    k.registration = step(&report.registration);
    k.sign_in = step(&report.authentication);
    if let Some(reg) = report.registration.ok() {
        apply_registration(&mut k, reg);
    }
    k.uv_fallback = report
        .registration
        .ok()
        .and_then(|r| r.uv_fallback)
        .or_else(|| report.authentication.ok().and_then(|a| a.uv_fallback));
    if k.failure.is_none() {
        k.failure = report
            .registration
            .failure()
            .map(|f| probe_failure("register", f))
            .or_else(|| {
                report
                    .authentication
                    .failure()
                    .map(|f| probe_failure("sign-in", f))
            });
    }
    k.apply_aaguid_table(aaguids);
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn failure_codes_map_to_kinds() {
        let cases = [
            (FailureCode::TouchTimeout, FailureKind::PresenceTimeout),
            (FailureCode::UserRefused, FailureKind::UserRefused),
            (FailureCode::DeviceGone, FailureKind::Gone),
            (FailureCode::PermissionDenied, FailureKind::PermissionDenied),
            (FailureCode::KeyStoreFull, FailureKind::StoreFull),
            (FailureCode::PinBlocked, FailureKind::PinBlocked),
            (FailureCode::VerificationFailed, FailureKind::Malformed),
            (FailureCode::Timeout, FailureKind::NoResponse),
            (FailureCode::NotSupported, FailureKind::Other),
        ];
        for (code, kind) in cases {
            assert_eq!(FailureKind::from_code(code), kind, "{code:?}");
        }
    }

    #[test]
    fn first_failed_stage_becomes_the_failure() {
        let failure = |code, message: &str| Failure {
            code,
            message: message.to_string(),
            ctap_status: None,
            u2f_sw: None,
        };
        let report = ProbeReport {
            device: "sim:x".into(),
            key: Outcome::Failed {
                error: failure(FailureCode::Malformed, "truncated"),
                elapsed: Duration::from_millis(5),
            },
            registration: Outcome::Skipped {
                reason: "no info".into(),
            },
            authentication: Outcome::Skipped {
                reason: "no info".into(),
            },
        };
        let k = key_facts(&report, &AaguidTable::default());
        let f = k.failure.unwrap();
        assert_eq!(
            (f.kind, f.stage.as_str(), f.detail.as_str()),
            (FailureKind::Malformed, "info", "truncated")
        );
        assert_eq!(k.protocol, None);
        assert_eq!(k.registration, None);
    }
}
