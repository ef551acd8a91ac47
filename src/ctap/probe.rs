//! Live probes of one authenticator — the single entry point the CLI, the
//! TUI and the diagnosis use. A probe opens a CTAPHID channel, reads what
//! the key says about itself ([`info`]), makes a throw-away, non-discoverable
//! credential for a relying party id that belongs to no real service
//! ([`register`]) and signs in with it ([`authenticate`]), checking every
//! answer the way a relying party would. [`run`] does all three and never
//! reports success for a stage that did not complete against the device.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rand::RngCore;
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::ctap2::client_pin::{self, ClientPinResponse, Permissions};
use super::ctap2::pin_protocol::{Pin, PinError, PinProtocol, PinProtocolVersion};
use super::ctap2::{
    ALG_EDDSA, ALG_ES256, Assertion, Attestation, GetAssertionRequest, GetInfo,
    MakeCredentialRequest, cmd,
};
use super::ctaphid::{CancelHandle, CtapHid, HidEvent, HidOptions, InitInfo};
use super::error::CtapError;
use super::status::CtapStatus;
use super::u2f::{self, AuthControl, U2fAuthentication, U2fRegistration};
use super::verify::attestation::{self, AttestationOutcome};
use super::verify::authdata::AuthenticatorData;
use super::verify::{CoseKey, VerifyError, assertion};
use crate::transport::{Report, Transport, TransportError};

/// Relying party id used by probes: `.invalid` is reserved (RFC 2606), so the
/// credential can never be confused with one for a real service.
pub const DEFAULT_RP_ID: &str = "fido-doctor.invalid";

/// How often a U2F key is asked again while it waits for a touch.
const U2F_POLL: Duration = Duration::from_millis(200);

/// PIN attempts allowed within one stage before giving up (the key keeps
/// its own, stricter counters).
const MAX_PIN_ATTEMPTS: usize = 3;

/// Probe settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOptions {
    /// CTAPHID timeouts.
    pub hid: HidOptions,
    /// Relying party id for the test credential (default [`DEFAULT_RP_ID`]).
    pub rp_id: String,
    /// Longest wait for the user to touch the key, per stage (default 30 s).
    pub touch_timeout: Duration,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        Self {
            hid: HidOptions::default(),
            rp_id: DEFAULT_RP_ID.to_owned(),
            touch_timeout: Duration::from_secs(30),
        }
    }
}

/// Where the probe gets the PIN from (the TUI asks the user; tests script it).
pub trait PinSource: Send {
    /// Asks for the PIN. `retries` is what the key reports as left.
    /// `None` means the user declined.
    fn pin(&mut self, retries: Option<u32>) -> Option<Zeroizing<String>>;
}

/// A [`PinSource`] that always declines.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPin;

impl PinSource for NoPin {
    fn pin(&mut self, _retries: Option<u32>) -> Option<Zeroizing<String>> {
        None
    }
}

/// A [`PinSource`] that answers with a fixed PIN (CLI `--pin-env`, tests).
#[derive(Clone)]
pub struct FixedPin(pub Zeroizing<String>);

impl std::fmt::Debug for FixedPin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FixedPin(<redacted>)")
    }
}

impl PinSource for FixedPin {
    fn pin(&mut self, _retries: Option<u32>) -> Option<Zeroizing<String>> {
        Some(self.0.clone())
    }
}

/// Remembers the PIN its inner source gave, so the user types it once per
/// probe although each operation needs a fresh token. When the key reports
/// fewer attempts left than when the PIN was given, the PIN was wrong: it is
/// forgotten and the inner source is asked again.
pub struct RememberedPin<S: PinSource> {
    inner: S,
    pin: Option<Zeroizing<String>>,
    retries_seen: Option<u32>,
}

impl<S: PinSource> RememberedPin<S> {
    /// Wraps `inner`, which is asked only when no good PIN is remembered.
    pub fn new(inner: S) -> Self {
        RememberedPin {
            inner,
            pin: None,
            retries_seen: None,
        }
    }
}

impl<S: PinSource> PinSource for RememberedPin<S> {
    fn pin(&mut self, retries: Option<u32>) -> Option<Zeroizing<String>> {
        let fewer = matches!((retries, self.retries_seen), (Some(n), Some(b)) if n < b);
        self.retries_seen = retries;
        if let Some(p) = &self.pin
            && !fewer
        {
            return Some(p.clone());
        }
        self.pin = self.inner.pin(retries);
        self.pin.clone()
    }
}

/// The stages of a full probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// INIT + GetInfo (or U2F VERSION).
    Info,
    /// MakeCredential (or U2F REGISTER) and its verification.
    Register,
    /// GetAssertion (or U2F AUTHENTICATE) and its verification.
    Authenticate,
}

/// Progress reported while a probe runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeEvent {
    /// A stage starts.
    Stage(Stage),
    /// The key reports it is working (KEEPALIVE processing).
    Processing,
    /// The key waits for a touch.
    TouchNeeded,
    /// A PIN is about to be asked for.
    PinNeeded {
        /// Attempts left, as reported by the key.
        retries: Option<u32>,
    },
    /// A stage ended.
    StageDone {
        /// Which.
        stage: Stage,
        /// Whether it succeeded.
        ok: bool,
        /// How long it took.
        elapsed: Duration,
    },
}

