//! Probes through an operating system's WebAuthn API instead of raw HID:
//! on Windows, webauthn.dll (the Windows Security dialog a browser shows),
//! the path a process without administrator rights must take on Windows 10
//! 1903 and later.
//!
//! This module owns the translation, kept free of FFI so it is tested on
//! every OS: the requests this program asks for ([`CreateRequest`]: a
//! security key only, direct attestation, a non-discoverable credential for
//! the throw-away relying party id; [`GetRequest`] with that credential),
//! the answers turned into the same [`Registration`] / [`Authentication`]
//! through the same verification as the HID path (attestation statement,
//! rpIdHash, flags, assertion signature), and the API's HRESULTs mapped to
//! the same [`FailureCode`]s. The API itself sits behind the
//! [`PlatformAuthenticator`] trait; the Windows implementation is
//! `platform_windows` (built for Windows only).
//!
//! What such an API cannot tell (the key's GetInfo, PIN and UV retries) is
//! reported as not available: the key stage is skipped with that reason, and
//! the model's GetInfo as its maker declared it in the metadata is attached,
//! marked as declared, never as read from the key.

use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::ctap2_path::finish_authentication;
use super::failure::{FailureCode, ProbeError};
use super::report::{Authentication, Method, Outcome, ProbeReport, Registration, Stage};
use super::session::{ProbeEvent, ProbeOptions, UvRequirement};
use super::webauthn::{self, client_data};
use crate::ctap::ctap2::{ALG_EDDSA, ALG_ES256};
use crate::ctap::verify::attestation::AttestationObject;
use crate::ctap::verify::metadata::Metadata;
use crate::ctap::verify::{VerifyError, assertion};

/// Oldest webauthn.dll API version this program uses (version 1 has
/// MakeCredential and GetAssertion with the options used here).
pub const MIN_API_VERSION: u32 = 1;

/// The device string that selects this path.
pub const DEVICE: &str = "webauthn:";

/// Whether `device` selects this path (`webauthn:`, or `webauthn` without
/// the colon).
pub fn is_device(device: &str) -> bool {
    device == DEVICE || device == "webauthn"
}

/// Which authenticators the OS may offer (WebAuthn `authenticatorAttachment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attachment {
    /// Security keys only (USB, NFC, BLE): never the computer's own
    /// authenticator (Windows Hello).
    CrossPlatform,
}

/// Attestation conveyance asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conveyance {
    /// The key's own attestation statement, unchanged.
    Direct,
}

/// WebAuthn `userVerification`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UvPolicy {
    /// Fail when the user cannot be verified.
    Required,
    /// Verify when the key can.
    Preferred,
    /// Do not ask unless the key insists.
    Discouraged,
}

impl From<UvRequirement> for UvPolicy {
    fn from(r: UvRequirement) -> Self {
        match r {
            UvRequirement::Required => UvPolicy::Required,
            UvRequirement::Preferred => UvPolicy::Preferred,
            UvRequirement::Discouraged => UvPolicy::Discouraged,
        }
    }
}

/// A registration request, in the API's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRequest {
    /// Relying party id.
    pub rp_id: String,
    /// Relying party display name.
    pub rp_name: String,
    /// Random user handle (nothing personal).
    pub user_id: Vec<u8>,
    /// User name shown in the dialog.
    pub user_name: String,
    /// User display name shown in the dialog.
    pub user_display_name: String,
    /// The clientDataJSON the API hashes (SHA-256) for the key.
    pub client_data_json: String,
    /// COSE algorithms, in order of preference.
    pub algorithms: Vec<i64>,
    /// Which authenticators may answer.
    pub attachment: Attachment,
    /// Attestation conveyance.
    pub attestation: Conveyance,
    /// A discoverable (resident) credential: always false here.
    pub resident_key: bool,
    /// User verification.
    pub user_verification: UvPolicy,
    /// How long the dialog waits.
    pub timeout: Duration,
}

/// What the API returns for a registration.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CreateResponse {
    /// The WebAuthn attestationObject (CBOR).
    pub attestation_object: Vec<u8>,
    /// The credential id, as the API reports it separately.
    pub credential_id: Vec<u8>,
}

