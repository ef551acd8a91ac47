//! Key material of one simulated device: credential keys (ES256, EdDSA),
//! credential ids that wrap the private key (AES-256-CBC then HMAC-SHA-256
//! under per-device keys), and the attestation key with its certificate chain
//! issued by the simulator's own test CA.

use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};
use ciborium::Value;
use der::Encode;
use der::asn1::OctetString;
use der::oid::{AssociatedOid, ObjectIdentifier};
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::Signer;
use rand::RngCore;
use rand_core::OsRng;
use sha2::Sha256;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::ext::AsExtension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};
use zeroize::Zeroizing;

use super::SimError;
use super::cbor::{bytes, int};

type HmacSha256 = Hmac<Sha256>;

/// COSE algorithm id of ES256.
pub const COSE_ES256: i64 = -7;
/// COSE algorithm id of EdDSA.
pub const COSE_EDDSA: i64 = -8;

/// A credential's signing algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// Ed25519.
    EdDsa,
}

impl Alg {
    /// From a COSE algorithm id.
    pub fn from_cose(id: i64) -> Option<Self> {
        match id {
            COSE_ES256 => Some(Alg::Es256),
            COSE_EDDSA => Some(Alg::EdDsa),
            _ => None,
        }
    }

    fn tag(self) -> u8 {
        match self {
            Alg::Es256 => 1,
            Alg::EdDsa => 2,
        }
    }
}

/// A credential private key.
pub enum CredKey {
    /// P-256.
    Es256(p256::ecdsa::SigningKey),
    /// Ed25519.
    EdDsa(ed25519_dalek::SigningKey),
}

impl CredKey {
    /// A fresh random key.
    pub fn generate(alg: Alg) -> Self {
        match alg {
            Alg::Es256 => CredKey::Es256(p256::ecdsa::SigningKey::random(&mut OsRng)),
            Alg::EdDsa => CredKey::EdDsa(ed25519_dalek::SigningKey::generate(&mut OsRng)),
        }
    }

    fn from_secret(alg: Alg, secret: &[u8]) -> Option<Self> {
        match alg {
            Alg::Es256 => p256::ecdsa::SigningKey::from_slice(secret)
                .ok()
                .map(CredKey::Es256),
            Alg::EdDsa => {
                let arr: [u8; 32] = secret.try_into().ok()?;
                Some(CredKey::EdDsa(ed25519_dalek::SigningKey::from_bytes(&arr)))
            }
        }
    }

    fn secret(&self) -> Zeroizing<[u8; 32]> {
        match self {
            CredKey::Es256(k) => {
                let mut out = [0u8; 32];
                out.copy_from_slice(&k.to_bytes());
                Zeroizing::new(out)
            }
            CredKey::EdDsa(k) => Zeroizing::new(k.to_bytes()),
        }
    }

    /// The algorithm of this key.
    pub fn alg(&self) -> Alg {
        match self {
            CredKey::Es256(_) => Alg::Es256,
            CredKey::EdDsa(_) => Alg::EdDsa,
        }
    }

    /// The public key as a COSE_Key map.
    pub fn cose_public(&self) -> Value {
        match self {
            CredKey::Es256(k) => {
                let p = k.verifying_key().to_encoded_point(false);
                let x = p.x().map(|x| x.to_vec()).unwrap_or_default();
                let y = p.y().map(|y| y.to_vec()).unwrap_or_default();
                Value::Map(vec![
                    (int(1), int(2)),
                    (int(3), int(COSE_ES256)),
                    (int(-1), int(1)),
                    (int(-2), bytes(&x)),
                    (int(-3), bytes(&y)),
                ])
            }
            CredKey::EdDsa(k) => Value::Map(vec![
                (int(1), int(1)),
                (int(3), int(COSE_EDDSA)),
                (int(-1), int(6)),
                (int(-2), bytes(k.verifying_key().as_bytes())),
            ]),
        }
    }

    /// Uncompressed SEC1 public key (65 bytes) for U2F; `None` for EdDSA.
    pub fn sec1_public(&self) -> Option<Vec<u8>> {
        match self {
            CredKey::Es256(k) => Some(
                k.verifying_key()
                    .to_encoded_point(false)
                    .as_bytes()
                    .to_vec(),
            ),
            CredKey::EdDsa(_) => None,
        }
    }