/// What kind of authenticator answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyKind {
    /// Speaks CTAP2 (FIDO2).
    Fido2,
    /// Speaks only CTAP1/U2F: cannot be used for Entra ID passkey sign-in.
    U2fOnly,
}

/// What the key says about itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyReport {
    /// The device selection string (`hid:…`, `udp:…`, `sim:…`).
    pub device: String,
    /// FIDO2 or U2F-only.
    pub kind: KeyKind,
    /// The CTAPHID INIT answer.
    pub init: InitInfo,
    /// GetInfo (FIDO2 keys).
    pub info: Option<GetInfo>,
    /// U2F VERSION answer, when asked (U2F-only keys).
    pub u2f_version: Option<String>,
    /// PIN attempts left (only when a PIN is set).
    pub pin_retries: Option<u32>,
    /// The key must be re-plugged before PIN attempts continue.
    pub pin_power_cycle_required: Option<bool>,
    /// Built-in UV attempts left (keys with built-in UV).
    pub uv_retries: Option<u32>,
    /// Time to open the channel (CTAPHID INIT).
    #[serde(serialize_with = "ser_ms", rename = "open_ms")]
    pub open_time: Duration,
    /// Time for GetInfo / VERSION and the retry counters.
    #[serde(serialize_with = "ser_ms", rename = "info_ms")]
    pub info_time: Duration,
}

impl KeyReport {
    fn needs_pin(&self) -> bool {
        self.info
            .as_ref()
            .is_some_and(|i| i.client_pin() == Some(true) && i.uv() != Some(true))
    }
}

/// How a credential was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// CTAP2 makeCredential / getAssertion.
    Ctap2,
    /// CTAP1/U2F REGISTER / AUTHENTICATE.
    U2f,
}

/// How the user was verified for an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserVerification {
    /// No user verification asked (no PIN set, or U2F).
    None,
    /// PIN, through a pinUvAuthToken.
    Pin,
    /// The key's built-in method (fingerprint…).
    BuiltIn,
}

/// A verified registration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Registration {
    /// Protocol used.
    pub method: Method,
    /// Relying party id the credential is bound to.
    pub rp_id: String,
    /// Credential id (U2F: key handle).
    #[serde(serialize_with = "super::ctap2::hex_serde::bytes")]
    pub credential_id: Vec<u8>,
    /// The credential public key.
    pub public_key: CoseKey,
    /// How the user was verified.
    pub user_verification: UserVerification,
    /// The verified attestation (format, kind, certificate, AAGUID, authData).
    pub attestation: AttestationOutcome,
}

/// A verified authentication.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Authentication {
    /// Protocol used.
    pub method: Method,
    /// How the user was verified.
    pub user_verification: UserVerification,
    /// UP flag (always true for a successful probe).
    pub user_present: bool,
    /// UV flag.
    pub user_verified: bool,
    /// Signature counter after this sign-in.
    pub sign_count: u32,
    /// Whether the counter went up since registration (`None` if the key
    /// does not keep counters: both zero).
    pub counter_increased: Option<bool>,
}

/// Stable machine-readable failure codes (kebab-case in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureCode {
    /// The OS refused access to the device.
    PermissionDenied,
    /// The device went away.
    DeviceGone,
    /// No such device.
    NotFound,
    /// The device did not answer in time (not while waiting for a touch).
    Timeout,
    /// Other transport failure.
    Transport,
    /// The user did not touch the key in time.
    TouchTimeout,
    /// The user refused (operation denied on the key).
    UserRefused,
    /// The PIN is blocked (too many wrong PINs: the key must be reset).
    PinBlocked,
    /// Too many wrong PINs in a row: re-plug the key.
    PinAuthBlocked,
    /// The PIN was wrong (too many times within this probe).
    PinInvalid,
    /// A PIN is needed but none is set.
    PinNotSet,
    /// The user declined to enter the PIN.
    PinDeclined,
    /// The PIN entered breaks the length rules.
    PinFormat,
    /// Built-in user verification is blocked.
    UvBlocked,
    /// The key cannot store more credentials.
    KeyStoreFull,
    /// The key does not support what was asked (algorithm, option, command).
    NotSupported,
    /// The key answered with another CTAP status.
    CtapStatus,
    /// The key answered with a CTAPHID ERROR frame.
    HidError,
    /// The key answered with another U2F status word.
    U2fStatus,
    /// The key's answer was not well-formed.
    Malformed,
    /// The answer was well-formed but failed relying-party verification.
    VerificationFailed,
    /// Cancelled by the user of this program.
    Cancelled,
}