/// A sign-in request, in the API's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRequest {
    /// Relying party id.
    pub rp_id: String,
    /// The clientDataJSON the API hashes for the key.
    pub client_data_json: String,
    /// The one credential allowed (the one just made).
    pub allow_credential: Vec<u8>,
    /// Which authenticators may answer.
    pub attachment: Attachment,
    /// User verification.
    pub user_verification: UvPolicy,
    /// How long the dialog waits.
    pub timeout: Duration,
}

/// What the API returns for a sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GetResponse {
    /// authenticatorData, as signed.
    pub auth_data: Vec<u8>,
    /// The assertion signature.
    pub signature: Vec<u8>,
    /// The credential that signed.
    pub credential_id: Vec<u8>,
}

/// A failed API call: its HRESULT and, when the API names it, its name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} (HRESULT 0x{hresult:08X})")]
pub struct PlatformError {
    /// The HRESULT, as an unsigned 32-bit value (`0x80090036`).
    pub hresult: u32,
    /// The API's name for it (`NTE_USER_CANCELLED`), or a description.
    pub name: String,
}

impl PlatformError {
    /// The failure kind this HRESULT means, the same as on the HID path.
    pub fn code(&self) -> FailureCode {
        code_for_hresult(self.hresult)
    }
}

/// HRESULTs the WebAuthn API returns (values from the Windows SDK).
pub mod hresult {
    /// The user cancelled the dialog (or it timed out on some versions).
    pub const NTE_USER_CANCELLED: u32 = 0x8009_0036;
    /// No such credential / no matching key.
    pub const NTE_NOT_FOUND: u32 = 0x8009_0011;
    /// No authenticator available.
    pub const NTE_DEVICE_NOT_FOUND: u32 = 0x8009_0035;
    /// The request is not supported (algorithm, option).
    pub const NTE_NOT_SUPPORTED: u32 = 0x8009_0029;
    /// The key cannot store more credentials.
    pub const NTE_TOKEN_KEYSET_STORAGE_FULL: u32 = 0x8009_0023;
    /// A credential in the exclude list already exists on the key.
    pub const NTE_EXISTS: u32 = 0x8009_000F;
    /// A parameter was refused.
    pub const NTE_INVALID_PARAMETER: u32 = 0x8009_0027;
    /// HRESULT_FROM_WIN32(ERROR_TIMEOUT).
    pub const TIMEOUT: u32 = 0x8007_05B4;
    /// HRESULT_FROM_WIN32(ERROR_CANCELLED).
    pub const CANCELLED: u32 = 0x8007_04C7;
    /// HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED).
    pub const WIN32_NOT_SUPPORTED: u32 = 0x8007_0032;
    /// E_ACCESSDENIED.
    pub const ACCESS_DENIED: u32 = 0x8007_0005;
    /// HRESULT_FROM_WIN32(ERROR_MOD_NOT_FOUND): no webauthn.dll.
    pub const MOD_NOT_FOUND: u32 = 0x8007_007E;
    /// HRESULT_FROM_WIN32(ERROR_PROC_NOT_FOUND): the DLL lacks a function.
    pub const PROC_NOT_FOUND: u32 = 0x8007_007F;
}

/// The failure kind for an HRESULT of the WebAuthn API.
pub fn code_for_hresult(hr: u32) -> FailureCode {
    use hresult::*;
    match hr {
        NTE_USER_CANCELLED | CANCELLED => FailureCode::Cancelled,
        NTE_NOT_FOUND | NTE_DEVICE_NOT_FOUND => FailureCode::NotFound,
        TIMEOUT => FailureCode::TouchTimeout,
        NTE_NOT_SUPPORTED | WIN32_NOT_SUPPORTED | MOD_NOT_FOUND | PROC_NOT_FOUND => {
            FailureCode::NotSupported
        }
        NTE_TOKEN_KEYSET_STORAGE_FULL => FailureCode::KeyStoreFull,
        NTE_EXISTS => FailureCode::UserRefused,
        ACCESS_DENIED => FailureCode::PermissionDenied,
        _ => FailureCode::Transport,
    }
}

/// An OS WebAuthn API (webauthn.dll on Windows; a fake in tests).
pub trait PlatformAuthenticator {
    /// The API version (`WebAuthNGetApiVersionNumber`).
    fn api_version(&self) -> Result<u32, PlatformError>;
    /// Registers a credential (`WebAuthNAuthenticatorMakeCredential`).
    fn make_credential(&mut self, req: &CreateRequest) -> Result<CreateResponse, PlatformError>;
    /// Signs in (`WebAuthNAuthenticatorGetAssertion`).
    fn get_assertion(&mut self, req: &GetRequest) -> Result<GetResponse, PlatformError>;
}

