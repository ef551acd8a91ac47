//! The one registry of simulator scenarios: each names a kind of key (or a
//! fault) that the diagnostics must recognise. Content files key their texts
//! by [`Scenario::name`].

use std::time::Duration;

/// CTAPHID capability flag: the device can wink.
pub const CAP_WINK: u8 = 0x01;
/// CTAPHID capability flag: the device speaks CTAP2 (CBOR).
pub const CAP_CBOR: u8 = 0x04;
/// CTAPHID capability flag: the device does NOT implement CTAPHID_MSG (U2F).
pub const CAP_NMSG: u8 = 0x08;

/// AAGUID of the simulated keys (a fixed value of this project, not any vendor's).
/// Format: `5d0c1b5e-8f0e-4d1a-9a57-f1d0d0c70001`.
pub const SIM_AAGUID: [u8; 16] = [
    0x5d, 0x0c, 0x1b, 0x5e, 0x8f, 0x0e, 0x4d, 0x1a, 0x9a, 0x57, 0xf1, 0xd0, 0xd0, 0xc7, 0x00, 0x01,
];

/// AAGUID of the `unlisted-aaguid` scenario: random, in no public list, and
/// deliberately NOT in [`SIMULATOR_AAGUIDS`] so it looks like an unknown model.
/// Format: `27cd1436-ff4d-40aa-a2fe-59b397b41751`.
pub const UNLISTED_AAGUID: [u8; 16] = [
    0x27, 0xcd, 0x14, 0x36, 0xff, 0x4d, 0x40, 0xaa, 0xa2, 0xfe, 0x59, 0xb3, 0x97, 0xb4, 0x17, 0x51,
];

/// AAGUIDs that identify this project's simulator (diagnostics can say "simulated key").
pub const SIMULATOR_AAGUIDS: &[[u8; 16]] = &[SIM_AAGUID];

/// True when `aaguid` is one of [`SIMULATOR_AAGUIDS`].
pub fn is_simulator_aaguid(aaguid: &[u8]) -> bool {
    SIMULATOR_AAGUIDS.iter().any(|a| a.as_slice() == aaguid)
}

/// Formats an AAGUID as lowercase hyphenated text (`xxxxxxxx-xxxx-…`).
pub fn aaguid_string(aaguid: &[u8; 16]) -> String {
    let h = hex::encode(aaguid);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Who decides about user presence in a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresenceRule {
    /// The [`Presence`](super::Presence) given by the caller (auto-touch, TUI button…).
    Caller,
    /// The user never touches (the caller's presence is ignored).
    Never,
    /// The user refuses every prompt (the caller's presence is ignored).
    Refuse,
}

/// Special (faulty) device behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// A working key.
    Normal,
    /// The key disappears at the first MakeCredential / GetAssertion / U2F
    /// register or authenticate: the runner drops its channel ends (in-process
    /// clients see `Gone`) or stops answering (UDP).
    Unplugged,
    /// After INIT, every answer is garbage: an extra report on a wrong
    /// channel, CBOR answers truncated, U2F answers with an impossible length.
    Malformed,
}

/// Built-in user verification (a fingerprint reader) of a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltInUv {
    /// No reader: GetInfo has no `uv` option.
    Absent,
    /// A reader with no finger enrolled (`options.uv` false).
    NotEnrolled,
    /// A finger is enrolled and every touch is a matching finger.
    Matches,
    /// A finger is enrolled but no touch matches: UV_INVALID while
    /// `uvRetries` counts down, then UV_BLOCKED. The PIN still works.
    Fails,
}

impl BuiltInUv {
    /// `options.uv` in GetInfo (`None` = no reader).
    pub fn option(self) -> Option<bool> {
        match self {
            BuiltInUv::Absent => None,
            BuiltInUv::NotEnrolled => Some(false),
            BuiltInUv::Matches | BuiltInUv::Fails => Some(true),
        }
    }
}