/// Everything that can end a probe stage.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// Talking to the key failed or the key refused.
    #[error(transparent)]
    Ctap(#[from] CtapError),
    /// The key's answer failed verification.
    #[error("verification failed: {0}")]
    Verify(#[from] VerifyError),
    /// PIN protocol failure on this side (bad PIN format, bad key agreement key).
    #[error(transparent)]
    Pin(#[from] PinError),
    /// The user declined to give the PIN.
    #[error("PIN entry declined")]
    PinDeclined,
    /// The user did not touch the key in time.
    #[error("the key was not touched in time")]
    TouchTimeout,
}

impl FailureCode {
    /// Every code, for tables keyed by code (texts in content/). A new code
    /// goes here and into [`FailureCode::as_str`], whose match is exhaustive.
    pub const ALL: [FailureCode; 22] = [
        FailureCode::PermissionDenied,
        FailureCode::DeviceGone,
        FailureCode::NotFound,
        FailureCode::Timeout,
        FailureCode::Transport,
        FailureCode::TouchTimeout,
        FailureCode::UserRefused,
        FailureCode::PinBlocked,
        FailureCode::PinAuthBlocked,
        FailureCode::PinInvalid,
        FailureCode::PinNotSet,
        FailureCode::PinDeclined,
        FailureCode::PinFormat,
        FailureCode::UvBlocked,
        FailureCode::KeyStoreFull,
        FailureCode::NotSupported,
        FailureCode::CtapStatus,
        FailureCode::HidError,
        FailureCode::U2fStatus,
        FailureCode::Malformed,
        FailureCode::VerificationFailed,
        FailureCode::Cancelled,
    ];

    /// The code as it appears in JSON (`touch-timeout`).
    pub fn as_str(self) -> &'static str {
        match self {
            FailureCode::PermissionDenied => "permission-denied",
            FailureCode::DeviceGone => "device-gone",
            FailureCode::NotFound => "not-found",
            FailureCode::Timeout => "timeout",
            FailureCode::Transport => "transport",
            FailureCode::TouchTimeout => "touch-timeout",
            FailureCode::UserRefused => "user-refused",
            FailureCode::PinBlocked => "pin-blocked",
            FailureCode::PinAuthBlocked => "pin-auth-blocked",
            FailureCode::PinInvalid => "pin-invalid",
            FailureCode::PinNotSet => "pin-not-set",
            FailureCode::PinDeclined => "pin-declined",
            FailureCode::PinFormat => "pin-format",
            FailureCode::UvBlocked => "uv-blocked",
            FailureCode::KeyStoreFull => "key-store-full",
            FailureCode::NotSupported => "not-supported",
            FailureCode::CtapStatus => "ctap-status",
            FailureCode::HidError => "hid-error",
            FailureCode::U2fStatus => "u2f-status",
            FailureCode::Malformed => "malformed",
            FailureCode::VerificationFailed => "verification-failed",
            FailureCode::Cancelled => "cancelled",
        }
    }
}

impl ProbeError {
    /// The stable failure code.
    pub fn code(&self) -> FailureCode {
        match self {
            ProbeError::Ctap(e) => ctap_code(e),
            ProbeError::Verify(_) => FailureCode::VerificationFailed,
            ProbeError::Pin(PinError::TooShort { .. } | PinError::TooLong) => {
                FailureCode::PinFormat
            }
            ProbeError::Pin(PinError::Unsupported) => FailureCode::NotSupported,
            ProbeError::Pin(_) => FailureCode::Malformed,
            ProbeError::PinDeclined => FailureCode::PinDeclined,
            ProbeError::TouchTimeout => FailureCode::TouchTimeout,
        }
    }

    /// The CTAP status byte, when the key answered with one.
    pub fn ctap_status(&self) -> Option<CtapStatus> {
        match self {
            ProbeError::Ctap(e) => e.status(),
            _ => None,
        }
    }
}

fn ctap_code(e: &CtapError) -> FailureCode {
    match e {
        CtapError::Transport(t) => match t {
            TransportError::PermissionDenied { .. } => FailureCode::PermissionDenied,
            TransportError::Gone(_) => FailureCode::DeviceGone,
            TransportError::NotFound(_) => FailureCode::NotFound,
            TransportError::Timeout(_) => FailureCode::Timeout,
            _ => FailureCode::Transport,
        },
        CtapError::Status(s) => match s {
            CtapStatus::UserActionTimeout | CtapStatus::ActionTimeout => FailureCode::TouchTimeout,
            CtapStatus::OperationDenied | CtapStatus::NotAllowed => FailureCode::UserRefused,
            CtapStatus::PinBlocked => FailureCode::PinBlocked,
            CtapStatus::PinAuthBlocked => FailureCode::PinAuthBlocked,
            CtapStatus::PinInvalid => FailureCode::PinInvalid,
            CtapStatus::PinNotSet => FailureCode::PinNotSet,
            CtapStatus::UvBlocked => FailureCode::UvBlocked,
            CtapStatus::KeyStoreFull => FailureCode::KeyStoreFull,
            CtapStatus::UnsupportedAlgorithm
            | CtapStatus::UnsupportedOption
            | CtapStatus::UnsupportedExtension
            | CtapStatus::InvalidCommand => FailureCode::NotSupported,
            CtapStatus::KeepaliveCancel => FailureCode::Cancelled,
            _ => FailureCode::CtapStatus,
        },
        CtapError::Hid(_) => FailureCode::HidError,
        CtapError::U2f { sw } => match *sw {
            u2f::sw::CONDITIONS_NOT_SATISFIED => FailureCode::TouchTimeout,
            u2f::sw::INS_NOT_SUPPORTED | u2f::sw::CLA_NOT_SUPPORTED => FailureCode::NotSupported,
            _ => FailureCode::U2fStatus,
        },
        CtapError::Cancelled => FailureCode::Cancelled,
        CtapError::NotSupported(_) => FailureCode::NotSupported,
        _ => FailureCode::Malformed,
    }
}

/// A failure, in a form that serializes and clones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Stable code.
    pub code: FailureCode,
    /// Human-readable message (English, technical).
    pub message: String,
    /// CTAP status byte, if the key sent one.
    pub ctap_status: Option<u8>,
    /// U2F status word, if the key sent one.
    pub u2f_sw: Option<u16>,
}

