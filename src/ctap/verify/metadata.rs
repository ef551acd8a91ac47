//! The embedded FIDO metadata table: for each FIDO2 model (by AAGUID) its
//! name, attachment, user-verification kinds, status reports, declared
//! authenticatorGetInfo and trust anchors; and the trust anchors themselves
//! (DER, with the maker they belong to). Built from the FIDO Metadata Service
//! payload by `scripts/gen_metadata_table.py` into `data/metadata.json`
//! (the file records the BLOB number; see [`Metadata::blob_no`]).

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::authdata::Aaguid;
use super::x509::{self, CertInfo};

/// The generated table, embedded at build time.
const EMBEDDED: &str = include_str!("data/metadata.json");

/// One trust anchor (a root or a pinned intermediate the metadata lists).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Anchor {
    /// SHA-256 of the DER, lowercase hex.
    pub sha256: String,
    /// Short maker id (`yubico`, `feitian`, …) derived from the certificate's
    /// organisation or the reference data's vendor name.
    pub maker: String,
    /// The certificate's common name.
    pub name: String,
    /// `mds` or `extra:<file>` (anchors from the reference folder, not the BLOB).
    pub source: String,
    /// The certificate, DER.
    #[serde(deserialize_with = "hex_bytes")]
    pub der: Vec<u8>,
}

fn hex_bytes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let s = String::deserialize(d)?;
    hex::decode(s).map_err(serde::de::Error::custom)
}

/// A status report of the FIDO metadata (`REVOKED`, `UPDATE_AVAILABLE`, …).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct StatusReport {
    /// The status value as the metadata spells it.
    pub status: String,
    /// When it took effect (ISO date), if given.
    #[serde(rename = "effectiveDate", default)]
    pub effective_date: Option<String>,
    /// The authenticator (firmware) version the report relates to.
    #[serde(rename = "authenticatorVersion", default)]
    pub authenticator_version: Option<u64>,
    /// Where the maker explains it.
    #[serde(default)]
    pub url: Option<String>,
}

/// How a status value bears on the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatusWeight {
    /// The model is revoked or its keys or user verification are compromised.
    Compromised,
    /// The maker offers a firmware update.
    UpdateAvailable,
    /// Certification states and anything else: no effect on the verdict.
    Neutral,
}

impl StatusReport {
    /// What this report means for a key of this model.
    pub fn weight(&self) -> StatusWeight {
        match self.status.as_str() {
            "REVOKED"
            | "ATTESTATION_KEY_COMPROMISE"
            | "USER_VERIFICATION_BYPASS"
            | "USER_KEY_REMOTE_COMPROMISE"
            | "USER_KEY_PHYSICAL_COMPROMISE" => StatusWeight::Compromised,
            "UPDATE_AVAILABLE" => StatusWeight::UpdateAvailable,
            _ => StatusWeight::Neutral,
        }
    }
}

/// One FIDO2 model of the metadata.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ModelEntry {
    /// The AAGUID, lowercase hyphenated.
    pub aaguid: String,
    /// The model name (metadata `description`).
    pub name: String,
    /// A roaming authenticator (attachment hint not `internal`).
    pub roaming: bool,
    /// The attachment hints (`external`, `wired`, `nfc`, `internal`, …).
    #[serde(default)]
    pub attachment: Vec<String>,
    /// Key protection (`hardware`, `secure_element`, `software`, …).
    #[serde(default)]
    pub key_protection: Vec<String>,
    /// Offers a biometric user verification method.
    pub biometric: bool,
    /// Offers a PIN (passcode) user verification method.
    pub pin: bool,
    /// Indexes into [`Metadata::anchors`].
    pub anchors: Vec<usize>,
    /// Status reports, as listed.
    #[serde(default)]
    pub status: Vec<StatusReport>,
    /// The authenticatorGetInfo the maker declared (JSON as in the metadata).
    #[serde(default)]
    pub get_info: Option<serde_json::Value>,
}

impl ModelEntry {
    /// A hardware key: roaming with hardware or secure-element key protection.
    pub fn is_hardware_key(&self) -> bool {
        self.roaming
            && self
                .key_protection
                .iter()
                .any(|p| p == "hardware" || p == "secure_element")
    }

    /// The reports that make the model unsafe to use (revoked, compromised).
    pub fn compromised(&self) -> impl Iterator<Item = &StatusReport> {
        self.status
            .iter()
            .filter(|s| s.weight() == StatusWeight::Compromised)
    }

    /// True when the maker announced a firmware update.
    pub fn update_available(&self) -> bool {
        self.status
            .iter()
            .any(|s| s.weight() == StatusWeight::UpdateAvailable)
    }
}

/// The whole table.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    /// The MDS BLOB number the table was built from.
    pub blob_no: u64,
    /// The BLOB's `nextUpdate`.
    pub next_update: String,
    /// The metadata's legal header (terms of use).
    pub legal_header: String,
    /// Every trust anchor.
    pub anchors: Vec<Anchor>,
    /// FIDO2 models, sorted by AAGUID.
    pub models: Vec<ModelEntry>,
    /// The anchors, decoded (on first use; `None` for one that does not decode).
    #[serde(skip)]
    parsed: OnceLock<Vec<Option<CertInfo>>>,
}

