//! What a key says about its PIN before and after key care: GetInfo's
//! clientPin, minPINLength and forcePINChange, plus getPINRetries.

use serde::Serialize;

use crate::ctap::ctap2::client_pin::{self, ClientPinResponse};
use crate::ctap::ctap2::pin_protocol::PinProtocolVersion;
use crate::ctap::ctap2::{GetInfo, cmd};

use super::new_pin::effective_min_len;
use super::{Ctap2Channel, KeycareError};

/// What the caller allows when PIN attempts are about to be spent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PinSafety {
    /// Submit a PIN even when only one attempt is left (a wrong PIN then
    /// blocks the key). Off unless the user chose it explicitly.
    pub allow_last_attempt: bool,
}

/// A key's PIN state, as reported after reading GetInfo (and the retry
/// counter when a PIN is set). Serialised in `--json` output; holds no PIN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyState {
    /// GetInfo `clientPin`: `null` = the key cannot have a PIN, false = none
    /// set, true = set.
    pub client_pin: Option<bool>,
    /// PIN attempts left (only when a PIN is set).
    pub pin_retries: Option<u32>,
    /// The key takes no PIN attempt before a re-plug (powerCycleState).
    pub power_cycle_required: bool,
    /// Shortest PIN the key accepts, in code points (minPINLength, at least 4).
    pub min_pin_length: u32,
    /// The key demands a new PIN before it gives out tokens (forcePINChange).
    pub force_pin_change: bool,
    /// Which credential management the key offers.
    pub credential_management: CredMgmtSupport,
    /// Whether the key speaks CTAP 2.1.
    pub fido_2_1: bool,
    /// The PIN protocol this program will use with the key, if any.
    #[serde(skip)]
    pub protocol: Option<PinProtocolVersion>,
    /// The pinUvAuthToken (permissions) flavour of getting a token.
    #[serde(skip)]
    pub token_with_permissions: bool,
}

/// Credential management flavour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredMgmtSupport {
    /// authenticatorCredentialManagement (0x0A), option `credMgmt`.
    Standard,
    /// The 2.1 preview command (0x41), option `credentialMgmtPreview`.
    Preview,
    /// Neither.
    None,
}

impl CredMgmtSupport {
    /// The command byte to use, if any.
    pub fn command(self) -> Option<u8> {
        match self {
            Self::Standard => Some(super::cmd::CREDENTIAL_MANAGEMENT),
            Self::Preview => Some(super::cmd::CREDENTIAL_MANAGEMENT_PREVIEW),
            Self::None => None,
        }
    }
}

impl KeyState {
    /// The state GetInfo alone describes (no retry counter yet).
    pub fn from_info(info: &GetInfo) -> Self {
        let credential_management = if info.options.get("credMgmt") == Some(&true) {
            CredMgmtSupport::Standard
        } else if info.options.get("credentialMgmtPreview") == Some(&true) {
            CredMgmtSupport::Preview
        } else {
            CredMgmtSupport::None
        };
        Self {
            client_pin: info.client_pin(),
            pin_retries: None,
            power_cycle_required: false,
            min_pin_length: u32::try_from(effective_min_len(info.min_pin_length))
                .unwrap_or(u32::MAX),
            force_pin_change: info.force_pin_change == Some(true),
            credential_management,
            fido_2_1: info.is_fido_2_1(),
            protocol: PinProtocolVersion::choose(&info.pin_uv_auth_protocols).ok(),
            token_with_permissions: info.pin_uv_auth_token() || info.is_fido_2_1(),
        }
    }

    /// The protocol to use, or an error when the key offers none we speak.
    pub fn require_protocol(&self) -> Result<PinProtocolVersion, KeycareError> {
        self.protocol.ok_or(KeycareError::Protocol(
            crate::ctap::ctap2::PinError::Unsupported,
        ))
    }

    /// Refuses when the next PIN attempt must not be made: blocked, re-plug
    /// needed, or the last attempt without the caller's consent.
    pub fn check_attempt(&self, safety: PinSafety) -> Result<(), KeycareError> {
        match self.pin_retries {
            Some(0) => Err(KeycareError::PinBlocked),
            _ if self.power_cycle_required => Err(KeycareError::PowerCycleNeeded),
            Some(1) if !safety.allow_last_attempt => Err(KeycareError::LastAttemptRefused),
            _ => Ok(()),
        }
    }
}

/// Reads GetInfo and, when a PIN is set, the retry counter.
pub fn read_state(dev: &mut dyn Ctap2Channel) -> Result<(GetInfo, KeyState), KeycareError> {
    if !dev.speaks_ctap2() {
        return Err(KeycareError::U2fOnly);
    }
    let body = dev.ctap2(cmd::GET_INFO, &[], &mut |_| {})?;
    let info = GetInfo::decode(&body)?;
    let mut state = KeyState::from_info(&info);
    refresh_retries(dev, &mut state)?;
    Ok((info, state))
}

/// Re-reads getPINRetries into `state` (when a PIN is set).
pub fn refresh_retries(
    dev: &mut dyn Ctap2Channel,
    state: &mut KeyState,
) -> Result<(), KeycareError> {
    if let (Some(true), Some(p)) = (state.client_pin, state.protocol) {
        let r = client_pin_call(dev, &client_pin::encode_get_pin_retries(p))?;
        state.pin_retries = r.pin_retries.map(|n| u32::try_from(n).unwrap_or(u32::MAX));
        state.power_cycle_required = r.power_cycle_state == Some(true);
    }
    Ok(())
}

/// One ClientPIN command, decoded.
pub fn client_pin_call(
    dev: &mut dyn Ctap2Channel,
    params: &[u8],
) -> Result<ClientPinResponse, KeycareError> {
    let body = dev.ctap2(cmd::CLIENT_PIN, params, &mut |_| {})?;
    Ok(ClientPinResponse::decode(&body)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(retries: Option<u32>, cycle: bool) -> KeyState {
        KeyState {
            client_pin: Some(true),
            pin_retries: retries,
            power_cycle_required: cycle,
            min_pin_length: 4,
            force_pin_change: false,
            credential_management: CredMgmtSupport::Standard,
            fido_2_1: true,
            protocol: Some(PinProtocolVersion::V2),
            token_with_permissions: true,
        }
    }

    #[test]
    fn attempts_are_refused_when_they_must_not_be_spent() {
        let strict = PinSafety::default();
        let allow = PinSafety {
            allow_last_attempt: true,
        };
        assert!(state(Some(8), false).check_attempt(strict).is_ok());
        assert!(matches!(
            state(Some(1), false).check_attempt(strict),
            Err(KeycareError::LastAttemptRefused)
        ));
        assert!(state(Some(1), false).check_attempt(allow).is_ok());
        assert!(matches!(
            state(Some(0), false).check_attempt(allow),
            Err(KeycareError::PinBlocked)
        ));
        assert!(matches!(
            state(Some(5), true).check_attempt(allow),
            Err(KeycareError::PowerCycleNeeded)
        ));
    }
}