/// Which authenticatorCredentialManagement command a scenario offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredMgmt {
    /// None (keys without discoverable credentials).
    Absent,
    /// CTAP 2.1 `credMgmt` (command 0x0A; the 2.1-pre 0x41 also answers).
    Full,
    /// Only the CTAP 2.1-pre `credentialMgmtPreview` (command 0x41); the key
    /// reports `FIDO_2_1_PRE` instead of `FIDO_2_1`.
    PreviewOnly,
}

/// A discoverable credential a scenario's key already holds at power-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredCredential {
    /// Relying-party id.
    pub rp_id: &'static str,
    /// Relying-party name.
    pub rp_name: &'static str,
    /// User handle.
    pub user_id: &'static [u8],
    /// user.name.
    pub user_name: &'static str,
    /// user.displayName.
    pub display_name: &'static str,
    /// credProtect level (1-3).
    pub cred_protect: u8,
}

/// RP id of Microsoft Entra ID (UTokyo Account) credentials.
pub const ENTRA_RP_ID: &str = "login.microsoft.com";

/// The made-up UTokyo Account sign-in of the `registered` scenario.
const UTOKYO_SIGN_IN: StoredCredential = StoredCredential {
    rp_id: ENTRA_RP_ID,
    rp_name: "Microsoft",
    user_id: b"sample-user-0001",
    user_name: "1234567890@utac.u-tokyo.ac.jp",
    display_name: "Todai Hanako (sample)",
    cred_protect: 2,
};

/// What fills the `store-full` key: an old UTokyo sign-in and other services.
const FULL_STORE: &[StoredCredential] = &[
    StoredCredential {
        user_id: b"sample-user-0002",
        user_name: "9876543210@utac.u-tokyo.ac.jp",
        display_name: "Todai Taro (sample)",
        ..UTOKYO_SIGN_IN
    },
    StoredCredential {
        rp_id: "github.com",
        rp_name: "GitHub",
        user_id: b"sample-gh-1",
        user_name: "taro-sample",
        display_name: "taro-sample",
        cred_protect: 1,
    },
    StoredCredential {
        rp_id: "google.com",
        rp_name: "Google",
        user_id: b"sample-g-1",
        user_name: "taro.sample@example.com",
        display_name: "Taro Sample",
        cred_protect: 1,
    },
    StoredCredential {
        rp_id: "webauthn.io",
        rp_name: "webauthn.io",
        user_id: b"sample-w-1",
        user_name: "taro-sample",
        display_name: "taro-sample",
        cred_protect: 1,
    },
];

/// One simulated key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// Registry name (`modern`, `no-pin`, …); used in `sim:NAME`.
    pub name: &'static str,
    /// One English line for logs and `--help` (user-facing texts live in content/).
    pub summary: &'static str,
    /// AAGUID reported by GetInfo and in attestations.
    pub aaguid: [u8; 16],
    /// CTAPHID INIT capability flags ([`CAP_WINK`], [`CAP_CBOR`], [`CAP_NMSG`]).
    pub capabilities: u8,
    /// `options.clientPin`: `None` = no PIN support, `Some(false)` = not set, `Some(true)` = set.
    pub client_pin: Option<bool>,
    /// The PIN when one is set.
    pub pin: Option<&'static str>,
    /// PIN retries left at power-up.
    pub pin_retries: u8,
    /// `options.rk`.
    pub resident_keys: bool,
    /// Free discoverable-credential slots at power-up.
    pub resident_slots: usize,
    /// Who answers presence prompts.
    pub presence: PresenceRule,
    /// How long a presence wait lasts before CTAP2_ERR_USER_ACTION_TIMEOUT.
    pub presence_timeout: Duration,
    /// Faults.
    pub behaviour: Behaviour,
    /// Built-in user verification.
    pub uv: BuiltInUv,
    /// Built-in UV attempts left at power-up.
    pub uv_retries: u8,
    /// PIN/UV auth protocols offered, in order of preference.
    pub pin_protocols: &'static [u8],
    /// Credential management.
    pub cred_mgmt: CredMgmt,
    /// GetInfo `forcePINChange`: PIN tokens are refused until the PIN is changed.
    pub force_pin_change: bool,
    /// GetInfo `alwaysUv`: every registration and sign-in needs user verification.
    pub always_uv: bool,
    /// GetInfo `makeCredUvNotRqd`: non-discoverable registrations need no UV.
    pub make_cred_uv_not_rqd: bool,
    /// Discoverable credentials on the key at power-up.
    pub stored: &'static [StoredCredential],
    /// GetInfo `pinUvAuthToken`: ClientPIN subcommands 0x06 and 0x09 exist
    /// (without, only the legacy getPinToken, as on CTAP 2.0 / 2.1-pre keys).
    pub pin_uv_auth_token: bool,
    /// A model's declared GetInfo (canonical CBOR, without the AAGUID) to
    /// answer instead of the simulator's own; see [`super::model`].
    pub declared_info: Option<&'static [u8]>,
}