/// The registration request a probe sends: a security key only, direct
/// attestation, non-discoverable, for `opts.rp_id`.
pub fn create_request(opts: &ProbeOptions, challenge: &[u8], user_id: &[u8]) -> CreateRequest {
    let (json, _) = client_data("webauthn.create", challenge, &origin(&opts.rp_id));
    CreateRequest {
        rp_id: opts.rp_id.clone(),
        rp_name: "fido-doctor test".into(),
        user_id: user_id.to_vec(),
        user_name: "fido-doctor".into(),
        user_display_name: "fido-doctor test".into(),
        client_data_json: json,
        algorithms: vec![ALG_ES256, ALG_EDDSA],
        attachment: Attachment::CrossPlatform,
        attestation: Conveyance::Direct,
        resident_key: false,
        user_verification: opts.user_verification.into(),
        timeout: opts.touch_timeout,
    }
}

/// The sign-in request for the credential of `registration`.
pub fn get_request(
    opts: &ProbeOptions,
    challenge: &[u8],
    registration: &Registration,
) -> GetRequest {
    let (json, _) = client_data("webauthn.get", challenge, &origin(&registration.rp_id));
    GetRequest {
        rp_id: registration.rp_id.clone(),
        client_data_json: json,
        allow_credential: registration.credential_id.clone(),
        attachment: Attachment::CrossPlatform,
        user_verification: opts.user_verification.into(),
        timeout: opts.touch_timeout,
    }
}

fn origin(rp_id: &str) -> String {
    format!("https://{rp_id}")
}

fn hash(json: &str) -> [u8; 32] {
    Sha256::digest(json.as_bytes()).into()
}

/// Verifies a registration answer like the HID path does: attestation
/// statement (against the embedded metadata), rpIdHash, UP (and UV when
/// required), the attested credential and its id.
pub fn registration_from(
    req: &CreateRequest,
    resp: &CreateResponse,
) -> Result<Registration, ProbeError> {
    let object =
        AttestationObject::parse(&resp.attestation_object).map_err(ProbeError::Attestation)?;
    let outcome = object
        .verify(&hash(&req.client_data_json))
        .map_err(ProbeError::Attestation)?;
    assertion::check_rp_id(&outcome.auth_data, &req.rp_id)?;
    let uv_required = req.user_verification == UvPolicy::Required;
    assertion::check_flags(&outcome.auth_data, true, uv_required)?;
    let cred = outcome
        .auth_data
        .attested_credential
        .as_ref()
        .ok_or(VerifyError::BadFlags("AT flag clear"))?;
    if !resp.credential_id.is_empty() && resp.credential_id != cred.credential_id {
        return Err(VerifyError::InvalidField {
            field: "credential id",
            reason: "differs from the one in the authenticator data",
        }
        .into());
    }
    let public_key = cred.public_key()?;
    let user_verification = uv_mode(outcome.auth_data.flags.user_verified);
    Ok(Registration {
        method: Method::Platform,
        rp_id: req.rp_id.clone(),
        credential_id: cred.credential_id.clone(),
        public_key,
        user_verification,
        uv_fallback: None,
        attestation: outcome,
    })
}

/// Verifies a sign-in answer: the credential, the signature with the
/// registered public key, rpIdHash, flags and counter.
pub fn authentication_from(
    req: &GetRequest,
    registration: &Registration,
    resp: &GetResponse,
) -> Result<Authentication, ProbeError> {
    if !resp.credential_id.is_empty() && resp.credential_id != registration.credential_id {
        return Err(VerifyError::InvalidField {
            field: "credential.id",
            reason: "not the credential in the allow list",
        }
        .into());
    }
    let parsed = assertion::verify(
        &registration.public_key,
        &resp.auth_data,
        &hash(&req.client_data_json),
        &resp.signature,
    )?;
    let mode = uv_mode(parsed.flags.user_verified);
    if req.user_verification == UvPolicy::Required && !parsed.flags.user_verified {
        return Err(VerifyError::UserNotVerified.into());
    }
    let before = registration.attestation.auth_data.sign_count;
    finish_authentication(parsed, &req.rp_id, Method::Platform, mode, None, before)
}