    /// Signs `msg`: DER ECDSA for ES256, 64 raw bytes for EdDSA.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        match self {
            CredKey::Es256(k) => {
                let sig: p256::ecdsa::DerSignature = k.sign(msg);
                sig.as_bytes().to_vec()
            }
            CredKey::EdDsa(k) => {
                let sig: ed25519_dalek::Signature = k.sign(msg);
                sig.to_bytes().to_vec()
            }
        }
    }
}

/// Properties sealed into a credential id next to the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredFlags {
    /// Created as a discoverable credential.
    pub resident: bool,
    /// credProtect level (1..=3).
    pub cred_protect: u8,
    /// Created with the hmac-secret extension.
    pub hmac_secret: bool,
}

impl CredFlags {
    fn to_byte(self) -> u8 {
        u8::from(self.hmac_secret) << 5 | u8::from(self.resident) << 4 | (self.cred_protect & 0x0f)
    }

    fn from_byte(b: u8) -> Self {
        Self {
            resident: b & 0x10 != 0,
            cred_protect: (b & 0x0f).clamp(1, 3),
            hmac_secret: b & 0x20 != 0,
        }
    }
}

/// What a credential id carries.
pub struct Unwrapped {
    /// The private key.
    pub key: CredKey,
    /// Its properties.
    pub flags: CredFlags,
}

const WRAP_VERSION: u8 = 0x01;
const IV_LEN: usize = 16;
const MAC_LEN: usize = 16;
/// Length of every credential id / U2F key handle this device issues.
pub const CRED_ID_LEN: usize = 1 + IV_LEN + 80 + MAC_LEN;

/// Per-device secrets for wrapping credential keys.
pub struct WrapKeys {
    enc: Zeroizing<[u8; 32]>,
    mac: Zeroizing<[u8; 32]>,
}

impl WrapKeys {
    /// Fresh random keys (a new device).
    pub fn generate() -> Self {
        let mut enc = Zeroizing::new([0u8; 32]);
        let mut mac = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(enc.as_mut());
        OsRng.fill_bytes(mac.as_mut());
        Self { enc, mac }
    }

    /// Truncated HMAC over the RP and the id body (empty only if HMAC refused the key,
    /// which then never matches a 16-byte tag).
    fn mac(&self, rp_id_hash: &[u8; 32], body: &[u8]) -> Vec<u8> {
        let Ok(mut m) = <HmacSha256 as Mac>::new_from_slice(self.mac.as_ref()) else {
            return Vec::new();
        };
        m.update(rp_id_hash);
        m.update(body);
        m.finalize().into_bytes()[..MAC_LEN].to_vec()
    }

    /// CredRandom of the hmac-secret extension for credential `id` (differs with and without UV).
    pub fn cred_random(&self, id: &[u8], uv: bool) -> Zeroizing<Vec<u8>> {
        let Ok(mut m) = <HmacSha256 as Mac>::new_from_slice(self.mac.as_ref()) else {
            return Zeroizing::new(vec![0u8; 32]);
        };
        m.update(b"fido-doctor credRandom");
        m.update(&[u8::from(uv)]);
        m.update(id);
        Zeroizing::new(m.finalize().into_bytes().to_vec())
    }