/// Default presence timeout of a real key.
pub const DEFAULT_PRESENCE_TIMEOUT: Duration = Duration::from_secs(30);

const MODERN: Scenario = Scenario {
    name: "modern",
    summary: "FIDO2.1 key, PIN 1234 set, 25 discoverable-credential slots",
    aaguid: SIM_AAGUID,
    capabilities: CAP_WINK | CAP_CBOR,
    client_pin: Some(true),
    pin: Some("1234"),
    pin_retries: 8,
    resident_keys: true,
    resident_slots: 25,
    presence: PresenceRule::Caller,
    presence_timeout: DEFAULT_PRESENCE_TIMEOUT,
    behaviour: Behaviour::Normal,
    uv: BuiltInUv::Absent,
    uv_retries: 0,
    pin_protocols: &[2, 1],
    cred_mgmt: CredMgmt::Full,
    force_pin_change: false,
    always_uv: false,
    make_cred_uv_not_rqd: true,
    stored: &[],
    pin_uv_auth_token: true,
    declared_info: None,
};

/// A fingerprint key (PIN `1234` as well); the variants change `uv`.
const BIO: Scenario = Scenario {
    name: "bio",
    summary: "fingerprint key, finger enrolled (a touch is a match), PIN 1234 set",
    uv: BuiltInUv::Matches,
    uv_retries: 3,
    ..MODERN
};