/// The dialog verified the user (UV flag) or not; which method it used
/// (PIN or fingerprint) the API does not say.
fn uv_mode(verified: bool) -> super::report::UserVerification {
    if verified {
        super::report::UserVerification::System
    } else {
        super::report::UserVerification::None
    }
}

/// A probe through an OS API, with what that path cannot tell.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlatformProbe {
    /// The API version, when it could be read.
    pub api_version: Option<u32>,
    /// Stages as on the HID path; the key stage is skipped (see [`Self::not_available`]).
    pub report: ProbeReport,
    /// What this path cannot read from the key.
    pub not_available: Vec<&'static str>,
    /// The model named by the attested AAGUID, when the metadata knows it.
    pub model: Option<String>,
    /// The GetInfo the model's maker declared in the metadata: a stand-in
    /// for the key's own answer, which this path cannot read.
    pub declared_get_info: Option<serde_json::Value>,
}

/// What an OS API cannot read from the key.
pub const NOT_AVAILABLE: [&str; 3] = ["get-info", "pin-retries", "uv-retries"];

/// Runs registration and sign-in through `api`, verified like the HID path.
/// Never reports success for a stage the API did not complete.
pub fn run(
    api: &mut dyn PlatformAuthenticator,
    opts: &ProbeOptions,
    on_event: &mut dyn FnMut(ProbeEvent),
) -> PlatformProbe {
    let skipped_key = Outcome::Skipped {
        reason: "the WebAuthn API does not expose the key's GetInfo or PIN retries".into(),
    };
    let mut probe = PlatformProbe {
        api_version: None,
        report: ProbeReport {
            device: DEVICE.into(),
            key: skipped_key,
            registration: Outcome::Skipped {
                reason: "the WebAuthn API is not available".into(),
            },
            authentication: Outcome::Skipped {
                reason: "registration did not succeed".into(),
            },
        },
        not_available: NOT_AVAILABLE.to_vec(),
        model: None,
        declared_get_info: None,
    };
    match api.api_version() {
        Ok(v) if v >= MIN_API_VERSION => probe.api_version = Some(v),
        Ok(v) => {
            probe.api_version = Some(v);
            probe.report.registration = failed(
                PlatformError {
                    hresult: hresult::WIN32_NOT_SUPPORTED,
                    name: format!("WebAuthn API version {v} is older than {MIN_API_VERSION}"),
                },
                Duration::ZERO,
            );
            return probe;
        }
        Err(e) => {
            probe.report.registration = failed(e, Duration::ZERO);
            return probe;
        }
    }

    on_event(ProbeEvent::Stage(Stage::Register));
    let start = Instant::now();
    let challenge: [u8; 32] = webauthn::random();
    let user_id: [u8; 16] = webauthn::random();
    let req = create_request(opts, &challenge, &user_id);
    let reg = match api.make_credential(&req) {
        Ok(resp) => Outcome::from_result(registration_from(&req, &resp), start.elapsed()),
        Err(e) => failed(e, start.elapsed()),
    };
    on_event(ProbeEvent::StageDone {
        stage: Stage::Register,
        ok: reg.is_ok(),
        elapsed: start.elapsed(),
    });
    probe.report.registration = reg;
    let Some(registration) = probe.report.registration.ok().cloned() else {
        return probe;
    };
    if let Some(model) = registration
        .attestation
        .auth_data
        .aaguid()
        .and_then(|a| Metadata::embedded().lookup(&a))
    {
        probe.model = Some(model.name.clone());
        probe.declared_get_info = model.get_info.clone();
    }

    on_event(ProbeEvent::Stage(Stage::Authenticate));
    let start = Instant::now();
    let challenge: [u8; 32] = webauthn::random();
    let req = get_request(opts, &challenge, &registration);
    let auth = match api.get_assertion(&req) {
        Ok(resp) => Outcome::from_result(
            authentication_from(&req, &registration, &resp),
            start.elapsed(),
        ),
        Err(e) => failed(e, start.elapsed()),
    };
    on_event(ProbeEvent::StageDone {
        stage: Stage::Authenticate,
        ok: auth.is_ok(),
        elapsed: start.elapsed(),
    });
    probe.report.authentication = auth;
    probe
}

fn failed<T>(e: PlatformError, elapsed: Duration) -> Outcome<T> {
    Outcome::from_result(Err(ProbeError::Platform(e)), elapsed)
}

#[cfg(test)]
#[path = "platform_tests.rs"]
pub(crate) mod tests;
