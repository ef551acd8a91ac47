//! The CTAP1/U2F path of a probe: REGISTER and AUTHENTICATE with 0x6985
//! polling (U2F keys send no keep-alives), verified the way WebAuthn
//! verifies U2F authenticators (fido-u2f attestation over rebuilt
//! authenticator data).

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::failure::ProbeError;
use super::report::{Authentication, Method, Registration, UserVerification};
use super::session::{Ctx, ProbeSession};
use crate::ctap::error::CtapError;
use crate::ctap::u2f::{self, AuthControl, U2fAuthentication, U2fRegistration};
use crate::ctap::verify::attestation;
use crate::ctap::verify::{CoseKey, assertion};
use crate::transport::Transport;

/// How often a U2F key is asked again while it waits for a touch.
const U2F_POLL: Duration = Duration::from_millis(200);

fn poll<T: Transport>(
    session: &mut ProbeSession<T>,
    apdu: &[u8],
    ctx: &mut Ctx<'_>,
) -> Result<Vec<u8>, CtapError> {
    let timeout = session.opts.touch_timeout;
    let cancel = session.hid.cancel_handle();
    ctx.arm(timeout);
    let mut on = |e| ctx.hid(e);
    u2f::send_polling(&mut session.hid, apdu, timeout, U2F_POLL, &mut on, &|| {
        cancel.is_cancelled()
    })
}

pub(super) fn register<T: Transport>(
    session: &mut ProbeSession<T>,
    rp_id: &str,
    cdh: &[u8; 32],
    ctx: &mut Ctx<'_>,
) -> Result<Registration, ProbeError> {
    let app: [u8; 32] = Sha256::digest(rp_id.as_bytes()).into();
    let apdu = u2f::encode_register(cdh, &app);
    let body = poll(session, &apdu, ctx)?;
    let reg = U2fRegistration::parse(&body)?;
    // Verify as WebAuthn does for U2F authenticators: build the authenticator
    // data and a fido-u2f attestation statement, then check it.
    let public_key = CoseKey::from_sec1_uncompressed(&reg.user_public_key)?;
    let kh_len = u16::try_from(reg.key_handle.len())
        .map_err(|_| CtapError::malformed("U2F register response", "key handle too long"))?;
    let mut auth_data = app.to_vec();
    auth_data.push(0x41); // UP | AT
    auth_data.extend_from_slice(&0u32.to_be_bytes());
    auth_data.extend_from_slice(&[0u8; 16]);
    auth_data.extend_from_slice(&kh_len.to_be_bytes());
    auth_data.extend_from_slice(&reg.key_handle);
    auth_data.extend_from_slice(&public_key.to_cbor());
    let stmt = ciborium::Value::Map(vec![
        (
            ciborium::Value::Text("sig".into()),
            ciborium::Value::Bytes(reg.signature.clone()),
        ),
        (
            ciborium::Value::Text("x5c".into()),
            ciborium::Value::Array(vec![ciborium::Value::Bytes(reg.attestation_cert.clone())]),
        ),
    ]);
    let outcome =
        attestation::verify("fido-u2f", &auth_data, &stmt, cdh).map_err(ProbeError::Attestation)?;
    assertion::check_rp_id(&outcome.auth_data, rp_id)?;
    Ok(Registration {
        method: Method::U2f,
        rp_id: rp_id.to_owned(),
        credential_id: reg.key_handle,
        public_key,
        user_verification: UserVerification::None,
        uv_fallback: None,
        attestation: outcome,
    })
}

pub(super) fn authenticate<T: Transport>(
    session: &mut ProbeSession<T>,
    registration: &Registration,
    cdh: &[u8; 32],
    before: u32,
    ctx: &mut Ctx<'_>,
) -> Result<Authentication, ProbeError> {
    let app: [u8; 32] = Sha256::digest(registration.rp_id.as_bytes()).into();
    // Check-only first: the key must recognise its own key handle (0x6985).
    let check = u2f::encode_authenticate(
        AuthControl::CheckOnly,
        cdh,
        &app,
        &registration.credential_id,
    )?;
    let resp = session.hid.msg(&check, &mut |e| ctx.hid(e))?;
    let (_, sw) = u2f::split_sw(&resp)?;
    if sw != u2f::sw::CONDITIONS_NOT_SATISFIED {
        return Err(CtapError::U2f { sw }.into());
    }
    let apdu = u2f::encode_authenticate(
        AuthControl::EnforceUserPresence,
        cdh,
        &app,
        &registration.credential_id,
    )?;
    let body = poll(session, &apdu, ctx)?;
    let auth = U2fAuthentication::parse(&body)?;
    let mut auth_data = app.to_vec();
    auth_data.push(auth.user_presence);
    auth_data.extend_from_slice(&auth.counter.to_be_bytes());
    let parsed = assertion::verify(&registration.public_key, &auth_data, cdh, &auth.signature)?;
    super::ctap2_path::finish_authentication(
        parsed,
        &registration.rp_id,
        Method::U2f,
        UserVerification::None,
        None,
        before,
    )
}
