//! Tests of the WebAuthn-API translation with a fake API: [`SimApi`] does
//! what webauthn.dll does (hash the clientDataJSON, run CTAP2 on a key,
//! return a WebAuthn attestationObject) against the built-in simulator, so
//! the answers are real signatures that the verification must accept, and
//! altered answers must be refused.

use std::time::Duration;

use ciborium::Value;

use super::*;
use crate::ctap::ctap2::{GetAssertionRequest, MakeCredentialRequest};
use crate::ctap::probe::ProbeSession;
use crate::ctap::probe::report::UserVerification;
use crate::sim::{self, SimHandle, presence::AfterDelay};
use crate::transport::inproc::InProcTransport;

/// A fake webauthn.dll in front of a simulated key, recording the requests.
pub(crate) struct SimApi {
    session: ProbeSession<InProcTransport>,
    _sim: SimHandle,
    version: Result<u32, PlatformError>,
    creates: Vec<CreateRequest>,
    gets: Vec<GetRequest>,
    pub(crate) fail_create: Option<u32>,
    fail_get: Option<u32>,
    tamper: bool,
}

impl SimApi {
    pub(crate) fn new(scenario: &str) -> SimApi {
        let found = sim::scenario::find(scenario).unwrap();
        let (t, handle) =
            sim::try_spawn_inproc(found, Box::new(AfterDelay::new(Duration::ZERO))).unwrap();
        SimApi {
            session: ProbeSession::open(t, &ProbeOptions::default()).unwrap(),
            _sim: handle,
            version: Ok(4),
            creates: Vec::new(),
            gets: Vec::new(),
            fail_create: None,
            fail_get: None,
            tamper: false,
        }
    }
}

pub(crate) fn err(hr: u32) -> PlatformError {
    PlatformError {
        hresult: hr,
        name: "test".into(),
    }
}

impl PlatformAuthenticator for SimApi {
    fn api_version(&self) -> Result<u32, PlatformError> {
        self.version.clone()
    }

    fn make_credential(&mut self, req: &CreateRequest) -> Result<CreateResponse, PlatformError> {
        self.creates.push(req.clone());
        if let Some(hr) = self.fail_create {
            return Err(err(hr));
        }
        let request = MakeCredentialRequest {
            client_data_hash: hash(&req.client_data_json),
            rp_id: req.rp_id.clone(),
            rp_name: Some(req.rp_name.clone()),
            user_id: req.user_id.clone(),
            user_name: Some(req.user_name.clone()),
            user_display_name: Some(req.user_display_name.clone()),
            algorithms: req.algorithms.clone(),
            exclude_list: Vec::new(),
            rk: req.resident_key,
            uv: None,
            pin_uv_auth_param: None,
            pin_uv_auth_protocol: None,
        };
        let att = self.session.hid.call(&request, &mut |_| {}).unwrap();
        let mut auth_data = att.auth_data.clone();
        if self.tamper {
            auth_data[0] ^= 1; // rpIdHash no longer matches, signature breaks
        }
        let object = Value::Map(vec![
            (Value::Text("fmt".into()), Value::Text(att.fmt.clone())),
            (Value::Text("attStmt".into()), att.att_stmt.clone()),
            (Value::Text("authData".into()), Value::Bytes(auth_data)),
        ]);
        let mut bytes = Vec::new();
        ciborium::into_writer(&object, &mut bytes).unwrap();
        let parsed =
            crate::ctap::verify::authdata::AuthenticatorData::parse(&att.auth_data).unwrap();
        Ok(CreateResponse {
            attestation_object: bytes,
            credential_id: parsed.attested_credential.unwrap().credential_id,
        })
    }

