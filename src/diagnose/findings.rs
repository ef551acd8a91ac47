//! The vocabulary of a diagnosis: [`FindingId`] (one per piece of advice in
//! `content/*/findings.toml`), [`Severity`] and [`Finding`].

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

macro_rules! finding_ids {
    ($( $(#[$doc:meta])* $variant:ident = $id:literal, )*) => {
        /// Every finding the rules can emit; the kebab-case id keys its texts.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum FindingId {
            $( $(#[$doc])* $variant, )*
        }

        impl FindingId {
            /// All ids, in declaration order.
            pub const ALL: &'static [FindingId] = &[ $( FindingId::$variant, )* ];

            /// The kebab-case id (`pin-not-set`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $( FindingId::$variant => $id, )*
                }
            }
        }

        impl FromStr for FindingId {
            type Err = UnknownFinding;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $id => Ok(FindingId::$variant), )*
                    other => Err(UnknownFinding(other.to_string())),
                }
            }
        }
    };
}

finding_ids! {
    /// A key passed every check.
    OkKeyReady = "ok-key-ready",
    /// The OS × browser combination is in the guide's list.
    OkCombination = "ok-combination",
    /// The OS × browser combination is supported by no source.
    ComboUnsupported = "combo-unsupported",
    /// Microsoft's newer matrix allows the combination; the guide's list does not.
    ComboNewerMatrix = "combo-newer-matrix",
    /// Sign-in works there but registering a new key does not.
    ComboRegistrationUnsupported = "combo-registration-unsupported",
    /// No supported browser was found.
    BrowserMissing = "browser-missing",
    /// A browser is a Snap or Flatpak and may not reach USB keys.
    BrowserSandboxed = "browser-sandboxed",
    /// A browser here is older than the minimum version Microsoft names.
    BrowserTooOld = "browser-too-old",
    /// No key is connected.
    NoKey = "no-key",
    /// The key speaks only U2F.
    KeyU2fOnly = "key-u2f-only",
    /// The key has no PIN yet.
    PinNotSet = "pin-not-set",
    /// The key has no PIN and this is a Mac/iPhone, which cannot set one during registration.
    PinNotSetApple = "pin-not-set-apple",
    /// The PIN is blocked.
    PinBlocked = "pin-blocked",
    /// Few PIN tries left.
    PinRetriesLow = "pin-retries-low",
    /// No room for another discoverable credential.
    StoreFull = "store-full",
    /// The key cannot store discoverable credentials.
    NoResidentKey = "no-resident-key",
    /// The key lacks hmac-secret (needed for Windows sign-in).
    HmacSecretMissing = "hmac-secret-missing",
    /// The model is not in Entra's attestation-eligible list.
    AaguidNotEligible = "aaguid-not-eligible",
    /// The attestation could not be verified.
    AttestationUnverified = "attestation-unverified",
    /// Nobody touched the key in time.
    PresenceTimeout = "presence-timeout",
    /// The prompt was declined.
    UserRefused = "user-refused",
    /// Linux: no permission to open the key (udev rule missing).
    PermissionLinuxUdev = "permission-linux-udev",
    /// Windows: opening keys directly needs administrator rights.
    PermissionWindowsAdmin = "permission-windows-admin",
    /// The OS could not list HID devices: no USB key could be seen.
    HidListFailed = "hid-list-failed",
    /// The key was checked through the OS's WebAuthn API, not raw HID.
    CheckedThroughWebauthnApi = "checked-through-webauthn-api",
    /// Running over SSH or Remote Desktop.
    RemoteSession = "remote-session",
    /// Running inside WSL.
    WslSession = "wsl-session",
    /// Running in a container or virtual machine.
    ContainerOrVm = "container-or-vm",
    /// Passkeys (phone, password manager) are not accepted by the university.
    PasskeyNotAccepted = "passkey-not-accepted",
    /// A security key cannot be the default sign-in method.
    NotDefaultMethod = "not-default-method",
    /// The key disappeared during the probe.
    DeviceUnplugged = "device-unplugged",
    /// The key answered with malformed data.
    DeviceMalformed = "device-malformed",
    /// The probe failed for another reason.
    ProbeFailed = "probe-failed",
    /// A roaming key reports the AAGUID of a platform or software authenticator.
    AaguidForeign = "aaguid-foreign",
    /// The FIDO metadata marks the model revoked or compromised.
    ModelCompromised = "model-compromised",
    /// The FIDO metadata reports a firmware update for the model.
    ModelUpdateAvailable = "model-update-available",
    /// The attestation chains to a different maker's root than the AAGUID names.
    AttestationOtherMaker = "attestation-other-maker",
    /// The attestation certificate chains to no known maker root.
    AttestationUnknownIssuer = "attestation-unknown-issuer",
    /// The simulated key's attestation comes from the program's own test CA.
    AttestationTestCertificate = "attestation-test-certificate",
    /// Self attestation or none: the signature proves nothing about the model.
    AttestationModelUnbacked = "attestation-model-unbacked",
    /// The chain reaches a known root but a certificate on it is not valid.
    AttestationChainInvalid = "attestation-chain-invalid",
    /// The chain reaches a known maker root, but the metadata does not list the model.
    AttestationKnownRoot = "attestation-known-root",
    /// NFC chosen, but this computer has no NFC/PC-SC reader.
    NfcNoReader = "nfc-no-reader",
    /// NFC chosen, but no key is on the reader.
    NfcNoCard = "nfc-no-card",
    /// The card on the reader is not a FIDO security key.
    NfcNoFidoApplet = "nfc-no-fido-applet",
    /// NFC chosen, but the PC/SC service is not running.
    NfcServiceDown = "nfc-service-down",
    /// The key left the reader during the check.
    NfcCardRemoved = "nfc-card-removed",
    /// NFC chosen, but no browser found here takes NFC keys for Microsoft sign-in.
    NfcComboUnsupported = "nfc-combo-unsupported",
    /// NFC chosen, but this program was built without NFC support.
    NfcNotBuilt = "nfc-not-built",
    /// The key has no PIN function and no built-in verification.
    PinUnsupported = "pin-unsupported",
    /// The fingerprint did not work during the check: the PIN was used instead.
    UvFellBackToPin = "uv-fell-back-to-pin",
    /// Every Entra requirement is met, attestation chaining to the maker's root included.
    EntraRequirementsMet = "entra-requirements-met",
    /// The key already holds a UTokyo sign-in (for a named account).
    AlreadyRegistered = "already-registered",
    /// The key's stored sign-ins were read: none is for UTokyo.
    NoUtokyoCredential = "no-utokyo-credential",
}