impl From<&ProbeError> for Failure {
    fn from(e: &ProbeError) -> Self {
        Failure {
            code: e.code(),
            message: e.to_string(),
            ctap_status: e.ctap_status().map(CtapStatus::code),
            u2f_sw: match e {
                ProbeError::Ctap(CtapError::U2f { sw }) => Some(*sw),
                _ => None,
            },
        }
    }
}

/// The result of one stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Outcome<T> {
    /// The stage completed against the device and verified.
    Ok {
        /// What it produced.
        value: T,
        /// How long it took.
        #[serde(serialize_with = "ser_ms", rename = "elapsed_ms")]
        elapsed: Duration,
    },
    /// The stage failed.
    Failed {
        /// Why.
        error: Failure,
        /// How long it took.
        #[serde(serialize_with = "ser_ms", rename = "elapsed_ms")]
        elapsed: Duration,
    },
    /// The stage did not run.
    Skipped {
        /// Why not (English, technical).
        reason: String,
    },
}

impl<T> Outcome<T> {
    /// The value, if the stage succeeded.
    pub fn ok(&self) -> Option<&T> {
        match self {
            Outcome::Ok { value, .. } => Some(value),
            _ => None,
        }
    }

    /// The failure, if the stage failed.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            Outcome::Failed { error, .. } => Some(error),
            _ => None,
        }
    }

    /// Whether the stage succeeded.
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok { .. })
    }

    fn from_result(r: Result<T, ProbeError>, elapsed: Duration) -> Self {
        match r {
            Ok(value) => Outcome::Ok { value, elapsed },
            Err(e) => Outcome::Failed {
                error: Failure::from(&e),
                elapsed,
            },
        }
    }
}

/// The result of a full probe.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeReport {
    /// The device selection string.
    pub device: String,
    /// What the key says about itself.
    pub key: Outcome<KeyReport>,
    /// Registration.
    pub registration: Outcome<Registration>,
    /// Authentication.
    pub authentication: Outcome<Authentication>,
}

impl ProbeReport {
    /// True only when every stage ran against the device and verified.
    pub fn all_ok(&self) -> bool {
        self.key.is_ok() && self.registration.is_ok() && self.authentication.is_ok()
    }
}

fn skipped<T>(reason: &str) -> Outcome<T> {
    Outcome::Skipped {
        reason: reason.to_owned(),
    }
}

fn ser_ms<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// An open connection to one key, ready for probe stages.
pub struct ProbeSession<T: Transport> {
    hid: CtapHid<T>,
    opts: ProbeOptions,
}

impl<T: Transport> ProbeSession<T> {
    /// Opens a CTAPHID channel (INIT). The response timeout is raised to the
    /// touch timeout so a key waiting for a touch is not given up early.
    pub fn open(transport: T, opts: &ProbeOptions) -> Result<Self, CtapError> {
        let mut hid_opts = opts.hid;
        hid_opts.response_timeout = hid_opts.response_timeout.max(opts.touch_timeout);
        Ok(Self {
            hid: CtapHid::open(transport, hid_opts)?,
            opts: opts.clone(),
        })
    }

    /// The underlying CTAPHID connection.
    pub fn hid(&mut self) -> &mut CtapHid<T> {
        &mut self.hid
    }

    /// A handle that cancels the running command from another thread.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.hid.cancel_handle()
    }

    /// authenticatorSelection (CTAP 2.1): the key blinks until the user
    /// touches it, so a user with several keys can show which one is meant.
    /// Keys without CTAP2 answer `NotSupported`.
    pub fn select(&mut self, on_event: &mut dyn FnMut(ProbeEvent)) -> Result<(), ProbeError> {
        let mut events = Events {
            sink: on_event,
            touch_seen: false,
        };
        let mut on = |e| events.hid(e);
        let result = self
            .hid
            .cbor(cmd::SELECTION, &super::ctap2::encode_selection(), &mut on);
        result.map(|_| ()).map_err(|e| events.classify(e))
    }

    /// authenticatorGetNextAssertion: the next of the `numberOfCredentials`
    /// assertions a GetAssertion without allow list announced. The caller
    /// verifies it like the first one.
    pub fn get_next_assertion(&mut self) -> Result<Assertion, ProbeError> {
        let body = self.hid.cbor(
            cmd::GET_NEXT_ASSERTION,
            &super::ctap2::encode_get_next_assertion(),
            &mut |_| {},
        )?;
        Ok(Assertion::decode(&body).map_err(CtapError::from)?)
    }
}

/// Opens `t` and reads what the key says about itself: GetInfo if it speaks
/// CTAP2, else U2F VERSION; PIN retries when a PIN is set.
pub fn info<T: Transport>(t: T, opts: &ProbeOptions) -> Result<KeyReport, CtapError> {
    let start = Instant::now();
    let mut session = ProbeSession::open(t, opts)?;
    let open_time = start.elapsed();
    query_info(&mut session, open_time)
}

