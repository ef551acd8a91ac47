//! "Is this key already registered?": with the PIN, lists the relying
//! parties that have discoverable credentials on the key, the users of the
//! UTokyo (Microsoft Entra ID, `login.microsoft.com`) ones, and the slots
//! left. Read-only: only metadata and enumeration subcommands are sent.

use serde::Serialize;

use crate::ctap::ctap2::client_pin::Permissions;
use crate::ctap::error::CtapError;
use crate::ctap::probe::PinSource;
use crate::ctap::status::CtapStatus;

use super::cred_mgmt::{self, CredMgmtResponse};
use super::state::{CredMgmtSupport, PinSafety, read_state};
use super::token::{Token, pin_token};
use super::{Ctap2Channel, ENTRA_RP_ID, KeycareError};

/// Upper bound on relying parties / credentials read (a key holds far fewer).
const MAX_ITEMS: u64 = 256;

/// Text that replaces user names and other services' ids in redacted output.
pub const REDACTED: &str = "(redacted)";

/// One UTokyo (Entra ID) sign-in stored on the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisteredUser {
    /// The account's sign-in name (personal: removed by [`CredentialInventory::redact`]).
    pub user_name: Option<String>,
    /// Its display name (personal: removed by [`CredentialInventory::redact`]).
    pub display_name: Option<String>,
    /// The credential's credProtect level, if the key reports it.
    pub cred_protect: Option<u64>,
}

/// A service with discoverable credentials on the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelyingParty {
    /// Its RP id (for services other than Entra ID removed by redaction).
    pub id: Option<String>,
    /// How many credentials it has on the key.
    pub credentials: u64,
}

/// The key's discoverable credentials, as far as this program needs them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialInventory {
    /// Discoverable credentials on the key, all services.
    pub existing: u64,
    /// How many more the key can store (an estimate by the key).
    pub remaining: Option<u64>,
    /// Services with credentials on the key.
    pub relying_parties: Vec<RelyingParty>,
    /// The UTokyo (Entra ID) sign-ins, for RP id [`ENTRA_RP_ID`].
    pub entra: Vec<RegisteredUser>,
}

impl CredentialInventory {
    /// Whether the key already holds a UTokyo (Entra ID) sign-in.
    pub fn has_entra(&self) -> bool {
        !self.entra.is_empty()
    }

    /// Whether the key has no room for another discoverable credential.
    pub fn is_full(&self) -> bool {
        self.remaining == Some(0)
    }

    /// Removes user names and the ids of services other than Entra ID.
    pub fn redact(&mut self) {
        for u in &mut self.entra {
            if u.user_name.is_some() {
                u.user_name = Some(REDACTED.into());
            }
            if u.display_name.is_some() {
                u.display_name = Some(REDACTED.into());
            }
        }
        for rp in &mut self.relying_parties {
            if rp.id.as_deref() != Some(ENTRA_RP_ID) && rp.id.is_some() {
                rp.id = Some(REDACTED.into());
            }
        }
    }
}

/// A relying party as enumerated: its id (if the key kept it) and rpIDHash.
type RpRef = (Option<String>, Vec<u8>);

struct Session<'a> {
    dev: &'a mut dyn Ctap2Channel,
    command: u8,
}

impl Session<'_> {
    fn call(&mut self, request: &[u8]) -> Result<CredMgmtResponse, KeycareError> {
        let body = self.dev.ctap2(self.command, request, &mut |_| {})?;
        Ok(CredMgmtResponse::decode(&body)?)
    }

    /// A `*Begin` call where "nothing there" is CTAP2_ERR_NO_CREDENTIALS.
    fn begin(&mut self, request: &[u8]) -> Result<Option<CredMgmtResponse>, KeycareError> {
        match self.dev.ctap2(self.command, request, &mut |_| {}) {
            Ok(body) => Ok(Some(CredMgmtResponse::decode(&body)?)),
            Err(CtapError::Status(CtapStatus::NoCredentials)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn relying_parties(&mut self, token: &Token) -> Result<Vec<RpRef>, KeycareError> {
        let Some(first) = self.begin(&cred_mgmt::encode_enumerate_rps_begin(token))? else {
            return Ok(Vec::new());
        };
        let total = first.total_rps.unwrap_or(1).min(MAX_ITEMS);
        let mut out = vec![rp_of(first)?];
        for _ in 1..total {
            out.push(rp_of(self.call(&cred_mgmt::encode_enumerate_rps_next())?)?);
        }
        Ok(out)
    }

    fn credentials(
        &mut self,
        token: &Token,
        hash: &[u8],
        read_all: bool,
    ) -> Result<(u64, Vec<CredMgmtResponse>), KeycareError> {
        let begin = cred_mgmt::encode_enumerate_credentials_begin(token, hash);
        let Some(first) = self.begin(&begin)? else {
            return Ok((0, Vec::new()));
        };
        let total = first.total_credentials.unwrap_or(1);
        let mut out = vec![first];
        if read_all {
            for _ in 1..total.min(MAX_ITEMS) {
                out.push(self.call(&cred_mgmt::encode_enumerate_credentials_next())?);
            }
        }
        Ok((total, out))
    }
}

fn rp_of(r: CredMgmtResponse) -> Result<RpRef, KeycareError> {
    let hash = r.rp_id_hash.ok_or(KeycareError::Ctap(CtapError::malformed(
        "CredentialManagement response",
        "rpIDHash (4) missing",
    )))?;
    Ok((r.rp.and_then(|rp| rp.id), hash))
}

/// Lists the key's discoverable credentials (read-only). Asks `pin` for the
/// PIN under the same rules as the probe (retries shown, the last attempt
/// only with `safety`'s consent, the same PIN never sent twice); the PIN is
/// not kept. Needs credential management (2.1 or preview) and a PIN set.
pub fn registrations(
    dev: &mut dyn Ctap2Channel,
    pin: &mut dyn PinSource,
    safety: PinSafety,
) -> Result<CredentialInventory, KeycareError> {
    let (_, state) = read_state(dev)?;
    let command = match state.credential_management {
        CredMgmtSupport::None => return Err(KeycareError::NoCredentialManagement),
        other => other.command().unwrap_or(super::cmd::CREDENTIAL_MANAGEMENT),
    };
    let token = pin_token(
        dev,
        &state,
        Permissions::CREDENTIAL_MANAGEMENT,
        None,
        pin,
        safety,
    )?;
    let mut s = Session { dev, command };
    let meta = s.call(&cred_mgmt::encode_get_creds_metadata(&token))?;
    let existing = meta.existing.unwrap_or(0);
    let mut inventory = CredentialInventory {
        existing,
        remaining: meta.remaining,
        relying_parties: Vec::new(),
        entra: Vec::new(),
    };
    if existing == 0 {
        return Ok(inventory);
    }
    let entra_hash = cred_mgmt::rp_id_hash(ENTRA_RP_ID);
    for (id, hash) in s.relying_parties(&token)? {
        let is_entra = hash == entra_hash || id.as_deref() == Some(ENTRA_RP_ID);
        let (count, creds) = s.credentials(&token, &hash, is_entra)?;
        if is_entra {
            inventory.entra = creds
                .into_iter()
                .map(|c| {
                    let user = c.user.unwrap_or_default();
                    RegisteredUser {
                        user_name: user.name,
                        display_name: user.display_name,
                        cred_protect: c.cred_protect,
                    }
                })
                .collect();
        }
        inventory.relying_parties.push(RelyingParty {
            id: id.or_else(|| is_entra.then(|| ENTRA_RP_ID.to_owned())),
            credentials: count,
        });
    }
    Ok(inventory)
}