impl FindingId {
    /// Findings that only ever report a stopped check: their words come from
    /// the failure table, not from `findings.toml`.
    pub const FROM_FAILURES: &'static [FindingId] = &[
        FindingId::PresenceTimeout,
        FindingId::UserRefused,
        FindingId::DeviceUnplugged,
        FindingId::DeviceMalformed,
        FindingId::ProbeFailed,
        FindingId::PinUnsupported,
    ];
}

/// An id string that names no finding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown finding id {0:?}")]
pub struct UnknownFinding(pub String);

impl fmt::Display for FindingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a finding is. Ordered: `Ok < Info < Warn < Fail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Good news.
    Ok,
    /// Worth knowing.
    Info,
    /// Likely to cause trouble.
    Warn,
    /// Will not work as is.
    Fail,
}

impl Severity {
    /// Lowercase name (`warn`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Ok => "ok",
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Fail => "fail",
        }
    }
}

/// One conclusion of the diagnosis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Which advice applies.
    pub id: FindingId,
    /// How bad it is.
    pub severity: Severity,
    /// Values for the `{name}` placeholders in the advice text.
    pub placeholders: BTreeMap<String, String>,
    /// Guide step to open; filled from the finding text when rendered (see
    /// `Report::build`), None straight out of the rules.
    pub guide_step: Option<String>,
    /// The probe's failure code when this finding reports a check that
    /// stopped (`pin-invalid`): its words, severity and outcome then come
    /// from the failure table (`content/*/failures.toml`).
    pub failure: Option<String>,
}

impl Finding {
    /// A finding without placeholders.
    pub fn new(id: FindingId, severity: Severity) -> Self {
        Finding {
            id,
            severity,
            placeholders: BTreeMap::new(),
            guide_step: None,
            failure: None,
        }
    }

    /// Marks the finding as the report of a stopped check with `code`.
    pub fn with_failure(mut self, code: impl Into<String>) -> Self {
        self.failure = Some(code.into());
        self
    }

    /// Adds a placeholder value.
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.placeholders.insert(name.to_string(), value.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_serialise_kebab_case() {
        assert_eq!(FindingId::ALL.len(), 54);
        for id in FindingId::ALL {
            assert_eq!(id.as_str().parse::<FindingId>(), Ok(*id));
            assert_eq!(
                serde_json::to_value(id).unwrap(),
                serde_json::Value::String(id.as_str().to_string())
            );
        }
        assert!("pin".parse::<FindingId>().is_err());
        assert!(Severity::Fail > Severity::Warn && Severity::Info > Severity::Ok);
    }
}