static ALL: [Scenario; 19] = [
    MODERN,
    Scenario {
        name: "no-pin",
        summary: "FIDO2.1 key whose PIN has not been set",
        client_pin: Some(false),
        pin: None,
        ..MODERN
    },
    Scenario {
        name: "u2f-only",
        summary: "old U2F-only key: no CTAP2",
        capabilities: CAP_WINK,
        client_pin: None,
        pin: None,
        resident_keys: false,
        resident_slots: 0,
        pin_protocols: &[],
        cred_mgmt: CredMgmt::Absent,
        ..MODERN
    },
    Scenario {
        name: "pin-blocked",
        summary: "PIN blocked: no retries left",
        pin_retries: 0,
        ..MODERN
    },
    Scenario {
        name: "pin-low",
        summary: "PIN set, only 2 retries left",
        pin_retries: 2,
        ..MODERN
    },
    Scenario {
        name: "store-full",
        summary: "every discoverable-credential slot taken (an old UTokyo sign-in and 3 others)",
        resident_slots: FULL_STORE.len(),
        stored: FULL_STORE,
        ..MODERN
    },
    Scenario {
        name: "no-touch",
        summary: "the user never touches the key (3 s timeout)",
        presence: PresenceRule::Never,
        presence_timeout: Duration::from_secs(3),
        ..MODERN
    },
    Scenario {
        name: "refuse",
        summary: "the user refuses every prompt",
        presence: PresenceRule::Refuse,
        ..MODERN
    },
    Scenario {
        name: "no-resident-key",
        summary: "FIDO2 key without discoverable credentials",
        resident_keys: false,
        resident_slots: 0,
        cred_mgmt: CredMgmt::Absent,
        ..MODERN
    },
    Scenario {
        name: "unlisted-aaguid",
        summary: "working key whose model (AAGUID) is in no list",
        aaguid: UNLISTED_AAGUID,
        ..MODERN
    },
    Scenario {
        name: "unplugged",
        summary: "key removed at the first registration",
        behaviour: Behaviour::Unplugged,
        ..MODERN
    },
    Scenario {
        name: "malformed",
        summary: "key answering with garbage reports",
        behaviour: Behaviour::Malformed,
        ..MODERN
    },
    Scenario {
        name: "registered",
        summary: "PIN 1234 set; already holds a UTokyo sign-in (login.microsoft.com)",
        stored: &[UTOKYO_SIGN_IN],
        ..MODERN
    },
    BIO,
    Scenario {
        name: "bio-not-enrolled",
        summary: "fingerprint key with no finger enrolled, PIN 1234 set",
        uv: BuiltInUv::NotEnrolled,
        ..BIO
    },
    Scenario {
        name: "bio-failing",
        summary: "fingerprint key whose finger never matches (UV blocks after 3), PIN 1234 works",
        uv: BuiltInUv::Fails,
        ..BIO
    },
    Scenario {
        name: "pin-protocol-1",
        summary: "PIN 1234 set; offers only PIN/UV auth protocol 1",
        pin_protocols: &[1],
        ..MODERN
    },
    Scenario {
        name: "cred-mgmt-preview",
        summary: "CTAP 2.1-pre key: credential management only as credentialMgmtPreview",
        cred_mgmt: CredMgmt::PreviewOnly,
        pin_uv_auth_token: false,
        ..MODERN
    },
    Scenario {
        name: "pin-change-required",
        summary: "PIN 1234 set, but the key demands a new PIN (forcePINChange)",
        force_pin_change: true,
        ..MODERN
    },
];

/// Every scenario, `modern` first.
pub fn all() -> &'static [Scenario] {
    &ALL
}

/// Prefix of the scenarios that present a FIDO metadata model
/// (`model:AAGUID` or `model:NAME`, see [`super::model`]).
pub const MODEL_PREFIX: &str = "model:";

/// The scenario called `name`: one of [`all`], or `model:AAGUID` /
/// `model:NAME` for a hardware model of the FIDO metadata.
pub fn find(name: &str) -> Option<&'static Scenario> {
    match name.strip_prefix(MODEL_PREFIX) {
        Some(query) => super::model::scenario(query),
        None => ALL.iter().find(|s| s.name == name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_contract() {
        let names: Vec<_> = all().iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "modern",
                "no-pin",
                "u2f-only",
                "pin-blocked",
                "pin-low",
                "store-full",
                "no-touch",
                "refuse",
                "no-resident-key",
                "unlisted-aaguid",
                "unplugged",
                "malformed",
                "registered",
                "bio",
                "bio-not-enrolled",
                "bio-failing",
                "pin-protocol-1",
                "cred-mgmt-preview",
                "pin-change-required"
            ]
        );
        assert!(find("nope").is_none());
        assert_eq!(find("pin-low").map(|s| s.pin_retries), Some(2));
    }

    #[test]
    fn aaguid_text_form() {
        assert_eq!(
            aaguid_string(&UNLISTED_AAGUID),
            "27cd1436-ff4d-40aa-a2fe-59b397b41751"
        );
        assert!(is_simulator_aaguid(&SIM_AAGUID));
        assert!(!is_simulator_aaguid(&UNLISTED_AAGUID));
    }

    #[test]
    fn simulator_aaguids_are_in_no_reference_list() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/reference/data");
        let Ok(entries) = std::fs::read_dir(dir) else {
            return; // reference data not present on this machine
        };
        for e in entries.flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            for a in [SIM_AAGUID, UNLISTED_AAGUID] {
                assert!(!text.contains(&aaguid_string(&a)), "{:?}", e.path());
            }
        }
    }
}
