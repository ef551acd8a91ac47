//! The Windows WebAuthn API (webauthn.dll) behind
//! [`super::platform::PlatformAuthenticator`]: a thin layer that fills the
//! API's structures from a request and copies the answer out. All decisions
//! (what to ask for, how to verify, what an HRESULT means) are in
//! [`super::platform`].
//!
//! webauthn.dll is loaded when first used, not linked: on a Windows without
//! it (before Windows 10 1903) the program still starts and this path
//! reports the API as not available.

use windows::Win32::Foundation::{FreeLibrary, HMODULE, HWND};
use windows::Win32::Networking::WindowsWebServices::*;
use windows::Win32::System::Console::GetConsoleWindow;
use windows::Win32::System::LibraryLoader::{GetProcAddress, LoadLibraryW};
use windows::core::{BOOL, HRESULT, PCSTR, PCWSTR, s, w};

use super::platform::{
    Attachment, Conveyance, CreateRequest, CreateResponse, GetRequest, GetResponse,
    PlatformAuthenticator, PlatformError, UvPolicy, hresult,
};

type GetApiVersionFn = unsafe extern "system" fn() -> u32;
type MakeCredentialFn = unsafe extern "system" fn(
    HWND,
    *const WEBAUTHN_RP_ENTITY_INFORMATION,
    *const WEBAUTHN_USER_ENTITY_INFORMATION,
    *const WEBAUTHN_COSE_CREDENTIAL_PARAMETERS,
    *const WEBAUTHN_CLIENT_DATA,
    *const WEBAUTHN_AUTHENTICATOR_MAKE_CREDENTIAL_OPTIONS,
    *mut *mut WEBAUTHN_CREDENTIAL_ATTESTATION,
) -> HRESULT;
type GetAssertionFn = unsafe extern "system" fn(
    HWND,
    PCWSTR,
    *const WEBAUTHN_CLIENT_DATA,
    *const WEBAUTHN_AUTHENTICATOR_GET_ASSERTION_OPTIONS,
    *mut *mut WEBAUTHN_ASSERTION,
) -> HRESULT;
type FreeAttestationFn = unsafe extern "system" fn(*const WEBAUTHN_CREDENTIAL_ATTESTATION);
type FreeAssertionFn = unsafe extern "system" fn(*const WEBAUTHN_ASSERTION);
type ErrorNameFn = unsafe extern "system" fn(HRESULT) -> PCWSTR;

/// webauthn.dll, loaded.
pub struct WindowsWebAuthn {
    module: HMODULE,
    version: GetApiVersionFn,
    make_credential: MakeCredentialFn,
    get_assertion: GetAssertionFn,
    free_attestation: FreeAttestationFn,
    free_assertion: FreeAssertionFn,
    error_name: Option<ErrorNameFn>,
}

fn missing(hr: u32, what: &str) -> PlatformError {
    PlatformError {
        hresult: hr,
        name: what.to_string(),
    }
}

/// Looks up `name` in `module` as a function of type `F`.
///
/// # Safety
/// `F` must be the function's real signature.
unsafe fn proc<F: Copy>(module: HMODULE, name: PCSTR) -> Option<F> {
    // SAFETY: the caller guarantees the signature; GetProcAddress returns a
    // function pointer or None.
    unsafe {
        let f = GetProcAddress(module, name)?;
        Some(std::mem::transmute_copy::<_, F>(&f))
    }
}

impl WindowsWebAuthn {
    /// Loads webauthn.dll and the functions used here.
    pub fn load() -> Result<Self, PlatformError> {
        // SAFETY: plain library loading; the function types match webauthn.h.
        unsafe {
            let module = LoadLibraryW(w!("webauthn.dll"))
                .map_err(|_| missing(hresult::MOD_NOT_FOUND, "webauthn.dll not found"))?;
            let lookup = || -> Option<Self> {
                Some(WindowsWebAuthn {
                    module,
                    version: proc(module, s!("WebAuthNGetApiVersionNumber"))?,
                    make_credential: proc(module, s!("WebAuthNAuthenticatorMakeCredential"))?,
                    get_assertion: proc(module, s!("WebAuthNAuthenticatorGetAssertion"))?,
                    free_attestation: proc(module, s!("WebAuthNFreeCredentialAttestation"))?,
                    free_assertion: proc(module, s!("WebAuthNFreeAssertion"))?,
                    error_name: proc(module, s!("WebAuthNGetErrorName")),
                })
            };
            lookup().ok_or_else(|| {
                let _ = FreeLibrary(module);
                missing(
                    hresult::PROC_NOT_FOUND,
                    "webauthn.dll lacks the WebAuthN functions",
                )
            })
        }
    }

