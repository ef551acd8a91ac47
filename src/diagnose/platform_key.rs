//! A key checked through the operating system's WebAuthn API (webauthn.dll
//! on Windows, the path a process without administrator rights takes)
//! instead of raw HID: which facts that path establishes, and where the
//! others come from.
//!
//! The API hands back the registration and the sign-in, verified like the
//! HID path, but not the key's GetInfo nor its PIN retries. What the verdict
//! needs from GetInfo (FIDO2 or U2F only, discoverable credentials,
//! hmac-secret, built-in verification, algorithms) is taken from the GetInfo
//! the model's maker declared in the FIDO metadata, and the facts name that
//! source ([`PlatformApiFacts::declared_by`]). The PIN state is never taken
//! from the declaration (a maker's `clientPin: false` describes a new key,
//! not this one): it stays unknown unless the declaration says the model has
//! no PIN at all.

use serde::Serialize;
use serde_json::Value;

use crate::content::aaguid::AaguidTable;
use crate::ctap::probe::platform::PlatformProbe;

use super::from_probe::key_facts;
use super::keys::{KeyFacts, PinState, Protocol};

/// How a key checked through an OS WebAuthn API was looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformApiFacts {
    /// The API version the OS reported, when it could be read.
    pub api_version: Option<u32>,
    /// What this path cannot read from the key (`get-info`, `pin-retries`, `uv-retries`).
    pub not_available: Vec<String>,
    /// The model whose declared GetInfo stands in for the key's own answer;
    /// `None` when the metadata has no declaration for the attested model.
    pub declared_by: Option<String>,
}

/// The facts of a probe through an OS WebAuthn API, with the model looked
/// up from the attested AAGUID and the model's declared GetInfo filling in
/// the capabilities the API does not show.
pub fn key_facts_from_platform(probe: &PlatformProbe, aaguids: &AaguidTable) -> KeyFacts {
    // The model lookup runs before a protocol is set: this path never spoke
    // CTAPHID, so a passkey on a phone offered by the dialog is judged as a
    // passkey, not as a hardware key carrying someone else's AAGUID.
    let mut k = key_facts(&probe.report, aaguids);
    let declared = probe.model.as_ref().zip(probe.declared_get_info.as_ref());
    if let Some((_, info)) = declared {
        apply_declared_get_info(&mut k, info);
    }
    if k.protocol.is_none() && k.registration.as_ref().is_some_and(|r| r.ok) {
        // The attestation format tells which protocol the OS used with the key.
        k.protocol = Some(match k.attestation_format.as_deref() {
            Some("fido-u2f") => Protocol::U2fOnly,
            _ => Protocol::Fido2,
        });
    }
    k.platform_api = Some(PlatformApiFacts {
        api_version: probe.api_version,
        not_available: probe.not_available.iter().map(|s| s.to_string()).collect(),
        declared_by: declared.map(|(model, _)| model.clone()),
    });
    k
}