    /// A credential id binding `key` to `rp_id_hash`.
    pub fn wrap(&self, key: &CredKey, rp_id_hash: &[u8; 32], flags: CredFlags) -> Vec<u8> {
        let mut plain = Zeroizing::new(Vec::with_capacity(34));
        plain.push(key.alg().tag());
        plain.push(flags.to_byte());
        plain.extend_from_slice(key.secret().as_ref());
        plain.extend_from_slice(rp_id_hash);
        let mut iv = [0u8; IV_LEN];
        OsRng.fill_bytes(&mut iv);
        let ct = cbc::Encryptor::<aes::Aes256>::new(self.enc.as_ref().into(), &iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(&plain);
        let mut id = Vec::with_capacity(CRED_ID_LEN);
        id.push(WRAP_VERSION);
        id.extend_from_slice(&iv);
        id.extend_from_slice(&ct);
        let tag = self.mac(rp_id_hash, &id);
        id.extend_from_slice(&tag);
        id
    }

    /// The key inside `id` if this device issued it for `rp_id_hash`.
    pub fn unwrap(&self, id: &[u8], rp_id_hash: &[u8; 32]) -> Option<Unwrapped> {
        if id.len() != CRED_ID_LEN || id.first() != Some(&WRAP_VERSION) {
            return None;
        }
        let (body, tag) = id.split_at(CRED_ID_LEN - MAC_LEN);
        let expect = self.mac(rp_id_hash, body);
        if !constant_time_eq(&expect, tag) {
            return None;
        }
        let iv: [u8; IV_LEN] = body.get(1..1 + IV_LEN)?.try_into().ok()?;
        let ct = body.get(1 + IV_LEN..)?;
        let plain = Zeroizing::new(
            cbc::Decryptor::<aes::Aes256>::new(self.enc.as_ref().into(), &iv.into())
                .decrypt_padded_vec_mut::<Pkcs7>(ct)
                .ok()?,
        );
        if plain.len() != 66 || plain.get(34..66)? != rp_id_hash.as_slice() {
            return None;
        }
        let alg = match plain.first()? {
            1 => Alg::Es256,
            2 => Alg::EdDsa,
            _ => return None,
        };
        let flags = CredFlags::from_byte(*plain.get(1)?);
        let key = CredKey::from_secret(alg, plain.get(2..34)?)?;
        Some(Unwrapped { key, flags })
    }
}

/// Compares two byte strings without an early exit.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The FIDO extension carrying the AAGUID in an attestation certificate.
struct AaguidExtension([u8; 16]);

impl AssociatedOid for AaguidExtension {
    const OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.45724.1.1.4");
}

impl der::Encode for AaguidExtension {
    fn encoded_len(&self) -> der::Result<der::Length> {
        OctetString::new(self.0.to_vec())?.encoded_len()
    }
    fn encode(&self, w: &mut impl der::Writer) -> der::Result<()> {
        OctetString::new(self.0.to_vec())?.encode(w)
    }
}

impl AsExtension for AaguidExtension {
    fn critical(&self, _: &Name, _: &[x509_cert::ext::Extension]) -> bool {
        false
    }
}

/// ecdsa-with-SHA256 signer for the certificate builder (avoids needing the
/// `oid` feature of sha2).
struct CertSigner(p256::ecdsa::SigningKey);

impl p256::ecdsa::signature::Keypair for CertSigner {
    type VerifyingKey = p256::ecdsa::VerifyingKey;
    fn verifying_key(&self) -> Self::VerifyingKey {
        *self.0.verifying_key()
    }
}

impl spki::SignatureAlgorithmIdentifier for CertSigner {
    type Params = der::AnyRef<'static>;
    const SIGNATURE_ALGORITHM_IDENTIFIER: spki::AlgorithmIdentifier<Self::Params> =
        spki::AlgorithmIdentifier {
            oid: ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2"),
            parameters: None,
        };
}

impl Signer<p256::ecdsa::DerSignature> for CertSigner {
    fn try_sign(
        &self,
        msg: &[u8],
    ) -> Result<p256::ecdsa::DerSignature, p256::ecdsa::signature::Error> {
        self.0.try_sign(msg)
    }
}

/// The attestation key and its certificate chain (leaf, then the test CA).
pub struct Attestation {
    key: p256::ecdsa::SigningKey,
    /// DER of the attestation (leaf) certificate.
    pub leaf_der: Vec<u8>,
    /// DER of the simulator's self-signed test CA certificate.
    pub ca_der: Vec<u8>,
}

fn cert_err(e: impl std::fmt::Display) -> SimError {
    SimError::Certificate(e.to_string())
}

impl Attestation {
    /// A fresh CA and attestation certificate for `aaguid`.
    pub fn generate(aaguid: &[u8; 16]) -> Result<Self, SimError> {
        let now = SystemTime::now();
        let day = Duration::from_secs(86_400);
        let validity = Validity {
            not_before: Time::try_from(now - day).map_err(cert_err)?,
            not_after: Time::try_from(now + day * 3650).map_err(cert_err)?,
        };
        let ca_key = CertSigner(p256::ecdsa::SigningKey::random(&mut OsRng));
        let ca_name = Name::from_str("CN=fido-doctor simulator test CA,O=fido-doctor,C=JP")
            .map_err(cert_err)?;
        let ca_spki =
            SubjectPublicKeyInfoOwned::from_key(*ca_key.0.verifying_key()).map_err(cert_err)?;
        let ca = CertificateBuilder::new(
            Profile::Root,
            SerialNumber::from(1u32),
            validity,
            ca_name.clone(),
            ca_spki,
            &ca_key,
        )
        .map_err(cert_err)?
        .build::<p256::ecdsa::DerSignature>()
        .map_err(cert_err)?;

        let key = p256::ecdsa::SigningKey::random(&mut OsRng);
        let subject = Name::from_str(
            "CN=fido-doctor simulated key,OU=Authenticator Attestation,O=fido-doctor,C=JP",
        )
        .map_err(cert_err)?;
        let spki = SubjectPublicKeyInfoOwned::from_key(*key.verifying_key()).map_err(cert_err)?;
        let mut leaf = CertificateBuilder::new(
            Profile::Leaf {
                issuer: ca_name,
                enable_key_agreement: false,
                enable_key_encipherment: false,
            },
            SerialNumber::from(2u32),
            validity,
            subject,
            spki,
            &ca_key,
        )
        .map_err(cert_err)?;
        leaf.add_extension(&AaguidExtension(*aaguid))
            .map_err(cert_err)?;
        let leaf = leaf
            .build::<p256::ecdsa::DerSignature>()
            .map_err(cert_err)?;
        Ok(Self {
            key,
            leaf_der: leaf.to_der().map_err(cert_err)?,
            ca_der: ca.to_der().map_err(cert_err)?,
        })
    }