    fn error(&self, hr: HRESULT) -> PlatformError {
        let name = self
            .error_name
            // SAFETY: WebAuthNGetErrorName returns a static string or null.
            .and_then(|f| unsafe {
                let p = f(hr);
                (!p.is_null()).then(|| p.to_string().ok()).flatten()
            })
            .unwrap_or_else(|| "WebAuthn API error".into());
        PlatformError {
            hresult: hr.0 as u32,
            name,
        }
    }
}

impl Drop for WindowsWebAuthn {
    fn drop(&mut self) {
        // SAFETY: loaded in `load`; no pointer into it outlives `self`.
        unsafe {
            let _ = FreeLibrary(self.module);
        }
    }
}

fn wide(s: &str) -> Vec<u16> {
    s.encode_utf16().chain(std::iter::once(0)).collect()
}

fn attachment(a: Attachment) -> u32 {
    match a {
        Attachment::CrossPlatform => WEBAUTHN_AUTHENTICATOR_ATTACHMENT_CROSS_PLATFORM,
    }
}

fn conveyance(c: Conveyance) -> u32 {
    match c {
        Conveyance::Direct => WEBAUTHN_ATTESTATION_CONVEYANCE_PREFERENCE_DIRECT,
    }
}

fn uv(p: UvPolicy) -> u32 {
    match p {
        UvPolicy::Required => WEBAUTHN_USER_VERIFICATION_REQUIREMENT_REQUIRED,
        UvPolicy::Preferred => WEBAUTHN_USER_VERIFICATION_REQUIREMENT_PREFERRED,
        UvPolicy::Discouraged => WEBAUTHN_USER_VERIFICATION_REQUIREMENT_DISCOURAGED,
    }
}

fn millis(d: std::time::Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

/// Copies `len` bytes at `ptr` (nothing for a null pointer).
///
/// # Safety
/// `ptr` must be null or valid for `len` bytes.
unsafe fn copy(ptr: *const u8, len: u32) -> Vec<u8> {
    if ptr.is_null() || len == 0 {
        return Vec::new();
    }
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts(ptr, len as usize).to_vec() }
}

fn client_data(json: &[u8]) -> WEBAUTHN_CLIENT_DATA {
    WEBAUTHN_CLIENT_DATA {
        dwVersion: WEBAUTHN_CLIENT_DATA_CURRENT_VERSION,
        cbClientDataJSON: json.len() as u32,
        pbClientDataJSON: json.as_ptr() as *mut u8,
        pwszHashAlgId: WEBAUTHN_HASH_ALGORITHM_SHA_256,
    }
}

impl PlatformAuthenticator for WindowsWebAuthn {
    fn api_version(&self) -> Result<u32, PlatformError> {
        // SAFETY: no arguments; returns a number.
        Ok(unsafe { (self.version)() })
    }

