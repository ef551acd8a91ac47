//! Assertion (sign-in) verification: the signature over
//! authenticatorData || clientDataHash, the relying party id hash, and the
//! user presence / verification flags.

use sha2::{Digest, Sha256};

use super::VerifyError;
use super::authdata::AuthenticatorData;
use super::cose::CoseKey;

/// Parses `auth_data` and checks that `key` signed `auth_data || client_data_hash`.
/// Flags and rpIdHash are not judged here: see [`check_rp_id`] and [`check_flags`].
pub fn verify(
    key: &CoseKey,
    auth_data: &[u8],
    client_data_hash: &[u8; 32],
    signature: &[u8],
) -> Result<AuthenticatorData, VerifyError> {
    let parsed = AuthenticatorData::parse(auth_data)?;
    let mut signed = Vec::with_capacity(auth_data.len() + 32);
    signed.extend_from_slice(auth_data);
    signed.extend_from_slice(client_data_hash);
    key.verify(&signed, signature)?;
    Ok(parsed)
}

/// Checks that the authenticator data's rpIdHash is SHA-256 of `rp_id`.
pub fn check_rp_id(auth_data: &AuthenticatorData, rp_id: &str) -> Result<(), VerifyError> {
    let expected: [u8; 32] = Sha256::digest(rp_id.as_bytes()).into();
    if auth_data.rp_id_hash == expected {
        Ok(())
    } else {
        Err(VerifyError::RpIdHashMismatch)
    }
}

/// Checks the UP and UV flags against what the relying party requires, and
/// that BS is not set without BE (WebAuthn §6.1).
pub fn check_flags(
    auth_data: &AuthenticatorData,
    up_required: bool,
    uv_required: bool,
) -> Result<(), VerifyError> {
    let flags = auth_data.flags;
    if up_required && !flags.user_present {
        return Err(VerifyError::UserNotPresent);
    }
    if uv_required && !flags.user_verified {
        return Err(VerifyError::UserNotVerified);
    }
    if flags.backed_up && !flags.backup_eligible {
        return Err(VerifyError::BadFlags(
            "BS (backed up) set without BE (backup eligible)",
        ));
    }
    Ok(())
}
