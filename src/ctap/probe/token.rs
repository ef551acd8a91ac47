//! PIN/UV token policy, in one place: whether an operation asks for user
//! verification, and how (built-in UV through a pinUvAuthToken, the legacy
//! `uv` option, or the PIN), with the PIN-safety rules: retries read before
//! asking and passed on, the last attempt spent only when the user confirms,
//! a PIN that failed never resubmitted, a blocked key never asked.

use zeroize::Zeroizing;

use super::failure::ProbeError;
use super::interaction::{PinAnswer, PinRequest, UvRequest};
use super::report::{UserVerification, UvFallback};
use super::session::{Ctx, ProbeEvent, ProbeSession, UvRequirement, to_u32};
use crate::ctap::ctap2::client_pin::{self, Permissions};
use crate::ctap::ctap2::pin_protocol::{
    Pin, PinProtocol, PinProtocolVersion, PinUvAuthToken as Token,
};
use crate::ctap::ctap2::{ClientPinRequest, GetInfo};
use crate::ctap::error::CtapError;
use crate::ctap::status::CtapStatus;
use crate::transport::Transport;

/// PIN requests within one token before giving up (the key keeps its own,
/// stricter counters).
const MAX_PIN_ATTEMPTS: usize = 3;
/// Built-in UV tries within one token before falling back to the PIN.
const MAX_UV_ATTEMPTS: usize = 3;

/// The operation a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    /// authenticatorMakeCredential.
    MakeCredential,
    /// authenticatorGetAssertion.
    GetAssertion,
}

impl Op {
    fn permissions(self) -> Permissions {
        match self {
            Op::MakeCredential => Permissions::MAKE_CREDENTIAL,
            Op::GetAssertion => Permissions::GET_ASSERTION,
        }
    }
}

/// How user verification is done for one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Plan {
    /// No user verification.
    None,
    /// Built-in UV through getPinUvAuthTokenUsingUvWithPermissions (CTAP 2.1).
    UvToken,
    /// Built-in UV through the `uv` option (CTAP 2.0 keys).
    UvOption,
    /// The PIN, through a pinUvAuthToken.
    Pin,
}

/// Decides how (and whether) to verify the user, as a WebAuthn client does:
/// `alwaysUv` forces it; a key that must verify but cannot ends here with
/// the reason; `makeCredUvNotRqd` lets a discouraged registration go without.
pub(super) fn plan(info: &GetInfo, op: Op, requirement: UvRequirement) -> Result<Plan, ProbeError> {
    let pin_set = info.client_pin() == Some(true);
    let uv_ready = info.uv() == Some(true);
    let always_uv = info.options.get("alwaysUv").copied().unwrap_or(false);
    let configured = pin_set || uv_ready;
    let wanted = always_uv
        || match requirement {
            UvRequirement::Required => true,
            UvRequirement::Preferred => configured,
            UvRequirement::Discouraged => {
                op == Op::MakeCredential && configured && !info.make_cred_uv_not_required()
            }
        };
    if !wanted {
        return Ok(Plan::None);
    }
    if !configured {
        return Err(if info.uv() == Some(false) && info.client_pin().is_none() {
            ProbeError::UvNotEnrolled
        } else if info.client_pin().is_none() {
            ProbeError::PinUnsupported
        } else {
            CtapError::Status(CtapStatus::PinNotSet).into()
        });
    }
    let protocols = !info.pin_uv_auth_protocols.is_empty();
    Ok(if uv_ready && info.pin_uv_auth_token() && protocols {
        Plan::UvToken
    } else if uv_ready {
        Plan::UvOption
    } else {
        Plan::Pin
    })
}

/// How the user is verified for one operation.
pub(super) struct Verification {
    /// What the report says.
    pub mode: UserVerification,
    /// The token, when one was obtained.
    pub token: Option<Token>,
    /// Send the legacy `uv` option.
    pub uv_option: bool,
    /// Built-in UV gave way to the PIN.
    pub fallback: Option<UvFallback>,
}

impl Verification {
    fn none() -> Self {
        Verification {
            mode: UserVerification::None,
            token: None,
            uv_option: false,
            fallback: None,
        }
    }

