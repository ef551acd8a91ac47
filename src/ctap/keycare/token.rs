//! A PIN token for key care (credential management needs the `cm`
//! permission): the retry counter is read and shown to the PIN source before
//! every attempt, the last attempt is spent only with the caller's consent,
//! the same PIN is never submitted twice, and the token is zeroized.

use zeroize::Zeroizing;

use crate::ctap::ctap2::client_pin::{self, ClientPinResponse, Permissions};
use crate::ctap::ctap2::cmd;
use crate::ctap::error::CtapError;
use crate::ctap::probe::{PinAnswer, PinRequest, PinSource};
use crate::ctap::status::CtapStatus;

use super::new_pin;
use super::pin_ops::{after_failed_attempt, agree};
use super::state::{KeyState, PinSafety, refresh_retries};
use super::{Ctap2Channel, KeycareError};

/// PIN attempts within one call before giving up (the key keeps its own counters).
const MAX_ATTEMPTS: usize = 3;

/// A pinUvAuthToken and the protocol it belongs to (the probe's type too).
pub use crate::ctap::ctap2::pin_protocol::PinUvAuthToken as Token;

/// Gets a token with `permissions` (getPinUvAuthTokenUsingPinWithPermissions
/// on CTAP 2.1 keys, getPinToken on older ones), asking `pin` for the PIN.
/// `state` must be fresh from [`super::read_state`].
pub fn pin_token(
    dev: &mut dyn Ctap2Channel,
    state: &KeyState,
    permissions: Permissions,
    rp_id: Option<&str>,
    pin: &mut dyn PinSource,
    safety: PinSafety,
) -> Result<Token, KeycareError> {
    match state.client_pin {
        None => return Err(KeycareError::NoPinSupport),
        Some(false) => return Err(KeycareError::PinNotSet),
        Some(true) => {}
    }
    if state.force_pin_change {
        return Err(KeycareError::ForcePinChange);
    }
    let mut state = state.clone();
    let mut previous: Option<Zeroizing<[u8; 16]>> = None;
    let mut last_err: Option<KeycareError> = None;
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            refresh_retries(dev, &mut state)?;
        }
        state.check_attempt(safety)?;
        let request = PinRequest {
            retries: state.pin_retries,
            last_attempt: state.pin_retries == Some(1),
            previous_wrong: last_err.is_some(),
            rp_id: rp_id.unwrap_or_default().to_owned(),
            uv_fallback: None,
        };
        let raw = match pin.request_pin(&request) {
            PinAnswer::Pin(raw) => raw,
            PinAnswer::Declined | PinAnswer::Unavailable => {
                return Err(last_err.unwrap_or(KeycareError::PinDeclined));
            }
        };
        let current = new_pin::current_pin(&raw).map_err(KeycareError::CurrentPinShape)?;
        let hash = current.hash16();
        if previous.as_ref().is_some_and(|p| **p == *hash) {
            // The same PIN again would only burn another attempt.
            break;
        }
        previous = Some(hash);
        let proto = agree(dev, &state)?;
        let request = if state.token_with_permissions {
            client_pin::encode_get_token_using_pin(&proto, &current, permissions, rp_id)?
        } else {
            client_pin::encode_get_pin_token(&proto, &current)?
        };
        match dev.ctap2(cmd::CLIENT_PIN, &request, &mut |_| {}) {
            Ok(body) => {
                let resp = ClientPinResponse::decode(&body)?;
                let token = resp.decrypt_token(&proto)?;
                return Ok(Token::new(proto.version(), token));
            }
            Err(CtapError::Status(CtapStatus::PinPolicyViolation)) => {
                return Err(KeycareError::ForcePinChange);
            }
            Err(e @ CtapError::Status(CtapStatus::PinInvalid)) => {
                let err = after_failed_attempt(dev, state.clone(), e);
                if !matches!(err, KeycareError::PinInvalid { .. }) {
                    return Err(err);
                }
                last_err = Some(err);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(last_err.unwrap_or(KeycareError::PinInvalid { retries: None }))
}
