//! The authenticator model table (`content/aaguids.toml`): AAGUID → model
//! name, vendor, kind (hardware key or platform/software passkey) and
//! whether Microsoft Entra lists the model as eligible for attestation.

use std::fmt;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::{ContentError, ContentSource};

/// Path of the table below the content root.
pub const AAGUID_FILE: &str = "aaguids.toml";

/// What kind of authenticator a model is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthenticatorKind {
    /// A roaming security key.
    Hardware,
    /// A platform or software authenticator (phone, password manager): a passkey.
    Platform,
    /// This program's own simulated key (practice): treated like a listed
    /// hardware key, so a practice run of a good key ends as a good key.
    Simulator,
}

/// A 16-byte authenticator model id, shown lowercase and hyphenated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Aaguid(pub [u8; 16]);

impl Aaguid {
    /// Parses `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (hyphens optional, any case).
    pub fn parse(s: &str) -> Option<Aaguid> {
        let hex: String = s.trim().chars().filter(|c| *c != '-').collect();
        if hex.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        hex::decode_to_slice(&hex, &mut out).ok()?;
        Some(Aaguid(out))
    }

    /// True for the all-zero AAGUID that keys without attestation report.
    pub fn is_zero(&self) -> bool {
        self.0 == [0u8; 16]
    }
}

impl fmt::Display for Aaguid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = hex::encode(self.0);
        let part = |a: usize, b: usize| h.get(a..b).unwrap_or("");
        write!(
            f,
            "{}-{}-{}-{}-{}",
            part(0, 8),
            part(8, 12),
            part(12, 16),
            part(16, 20),
            part(20, 32)
        )
    }
}

impl Serialize for Aaguid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Authenticator {
    /// Its AAGUID.
    pub aaguid: Aaguid,
    /// Model name.
    pub name: String,
    /// Maker, when known.
    pub vendor: Option<String>,
    /// Hardware key or platform/software passkey.
    pub kind: AuthenticatorKind,
    /// Listed in Entra's attestation-eligible table (MDS 77).
    pub eligible: bool,
    /// Has a fingerprint reader.
    pub bio: Option<bool>,
    /// Works over USB.
    pub usb: Option<bool>,
    /// Works over NFC.
    pub nfc: Option<bool>,
    /// Works over Bluetooth.
    pub ble: Option<bool>,
}

/// All known models.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AaguidTable {
    rows: Vec<Authenticator>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    authenticator: Vec<RawRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRow {
    aaguid: Spanned<String>,
    name: String,
    vendor: Option<String>,
    kind: AuthenticatorKind,
    eligible: bool,
    bio: Option<bool>,
    usb: Option<bool>,
    nfc: Option<bool>,
    ble: Option<bool>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map(|t| t.matches('\n').count() + 1)
        .unwrap_or(1)
}

impl AaguidTable {
    /// Loads and checks `aaguids.toml`: AAGUIDs must be well-formed and unique.
    pub fn load(src: &ContentSource) -> Result<Self, ContentError> {
        let text = src.read(AAGUID_FILE)?;
        Self::parse(&text)
    }

    /// Parses the text of `aaguids.toml` (errors name that file).
    pub fn parse(text: &str) -> Result<Self, ContentError> {
        let raw: RawFile =
            toml::from_str(text).map_err(|e| ContentError::from_toml(AAGUID_FILE, text, &e, 0))?;
        let mut rows: Vec<Authenticator> = Vec::with_capacity(raw.authenticator.len());
        for r in raw.authenticator {
            let line = line_of(text, r.aaguid.span().start);
            let aaguid = Aaguid::parse(r.aaguid.get_ref()).ok_or_else(|| {
                ContentError::invalid(
                    AAGUID_FILE,
                    line,
                    format!("{:?} is not an AAGUID", r.aaguid.get_ref()),
                )
            })?;
            if rows.iter().any(|o| o.aaguid == aaguid) {
                return Err(ContentError::invalid(
                    AAGUID_FILE,
                    line,
                    format!("AAGUID {aaguid} appears twice"),
                ));
            }
            rows.push(Authenticator {
                aaguid,
                name: r.name,
                vendor: r.vendor.filter(|v| !v.trim().is_empty()),
                kind: r.kind,
                eligible: r.eligible,
                bio: r.bio,
                usb: r.usb,
                nfc: r.nfc,
                ble: r.ble,
            });
        }
        Ok(AaguidTable { rows })
    }