/// Fills the capabilities from a GetInfo as declared in the FIDO metadata
/// (JSON: `versions`, `extensions`, `options`, `algorithms`). Fields that
/// are missing or of the wrong type are left unknown.
pub fn apply_declared_get_info(k: &mut KeyFacts, info: &Value) {
    let strings = |field: &str| -> Option<Vec<String>> {
        info.get(field)?.as_array().map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
    };
    if let Some(versions) = strings("versions") {
        if versions.iter().any(|v| v.starts_with("FIDO_2")) {
            k.protocol = Some(Protocol::Fido2);
        } else if versions.iter().any(|v| v == "U2F_V2") {
            k.protocol = Some(Protocol::U2fOnly);
        }
        k.versions = versions;
    }
    if let Some(extensions) = strings("extensions") {
        k.hmac_secret = Some(extensions.iter().any(|e| e == "hmac-secret"));
    }
    if let Some(options) = info.get("options").and_then(Value::as_object) {
        let option = |name: &str| options.get(name).and_then(Value::as_bool);
        // `rk` absent means false (CTAP 2.1, authenticatorGetInfo options).
        k.rk = Some(option("rk").unwrap_or(false));
        k.uv = option("uv");
        if !options.contains_key("clientPin") {
            k.client_pin = Some(PinState::Unsupported);
        }
    }
    if let Some(algs) = info.get("algorithms").and_then(Value::as_array) {
        k.algorithms = algs
            .iter()
            .filter_map(|a| a.get("alg").and_then(Value::as_i64))
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{ContentSource, Lang};
    use crate::ctap::probe::ProbeOptions;
    use crate::ctap::probe::platform::tests::SimApi;
    use crate::ctap::probe::platform::{self, hresult};
    use crate::diagnose::findings::{FindingId, Severity};
    use crate::diagnose::{DiagnosisContent, FailureKind, rules};
    use serde_json::json;

    /// A YubiKey 5 (metadata entry with a declared GetInfo whose
    /// `clientPin` is false: the state of a new key).
    const YUBIKEY_5: &str = "model:ee882879-721c-4913-9775-3dfcce97072a";

    fn content() -> DiagnosisContent {
        DiagnosisContent::load(&ContentSource::Embedded, Lang::En).unwrap()
    }

    fn probe(api: &mut SimApi) -> PlatformProbe {
        platform::run(api, &ProbeOptions::default(), &mut |_| {})
    }

    fn windows_findings(key: &KeyFacts, c: &DiagnosisContent) -> Vec<(FindingId, Severity)> {
        let sys = crate::diagnose::FakeSystem {
            elevated: Some(false),
            ..crate::diagnose::FakeSystem::new("windows")
        };
        let env = crate::diagnose::gather::gather_environment(&sys);
        rules::evaluate(&env, std::slice::from_ref(key), &c.compat, &c.aaguids)
            .into_iter()
            .map(|f| (f.id, f.severity))
            .collect()
    }

    #[test]
    fn a_known_model_gets_its_declared_capabilities_and_says_so() {
        let c = content();
        let p = probe(&mut SimApi::new(YUBIKEY_5));
        assert!(p.report.registration.is_ok() && p.report.authentication.is_ok());
        let k = key_facts_from_platform(&p, &c.aaguids);
        assert_eq!(k.device, "webauthn:");
        assert_eq!(
            k.aaguid.as_deref(),
            Some("ee882879-721c-4913-9775-3dfcce97072a")
        );
        assert_eq!(k.model.as_deref(), Some("YubiKey 5 Series"));
        assert_eq!(k.protocol, Some(Protocol::Fido2));
        assert_eq!(k.rk, Some(true));
        assert_eq!(k.hmac_secret, Some(true));
        // Declared `clientPin: false` is a new key's state, not this key's.
        assert_eq!(k.client_pin, None);
        assert_eq!(k.pin_retries, None);
        assert!(!k.aaguid_foreign);
        let api = k.platform_api.as_ref().unwrap();
        assert_eq!(api.declared_by.as_deref(), Some("YubiKey 5 Series"));
        assert_eq!(api.not_available, ["get-info", "pin-retries", "uv-retries"]);
        assert_eq!(api.api_version, Some(4));

        let found = windows_findings(&k, &c);
        assert!(
            found.contains(&(FindingId::CheckedThroughWebauthnApi, Severity::Info)),
            "{found:?}"
        );
        // Nothing is said about a PIN this path could not see.
        for id in [
            FindingId::PinNotSet,
            FindingId::PinBlocked,
            FindingId::PinRetriesLow,
        ] {
            assert!(!found.iter().any(|(f, _)| *f == id), "{id:?} in {found:?}");
        }
    }

    #[test]
    fn without_a_declaration_the_protocol_comes_from_the_attestation_only() {
        let c = content();
        let p = probe(&mut SimApi::new("modern"));
        let k = key_facts_from_platform(&p, &c.aaguids);
        assert_eq!(k.protocol, Some(Protocol::Fido2));
        assert_eq!(k.attestation_format.as_deref(), Some("packed"));
        assert_eq!(k.rk, None, "no GetInfo and no declaration: unknown");
        assert_eq!(k.platform_api.as_ref().unwrap().declared_by, None);
        let found = windows_findings(&k, &c);
        let shown = found
            .iter()
            .find(|(f, _)| *f == FindingId::CheckedThroughWebauthnApi);
        assert!(shown.is_some(), "{found:?}");
    }

    #[test]
    fn a_cancelled_dialog_is_the_same_failure_as_on_the_hid_path() {
        let c = content();
        let mut api = SimApi::new("modern");
        api.fail_create = Some(hresult::NTE_USER_CANCELLED);
        let k = key_facts_from_platform(&probe(&mut api), &c.aaguids);
        let f = k
            .failure
            .as_ref()
            .expect("the failed registration is the failure");
        assert_eq!(f.code, "cancelled");
        assert_eq!(f.stage, "register");
        assert_eq!(
            f.kind,
            FailureKind::from_code(crate::ctap::probe::FailureCode::Cancelled)
        );
        assert!(k.registration.as_ref().is_some_and(|r| !r.ok));
        assert_eq!(k.protocol, None, "nothing came back to say which protocol");
    }

    #[test]
    fn declared_get_info_fields_are_read_defensively() {
        let mut k = KeyFacts::unknown("webauthn:");
        apply_declared_get_info(
            &mut k,
            &json!({"versions": ["U2F_V2"], "options": {"up": true}, "algorithms": [{"alg": -7}, {"type": "x"}]}),
        );
        assert_eq!(k.protocol, Some(Protocol::U2fOnly));
        assert_eq!(
            k.client_pin,
            Some(PinState::Unsupported),
            "no clientPin option: no PIN at all"
        );
        assert_eq!(k.rk, Some(false));
        assert_eq!(k.algorithms, [-7]);

        let mut k = KeyFacts::unknown("webauthn:");
        apply_declared_get_info(
            &mut k,
            &json!({"versions": "FIDO_2_0", "options": [1], "extensions": [3, "hmac-secret"], "algorithms": {}}),
        );
        assert_eq!(k.protocol, None);
        assert_eq!(k.rk, None);
        assert_eq!(k.client_pin, None);
        assert_eq!(k.hmac_secret, Some(true));
        assert!(k.algorithms.is_empty());
    }
}