    /// pinUvAuthParam and pinUvAuthProtocol over `client_data_hash`.
    pub fn param(&self, client_data_hash: &[u8; 32]) -> (Option<Vec<u8>>, Option<u64>) {
        match &self.token {
            Some(t) => (
                Some(t.authenticate(client_data_hash)),
                Some(t.version.number()),
            ),
            None => (None, None),
        }
    }

    /// The `uv` option to send.
    pub fn uv(&self) -> Option<bool> {
        self.uv_option.then_some(true)
    }
}

/// Gets a fresh token (or decides that none is needed) for one operation.
pub(super) fn obtain<T: Transport>(
    session: &mut ProbeSession<T>,
    info: &GetInfo,
    op: Op,
    rp_id: &str,
    ctx: &mut Ctx<'_>,
) -> Result<Verification, ProbeError> {
    match plan(info, op, session.opts.user_verification)? {
        Plan::None => Ok(Verification::none()),
        Plan::UvOption => Ok(Verification {
            mode: UserVerification::BuiltIn,
            token: None,
            uv_option: true,
            fallback: None,
        }),
        Plan::UvToken => uv_token(session, info, op, rp_id, ctx),
        Plan::Pin => pin_token(session, info, op, rp_id, ctx, None),
    }
}

/// Built-in UV failed (`status`): the PIN stands in when one is set, saying so.
pub(super) fn fall_back_to_pin<T: Transport>(
    session: &mut ProbeSession<T>,
    info: &GetInfo,
    op: Op,
    rp_id: &str,
    ctx: &mut Ctx<'_>,
    reason: UvFallback,
) -> Result<Verification, ProbeError> {
    if info.client_pin() != Some(true) {
        return Err(match reason {
            UvFallback::Blocked => CtapError::Status(CtapStatus::UvBlocked).into(),
            UvFallback::Invalid => CtapError::Status(CtapStatus::UvInvalid).into(),
            UvFallback::Declined => CtapError::Cancelled.into(),
        });
    }
    ctx.emit(ProbeEvent::UvFallbackToPin { reason });
    pin_token(session, info, op, rp_id, ctx, Some(reason))
}

fn uv_token<T: Transport>(
    session: &mut ProbeSession<T>,
    info: &GetInfo,
    op: Op,
    rp_id: &str,
    ctx: &mut Ctx<'_>,
) -> Result<Verification, ProbeError> {
    let version = PinProtocolVersion::choose(&info.pin_uv_auth_protocols)?;
    let mut retries = uv_retries(session, version)?;
    if retries == Some(0) {
        return fall_back_to_pin(session, info, op, rp_id, ctx, UvFallback::Blocked);
    }
    let request = UvRequest {
        retries,
        rp_id: rp_id.to_owned(),
    };
    if !ctx.ui.request_uv(&request) {
        return fall_back_to_pin(session, info, op, rp_id, ctx, UvFallback::Declined);
    }
    let mut reason = UvFallback::Invalid;
    for _ in 0..MAX_UV_ATTEMPTS {
        ctx.emit(ProbeEvent::UvNeeded { retries });
        let proto = key_agreement(session, version)?;
        let params = client_pin::encode_get_token_using_uv(&proto, op.permissions(), Some(rp_id));
        ctx.arm(session.opts.touch_timeout);
        match session
            .hid
            .call(&ClientPinRequest(params), &mut |e| ctx.hid(e))
        {
            Ok(resp) => {
                let key = resp.decrypt_token(&proto).map_err(CtapError::from)?;
                return Ok(Verification {
                    mode: UserVerification::BuiltIn,
                    token: Some(Token::new(version, key)),
                    uv_option: false,
                    fallback: None,
                });
            }
            Err(CtapError::Status(CtapStatus::UvInvalid)) => {
                retries = uv_retries(session, version)?;
                if retries == Some(0) {
                    reason = UvFallback::Blocked;
                    break;
                }
            }
            Err(CtapError::Status(CtapStatus::UvBlocked)) => {
                reason = UvFallback::Blocked;
                break;
            }
            Err(e) => return Err(e.into()),
        }
    }
    fall_back_to_pin(session, info, op, rp_id, ctx, reason)
}