/// Reads GetInfo / VERSION and retry counters on an open session.
pub fn query_info<T: Transport>(
    session: &mut ProbeSession<T>,
    open_time: Duration,
) -> Result<KeyReport, CtapError> {
    let start = Instant::now();
    let hid = &mut session.hid;
    let init = *hid.init_info();
    let device = hid.name();
    let mut report = KeyReport {
        device,
        kind: KeyKind::U2fOnly,
        init,
        info: None,
        u2f_version: None,
        pin_retries: None,
        pin_power_cycle_required: None,
        uv_retries: None,
        open_time,
        info_time: Duration::ZERO,
    };
    if init.capabilities.cbor {
        let body = hid.cbor(cmd::GET_INFO, &[], &mut |_| {})?;
        let info = GetInfo::decode(&body)?;
        report.kind = KeyKind::Fido2;
        let protocol = PinProtocolVersion::choose(&info.pin_uv_auth_protocols).ok();
        if let (Some(true), Some(p)) = (info.client_pin(), protocol) {
            let r = client_pin_call(hid, &client_pin::encode_get_pin_retries(p))?;
            report.pin_retries = r.pin_retries.map(to_u32);
            report.pin_power_cycle_required = r.power_cycle_state;
        }
        if let (Some(_), Some(p)) = (info.uv(), protocol) {
            // Optional counter: keys without built-in UV answer an error; ignore it.
            if let Ok(r) = client_pin_call(hid, &client_pin::encode_get_uv_retries(p)) {
                report.uv_retries = r.uv_retries.map(to_u32);
            }
        }
        report.info = Some(info);
    } else {
        let resp = hid.msg(&u2f::encode_version(), &mut |_| {})?;
        report.u2f_version = Some(u2f::parse_version(u2f::expect_ok(&resp)?)?);
    }
    report.info_time = start.elapsed();
    Ok(report)
}

fn to_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn client_pin_call<T: Transport>(
    hid: &mut CtapHid<T>,
    params: &[u8],
) -> Result<ClientPinResponse, CtapError> {
    let body = hid.cbor(cmd::CLIENT_PIN, params, &mut |_| {})?;
    Ok(ClientPinResponse::decode(&body)?)
}

/// Builds a WebAuthn-style clientDataJSON for `origin` and returns it with its SHA-256.
pub fn client_data(kind: &str, challenge: &[u8], origin: &str) -> (String, [u8; 32]) {
    let json = format!(
        r#"{{"type":"{kind}","challenge":"{}","origin":"{origin}","crossOrigin":false}}"#,
        base64url(challenge)
    );
    let hash = Sha256::digest(json.as_bytes()).into();
    (json, hash)
}

/// Unpadded base64url (RFC 4648 §5), as WebAuthn uses for challenges.
pub fn base64url(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let idx = ((n >> (18 - 6 * i)) & 0x3F) as usize;
            out.push(char::from(ALPHABET[idx]));
        }
    }
    out
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::thread_rng().fill_bytes(&mut b);
    b
}

/// Tracks touch prompts and forwards CTAPHID events as probe events.
struct Events<'a> {
    sink: &'a mut dyn FnMut(ProbeEvent),
    touch_seen: bool,
}

impl Events<'_> {
    fn hid(&mut self, e: HidEvent) {
        match e {
            HidEvent::Processing => (self.sink)(ProbeEvent::Processing),
            HidEvent::UpNeeded => {
                if !self.touch_seen {
                    self.touch_seen = true;
                    (self.sink)(ProbeEvent::TouchNeeded);
                }
            }
        }
    }

    /// A transport timeout after a touch prompt means nobody touched the key.
    fn classify(&self, e: CtapError) -> ProbeError {
        match e {
            CtapError::Transport(TransportError::Timeout(_)) if self.touch_seen => {
                ProbeError::TouchTimeout
            }
            other => ProbeError::Ctap(other),
        }
    }
}

/// A pinUvAuthToken and the protocol it was obtained with.
type Token = (PinProtocolVersion, Zeroizing<Vec<u8>>);