    /// The model with this AAGUID.
    pub fn lookup(&self, aaguid: &[u8; 16]) -> Option<&Authenticator> {
        self.rows.iter().find(|r| &r.aaguid.0 == aaguid)
    }

    /// The model with this AAGUID given as text (hyphens optional, any case).
    pub fn lookup_str(&self, aaguid: &str) -> Option<&Authenticator> {
        let a = Aaguid::parse(aaguid)?;
        self.lookup(&a.0)
    }

    /// All models, in file order.
    pub fn all(&self) -> &[Authenticator] {
        &self.rows
    }

    /// Number of models.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when the table has no models.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
[[authenticator]]
aaguid = "42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3"
name = "Google Titan Security Key v2"
vendor = "Google"
kind = "hardware"
eligible = true
usb = true
nfc = true

[[authenticator]]
aaguid = "ADCE0002-35BC-C60A-648B-0B25F1F05503"
name = "Chrome on Mac"
kind = "platform"
eligible = false
"#;

    #[test]
    fn looks_up_by_bytes_and_text() {
        let t = AaguidTable::parse(SAMPLE).unwrap();
        assert_eq!(t.len(), 2);
        let titan = t.lookup_str("42B4FB4A286643B29BF76C6669C2E5D3").unwrap();
        assert_eq!(titan.name, "Google Titan Security Key v2");
        assert_eq!(titan.vendor.as_deref(), Some("Google"));
        assert!(titan.eligible);
        assert_eq!(titan.kind, AuthenticatorKind::Hardware);
        assert_eq!(titan.nfc, Some(true));
        assert_eq!(titan.bio, None);
        let bytes = [
            0xad, 0xce, 0x00, 0x02, 0x35, 0xbc, 0xc6, 0x0a, 0x64, 0x8b, 0x0b, 0x25, 0xf1, 0xf0,
            0x55, 0x03,
        ];
        let mac = t.lookup(&bytes).unwrap();
        assert_eq!(mac.kind, AuthenticatorKind::Platform);
        assert_eq!(
            mac.aaguid.to_string(),
            "adce0002-35bc-c60a-648b-0b25f1f05503"
        );
        assert!(t.lookup(&[0u8; 16]).is_none());
        assert!(t.lookup_str("not-an-aaguid").is_none());
    }

    #[test]
    fn bad_aaguid_names_its_line() {
        let bad = SAMPLE.replace("ADCE0002-35BC", "ADCE0002-35BZ");
        let err = AaguidTable::parse(&bad).unwrap_err().to_string();
        assert!(err.starts_with("aaguids.toml:12:"), "{err}");
    }

    #[test]
    fn duplicate_aaguid_is_refused() {
        let bad = SAMPLE.replace(
            "ADCE0002-35BC-C60A-648B-0B25F1F05503",
            "42b4fb4a-2866-43b2-9bf7-6c6669c2e5d3",
        );
        let err = AaguidTable::parse(&bad).unwrap_err().to_string();
        assert!(err.contains("appears twice"), "{err}");
    }

    #[test]
    fn missing_kind_is_an_error() {
        let bad = SAMPLE.replace("kind = \"platform\"\n", "");
        assert!(AaguidTable::parse(&bad).is_err());
    }

    #[test]
    fn aaguid_text_round_trips() {
        let a = Aaguid::parse("00000000-0000-0000-0000-000000000000").unwrap();
        assert!(a.is_zero());
        assert_eq!(a.to_string(), "00000000-0000-0000-0000-000000000000");
        assert!(Aaguid::parse("0000").is_none());
    }
}