fn uv_retries<T: Transport>(
    session: &mut ProbeSession<T>,
    version: PinProtocolVersion,
) -> Result<Option<u32>, ProbeError> {
    match session.client_pin(client_pin::encode_get_uv_retries(version)) {
        Ok(r) => Ok(r.uv_retries.map(to_u32)),
        Err(CtapError::Status(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn key_agreement<T: Transport>(
    session: &mut ProbeSession<T>,
    version: PinProtocolVersion,
) -> Result<PinProtocol, ProbeError> {
    let ka = session.client_pin(client_pin::encode_get_key_agreement(version))?;
    Ok(PinProtocol::encapsulate(
        version,
        ka.require_key_agreement().map_err(CtapError::from)?,
    )?)
}

/// Exchanges a PIN for a token: Err(Status(PinInvalid)) when the PIN is wrong.
fn token_for_pin<T: Transport>(
    session: &mut ProbeSession<T>,
    info: &GetInfo,
    version: PinProtocolVersion,
    pin: &Pin,
    op: Op,
    rp_id: &str,
    ctx: &mut Ctx<'_>,
) -> Result<Token, ProbeError> {
    let proto = key_agreement(session, version)?;
    let with_permissions = info.pin_uv_auth_token() || info.is_fido_2_1();
    let params = if with_permissions {
        client_pin::encode_get_token_using_pin(&proto, pin, op.permissions(), Some(rp_id))?
    } else {
        client_pin::encode_get_pin_token(&proto, pin)?
    };
    session.pin_submitted = true;
    session.submitted_since_read = true;
    let resp = session
        .hid
        .call(&ClientPinRequest(params), &mut |e| ctx.hid(e))?;
    let key = resp.decrypt_token(&proto).map_err(CtapError::from)?;
    Ok(Token::new(version, key))
}

fn is_wrong_pin(e: &ProbeError) -> bool {
    matches!(
        e,
        ProbeError::Ctap(CtapError::Status(CtapStatus::PinInvalid))
    )
}

/// The PIN path: for the one retry after our token was invalidated, reuses
/// the PIN the key just accepted; otherwise asks (once per operation, as
/// each needs a fresh token), with the retry count, the last-attempt confirmation and the
/// same-wrong-PIN guard.
fn pin_token<T: Transport>(
    session: &mut ProbeSession<T>,
    info: &GetInfo,
    op: Op,
    rp_id: &str,
    ctx: &mut Ctx<'_>,
    fallback: Option<UvFallback>,
) -> Result<Verification, ProbeError> {
    let version = PinProtocolVersion::choose(&info.pin_uv_auth_protocols)?;
    let done = |token| Verification {
        mode: UserVerification::Pin,
        token: Some(token),
        uv_option: false,
        fallback,
    };
    let mut last_err: Option<ProbeError> = None;
    let reuse = std::mem::take(&mut session.reuse_pin);
    if let Some(pin) = session.pin.clone().filter(|_| reuse) {
        match token_for_pin(session, info, version, &pin, op, rp_id, ctx) {
            Ok(t) => return Ok(done(t)),
            Err(e) if is_wrong_pin(&e) => {
                session.pin = None;
                last_err = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    let mut previous: Option<Zeroizing<[u8; 16]>> = None;
    for _ in 0..MAX_PIN_ATTEMPTS {
        let (retries, power_cycle) = session.pin_retries(version)?;
        if retries == Some(0) {
            return Err(CtapError::Status(CtapStatus::PinBlocked).into());
        }
        if power_cycle == Some(true) {
            return Err(CtapError::Status(CtapStatus::PinAuthBlocked).into());
        }
        let request = PinRequest {
            retries,
            last_attempt: retries == Some(1),
            previous_wrong: last_err.is_some(),
            rp_id: rp_id.to_owned(),
            uv_fallback: fallback,
        };
        if request.last_attempt && !ctx.ui.confirm_last_pin_attempt(&request) {
            return Err(ProbeError::LastPinAttemptWithheld);
        }
        ctx.emit(ProbeEvent::PinNeeded { retries });
        let raw = match ctx.ui.request_pin(&request) {
            PinAnswer::Pin(p) => p,
            // Declining after a wrong PIN: the wrong PIN is the news.
            PinAnswer::Declined => return Err(last_err.unwrap_or(ProbeError::PinDeclined)),
            PinAnswer::Unavailable => return Err(last_err.unwrap_or(ProbeError::PinUnavailable)),
        };
        let pin = Pin::new(raw, info.min_pin_length)?;
        // The same wrong PIN again (a fixed source) would only burn retries.
        let hash = pin.hash16();
        if previous
            .as_ref()
            .is_some_and(|p| p.as_ref() == hash.as_ref())
        {
            break;
        }
        previous = Some(hash);
        match token_for_pin(session, info, version, &pin, op, rp_id, ctx) {
            Ok(t) => {
                session.pin = Some(pin);
                return Ok(done(t));
            }
            Err(e) if is_wrong_pin(&e) => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| CtapError::Status(CtapStatus::PinInvalid).into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(options: &[(&str, bool)], versions: &[&str]) -> GetInfo {
        GetInfo {
            versions: versions.iter().map(|s| s.to_string()).collect(),
            options: options.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            pin_uv_auth_protocols: vec![2, 1],
            ..GetInfo::default()
        }
    }

    #[test]
    fn built_in_uv_on_ctap21_uses_the_uv_token() {
        let i = info(
            &[("uv", true), ("pinUvAuthToken", true), ("clientPin", true)],
            &["FIDO_2_1"],
        );
        let p = plan(&i, Op::MakeCredential, UvRequirement::Preferred).unwrap();
        assert_eq!(p, Plan::UvToken);
    }

    #[test]
    fn built_in_uv_on_ctap20_uses_the_uv_option() {
        let i = info(&[("uv", true)], &["FIDO_2_0"]);
        let p = plan(&i, Op::GetAssertion, UvRequirement::Preferred).unwrap();
        assert_eq!(p, Plan::UvOption);
    }

    #[test]
    fn a_pin_set_means_the_pin_path() {
        let i = info(&[("clientPin", true)], &["FIDO_2_0"]);
        assert_eq!(
            plan(&i, Op::MakeCredential, UvRequirement::Preferred).unwrap(),
            Plan::Pin
        );
        // Not configured at all: nothing to verify with, nothing asked.
        let i = info(&[("clientPin", false)], &["FIDO_2_0"]);
        assert_eq!(
            plan(&i, Op::MakeCredential, UvRequirement::Preferred).unwrap(),
            Plan::None
        );
    }

    #[test]
    fn always_uv_forces_verification_and_names_what_is_missing() {
        let i = info(&[("alwaysUv", true), ("clientPin", false)], &["FIDO_2_1"]);
        let e = plan(&i, Op::GetAssertion, UvRequirement::Discouraged).unwrap_err();
        assert_eq!(e.code(), super::super::FailureCode::PinNotSet);
        let i = info(&[("alwaysUv", true)], &["FIDO_2_1"]);
        let e = plan(&i, Op::GetAssertion, UvRequirement::Discouraged).unwrap_err();
        assert_eq!(e.code(), super::super::FailureCode::PinUnsupported);
        let i = info(&[("alwaysUv", true), ("uv", false)], &["FIDO_2_1"]);
        let e = plan(&i, Op::GetAssertion, UvRequirement::Discouraged).unwrap_err();
        assert_eq!(e.code(), super::super::FailureCode::UvNotEnrolled);
        let i = info(&[("alwaysUv", true), ("clientPin", true)], &["FIDO_2_1"]);
        assert_eq!(
            plan(&i, Op::GetAssertion, UvRequirement::Discouraged).unwrap(),
            Plan::Pin
        );
    }

    #[test]
    fn make_cred_uv_not_rqd_lets_a_discouraged_registration_skip_the_pin() {
        let with = info(
            &[("clientPin", true), ("makeCredUvNotRqd", true)],
            &["FIDO_2_1"],
        );
        let without = info(&[("clientPin", true)], &["FIDO_2_1"]);
        assert_eq!(
            plan(&with, Op::MakeCredential, UvRequirement::Discouraged).unwrap(),
            Plan::None
        );
        assert_eq!(
            plan(&without, Op::MakeCredential, UvRequirement::Discouraged).unwrap(),
            Plan::Pin
        );
        // Required: the PIN is used whatever the key allows.
        assert_eq!(
            plan(&with, Op::MakeCredential, UvRequirement::Required).unwrap(),
            Plan::Pin
        );
        // No PIN, no UV, required: the key cannot verify.
        let none = info(&[("clientPin", false)], &["FIDO_2_1"]);
        assert_eq!(
            plan(&none, Op::MakeCredential, UvRequirement::Required)
                .unwrap_err()
                .code(),
            super::super::FailureCode::PinNotSet
        );
    }
}