impl Metadata {
    /// Parses a table in the generated format.
    pub fn parse(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The table embedded in this program (parsed once; empty if it could
    /// not be parsed, which a unit test rules out).
    pub fn embedded() -> &'static Metadata {
        static TABLE: OnceLock<Metadata> = OnceLock::new();
        TABLE.get_or_init(|| {
            Metadata::parse(EMBEDDED).unwrap_or_else(|_| Metadata {
                blob_no: 0,
                next_update: String::new(),
                legal_header: String::new(),
                anchors: Vec::new(),
                models: Vec::new(),
                parsed: OnceLock::new(),
            })
        })
    }

    /// The model with this AAGUID.
    pub fn lookup(&self, aaguid: &Aaguid) -> Option<&ModelEntry> {
        let text = aaguid.to_string();
        self.models
            .binary_search_by(|m| m.aaguid.as_str().cmp(text.as_str()))
            .ok()
            .and_then(|i| self.models.get(i))
    }

    /// The model with this AAGUID given as text (any case, hyphens optional).
    pub fn lookup_str(&self, aaguid: &str) -> Option<&ModelEntry> {
        aaguid.parse::<Aaguid>().ok().and_then(|a| self.lookup(&a))
    }

    /// The anchors the metadata lists for `model`.
    pub fn anchors_of<'a>(&'a self, model: &'a ModelEntry) -> impl Iterator<Item = &'a Anchor> {
        model.anchors.iter().filter_map(|i| self.anchors.get(*i))
    }

    /// The anchors, decoded, in the order of [`Metadata::anchors`].
    pub(crate) fn parsed_anchors(&self) -> &[Option<CertInfo>] {
        self.parsed.get_or_init(|| {
            self.anchors
                .iter()
                .map(|a| x509::parse(&a.der).ok())
                .collect()
        })
    }

    /// The anchor whose DER is exactly `der`.
    pub fn anchor_by_der(&self, der: &[u8]) -> Option<usize> {
        let hash = hex::encode(Sha256::digest(der));
        self.anchors.iter().position(|a| a.sha256 == hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_parses_and_is_consistent() {
        let md = Metadata::parse(EMBEDDED).expect("generated table parses");
        assert_eq!(md.blob_no, 291);
        assert!(md.models.len() > 300, "{}", md.models.len());
        assert!(md.anchors.len() > 150);
        for a in &md.anchors {
            assert_eq!(hex::encode(Sha256::digest(&a.der)), a.sha256, "{}", a.name);
        }
        // Three anchors of one maker encode an INTEGER in non-minimal form,
        // which strict DER rejects; every other anchor must decode.
        for (a, parsed) in md.anchors.iter().zip(md.parsed_anchors()) {
            if parsed.is_none() {
                let e = x509::parse(&a.der).err().map(|e| e.to_string());
                assert!(
                    e.as_deref().is_some_and(|e| e.contains("INTEGER")),
                    "{}: {e:?}",
                    a.name
                );
            }
        }
        let decoded = md.parsed_anchors().iter().filter(|c| c.is_some()).count();
        assert!(decoded + 3 >= md.anchors.len(), "{decoded}");
        for w in md.models.windows(2) {
            if let [a, b] = w {
                assert!(a.aaguid < b.aaguid, "sorted and unique: {}", a.aaguid);
            }
        }
        for m in &md.models {
            assert!(
                m.anchors.iter().all(|i| *i < md.anchors.len()),
                "{}",
                m.name
            );
        }
    }

    #[test]
    fn lookups_find_known_models_and_their_roots() {
        let md = Metadata::embedded();
        let y5 = md
            .lookup_str("EE882879-721C-4913-9775-3DFCCE97072A")
            .expect("YubiKey 5 is in the metadata");
        assert!(y5.name.contains("YubiKey 5"), "{}", y5.name);
        assert!(y5.is_hardware_key() && !y5.biometric);
        assert!(md.anchors_of(y5).any(|a| a.maker == "yubico"));
        assert!(
            md.lookup_str("00000000-0000-0000-0000-000000000000")
                .is_none()
        );
        let revoked: Vec<_> = md
            .models
            .iter()
            .filter(|m| m.compromised().next().is_some())
            .collect();
        assert!(!revoked.is_empty(), "BLOB 291 lists a revoked model");
    }

    #[test]
    fn status_weights() {
        let r = |s: &str| StatusReport {
            status: s.into(),
            effective_date: None,
            authenticator_version: None,
            url: None,
        };
        assert_eq!(r("REVOKED").weight(), StatusWeight::Compromised);
        assert_eq!(
            r("USER_VERIFICATION_BYPASS").weight(),
            StatusWeight::Compromised
        );
        assert_eq!(
            r("ATTESTATION_KEY_COMPROMISE").weight(),
            StatusWeight::Compromised
        );
        assert_eq!(
            r("UPDATE_AVAILABLE").weight(),
            StatusWeight::UpdateAvailable
        );
        assert_eq!(r("FIDO_CERTIFIED_L1").weight(), StatusWeight::Neutral);
    }
}
