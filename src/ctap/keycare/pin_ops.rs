//! Setting the first PIN and changing it: read the key's state, refuse what
//! must not be sent, run key agreement, send setPIN / changePIN once (never
//! again by itself), and read the state back so the caller can show it.

use crate::ctap::ctap2::client_pin;
use crate::ctap::ctap2::cmd;
use crate::ctap::ctap2::pin_protocol::PinProtocol;
use crate::ctap::error::CtapError;
use crate::ctap::status::CtapStatus;

use super::error::from_status;
use super::new_pin::{self, NewPin, NewPinError};
use super::state::{KeyState, PinSafety, client_pin_call, read_state, refresh_retries};
use super::{Ctap2Channel, KeycareError};

/// Runs getKeyAgreement and encapsulates a fresh shared secret.
pub(crate) fn agree(
    dev: &mut dyn Ctap2Channel,
    state: &KeyState,
) -> Result<PinProtocol, KeycareError> {
    let version = state.require_protocol()?;
    let ka = client_pin_call(dev, &client_pin::encode_get_key_agreement(version))?;
    Ok(PinProtocol::encapsulate(
        version,
        ka.require_key_agreement()?,
    )?)
}

fn check_length(new: &NewPin, state: &KeyState) -> Result<(), KeycareError> {
    let min = state.min_pin_length as usize;
    if new.code_points() < min {
        return Err(NewPinError::TooShort { min }.into());
    }
    Ok(())
}

/// Sets the first PIN of a key that has none (`clientPin` false). Returns
/// the key's state read back afterwards.
pub fn set_pin(dev: &mut dyn Ctap2Channel, new: &NewPin) -> Result<KeyState, KeycareError> {
    let (_, state) = read_state(dev)?;
    match state.client_pin {
        None => return Err(KeycareError::NoPinSupport),
        Some(true) => return Err(KeycareError::PinAlreadySet),
        Some(false) => {}
    }
    check_length(new, &state)?;
    let proto = agree(dev, &state)?;
    let request = new_pin::encode_set_pin(&proto, new)?;
    match dev.ctap2(cmd::CLIENT_PIN, &request, &mut |_| {}) {
        Ok(_) => {}
        // setPIN on a key that has a PIN (set meanwhile by another program).
        Err(CtapError::Status(CtapStatus::NotAllowed)) => return Err(KeycareError::PinAlreadySet),
        Err(e) => return Err(e.into()),
    }
    Ok(read_state(dev)?.1)
}

/// Changes the PIN: `current` as typed, `new` already checked. The retry
/// counter is read first; with one attempt left the change is refused unless
/// `safety` allows it. A wrong current PIN is reported with the attempts
/// left and never retried here.
pub fn change_pin(
    dev: &mut dyn Ctap2Channel,
    current: &str,
    new: &NewPin,
    safety: PinSafety,
) -> Result<KeyState, KeycareError> {
    let (_, state) = read_state(dev)?;
    match state.client_pin {
        None => return Err(KeycareError::NoPinSupport),
        Some(false) => return Err(KeycareError::PinNotSet),
        Some(true) => {}
    }
    check_length(new, &state)?;
    let current = new_pin::current_pin(current).map_err(KeycareError::CurrentPinShape)?;
    if new.as_pin().is_ok_and(|p| *p.hash16() == *current.hash16()) {
        return Err(KeycareError::SamePin);
    }
    state.check_attempt(safety)?;
    let proto = agree(dev, &state)?;
    let request = new_pin::encode_change_pin(&proto, &current, new)?;
    if let Err(e) = dev.ctap2(cmd::CLIENT_PIN, &request, &mut |_| {}) {
        return Err(after_failed_attempt(dev, state, e));
    }
    Ok(read_state(dev)?.1)
}

/// Maps a failed PIN attempt, re-reading the counter so the caller can say
/// how many attempts are left.
pub(crate) fn after_failed_attempt(
    dev: &mut dyn Ctap2Channel,
    mut state: KeyState,
    e: CtapError,
) -> KeycareError {
    match e {
        CtapError::Status(CtapStatus::PinInvalid) => {
            let _ = refresh_retries(dev, &mut state);
            match state.pin_retries {
                Some(0) => KeycareError::PinBlocked,
                retries => from_status(CtapStatus::PinInvalid, retries),
            }
        }
        other => other.into(),
    }
}