    fn make_credential(&mut self, req: &CreateRequest) -> Result<CreateResponse, PlatformError> {
        let rp_id = wide(&req.rp_id);
        let rp_name = wide(&req.rp_name);
        let user_name = wide(&req.user_name);
        let display = wide(&req.user_display_name);
        let mut user_id = req.user_id.clone();
        let json = req.client_data_json.as_bytes();
        let rp = WEBAUTHN_RP_ENTITY_INFORMATION {
            dwVersion: WEBAUTHN_RP_ENTITY_INFORMATION_CURRENT_VERSION,
            pwszId: PCWSTR(rp_id.as_ptr()),
            pwszName: PCWSTR(rp_name.as_ptr()),
            pwszIcon: PCWSTR::null(),
        };
        let user = WEBAUTHN_USER_ENTITY_INFORMATION {
            dwVersion: WEBAUTHN_USER_ENTITY_INFORMATION_CURRENT_VERSION,
            cbId: user_id.len() as u32,
            pbId: user_id.as_mut_ptr(),
            pwszName: PCWSTR(user_name.as_ptr()),
            pwszIcon: PCWSTR::null(),
            pwszDisplayName: PCWSTR(display.as_ptr()),
        };
        let mut params: Vec<WEBAUTHN_COSE_CREDENTIAL_PARAMETER> = req
            .algorithms
            .iter()
            .map(|&alg| WEBAUTHN_COSE_CREDENTIAL_PARAMETER {
                dwVersion: WEBAUTHN_COSE_CREDENTIAL_PARAMETER_CURRENT_VERSION,
                pwszCredentialType: WEBAUTHN_CREDENTIAL_TYPE_PUBLIC_KEY,
                lAlg: alg as i32,
            })
            .collect();
        let params = WEBAUTHN_COSE_CREDENTIAL_PARAMETERS {
            cCredentialParameters: params.len() as u32,
            pCredentialParameters: params.as_mut_ptr(),
        };
        let data = client_data(json);
        let options = WEBAUTHN_AUTHENTICATOR_MAKE_CREDENTIAL_OPTIONS {
            dwVersion: WEBAUTHN_AUTHENTICATOR_MAKE_CREDENTIAL_OPTIONS_VERSION_1,
            dwTimeoutMilliseconds: millis(req.timeout),
            dwAuthenticatorAttachment: attachment(req.attachment),
            bRequireResidentKey: BOOL::from(req.resident_key),
            dwUserVerificationRequirement: uv(req.user_verification),
            dwAttestationConveyancePreference: conveyance(req.attestation),
            ..Default::default()
        };
        let mut out: *mut WEBAUTHN_CREDENTIAL_ATTESTATION = std::ptr::null_mut();
        // SAFETY: every pointer refers to a local that outlives the call; the
        // answer is copied and freed with the API's own function.
        unsafe {
            let hr = (self.make_credential)(
                GetConsoleWindow(),
                &rp,
                &user,
                &params,
                &data,
                &options,
                &mut out,
            );
            if hr.is_err() || out.is_null() {
                return Err(self.error(hr));
            }
            let a = &*out;
            let resp = CreateResponse {
                attestation_object: copy(a.pbAttestationObject, a.cbAttestationObject),
                credential_id: copy(a.pbCredentialId, a.cbCredentialId),
            };
            (self.free_attestation)(out);
            Ok(resp)
        }
    }

    fn get_assertion(&mut self, req: &GetRequest) -> Result<GetResponse, PlatformError> {
        let rp_id = wide(&req.rp_id);
        let mut id = req.allow_credential.clone();
        let mut cred = WEBAUTHN_CREDENTIAL {
            dwVersion: WEBAUTHN_CREDENTIAL_CURRENT_VERSION,
            cbId: id.len() as u32,
            pbId: id.as_mut_ptr(),
            pwszCredentialType: WEBAUTHN_CREDENTIAL_TYPE_PUBLIC_KEY,
        };
        let data = client_data(req.client_data_json.as_bytes());
        let options = WEBAUTHN_AUTHENTICATOR_GET_ASSERTION_OPTIONS {
            dwVersion: WEBAUTHN_AUTHENTICATOR_GET_ASSERTION_OPTIONS_VERSION_1,
            dwTimeoutMilliseconds: millis(req.timeout),
            CredentialList: WEBAUTHN_CREDENTIALS {
                cCredentials: 1,
                pCredentials: &mut cred,
            },
            dwAuthenticatorAttachment: attachment(req.attachment),
            dwUserVerificationRequirement: uv(req.user_verification),
            ..Default::default()
        };
        let mut out: *mut WEBAUTHN_ASSERTION = std::ptr::null_mut();
        // SAFETY: as in make_credential.
        unsafe {
            let hr = (self.get_assertion)(
                GetConsoleWindow(),
                PCWSTR(rp_id.as_ptr()),
                &data,
                &options,
                &mut out,
            );
            if hr.is_err() || out.is_null() {
                return Err(self.error(hr));
            }
            let a = &*out;
            let resp = GetResponse {
                auth_data: copy(a.pbAuthenticatorData, a.cbAuthenticatorData),
                signature: copy(a.pbSignature, a.cbSignature),
                credential_id: copy(a.Credential.pbId, a.Credential.cbId),
            };
            (self.free_assertion)(out);
            Ok(resp)
        }
    }
}
