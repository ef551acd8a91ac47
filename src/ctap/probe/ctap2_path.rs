//! The CTAP2 path of a probe: makeCredential and getAssertion with the
//! token policy of [`super::token`], verified like a relying party would.
//! A PIN_AUTH_INVALID right after a fresh token (another program took a
//! token and so invalidated ours) is retried once with a fresh token; a
//! second one means another program is using the key. Built-in UV through
//! the `uv` option that fails gives way to the PIN when one is set.

use super::failure::ProbeError;
use super::report::{Authentication, Method, Registration, UserVerification, UvFallback};
use super::session::{Ctx, ProbeSession};
use super::token::{self, Op, Verification};
use crate::ctap::ctap2::{
    ALG_EDDSA, ALG_ES256, Assertion, Attestation, GetAssertionRequest, GetInfo,
    MakeCredentialRequest,
};
use crate::ctap::error::CtapError;
use crate::ctap::status::CtapStatus;
use crate::ctap::verify::attestation;
use crate::ctap::verify::authdata::AuthenticatorData;
use crate::ctap::verify::{VerifyError, assertion};
use crate::transport::Transport;

/// Runs `send` with user verification for `op`, applying the retry rules.
fn with_verification<T: Transport, R>(
    session: &mut ProbeSession<T>,
    info: &GetInfo,
    op: Op,
    rp_id: &str,
    ctx: &mut Ctx<'_>,
    mut send: impl FnMut(&mut ProbeSession<T>, &Verification, &mut Ctx<'_>) -> Result<R, CtapError>,
) -> Result<(R, Verification), ProbeError> {
    let v = token::obtain(session, info, op, rp_id, ctx)?;
    match send(session, &v, ctx) {
        Ok(r) => Ok((r, v)),
        Err(CtapError::Status(CtapStatus::PinAuthInvalid)) if v.token.is_some() => {
            // Our token was fresh: someone else's token replaced it. Once
            // more, with the PIN the key just accepted (not asked again).
            session.reuse_pin = true;
            let v = token::obtain(session, info, op, rp_id, ctx)?;
            session.reuse_pin = false;
            match send(session, &v, ctx) {
                Ok(r) => Ok((r, v)),
                Err(CtapError::Status(CtapStatus::PinAuthInvalid)) => Err(ProbeError::KeyInUse),
                Err(e) => Err(e.into()),
            }
        }
        Err(CtapError::Status(s @ (CtapStatus::UvBlocked | CtapStatus::UvInvalid)))
            if v.uv_option =>
        {
            let reason = if s == CtapStatus::UvBlocked {
                UvFallback::Blocked
            } else {
                UvFallback::Invalid
            };
            let v = token::fall_back_to_pin(session, info, op, rp_id, ctx, reason)?;
            let r = send(session, &v, ctx)?;
            Ok((r, v))
        }
        Err(e) => Err(e.into()),
    }
}

/// makeCredential for a non-discoverable test credential, verified.
pub(super) fn register<T: Transport>(
    session: &mut ProbeSession<T>,
    info: &GetInfo,
    rp_id: &str,
    cdh: &[u8; 32],
    ctx: &mut Ctx<'_>,
) -> Result<Registration, ProbeError> {
    let algorithms = [ALG_ES256, ALG_EDDSA]
        .into_iter()
        .filter(|a| info.supports_alg(*a))
        .collect::<Vec<_>>();
    let algorithms = if algorithms.is_empty() {
        vec![ALG_ES256, ALG_EDDSA]
    } else {
        algorithms
    };
    let user_id = super::webauthn::random::<16>().to_vec();
    let (att, v): (Attestation, Verification) = with_verification(
        session,
        info,
        Op::MakeCredential,
        rp_id,
        ctx,
        |s, v, ctx| {
            let (param, protocol) = v.param(cdh);
            let request = MakeCredentialRequest {
                client_data_hash: *cdh,
                rp_id: rp_id.to_owned(),
                rp_name: Some("fido-doctor test".into()),
                user_id: user_id.clone(),
                user_name: Some("fido-doctor".into()),
                user_display_name: Some("fido-doctor test".into()),
                algorithms: algorithms.clone(),
                exclude_list: Vec::new(),
                rk: false,
                uv: v.uv(),
                pin_uv_auth_param: param,
                pin_uv_auth_protocol: protocol,
            };
            ctx.arm(s.opts.touch_timeout);
            s.hid.call(&request, &mut |e| ctx.hid(e))
        },
    )?;
    let outcome = attestation::verify(&att.fmt, &att.auth_data, &att.att_stmt, cdh)
        .map_err(ProbeError::Attestation)?;
    assertion::check_rp_id(&outcome.auth_data, rp_id)?;
    assertion::check_flags(&outcome.auth_data, true, v.mode != UserVerification::None)?;
    let cred = outcome
        .auth_data
        .attested_credential
        .as_ref()
        .ok_or(VerifyError::BadFlags("AT flag clear"))?;
    let public_key = cred.public_key()?;
    Ok(Registration {
        method: Method::Ctap2,
        rp_id: rp_id.to_owned(),
        credential_id: cred.credential_id.clone(),
        public_key,
        user_verification: v.mode,
        uv_fallback: v.fallback,
        attestation: outcome,
    })
}

/// getAssertion with the registered credential, verified.
pub(super) fn authenticate<T: Transport>(
    session: &mut ProbeSession<T>,
    info: &GetInfo,
    registration: &Registration,
    cdh: &[u8; 32],
    before: u32,
    ctx: &mut Ctx<'_>,
) -> Result<Authentication, ProbeError> {
    let rp_id = registration.rp_id.as_str();
    let (a, v): (Assertion, Verification) =
        with_verification(session, info, Op::GetAssertion, rp_id, ctx, |s, v, ctx| {
            let (param, protocol) = v.param(cdh);
            let request = GetAssertionRequest {
                rp_id: rp_id.to_owned(),
                client_data_hash: *cdh,
                allow_list: vec![registration.credential_id.clone()],
                up: None,
                uv: v.uv(),
                pin_uv_auth_param: param,
                pin_uv_auth_protocol: protocol,
            };
            ctx.arm(s.opts.touch_timeout);
            s.hid.call(&request, &mut |e| ctx.hid(e))
        })?;
    if let Some(id) = &a.credential_id
        && *id != registration.credential_id
    {
        return Err(VerifyError::InvalidField {
            field: "credential.id",
            reason: "not the credential in the allow list",
        }
        .into());
    }
    let parsed = assertion::verify(&registration.public_key, &a.auth_data, cdh, &a.signature)?;
    finish_authentication(parsed, rp_id, Method::Ctap2, v.mode, v.fallback, before)
}

pub(super) fn finish_authentication(
    parsed: AuthenticatorData,
    rp_id: &str,
    method: Method,
    mode: UserVerification,
    uv_fallback: Option<UvFallback>,
    before: u32,
) -> Result<Authentication, ProbeError> {
    assertion::check_rp_id(&parsed, rp_id)?;
    assertion::check_flags(&parsed, true, mode != UserVerification::None)?;
    let after = parsed.sign_count;
    Ok(Authentication {
        method,
        user_verification: mode,
        uv_fallback,
        user_present: parsed.flags.user_present,
        user_verified: parsed.flags.user_verified,
        sign_count: after,
        counter_increased: (before != 0 || after != 0).then_some(after > before),
    })
}