    fn get_assertion(&mut self, req: &GetRequest) -> Result<GetResponse, PlatformError> {
        self.gets.push(req.clone());
        if let Some(hr) = self.fail_get {
            return Err(err(hr));
        }
        let request = GetAssertionRequest {
            rp_id: req.rp_id.clone(),
            client_data_hash: hash(&req.client_data_json),
            allow_list: vec![req.allow_credential.clone()],
            up: None,
            uv: None,
            pin_uv_auth_param: None,
            pin_uv_auth_protocol: None,
        };
        let a = self.session.hid.call(&request, &mut |_| {}).unwrap();
        let mut signature = a.signature;
        if self.tamper {
            let last = signature.len() - 1;
            signature[last] ^= 1;
        }
        Ok(GetResponse {
            auth_data: a.auth_data,
            signature,
            credential_id: a
                .credential_id
                .unwrap_or_else(|| req.allow_credential.clone()),
        })
    }
}

fn opts() -> ProbeOptions {
    ProbeOptions {
        user_verification: UvRequirement::Discouraged,
        ..ProbeOptions::default()
    }
}

#[test]
fn requests_ask_for_a_security_key_direct_attestation_and_no_resident_credential() {
    let mut api = SimApi::new("no-pin");
    let probe = run(&mut api, &opts(), &mut |_| {});
    let create = &api.creates[0];
    assert_eq!(create.rp_id, "fido-doctor.invalid");
    assert_eq!(create.attachment, Attachment::CrossPlatform);
    assert_eq!(create.attestation, Conveyance::Direct);
    assert!(!create.resident_key);
    assert_eq!(create.algorithms, [ALG_ES256, ALG_EDDSA]);
    assert!(
        create
            .client_data_json
            .contains(r#""type":"webauthn.create""#)
    );
    assert!(
        create
            .client_data_json
            .contains(r#""origin":"https://fido-doctor.invalid""#)
    );
    let get = &api.gets[0];
    assert!(get.client_data_json.contains(r#""type":"webauthn.get""#));
    assert_ne!(get.client_data_json, create.client_data_json);
    let reg = probe
        .report
        .registration
        .ok()
        .expect("registration verified");
    assert_eq!(get.allow_credential, reg.credential_id);
    assert_eq!(get.rp_id, create.rp_id);
}

#[test]
fn answers_are_verified_like_the_hid_path_and_what_the_api_hides_is_said() {
    let mut api = SimApi::new("no-pin");
    let mut events = Vec::new();
    let probe = run(&mut api, &opts(), &mut |e| events.push(e));
    assert_eq!(probe.api_version, Some(4));
    let reg = probe
        .report
        .registration
        .ok()
        .expect("registration verified");
    assert_eq!(reg.method, Method::Platform);
    assert_eq!(reg.user_verification, UserVerification::None);
    assert!(!reg.attestation.format.is_empty());
    let auth = probe
        .report
        .authentication
        .ok()
        .expect("authentication verified");
    assert!(auth.user_present);
    assert_eq!(auth.method, Method::Platform);
    // The key stage never pretends to have read the key.
    assert!(matches!(probe.report.key, Outcome::Skipped { .. }));
    assert!(!probe.report.all_ok());
    assert_eq!(probe.not_available, NOT_AVAILABLE);
    // The simulator's AAGUID is not in the metadata: no declared GetInfo.
    assert_eq!(probe.model, None);
    assert_eq!(probe.declared_get_info, None);
    assert_eq!(events.first(), Some(&ProbeEvent::Stage(Stage::Register)));
    let json = serde_json::to_value(&probe).unwrap();
    assert_eq!(
        json["report"]["registration"]["value"]["method"],
        "platform"
    );
    assert_eq!(json["not_available"][1], "pin-retries");
}

#[test]
fn tampered_answers_fail_verification() {
    let mut api = SimApi::new("no-pin");
    api.tamper = true;
    let probe = run(&mut api, &opts(), &mut |_| {});
    let f = probe.report.registration.failure().expect("refused");
    assert!(
        matches!(
            f.code,
            FailureCode::AttestationInvalid | FailureCode::VerificationFailed
        ),
        "{f:?}"
    );
    assert!(matches!(
        probe.report.authentication,
        Outcome::Skipped { .. }
    ));

    // A good registration, then a signature that does not verify.
    let mut api = SimApi::new("no-pin");
    let o = opts();
    let req = create_request(&o, &[1; 32], &[2; 16]);
    let resp = api.make_credential(&req).unwrap();
    let reg = registration_from(&req, &resp).unwrap();
    api.tamper = true;
    let get = get_request(&o, &[3; 32], &reg);
    let resp = api.get_assertion(&get).unwrap();
    let e = authentication_from(&get, &reg, &resp).unwrap_err();
    assert_eq!(e.code(), FailureCode::VerificationFailed);
    // A credential other than the one allowed is refused.
    let other = GetResponse {
        credential_id: vec![9; 16],
        ..resp
    };
    assert!(authentication_from(&get, &reg, &other).is_err());
    // The answer to another challenge does not verify either.
    api.tamper = false;
    let resp = api.get_assertion(&get).unwrap();
    let replay = get_request(&o, &[4; 32], &reg);
    assert!(authentication_from(&replay, &reg, &resp).is_err());
    assert!(authentication_from(&get, &reg, &resp).is_ok());
}

#[test]
fn hresults_map_to_the_hid_paths_failure_kinds() {
    use hresult::*;
    assert_eq!(code_for_hresult(NTE_USER_CANCELLED), FailureCode::Cancelled);
    assert_eq!(code_for_hresult(CANCELLED), FailureCode::Cancelled);
    assert_eq!(code_for_hresult(NTE_NOT_FOUND), FailureCode::NotFound);
    assert_eq!(
        code_for_hresult(NTE_DEVICE_NOT_FOUND),
        FailureCode::NotFound
    );
    assert_eq!(code_for_hresult(TIMEOUT), FailureCode::TouchTimeout);
    assert_eq!(
        code_for_hresult(NTE_NOT_SUPPORTED),
        FailureCode::NotSupported
    );
    assert_eq!(
        code_for_hresult(NTE_TOKEN_KEYSET_STORAGE_FULL),
        FailureCode::KeyStoreFull
    );
    assert_eq!(
        code_for_hresult(ACCESS_DENIED),
        FailureCode::PermissionDenied
    );
    assert_eq!(code_for_hresult(0x8000_4005), FailureCode::Transport);

    let mut api = SimApi::new("no-pin");
    api.fail_create = Some(NTE_USER_CANCELLED);
    let probe = run(&mut api, &opts(), &mut |_| {});
    let f = probe.report.registration.failure().unwrap();
    assert_eq!(f.code, FailureCode::Cancelled);
    assert!(f.message.contains("0x80090036"), "{}", f.message);
    assert!(matches!(
        probe.report.authentication,
        Outcome::Skipped { .. }
    ));

    let mut api = SimApi::new("no-pin");
    api.fail_get = Some(TIMEOUT);
    let probe = run(&mut api, &opts(), &mut |_| {});
    assert!(probe.report.registration.is_ok());
    assert_eq!(
        probe.report.authentication.failure().unwrap().code,
        FailureCode::TouchTimeout
    );
}

#[test]
fn an_old_or_missing_api_runs_nothing() {
    let mut api = SimApi::new("no-pin");
    api.version = Ok(0);
    let probe = run(&mut api, &opts(), &mut |_| {});
    assert_eq!(probe.api_version, Some(0));
    assert_eq!(
        probe.report.registration.failure().unwrap().code,
        FailureCode::NotSupported
    );
    assert!(api.creates.is_empty());

    let mut api = SimApi::new("no-pin");
    api.version = Err(err(hresult::MOD_NOT_FOUND));
    let probe = run(&mut api, &opts(), &mut |_| {});
    assert_eq!(probe.api_version, None);
    assert_eq!(
        probe.report.registration.failure().unwrap().code,
        FailureCode::NotSupported
    );
    assert!(api.creates.is_empty() && api.gets.is_empty());
}

#[test]
fn required_uv_without_the_uv_flag_is_refused() {
    let mut api = SimApi::new("no-pin");
    let o = ProbeOptions {
        user_verification: UvRequirement::Required,
        ..ProbeOptions::default()
    };
    let probe = run(&mut api, &o, &mut |_| {});
    assert_eq!(api.creates[0].user_verification, UvPolicy::Required);
    assert_eq!(
        probe.report.registration.failure().unwrap().code,
        FailureCode::VerificationFailed
    );
}