/// Obtains a fresh pinUvAuthToken for one operation (asking the PIN source),
/// or decides that built-in UV / no UV is used.
fn user_verification<T: Transport>(
    hid: &mut CtapHid<T>,
    key: &KeyReport,
    permissions: Permissions,
    rp_id: &str,
    pin: &mut dyn PinSource,
    events: &mut Events<'_>,
) -> Result<Option<Token>, ProbeError> {
    let Some(info) = key.info.as_ref() else {
        return Ok(None);
    };
    if !key.needs_pin() {
        return Ok(None);
    }
    let version = PinProtocolVersion::choose(&info.pin_uv_auth_protocols)?;
    let with_permissions = info.pin_uv_auth_token() || info.is_fido_2_1();
    let mut last_err: Option<CtapError> = None;
    let mut previous: Option<Zeroizing<[u8; 16]>> = None;
    for _ in 0..MAX_PIN_ATTEMPTS {
        let retries = client_pin_call(hid, &client_pin::encode_get_pin_retries(version))?
            .pin_retries
            .map(to_u32);
        if retries == Some(0) {
            return Err(CtapError::Status(CtapStatus::PinBlocked).into());
        }
        (events.sink)(ProbeEvent::PinNeeded { retries });
        let Some(raw) = pin.pin(retries) else {
            // Declining after a wrong PIN: the wrong PIN is the news.
            return Err(match last_err {
                Some(e) => e.into(),
                None => ProbeError::PinDeclined,
            });
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
        let ka = client_pin_call(hid, &client_pin::encode_get_key_agreement(version))?;
        let proto = PinProtocol::encapsulate(
            version,
            ka.require_key_agreement().map_err(CtapError::from)?,
        )?;
        let request = if with_permissions {
            client_pin::encode_get_token_using_pin(&proto, &pin, permissions, Some(rp_id))?
        } else {
            client_pin::encode_get_pin_token(&proto, &pin)?
        };
        let mut on = |e| events.hid(e);
        match hid.cbor(cmd::CLIENT_PIN, &request, &mut on) {
            Ok(body) => {
                let resp = ClientPinResponse::decode(&body).map_err(CtapError::from)?;
                let token = resp.decrypt_token(&proto).map_err(CtapError::from)?;
                return Ok(Some((version, token)));
            }
            Err(CtapError::Status(CtapStatus::PinInvalid)) => {
                last_err = Some(CtapError::Status(CtapStatus::PinInvalid));
            }
            Err(e) => return Err(events.classify(e)),
        }
    }
    Err(last_err
        .unwrap_or(CtapError::Status(CtapStatus::PinInvalid))
        .into())
}

fn uv_mode(key: &KeyReport, token: bool) -> UserVerification {
    if token {
        UserVerification::Pin
    } else if key.info.as_ref().is_some_and(|i| i.uv() == Some(true)) {
        UserVerification::BuiltIn
    } else {
        UserVerification::None
    }
}

fn origin(rp_id: &str) -> String {
    format!("https://{rp_id}")
}

/// Makes a non-discoverable test credential and verifies the answer like a
/// relying party: attestation statement, rpIdHash, UP, UV (when a PIN or
/// built-in UV was used) and AT flags. U2F-only keys use U2F REGISTER.
pub fn register<T: Transport>(
    session: &mut ProbeSession<T>,
    key: &KeyReport,
    pin: &mut dyn PinSource,
    on_event: &mut dyn FnMut(ProbeEvent),
) -> Result<Registration, ProbeError> {
    let rp_id = session.opts.rp_id.clone();
    let mut events = Events {
        sink: on_event,
        touch_seen: false,
    };
    let challenge: [u8; 32] = random();
    let (_, cdh) = client_data("webauthn.create", &challenge, &origin(&rp_id));
    let Some(info) = key.info.as_ref() else {
        return register_u2f(session, &rp_id, &cdh, &mut events);
    };
    let hid = &mut session.hid;
    let token = user_verification(
        hid,
        key,
        Permissions::MAKE_CREDENTIAL,
        &rp_id,
        pin,
        &mut events,
    )?;
    let mode = uv_mode(key, token.is_some());
    let algorithms = [ALG_ES256, ALG_EDDSA]
        .into_iter()
        .filter(|a| info.supports_alg(*a))
        .collect::<Vec<_>>();
    let request = MakeCredentialRequest {
        client_data_hash: cdh,
        rp_id: rp_id.clone(),
        rp_name: Some("fido-doctor test".into()),
        user_id: random::<16>().to_vec(),
        user_name: Some("fido-doctor".into()),
        user_display_name: Some("fido-doctor test".into()),
        algorithms: if algorithms.is_empty() {
            vec![ALG_ES256, ALG_EDDSA]
        } else {
            algorithms
        },
        exclude_list: Vec::new(),
        rk: false,
        uv: (mode == UserVerification::BuiltIn).then_some(true),
        pin_uv_auth_param: token.as_ref().map(|(v, t)| v.authenticate(t, &cdh)),
        pin_uv_auth_protocol: token.as_ref().map(|(v, _)| v.number()),
    };
    let mut on = |e| events.hid(e);
    let body = hid
        .cbor(cmd::MAKE_CREDENTIAL, &request.encode(), &mut on)
        .map_err(|e| events.classify(e))?;
    let att = Attestation::decode(&body).map_err(CtapError::from)?;
    let outcome = attestation::verify(&att.fmt, &att.auth_data, &att.att_stmt, &cdh)?;
    assertion::check_rp_id(&outcome.auth_data, &rp_id)?;
    assertion::check_flags(&outcome.auth_data, true, mode != UserVerification::None)?;
    let cred = outcome
        .auth_data
        .attested_credential
        .as_ref()
        .ok_or(VerifyError::BadFlags("AT flag clear"))?;
    let public_key = cred.public_key()?;
    Ok(Registration {
        method: Method::Ctap2,
        rp_id,
        credential_id: cred.credential_id.clone(),
        public_key,
        user_verification: mode,
        attestation: outcome,
    })
}

fn register_u2f<T: Transport>(
    session: &mut ProbeSession<T>,
    rp_id: &str,
    cdh: &[u8; 32],
    events: &mut Events<'_>,
) -> Result<Registration, ProbeError> {
    let app: [u8; 32] = Sha256::digest(rp_id.as_bytes()).into();
    let apdu = u2f::encode_register(cdh, &app);
    let timeout = session.opts.touch_timeout;
    let cancel = session.hid.cancel_handle();
    let body = {
        let mut on = |e| events.hid(e);
        u2f::send_polling(&mut session.hid, &apdu, timeout, U2F_POLL, &mut on, &|| {
            cancel.is_cancelled()
        })
        .map_err(|e| events.classify(e))?
    };
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
    let outcome = attestation::verify("fido-u2f", &auth_data, &stmt, cdh)?;
    assertion::check_rp_id(&outcome.auth_data, rp_id)?;
    Ok(Registration {
        method: Method::U2f,
        rp_id: rp_id.to_owned(),
        credential_id: reg.key_handle,
        public_key,
        user_verification: UserVerification::None,
        attestation: outcome,
    })
}

/// Signs in with the credential from [`register`] and verifies the
/// signature with its public key, the rpIdHash, the flags and the counter.
pub fn authenticate<T: Transport>(
    session: &mut ProbeSession<T>,
    key: &KeyReport,
    registration: &Registration,
    pin: &mut dyn PinSource,
    on_event: &mut dyn FnMut(ProbeEvent),
) -> Result<Authentication, ProbeError> {
    let rp_id = registration.rp_id.clone();
    let mut events = Events {
        sink: on_event,
        touch_seen: false,
    };
    let challenge: [u8; 32] = random();
    let (_, cdh) = client_data("webauthn.get", &challenge, &origin(&rp_id));
    let before = registration.attestation.auth_data.sign_count;
    if registration.method == Method::U2f {
        return authenticate_u2f(session, registration, &cdh, before, &mut events);
    }
    let hid = &mut session.hid;
    let token = user_verification(
        hid,
        key,
        Permissions::GET_ASSERTION,
        &rp_id,
        pin,
        &mut events,
    )?;
    let mode = uv_mode(key, token.is_some());
    let request = GetAssertionRequest {
        rp_id: rp_id.clone(),
        client_data_hash: cdh,
        allow_list: vec![registration.credential_id.clone()],
        up: None,
        uv: (mode == UserVerification::BuiltIn).then_some(true),
        pin_uv_auth_param: token.as_ref().map(|(v, t)| v.authenticate(t, &cdh)),
        pin_uv_auth_protocol: token.as_ref().map(|(v, _)| v.number()),
    };
    let mut on = |e| events.hid(e);
    let body = hid
        .cbor(cmd::GET_ASSERTION, &request.encode(), &mut on)
        .map_err(|e| events.classify(e))?;
    let a = Assertion::decode(&body).map_err(CtapError::from)?;
    if let Some(id) = &a.credential_id
        && *id != registration.credential_id
    {
        return Err(VerifyError::InvalidField {
            field: "credential.id",
            reason: "not the credential in the allow list",
        }
        .into());
    }
    let parsed = assertion::verify(&registration.public_key, &a.auth_data, &cdh, &a.signature)?;
    finish_authentication(parsed, &rp_id, Method::Ctap2, mode, before)
}

fn finish_authentication(
    parsed: AuthenticatorData,
    rp_id: &str,
    method: Method,
    mode: UserVerification,
    before: u32,
) -> Result<Authentication, ProbeError> {
    assertion::check_rp_id(&parsed, rp_id)?;
    assertion::check_flags(&parsed, true, mode != UserVerification::None)?;
    let after = parsed.sign_count;
    Ok(Authentication {
        method,
        user_verification: mode,
        user_present: parsed.flags.user_present,
        user_verified: parsed.flags.user_verified,
        sign_count: after,
        counter_increased: (before != 0 || after != 0).then_some(after > before),
    })
}

fn authenticate_u2f<T: Transport>(
    session: &mut ProbeSession<T>,
    registration: &Registration,
    cdh: &[u8; 32],
    before: u32,
    events: &mut Events<'_>,
) -> Result<Authentication, ProbeError> {
    let app: [u8; 32] = Sha256::digest(registration.rp_id.as_bytes()).into();
    let timeout = session.opts.touch_timeout;
    let cancel = session.hid.cancel_handle();
    // Check-only first: the key must recognise its own key handle (0x6985).
    let check = u2f::encode_authenticate(
        AuthControl::CheckOnly,
        cdh,
        &app,
        &registration.credential_id,
    )?;
    let resp = session.hid.msg(&check, &mut |e| events.hid(e))?;
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
    let body = {
        let mut on = |e| events.hid(e);
        u2f::send_polling(&mut session.hid, &apdu, timeout, U2F_POLL, &mut on, &|| {
            cancel.is_cancelled()
        })
        .map_err(|e| events.classify(e))?
    };
    let auth = U2fAuthentication::parse(&body)?;
    let mut auth_data = app.to_vec();
    auth_data.push(auth.user_presence);
    auth_data.extend_from_slice(&auth.counter.to_be_bytes());
    let parsed = assertion::verify(&registration.public_key, &auth_data, cdh, &auth.signature)?;
    finish_authentication(
        parsed,
        &registration.rp_id,
        Method::U2f,
        UserVerification::None,
        before,
    )
}

/// A transport that forwards a caller's cancel request to the CTAPHID layer
/// (whose own handle exists only once the channel is open).
struct Linked<T> {
    inner: T,
    external: CancelHandle,
    hid: Arc<OnceLock<CancelHandle>>,
}

impl<T: Transport> Transport for Linked<T> {
    fn send(&mut self, report: &Report) -> Result<(), TransportError> {
        self.inner.send(report)
    }

    fn recv(&mut self, timeout: Duration) -> Result<Report, TransportError> {
        if self.external.is_cancelled()
            && let Some(h) = self.hid.get()
        {
            h.cancel();
        }
        self.inner.recv(timeout)
    }

    fn name(&self) -> String {
        self.inner.name()
    }
}

/// Runs the full probe: info, register, authenticate. Events are reported
/// through `on_event`; `cancel` (a fresh [`CancelHandle::default`] shared
/// with another thread) ends the probe early with `cancelled` failures.
pub fn run<T: Transport>(
    t: T,
    opts: &ProbeOptions,
    pin: &mut dyn PinSource,
    on_event: &mut dyn FnMut(ProbeEvent),
    cancel: &CancelHandle,
) -> ProbeReport {
    let device = t.name();
    let link = Arc::new(OnceLock::new());
    let linked = Linked {
        inner: t,
        external: cancel.clone(),
        hid: Arc::clone(&link),
    };

    on_event(ProbeEvent::Stage(Stage::Info));
    let start = Instant::now();
    let opened = if cancel.is_cancelled() {
        Err(CtapError::Cancelled)
    } else {
        ProbeSession::open(linked, opts)
    };
    let (mut session, key) = match opened {
        Ok(mut s) => {
            let _ = link.set(s.cancel_handle());
            if cancel.is_cancelled() {
                s.cancel_handle().cancel();
            }
            let open_time = start.elapsed();
            let key = query_info(&mut s, open_time);
            (Some(s), key)
        }
        Err(e) => (None, Err(e)),
    };
    let key_outcome = Outcome::from_result(key.map_err(ProbeError::from), start.elapsed());
    on_event(ProbeEvent::StageDone {
        stage: Stage::Info,
        ok: key_outcome.is_ok(),
        elapsed: start.elapsed(),
    });

    let (Some(session), Some(key)) = (session.as_mut(), key_outcome.ok().cloned()) else {
        return ProbeReport {
            device,
            key: key_outcome,
            registration: skipped("the key could not be queried"),
            authentication: skipped("the key could not be queried"),
        };
    };

    on_event(ProbeEvent::Stage(Stage::Register));
    let start = Instant::now();
    let reg = register(session, &key, pin, on_event);
    let elapsed = start.elapsed();
    on_event(ProbeEvent::StageDone {
        stage: Stage::Register,
        ok: reg.is_ok(),
        elapsed,
    });
    let registration = Outcome::from_result(reg, elapsed);

    let authentication = match registration.ok() {
        None => skipped("registration did not succeed"),
        Some(reg) => {
            on_event(ProbeEvent::Stage(Stage::Authenticate));
            let start = Instant::now();
            let auth = authenticate(session, &key, reg, pin, on_event);
            let elapsed = start.elapsed();
            on_event(ProbeEvent::StageDone {
                stage: Stage::Authenticate,
                ok: auth.is_ok(),
                elapsed,
            });
            Outcome::from_result(auth, elapsed)
        }
    };
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

    /// Answers "1111", "2222", … and counts how often it was asked.
    struct Counting(u32);

    impl PinSource for Counting {
        fn pin(&mut self, _retries: Option<u32>) -> Option<Zeroizing<String>> {
            self.0 += 1;
            Some(Zeroizing::new(self.0.to_string().repeat(4)))
        }
    }

    #[test]
    fn failure_codes_are_listed_once_with_their_json_names() {
        let mut seen = std::collections::HashSet::new();
        for code in FailureCode::ALL {
            assert!(seen.insert(code), "{code:?} twice");
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
        assert_eq!(seen.len(), FailureCode::ALL.len());
    }

    #[test]
    fn remembered_pin_is_asked_again_only_after_a_wrong_pin() {
        let mut p = RememberedPin::new(Counting(0));
        assert_eq!(p.pin(Some(8)).as_deref().map(String::as_str), Some("1111"));
        assert_eq!(p.pin(Some(8)).as_deref().map(String::as_str), Some("1111"));
        // One attempt fewer: the remembered PIN was wrong.
        assert_eq!(p.pin(Some(7)).as_deref().map(String::as_str), Some("2222"));
        assert_eq!(p.pin(Some(7)).as_deref().map(String::as_str), Some("2222"));
        assert_eq!(p.inner.0, 2);
    }

    #[test]
    fn base64url_matches_rfc4648_vectors() {
        // RFC 4648 §10 test vectors, base64url without padding.
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foob"), "Zm9vYg");
        assert_eq!(base64url(b"fooba"), "Zm9vYmE");
        assert_eq!(base64url(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url(&[0xFB, 0xFF]), "-_8");
    }

    #[test]
    fn client_data_json_shape() {
        let (json, hash) = client_data("webauthn.create", b"foo", "https://fido-doctor.invalid");
        assert_eq!(
            json,
            r#"{"type":"webauthn.create","challenge":"Zm9v","origin":"https://fido-doctor.invalid","crossOrigin":false}"#
        );
        let expected: [u8; 32] = Sha256::digest(json.as_bytes()).into();
        assert_eq!(hash, expected);
    }

    #[test]
    fn failure_codes_and_serialization() {
        let e = ProbeError::Ctap(CtapError::Status(CtapStatus::PinBlocked));
        let f = Failure::from(&e);
        assert_eq!(f.code, FailureCode::PinBlocked);
        assert_eq!(f.ctap_status, Some(0x32));
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json["code"], "pin-blocked");
        assert_eq!(
            ProbeError::Ctap(CtapError::U2f { sw: 0x6985 }).code(),
            FailureCode::TouchTimeout
        );
        assert_eq!(
            ProbeError::Ctap(CtapError::Status(CtapStatus::OperationDenied)).code(),
            FailureCode::UserRefused
        );
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
}
