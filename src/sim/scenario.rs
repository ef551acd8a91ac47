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
};

static ALL: [Scenario; 12] = [
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
        summary: "no free discoverable-credential slot",
        resident_slots: 0,
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
];

/// Every scenario, `modern` first.
pub fn all() -> &'static [Scenario] {
    &ALL
}

/// The scenario called `name`.
pub fn find(name: &str) -> Option<&'static Scenario> {
    ALL.iter().find(|s| s.name == name)
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
                "malformed"
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