    /// The attestation of this run for `aaguid`: generated on first use, then
    /// shared by every simulated device of the process (a per-run key).
    pub fn for_aaguid(aaguid: &[u8; 16]) -> Result<Arc<Self>, SimError> {
        static CACHE: Mutex<Vec<([u8; 16], Arc<Attestation>)>> = Mutex::new(Vec::new());
        let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, a)) = cache.iter().find(|(g, _)| g == aaguid) {
            return Ok(Arc::clone(a));
        }
        let a = Arc::new(Self::generate(aaguid)?);
        // Bounded: scenarios use a handful of AAGUIDs.
        if cache.len() >= 16 {
            cache.remove(0);
        }
        cache.push((*aaguid, Arc::clone(&a)));
        Ok(a)
    }

    /// DER ECDSA signature (ES256) over `msg` with the attestation key.
    pub fn sign(&self, msg: &[u8]) -> Vec<u8> {
        let sig: p256::ecdsa::DerSignature = self.key.sign(msg);
        sig.as_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_ids_round_trip_only_for_their_rp() {
        let keys = WrapKeys::generate();
        let rp = [7u8; 32];
        for alg in [Alg::Es256, Alg::EdDsa] {
            let k = CredKey::generate(alg);
            let flags = CredFlags {
                resident: true,
                cred_protect: 2,
                hmac_secret: alg == Alg::EdDsa,
            };
            let id = keys.wrap(&k, &rp, flags);
            assert_eq!(id.len(), CRED_ID_LEN);
            let u = keys.unwrap(&id, &rp).expect("own id");
            assert_eq!(u.key.alg(), alg);
            assert_eq!(u.flags, flags);
            assert_eq!(u.key.cose_public(), k.cose_public());
            assert!(keys.unwrap(&id, &[8u8; 32]).is_none());
            let mut bad = id.clone();
            bad[20] ^= 1;
            assert!(keys.unwrap(&bad, &rp).is_none());
            assert!(WrapKeys::generate().unwrap(&id, &rp).is_none());
        }
    }

    #[test]
    fn attestation_chain_builds() {
        let a = Attestation::generate(&[1u8; 16]).expect("certs");
        use der::Decode;
        let leaf = x509_cert::Certificate::from_der(&a.leaf_der).expect("leaf parses");
        let exts = leaf.tbs_certificate.extensions.unwrap_or_default();
        let ext = exts
            .iter()
            .find(|e| e.extn_id.to_string() == "1.3.6.1.4.1.45724.1.1.4")
            .expect("aaguid ext");
        assert_eq!(
            ext.extn_value.as_bytes(),
            [&[0x04u8, 16][..], &[1u8; 16]].concat()
        );
        assert!(x509_cert::Certificate::from_der(&a.ca_der).is_ok());
    }
}
