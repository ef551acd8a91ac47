//! The `fido-u2f` attestation format (WebAuthn §8.6): exactly one
//! certificate, whose P-256 key signs 0x00 || rpIdHash || clientDataHash ||
//! credentialId || publicKey (uncompressed point). Flags and the signature
//! counter are not covered by this signature.

use super::statement::Statement;
use super::{Context, Signed};
use crate::ctap::verify::VerifyError;
use crate::ctap::verify::x509;

/// Verifies a fido-u2f statement.
pub(super) fn verify(ctx: &Context<'_>) -> Result<Signed, VerifyError> {
    let stmt = Statement::new(ctx.att_stmt)?;
    let sig = stmt.bytes("sig")?;
    let chain = stmt.x5c()?.ok_or(VerifyError::MissingField("x5c"))?;
    let [der] = chain.as_slice() else {
        return Err(VerifyError::InvalidField {
            field: "x5c",
            reason: "fido-u2f needs exactly one certificate",
        });
    };
    let leaf = x509::parse(der)?;
    let cert_key = leaf.p256_key.as_ref().ok_or_else(|| {
        VerifyError::BadCertificate("fido-u2f certificate key is not P-256".into())
    })?;
    let cred = ctx.credential;
    let cred_key = cred.public_key()?;
    let point = cred_key
        .sec1_uncompressed()
        .ok_or(VerifyError::UnsupportedAlgorithm(cred_key.alg()))?;
    let mut data = Vec::with_capacity(1 + 32 + 32 + cred.credential_id.len() + 65);
    data.push(0x00);
    data.extend_from_slice(&ctx.auth_data.rp_id_hash);
    data.extend_from_slice(ctx.client_data_hash);
    data.extend_from_slice(&cred.credential_id);
    data.extend_from_slice(&point);
    cert_key
        .verify(&data, sig)
        .map_err(|_| VerifyError::AttestationSignatureInvalid)?;
    Ok(Signed::Certificates(vec![leaf]))
}
